/**
 * The model catalog: every trainable model by name, with its task, its hyperparameter constraint table (for
 * `--param` parsing, validation and tuning bounds), a factory and a deserializer. The CLI, tuning and the registry
 * find models here and nowhere else.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Constraints } from '../core/params.js'
import { BAYES_CATALOG_ENTRIES } from './bayes/catalog-entries.js'
import { CLUSTER_CATALOG_ENTRIES } from './cluster/catalog-entries.js'
import type { AnyEstimator, Classifier, EstimatorJSON, Regressor, SupervisedEstimator } from './estimator.js'
import { ONNX_CATALOG_ENTRIES } from './formats/onnx-model.js'
import { LINEAR_EXTRA_CATALOG_ENTRIES } from './linear/catalog-entries.js'
import { TREE_CATALOG_ENTRIES } from './trees/catalog-entries.js'
import {
  TREE_ENSEMBLE_CATALOG_ENTRIES,
  TREE_ENSEMBLE_CLASSIFIER_KIND,
  TREE_ENSEMBLE_REGRESSOR_KIND,
} from './trees/tree-ensemble-model.js'

/** Imported tree ensembles: loadable and servable, not trainable. */
const TREE_ENSEMBLE_ENTRIES = {
  [TREE_ENSEMBLE_CLASSIFIER_KIND]: {
    ...TREE_ENSEMBLE_CATALOG_ENTRIES[TREE_ENSEMBLE_CLASSIFIER_KIND],
    trainable: false,
  },
  [TREE_ENSEMBLE_REGRESSOR_KIND]: { ...TREE_ENSEMBLE_CATALOG_ENTRIES[TREE_ENSEMBLE_REGRESSOR_KIND], trainable: false },
} as const

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
export interface ModelEntry<M extends AnyEstimator = AnyEstimator> {
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
  /** False for models that are only loaded or imported, never trained by scaleml (imported tree ensembles). */
  readonly trainable?: boolean
  /**
   * How the model learns (default 'partialFit'): batch by batch, or 'fit' once over all training rows binned in
   * memory (tree ensembles; their `partialFit` throws).
   */
  readonly training?: 'partialFit' | 'fit'
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
  ...LINEAR_EXTRA_CATALOG_ENTRIES,
  ...BAYES_CATALOG_ENTRIES,
  ...CLUSTER_CATALOG_ENTRIES,
  ...TREE_ENSEMBLE_ENTRIES,
  ...TREE_CATALOG_ENTRIES,
  ...ONNX_CATALOG_ENTRIES,
} as const

/**
 * Names that stand for a family and resolve to its classifier or regressor by the target: `--model gbdt` on a
 * boolean target trains `gbdt-classifier`.
 */
export const MODEL_FAMILIES: Readonly<Record<string, { classification: ModelName; regression: ModelName }>> = {
  gbdt: { classification: 'gbdt-classifier', regression: 'gbdt-regressor' },
  'random-forest': { classification: 'random-forest-classifier', regression: 'random-forest-regressor' },
  sgd: { classification: 'sgd-classifier', regression: 'sgd-regressor' },
  'passive-aggressive': {
    classification: 'passive-aggressive-classifier',
    regression: 'passive-aggressive-regressor',
  },
}

/** The catalog name `name` stands for when training `task` (a family name resolves; any other name is kept). */
export function resolveModelName(name: string, task: 'classification' | 'regression'): string {
  return Object.hasOwn(MODEL_FAMILIES, name) ? MODEL_FAMILIES[name]![task] : name
}

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
    const families = Object.keys(MODEL_FAMILIES).join(', ')
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Unknown model '${name}'. Known models: ${MODEL_NAMES.join(', ')} (and the families ${families}, which train the classifier or the regressor by the target).`,
      [
        {
          code: 'invalid_value',
          path: ['model'],
          message: `unknown model '${name}'`,
          expected: MODEL_NAMES.join(' | '),
        },
      ],
    )
  }
  return MODEL_CATALOG[name] as ModelEntry
}

/**
 * A new unfitted model by catalog name.
 * @example
 * const model = createModel('sgd-classifier', { loss: 'log_loss', alpha: 1e-5 })
 */
export function createModel(name: string, params: Readonly<Record<string, unknown>> = {}): AnyEstimator {
  return modelEntry(name).create(params)
}

/** Rebuilds a fitted model from its JSON, choosing the class by `json.kind`. */
export function modelFromJSON(json: EstimatorJSON): AnyEstimator {
  return modelEntry(json.kind).fromJSON(json)
}

/**
 * The entry of a supervised model (classifier or regressor); a clustering model is an `INVALID_ARGUMENT` that says
 * how to train it instead.
 */
export function supervisedModelEntry(name: string): ModelEntry<SupervisedEstimator> {
  const entry = modelEntry(name)
  if (entry.trainable === false) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `'${name}' holds imported models and cannot be trained here; import one with \`scaleml models import\`.`,
    )
  }
  if (entry.task === 'clustering') {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `'${name}' is a clustering model: it learns without a target. Train it without --target (features only).`,
    )
  }
  return entry as ModelEntry<SupervisedEstimator>
}

/** Rebuilds a supervised model from its JSON; a clustering model's JSON is `ARTIFACT_INVALID` here. */
export function supervisedModelFromJSON(json: EstimatorJSON): SupervisedEstimator {
  const model = modelFromJSON(json)
  if (model.task === 'clustering') {
    throw new ScalemlError(
      'ARTIFACT_INVALID',
      `Expected a classifier or regressor, got the clustering model '${json.kind}'.`,
    )
  }
  return model
}
