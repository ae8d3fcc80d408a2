/**
 * One place that decides how a batch reaches a model: as sparse rows (a fixed count of entries per row) when both
 * the pipeline and the model can, else as a dense row-major matrix. Both give bit-identical results (tested in the
 * model and pipeline suites); sparse is several times faster on one-hot features. Buffers are reused across
 * batches, so each featurizer's output is valid until its next `transform`.
 * @module
 */
import { type DenseMatrix, isSparseRows, type SparseRows, sparseBuffers } from '../core/matrix.js'
import type { Batch } from '../data/batch.js'
import {
  acceptsSparse,
  type Classifier,
  type PartialFitOptions,
  type SupervisedEstimator,
} from '../models/estimator.js'
import type { Pipeline } from '../preprocess/pipeline.js'

/** Features of one batch, dense or sparse. */
export type Features = DenseMatrix | SparseRows

/** Turns batches into the features a given model takes. */
export interface Featurizer {
  /** True when batches become sparse rows. */
  readonly sparse: boolean
  transform(batch: Batch): Features
}

/** A featurizer for `model`: sparse when it and the pipeline both can (and `allowSparse` is not false). */
export function createFeaturizer(
  pipeline: Pipeline,
  model: SupervisedEstimator,
  options: { readonly allowSparse?: boolean } = {},
): Featurizer {
  if (options.allowSparse !== false && pipeline.supportsSparse && acceptsSparse(model)) {
    const buffers = sparseBuffers()
    return { sparse: true, transform: (batch) => pipeline.transformSparse(batch, buffers) }
  }
  let buffer: Float32Array = new Float32Array(0)
  return {
    sparse: false,
    transform(batch) {
      const X = pipeline.transform(batch, buffer)
      if (X.data.buffer !== buffer.buffer) buffer = X.data
      return X
    },
  }
}

/** `partialFit` on dense or sparse features. */
export function partialFitOn(
  model: SupervisedEstimator,
  X: Features,
  y: Float64Array,
  options: PartialFitOptions,
): void {
  if (isSparseRows(X)) {
    if (!acceptsSparse(model)) throw new TypeError(`${model.kind} does not take sparse rows`)
    model.partialFitSparse(X, y, model.task === 'classification' ? options : withoutClasses(options))
    return
  }
  if (model.task === 'classification') model.partialFit(X, y, options)
  else model.partialFit(X, y, withoutClasses(options))
}

/** `predict` on dense or sparse features. */
export function predictOn(model: SupervisedEstimator, X: Features): Float64Array {
  if (!isSparseRows(X)) return model.predict(X)
  if (!acceptsSparse(model)) throw new TypeError(`${model.kind} does not take sparse rows`)
  return model.predictSparse(X)
}

/** `predictProba` on dense or sparse features (throws where `predictProba` does). */
export function predictProbaOn(model: Classifier, X: Features): Float64Array {
  if (!isSparseRows(X)) return model.predictProba(X)
  if (!acceptsSparse(model)) throw new TypeError(`${model.kind} does not take sparse rows`)
  return model.predictProbaSparse(X)
}

/** `decisionFunction` on dense or sparse features. */
export function decisionFunctionOn(model: Classifier, X: Features): Float64Array {
  if (!isSparseRows(X)) return model.decisionFunction(X)
  if (!acceptsSparse(model)) throw new TypeError(`${model.kind} does not take sparse rows`)
  return model.decisionFunctionSparse(X)
}

function withoutClasses(options: PartialFitOptions): Omit<PartialFitOptions, 'classes'> {
  const { classes: _classes, classCounts: _counts, ...rest } = options
  return rest
}
