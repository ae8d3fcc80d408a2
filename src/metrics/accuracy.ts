/**
 * Streaming, mergeable accuracy: the (weighted) share of rows whose predicted label equals the true label, as
 * scikit-learn's `accuracy_score(y, pred, sample_weight=w)`.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import { CompensatedSum } from './compensated-sum.js'
import {
  checkUpdateShapes,
  type MetricJSON,
  MetricJSONReader,
  type NumericArray,
  type StreamingMetric,
} from './metric.js'

/**
 * Streaming accuracy over any numeric labels (compared with `===`; NaN labels are rejected with `INVALID_DATA`).
 *
 * @example
 * const accuracy = new Accuracy()
 * accuracy.update(new Float64Array([1, 0, 2]), new Float64Array([1, 1, 2]))
 * accuracy.value() // 2 / 3
 */
export class Accuracy implements StreamingMetric<number> {
  readonly kind = 'accuracy'
  #correct = new CompensatedSum()
  #weight = new CompensatedSum()
  #rows = 0

  /** Rows folded in. */
  get rows(): number {
    return this.#rows
  }

  /** Folds in true and predicted labels, one each per row. */
  update(yTrue: NumericArray, yPred: NumericArray, sampleWeight?: Float64Array): void {
    checkUpdateShapes('Accuracy', { yTrue, yPred, sampleWeight })
    const n = yTrue.length
    const correct = this.#correct
    const weight = this.#weight
    for (let i = 0; i < n; i++) {
      const y = yTrue[i]!
      const p = yPred[i]!
      if (Number.isNaN(y) || Number.isNaN(p)) {
        throw new ScalemlError(
          'INVALID_DATA',
          `Accuracy.update: row ${i} has a NaN ${Number.isNaN(y) ? 'label' : 'prediction'}.`,
        )
      }
      const w = sampleWeight === undefined ? 1 : sampleWeight[i]!
      if (y === p) correct.add(w)
      weight.add(w)
    }
    this.#rows += n
  }

  /** Folds `other` into this accumulator. */
  merge(other: Accuracy): this {
    this.#correct.addSum(other.#correct)
    this.#weight.addSum(other.#weight)
    this.#rows += other.#rows
    return this
  }

  /** Weighted share of correct rows; NaN before any row of weight > 0. */
  value(): number {
    const w = this.#weight.value
    return w > 0 ? this.#correct.value / w : Number.NaN
  }

  /** Forgets every row. */
  reset(): void {
    this.#correct.reset()
    this.#weight.reset()
    this.#rows = 0
  }

  /** Sums with their compensation terms. */
  toJSON(): MetricJSON {
    return {
      kind: this.kind,
      version: 1,
      params: {},
      state: { rows: this.#rows, correct: this.#correct.toJSON(), weight: this.#weight.toJSON() },
    }
  }

  /** Restores a {@link Accuracy.toJSON} snapshot; `INVALID_INPUT` naming the bad field otherwise. */
  static fromJSON(json: unknown): Accuracy {
    const r = new MetricJSONReader('Accuracy', 'accuracy', json)
    const metric = new Accuracy()
    metric.#rows = r.number('state', 'rows')
    metric.#correct = CompensatedSum.from(r.numbers('correct', 2))
    metric.#weight = CompensatedSum.from(r.numbers('weight', 2))
    return metric
  }
}
