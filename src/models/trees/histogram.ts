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
  buildHistogramOrdered,
  gatherGradients,
  subtractHistogram,
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
 * Fills node histograms from binned data. Owns the ordered-gradient scratch (as long as the data) so building
 * allocates nothing.
 *
 * @example
 * const builder = new HistogramBuilder(binned, 1)
 * const hist = builder.pool.acquire()
 * builder.build({ rows, start: 0, end: rows.length }, grad, hess, features, features.length, hist)
 */
export class HistogramBuilder {
  readonly binned: BinnedData
  readonly nGradients: number
  readonly stride: number
  readonly pool: HistogramPool
  readonly #orderedGrad: Float32Array
  readonly #orderedHess: Float32Array

  constructor(binned: BinnedData, nGradients: number) {
    if (!Number.isInteger(nGradients) || nGradients < 1) {
      throw new ScalemlError('INVALID_ARGUMENT', `nGradients must be a positive integer, got ${nGradients}.`)
    }
    this.binned = binned
    this.nGradients = nGradients
    this.stride = histogramStride(nGradients)
    this.pool = new HistogramPool(binned.mapper.totalBins * this.stride)
    this.#orderedGrad = new Float32Array(nGradients === 1 ? binned.nRows : 0)
    this.#orderedHess = new Float32Array(nGradients === 1 ? binned.nRows : 0)
  }

  /**
   * Adds the node's rows to `hist` for the features `features[0, nSelected)`. `grad` holds `nGradients` columns of
   * `nRows` values (gradient `c` of row `r` at `grad[c * nRows + r]`), `hess` one value per row.
   */
  build(
    node: NodeRows,
    gradients: { readonly grad: Float32Array; readonly hess: Float32Array },
    selection: { readonly features: Int32Array; readonly nSelected: number },
    hist: Float64Array,
  ): void {
    const { bins, nRows, mapper } = this.binned
    const offsets = mapper.histogramOffsets
    const { rows, start, end } = node
    const { grad, hess } = gradients
    const { features, nSelected } = selection
    if (this.nGradients > 1) {
      buildHistogramMulti(bins, nRows, features, nSelected, offsets, rows, start, end, grad, this.nGradients, hess, hist)
    } else if (node.allRows === true) {
      buildHistogramAllRows(bins, nRows, features, nSelected, offsets, grad, hess, hist)
    } else {
      gatherGradients(rows, start, end, grad, hess, this.#orderedGrad, this.#orderedHess)
      buildHistogramOrdered(
        bins,
        nRows,
        features,
        nSelected,
        offsets,
        rows,
        start,
        end,
        this.#orderedGrad,
        this.#orderedHess,
        hist,
      )
    }
  }

  /** Turns `parent` into its other child's histogram by subtracting `child` (in place). */
  subtract(parent: Float64Array, child: Float64Array): void {
    subtractHistogram(parent, child, 0, this.pool.length)
  }
}
