/**
 * Streaming evaluation of a fitted pipeline + model on a source: the same accumulators `scaleml evaluate` and the
 * training holdout use.
 * @module
 */
import type { Source } from '../data/source.js'
import { ClassificationMetrics, RegressionMetrics } from '../metrics/evaluate.js'
import type { SupervisedEstimator } from '../models/estimator.js'
import type { Pipeline } from '../preprocess/pipeline.js'
import { extractLabels } from './labels.js'
import type { ProgressListener } from './progress.js'

/** Options of {@link evaluateStream}. */
export interface EvaluateStreamOptions {
  readonly targetColumn: string
  readonly totalRows?: number
  readonly onProgress?: ProgressListener
}

/** Metrics by name (`auc`, `logLoss`, `accuracy` / `rmse`, `mae`, `r2`) and the rows they cover. */
export interface EvaluateStreamResult {
  readonly metrics: Record<string, number>
  readonly rows: number
}

/** Evaluates `model` on every labelled row of `source` in one pass; memory O(batch). */
export async function evaluateStream(
  model: SupervisedEstimator,
  pipeline: Pipeline,
  source: Source,
  options: EvaluateStreamOptions,
): Promise<EvaluateStreamResult> {
  let rows = 0
  let buffer: Float32Array = new Float32Array(0)
  const features = (batch: Parameters<Pipeline['transform']>[0]) => {
    const X = pipeline.transform(batch, buffer)
    if (X.data.buffer !== buffer.buffer) buffer = X.data
    return X
  }
  if (model.task === 'classification') {
    const metrics = new ClassificationMetrics({ classes: model.classes })
    for await (const raw of source) {
      const { batch, y } = extractLabels(raw, options.targetColumn)
      if (batch.length === 0) continue
      metrics.update(y, model.predictProba(features(batch)))
      rows += batch.length
      options.onProgress?.({ phase: 'evaluate', rows, totalRows: options.totalRows })
    }
    if (rows === 0) return { metrics: {}, rows }
    const { auc, aucMaxError, logLoss, accuracy } = metrics.value()
    return { metrics: { auc, aucMaxError, logLoss, accuracy }, rows }
  }
  const metrics = new RegressionMetrics()
  for await (const raw of source) {
    const { batch, y } = extractLabels(raw, options.targetColumn)
    if (batch.length === 0) continue
    metrics.update(y, model.predict(features(batch)))
    rows += batch.length
    options.onProgress?.({ phase: 'evaluate', rows, totalRows: options.totalRows })
  }
  if (rows === 0) return { metrics: {}, rows }
  const { rmse, mae, r2 } = metrics.value()
  return { metrics: { rmse, mae, r2 }, rows }
}
