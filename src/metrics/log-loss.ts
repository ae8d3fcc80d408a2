/**
 * Streaming, mergeable logarithmic loss (cross-entropy) for binary and multiclass probabilities, computed the way
 * scikit-learn 1.2's `log_loss(y, p, eps=…, sample_weight=w, labels=…)` does: clip every probability to
 * [eps, 1 − eps], renormalize each row by its clipped sum, average −log(p_true) weighted by the sample weights.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Constraints } from '../core/params.js'
import { int, real, validateParams } from '../core/params.js'
import { CompensatedSum } from './compensated-sum.js'
import {
  checkMergeable,
  checkUpdateShapes,
  type MetricJSON,
  MetricJSONReader,
  type NumericArray,
  type StreamingMetric,
} from './metric.js'

/** Options of {@link LogLoss}. */
export interface LogLossOptions {
  /** Number of classes k ≥ 2 (default 2). */
  readonly nClasses?: number
  /**
   * Probabilities are clipped to [eps, 1 − eps] (default 1e-15, scikit-learn's value before 1.2; its 1.2 default
   * `'auto'` is the float64 machine epsilon, 2.220446049250313e-16 — pass that to match it).
   */
  readonly eps?: number
}

/** Constraints of {@link LogLossOptions}. */
export const LOG_LOSS_CONSTRAINTS: Constraints<LogLossOptions> = {
  nClasses: int({ min: 2 }),
  eps: real({ min: 0, max: 0.5, closed: 'neither' }),
}

/**
 * Streaming log-loss. `yTrue` holds class indices 0..k-1. `proba` holds either one probability per row (binary only:
 * the probability of class 1) or `rows × k` row-major class probabilities. Values outside [0, 1] are clipped like
 * scikit-learn; NaN is rejected (`INVALID_DATA`).
 *
 * @example
 * const loss = new LogLoss()
 * loss.update(new Float64Array([1, 0]), new Float64Array([0.9, 0.2]))
 * loss.value() // (−log 0.9 − log 0.8) / 2 ≈ 0.164252
 */
export class LogLoss implements StreamingMetric<number> {
  readonly kind = 'log-loss'
  readonly params: Readonly<Required<LogLossOptions>>
  #loss = new CompensatedSum()
  #weight = new CompensatedSum()
  #rows = 0

  /** Validates the options (`INVALID_PARAM`). */
  constructor(options: LogLossOptions = {}) {
    validateParams('LogLoss', LOG_LOSS_CONSTRAINTS, options)
    this.params = { nClasses: options.nClasses ?? 2, eps: options.eps ?? 1e-15 }
  }

  /** Rows folded in. */
  get rows(): number {
    return this.#rows
  }

  /** Folds in one batch (see the class description for the shapes). */
  update(yTrue: NumericArray, proba: NumericArray, sampleWeight?: Float64Array): void {
    const n = yTrue.length
    const k = this.params.nClasses
    const perRow = k === 2 && proba.length === n ? 1 : k
    checkUpdateShapes('LogLoss', { yTrue, yPred: proba, sampleWeight, predPerRow: perRow })
    const eps = this.params.eps
    const hiClip = 1 - eps
    const loss = this.#loss
    const weight = this.#weight
    for (let i = 0; i < n; i++) {
      const y = yTrue[i]!
      if (!(Number.isInteger(y) && y >= 0 && y < k)) {
        throw new ScalemlError(
          'INVALID_DATA',
          `LogLoss.update: the label of row ${i} is ${y}; expected a class index in [0, ${k - 1}].`,
        )
      }
      let own: number
      let total: number
      if (perRow === 1) {
        const p = clip(proba[i]!, eps, hiClip, i)
        const q = 1 - p
        own = y === 1 ? p : q
        // scikit-learn stacks [1 − p, p] and renormalizes by their sum, which can differ from 1 by an ulp.
        total = q + p
      } else {
        own = 0
        total = 0
        const base = i * k
        for (let c = 0; c < k; c++) {
          const p = clip(proba[base + c]!, eps, hiClip, i)
          if (c === y) own = p
          total += p
        }
      }
      const w = sampleWeight === undefined ? 1 : sampleWeight[i]!
      loss.add(-Math.log(own / total) * w)
      weight.add(w)
    }
    this.#rows += n
  }

  /** Folds `other` (same parameters, else `INVALID_ARGUMENT`) into this accumulator. */
  merge(other: LogLoss): this {
    checkMergeable('LogLoss', this.params, other.params)
    this.#loss.addSum(other.#loss)
    this.#weight.addSum(other.#weight)
    this.#rows += other.#rows
    return this
  }

  /** Weighted mean loss; NaN before any row of weight > 0. */
  value(): number {
    const w = this.#weight.value
    return w > 0 ? this.#loss.value / w : Number.NaN
  }

  /** Total weight seen. */
  get totalWeight(): number {
    return this.#weight.value
  }

  /** Forgets every row. */
  reset(): void {
    this.#loss.reset()
    this.#weight.reset()
    this.#rows = 0
  }

  /** Sums with their compensation terms, so a restored accumulator continues bit-identically. */
  toJSON(): MetricJSON {
    return {
      kind: this.kind,
      version: 1,
      params: { ...this.params },
      state: { rows: this.#rows, loss: this.#loss.toJSON(), weight: this.#weight.toJSON() },
    }
  }

  /** Restores a {@link LogLoss.toJSON} snapshot; `INVALID_INPUT` naming the bad field otherwise. */
  static fromJSON(json: unknown): LogLoss {
    const r = new MetricJSONReader('LogLoss', 'log-loss', json)
    const metric = new LogLoss({ nClasses: r.param('nClasses') as number, eps: r.param('eps') as number })
    metric.#rows = r.number('state', 'rows')
    metric.#loss = CompensatedSum.from(r.numbers('loss', 2))
    metric.#weight = CompensatedSum.from(r.numbers('weight', 2))
    return metric
  }
}

function clip(p: number, lo: number, hi: number, row: number): number {
  if (Number.isNaN(p)) throw new ScalemlError('INVALID_DATA', `LogLoss.update: a probability of row ${row} is NaN.`)
  return Math.min(Math.max(p, lo), hi)
}
