/**
 * Entry module of a histogram worker thread (started by parallel-histogram.ts). It polls its control block for a
 * short while after each task, then sleeps on it (Atomics.wait, so an idle worker costs nothing); claims each posted
 * task unless the main thread took it back, runs it on the shared arrays through {@link runHistogramTask}, and
 * publishes its done mark. A task that throws is reported through the control block and the worker's port instead
 * of killing the thread. The stop task ends the loop and the thread.
 * @module
 */
import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads'
import {
  CONTROL_STRIDE,
  CTL,
  emptyTask,
  FLAG_COUNTS,
  FLAG_DUAL,
  type HistogramLayout,
  OP,
  runHistogramTask,
  type SharedArrayMessage,
  type TaskContext,
  viewOf,
  WORKER_STATE,
} from './histogram-tasks.js'

/** What the main thread passes in `workerData`. */
export interface HistogramWorkerData {
  readonly control: SharedArrayBuffer
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
const base = data.index * CONTROL_STRIDE
const port = data.port
const arrays: (ArrayBufferView | undefined)[] = []
for (const m of data.arrays) arrays[m.id] = viewOf(m.kind, m.buffer)

/** The array registered under `id`, reading announcements from the port when it is new to this thread. */
function array(id: number): ArrayBufferView {
  let a = arrays[id]
  if (a !== undefined) return a
  // The main thread posts an array before the first task that names it, so it is queued by now.
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    const message = m.message as SharedArrayMessage
    arrays[message.id] = viewOf(message.kind, message.buffer)
  }
  a = arrays[id]
  if (a === undefined) throw new Error(`histogram worker ${data.index}: no shared array ${id}`)
  return a
}

const layout = data.layout
const ctx: TaskContext = {
  nFeatures: layout.nFeatures,
  nRows: layout.nRows,
  nGradients: layout.nGradients,
  slotBase: layout.slotBase,
  offsets: layout.offsets,
  rowBins: layout.rowBins >= 0 ? (array(layout.rowBins) as Uint8Array) : new Uint8Array(0),
  colBins: array(layout.colBins) as Uint8Array,
  scratch: new Float64Array(layout.nGradients === 1 ? data.histLength : 0),
}
const task = emptyTask()
const none = { u32: new Uint32Array(0), f32: new Float32Array(0) }

function load(): void {
  const id = (field: number) => ctl[base + field]!
  task.op = id(CTL.op)
  task.start = id(CTL.start)
  task.end = id(CTL.end)
  task.rows = id(CTL.rows) >= 0 ? (array(id(CTL.rows)) as Uint32Array) : none.u32
  if (task.op === OP.partition || task.op === OP.place) {
    task.feature = id(CTL.feature)
    task.routing = array(id(CTL.routing)) as Uint8Array
    task.rowScratch = array(id(CTL.scratch)) as Uint32Array
    task.nLeft = id(CTL.nLeft)
    task.leftTo = id(CTL.leftTo)
    task.rightTo = id(CTL.rightTo)
    return
  }
  task.hist = array(id(CTL.hist)) as Float64Array
  task.features = array(id(CTL.features)) as Int32Array
  task.fFrom = id(CTL.fFrom)
  task.fTo = id(CTL.fTo)
  task.withCounts = (id(CTL.flags) & FLAG_COUNTS) !== 0
  task.dual = (id(CTL.flags) & FLAG_DUAL) !== 0
  task.gradHess = id(CTL.gradHess) >= 0 ? (array(id(CTL.gradHess)) as Float32Array) : none.f32
  task.grad = id(CTL.grad) >= 0 ? (array(id(CTL.grad)) as Float32Array) : none.f32
  task.hess = id(CTL.hess) >= 0 ? (array(id(CTL.hess)) as Float32Array) : none.f32
}

/**
 * How long a worker polls for its next task before sleeping. Why poll at all: waking a sleeping thread costs 5 to
 * 100 µs, and when no core is idle the woken thread is queued on the waking thread's core, where it waits until the
 * main thread blocks (observed here, on a shared machine: shares of a few milliseconds ran one after the other
 * instead of side by side). A thread still polling holds its own core and starts at once (≈ 1 µs a hand-off); the
 * big nodes of a tree come a fraction of a millisecond apart, so a short poll covers the gaps and costs little when
 * the fit moves on to other work (gradients, the next tree).
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
    // Returns at once when a task was posted since `seen` (no lost wake-up), and may also return without one (a
    // spurious wake-up, observed under load): only a changed sequence number is a task.
    Atomics.wait(ctl, base + CTL.seq, seen)
  }
  const seq = Atomics.load(ctl, base + CTL.seq)
  if (seq === seen) continue
  seen = seq
  if (ctl[base + CTL.op] === OP.stop) break
  // The main thread takes a task back when it finds it unclaimed after its own share (this thread was not running).
  if (Atomics.compareExchange(ctl, base + CTL.claim, seq, -seq) !== seq) continue
  try {
    load()
    ctl[base + CTL.result] = runHistogramTask(ctx, task)
  } catch (error) {
    ctl[base + CTL.failed] = 1
    port.postMessage(error instanceof Error ? (error.stack ?? error.message) : String(error))
  }
  Atomics.store(ctl, base + CTL.done, seq)
  Atomics.notify(ctl, base + CTL.done)
}
Atomics.store(ctl, base + CTL.state, WORKER_STATE.exited)
port.close()
