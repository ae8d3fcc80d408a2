/**
 * The Transformer contract: fitted in one streaming pass (`partialFit` per batch, `merge` across shards), then
 * `transform` writes features into a caller-owned row-major `Float32Array`. Serving goes through the same
 * `transform` (a record becomes a one-row batch), so training and serving cannot disagree. A transformer may also
 * write its features as sparse entries (`transformSparse`, a fixed count per row); their dense expansion must be
 * bit-identical to `transform`.
 * @module
 */
import type { Batch } from '../data/batch.js'

/** Serialized transformer: `kind` picks the class in the preprocess catalog; typed arrays are allowed anywhere. */
export interface TransformerJSON {
  readonly kind: string
  readonly [key: string]: unknown
}

/** A streaming preprocessing step over named input columns. */
export interface Transformer {
  /** The kind name used in JSON (`standard-scaler`, `one-hot`, `datetime-parts`). */
  readonly kind: string
  /** The input columns it reads. */
  readonly inputs: readonly string[]
  /** True once `partialFit` has seen at least one batch (or after `fromJSON`). */
  readonly isFitted: boolean
  /** Updates statistics from one batch. */
  partialFit(batch: Batch): void
  /** Combines statistics fitted on another shard so that the result equals fitting on both (exactly). */
  merge(other: Transformer): void
  /** Names of the output features, in order; valid once fitted. */
  outputNames(): string[]
  /** How many features `transform` writes per row (`outputNames().length`, without building the names); valid once fitted. */
  readonly nOutputs: number
  /**
   * Writes this step's features for every row of `batch` into `out` at `out[row * stride + offset + j]`.
   * Allocates nothing proportional to the batch.
   */
  transform(batch: Batch, out: Float32Array, stride: number, offset: number): void
  /** Learned state + hyperparameters; typed arrays may appear anywhere. */
  toJSON(): TransformerJSON
  /**
   * Optional capability (with {@link Transformer.transformSparse}): how many entries `transformSparse` writes per
   * row, whatever the row holds. Valid once the transformer is constructed.
   */
  readonly nnzPerRow?: number
  /**
   * Optional capability: writes this step's features for every row of `batch` as `nnzPerRow` sparse entries, entry
   * `k` of row `i` at `e = i * nnzStride + nnzOffset + k`: `indices[e] = colOffset + c` and `values[e] = v` where
   * `transform` would write `v` at column `c` of its slice. Indices ascend with `k`, every column the dense
   * transform makes nonzero is listed, and unlisted columns are 0 in `transform` (a listed value may be 0).
   * Touches nothing outside its entries; allocates nothing proportional to the batch.
   */
  transformSparse?(
    batch: Batch,
    indices: Int32Array,
    values: Float32Array,
    nnzStride: number,
    nnzOffset: number,
    colOffset: number,
  ): void
}

/** A transformer with the sparse capability (both optional members present). */
export interface SparseTransformer extends Transformer {
  readonly nnzPerRow: number
  transformSparse(
    batch: Batch,
    indices: Int32Array,
    values: Float32Array,
    nnzStride: number,
    nnzOffset: number,
    colOffset: number,
  ): void
}

/**
 * True when `t` can write sparse entries (`transformSparse` and `nnzPerRow`).
 *
 * @example
 * if (isSparseTransformer(step)) step.transformSparse(batch, indices, values, nnz, offset, colOffset)
 */
export function isSparseTransformer(t: Transformer): t is SparseTransformer {
  return typeof t.transformSparse === 'function' && typeof t.nnzPerRow === 'number'
}
