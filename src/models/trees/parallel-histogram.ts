/**
 * A pool of worker threads that build parts of node histograms (and partition rows) over shared memory, for one
 * fit. The main thread posts a task to a worker by writing it into the worker's block of a shared control array and
 * bumping a sequence number (Atomics.notify); the worker claims it (compare-and-swap), runs it on arrays it already
 * holds (bins, gradients, row lists and histogram buffers are `SharedArrayBuffer`s, each announced once) and
 * publishes its done mark. A task the worker has not claimed by the time the main thread is done with its own share
 * is taken back and run there, so a worker that is not scheduled (a busy machine) delays nothing. Nothing is copied
 * per task and the main thread never yields to the event loop, so `fit` stays synchronous.
 *
 * Workers start on the first task, not with the pool (a fit whose nodes are all small never starts one), and a task
 * is posted only to a worker that reports ready: until then the caller runs that share itself, so nothing waits for
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
  FLAG_COUNTS,
  FLAG_DUAL,
  type HistogramLayout,
  type HistogramTask,
  OP,
  type SharedArrayMessage,
  type SharedKind,
  WORKER_STATE,
} from './histogram-tasks.js'
import type { HistogramWorkerData } from './histogram-worker.js'

/** Most threads the models use by default (see {@link DEFAULT_N_THREADS}). */
export const MAX_DEFAULT_THREADS = 4

/**
 * Default `nThreads` of the tree models: the machine's available parallelism, at most {@link MAX_DEFAULT_THREADS}.
 * Why a cap: every thread streams all of a node's row indices, gradients and row bins to fill its share of the
 * features, so memory traffic grows with the thread count while each thread's share of the work shrinks.
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
 * Counters of this process (for tests and benches: proof the parallel path ran): tasks run by workers, tasks posted
 * but taken back by the posting thread (the worker had not started them), threads started, and pools whose threads
 * could not be started (their fits ran on one thread).
 */
export const histogramWorkerStats = { tasks: 0, takenBack: 0, workersStarted: 0, startFailures: 0 }

interface Started {
  readonly worker: Worker
  readonly port: NodeMessagePort
}

/**
 * Worker threads of one fit. Not reusable after {@link close}.
 *
 * @example
 * const workers = new HistogramWorkers(1, shape, { rowBins, colBins })
 * if (workers.post(0, task)) { runMyShare(); workers.wait(0) } else runBoth()
 * workers.close()
 */
export class HistogramWorkers {
  readonly nWorkers: number
  readonly #histLength: number
  readonly #control: Int32Array
  readonly #ids = new Map<SharedArrayBuffer, number>()
  readonly #announced: SharedArrayMessage[] = []
  readonly #layout: HistogramLayout
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
    this.#control = new Int32Array(new SharedArrayBuffer(nWorkers * CONTROL_STRIDE * 4))
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
   * Posts `task` to worker `w` and returns true, or returns false when that worker is not ready yet (or the pool is
   * closed): the caller then runs the task itself. Starts the threads on first use.
   */
  post(w: number, task: HistogramTask): boolean {
    if (this.#closed) return false
    if (this.#started === undefined) this.#start()
    const ctl = this.#control
    const base = w * CONTROL_STRIDE
    if (Atomics.load(ctl, base + CTL.state) !== WORKER_STATE.ready) return false
    ctl[base + CTL.op] = task.op
    ctl[base + CTL.rows] = task.op === OP.allRows ? -1 : this.share(task.rows, 'u32')
    ctl[base + CTL.start] = task.start
    ctl[base + CTL.end] = task.end
    if (task.op === OP.partition || task.op === OP.place) {
      ctl[base + CTL.feature] = task.feature
      ctl[base + CTL.routing] = this.share(task.routing, 'u8')
      ctl[base + CTL.scratch] = this.share(task.rowScratch, 'u32')
      ctl[base + CTL.nLeft] = task.nLeft
      ctl[base + CTL.leftTo] = task.leftTo
      ctl[base + CTL.rightTo] = task.rightTo
    } else {
      ctl[base + CTL.hist] = this.share(task.hist, 'f64')
      ctl[base + CTL.features] = this.share(task.features, 'i32')
      ctl[base + CTL.fFrom] = task.fFrom
      ctl[base + CTL.fTo] = task.fTo
      ctl[base + CTL.flags] = (task.withCounts ? FLAG_COUNTS : 0) | (task.dual ? FLAG_DUAL : 0)
      const multi = task.op === OP.multi
      ctl[base + CTL.gradHess] = multi ? -1 : this.share(task.gradHess, 'f32')
      ctl[base + CTL.grad] = multi ? this.share(task.grad, 'f32') : -1
      ctl[base + CTL.hess] = multi ? this.share(task.hess, 'f32') : -1
    }
    // The claim, then the sequence bump, publish the fields above (Atomics operations are sequentially consistent).
    const seq = ctl[base + CTL.seq]! + 1
    Atomics.store(ctl, base + CTL.claim, seq)
    Atomics.store(ctl, base + CTL.seq, seq)
    Atomics.notify(ctl, base + CTL.seq)
    return true
  }

  /**
   * Takes back the task posted to worker `w` if that worker has not started it (it was not scheduled: the machine's
   * other cores are busy, or it was woken onto this thread's core); true when taken, and the caller must then run
   * it itself (and not {@link wait}). Calling this before waiting keeps a busy machine from making a node wait for a
   * thread that is not running.
   */
  takeBack(w: number): boolean {
    const ctl = this.#control
    const base = w * CONTROL_STRIDE
    const seq = ctl[base + CTL.seq]!
    if (Atomics.compareExchange(ctl, base + CTL.claim, seq, 0) !== seq) return false
    histogramWorkerStats.takenBack++
    return true
  }

  /**
   * Blocks until worker `w` finishes the task it took; returns the task's result; throws when the task threw.
   */
  wait(w: number): number {
    const ctl = this.#control
    const base = w * CONTROL_STRIDE
    const target = ctl[base + CTL.seq]!
    // Poll first: the worker is running (it took the task) and its share is about as long as the one this thread
    // just finished; sleeping and being woken costs more (and may queue this thread behind another).
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
    if (ctl[base + CTL.failed] !== 0) {
      const message = this.#started?.[w] === undefined ? undefined : receiveMessageOnPort(this.#started[w]!.port)
      throw new Error(`histogram worker ${w} failed: ${String(message?.message ?? 'no message')}`)
    }
    return ctl[base + CTL.result]!
  }

  /**
   * Blocks until every worker is ready or `timeoutMs` passed (starting them if needed); returns how many are ready.
   * Fits never call this (they run a share themselves while a worker starts); tests and benches do, to measure or
   * exercise the parallel path from the first task.
   */
  waitReady(timeoutMs: number): number {
    if (this.#started === undefined) this.#start()
    if (this.#closed) return 0
    const ctl = this.#control
    const deadline = performance.now() + timeoutMs
    let ready = 0
    for (let w = 0; w < this.nWorkers; w++) {
      const field = w * CONTROL_STRIDE + CTL.state
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
    started.forEach((s, w) => {
      const base = w * CONTROL_STRIDE
      ctl[base + CTL.op] = OP.stop
      Atomics.add(ctl, base + CTL.seq, 1)
      Atomics.notify(ctl, base + CTL.seq)
      s.port.close()
      // The stop task lets the thread leave on its own; terminate covers one stuck in a task.
      s.worker.terminate().catch(() => undefined)
    })
  }

  /**
   * Starts the threads. A thread that cannot be created (the process is out of threads or memory) leaves the pool
   * closed: every share then runs on the calling thread, and `histogramWorkerStats.startFailures` counts it.
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
      // A thread that dies never reports ready (or fails its task through the control block); the event itself
      // only arrives once the main thread is idle again, so it is just kept from crashing the process.
      worker.on('error', () => undefined)
      worker.unref()
      started.push({ worker, port: channel.port1 })
    }
  }
}
