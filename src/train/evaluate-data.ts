/**
 * Evaluating a fitted pipeline + model on a file or glob (what `scaleml evaluate` runs): one streaming pass, the
 * same metric accumulators as the training holdout, plus a confusion matrix for classifiers.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import { describeFile, openFileSource } from '../data/sources/file-source.js'
import { ConfusionMatrix } from '../metrics/confusion-matrix.js'
import { ClassificationMetrics, RegressionMetrics } from '../metrics/evaluate.js'
import type { AnyEstimator, Clusterer } from '../models/estimator.js'
import type { Pipeline } from '../preprocess/pipeline.js'
import { classScores } from './evaluate.js'
import { createFeaturizer, predictOn } from './features.js'
import { extractLabels } from './labels.js'
import type { ProgressListener } from './progress.js'
import { resolveTarget, TARGET_COLUMN } from './target.js'

/** Options of {@link evaluateOnData}. */
export interface EvaluateOnDataOptions {
  /** File or glob to score. */
  readonly data: string
  /** Label column or SQL expression (as given to `train`); unused for clustering models. */
  readonly target?: string
  readonly pipeline: Pipeline
  readonly model: AnyEstimator
  readonly batchSize?: number
  readonly onProgress?: ProgressListener
}

/** What an evaluation found. */
export interface EvaluationReport {
  readonly task: 'classification' | 'regression' | 'clustering'
  /** Rows with a non-null label (all rows for clustering). */
  readonly rows: number
  /** `auc`, `aucMaxError`, `logLoss`, `accuracy`; `rmse`, `mae`, `r2`; or `inertia`, `meanSquaredDistance`. */
  readonly metrics: Record<string, number>
  /** Classifiers: counts by (true class, predicted class), rows in `classes` order. */
  readonly confusionMatrix?: { readonly classes: readonly number[]; readonly counts: readonly (readonly number[])[] }
}

/**
 * Scores every labelled row of `data`. Throws `UNKNOWN_COLUMN` when the data lacks a model input,
 * `INVALID_EXPRESSION` when the target does not evaluate, `EMPTY_SOURCE` when no row has a label.
 */
export async function evaluateOnData(options: EvaluateOnDataOptions): Promise<EvaluationReport> {
  const { pipeline, model } = options
  const inputs = pipeline.inputSchema.fields.map((f) => f.name)
  if (model.task === 'clustering') return evaluateClustering(options.data, pipeline, model, options)
  if (options.target === undefined) {
    throw new ScalemlError('INVALID_ARGUMENT', `Evaluating the ${model.task} model '${model.kind}' needs a target.`)
  }
  const { schema } = await describeFile(options.data)
  const target = resolveTarget(options.target, schema)
  const source = await openFileSource({
    path: options.data,
    columns: inputs,
    expressions: [{ name: TARGET_COLUMN, sql: target.sql }],
    batchSize: options.batchSize ?? 65_536,
  })
  let rows = 0
  const featurizer = createFeaturizer(pipeline, model)
  try {
    if (model.task === 'classification') {
      const classes = model.classes
      const metrics = new ClassificationMetrics({ classes })
      const confusion = new ConfusionMatrix({ nClasses: Math.max(2, classes.length) })
      const classIndex = new Map(classes.map((c, i) => [c, i]))
      for await (const raw of source) {
        const { batch, y } = extractLabels(raw, TARGET_COLUMN)
        if (batch.length === 0) continue
        const X = featurizer.transform(batch)
        metrics.update(y, classScores(model, X).proba)
        const predicted = predictOn(model, X)
        const trueIndex = new Float64Array(y.length)
        const predictedIndex = new Float64Array(y.length)
        for (let i = 0; i < y.length; i++) {
          const t = classIndex.get(y[i]!)
          if (t === undefined) {
            throw new ScalemlError(
              'INVALID_DATA',
              `Row ${rows + i + 1} of ${options.data} has label ${y[i]}, which the model never saw (classes: ${classes.join(', ')}).`,
            )
          }
          trueIndex[i] = t
          predictedIndex[i] = classIndex.get(predicted[i]!) ?? 0
        }
        confusion.update(trueIndex, predictedIndex)
        rows += batch.length
        options.onProgress?.({ phase: 'evaluate', rows })
      }
      if (rows === 0)
        throw new ScalemlError('EMPTY_SOURCE', `No row of ${options.data} has a non-null '${target.expression}'.`)
      const { auc, aucMaxError, logLoss, accuracy } = metrics.value()
      // Margin classifiers are scored on the logistic of their margins: AUC and accuracy are exact, log-loss is not.
      const probabilistic = model.hasProbabilities
      const k = Math.max(2, classes.length)
      const counts = confusion.value()
      return {
        task: 'classification',
        rows,
        metrics: probabilistic ? { auc, aucMaxError, logLoss, accuracy } : { auc, aucMaxError, accuracy },
        confusionMatrix: {
          classes,
          counts: Array.from({ length: k }, (_, t) => Array.from(counts.subarray(t * k, t * k + k))),
        },
      }
    }
    const metrics = new RegressionMetrics()
    for await (const raw of source) {
      const { batch, y } = extractLabels(raw, TARGET_COLUMN)
      if (batch.length === 0) continue
      metrics.update(y, predictOn(model, featurizer.transform(batch)))
      rows += batch.length
      options.onProgress?.({ phase: 'evaluate', rows })
    }
    if (rows === 0)
      throw new ScalemlError('EMPTY_SOURCE', `No row of ${options.data} has a non-null '${target.expression}'.`)
    const { rmse, mae, r2 } = metrics.value()
    return { task: 'regression', rows, metrics: { rmse, mae, r2 } }
  } finally {
    await source.close()
  }
}

async function evaluateClustering(
  data: string,
  pipeline: Pipeline,
  model: Clusterer,
  options: EvaluateOnDataOptions,
): Promise<EvaluationReport> {
  const source = await openFileSource({
    path: data,
    columns: pipeline.inputSchema.fields.map((f) => f.name),
    batchSize: options.batchSize ?? 65_536,
  })
  let rows = 0
  let inertia = 0
  let buffer: Float32Array = new Float32Array(0)
  try {
    for await (const batch of source) {
      if (batch.length === 0) continue
      const X = pipeline.transform(batch, buffer)
      if (X.data.buffer !== buffer.buffer) buffer = X.data
      inertia += model.inertia(X)
      rows += batch.length
      options.onProgress?.({ phase: 'evaluate', rows })
    }
  } finally {
    await source.close()
  }
  if (rows === 0) throw new ScalemlError('EMPTY_SOURCE', `${data} has no rows.`)
  return { task: 'clustering', rows, metrics: { inertia, meanSquaredDistance: inertia / rows } }
}
