/**
 * Gradient histograms of tree nodes over binned data: their layout, a pool of reusable buffers, and the builder
 * that fills a node's histogram from its rows (single-gradient fast paths, a multi-gradient path for multi-output
 * trees) and derives a sibling by subtraction. Histograms are mergeable by addition, so ranges of rows can build
 * partial histograms and sum them (what lets threads share a node).
 *
 * Layout: one slot per (feature, bin), feature `f` at `mapper.histogramOffsets[f]` (value bins, then the missing
 * bin); each slot holds `nGradients` gradient sums, the hessian sum and the row count, in float64.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { BinnedData } from './binning.js'
import {
  emptyTask,
  featureColumns,
  isWholeShared,
  OP,
  runUnit,
  type TaskContext,
  type TreeTask,
} from './histogram-tasks.js'
import {
  interleaveGradients,
  mergePartials,
  partitionRows,
  subtractHistogram,
  transposeBins,
} from './kernels/histogram.js'
import { OBJECTIVE } from './kernels/objectives.js'
import { HistogramWorkers } from './parallel-histogram.js'

/**
 * Nodes with fewer `rows × features` than this are built on the calling thread alone (≈ 0.1 ms of work). Measured
 * with bench/gbdt/threads.bench.ts on flights-3m, 2 threads: handing a share to a worker that is polling costs
 * ≈ 1 µs, and nodes down to 2,700 rows × 6 features (16k updates) built 1.5× faster; but a worker that went to
 * sleep takes 5–100 µs to wake (more on a loaded machine), and each job keeps it polling for a while (CPU that
 * neighbours could use). Training time on flights did not move between thresholds of 8k and 131k (the big nodes
 * dominate), so the threshold sits where a node's work is still well above a wake-up.
 */
export const PARALLEL_MIN_WORK = 32_768

/** Nodes with fewer rows than this are partitioned on the calling thread alone (same reasoning as above). */
export const PARALLEL_MIN_PARTITION_ROWS = 32_768

/**
 * Fewest rows of a node's row range built into a partial histogram of its own (see {@link HistogramBuilder}): at
 * 8k rows a range is ≈ 50k updates on 6 features, ≈ 0.1 ms, small enough that threads finishing a node wait little
 * for each other, and its partial costs a zeroing and an addition per slot, ≈ 2% of that on flights-3m's 757 slots.
 */
export const HISTOGRAM_UNIT_ROWS = 8192

/** Most row ranges per node: a 2.7M-row root becomes 32 ranges of 84k rows, plenty for 4 threads to balance. */
export const MAX_HISTOGRAM_UNITS = 32

/** Memory the partial histograms may take (they are one histogram each); wide data gets fewer ranges. */
const PARTIALS_BUDGET_BYTES = 16 * 1024 * 1024

/** Rows per unit of the passes over all rows (boosting gradients, leaf assignment) and of threaded partitions. */
const ROW_PASS_UNIT_ROWS = 32_768
const PARTITION_UNIT_ROWS = 8192
const MAX_PARTITION_UNITS = 64

/** Partial-histogram merges with fewer additions than this run on the calling thread alone. */
const PARALLEL_MIN_MERGE = 262_144

/**
 * How {@link HistogramBuilder} cuts nodes into row ranges for histograms of `histLength` doubles over `nFeatures`
 * features: rows per range (`unitRows`, the option when given) and most ranges per node. Exported so that other
 * builders of the same histograms (external memory) cut nodes, and so sum them, the same way.
 */
export function histogramUnits(
  histLength: number,
  nFeatures: number,
  unitRows?: number,
): { readonly unitRows: number; readonly maxUnits: number } {
  return {
    // A range's partial costs a zeroing and an addition per slot: keep that under 1/16 of the range's updates.
    unitRows: unitRows ?? Math.max(HISTOGRAM_UNIT_ROWS, Math.ceil((16 * histLength) / Math.max(1, nFeatures))),
    maxUnits: Math.max(1, Math.min(MAX_HISTOGRAM_UNITS, 1 + Math.floor(PARTIALS_BUDGET_BYTES / (8 * histLength)))),
  }
}

/** Row ranges of a node of `n` rows under {@link histogramUnits}' shape (see {@link HistogramBuilder}). */
export function rowUnitCount(n: number, units: { readonly unitRows: number; readonly maxUnits: number }): number {
  return Math.max(1, Math.min(units.maxUnits, Math.floor(n / units.unitRows)))
}

/** Doubles per slot for `nGradients` gradients: the gradients, the hessian, the count. */
export function histogramStride(nGradients: number): number {
  return nGradients + 2
}

/**
 * A free list of equally sized histogram buffers: a tree grower needs one per open leaf, and reusing them across
 * nodes and trees avoids allocating (and zeroing pages of) a new buffer per node.
 */
export class HistogramPool {
  readonly length: number
  /** True when buffers live in `SharedArrayBuffer`s (worker threads fill them). */
  readonly shared: boolean
  readonly #free: Float64Array[] = []
  #allocated = 0

  constructor(length: number, options: { readonly shared?: boolean } = {}) {
    this.length = length
    this.shared = options.shared ?? false
  }

  /** Buffers created so far (reused ones are not counted again). */
  get allocated(): number {
    return this.#allocated
  }

  /** A zeroed buffer. */
  acquire(): Float64Array {
    const h = this.#free.pop()
    if (h !== undefined) {
      h.fill(0)
      return h
    }
    this.#allocated++
    return this.shared ? new Float64Array(new SharedArrayBuffer(this.length * 8)) : new Float64Array(this.length)
  }

  /** Returns a buffer for reuse. */
  release(h: Float64Array): void {
    this.#free.push(h)
  }
}

/** What a node histogram is built from: the node's rows `rows[start, end)` and the per-row gradients. */
export interface NodeRows {
  readonly rows: Uint32Array
  readonly start: number
  readonly end: number
  /**
   * True when `rows[start, end)` is every row `0 … nRows − 1` in order (a root over all rows). Informational: the
   * kernels read the row list in every case (reading it costs nothing measurable next to the bins and gradients).
   */
  readonly allRows?: boolean
}

/** Options of {@link HistogramBuilder}. */
export interface HistogramBuilderOptions {
  /** Gradients per row (one per output of a multi-output tree). */
  readonly nGradients: number
  /** Fill the count slots (forced on with several gradients). */
  readonly withCounts: boolean
  /** Threads building big nodes, the calling one included; default 1. */
  readonly nThreads?: number
  /** Smallest `rows × features` of a node built by several threads; default {@link PARALLEL_MIN_WORK}. */
  readonly parallelMinWork?: number
  /** Fewest rows of a node partitioned by several threads; default {@link PARALLEL_MIN_PARTITION_ROWS}. */
  readonly parallelMinPartitionRows?: number
  /**
   * Rows per row range of a node's histogram; default {@link HISTOGRAM_UNIT_ROWS}, or more for wide histograms (see
   * {@link HistogramBuilder}). Part of the model's arithmetic (the ranges are summed in order), so builders compared
   * bit for bit must use the same value; tests lower it to cut small nodes into several ranges.
   */
  readonly histogramUnitRows?: number
  /**
   * The calling thread runs no unit of a job it posted and waits for the workers to run them all (tests: proves
   * the workers run every kind of unit). Default false.
   */
  readonly parallelWorkersOnly?: boolean
}

/**
 * Fills node histograms from binned data. Single-gradient histograms read a row-major copy of the bins that the
 * builder makes once (as large as the binned data: 1 byte per feature per row), because gathering a sparse node's
 * rows from one cache line per row beats one per feature (measured ≈ 20% faster on dense nodes, ≈ 4× on sparse
 * ones), and gradients interleaved per row (see {@link loadGradients}). Large row ranges use two accumulators (see
 * the kernels). Building allocates nothing.
 *
 * Row ranges: a node of `n` rows is cut into `⌊n / unitRows⌋` nearly equal ranges of its row list (at least one, at
 * most {@link MAX_HISTOGRAM_UNITS}, fewer when histograms are wide), where `unitRows` is
 * {@link HISTOGRAM_UNIT_ROWS}, or more when a histogram is so wide that zeroing and adding a partial would not pay.
 * The first range adds to the node's histogram, each other one fills a partial histogram of its own, and the partials
 * are then added in range order. The cut depends on the node and the data's shape only, never on the thread count,
 * so the sums, which floating-point addition makes order-dependent, are the same for any number of threads.
 *
 * With `nThreads > 1`, the ranges of a big node are units of one job that every thread claims from (see
 * parallel-histogram.ts), so each thread reads only its own rows (splitting features instead, as an earlier version
 * did, makes every thread read every row: on flights-3m's 6 features two threads then built a node only ≈ 1.3×
 * faster). A node with fewer ranges than threads is also cut by features, which changes nothing in the sums (only
 * the owner of a slot writes it). Row partitions and the boosting passes over all rows run on the threads the same
 * way. The bins, gradients, row lists and histogram buffers then live in `SharedArrayBuffer`s, so nothing is copied
 * per node. Call {@link close} when done (it stops the threads).
 *
 * @example
 * const builder = new HistogramBuilder(binned, { nGradients: 1, withCounts: true })
 * builder.loadGradients({ grad, hess })
 * const hist = builder.pool.acquire()
 * builder.build({ rows, start: 0, end: rows.length }, { features, nSelected }, hist)
 */
export class HistogramBuilder {
  readonly binned: BinnedData
  readonly nGradients: number
  readonly stride: number
  /** False when the count slots are not filled (the split search then relies on hessians alone). */
  readonly withCounts: boolean
  /** Threads that build a big node (the calling one included). */
  readonly nThreads: number
  readonly pool: HistogramPool
  /** Rows per row range of a node's histogram (see the class comment). */
  readonly unitRows: number
  /** Most row ranges per node. */
  readonly maxUnits: number
  readonly #ctx: TaskContext
  readonly #gradHess: Float32Array
  readonly #task: TreeTask = emptyTask()
  /** Worker threads (`nThreads − 1`), with the shared copies they read; undefined with one thread. */
  readonly #workers: HistogramWorkers | undefined
  readonly #features: Int32Array
  readonly #routing: Uint8Array
  readonly #chunkLeft: Int32Array
  readonly #chunkLeftTo: Int32Array
  readonly #chunkRightTo: Int32Array
  readonly #minWork: number
  readonly #minPartitionRows: number
  readonly #workersOnly: boolean
  #partials = new Float64Array(0)
  #sharedGrad = new Float32Array(0)
  #sharedHess = new Float32Array(0)
  #loaded:
    | {
        readonly grad: Float32Array
        readonly hess: Float32Array
        readonly gradHess: Float32Array
        readonly offset: number
      }
    | undefined

  constructor(binned: BinnedData, options: HistogramBuilderOptions) {
    const { nGradients, withCounts } = options
    const nThreads = options.nThreads ?? 1
    if (!Number.isInteger(nGradients) || nGradients < 1) {
      throw new ScalemlError('INVALID_ARGUMENT', `nGradients must be a positive integer, got ${nGradients}.`)
    }
    if (!Number.isInteger(nThreads) || nThreads < 1) {
      throw new ScalemlError('INVALID_ARGUMENT', `nThreads must be a positive integer, got ${nThreads}.`)
    }
    const parallel = nThreads > 1
    this.binned = binned
    this.nGradients = nGradients
    this.stride = histogramStride(nGradients)
    this.withCounts = withCounts || nGradients > 1
    this.nThreads = nThreads
    this.#minWork = options.parallelMinWork ?? PARALLEL_MIN_WORK
    this.#minPartitionRows = options.parallelMinPartitionRows ?? PARALLEL_MIN_PARTITION_ROWS
    this.#workersOnly = options.parallelWorkersOnly ?? false
    this.pool = new HistogramPool(binned.mapper.totalBins * this.stride, { shared: parallel })
    const { nRows, mapper } = binned
    const nFeatures = mapper.nFeatures
    const histLength = this.pool.length
    const units = histogramUnits(histLength, nFeatures, options.histogramUnitRows)
    this.unitRows = units.unitRows
    this.maxUnits = units.maxUnits
    const rowBins = sharedIf(parallel, Uint8Array, nGradients === 1 ? nRows * nFeatures : 0)
    if (nGradients === 1) transposeBins(binned.bins, nRows, nFeatures, rowBins)
    // Partitions and multi-gradient builds read the column-major bins; workers need them shared.
    const colBins = !parallel || isWholeShared(binned.bins) ? binned.bins : sharedCopy(binned.bins)
    const offsets = mapper.histogramOffsets.slice(0, nFeatures + 1)
    const slotBase = Int32Array.from(offsets, (o) => o * this.stride)
    this.#ctx = {
      nFeatures,
      nRows,
      nGradients,
      slotBase,
      offsets,
      rowBins,
      colBins,
      columns: featureColumns(colBins, nRows, nFeatures),
      histLength,
      scratch: new Float64Array(nGradients === 1 ? histLength : 0),
      partialViews: { buffer: undefined, views: [] },
    }
    this.#gradHess = sharedIf(parallel, Float32Array, nGradients === 1 ? 2 * nRows : 0)
    this.#features = sharedIf(parallel, Int32Array, nFeatures)
    this.#routing = sharedIf(parallel, Uint8Array, parallel ? 256 : 0)
    this.#chunkLeft = sharedIf(parallel, Int32Array, MAX_PARTITION_UNITS)
    this.#chunkLeftTo = sharedIf(parallel, Int32Array, MAX_PARTITION_UNITS)
    this.#chunkRightTo = sharedIf(parallel, Int32Array, MAX_PARTITION_UNITS)
    this.#workers = parallel
      ? new HistogramWorkers(
          nThreads - 1,
          { nFeatures, nRows, nGradients, slotBase, offsets, histLength },
          { rowBins, colBins },
        )
      : undefined
  }

  /** The worker threads of this builder (undefined with one thread); for tests and benches. */
  get workers(): HistogramWorkers | undefined {
    return this.#workers
  }

  /**
   * Sets the gradients of the next builds (call once per tree, after the gradients change), in one of two forms:
   * - `grad` with `nGradients` columns of `nRows` values (gradient `c` of row `r` at `grad[c * nRows + r]`) and
   *   `hess` with one value per row. Single-gradient builds read an interleaved copy made here; with threads,
   *   multi-gradient builds read the arrays themselves when they are whole `SharedArrayBuffer` views, else a shared
   *   copy made here.
   * - `gradHess` already interleaved (`gradHess[offset + 2r]` the gradient of row `r`, `+ 1` its hessian), single
   *   gradient only: read in place (with threads, when it is a whole `SharedArrayBuffer` view; else copied here).
   */
  loadGradients(
    gradients:
      | { readonly grad: Float32Array; readonly hess: Float32Array }
      | { readonly gradHess: Float32Array; readonly offset: number },
  ): void {
    const nRows = this.binned.nRows
    const none = new Float32Array(0)
    if ('gradHess' in gradients) {
      if (this.nGradients !== 1) throw new Error('HistogramBuilder: interleaved gradients need nGradients 1')
      const { gradHess, offset } = gradients
      if (this.#workers === undefined || isWholeShared(gradHess)) {
        this.#loaded = { grad: none, hess: none, gradHess, offset }
        return
      }
      this.#gradHess.set(gradHess.subarray(offset, offset + 2 * nRows))
      this.#loaded = { grad: none, hess: none, gradHess: this.#gradHess, offset: 0 }
      return
    }
    if (this.nGradients === 1) {
      interleaveGradients(gradients.grad, gradients.hess, nRows, this.#gradHess)
      this.#loaded = { grad: none, hess: none, gradHess: this.#gradHess, offset: 0 }
      return
    }
    let { grad, hess } = gradients
    if (this.#workers !== undefined) {
      if (!isWholeShared(grad)) {
        if (this.#sharedGrad.length !== grad.length) this.#sharedGrad = sharedIf(true, Float32Array, grad.length)
        this.#sharedGrad.set(grad)
        grad = this.#sharedGrad
      }
      if (!isWholeShared(hess)) {
        if (this.#sharedHess.length !== hess.length) this.#sharedHess = sharedIf(true, Float32Array, hess.length)
        this.#sharedHess.set(hess)
        hess = this.#sharedHess
      }
    }
    this.#loaded = { grad, hess, gradHess: none, offset: 0 }
  }

  /** Row ranges of a node of `n` rows (see the class comment). */
  rowUnits(n: number): number {
    return rowUnitCount(n, this)
  }

  /**
   * Adds the node's rows to `hist` for the distinct features `features[0, nSelected)`, with the gradients of the last
   * {@link loadGradients}. Big nodes are split over the threads when `hist` comes from {@link pool} and the node's
   * row list is a whole `SharedArrayBuffer` view.
   */
  build(
    node: NodeRows,
    selection: { readonly features: Int32Array; readonly nSelected: number },
    hist: Float64Array,
  ): void {
    const loaded = this.#loaded
    if (loaded === undefined) throw new Error('HistogramBuilder.build before loadGradients')
    const { features, nSelected } = selection
    const nFeatures = this.#ctx.nFeatures
    const t = this.#task
    const n = node.end - node.start
    t.op = this.nGradients > 1 ? OP.multi : OP.rows
    t.hist = hist
    t.rows = node.rows
    t.start = node.start
    t.end = node.end
    t.nSelected = nSelected
    t.identity = nSelected === nFeatures
    t.withCounts = this.withCounts
    t.gradHess = loaded.gradHess
    t.gradOffset = loaded.offset
    t.grad = loaded.grad
    t.hess = loaded.hess
    t.rowUnits = this.rowUnits(n)
    t.groups = 1
    if (t.rowUnits > 1) t.partials = this.#partialBuffer(t.rowUnits)
    const workers = this.#workers
    const parallel =
      workers !== undefined &&
      nSelected > 0 &&
      n * nSelected >= this.#minWork &&
      isWholeShared(hist) &&
      isWholeShared(node.rows) &&
      (this.nGradients > 1 || isWholeShared(t.gradHess))
    if (parallel) {
      this.#features.set(features.subarray(0, nSelected))
      t.features = this.#features
      // Fewer row ranges than threads: cut each range by features too (the sums do not change).
      if (t.rowUnits < this.nThreads) t.groups = Math.min(nSelected, Math.ceil(this.nThreads / t.rowUnits))
    } else t.features = features
    t.nUnits = t.rowUnits * t.groups
    this.#run(t, parallel)
    if (t.rowUnits === 1) return
    const mergeWork = (t.rowUnits - 1) * this.pool.length * (nSelected / Math.max(1, nFeatures))
    if (parallel && mergeWork >= PARALLEL_MIN_MERGE) {
      t.op = OP.merge
      t.nUnits = Math.min(nSelected, 4 * this.nThreads)
      this.#run(t, true)
      return
    }
    mergePartials(
      hist,
      t.partials,
      this.pool.length,
      t.rowUnits,
      this.#ctx.slotBase,
      t.features,
      0,
      nSelected,
      t.identity,
    )
  }

  /**
   * Stable partition of a node's rows `rows[start, end)` by the bins of `feature` through the routing table
   * `goesLeft[goesLeftOffset, + 256)` (see kernels `partitionRows`); returns the first index of the right part.
   * `scratch` holds at least `binned.nRows` entries. With threads, a big node's rows are cut into chunks, each
   * partitioned by whichever thread claims it, and the parts are concatenated in chunk order, which is exactly the
   * one-thread result (`rows` and `scratch` must then be whole `SharedArrayBuffer` views).
   */
  partition(
    node: { readonly rows: Uint32Array; readonly start: number; readonly end: number; readonly scratch: Uint32Array },
    feature: number,
    routing: { readonly goesLeft: Uint8Array; readonly offset: number },
  ): number {
    const { rows, start, end, scratch } = node
    const workers = this.#workers
    const n = end - start
    if (workers === undefined || n < this.#minPartitionRows || !isWholeShared(rows) || !isWholeShared(scratch)) {
      return partitionRows(rows, start, end, this.#ctx.columns[feature]!, routing.goesLeft, routing.offset, scratch)
    }
    this.#routing.set(routing.goesLeft.subarray(routing.offset, routing.offset + 256))
    const t = this.#task
    t.rows = rows
    t.rowScratch = scratch
    t.start = start
    t.end = end
    t.feature = feature
    t.routing = this.#routing
    t.chunkLeft = this.#chunkLeft
    t.chunkLeftTo = this.#chunkLeftTo
    t.chunkRightTo = this.#chunkRightTo
    const chunks = Math.max(2, Math.min(MAX_PARTITION_UNITS, Math.floor(n / PARTITION_UNIT_ROWS)))
    t.nUnits = chunks
    // Each chunk's left and right rows into its range of the scratch, then each chunk's parts to their places.
    t.op = OP.partition
    this.#run(t, true)
    const left = this.#chunkLeft
    let mid = start
    for (let c = 0; c < chunks; c++) mid += left[c]!
    let l = start
    let r = mid
    for (let c = 0; c < chunks; c++) {
      const size = Math.floor(((c + 1) * n) / chunks) - Math.floor((c * n) / chunks)
      this.#chunkLeftTo[c] = l
      this.#chunkRightTo[c] = r
      l += left[c]!
      r += size - left[c]!
    }
    t.op = OP.place
    this.#run(t, true)
    return mid
  }

  /**
   * A boosting pass over every row (kernels/objectives.ts `boostGradients`): adds the pending leaf values to the
   * margins and writes the gradients, on the threads when there are any (every array of `pass` must then be a whole
   * `SharedArrayBuffer` view, `weight` may be empty).
   */
  boostPass(pass: BoostPass): void {
    const t = this.#task
    t.op = OP.boost
    t.objective = OBJECTIVE[pass.objective]
    t.nOutputs = pass.nOutputs
    t.delta = pass.delta
    t.margin = pass.margin
    t.label = pass.label
    t.weight = pass.weight
    t.leafOf = pass.leafOf
    t.leafValues = pass.leafValues
    t.valueStride = pass.valueStride
    t.apply = pass.apply
    t.gradHess = pass.gradHess
    if (t.expScratch.length < pass.nOutputs) t.expScratch = new Float64Array(pass.nOutputs)
    t.nUnits = Math.max(1, Math.ceil(this.binned.nRows / ROW_PASS_UNIT_ROWS))
    this.#run(t, true)
  }

  /**
   * Writes the leaf of each row of a grown tree into `leafOf[offset + row]` (kernels/binned-tree.ts
   * `assignLeafRows`): `rows[0, n)` are the tree's rows, `leaves` its `nLeaves` (start, end, node) triples; with
   * `resetRows`, `rows[0, n)` is then `0 … n − 1`. On the threads when there are any (`rows`, `leaves` and `leafOf`
   * must then be whole `SharedArrayBuffer` views).
   */
  assignLeaves(
    tree: { readonly rows: Uint32Array; readonly n: number; readonly leaves: Int32Array; readonly nLeaves: number },
    leafOf: Uint16Array,
    at: { readonly offset: number; readonly resetRows: boolean },
  ): void {
    const t = this.#task
    t.op = OP.leaves
    t.rows = tree.rows
    t.start = 0
    t.end = tree.n
    t.leaves = tree.leaves
    t.nLeaves = tree.nLeaves
    t.leafOf = leafOf
    t.leafOffset = at.offset
    t.resetRows = at.resetRows
    t.nUnits = Math.max(1, Math.ceil(tree.n / ROW_PASS_UNIT_ROWS))
    this.#run(t, true)
  }

  /** Turns `parent` into its other child's histogram by subtracting `child` (in place). */
  subtract(parent: Float64Array, child: Float64Array): void {
    subtractHistogram(parent, child, 0, this.pool.length)
  }

  /** Stops the worker threads (idempotent; a no-op with one thread). */
  close(): void {
    this.#workers?.close()
  }

  /** Runs every unit of `t`: on the threads when `parallel` and there are workers, else here. */
  #run(t: TreeTask, parallel: boolean): void {
    const workers = this.#workers
    const ctx = this.#ctx
    if (!parallel || workers === undefined || t.nUnits < 2 || workers.post(t) === 0) {
      for (let u = 0; u < t.nUnits; u++) runUnit(ctx, t, u)
      return
    }
    try {
      if (!this.#workersOnly) {
        for (let u = workers.claim(t.nUnits); u >= 0; u = workers.claim(t.nUnits)) runUnit(ctx, t, u)
      }
    } finally {
      workers.finish(!this.#workersOnly)
    }
  }

  /** The partial histograms of `units` row ranges (grown once to the most a node needs). */
  #partialBuffer(units: number): Float64Array {
    const length = (units - 1) * this.pool.length
    if (this.#partials.length < length) {
      this.#partials = sharedIf(this.#workers !== undefined, Float64Array, (this.maxUnits - 1) * this.pool.length)
    }
    return this.#partials
  }
}

/** A boosting pass of {@link HistogramBuilder.boostPass} (see kernels/objectives.ts `BoostBuffers`). */
export interface BoostPass {
  readonly objective: keyof typeof OBJECTIVE
  readonly nOutputs: number
  readonly delta: number
  readonly margin: Float64Array
  readonly label: Float64Array
  readonly weight: Float64Array
  readonly leafOf: Uint16Array
  readonly leafValues: Float64Array
  readonly valueStride: number
  readonly apply: Uint8Array
  readonly gradHess: Float32Array
}

type TypedArrayClass<A> = new (length: number | SharedArrayBuffer) => A

/** A zeroed array of `length` elements, over a `SharedArrayBuffer` when `shared`. */
export function sharedIf<A extends { readonly BYTES_PER_ELEMENT: number }>(
  shared: boolean,
  Kind: TypedArrayClass<A> & { readonly BYTES_PER_ELEMENT: number },
  length: number,
): A {
  return shared ? new Kind(new SharedArrayBuffer(length * Kind.BYTES_PER_ELEMENT)) : new Kind(length)
}

function sharedCopy(a: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(a.length))
  out.set(a)
  return out
}
