/**
 * A pool of worker threads that run units of tree-training jobs (node histograms, row partitions, boosting passes)
 * over shared memory, for one fit. The main thread writes a job into the shared job block (histogram-tasks.ts),
 * resets the unit counter and wakes each worker by bumping its sequence number (Atomics.notify); a worker joins the
 * job (compare-and-swap on its claim word), claims units from the shared counter until none is left, runs each on
 * arrays it already holds (bins, gradients, row lists and histogram buffers are `SharedArrayBuffer`s, each announced
 * once) and publishes its done mark. The main thread claims units from the same counter meanwhile, so the work
 * balances itself; when it runs out it takes back the job from every worker that has not joined (one that is not
 * scheduled, on a busy machine, so delays nothing) and waits only for those that did, at most the length of one
 * unit. Nothing is copied per job and the main thread never yields to the event loop, so `fit` stays synchronous.
 *
 * Workers start on the first job, not with the pool (a fit whose nodes are all small never starts one), and a job is
 * posted only to workers that report ready: until then the caller runs every unit itself, so nothing waits for
 * thread start-up. Workers are `unref`ed, and {@link HistogramWorkers.close} stops and terminates them; callers close
 * in a `finally`, so a fit that throws leaves no thread behind.
 * @module
 */

import { availableParallelism } from 'node:os'
import {
  MessageChannel,
  type MessagePort as NodeMessagePort,
  receiveMessageOnPort,
  type Worker,
} from 'node:worker_threads'
import { siblingModule, startModuleWorker } from '../../infra/worker.js'
import {
  CONTROL_STRIDE,
  CTL,
  controlLength,
  FLOAT_FIELDS,
  type HistogramLayout,
  NEXT_UNIT,
  OP,
  type SharedArrayMessage,
  type SharedKind,
  type TreeTask,
  WORKER_BASE,
  WORKER_STATE,
  writeJob,
} from './histogram-tasks.js'
import type { HistogramWorkerData } from './histogram-worker.js'

/** Most threads the models use by default (see {@link DEFAULT_N_THREADS}). */
export const MAX_DEFAULT_THREADS = 4

/**
 * Default `nThreads` of the tree models: the machine's available parallelism, at most {@link MAX_DEFAULT_THREADS}.
 * Why a cap: the kernels are memory-bound (a histogram update is a gathered read and two additions, a partition
 * a gathered read and two stores), so past a few threads memory, not cores, sets the pace, while each thread still
 * holds a histogram-sized scratch and polls for work between jobs.
 */
export const DEFAULT_N_THREADS = Math.max(1, Math.min(availableParallelism(), MAX_DEFAULT_THREADS))

/** How long the main thread polls for the result of a task a worker is running before sleeping. */
const WAIT_SPIN_MS = 1

let live = 0

/**
 * Histogram worker threads currently alive in this process (started and not yet exited), over all pools. For tests
 * and diagnostics: a closed pool's threads leave asynchronously, so this reaches 0 shortly after `close`.
 */
export function liveHistogramWorkers(): number {
  return live
}

/**
 * Counters of this process (for tests and benches: proof the parallel path ran): jobs a worker joined, units workers
 * ran, jobs taken back from a worker that had not joined by the time the posting thread ran out of units, threads
 * started, and pools whose threads could not be started (their fits ran on one thread).
 */
export const histogramWorkerStats = { tasks: 0, units: 0, takenBack: 0, workersStarted: 0, startFailures: 0 }

interface Started {
  readonly worker: Worker
  readonly port: NodeMessagePort
}

/**
 * Worker threads of one fit. Not reusable after {@link close}.
 *
 * @example
 * const workers = new HistogramWorkers(1, shape, { rowBins, colBins })
 * if (workers.post(task) > 0) {
 *   for (let u = workers.claim(task.nUnits); u >= 0; u = workers.claim(task.nUnits)) runUnit(ctx, task, u)
 *   workers.finish(true)
 * } else for (let u = 0; u < task.nUnits; u++) runUnit(ctx, task, u)
 * workers.close()
 */
export class HistogramWorkers {
  readonly nWorkers: number
  readonly #histLength: number
  readonly #control: Int32Array
  readonly #floats: Float64Array
  readonly #ids = new Map<SharedArrayBuffer, number>()
  readonly #announced: SharedArrayMessage[] = []
  readonly #layout: HistogramLayout
  readonly #posted: Uint8Array
  readonly #share = (array: ArrayBufferView, kind: SharedKind): number => this.share(array, kind)
  #started: Started[] | undefined
  #closed = false

  /**
   * A pool of `nWorkers` threads (not started yet) for histograms of `histLength` doubles over bins `rowBins`
   * (row-major, for single-gradient builds; may be empty) and `colBins` (column-major), both views of whole
   * `SharedArrayBuffer`s.
   */
  constructor(
    nWorkers: number,
    shape: Omit<HistogramLayout, 'rowBins' | 'colBins'> & { readonly histLength: number },
    bins: { readonly rowBins: Uint8Array; readonly colBins: Uint8Array },
  ) {
    this.nWorkers = nWorkers
    this.#control = new Int32Array(new SharedArrayBuffer(controlLength(nWorkers) * 4))
    this.#floats = new Float64Array(new SharedArrayBuffer(FLOAT_FIELDS * 8))
    this.#posted = new Uint8Array(nWorkers)
    const { nFeatures, nRows, nGradients, slotBase, offsets } = shape
    this.#histLength = shape.histLength
    this.#layout = {
      nFeatures,
      nRows,
      nGradients,
      slotBase,
      offsets,
      rowBins: bins.rowBins.length > 0 ? this.share(bins.rowBins, 'u8') : -1,
      colBins: this.share(bins.colBins, 'u8'),
    }
  }

  /** True once any worker thread was started. */
  get started(): boolean {
    return this.#started !== undefined
  }

  /**
   * The id under which workers address `array`, a view of a whole `SharedArrayBuffer`; announces it to running
   * workers the first time.
   */
  share(array: ArrayBufferView, kind: SharedKind): number {
    const buffer = array.buffer
    if (!(buffer instanceof SharedArrayBuffer)) throw new Error('HistogramWorkers.share: not a SharedArrayBuffer')
    let id = this.#ids.get(buffer)
    if (id !== undefined) return id
    id = this.#announced.length
    const message: SharedArrayMessage = { id, kind, buffer }
    this.#ids.set(buffer, id)
    this.#announced.push(message)
    for (const s of this.#started ?? []) s.port.postMessage(message)
    return id
  }

  /**
   * Posts job `t` (units `0 … t.nUnits − 1`) to every worker that is ready and returns how many that is (0 when none
   * is yet, or the pool is closed: the caller then runs every unit itself). Starts the threads on first use. After a
   * post that returned more than 0, claim units with {@link claim} and end with {@link finish}.
   */
  post(t: TreeTask): number {
    if (this.#closed) return 0
    if (this.#started === undefined) this.#start()
    const ctl = this.#control
    let ready = 0
    for (let w = 0; w < this.nWorkers; w++) {
      this.#posted[w] = Atomics.load(ctl, WORKER_BASE + w * CONTROL_STRIDE + CTL.state) === WORKER_STATE.ready ? 1 : 0
      ready += this.#posted[w]!
    }
    if (ready === 0) return 0
    writeJob(ctl, this.#floats, t, this.#share)
    // The counter, then the claim, then the sequence bump, publish the job written above (Atomics operations are
    // sequentially consistent).
    Atomics.store(ctl, NEXT_UNIT, 0)
    for (let w = 0; w < this.nWorkers; w++) {
      if (this.#posted[w] === 0) continue
      const base = WORKER_BASE + w * CONTROL_STRIDE
      const seq = ctl[base + CTL.seq]! + 1
      Atomics.store(ctl, base + CTL.claim, seq)
      Atomics.store(ctl, base + CTL.seq, seq)
      Atomics.notify(ctl, base + CTL.seq)
    }
    return ready
  }

  /** The next unclaimed unit of the posted job of `nUnits` units, or -1 when every unit is claimed. */
  claim(nUnits: number): number {
    const u = Atomics.add(this.#control, NEXT_UNIT, 1)
    return u < nUnits ? u : -1
  }

  /**
   * Ends the posted job once the caller has no unit left to claim: takes the job back from each worker that has not
   * joined it (when `takeBack`), and waits for the others to finish their last unit. Throws when a unit threw.
   */
  finish(takeBack: boolean): void {
    let failure: Error | undefined
    for (let w = 0; w < this.nWorkers; w++) {
      if (this.#posted[w] === 0) continue
      this.#posted[w] = 0
      if (takeBack && this.#takeBack(w)) continue
      const error = this.#wait(w)
      failure ??= error
    }
    if (failure !== undefined) throw failure
  }

  /**
   * Takes back the job posted to worker `w` if that worker has not joined it (it was not scheduled: the machine's
   * other cores are busy, or it was woken onto this thread's core); true when taken.
   */
  #takeBack(w: number): boolean {
    const ctl = this.#control
    const base = WORKER_BASE + w * CONTROL_STRIDE
    const seq = ctl[base + CTL.seq]!
    if (Atomics.compareExchange(ctl, base + CTL.claim, seq, 0) !== seq) return false
    histogramWorkerStats.takenBack++
    return true
  }

  /** Blocks until worker `w` is done with the job it joined; returns the error of a unit that threw. */
  #wait(w: number): Error | undefined {
    const ctl = this.#control
    const base = WORKER_BASE + w * CONTROL_STRIDE
    const target = ctl[base + CTL.seq]!
    // Poll first: the worker is running its last unit, about as long as the ones this thread just ran; sleeping and
    // being woken costs more (and may queue this thread behind another).
    const deadline = performance.now() + WAIT_SPIN_MS
    while (Atomics.load(ctl, base + CTL.done) !== target && performance.now() < deadline) {
      for (let i = 0; i < 256 && Atomics.load(ctl, base + CTL.done) !== target; i++) {}
    }
    for (;;) {
      const done = Atomics.load(ctl, base + CTL.done)
      if (done === target) break
      Atomics.wait(ctl, base + CTL.done, done)
    }
    histogramWorkerStats.tasks++
    histogramWorkerStats.units += ctl[base + CTL.units]!
    if (ctl[base + CTL.failed] === 0) return undefined
    const message = this.#started?.[w] === undefined ? undefined : receiveMessageOnPort(this.#started[w]!.port)
    return new Error(`histogram worker ${w} failed: ${String(message?.message ?? 'no message')}`)
  }

  /**
   * Blocks until every worker is ready or `timeoutMs` passed (starting them if needed); returns how many are ready.
   * Fits never call this (they run units themselves while a worker starts); tests and benches do, to measure or
   * exercise the parallel path from the first job.
   */
  waitReady(timeoutMs: number): number {
    if (this.#started === undefined) this.#start()
    if (this.#closed) return 0
    const ctl = this.#control
    const deadline = performance.now() + timeoutMs
    let ready = 0
    for (let w = 0; w < this.nWorkers; w++) {
      const field = WORKER_BASE + w * CONTROL_STRIDE + CTL.state
      for (;;) {
        const state = Atomics.load(ctl, field)
        const left = deadline - performance.now()
        if (state !== WORKER_STATE.starting || left <= 0) break
        Atomics.wait(ctl, field, state, left)
      }
      if (Atomics.load(ctl, field) === WORKER_STATE.ready) ready++
    }
    return ready
  }

  /** Stops and terminates the threads (idempotent). */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    const started = this.#started
    if (started === undefined) return
    const ctl = this.#control
    // No job runs now (the main thread is here), so the job block is free for the stop code.
    ctl[0] = OP.stop
    started.forEach((s, w) => {
      const base = WORKER_BASE + w * CONTROL_STRIDE
      Atomics.add(ctl, base + CTL.seq, 1)
      Atomics.notify(ctl, base + CTL.seq)
      s.port.close()
      // The stop job lets the thread leave on its own; terminate covers one stuck in a unit.
      s.worker.terminate().catch(() => undefined)
    })
  }

  /**
   * Starts the threads. A thread that cannot be created (the process is out of threads or memory) leaves the pool
   * closed: every unit then runs on the calling thread, and `histogramWorkerStats.startFailures` counts it.
   */
  #start(): void {
    const started: Started[] = []
    this.#started = started
    try {
      this.#startEach(started)
    } catch {
      histogramWorkerStats.startFailures++
      this.close()
    }
  }

  #startEach(started: Started[]): void {
    const url = siblingModule(import.meta.url, 'histogram-worker')
    for (let w = 0; w < this.nWorkers; w++) {
      const channel = new MessageChannel()
      const workerData: HistogramWorkerData = {
        control: this.#control.buffer as SharedArrayBuffer,
        floats: this.#floats.buffer as SharedArrayBuffer,
        index: w,
        layout: this.#layout,
        histLength: this.#histLength,
        arrays: this.#announced,
        port: channel.port2,
      }
      const worker = startModuleWorker(url, { workerData, transferList: [channel.port2] })
      live++
      histogramWorkerStats.workersStarted++
      worker.once('exit', () => {
        live--
      })
      // A thread that dies never reports ready (or fails its unit through the control block); the event itself
      // only arrives once the main thread is idle again, so it is just kept from crashing the process.
      worker.on('error', () => undefined)
      worker.unref()
      started.push({ worker, port: channel.port1 })
    }
  }
}
