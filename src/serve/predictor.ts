/**
 * Records in, predictions out — no HTTP here. The record goes through the artifact's own pipeline (the same code
 * that transformed the training batches), then the model.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Issue } from '../core/issues.js'
import { parseRecords } from '../data/records.js'
import type { AnyEstimator } from '../models/estimator.js'
import type { Pipeline } from '../preprocess/pipeline.js'
import type { Manifest } from '../registry/manifest.js'
import { createFeaturizer, decisionFunctionOn, predictOn, predictProbaOn } from '../train/features.js'

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
  const model = servable.model
  const predictions: Prediction[] = new Array(batch.length)
  if (model.task === 'clustering') {
    const X = servable.pipeline.transform(batch)
    const distances = model.transform(X)
    const k = model.nClusters
    for (let r = 0; r < X.rows; r++) {
      let best = 0
      for (let c = 1; c < k; c++) if (distances[r * k + c]! < distances[r * k + best]!) best = c
      predictions[r] = { cluster: best, distance: distances[r * k + best]! }
    }
    return { model: { name: servable.name, version: servable.version }, predictions }
  }
  // The same featurizer as training: sparse rows when the model takes them (hashed features stay small).
  const X = createFeaturizer(servable.pipeline, model).transform(batch)
  if (model.task === 'classification') {
    const classes = model.classes
    const booleanLabel = servable.manifest.target?.kind === 'boolean'
    const show = (cls: number): boolean | number => (booleanLabel ? cls === 1 : cls)
    if (!model.hasProbabilities) {
      // Margin classifiers (hinge, perceptron, passive-aggressive): the label and the raw margin, no probability.
      const margins = decisionFunctionOn(model, X)
      const k = classes.length
      for (let r = 0; r < batch.length; r++) {
        if (k === 2) {
          predictions[r] = { score: margins[r]!, label: show(margins[r]! > 0 ? classes[1]! : classes[0]!) }
          continue
        }
        let best = 0
        for (let c = 1; c < k; c++) if (margins[r * k + c]! > margins[r * k + best]!) best = c
        predictions[r] = { score: margins[r * k + best]!, label: show(classes[best]!) }
      }
    } else {
      const proba = predictProbaOn(model, X)
      const k = classes.length
      for (let r = 0; r < X.rows; r++) {
        let best = 0
        for (let c = 1; c < k; c++) if (proba[r * k + c]! > proba[r * k + best]!) best = c
        // Binary: the probability of the positive class (classes[1]), whichever label wins.
        const probability = k === 2 ? proba[r * 2 + 1]! : proba[r * k + best]!
        predictions[r] = { probability, label: show(classes[best]!) }
      }
    }
  } else {
    const values = predictOn(model, X)
    for (let r = 0; r < batch.length; r++) predictions[r] = { value: values[r]! }
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
