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
  buildHistogramAllRows,
  buildHistogramMulti,
  buildHistogramRows,
  interleaveGradients,
  subtractHistogram,
  transposeBins,
} from './kernels/histogram.js'

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
  readonly #free: Float64Array[] = []
  #allocated = 0

  constructor(length: number) {
    this.length = length
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
    return new Float64Array(this.length)
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

/**
 * Fills node histograms from binned data. Single-gradient histograms read a row-major copy of the bins that the
 * builder makes once (as large as the binned data: 1 byte per feature per row), because gathering a sparse node's
 * rows from one cache line per row beats one per feature (measured ≈ 20% faster on dense nodes, ≈ 4× on sparse
 * ones), and an interleaved copy of the gradients made per tree. Large nodes use two accumulators (see the kernels).
 * Building allocates nothing.
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
  readonly pool: HistogramPool
  readonly #rowBins: Uint8Array
  readonly #slotBase: Int32Array
  readonly #scratch: Float64Array
  readonly #gradHess: Float32Array
  #loaded: { readonly grad: Float32Array; readonly hess: Float32Array } | undefined

  constructor(binned: BinnedData, options: { readonly nGradients: number; readonly withCounts: boolean }) {
    const { nGradients, withCounts } = options
    if (!Number.isInteger(nGradients) || nGradients < 1) {
      throw new ScalemlError('INVALID_ARGUMENT', `nGradients must be a positive integer, got ${nGradients}.`)
    }
    this.binned = binned
    this.nGradients = nGradients
    this.stride = histogramStride(nGradients)
    this.withCounts = withCounts || nGradients > 1
    this.pool = new HistogramPool(binned.mapper.totalBins * this.stride)
    const nFeatures = binned.mapper.nFeatures
    this.#rowBins = new Uint8Array(nGradients === 1 ? binned.nRows * nFeatures : 0)
    if (nGradients === 1) transposeBins(binned.bins, binned.nRows, nFeatures, this.#rowBins)
    this.#slotBase = Int32Array.from(binned.mapper.histogramOffsets.subarray(0, nFeatures), (o) => o * this.stride)
    this.#scratch = new Float64Array(nGradients === 1 ? this.pool.length : 0)
    this.#gradHess = new Float32Array(nGradients === 1 ? 2 * binned.nRows : 0)
  }

  /**
   * Sets the gradients of the next builds (call once per tree, after the gradients change): `grad` holds
   * `nGradients` columns of `nRows` values (gradient `c` of row `r` at `grad[c * nRows + r]`), `hess` one value per
   * row. Single-gradient builds read an interleaved copy made here.
   */
  loadGradients(gradients: { readonly grad: Float32Array; readonly hess: Float32Array }): void {
    if (this.nGradients === 1) interleaveGradients(gradients.grad, gradients.hess, this.binned.nRows, this.#gradHess)
    this.#loaded = gradients
  }

  /**
   * Adds the node's rows to `hist` for the features `features[0, nSelected)`, with the gradients of the last
   * {@link loadGradients}.
   */
  build(
    node: NodeRows,
    selection: { readonly features: Int32Array; readonly nSelected: number },
    hist: Float64Array,
  ): void {
    if (this.#loaded === undefined) throw new Error('HistogramBuilder.build before loadGradients')
    const { bins, nRows, mapper } = this.binned
    const { rows, start, end } = node
    const { grad, hess } = this.#loaded
    const { features, nSelected } = selection
    const nFeatures = mapper.nFeatures
    if (this.nGradients > 1) {
      const offsets = mapper.histogramOffsets
      buildHistogramMulti(
        bins,
        nRows,
        features,
        nSelected,
        offsets,
        rows,
        start,
        end,
        grad,
        this.nGradients,
        hess,
        hist,
      )
    } else if (node.allRows === true) {
      const slots = this.#slotBase
      const scratch = this.#scratch
      const counts = this.withCounts
      buildHistogramAllRows(
        this.#rowBins,
        nFeatures,
        slots,
        features,
        nSelected,
        nRows,
        grad,
        hess,
        hist,
        scratch,
        counts,
      )
    } else {
      const rowBins = this.#rowBins
      const slots = this.#slotBase
      const counts = this.withCounts
      const gh = this.#gradHess
      const scratch = this.#scratch
      buildHistogramRows(rowBins, nFeatures, slots, features, nSelected, rows, start, end, gh, hist, scratch, counts)
    }
  }

  /** Turns `parent` into its other child's histogram by subtracting `child` (in place). */
  subtract(parent: Float64Array, child: Float64Array): void {
    subtractHistogram(parent, child, 0, this.pool.length)
  }
}
