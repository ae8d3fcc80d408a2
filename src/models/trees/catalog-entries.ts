/**
 * Catalog entries of the tree models (gradient boosting, random forests), shaped like `MODEL_CATALOG`'s entries
 * (task, description, constraint table, defaults, factory, validation, deserializer) for the model catalog to list.
 *
 * Why a separate entry type: these models train with `fit` over all rows at once (binned in memory; see gbdt.ts),
 * not with `partialFit`, so they are not `Classifier`/`Regressor` in the estimator contract's sense and the
 * training loop must call `fit` for them. The entries say so with `training: 'fit'`.
 * @module
 */
import type { Constraints } from '../../core/params.js'
import { validateParams } from '../../core/params.js'
import type { EstimatorJSON } from '../estimator.js'
import {
  GBDT_CLASSIFIER_CONSTRAINTS,
  GBDT_CLASSIFIER_DEFAULTS,
  GBDT_REGRESSOR_CONSTRAINTS,
  GBDT_REGRESSOR_DEFAULTS,
  GbdtClassifier,
  type GbdtClassifierParams,
  GbdtRegressor,
  type GbdtRegressorParams,
  validateGbdtParams,
} from './gbdt.js'
import {
  RANDOM_FOREST_CLASSIFIER_DEFAULTS,
  RANDOM_FOREST_CONSTRAINTS,
  RANDOM_FOREST_REGRESSOR_DEFAULTS,
  RandomForestClassifier,
  type RandomForestParams,
  RandomForestRegressor,
} from './random-forest.js'

/** A model trained by one `fit` over all rows. */
export type TreeModel = GbdtClassifier | GbdtRegressor | RandomForestClassifier | RandomForestRegressor

/** One catalog entry of a tree model. */
export interface TreeModelEntry<M extends TreeModel = TreeModel> {
  readonly task: M['task']
  /** Trained by `fit(X, y, options)` over all rows (never `partialFit`). */
  readonly training: 'fit'
  /** One line for `scaleml models` and `--help`. */
  readonly description: string
  readonly constraints: Constraints<Record<string, unknown>>
  /** Default hyperparameters. */
  readonly defaults: Readonly<Record<string, unknown>>
  /** A new unfitted model; params are stored as given and validated on `fit` (or by `validate`). */
  create(params?: Readonly<Record<string, unknown>>): M
  /** Full validation of params merged over the defaults; throws `INVALID_PARAM`. */
  validate(params: Readonly<Record<string, unknown>>): void
  /** Rebuilds a fitted model from its `toJSON()`; throws `ARTIFACT_INVALID` when malformed. */
  fromJSON(json: EstimatorJSON): M
}

type Params = Readonly<Record<string, unknown>>
type AnyConstraints = Constraints<Record<string, unknown>>

/**
 * The tree models by catalog name.
 * @example
 * const model = TREE_CATALOG_ENTRIES['gbdt-classifier'].create({ nEstimators: 200, maxLeaves: 63 })
 */
export const TREE_CATALOG_ENTRIES = {
  'gbdt-classifier': {
    task: 'classification',
    training: 'fit',
    description:
      'Gradient-boosted trees on 255-bin histograms (binary log-loss, softmax; native categoricals, missing values); XGBoost-style',
    constraints: GBDT_CLASSIFIER_CONSTRAINTS as AnyConstraints,
    defaults: GBDT_CLASSIFIER_DEFAULTS,
    create: (params: Params = {}) => new GbdtClassifier(params as Partial<GbdtClassifierParams>),
    validate: (params: Params) =>
      validateGbdtParams('GbdtClassifier', GBDT_CLASSIFIER_CONSTRAINTS, {
        ...GBDT_CLASSIFIER_DEFAULTS,
        ...(params as Partial<GbdtClassifierParams>),
      }),
    fromJSON: (json: EstimatorJSON) => GbdtClassifier.fromJSON(json),
  } satisfies TreeModelEntry<GbdtClassifier>,
  'gbdt-regressor': {
    task: 'regression',
    training: 'fit',
    description: 'Gradient-boosted trees on 255-bin histograms (squared error, pseudo-Huber); XGBoost-style',
    constraints: GBDT_REGRESSOR_CONSTRAINTS as AnyConstraints,
    defaults: GBDT_REGRESSOR_DEFAULTS,
    create: (params: Params = {}) => new GbdtRegressor(params as Partial<GbdtRegressorParams>),
    validate: (params: Params) =>
      validateGbdtParams('GbdtRegressor', GBDT_REGRESSOR_CONSTRAINTS, {
        ...GBDT_REGRESSOR_DEFAULTS,
        ...(params as Partial<GbdtRegressorParams>),
      }),
    fromJSON: (json: EstimatorJSON) => GbdtRegressor.fromJSON(json),
  } satisfies TreeModelEntry<GbdtRegressor>,
  'random-forest-classifier': {
    task: 'classification',
    training: 'fit',
    description: 'Random forest: deep Gini trees on bootstrap samples, features sampled per split; scikit-learn-style',
    constraints: RANDOM_FOREST_CONSTRAINTS as AnyConstraints,
    defaults: RANDOM_FOREST_CLASSIFIER_DEFAULTS,
    create: (params: Params = {}) => new RandomForestClassifier(params as Partial<RandomForestParams>),
    validate: (params: Params) =>
      validateParams('RandomForestClassifier', RANDOM_FOREST_CONSTRAINTS, {
        ...RANDOM_FOREST_CLASSIFIER_DEFAULTS,
        ...(params as Partial<RandomForestParams>),
      }),
    fromJSON: (json: EstimatorJSON) => RandomForestClassifier.fromJSON(json),
  } satisfies TreeModelEntry<RandomForestClassifier>,
  'random-forest-regressor': {
    task: 'regression',
    training: 'fit',
    description: 'Random forest: deep least-squares trees on bootstrap samples; scikit-learn-style',
    constraints: RANDOM_FOREST_CONSTRAINTS as AnyConstraints,
    defaults: RANDOM_FOREST_REGRESSOR_DEFAULTS,
    create: (params: Params = {}) => new RandomForestRegressor(params as Partial<RandomForestParams>),
    validate: (params: Params) =>
      validateParams('RandomForestRegressor', RANDOM_FOREST_CONSTRAINTS, {
        ...RANDOM_FOREST_REGRESSOR_DEFAULTS,
        ...(params as Partial<RandomForestParams>),
      }),
    fromJSON: (json: EstimatorJSON) => RandomForestRegressor.fromJSON(json),
  } satisfies TreeModelEntry<RandomForestRegressor>,
} as const
