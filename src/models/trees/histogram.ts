/**
 * Gradient histograms of tree nodes over binned data: their layout, a pool of reusable buffers, and the builder
 * that fills a node's histogram from its rows (single-gradient fast paths, a multi-gradient path for multi-output
 * trees) and derives a sibling by subtraction. Histograms are mergeable by addition, so shards of rows can build
 * partial histograms and sum them (the basis of data-parallel training).
 *
 * Layout: one slot per (feature, bin), feature `f` at `mapper.histogramOffsets[f]` (value bins, then the missing
 * bin); each slot holds `nGradients` gradient sums, the hessian sum and the row count, in float64.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { BinnedData } from './binning.js'
import {
  emptyTask,
  type HistogramTask,
  isWholeShared,
  OP,
  runHistogramTask,
  type TaskContext,
} from './histogram-tasks.js'
import { interleaveGradients, partitionRows, subtractHistogram, transposeBins } from './kernels/histogram.js'
import { HistogramWorkers } from './parallel-histogram.js'

/**
 * Nodes with fewer `rows × features` than this are built on the calling thread alone (≈ 0.1 ms of work). Measured
 * with bench/gbdt/threads.bench.ts on flights-3m, 2 threads: handing a share to a worker that is polling costs
 * ≈ 1 µs, and nodes down to 2,700 rows × 6 features (16k updates) built 1.5× faster; but a worker that went to
 * sleep takes 5–100 µs to wake (more on a loaded machine), and each task keeps it polling for a while (CPU that
 * neighbours could use). Training time on flights did not move between thresholds of 8k and 131k (the big nodes
 * dominate), so the threshold sits where a node's work is still well above a wake-up.
 */
export const PARALLEL_MIN_WORK = 32_768

/** Nodes with fewer rows than this are partitioned on the calling thread alone (same reasoning as above). */
export const PARALLEL_MIN_PARTITION_ROWS = 32_768

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
   * True when `rows[start, end)` is every row `0 … nRows − 1` in order (a root over all rows), which allows a kernel
   * without row indices.
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
   * Take back a share its worker has not started when the calling thread is done with its own (default true).
   * Tests turn it off so that the workers run every share posted to them.
   */
  readonly parallelTakeBack?: boolean
}

/**
 * Fills node histograms from binned data. Single-gradient histograms read a row-major copy of the bins that the
 * builder makes once (as large as the binned data: 1 byte per feature per row), because gathering a sparse node's
 * rows from one cache line per row beats one per feature (measured ≈ 20% faster on dense nodes, ≈ 4× on sparse
 * ones), and an interleaved copy of the gradients made per tree. Large nodes use two accumulators (see the kernels).
 * Building allocates nothing.
 *
 * With `nThreads > 1`, big nodes are built by several threads at once, each owning a contiguous range of the
 * selected features: only it writes those slots, with exactly the additions, in exactly the order, of the
 * one-thread kernel (the two-accumulator choice depends on the node, not on the range), so the histogram is
 * bit-identical for any thread count. Each thread still reads every row of the node (its row index, gradient pair
 * and row of bins), so the split pays where the per-feature updates dominate: many features, or rows sorted so
 * that neighbours share bins. (Splitting rows instead needs a fixed reduction order to stay bit-identical; one
 * tried, by row parity so that it matched the two-accumulator kernels, was slower: both threads still touch the
 * same cache lines, and a single accumulator per thread brings back the dependency chains of sorted rows.)
 * The bins, gradients, row lists and histogram buffers then live in `SharedArrayBuffer`s, so nothing is copied per
 * node. Call {@link close} when done (it stops the threads).
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
  readonly #ctx: TaskContext
  readonly #gradHess: Float32Array
  readonly #task: HistogramTask = emptyTask()
  /** Worker threads (`nThreads − 1`), with the shared copies they read; undefined with one thread. */
  readonly #workers: HistogramWorkers | undefined
  readonly #features: Int32Array
  readonly #routing: Uint8Array
  readonly #posted: Uint8Array
  readonly #chunkLeft: Int32Array
  readonly #chunkResult: Int32Array
  readonly #chunkLeftTo: Int32Array
  readonly #chunkRightTo: Int32Array
  readonly #minWork: number
  readonly #minPartitionRows: number
  readonly #takeBack: boolean
  #sharedGrad = new Float32Array(0)
  #sharedHess = new Float32Array(0)
  #loaded: { readonly grad: Float32Array; readonly hess: Float32Array } | undefined

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
    this.#takeBack = options.parallelTakeBack ?? true
    this.pool = new HistogramPool(binned.mapper.totalBins * this.stride, { shared: parallel })
    const { nRows, mapper } = binned
    const nFeatures = mapper.nFeatures
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
      scratch: new Float64Array(nGradients === 1 ? this.pool.length : 0),
    }
    this.#gradHess = sharedIf(parallel, Float32Array, nGradients === 1 ? 2 * nRows : 0)
    this.#features = sharedIf(parallel, Int32Array, nFeatures)
    this.#routing = sharedIf(parallel, Uint8Array, parallel ? 256 : 0)
    this.#posted = new Uint8Array(nThreads)
    this.#chunkLeft = new Int32Array(nThreads)
    this.#chunkResult = new Int32Array(nThreads)
    this.#chunkLeftTo = new Int32Array(nThreads)
    this.#chunkRightTo = new Int32Array(nThreads)
    this.#workers = parallel
      ? new HistogramWorkers(
          nThreads - 1,
          { nFeatures, nRows, nGradients, slotBase, offsets, histLength: this.pool.length },
          { rowBins, colBins },
        )
      : undefined
  }

  /** The worker threads of this builder (undefined with one thread); for tests and benches. */
  get workers(): HistogramWorkers | undefined {
    return this.#workers
  }

  /**
   * Sets the gradients of the next builds (call once per tree, after the gradients change): `grad` holds
   * `nGradients` columns of `nRows` values (gradient `c` of row `r` at `grad[c * nRows + r]`), `hess` one value per
   * row. Single-gradient builds read an interleaved copy made here; with threads, multi-gradient builds read the
   * arrays themselves when they are whole `SharedArrayBuffer` views, else a shared copy made here.
   */
  loadGradients(gradients: { readonly grad: Float32Array; readonly hess: Float32Array }): void {
    if (this.nGradients === 1) {
      interleaveGradients(gradients.grad, gradients.hess, this.binned.nRows, this.#gradHess)
      this.#loaded = gradients
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
    this.#loaded = { grad, hess }
  }

  /**
   * Adds the node's rows to `hist` for the features `features[0, nSelected)`, with the gradients of the last
   * {@link loadGradients}. Big nodes are split over the threads when `hist` comes from {@link pool} and the node's
   * row list is a whole `SharedArrayBuffer` view (or `allRows`).
   */
  build(
    node: NodeRows,
    selection: { readonly features: Int32Array; readonly nSelected: number },
    hist: Float64Array,
  ): void {
    const loaded = this.#loaded
    if (loaded === undefined) throw new Error('HistogramBuilder.build before loadGradients')
    const { features, nSelected } = selection
    const t = this.#task
    const allRows = node.allRows === true && this.nGradients === 1
    t.op = this.nGradients > 1 ? OP.multi : allRows ? OP.allRows : OP.rows
    t.hist = hist
    t.rows = node.rows
    t.start = node.start
    t.end = node.end
    t.withCounts = this.withCounts
    // Two accumulators over all rows when every feature is built and counts are off (see the kernel).
    t.dual = nSelected === this.#ctx.nFeatures && !this.withCounts
    t.gradHess = this.#gradHess
    t.grad = loaded.grad
    t.hess = loaded.hess
    const workers = this.#workers
    const nRows = allRows ? this.binned.nRows : node.end - node.start
    if (
      workers === undefined ||
      nSelected < 2 ||
      nRows * nSelected < this.#minWork ||
      !isWholeShared(hist) ||
      (!allRows && !isWholeShared(node.rows))
    ) {
      t.features = features
      t.fFrom = 0
      t.fTo = nSelected
      runHistogramTask(this.#ctx, t)
      return
    }
    this.#features.set(features.subarray(0, nSelected))
    t.features = this.#features
    // The selected features cut into contiguous ranges, one per thread.
    const groups = Math.min(this.nThreads, nSelected)
    this.#runChunks(
      workers,
      groups,
      (g) => {
        t.fFrom = Math.floor((g * nSelected) / groups)
        t.fTo = Math.floor(((g + 1) * nSelected) / groups)
      },
      this.#chunkResult,
    )
  }

  /**
   * Stable partition of a node's rows `rows[start, end)` by the bins of `feature` through the routing table
   * `goesLeft[goesLeftOffset, + 256)` (see kernels `partitionRows`); returns the first index of the right part.
   * `scratch` holds at least `binned.nRows` entries. With threads, a big node's rows are cut into one chunk per
   * thread, each chunk is partitioned by its own thread (or by this one, when its worker has not started it by the
   * time this one is done), and the parts are concatenated in chunk order, which is exactly the one-thread result
   * (`rows` and `scratch` must then be whole `SharedArrayBuffer` views).
   */
  partition(
    node: { readonly rows: Uint32Array; readonly start: number; readonly end: number; readonly scratch: Uint32Array },
    feature: number,
    routing: { readonly goesLeft: Uint8Array; readonly offset: number },
  ): number {
    const { rows, start, end, scratch } = node
    const { nRows, bins } = this.binned
    const workers = this.#workers
    if (
      workers === undefined ||
      end - start < this.#minPartitionRows ||
      !isWholeShared(rows) ||
      !isWholeShared(scratch)
    ) {
      return partitionRows(rows, start, end, bins, feature * nRows, routing.goesLeft, routing.offset, scratch)
    }
    this.#routing.set(routing.goesLeft.subarray(routing.offset, routing.offset + 256))
    const t = this.#task
    t.rows = rows
    t.rowScratch = scratch
    t.feature = feature
    t.routing = this.#routing
    const chunks = this.nThreads
    const n = end - start
    const at = (c: number) => start + Math.floor((c * n) / chunks)
    const left = this.#chunkLeft
    // Each chunk's left and right rows into its range of the scratch, then each chunk's parts to their places.
    t.op = OP.partition
    this.#runChunks(
      workers,
      chunks,
      (c) => {
        t.start = at(c)
        t.end = at(c + 1)
      },
      left,
    )
    let mid = start
    for (let c = 0; c < chunks; c++) mid += left[c]!
    const leftTo = this.#chunkLeftTo
    const rightTo = this.#chunkRightTo
    let l = start
    let r = mid
    for (let c = 0; c < chunks; c++) {
      leftTo[c] = l
      rightTo[c] = r
      l += left[c]!
      r += at(c + 1) - at(c) - left[c]!
    }
    t.op = OP.place
    this.#runChunks(
      workers,
      chunks,
      (c) => {
        t.start = at(c)
        t.end = at(c + 1)
        t.nLeft = left[c]!
        t.leftTo = leftTo[c]!
        t.rightTo = rightTo[c]!
      },
      this.#chunkResult,
    )
    return mid
  }

  /**
   * Runs task `t` for chunks `0 … chunks − 1` (`set(c)` fills in chunk `c`): chunk 0 here, the others on the workers
   * (or here, when a worker is not ready or has not started its chunk by the time this thread is done). Writes each
   * chunk's result into `results` (the left-row counts of partitions; builds and placements return 0).
   */
  #runChunks(workers: HistogramWorkers, chunks: number, set: (c: number) => void, results: Int32Array): void {
    const t = this.#task
    const posted = this.#posted
    for (let c = 1; c < chunks; c++) {
      set(c)
      posted[c] = workers.post(c - 1, t) ? 1 : 0
    }
    for (let c = 0; c < chunks; c++) {
      if (c > 0 && posted[c] === 1) {
        if (!this.#takeBack || !workers.takeBack(c - 1)) continue
        posted[c] = 0
      }
      set(c)
      results[c] = runHistogramTask(this.#ctx, t)
    }
    for (let c = 1; c < chunks; c++) if (posted[c] === 1) results[c] = workers.wait(c - 1)
  }

  /** Turns `parent` into its other child's histogram by subtracting `child` (in place). */
  subtract(parent: Float64Array, child: Float64Array): void {
    subtractHistogram(parent, child, 0, this.pool.length)
  }

  /** Stops the worker threads (idempotent; a no-op with one thread). */
  close(): void {
    this.#workers?.close()
  }
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
