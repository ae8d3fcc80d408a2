/**
 * What the main thread and the tree worker threads share: the layout of the control block through which the main
 * thread hands a job to the workers, the job codes, and {@link runUnit}, the one function every thread calls to run
 * a unit of a job, so work done by a worker goes through exactly the code the main thread would have run.
 *
 * A job (a node's histogram, a row partition, a boosting pass over the rows) is cut into units; the main thread
 * writes the job once into the shared job block, wakes the workers, and then every thread, the main one included,
 * claims units one at a time from a shared counter until none is left. A unit's result never depends on which
 * thread runs it, nor on the order units run in, so the work balances itself (a thread that is not scheduled simply
 * claims fewer units) and the results are the same for any number of threads.
 *
 * Arrays cross threads as `SharedArrayBuffer`s registered once under a numeric id (a job names arrays by id);
 * nothing is copied per job.
 * @module
 */
import { assignLeafRows } from './kernels/binned-tree.js'
import {
  buildHistogramMulti,
  buildHistogramRows,
  mergePartials,
  partitionChunk,
  placeChunk,
  zeroSlots,
} from './kernels/histogram.js'
import { boostGradients } from './kernels/objectives.js'

/** Int32 slots per worker block (128 bytes: two cache lines, so workers never share one). */
export const CONTROL_STRIDE = 32

/** Int32 index of the unit counter, on a cache line of its own (every thread increments it). */
export const NEXT_UNIT = 64

/** Int32 index of worker 0's block; worker `w`'s starts at `WORKER_BASE + w * CONTROL_STRIDE`. */
export const WORKER_BASE = 96

/** Int32 length of a control block for `nWorkers` workers. */
export function controlLength(nWorkers: number): number {
  return WORKER_BASE + nWorkers * CONTROL_STRIDE
}

/** Field offsets inside a worker's block. */
export const CTL = {
  /** Bumped by the main thread to post a job (the worker waits on it). */
  seq: 0,
  /** Set by the worker to the job's `seq` when it has no unit left to run (the main thread waits on it). */
  done: 1,
  /** {@link WORKER_STATE}. */
  state: 2,
  /** 1 once a unit threw (the message follows on the worker's port). */
  failed: 3,
  /**
   * Who may join the posted job: its `seq` while open, `−seq` once the worker joined, 0 once the main thread took it
   * back (compare-and-swap on both sides, so a worker never starts a job the main thread has finished without it).
   */
  claim: 4,
  /** Units the worker ran of the job it last finished (statistics). */
  units: 5,
} as const

/** A worker's life, in its block. */
export const WORKER_STATE = { starting: 0, ready: 1, exited: 2 } as const

/** Job codes. */
export const OP = {
  stop: 0,
  /** Single-gradient histogram of a node's rows (interleaved gradients, row-major bins). */
  rows: 1,
  /** Multi-gradient histogram (column-major bins). */
  multi: 3,
  /** Sum of the partial histograms of a build into its histogram. */
  merge: 4,
  /** First step of a partition: each unit splits its rows into the scratch and counts its left rows. */
  partition: 5,
  /** Second step: each unit moves its parts to their final places. */
  place: 6,
  /** A boosting pass: pending leaf values into the margins, then gradients. */
  boost: 7,
  /** Each row's leaf from the node ranges of a grown tree. */
  leaves: 8,
} as const

/** Typed-array kinds a shared array is viewed as. */
export type SharedKind = 'u8' | 'u16' | 'i32' | 'u32' | 'f32' | 'f64'

/** A shared array announced to a worker. */
export interface SharedArrayMessage {
  readonly id: number
  readonly kind: SharedKind
  readonly buffer: SharedArrayBuffer
}

/** The fixed inputs of every job of one fit, sent to each worker when it starts. */
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

/**
 * One job with its arrays resolved; each thread keeps one of these, fills it (the main thread from its caller, a
 * worker from the control block) and runs units of it with {@link runUnit}. Fields a job does not use keep whatever
 * they held.
 */
export interface TreeTask {
  op: number
  nUnits: number
  /** Histogram builds: the node's rows `rows[start, end)` cut into `rowUnits` ranges × `groups` feature ranges. */
  rowUnits: number
  groups: number
  hist: Float64Array
  /** Partial histograms of row ranges 1 … `rowUnits − 1`, one histogram length each (range 0 adds to `hist`). */
  partials: Float64Array
  rows: Uint32Array
  start: number
  end: number
  features: Int32Array
  nSelected: number
  /** `features[s] === s` for every selected position (all features selected). */
  identity: boolean
  withCounts: boolean
  gradHess: Float32Array
  /** Where the interleaved gradients of this tree start in `gradHess`. */
  gradOffset: number
  grad: Float32Array
  hess: Float32Array
  /** Partitions: the split feature, its 256-entry routing table, and per-unit counts and destinations. */
  feature: number
  routing: Uint8Array
  rowScratch: Uint32Array
  chunkLeft: Int32Array
  chunkLeftTo: Int32Array
  chunkRightTo: Int32Array
  /** Boosting passes over rows `[0, nRows)` (see kernels/objectives.ts `boostGradients`). */
  objective: number
  nOutputs: number
  delta: number
  margin: Float64Array
  label: Float64Array
  weight: Float64Array
  leafOf: Uint16Array
  leafValues: Float64Array
  valueStride: number
  apply: Uint8Array
  expScratch: Float64Array
  /** Leaf assignment: `nLeaves` (start, end, node) triples of positions in `rows`, written to `leafOf[leafOffset + row]`. */
  leaves: Int32Array
  nLeaves: number
  leafOffset: number
  /** Then `rows[j] = j` over the assigned positions. */
  resetRows: boolean
}

/** A task with empty arrays, to be filled. */
export function emptyTask(): TreeTask {
  return {
    op: OP.rows,
    nUnits: 0,
    rowUnits: 1,
    groups: 1,
    hist: new Float64Array(0),
    partials: new Float64Array(0),
    rows: new Uint32Array(0),
    start: 0,
    end: 0,
    features: new Int32Array(0),
    nSelected: 0,
    identity: false,
    withCounts: false,
    gradHess: new Float32Array(0),
    gradOffset: 0,
    grad: new Float32Array(0),
    hess: new Float32Array(0),
    feature: 0,
    routing: new Uint8Array(0),
    rowScratch: new Uint32Array(0),
    chunkLeft: new Int32Array(0),
    chunkLeftTo: new Int32Array(0),
    chunkRightTo: new Int32Array(0),
    objective: 0,
    nOutputs: 1,
    delta: 1,
    margin: new Float64Array(0),
    label: new Float64Array(0),
    weight: new Float64Array(0),
    leafOf: new Uint16Array(0),
    leafValues: new Float64Array(0),
    valueStride: 0,
    apply: new Uint8Array(0),
    expScratch: new Float64Array(0),
    leaves: new Int32Array(0),
    nLeaves: 0,
    leafOffset: 0,
    resetRows: false,
  }
}

type ArrayField = {
  [K in keyof TreeTask]: TreeTask[K] extends ArrayBufferView ? (K extends 'expScratch' ? never : K) : never
}[keyof TreeTask]
type NumberField = { [K in keyof TreeTask]: TreeTask[K] extends number ? K : never }[keyof TreeTask]

/** Number fields of the job block, in order (booleans travel as 0/1 under their own names below). */
const NUMBER_FIELDS: readonly NumberField[] = [
  'op',
  'nUnits',
  'rowUnits',
  'groups',
  'start',
  'end',
  'nSelected',
  'gradOffset',
  'feature',
  'objective',
  'nOutputs',
  'valueStride',
  'nLeaves',
  'leafOffset',
]
const FLAGS = NUMBER_FIELDS.length
const ARRAYS_AT = FLAGS + 1

/** The arrays each job reads or writes, with the kind a worker views them as. */
const JOB_ARRAYS: Readonly<Record<number, readonly (readonly [ArrayField, SharedKind])[]>> = {
  [OP.rows]: [
    ['hist', 'f64'],
    ['partials', 'f64'],
    ['rows', 'u32'],
    ['features', 'i32'],
    ['gradHess', 'f32'],
  ],
  [OP.multi]: [
    ['hist', 'f64'],
    ['partials', 'f64'],
    ['rows', 'u32'],
    ['features', 'i32'],
    ['grad', 'f32'],
    ['hess', 'f32'],
  ],
  [OP.merge]: [
    ['hist', 'f64'],
    ['partials', 'f64'],
    ['features', 'i32'],
  ],
  [OP.partition]: [
    ['rows', 'u32'],
    ['routing', 'u8'],
    ['rowScratch', 'u32'],
    ['chunkLeft', 'i32'],
  ],
  [OP.place]: [
    ['rows', 'u32'],
    ['rowScratch', 'u32'],
    ['chunkLeft', 'i32'],
    ['chunkLeftTo', 'i32'],
    ['chunkRightTo', 'i32'],
  ],
  [OP.boost]: [
    ['margin', 'f64'],
    ['label', 'f64'],
    ['weight', 'f64'],
    ['leafOf', 'u16'],
    ['leafValues', 'f64'],
    ['apply', 'u8'],
    ['gradHess', 'f32'],
  ],
  [OP.leaves]: [
    ['rows', 'u32'],
    ['leaves', 'i32'],
    ['leafOf', 'u16'],
  ],
}

/** Float64 slots of the job: `delta`. */
export const FLOAT_FIELDS = 1

/**
 * Writes `t` into the job block `ctl[0, NEXT_UNIT)` and `floats`, naming each array the job uses by the id `share`
 * gives it (an empty array travels as -1). Throws for an unknown job.
 */
export function writeJob(
  ctl: Int32Array,
  floats: Float64Array,
  t: TreeTask,
  share: (array: ArrayBufferView, kind: SharedKind) => number,
): void {
  const arrays = JOB_ARRAYS[t.op]
  if (arrays === undefined) throw new Error(`tree task: unknown op ${t.op}`)
  for (let i = 0; i < NUMBER_FIELDS.length; i++) ctl[i] = t[NUMBER_FIELDS[i]!]
  ctl[FLAGS] = (t.identity ? 1 : 0) | (t.withCounts ? 2 : 0) | (t.resetRows ? 4 : 0)
  for (let i = 0; i < arrays.length; i++) {
    const [name, kind] = arrays[i]!
    const a = t[name]
    ctl[ARRAYS_AT + i] = a.length === 0 ? -1 : share(a, kind)
  }
  floats[0] = t.delta
}

/** Reads the job block into `t`, resolving array ids through `array` (inverse of {@link writeJob}). */
export function readJob(
  ctl: Int32Array,
  floats: Float64Array,
  t: TreeTask,
  array: (id: number, kind: SharedKind) => ArrayBufferView,
): void {
  for (let i = 0; i < NUMBER_FIELDS.length; i++) t[NUMBER_FIELDS[i]!] = ctl[i]!
  t.identity = (ctl[FLAGS]! & 1) !== 0
  t.withCounts = (ctl[FLAGS]! & 2) !== 0
  t.resetRows = (ctl[FLAGS]! & 4) !== 0
  const arrays = JOB_ARRAYS[t.op]
  if (arrays === undefined) return
  for (let i = 0; i < arrays.length; i++) {
    const [name, kind] = arrays[i]!
    const id = ctl[ARRAYS_AT + i]!
    ;(t as unknown as Record<string, ArrayBufferView>)[name] = array(id, kind)
  }
  t.delta = floats[0]!
}

/** The bins and per-thread scratch a unit runs on. */
export interface TaskContext {
  readonly nFeatures: number
  readonly nRows: number
  readonly nGradients: number
  readonly slotBase: Int32Array
  readonly offsets: Int32Array
  readonly rowBins: Uint8Array
  readonly colBins: Uint8Array
  /** `colBins` cut into one view per feature (what the partition kernels read). */
  readonly columns: readonly Uint8Array[]
  /** Length of a histogram. */
  readonly histLength: number
  /** The second accumulator of this thread (a histogram's length, or empty for multi-gradient builds). */
  readonly scratch: Float64Array
  /** Views of the partial histograms, made once per partials buffer. */
  readonly partialViews: { buffer: Float64Array | undefined; views: Float64Array[] }
}

/** `bins` (column-major, `nRows` per feature) as one view per feature. */
export function featureColumns(bins: Uint8Array, nRows: number, nFeatures: number): Uint8Array[] {
  return Array.from({ length: nFeatures }, (_, f) => bins.subarray(f * nRows, (f + 1) * nRows))
}

/** The first position of range `u` of `n` positions from `start` cut into `parts` nearly equal ranges. */
export function rangeStart(start: number, n: number, parts: number, u: number): number {
  return start + Math.floor((u * n) / parts)
}

/** Runs unit `u` of job `t`; throws for an unknown job. */
export function runUnit(ctx: TaskContext, t: TreeTask, u: number): void {
  switch (t.op) {
    case OP.rows:
    case OP.multi:
      buildUnit(ctx, t, u)
      return
    case OP.merge: {
      const fFrom = rangeStart(0, t.nSelected, t.nUnits, u)
      const fTo = rangeStart(0, t.nSelected, t.nUnits, u + 1)
      mergePartials(t.hist, t.partials, ctx.histLength, t.rowUnits, ctx.slotBase, t.features, fFrom, fTo, t.identity)
      return
    }
    case OP.partition: {
      const n = t.end - t.start
      const a = rangeStart(t.start, n, t.nUnits, u)
      const b = rangeStart(t.start, n, t.nUnits, u + 1)
      t.chunkLeft[u] = partitionChunk(t.rows, a, b, ctx.columns[t.feature]!, t.routing, 0, t.rowScratch)
      return
    }
    case OP.place: {
      const n = t.end - t.start
      const a = rangeStart(t.start, n, t.nUnits, u)
      const b = rangeStart(t.start, n, t.nUnits, u + 1)
      placeChunk(t.rows, t.rowScratch, a, b, t.chunkLeft[u]!, t.chunkLeftTo[u]!, t.chunkRightTo[u]!)
      return
    }
    case OP.boost: {
      const a = rangeStart(0, ctx.nRows, t.nUnits, u)
      const b = rangeStart(0, ctx.nRows, t.nUnits, u + 1)
      boostGradients(t.objective, t.nOutputs, ctx.nRows, t.delta, t, a, b)
      return
    }
    case OP.leaves: {
      const n = t.end - t.start
      const a = rangeStart(t.start, n, t.nUnits, u)
      const b = rangeStart(t.start, n, t.nUnits, u + 1)
      assignLeafRows(t.rows, a, b, t.leaves, t.nLeaves, t.leafOf, t.leafOffset, t.resetRows)
      return
    }
    default:
      throw new Error(`tree task: unknown op ${t.op}`)
  }
}

/**
 * Unit `u` of a histogram build: row range `⌊u / groups⌋` of the node, feature range `u mod groups`. Range 0 adds to
 * the node's histogram, range `q > 0` fills partial `q` (zeroed first), which a merge adds afterwards in range order.
 */
function buildUnit(ctx: TaskContext, t: TreeTask, u: number): void {
  const q = Math.floor(u / t.groups)
  const g = u - q * t.groups
  const n = t.end - t.start
  const a = rangeStart(t.start, n, t.rowUnits, q)
  const b = rangeStart(t.start, n, t.rowUnits, q + 1)
  const fFrom = rangeStart(0, t.nSelected, t.groups, g)
  const fTo = rangeStart(0, t.nSelected, t.groups, g + 1)
  let target = t.hist
  if (q > 0) {
    target = partialView(ctx, t.partials, q)
    zeroSlots(target, ctx.slotBase, t.features, fFrom, fTo, t.identity)
  }
  if (t.op === OP.multi) {
    buildHistogramMulti(
      ctx.colBins,
      ctx.nRows,
      t.features,
      fFrom,
      fTo,
      ctx.offsets,
      t.rows,
      a,
      b,
      t.grad,
      ctx.nGradients,
      t.hess,
      target,
    )
    return
  }
  buildHistogramRows(
    ctx.rowBins,
    ctx.nFeatures,
    ctx.slotBase,
    t.features,
    fFrom,
    fTo,
    t.identity,
    t.rows,
    a,
    b,
    t.gradHess,
    t.gradOffset,
    target,
    ctx.scratch,
    t.withCounts,
  )
}

/** Partial `q` (1-based) of `partials`, a view made once per buffer and thread. */
function partialView(ctx: TaskContext, partials: Float64Array, q: number): Float64Array {
  const cache = ctx.partialViews
  if (cache.buffer !== partials) {
    cache.buffer = partials
    cache.views = []
    for (let at = 0; at + ctx.histLength <= partials.length; at += ctx.histLength) {
      cache.views.push(partials.subarray(at, at + ctx.histLength))
    }
  }
  return cache.views[q - 1]!
}

/** A typed view of kind `kind` over all of `buffer`. */
export function viewOf(kind: SharedKind, buffer: SharedArrayBuffer): ArrayBufferView {
  switch (kind) {
    case 'u8':
      return new Uint8Array(buffer)
    case 'u16':
      return new Uint16Array(buffer)
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
