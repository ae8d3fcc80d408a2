/**
 * The model catalog: every trainable model by name, with its task, its hyperparameter constraint table (for
 * `--param` parsing, validation and tuning bounds), a factory and a deserializer. The CLI, tuning and the registry
 * find models here and nowhere else.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Constraints } from '../core/params.js'
import type { Classifier, EstimatorJSON, Regressor, SupervisedEstimator } from './estimator.js'
import {
  SGD_CLASSIFIER_CONSTRAINTS,
  SGD_CLASSIFIER_DEFAULTS,
  SgdClassifier,
  type SgdClassifierParams,
} from './linear/sgd-classifier.js'
import { validateSgdParams } from './linear/sgd-core.js'
import {
  SGD_REGRESSOR_CONSTRAINTS,
  SGD_REGRESSOR_DEFAULTS,
  SgdRegressor,
  type SgdRegressorParams,
} from './linear/sgd-regressor.js'

/** One catalog entry. */
export interface ModelEntry<M extends SupervisedEstimator = SupervisedEstimator> {
  readonly task: M['task']
  /** One line for `scaleml models` and `--help`. */
  readonly description: string
  readonly constraints: Constraints<Record<string, unknown>>
  /** Default hyperparameters. */
  readonly defaults: Readonly<Record<string, unknown>>
  /** A new unfitted model; params are stored as given and validated on the first `partialFit` (or by `validate`). */
  create(params?: Readonly<Record<string, unknown>>): M
  /**
   * Full validation of params merged over the defaults: the constraint table plus the rules that involve two
   * parameters (e.g. `eta0 > 0` unless the schedule is 'optimal'). Throws `INVALID_PARAM`.
   */
  validate(params: Readonly<Record<string, unknown>>): void
  /** Rebuilds a fitted model from its `toJSON()`; throws `ARTIFACT_INVALID` when malformed. */
  fromJSON(json: EstimatorJSON): M
}

/** Every model by name. */
export const MODEL_CATALOG = {
  'sgd-classifier': {
    task: 'classification',
    description: 'Linear classifier (logistic regression, linear SVM, ...) trained by SGD; scikit-learn SGDClassifier',
    constraints: SGD_CLASSIFIER_CONSTRAINTS,
    defaults: SGD_CLASSIFIER_DEFAULTS,
    create: (params = {}) => new SgdClassifier(params as Partial<SgdClassifierParams>),
    validate: (params) =>
      validateSgdParams('SgdClassifier', SGD_CLASSIFIER_CONSTRAINTS, { ...SGD_CLASSIFIER_DEFAULTS, ...params }),
    fromJSON: (json) => SgdClassifier.fromJSON(json),
  } satisfies ModelEntry<Classifier>,
  'sgd-regressor': {
    task: 'regression',
    description:
      'Linear regressor (least squares, Huber, epsilon-insensitive) trained by SGD; scikit-learn SGDRegressor',
    constraints: SGD_REGRESSOR_CONSTRAINTS,
    defaults: SGD_REGRESSOR_DEFAULTS,
    create: (params = {}) => new SgdRegressor(params as Partial<SgdRegressorParams>),
    validate: (params) =>
      validateSgdParams('SgdRegressor', SGD_REGRESSOR_CONSTRAINTS, { ...SGD_REGRESSOR_DEFAULTS, ...params }),
    fromJSON: (json) => SgdRegressor.fromJSON(json),
  } satisfies ModelEntry<Regressor>,
} as const

/** A model name. */
export type ModelName = keyof typeof MODEL_CATALOG

/** Model names, in catalog order. */
export const MODEL_NAMES = Object.keys(MODEL_CATALOG) as ModelName[]

/** True when `name` is in the catalog. */
export function isModelName(name: string): name is ModelName {
  return Object.hasOwn(MODEL_CATALOG, name)
}

/** The catalog entry for `name`; throws `INVALID_ARGUMENT` listing the known names. */
export function modelEntry(name: string): ModelEntry {
  if (!isModelName(name)) {
    throw new ScalemlError('INVALID_ARGUMENT', `Unknown model '${name}'. Known models: ${MODEL_NAMES.join(', ')}.`, [
      { code: 'invalid_value', path: ['model'], message: `unknown model '${name}'`, expected: MODEL_NAMES.join(' | ') },
    ])
  }
  return MODEL_CATALOG[name] as ModelEntry
}

/**
 * A new unfitted model by catalog name.
 * @example
 * const model = createModel('sgd-classifier', { loss: 'log_loss', alpha: 1e-5 })
 */
export function createModel(name: string, params: Readonly<Record<string, unknown>> = {}): SupervisedEstimator {
  return modelEntry(name).create(params)
}

/** Rebuilds a fitted model from its JSON, choosing the class by `json.kind`. */
export function modelFromJSON(json: EstimatorJSON): SupervisedEstimator {
  return modelEntry(json.kind).fromJSON(json)
}
