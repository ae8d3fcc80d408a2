/**
 * Streaming, mergeable confusion matrix over k classes, as scikit-learn's
 * `confusion_matrix(y, pred, sample_weight=w, labels=classes)`: row = true class, column = predicted class.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Constraints } from '../core/params.js'
import { int, validateParams } from '../core/params.js'
import {
  checkMergeable,
  checkUpdateShapes,
  type MetricJSON,
  MetricJSONReader,
  type NumericArray,
  type StreamingMetric,
} from './metric.js'

/** Options of {@link ConfusionMatrix}. */
export interface ConfusionMatrixOptions {
  /** Number of classes k ≥ 2 (default 2). */
  readonly nClasses?: number
}

/** Constraints of {@link ConfusionMatrixOptions}. */
export const CONFUSION_MATRIX_CONSTRAINTS: Constraints<ConfusionMatrixOptions> = { nClasses: int({ min: 2 }) }

/**
 * Streaming confusion matrix. Labels and predictions are class indices 0..k-1 (`INVALID_DATA` otherwise); cell
 * (t, p) holds the total weight of rows of true class t predicted as p. Counts of unit weights are exact integers.
 *
 * @example
 * const cm = new ConfusionMatrix({ nClasses: 2 })
 * cm.update(new Float64Array([0, 1, 1]), new Float64Array([0, 0, 1]))
 * cm.count(1, 0) // 1
 */
export class ConfusionMatrix implements StreamingMetric<Float64Array> {
  readonly kind = 'confusion-matrix'
  readonly params: Readonly<Required<ConfusionMatrixOptions>>
  #counts: Float64Array
  #rows = 0

  /** Validates the options (`INVALID_PARAM`). */
  constructor(options: ConfusionMatrixOptions = {}) {
    validateParams('ConfusionMatrix', CONFUSION_MATRIX_CONSTRAINTS, options)
    this.params = { nClasses: options.nClasses ?? 2 }
    this.#counts = new Float64Array(this.params.nClasses * this.params.nClasses)
  }

  /** Rows folded in. */
  get rows(): number {
    return this.#rows
  }

  /** Folds in true and predicted class indices, one each per row. */
  update(yTrue: NumericArray, yPred: NumericArray, sampleWeight?: Float64Array): void {
    checkUpdateShapes('ConfusionMatrix', { yTrue, yPred, sampleWeight })
    const k = this.params.nClasses
    const counts = this.#counts
    const n = yTrue.length
    for (let i = 0; i < n; i++) {
      const t = yTrue[i]!
      const p = yPred[i]!
      if (!(Number.isInteger(t) && t >= 0 && t < k && Number.isInteger(p) && p >= 0 && p < k)) {
        throw new ScalemlError(
          'INVALID_DATA',
          `ConfusionMatrix.update: row ${i} has label ${t} and prediction ${p}; expected class indices in [0, ${k - 1}].`,
        )
      }
      counts[t * k + p]! += sampleWeight === undefined ? 1 : sampleWeight[i]!
    }
    this.#rows += n
  }

  /** Folds `other` (same number of classes, else `INVALID_ARGUMENT`) into this accumulator. */
  merge(other: ConfusionMatrix): this {
    checkMergeable('ConfusionMatrix', this.params, other.params)
    for (let i = 0; i < this.#counts.length; i++) this.#counts[i]! += other.#counts[i]!
    this.#rows += other.#rows
    return this
  }

  /** A copy of the `k × k` row-major counts (row = true class, column = predicted class). */
  value(): Float64Array {
    return this.#counts.slice()
  }

  /** Weight of rows of true class `trueClass` predicted as `predicted`. */
  count(trueClass: number, predicted: number): number {
    const k = this.params.nClasses
    if (!(Number.isInteger(trueClass) && Number.isInteger(predicted) && trueClass >= 0 && predicted >= 0)) return 0
    return trueClass < k && predicted < k ? this.#counts[trueClass * k + predicted]! : 0
  }

  /** Forgets every row. */
  reset(): void {
    this.#counts.fill(0)
    this.#rows = 0
  }

  /** The counts as a plain array. */
  toJSON(): MetricJSON {
    return {
      kind: this.kind,
      version: 1,
      params: { ...this.params },
      state: { rows: this.#rows, counts: Array.from(this.#counts) },
    }
  }

  /** Restores a {@link ConfusionMatrix.toJSON} snapshot; `INVALID_INPUT` naming the bad field otherwise. */
  static fromJSON(json: unknown): ConfusionMatrix {
    const r = new MetricJSONReader('ConfusionMatrix', 'confusion-matrix', json)
    const metric = new ConfusionMatrix({ nClasses: r.param('nClasses') as number })
    metric.#rows = r.number('state', 'rows')
    metric.#counts = r.numbers('counts', metric.params.nClasses * metric.params.nClasses)
    return metric
  }
}
