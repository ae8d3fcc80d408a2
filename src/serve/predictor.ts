/**
 * Records in, predictions out — no HTTP here. The record goes through the artifact's own pipeline (the same code
 * that transformed the training batches), then the model. {@link createBatchPredictor} does the work on columnar
 * batches; the HTTP route (records) and batch scoring (files) both go through it.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Issue } from '../core/issues.js'
import type { Batch } from '../data/batch.js'
import { parseRecords } from '../data/records.js'
import type { AnyEstimator } from '../models/estimator.js'
import type { Pipeline } from '../preprocess/pipeline.js'
import type { Manifest } from '../registry/manifest.js'
import { createFeaturizer, decisionFunctionOn, type Features, predictOn, predictProbaOn } from '../train/features.js'

/** A model ready to answer: one registered version, its pipeline and estimator. */
export interface ServableModel {
  readonly name: string
  readonly version: number
  readonly manifest: Manifest
  readonly pipeline: Pipeline
  readonly model: AnyEstimator
}

/** One answer for one record. */
export type Prediction =
  | { readonly probability: number; readonly label: boolean | number }
  | { readonly score: number; readonly label: boolean | number }
  | { readonly value: number }
  | { readonly cluster: number; readonly distance: number }

/** The answer to a predict request. */
export interface PredictResponse {
  readonly model: { readonly name: string; readonly version: number }
  readonly predictions: readonly Prediction[]
}

/** Largest `instances` array one request may carry. */
export const MAX_INSTANCES = 10_000

/** The name and type of one prediction column (what {@link BatchPredictor.predict} fills per row). */
export interface PredictionField {
  readonly name: 'probability' | 'score' | 'label' | 'value' | 'cluster' | 'distance'
  /**
   * `float`: any number; `int`: a whole number (a cluster id, a class of whole numbers); `bool`: 1 or 0 for true
   * or false (the label of a boolean target).
   */
  readonly type: 'float' | 'int' | 'bool'
}

/** Predictions for one batch, one column per {@link PredictionField}. */
export interface PredictedBatch {
  readonly rows: number
  /** `values[f][r]`: field `f` of row `r`. Fresh arrays: they stay valid after the next call. */
  readonly values: readonly Float64Array[]
  /**
   * The features the model read (dense or sparse rows), for callers that need more from the same rows, such as
   * contributions. Valid until the next call (the buffers are reused).
   */
  readonly features: Features
}

/**
 * Predicts whole batches for one model: what the HTTP predictor and batch scoring share, so a record gets the same
 * answer whichever way it comes. The outputs per model kind:
 * - classifier with probabilities → `probability` (of the positive class for two classes, else of the predicted
 *   class) and `label`;
 * - margin classifier (hinge, perceptron, passive-aggressive) → `score` (the margin; for more than two classes the
 *   predicted class's) and `label`;
 * - regressor → `value`; clustering model → `cluster` (nearest centre) and `distance` (to it).
 *
 * A label is `bool` for a boolean target (`delay > 15`), else the class value.
 */
export interface BatchPredictor {
  readonly fields: readonly PredictionField[]
  /** Predicts every row of `batch` (which must hold the pipeline's input columns). */
  predict(batch: Batch): PredictedBatch
}

/**
 * A {@link BatchPredictor} for `servable`; its feature buffers are reused from batch to batch.
 *
 * @example
 * const predictor = createBatchPredictor(servable)
 * for await (const batch of source) write(predictor.fields, predictor.predict(batch).values)
 */
export function createBatchPredictor(servable: ServableModel): BatchPredictor {
  const { model, pipeline } = servable
  if (model.task === 'clustering') {
    let buffer: Float32Array = new Float32Array(0)
    return {
      fields: [
        { name: 'cluster', type: 'int' },
        { name: 'distance', type: 'float' },
      ],
      predict(batch) {
        const X = pipeline.transform(batch, buffer)
        if (X.data.buffer !== buffer.buffer) buffer = X.data
        const distances = model.transform(X)
        const k = model.nClusters
        const cluster = new Float64Array(X.rows)
        const distance = new Float64Array(X.rows)
        for (let r = 0; r < X.rows; r++) {
          let best = 0
          for (let c = 1; c < k; c++) if (distances[r * k + c]! < distances[r * k + best]!) best = c
          cluster[r] = best
          distance[r] = distances[r * k + best]!
        }
        return { rows: X.rows, values: [cluster, distance], features: X }
      },
    }
  }
  // The same featurizer as training: sparse rows when the model takes them (hashed features stay small).
  const featurizer = createFeaturizer(pipeline, model)
  if (model.task === 'regression') {
    return {
      fields: [{ name: 'value', type: 'float' }],
      predict(batch) {
        const X = featurizer.transform(batch)
        return { rows: batch.length, values: [predictOn(model, X)], features: X }
      },
    }
  }
  const classes = model.classes
  const k = classes.length
  const labelType: PredictionField['type'] =
    servable.manifest.target?.kind === 'boolean' ? 'bool' : classes.every(Number.isSafeInteger) ? 'int' : 'float'
  if (!model.hasProbabilities) {
    // Margin classifiers (hinge, perceptron, passive-aggressive): the label and the raw margin, no probability.
    return {
      fields: [
        { name: 'score', type: 'float' },
        { name: 'label', type: labelType },
      ],
      predict(batch) {
        const X = featurizer.transform(batch)
        const margins = decisionFunctionOn(model, X)
        const score = new Float64Array(batch.length)
        const label = new Float64Array(batch.length)
        for (let r = 0; r < batch.length; r++) {
          if (k === 2) {
            score[r] = margins[r]!
            label[r] = margins[r]! > 0 ? classes[1]! : classes[0]!
            continue
          }
          let best = 0
          for (let c = 1; c < k; c++) if (margins[r * k + c]! > margins[r * k + best]!) best = c
          score[r] = margins[r * k + best]!
          label[r] = classes[best]!
        }
        return { rows: batch.length, values: [score, label], features: X }
      },
    }
  }
  return {
    fields: [
      { name: 'probability', type: 'float' },
      { name: 'label', type: labelType },
    ],
    predict(batch) {
      const X = featurizer.transform(batch)
      const proba = predictProbaOn(model, X)
      const probability = new Float64Array(batch.length)
      const label = new Float64Array(batch.length)
      for (let r = 0; r < batch.length; r++) {
        let best = 0
        for (let c = 1; c < k; c++) if (proba[r * k + c]! > proba[r * k + best]!) best = c
        // Binary: the probability of the positive class (classes[1]), whichever label wins.
        probability[r] = k === 2 ? proba[r * 2 + 1]! : proba[r * k + best]!
        label[r] = classes[best]!
      }
      return { rows: batch.length, values: [probability, label], features: X }
    },
  }
}

/**
 * Validates a predict body `{ instances: [...] }` against the model's input schema and predicts every record.
 * Throws `ScalemlError('INVALID_INPUT')` listing every problem with its path (`instances[2].distance`).
 */
export function predictBody(servable: ServableModel, body: unknown): PredictResponse {
  const instances = readInstances(body)
  const { batch, issues } = parseRecords(servable.pipeline.inputSchema, instances)
  if (issues.length > 0) {
    const located = issues.map((issue): Issue => ({ ...issue, path: ['instances', ...issue.path] }))
    throw new ScalemlError('INVALID_INPUT', `Invalid instances: ${located.length} problem(s).`, located)
  }
  const predictor = createBatchPredictor(servable)
  const { values } = predictor.predict(batch)
  const predictions: Prediction[] = new Array(batch.length)
  for (let r = 0; r < batch.length; r++) {
    const prediction: Record<string, number | boolean> = {}
    predictor.fields.forEach((field, f) => {
      const value = values[f]![r]!
      prediction[field.name] = field.type === 'bool' ? value === 1 : value
    })
    predictions[r] = prediction as unknown as Prediction
  }
  return { model: { name: servable.name, version: servable.version }, predictions }
}

function readInstances(body: unknown): unknown[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ScalemlError('INVALID_INPUT', 'The request body must be a JSON object like {"instances": [{...}]}.', [
      { code: 'invalid_type', path: [], message: 'Expected a JSON object with an "instances" array.' },
    ])
  }
  const instances = (body as { instances?: unknown }).instances
  if (!Array.isArray(instances)) {
    throw new ScalemlError('INVALID_INPUT', 'The request body needs an "instances" array of records.', [
      { code: 'missing_field', path: ['instances'], message: 'Expected an array of records under "instances".' },
    ])
  }
  if (instances.length === 0) {
    throw new ScalemlError('INVALID_INPUT', '"instances" is empty: send at least one record.', [
      { code: 'invalid_value', path: ['instances'], message: 'Expected at least one record.' },
    ])
  }
  if (instances.length > MAX_INSTANCES) {
    throw new ScalemlError(
      'PAYLOAD_TOO_LARGE',
      `At most ${MAX_INSTANCES} instances per request; got ${instances.length}.`,
    )
  }
  return instances
}
