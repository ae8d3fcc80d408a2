/**
 * Entry module of a tree worker thread (started by parallel-histogram.ts). It polls its control block for a short
 * while after each job, then sleeps on it (Atomics.wait, so an idle worker costs nothing); joins each posted job
 * unless the main thread took it back, claims units of it from the shared counter and runs them on the shared arrays
 * through {@link runUnit} until none is left, and publishes its done mark. A unit that throws is reported through
 * the control block and the worker's port instead of killing the thread. The stop job ends the loop and the thread.
 * @module
 */
import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads'
import {
  CONTROL_STRIDE,
  CTL,
  emptyTask,
  featureColumns,
  type HistogramLayout,
  NEXT_UNIT,
  OP,
  readJob,
  runUnit,
  type SharedArrayMessage,
  type SharedKind,
  type TaskContext,
  viewOf,
  WORKER_BASE,
  WORKER_STATE,
} from './histogram-tasks.js'

/** What the main thread passes in `workerData`. */
export interface HistogramWorkerData {
  readonly control: SharedArrayBuffer
  /** Float parameters of the job. */
  readonly floats: SharedArrayBuffer
  readonly index: number
  readonly layout: HistogramLayout
  /** Length of a histogram (the size of this thread's second accumulator). */
  readonly histLength: number
  /** Arrays shared before the worker started; later ones arrive on `port`. */
  readonly arrays: readonly SharedArrayMessage[]
  readonly port: MessagePort
}

const data = workerData as HistogramWorkerData
const ctl = new Int32Array(data.control)
const floats = new Float64Array(data.floats)
const base = WORKER_BASE + data.index * CONTROL_STRIDE
const port = data.port
const arrays: (ArrayBufferView | undefined)[] = []
for (const m of data.arrays) arrays[m.id] = viewOf(m.kind, m.buffer)
const empty: Record<SharedKind, ArrayBufferView> = {
  u8: new Uint8Array(0),
  u16: new Uint16Array(0),
  i32: new Int32Array(0),
  u32: new Uint32Array(0),
  f32: new Float32Array(0),
  f64: new Float64Array(0),
}

/** The array registered under `id` (-1: an empty one), reading announcements from the port when it is new here. */
function array(id: number, kind: SharedKind): ArrayBufferView {
  if (id < 0) return empty[kind]
  let a = arrays[id]
  if (a !== undefined) return a
  // The main thread posts an array before the first job that names it, so it is queued by now.
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    const message = m.message as SharedArrayMessage
    arrays[message.id] = viewOf(message.kind, message.buffer)
  }
  a = arrays[id]
  if (a === undefined) throw new Error(`histogram worker ${data.index}: no shared array ${id}`)
  return a
}

const layout = data.layout
const colBins = array(layout.colBins, 'u8') as Uint8Array
const ctx: TaskContext = {
  nFeatures: layout.nFeatures,
  nRows: layout.nRows,
  nGradients: layout.nGradients,
  slotBase: layout.slotBase,
  offsets: layout.offsets,
  rowBins: layout.rowBins >= 0 ? (array(layout.rowBins, 'u8') as Uint8Array) : new Uint8Array(0),
  colBins,
  columns: featureColumns(colBins, layout.nRows, layout.nFeatures),
  histLength: data.histLength,
  scratch: new Float64Array(layout.nGradients === 1 ? data.histLength : 0),
  partialViews: { buffer: undefined, views: [] },
}
const task = emptyTask()

/** Claims and runs units of the job in `task` until none is left; returns how many it ran. */
function runUnits(): number {
  let n = 0
  for (let u = Atomics.add(ctl, NEXT_UNIT, 1); u < task.nUnits; u = Atomics.add(ctl, NEXT_UNIT, 1)) {
    runUnit(ctx, task, u)
    n++
  }
  return n
}

/**
 * How long a worker polls for its next job before sleeping. Why poll at all: waking a sleeping thread costs 5 to
 * 100 µs, and when no core is idle the woken thread is queued on the waking thread's core, where it waits until the
 * main thread blocks (observed here, on a shared machine: shares of a few milliseconds ran one after the other
 * instead of side by side). A thread still polling holds its own core and starts at once (≈ 1 µs a hand-off); the
 * big nodes of a tree come a fraction of a millisecond apart, so a short poll covers the gaps and costs little when
 * the fit moves on to other work.
 */
const SPIN_MS = 0.25

/** Polls `ctl[field]` until it differs from `value` (true) or `ms` pass (false). */
function spinUntilChanged(field: number, value: number, ms: number): boolean {
  const deadline = performance.now() + ms
  for (;;) {
    for (let i = 0; i < 256; i++) if (Atomics.load(ctl, field) !== value) return true
    if (performance.now() > deadline) return false
  }
}

Atomics.store(ctl, base + CTL.state, WORKER_STATE.ready)
Atomics.notify(ctl, base + CTL.state)
let seen = 0
for (;;) {
  if (!spinUntilChanged(base + CTL.seq, seen, SPIN_MS)) {
    // Returns at once when a job was posted since `seen` (no lost wake-up), and may also return without one (a
    // spurious wake-up, observed under load): only a changed sequence number is a job.
    Atomics.wait(ctl, base + CTL.seq, seen)
  }
  const seq = Atomics.load(ctl, base + CTL.seq)
  if (seq === seen) continue
  seen = seq
  if (ctl[0] === OP.stop) break
  // The main thread takes a job back when it finds it not joined after running out of units (this thread was not
  // running); it then no longer waits for this thread, so the job must not be touched.
  if (Atomics.compareExchange(ctl, base + CTL.claim, seq, -seq) !== seq) continue
  let ran = 0
  try {
    readJob(ctl, floats, task, array)
    if (task.expScratch.length < task.nOutputs) task.expScratch = new Float64Array(task.nOutputs)
    ran = runUnits()
  } catch (error) {
    ctl[base + CTL.failed] = 1
    port.postMessage(error instanceof Error ? (error.stack ?? error.message) : String(error))
  }
  ctl[base + CTL.units] = ran
  Atomics.store(ctl, base + CTL.done, seq)
  Atomics.notify(ctl, base + CTL.done)
}
Atomics.store(ctl, base + CTL.state, WORKER_STATE.exited)
port.close()
