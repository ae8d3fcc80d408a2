/**
 * Passive-aggressive classifier and regressor (Crammer, Dekel, Keshet, Shalev-Shwartz and Singer, "Online
 * Passive-Aggressive Algorithms", JMLR 2006), one `partialFit` call per batch, reproducing scikit-learn 1.2's
 * `PassiveAggressiveClassifier.partial_fit` / `PassiveAggressiveRegressor.partial_fit` update for update (with
 * `shuffle: false`). As in scikit-learn they run through the SGD kernel with the 'pa1' / 'pa2' schedules: a row
 * that suffers loss `l` moves the weights by `tau · x` with `tau = min(C, l / ||x||²)` (PA-I) or
 * `l / (||x||² + 1 / (2C))` (PA-II), just enough to fix the row (capped, or softened, by `C`). The classifier's
 * loss is the hinge and the regressor's the epsilon-insensitive loss for both variants; there is no penalty.
 * Training only: no I/O.
 * @module
 */
import type { Constraints } from '../../core/params.js'
import { bool, int, oneOf, real, validateParams } from '../../core/params.js'
import type { EstimatorJSON } from '../estimator.js'
import { BaseLinearClassifier, type LinearClassifierJSON } from './base-linear-classifier.js'
import { BaseLinearRegressor, type LinearRegressorJSON } from './base-linear-regressor.js'
import { CLASS_WEIGHT_CONSTRAINT, type ClassWeight, validateParamsWithClassWeight } from './class-weight.js'
import { LossKind } from './kernels/losses.js'
import { PenaltyKind } from './kernels/penalties.js'
import { ScheduleKind } from './kernels/schedules.js'
import type { SgdSettings } from './kernels/sgd-epoch.js'
import type { LinearStateParams } from './sgd-core.js'

/** Kernel settings of a passive-aggressive model (scikit-learn's `_partial_fit(alpha=1.0, C=C, ...)`, no penalty). */
function passiveAggressiveSettings(
  variant: 'pa1' | 'pa2',
  loss: { readonly kind: LossKind; readonly param: number },
  params: { readonly C: number; readonly fitIntercept: boolean; readonly average: number },
): SgdSettings {
  return {
    loss: loss.kind,
    lossParam: loss.param,
    penalty: PenaltyKind.None,
    alpha: 1,
    l1Ratio: 0,
    schedule: variant === 'pa1' ? ScheduleKind.Pa1 : ScheduleKind.Pa2,
    // scikit-learn's passive-aggressive models fix eta0 = 1; no part of the update reads it without a penalty.
    eta0: 1,
    powerT: 0.5,
    optimalInit: 0,
    paC: params.C,
    fitIntercept: params.fitIntercept,
    average: params.average,
  }
}

/** Hyperparameters of `PassiveAggressiveClassifier` (scikit-learn's names in camelCase). */
export type PassiveAggressiveClassifierParams = {
  /** The largest step (PA-I) or the cost of slack (PA-II); smaller is more conservative. > 0. */
  readonly C: number
  /** 'hinge' is PA-I, 'squared_hinge' PA-II (the update rule; the loss measured is the hinge either way). */
  readonly loss: 'hinge' | 'squared_hinge'
  /** Learn an intercept. */
  readonly fitIntercept: boolean
  /** Shuffle the rows of every `partialFit` call with a generator seeded by `seed`. */
  readonly shuffle: boolean
  /** Seed of the shuffling generator. */
  readonly seed: number
  /** Averaging: 0 is off, N starts averaging once N rows have been learned from (1 ≡ scikit-learn's `True`). */
  readonly average: number
  /** Per-class weights of the updates (see `ClassWeight`); default null, every class 1. */
  readonly classWeight: ClassWeight
}

/** Defaults: scikit-learn's (`C` 1, PA-I), `seed` 0 in place of an unseeded generator. */
export const PASSIVE_AGGRESSIVE_CLASSIFIER_DEFAULTS: PassiveAggressiveClassifierParams = {
  C: 1,
  loss: 'hinge',
  fitIntercept: true,
  shuffle: true,
  seed: 0,
  average: 0,
  classWeight: null,
}

/** Constraint table of `PassiveAggressiveClassifierParams`. */
export const PASSIVE_AGGRESSIVE_CLASSIFIER_CONSTRAINTS: Constraints<PassiveAggressiveClassifierParams> = {
  C: real({ min: 0, closed: 'right' }),
  loss: oneOf('hinge', 'squared_hinge'),
  fitIntercept: bool(),
  shuffle: bool(),
  seed: int({ min: 0, max: 4294967295 }),
  average: int({ min: 0 }),
  classWeight: CLASS_WEIGHT_CONSTRAINT,
}

const CLASSIFIER_OWNER = 'PassiveAggressiveClassifier'

/** Validates PassiveAggressiveClassifier params (a `classWeight` map included); throws `INVALID_PARAM`. */
export function validatePassiveAggressiveClassifierParams(params: PassiveAggressiveClassifierParams): void {
  validateParamsWithClassWeight(CLASSIFIER_OWNER, PASSIVE_AGGRESSIVE_CLASSIFIER_CONSTRAINTS, params)
}

/** Serialized `PassiveAggressiveClassifier`. */
export type PassiveAggressiveClassifierJSON = LinearClassifierJSON<
  'passive-aggressive-classifier',
  PassiveAggressiveClassifierParams
>

/**
 * Passive-aggressive classifier (binary, or one-vs-rest over more classes). scikit-learn's `partial_fit` takes
 * no sample weights; scaleml accepts them and scales each step by its row's weight, as the shared kernel does.
 * @example
 * const model = new PassiveAggressiveClassifier({ C: 0.1, shuffle: false })
 * model.partialFit(X, y, { classes: [0, 1] })
 * const labels = model.predict(X)
 */
export class PassiveAggressiveClassifier extends BaseLinearClassifier<
  PassiveAggressiveClassifierParams,
  'passive-aggressive-classifier'
> {
  readonly kind = 'passive-aggressive-classifier'
  protected readonly owner = CLASSIFIER_OWNER

  constructor(params: Partial<PassiveAggressiveClassifierParams> = {}) {
    super({ ...PASSIVE_AGGRESSIVE_CLASSIFIER_DEFAULTS, ...params })
  }

  /** A new unfitted classifier with some parameters changed. */
  withParams(patch: Partial<PassiveAggressiveClassifierParams>): PassiveAggressiveClassifier {
    return new PassiveAggressiveClassifier({ ...this.params, ...patch })
  }

  /** Rebuilds a classifier from `toJSON()` output; throws `ARTIFACT_INVALID` on a malformed document. */
  static fromJSON(json: EstimatorJSON): PassiveAggressiveClassifier {
    const model = new PassiveAggressiveClassifier(json.params as Partial<PassiveAggressiveClassifierParams>)
    model.restore(json)
    return model
  }

  protected checkParams(): void {
    validatePassiveAggressiveClassifierParams(this.params)
  }

  protected settings(): SgdSettings {
    // Both variants measure the hinge loss (threshold 1); only the step rule differs.
    return passiveAggressiveSettings(
      this.params.loss === 'hinge' ? 'pa1' : 'pa2',
      { kind: LossKind.Hinge, param: 1 },
      this.params,
    )
  }

  protected stateParams(): LinearStateParams {
    return this.params
  }
}

/** Hyperparameters of `PassiveAggressiveRegressor` (scikit-learn's names in camelCase). */
export type PassiveAggressiveRegressorParams = {
  /** The largest step (PA-I) or the cost of slack (PA-II); smaller is more conservative. > 0. */
  readonly C: number
  /** Residuals within ±epsilon cost nothing and cause no update. >= 0. */
  readonly epsilon: number
  /** 'epsilon_insensitive' is PA-I, 'squared_epsilon_insensitive' PA-II (the update rule). */
  readonly loss: 'epsilon_insensitive' | 'squared_epsilon_insensitive'
  /** Learn an intercept. */
  readonly fitIntercept: boolean
  /** Shuffle the rows of every `partialFit` call with a generator seeded by `seed`. */
  readonly shuffle: boolean
  /** Seed of the shuffling generator. */
  readonly seed: number
  /** Averaging: 0 is off, N starts averaging once N rows have been learned from (1 ≡ scikit-learn's `True`). */
  readonly average: number
}

/** Defaults: scikit-learn's (`C` 1, `epsilon` 0.1, PA-I), `seed` 0 in place of an unseeded generator. */
export const PASSIVE_AGGRESSIVE_REGRESSOR_DEFAULTS: PassiveAggressiveRegressorParams = {
  C: 1,
  epsilon: 0.1,
  loss: 'epsilon_insensitive',
  fitIntercept: true,
  shuffle: true,
  seed: 0,
  average: 0,
}

/** Constraint table of `PassiveAggressiveRegressorParams`. */
export const PASSIVE_AGGRESSIVE_REGRESSOR_CONSTRAINTS: Constraints<PassiveAggressiveRegressorParams> = {
  C: real({ min: 0, closed: 'right' }),
  epsilon: real({ min: 0 }),
  loss: oneOf('epsilon_insensitive', 'squared_epsilon_insensitive'),
  fitIntercept: bool(),
  shuffle: bool(),
  seed: int({ min: 0, max: 4294967295 }),
  average: int({ min: 0 }),
}

const REGRESSOR_OWNER = 'PassiveAggressiveRegressor'

/** Validates PassiveAggressiveRegressor params; throws `INVALID_PARAM`. */
export function validatePassiveAggressiveRegressorParams(params: PassiveAggressiveRegressorParams): void {
  validateParams(REGRESSOR_OWNER, PASSIVE_AGGRESSIVE_REGRESSOR_CONSTRAINTS, params)
}

/** Serialized `PassiveAggressiveRegressor`. */
export type PassiveAggressiveRegressorJSON = LinearRegressorJSON<
  'passive-aggressive-regressor',
  PassiveAggressiveRegressorParams
>

/**
 * Passive-aggressive regressor. scikit-learn's `partial_fit` takes no sample weights; scaleml accepts them and
 * scales each step by its row's weight, as the shared kernel does.
 * @example
 * const model = new PassiveAggressiveRegressor({ epsilon: 0.05, shuffle: false })
 * model.partialFit(X, y)
 * const yHat = model.predict(X)
 */
export class PassiveAggressiveRegressor extends BaseLinearRegressor<
  PassiveAggressiveRegressorParams,
  'passive-aggressive-regressor'
> {
  readonly kind = 'passive-aggressive-regressor'
  protected readonly owner = REGRESSOR_OWNER

  constructor(params: Partial<PassiveAggressiveRegressorParams> = {}) {
    super({ ...PASSIVE_AGGRESSIVE_REGRESSOR_DEFAULTS, ...params })
  }

  /** A new unfitted regressor with some parameters changed. */
  withParams(patch: Partial<PassiveAggressiveRegressorParams>): PassiveAggressiveRegressor {
    return new PassiveAggressiveRegressor({ ...this.params, ...patch })
  }

  /** Rebuilds a regressor from `toJSON()` output; throws `ARTIFACT_INVALID` on a malformed document. */
  static fromJSON(json: EstimatorJSON): PassiveAggressiveRegressor {
    const model = new PassiveAggressiveRegressor(json.params as Partial<PassiveAggressiveRegressorParams>)
    model.restore(json)
    return model
  }

  protected checkParams(): void {
    validatePassiveAggressiveRegressorParams(this.params)
  }

  protected settings(): SgdSettings {
    // Both variants measure the epsilon-insensitive loss; only the step rule differs.
    return passiveAggressiveSettings(
      this.params.loss === 'epsilon_insensitive' ? 'pa1' : 'pa2',
      { kind: LossKind.EpsilonInsensitive, param: this.params.epsilon },
      this.params,
    )
  }

  protected stateParams(): LinearStateParams {
    return this.params
  }
}
