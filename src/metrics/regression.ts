/**
 * Streaming, mergeable regression metrics matching scikit-learn: `Rmse` (`mean_squared_error(squared=False)`),
 * `Mae` (`mean_absolute_error`) and `R2` (`r2_score`), all with optional sample weights.
 *
 * R² needs the variance of y. A naive Σy² − (Σy)²/n loses every digit when the mean is large next to the spread
 * (y = 1e9 + noise), so `R2` runs weighted Welford updates on y shifted by the first value seen (shifting makes the
 * deviations small and exact) and merges shards with Chan et al.'s pairwise formula.
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

function badValue(owner: string, row: number, y: number, p: number): ScalemlError {
  const what = Number.isFinite(y) ? `prediction ${p}` : `target ${y}`
  return new ScalemlError('INVALID_DATA', `${owner}.update: row ${row} has ${what}; expected a finite number.`)
}

/** Base of the metrics that average a function of the residual: keeps Σ w·f(y − ŷ) and Σ w. */
export abstract class MeanResidualMetric implements StreamingMetric<number> {
  abstract readonly kind: string
  /** Class name used in error messages. */
  protected abstract readonly owner: string
  protected sum = new CompensatedSum()
  protected weight = new CompensatedSum()
  protected rowCount = 0

  /** Rows folded in. */
  get rows(): number {
    return this.rowCount
  }

  /** The per-row term of the mean, from the residual y − ŷ. */
  protected abstract term(residual: number): number

  /** Folds in targets and predictions (`INVALID_DATA` on a non-finite value). */
  update(yTrue: NumericArray, yPred: NumericArray, sampleWeight?: Float64Array): void {
    checkUpdateShapes(this.owner, { yTrue, yPred, sampleWeight })
    const n = yTrue.length
    const sum = this.sum
    const weight = this.weight
    for (let i = 0; i < n; i++) {
      const y = yTrue[i]!
      const p = yPred[i]!
      const r = y - p
      // A finite difference implies both operands are finite.
      if (!Number.isFinite(r)) throw badValue(this.owner, i, y, p)
      const w = sampleWeight === undefined ? 1 : sampleWeight[i]!
      sum.add(w * this.term(r))
      weight.add(w)
    }
    this.rowCount += n
  }

  /** Folds `other` into this accumulator. */
  merge(other: this): this {
    this.sum.addSum(other.sum)
    this.weight.addSum(other.weight)
    this.rowCount += other.rowCount
    return this
  }

  /** Weighted mean of the per-row term; NaN before any row of weight > 0. */
  protected mean(): number {
    const w = this.weight.value
    return w > 0 ? this.sum.value / w : Number.NaN
  }

  abstract value(): number

  /** Forgets every row. */
  reset(): void {
    this.sum.reset()
    this.weight.reset()
    this.rowCount = 0
  }

  /** Sums with their compensation terms. */
  toJSON(): MetricJSON {
    return {
      kind: this.kind,
      version: 1,
      params: {},
      state: { rows: this.rowCount, sum: this.sum.toJSON(), weight: this.weight.toJSON() },
    }
  }

  /** Loads the state written by `toJSON`. */
  protected restore(r: MetricJSONReader): this {
    this.rowCount = r.number('state', 'rows')
    this.sum = CompensatedSum.from(r.numbers('sum', 2))
    this.weight = CompensatedSum.from(r.numbers('weight', 2))
    return this
  }
}

/**
 * Streaming root mean squared error.
 *
 * @example
 * const rmse = new Rmse()
 * rmse.update(new Float64Array([1, 2]), new Float64Array([1, 4]))
 * rmse.value() // √2
 */
export class Rmse extends MeanResidualMetric {
  readonly kind = 'rmse'
  protected readonly owner = 'Rmse'

  protected term(residual: number): number {
    return residual * residual
  }

  /** √(weighted mean squared error); NaN before any row of weight > 0. */
  value(): number {
    return Math.sqrt(this.mean())
  }

  /** The weighted mean squared error. */
  mse(): number {
    return this.mean()
  }

  /** Restores a {@link Rmse.toJSON} snapshot; `INVALID_INPUT` naming the bad field otherwise. */
  static fromJSON(json: unknown): Rmse {
    return new Rmse().restore(new MetricJSONReader('Rmse', 'rmse', json))
  }
}

/**
 * Streaming mean absolute error.
 *
 * @example
 * const mae = new Mae()
 * mae.update(new Float64Array([1, 2]), new Float64Array([1, 4]))
 * mae.value() // 1
 */
export class Mae extends MeanResidualMetric {
  readonly kind = 'mae'
  protected readonly owner = 'Mae'

  protected term(residual: number): number {
    return Math.abs(residual)
  }

  /** Weighted mean absolute error; NaN before any row of weight > 0. */
  value(): number {
    return this.mean()
  }

  /** Restores a {@link Mae.toJSON} snapshot; `INVALID_INPUT` naming the bad field otherwise. */
  static fromJSON(json: unknown): Mae {
    return new Mae().restore(new MetricJSONReader('Mae', 'mae', json))
  }
}

/**
 * Streaming coefficient of determination R² = 1 − SSE / SST (weighted), with scikit-learn's conventions: NaN with
 * fewer than 2 rows; 1 when SSE = 0; 0 when SSE > 0 but y is constant (SST = 0). Also NaN when every weight is 0.
 *
 * @example
 * const r2 = new R2()
 * r2.update(new Float64Array([1, 2, 3]), new Float64Array([1, 2, 4]))
 * r2.value() // 0.5
 */
export class R2 implements StreamingMetric<number> {
  readonly kind = 'r2'
  #rows = 0
  #sse = new CompensatedSum()
  /** Σ w of rows of weight > 0. */
  #weight = 0
  /** Shift: the first target of weight > 0 (Welford runs on y − shift, which is exact near the data). */
  #shift = 0
  /** Weighted mean of y − shift. */
  #mean = 0
  /** Σ w (y − mean)². */
  #m2 = 0

  /** Rows folded in. */
  get rows(): number {
    return this.#rows
  }

  /** Folds in targets and predictions (`INVALID_DATA` on a non-finite value). */
  update(yTrue: NumericArray, yPred: NumericArray, sampleWeight?: Float64Array): void {
    checkUpdateShapes('R2', { yTrue, yPred, sampleWeight })
    const n = yTrue.length
    const sse = this.#sse
    let weight = this.#weight
    let shift = this.#shift
    let mean = this.#mean
    let m2 = this.#m2
    for (let i = 0; i < n; i++) {
      const y = yTrue[i]!
      const p = yPred[i]!
      const r = y - p
      if (!Number.isFinite(r)) throw badValue('R2', i, y, p)
      const w = sampleWeight === undefined ? 1 : sampleWeight[i]!
      sse.add(w * r * r)
      if (w === 0) continue
      if (weight === 0) shift = y
      // West's weighted Welford update.
      weight += w
      const x = y - shift
      const delta = x - mean
      mean += delta * (w / weight)
      m2 += w * delta * (x - mean)
    }
    this.#weight = weight
    this.#shift = shift
    this.#mean = mean
    this.#m2 = m2
    this.#rows += n
  }

  /** Folds `other` into this accumulator (Chan et al.'s pairwise combination of the moments). */
  merge(other: R2): this {
    this.#sse.addSum(other.#sse)
    this.#rows += other.#rows
    if (other.#weight === 0) return this
    if (this.#weight === 0) {
      this.#weight = other.#weight
      this.#shift = other.#shift
      this.#mean = other.#mean
      this.#m2 = other.#m2
      return this
    }
    const wa = this.#weight
    const wb = other.#weight
    const weight = wa + wb
    // Other's mean re-expressed against this shift; the shift difference is exact for nearby shifts.
    const delta = other.#shift - this.#shift + (other.#mean - this.#mean)
    this.#mean += delta * (wb / weight)
    this.#m2 += other.#m2 + delta * delta * ((wa * wb) / weight)
    this.#weight = weight
    return this
  }

  /** R² over every row so far (see the class description for the edge cases). */
  value(): number {
    if (this.#rows < 2 || this.#weight === 0) return Number.NaN
    const sse = this.#sse.value
    if (sse === 0) return 1
    if (this.#m2 === 0) return 0
    return 1 - sse / this.#m2
  }

  /** Weighted mean of the targets. */
  targetMean(): number {
    return this.#weight === 0 ? Number.NaN : this.#shift + this.#mean
  }

  /** Weighted sum of squared deviations of the targets from their mean (SST). */
  totalSumOfSquares(): number {
    return this.#m2
  }

  /** Forgets every row. */
  reset(): void {
    this.#rows = 0
    this.#sse.reset()
    this.#weight = 0
    this.#shift = 0
    this.#mean = 0
    this.#m2 = 0
  }

  /** The moments, the shift and the compensated SSE, so a restored accumulator continues bit-identically. */
  toJSON(): MetricJSON {
    return {
      kind: this.kind,
      version: 1,
      params: {},
      state: {
        rows: this.#rows,
        sse: this.#sse.toJSON(),
        weight: this.#weight,
        shift: this.#shift,
        mean: this.#mean,
        m2: this.#m2,
      },
    }
  }

  /** Restores a {@link R2.toJSON} snapshot; `INVALID_INPUT` naming the bad field otherwise. */
  static fromJSON(json: unknown): R2 {
    const r = new MetricJSONReader('R2', 'r2', json)
    const metric = new R2()
    metric.#rows = r.number('state', 'rows')
    metric.#sse = CompensatedSum.from(r.numbers('sse', 2))
    metric.#weight = r.number('state', 'weight')
    metric.#shift = r.number('state', 'shift')
    metric.#mean = r.number('state', 'mean')
    metric.#m2 = r.number('state', 'm2')
    return metric
  }
}
