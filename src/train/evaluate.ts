/**
 * Streaming evaluation of a fitted pipeline + model on a stream of batches: the same accumulators `scaleml evaluate`
 * and the training holdout use, and the per-epoch validation score of early stopping.
 * @module
 */
import type { Batch } from '../data/batch.js'
import { ClassificationMetrics, RegressionMetrics } from '../metrics/evaluate.js'
import type { Classifier, SupervisedEstimator } from '../models/estimator.js'
import type { Pipeline } from '../preprocess/pipeline.js'
import { checkFiniteFeatures, checkLabelsIn } from './checks.js'
import { createFeaturizer, decisionFunctionOn, type Features, predictOn, predictProbaOn } from './features.js'
import { extractLabels } from './labels.js'
import type { ProgressListener } from './progress.js'

/** Options of {@link evaluateStream}. */
export interface EvaluateStreamOptions {
  readonly targetColumn: string
  readonly totalRows?: number
  readonly onProgress?: ProgressListener
  /** Numeric feature columns in which NaN or ±Infinity is an error naming the row (see `ImputeMode`). */
  readonly finiteColumns?: readonly string[]
  /** What the rows are, for messages (`the holdout of flights.parquet`). */
  readonly label?: string
  /** The target as the user wrote it, for messages. */
  readonly target?: string
}

/**
 * Metrics by name (`auc`, `aucMaxError`, `logLoss`, `accuracy` / `rmse`, `mae`, `r2`) and the rows they cover. A
 * classifier without probabilities (hinge loss) is scored on the logistic function of its margins: AUC and accuracy
 * are exact (they depend only on the order and the sign of the margins); `logLoss` is left out.
 */
export interface EvaluateStreamResult {
  readonly metrics: Record<string, number>
  readonly rows: number
}

/**
 * Evaluates `model` on every labelled row of `batches` in one pass; memory O(batch). A label the classifier never
 * saw throws `INVALID_DATA` naming the row and the classes.
 */
export async function evaluateStream(
  model: SupervisedEstimator,
  pipeline: Pipeline,
  batches: AsyncIterable<Batch>,
  options: EvaluateStreamOptions,
): Promise<EvaluateStreamResult> {
  let rows = 0
  const featurizer = createFeaturizer(pipeline, model)
  const features = (batch: Batch): Features => {
    if (options.finiteColumns !== undefined && options.finiteColumns.length > 0) {
      checkFiniteFeatures(batch, options.finiteColumns, options.label ?? 'the data')
    }
    return featurizer.transform(batch)
  }
  if (model.task === 'classification') {
    const metrics = new ClassificationMetrics({ classes: model.classes })
    let calibrated = true
    for await (const raw of batches) {
      const { batch, y } = extractLabels(raw, options.targetColumn)
      if (batch.length === 0) continue
      checkLabelsIn(batch, y, model.classes, {
        target: options.target ?? options.targetColumn,
        data: options.label ?? 'the data',
        why: 'the model was trained on',
      })
      const scores = classScores(model, features(batch))
      calibrated &&= scores.calibrated
      metrics.update(y, scores.proba)
      rows += batch.length
      options.onProgress?.({ phase: 'evaluate', rows, totalRows: options.totalRows })
    }
    if (rows === 0) return { metrics: {}, rows }
    const { auc, aucMaxError, logLoss, accuracy } = metrics.value()
    return { metrics: calibrated ? { auc, aucMaxError, logLoss, accuracy } : { auc, aucMaxError, accuracy }, rows }
  }
  const metrics = new RegressionMetrics()
  for await (const raw of batches) {
    const { batch, y } = extractLabels(raw, options.targetColumn)
    if (batch.length === 0) continue
    metrics.update(y, predictOn(model, features(batch)))
    rows += batch.length
    options.onProgress?.({ phase: 'evaluate', rows, totalRows: options.totalRows })
  }
  if (rows === 0) return { metrics: {}, rows }
  const { rmse, mae, r2 } = metrics.value()
  return { metrics: { rmse, mae, r2 }, rows }
}

/**
 * Class probabilities of `X`, or, for a classifier without them (`predictProba` refuses its loss with
 * INVALID_ARGUMENT), the logistic function of each output's margin: not probabilities, but in the same order and
 * on the same side of 0.5, which is all AUC and accuracy read.
 */
export function classScores(model: Classifier, X: Features): { proba: Float64Array; calibrated: boolean } {
  if (model.hasProbabilities) return { proba: predictProbaOn(model, X), calibrated: true }
  const margins = decisionFunctionOn(model, X)
  const proba = new Float64Array(margins.length)
  for (let i = 0; i < margins.length; i++) proba[i] = 1 / (1 + Math.exp(-margins[i]!))
  return { proba, calibrated: false }
}
