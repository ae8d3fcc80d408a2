/**
 * The Transformer contract: fitted in one streaming pass (`partialFit` per batch, `merge` across shards), then
 * `transform` writes features into a caller-owned row-major `Float32Array`. Serving goes through the same
 * `transform` (a record becomes a one-row batch), so training and serving cannot disagree.
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
}
