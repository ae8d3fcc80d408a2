/**
 * What the main thread and the histogram worker threads share: the layout of the control block through which the
 * main thread hands a task to a worker (one block of `CONTROL_STRIDE` int32 per worker, on its own cache lines), the
 * task codes, and {@link runHistogramTask}, the one function both sides call to run a task, so a feature range built
 * by a worker goes through exactly the code the main thread would have run.
 *
 * Arrays cross threads as `SharedArrayBuffer`s registered once under a numeric id (a task names arrays by id);
 * nothing is copied per task.
 * @module
 */
import {
  buildHistogramAllRows,
  buildHistogramMulti,
  buildHistogramRows,
  partitionChunk,
  placeChunk,
} from './kernels/histogram.js'

/** Int32 slots per worker in the control block (128 bytes: two cache lines, so workers never share one). */
export const CONTROL_STRIDE = 32

/** Field offsets inside a worker's control block. */
export const CTL = {
  /** Bumped by the main thread to post a task (the worker waits on it). */
  seq: 0,
  /** Set by the worker to the task's `seq` when it finished the task (the main thread waits on it). */
  done: 1,
  /** {@link WORKER_STATE}. */
  state: 2,
  op: 3,
  /** Array ids. */
  hist: 4,
  rows: 5,
  gradHess: 6,
  grad: 7,
  hess: 8,
  features: 9,
  scratch: 10,
  routing: 11,
  /** Row positions `rows[start, end)`. */
  start: 12,
  end: 13,
  /** Feature positions `features[fFrom, fTo)`. */
  fFrom: 14,
  fTo: 15,
  /** Bit 0: fill count slots; bit 1: two accumulators over all rows. */
  flags: 16,
  /** Partition: the split feature. */
  feature: 17,
  /** Partition result: the chunk's left rows. */
  result: 18,
  /** Placement: the chunk's left rows, and where its left and right parts go. */
  nLeft: 19,
  /** 1 once a task threw (the message follows on the worker's port). */
  failed: 20,
  /**
   * Who runs the posted task: its `seq` while open, `−seq` once the worker took it, 0 once the main thread took it
   * back (compare-and-swap on both sides, so exactly one runs it).
   */
  claim: 21,
  leftTo: 22,
  rightTo: 23,
} as const

/** A worker's life, in its control block. */
export const WORKER_STATE = { starting: 0, ready: 1, exited: 2 } as const

/** Task codes. */
export const OP = { stop: 0, rows: 1, allRows: 2, multi: 3, partition: 4, place: 5 } as const

export const FLAG_COUNTS = 1
export const FLAG_DUAL = 2

/** Typed-array kinds a shared array is viewed as. */
export type SharedKind = 'u8' | 'i32' | 'u32' | 'f32' | 'f64'

/** A shared array announced to a worker. */
export interface SharedArrayMessage {
  readonly id: number
  readonly kind: SharedKind
  readonly buffer: SharedArrayBuffer
}

/** The fixed inputs of every task of one fit, sent to each worker when it starts. */
export interface HistogramLayout {
  readonly nFeatures: number
  readonly nRows: number
  readonly nGradients: number
  /** `stride ×` first slot of each feature, `nFeatures + 1` entries (the last is the histogram length). */
  readonly slotBase: Int32Array
  /** `mapper.histogramOffsets` (first slot of each feature, `nFeatures + 1` entries). */
  readonly offsets: Int32Array
  /** Array id of the row-major bins (single-gradient builds), or -1. */
  readonly rowBins: number
  /** Array id of the column-major bins (multi-gradient builds, partitions). */
  readonly colBins: number
}

/** One task with its arrays resolved; both threads fill one of these and call {@link runHistogramTask}. */
export interface HistogramTask {
  op: number
  hist: Float64Array
  rows: Uint32Array
  start: number
  end: number
  features: Int32Array
  fFrom: number
  fTo: number
  withCounts: boolean
  dual: boolean
  gradHess: Float32Array
  grad: Float32Array
  hess: Float32Array
  /** Partition and placement only. */
  feature: number
  routing: Uint8Array
  rowScratch: Uint32Array
  nLeft: number
  leftTo: number
  rightTo: number
}

/** A task with empty arrays, to be filled. */
export function emptyTask(): HistogramTask {
  return {
    op: OP.rows,
    hist: new Float64Array(0),
    rows: new Uint32Array(0),
    start: 0,
    end: 0,
    features: new Int32Array(0),
    fFrom: 0,
    fTo: 0,
    withCounts: false,
    dual: false,
    gradHess: new Float32Array(0),
    grad: new Float32Array(0),
    hess: new Float32Array(0),
    feature: 0,
    routing: new Uint8Array(0),
    rowScratch: new Uint32Array(0),
    nLeft: 0,
    leftTo: 0,
    rightTo: 0,
  }
}

/** The bins and per-thread scratch a task runs on. */
export interface TaskContext {
  readonly nFeatures: number
  readonly nRows: number
  readonly nGradients: number
  readonly slotBase: Int32Array
  readonly offsets: Int32Array
  readonly rowBins: Uint8Array
  readonly colBins: Uint8Array
  /** The second accumulator of this thread (a histogram's length, or empty for multi-gradient builds). */
  readonly scratch: Float64Array
}

const ALL_ROWS_OPTIONS = [
  { withCounts: false, dual: false },
  { withCounts: false, dual: true },
  { withCounts: true, dual: false },
  { withCounts: true, dual: true },
] as const

/** Runs one task; returns the partition's left-row count (0 for the others). */
export function runHistogramTask(ctx: TaskContext, t: HistogramTask): number {
  switch (t.op) {
    case OP.rows:
      buildHistogramRows(
        ctx.rowBins,
        ctx.nFeatures,
        ctx.slotBase,
        t.features,
        t.fFrom,
        t.fTo,
        t.rows,
        t.start,
        t.end,
        t.gradHess,
        t.hist,
        ctx.scratch,
        t.withCounts,
      )
      return 0
    case OP.allRows:
      buildHistogramAllRows(
        ctx.rowBins,
        ctx.nFeatures,
        ctx.slotBase,
        t.features,
        t.fFrom,
        t.fTo,
        ctx.nRows,
        t.gradHess,
        t.hist,
        ctx.scratch,
        ALL_ROWS_OPTIONS[(t.withCounts ? 2 : 0) + (t.dual ? 1 : 0)]!,
      )
      return 0
    case OP.multi:
      buildHistogramMulti(
        ctx.colBins,
        ctx.nRows,
        t.features,
        t.fFrom,
        t.fTo,
        ctx.offsets,
        t.rows,
        t.start,
        t.end,
        t.grad,
        ctx.nGradients,
        t.hess,
        t.hist,
      )
      return 0
    case OP.partition:
      return partitionChunk(t.rows, t.start, t.end, ctx.colBins, t.feature * ctx.nRows, t.routing, 0, t.rowScratch)
    case OP.place:
      placeChunk(t.rows, t.rowScratch, t.start, t.end, t.nLeft, t)
      return 0
    default:
      throw new Error(`histogram task: unknown op ${t.op}`)
  }
}

/** A typed view of kind `kind` over all of `buffer`. */
export function viewOf(kind: SharedKind, buffer: SharedArrayBuffer): ArrayBufferView {
  switch (kind) {
    case 'u8':
      return new Uint8Array(buffer)
    case 'i32':
      return new Int32Array(buffer)
    case 'u32':
      return new Uint32Array(buffer)
    case 'f32':
      return new Float32Array(buffer)
    case 'f64':
      return new Float64Array(buffer)
  }
}

/** True when `a` views all of a `SharedArrayBuffer` (what a worker can address by id). */
export function isWholeShared(a: ArrayBufferView): boolean {
  return a.buffer instanceof SharedArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength
}
