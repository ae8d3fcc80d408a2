/**
 * Catalog entries of the linear models beyond SGD (perceptron, passive-aggressive), shaped like the entries of
 * `MODEL_CATALOG` in `models/catalog.ts`, which merges them. This file does not import the catalog, so the
 * catalog can import it without a cycle; `catalog-entries.test.ts` checks the shape against `ModelEntry`.
 * @module
 */
import type { EstimatorJSON } from '../estimator.js'
import {
  PASSIVE_AGGRESSIVE_CLASSIFIER_CONSTRAINTS,
  PASSIVE_AGGRESSIVE_CLASSIFIER_DEFAULTS,
  PASSIVE_AGGRESSIVE_REGRESSOR_CONSTRAINTS,
  PASSIVE_AGGRESSIVE_REGRESSOR_DEFAULTS,
  PassiveAggressiveClassifier,
  type PassiveAggressiveClassifierParams,
  PassiveAggressiveRegressor,
  type PassiveAggressiveRegressorParams,
  validatePassiveAggressiveClassifierParams,
  validatePassiveAggressiveRegressorParams,
} from './passive-aggressive.js'
import {
  PERCEPTRON_CONSTRAINTS,
  PERCEPTRON_DEFAULTS,
  Perceptron,
  type PerceptronParams,
  validatePerceptronParams,
} from './perceptron.js'

type Params = Readonly<Record<string, unknown>>

/** Entries for 'perceptron', 'passive-aggressive-classifier' and 'passive-aggressive-regressor'. */
export const LINEAR_EXTRA_CATALOG_ENTRIES = {
  perceptron: {
    task: 'classification',
    description: 'Perceptron: linear classifier updated only on mistakes; scikit-learn Perceptron',
    constraints: PERCEPTRON_CONSTRAINTS,
    defaults: PERCEPTRON_DEFAULTS,
    create: (params: Params = {}) => new Perceptron(params as Partial<PerceptronParams>),
    validate: (params: Params) =>
      validatePerceptronParams({ ...PERCEPTRON_DEFAULTS, ...(params as Partial<PerceptronParams>) }),
    fromJSON: (json: EstimatorJSON) => Perceptron.fromJSON(json),
  },
  'passive-aggressive-classifier': {
    task: 'classification',
    description:
      'Passive-aggressive linear classifier (PA-I / PA-II, hinge): steps just far enough to fix each mistake; scikit-learn PassiveAggressiveClassifier',
    constraints: PASSIVE_AGGRESSIVE_CLASSIFIER_CONSTRAINTS,
    defaults: PASSIVE_AGGRESSIVE_CLASSIFIER_DEFAULTS,
    create: (params: Params = {}) =>
      new PassiveAggressiveClassifier(params as Partial<PassiveAggressiveClassifierParams>),
    validate: (params: Params) =>
      validatePassiveAggressiveClassifierParams({
        ...PASSIVE_AGGRESSIVE_CLASSIFIER_DEFAULTS,
        ...(params as Partial<PassiveAggressiveClassifierParams>),
      }),
    fromJSON: (json: EstimatorJSON) => PassiveAggressiveClassifier.fromJSON(json),
  },
  'passive-aggressive-regressor': {
    task: 'regression',
    description:
      'Passive-aggressive linear regressor (PA-I / PA-II, epsilon-insensitive); scikit-learn PassiveAggressiveRegressor',
    constraints: PASSIVE_AGGRESSIVE_REGRESSOR_CONSTRAINTS,
    defaults: PASSIVE_AGGRESSIVE_REGRESSOR_DEFAULTS,
    create: (params: Params = {}) =>
      new PassiveAggressiveRegressor(params as Partial<PassiveAggressiveRegressorParams>),
    validate: (params: Params) =>
      validatePassiveAggressiveRegressorParams({
        ...PASSIVE_AGGRESSIVE_REGRESSOR_DEFAULTS,
        ...(params as Partial<PassiveAggressiveRegressorParams>),
      }),
    fromJSON: (json: EstimatorJSON) => PassiveAggressiveRegressor.fromJSON(json),
  },
} as const
