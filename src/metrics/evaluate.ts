/**
 * The metric bundles that training, validation and `evaluate` report, so every place prints the same numbers from
 * the same accumulators: `ClassificationMetrics` → `{ auc, logLoss, accuracy }`, `RegressionMetrics` →
 * `{ rmse, mae, r2 }`. Stream batches into a bundle (and merge shards), or call `evaluateClassification` /
 * `evaluateRegression` on arrays already in memory; both go through the same code.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import { Accuracy } from './accuracy.js'
import { LogLoss } from './log-loss.js'
import {
  checkMergeable,
  checkUpdateShapes,
  type MetricJSON,
  MetricJSONReader,
  type NumericArray,
  type StreamingMetric,
} from './metric.js'
import { Mae, R2, Rmse } from './regression.js'
import { RocAuc, type RocAucOptions } from './roc-auc.js'

/** Options of {@link ClassificationMetrics}. */
export interface ClassificationMetricsOptions {
  /**
   * The class labels, strictly ascending (default `[0, 1]`), as a classifier's `classes`: column c of `proba`
   * is the probability of `classes[c]`, and `yTrue` holds these labels.
   */
  readonly classes?: readonly number[]
  /** Options of the AUC accumulators (default: binned, 14 mantissa bits). */
  readonly auc?: RocAucOptions
  /** Log-loss clipping epsilon (default 1e-15). */
  readonly eps?: number
}

/** The classification numbers scaleml reports. */
export interface ClassificationReport {
  /**
   * ROC AUC of the probability of `classes[1]` (binary), or the unweighted mean over classes of one-vs-rest AUCs
   * (multiclass, scikit-learn's `multi_class='ovr', average='macro'`). NaN when a class has no rows.
   */
  readonly auc: number
  /** Upper bound of |auc − exact AUC| from binning (the mean of the per-class bounds for multiclass). */
  readonly aucMaxError: number
  /** Mean log-loss (clipped and renormalized as scikit-learn). */
  readonly logLoss: number
  /** Share of rows whose most probable class (binary: p > 0.5) is the true class. */
  readonly accuracy: number
  /** Rows seen. */
  readonly rows: number
}

/** Options of {@link evaluateClassification}. */
export interface EvaluateClassificationOptions extends ClassificationMetricsOptions {
  /** Per-row weights ≥ 0. */
  readonly sampleWeight?: Float64Array
}

/**
 * AUC, log-loss and accuracy of class probabilities, accumulated batch by batch.
 *
 * `update(yTrue, proba, w)`: `yTrue` holds class labels (values of `classes`; `INVALID_DATA` otherwise); `proba`
 * holds `rows × k` row-major class probabilities (a classifier's `predictProba`), or, for binary, one probability of
 * `classes[1]` per row. A failed update may have folded in part of the batch: discard the accumulator.
 *
 * @example
 * const metrics = new ClassificationMetrics({ classes: [0, 1] })
 * for (const { y, proba } of batches) metrics.update(y, proba)
 * const { auc, logLoss, accuracy } = metrics.value()
 */
export class ClassificationMetrics implements StreamingMetric<ClassificationReport> {
  readonly kind = 'classification-metrics'
  readonly params: Readonly<{ classes: readonly number[]; auc: Required<RocAucOptions>; eps: number }>
  #aucs: RocAuc[]
  #logLoss: LogLoss
  #accuracy: Accuracy
  #index = new Int32Array(0)
  #predicted = new Int32Array(0)

  /** Validates the options (`INVALID_PARAM`). */
  constructor(options: ClassificationMetricsOptions = {}) {
    const classes = [...(options.classes ?? [0, 1])]
    checkClasses(classes)
    const k = classes.length
    this.#aucs = Array.from({ length: k === 2 ? 1 : k }, () => new RocAuc(options.auc))
    this.#logLoss = new LogLoss({ nClasses: k, eps: options.eps })
    this.#accuracy = new Accuracy()
    this.params = { classes, auc: { ...this.#aucs[0]!.params }, eps: this.#logLoss.params.eps }
  }

  /** Rows folded in. */
  get rows(): number {
    return this.#accuracy.rows
  }

  /** Folds in one batch of labels and probabilities (see the class description). */
  update(yTrue: NumericArray, proba: NumericArray, sampleWeight?: Float64Array): void {
    const classes = this.params.classes
    const k = classes.length
    const n = yTrue.length
    const perRow = k === 2 && proba.length === n ? 1 : k
    checkUpdateShapes('ClassificationMetrics', { yTrue, yPred: proba, sampleWeight, predPerRow: perRow })
    if (this.#index.length < n) {
      this.#index = new Int32Array(n)
      this.#predicted = new Int32Array(n)
    }
    const index = this.#index.subarray(0, n)
    const predicted = this.#predicted.subarray(0, n)
    for (let i = 0; i < n; i++) {
      const c = classIndex(classes, yTrue[i]!)
      if (c < 0) {
        throw new ScalemlError(
          'INVALID_DATA',
          `ClassificationMetrics.update: the label of row ${i} is ${yTrue[i]}; expected one of the classes [${classes.join(', ')}].`,
        )
      }
      index[i] = c
      if (perRow === 1) {
        predicted[i] = proba[i]! > 0.5 ? 1 : 0
      } else {
        // First maximum wins, as numpy's argmax.
        const base = i * k
        let best = 0
        for (let j = 1; j < k; j++) if (proba[base + j]! > proba[base + best]!) best = j
        predicted[i] = best
      }
    }
    this.#logLoss.update(index, proba, sampleWeight)
    if (perRow === 1) this.#aucs[0]!.update(index, proba, sampleWeight)
    else if (k === 2) this.#aucs[0]!.updateOneVsRest(index, proba, { classIndex: 1, sampleWeight })
    else for (let c = 0; c < k; c++) this.#aucs[c]!.updateOneVsRest(index, proba, { classIndex: c, sampleWeight })
    this.#accuracy.update(index, predicted, sampleWeight)
  }

  /** Folds `other` (same classes and options, else `INVALID_ARGUMENT`) into this accumulator. */
  merge(other: ClassificationMetrics): this {
    checkMergeable('ClassificationMetrics', this.params, other.params)
    for (let c = 0; c < this.#aucs.length; c++) this.#aucs[c]!.merge(other.#aucs[c]!)
    this.#logLoss.merge(other.#logLoss)
    this.#accuracy.merge(other.#accuracy)
    return this
  }

  /** The report over every row so far. */
  value(): ClassificationReport {
    let auc = 0
    let aucMaxError = 0
    for (const metric of this.#aucs) {
      const s = metric.summary()
      auc += s.auc
      aucMaxError += s.maxError
    }
    const m = this.#aucs.length
    return {
      auc: auc / m,
      aucMaxError: aucMaxError / m,
      logLoss: this.#logLoss.value(),
      accuracy: this.#accuracy.value(),
      rows: this.rows,
    }
  }

  /** Forgets every row. */
  reset(): void {
    for (const auc of this.#aucs) auc.reset()
    this.#logLoss.reset()
    this.#accuracy.reset()
  }

  /** The snapshots of the accumulators inside. */
  toJSON(): MetricJSON {
    return {
      kind: this.kind,
      version: 1,
      params: { classes: [...this.params.classes], auc: { ...this.params.auc }, eps: this.params.eps },
      state: {
        auc: this.#aucs.map((auc) => auc.toJSON()),
        logLoss: this.#logLoss.toJSON(),
        accuracy: this.#accuracy.toJSON(),
      },
    }
  }

  /** Restores a {@link ClassificationMetrics.toJSON} snapshot; `INVALID_INPUT` naming the bad field otherwise. */
  static fromJSON(json: unknown): ClassificationMetrics {
    const r = new MetricJSONReader('ClassificationMetrics', 'classification-metrics', json)
    const metrics = new ClassificationMetrics({
      classes: r.param('classes') as number[],
      auc: r.param('auc') as RocAucOptions,
      eps: r.param('eps') as number,
    })
    metrics.#aucs = r.array('auc', metrics.#aucs.length).map((j) => RocAuc.fromJSON(j))
    metrics.#logLoss = LogLoss.fromJSON(r.state('logLoss'))
    metrics.#accuracy = Accuracy.fromJSON(r.state('accuracy'))
    return metrics
  }
}

function checkClasses(classes: readonly number[]): void {
  let ok = classes.length >= 2
  for (let i = 0; ok && i < classes.length; i++) {
    const c = classes[i]
    ok = typeof c === 'number' && Number.isFinite(c) && (i === 0 || c > classes[i - 1]!)
  }
  if (!ok) {
    throw new ScalemlError(
      'INVALID_PARAM',
      `The 'classes' parameter of ClassificationMetrics must be at least 2 distinct finite numbers in ascending order. Got ${JSON.stringify(classes)} instead.`,
    )
  }
}

/** Position of `label` in the ascending `classes`, or -1. */
function classIndex(classes: readonly number[], label: number): number {
  let lo = 0
  let hi = classes.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const c = classes[mid]!
    if (c === label) return mid
    if (c < label) lo = mid + 1
    else hi = mid - 1
  }
  return -1
}

/**
 * AUC, log-loss and accuracy of in-memory arrays, through the same accumulator training uses.
 *
 * @example
 * evaluateClassification(new Float64Array([0, 0, 1, 1]), new Float64Array([0.1, 0.4, 0.35, 0.8]))
 * // { auc: 0.75, aucMaxError: 0, logLoss: 0.4723…, accuracy: 0.75, rows: 4 }
 */
export function evaluateClassification(
  yTrue: NumericArray,
  proba: NumericArray,
  options: EvaluateClassificationOptions = {},
): ClassificationReport {
  const { sampleWeight, ...rest } = options
  const metrics = new ClassificationMetrics(rest)
  metrics.update(yTrue, proba, sampleWeight)
  return metrics.value()
}

/** The regression numbers scaleml reports. */
export interface RegressionReport {
  readonly rmse: number
  readonly mae: number
  readonly r2: number
  /** Rows seen. */
  readonly rows: number
}

/**
 * RMSE, MAE and R² of predictions, accumulated batch by batch.
 *
 * @example
 * const metrics = new RegressionMetrics()
 * metrics.update(new Float64Array([1, 2, 3]), new Float64Array([1, 2, 4]))
 * metrics.value() // { rmse: 0.577…, mae: 0.333…, r2: 0.5, rows: 3 }
 */
export class RegressionMetrics implements StreamingMetric<RegressionReport> {
  readonly kind = 'regression-metrics'
  #rmse = new Rmse()
  #mae = new Mae()
  #r2 = new R2()

  /** Rows folded in. */
  get rows(): number {
    return this.#r2.rows
  }

  /** Folds in targets and predictions (`INVALID_DATA` on a non-finite value). */
  update(yTrue: NumericArray, yPred: NumericArray, sampleWeight?: Float64Array): void {
    this.#r2.update(yTrue, yPred, sampleWeight)
    this.#rmse.update(yTrue, yPred, sampleWeight)
    this.#mae.update(yTrue, yPred, sampleWeight)
  }

  /** Folds `other` into this accumulator. */
  merge(other: RegressionMetrics): this {
    this.#rmse.merge(other.#rmse)
    this.#mae.merge(other.#mae)
    this.#r2.merge(other.#r2)
    return this
  }

  /** The report over every row so far. */
  value(): RegressionReport {
    return { rmse: this.#rmse.value(), mae: this.#mae.value(), r2: this.#r2.value(), rows: this.rows }
  }

  /** Forgets every row. */
  reset(): void {
    this.#rmse.reset()
    this.#mae.reset()
    this.#r2.reset()
  }

  /** The snapshots of the accumulators inside. */
  toJSON(): MetricJSON {
    return {
      kind: this.kind,
      version: 1,
      params: {},
      state: { rmse: this.#rmse.toJSON(), mae: this.#mae.toJSON(), r2: this.#r2.toJSON() },
    }
  }

  /** Restores a {@link RegressionMetrics.toJSON} snapshot; `INVALID_INPUT` naming the bad field otherwise. */
  static fromJSON(json: unknown): RegressionMetrics {
    const r = new MetricJSONReader('RegressionMetrics', 'regression-metrics', json)
    const metrics = new RegressionMetrics()
    metrics.#rmse = Rmse.fromJSON(r.state('rmse'))
    metrics.#mae = Mae.fromJSON(r.state('mae'))
    metrics.#r2 = R2.fromJSON(r.state('r2'))
    return metrics
  }
}

/**
 * RMSE, MAE and R² of in-memory arrays, through the same accumulator training uses.
 *
 * @example
 * evaluateRegression(new Float64Array([1, 2, 3]), new Float64Array([1, 2, 4])).r2 // 0.5
 */
export function evaluateRegression(
  yTrue: NumericArray,
  yPred: NumericArray,
  options: { readonly sampleWeight?: Float64Array } = {},
): RegressionReport {
  const metrics = new RegressionMetrics()
  metrics.update(yTrue, yPred, options.sampleWeight)
  return metrics.value()
}
