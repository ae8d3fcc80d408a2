/**
 * Linear regressor trained by stochastic gradient descent, one `partialFit` call per batch, reproducing
 * scikit-learn 1.2's `SGDRegressor.partial_fit` update for update (with `shuffle: false`; shuffled runs use
 * scaleml's seeded generator, not NumPy's). Training only: no I/O.
 * @module
 */
import type { Constraints } from '../../core/params.js'
import { oneOf } from '../../core/params.js'
import type { EstimatorJSON } from '../estimator.js'
import { BaseLinearRegressor, type LinearRegressorJSON } from './base-linear-regressor.js'
import type { SgdSettings } from './kernels/sgd-epoch.js'
import type { LinearStateParams, SgdCommonParams } from './sgd-core.js'
import { resolveSettings, SGD_COMMON_CONSTRAINTS, validateSgdParams } from './sgd-core.js'

/** Regression losses (scikit-learn's spelling). */
export const REGRESSION_LOSS_NAMES = [
  'squared_error',
  'huber',
  'epsilon_insensitive',
  'squared_epsilon_insensitive',
] as const

/** Hyperparameters of `SgdRegressor`. */
export type SgdRegressorParams = SgdCommonParams & {
  /** 'squared_error' (least squares), 'huber' (robust), or the SVR-style epsilon-insensitive losses. */
  readonly loss: (typeof REGRESSION_LOSS_NAMES)[number]
}

/** Defaults: scikit-learn's (`learningRate` 'invscaling', `eta0` 0.01, `powerT` 0.25), `seed` 0. */
export const SGD_REGRESSOR_DEFAULTS: SgdRegressorParams = {
  loss: 'squared_error',
  penalty: 'l2',
  alpha: 0.0001,
  l1Ratio: 0.15,
  fitIntercept: true,
  learningRate: 'invscaling',
  eta0: 0.01,
  powerT: 0.25,
  epsilon: 0.1,
  shuffle: true,
  seed: 0,
  average: 0,
}

/** Constraint table of `SgdRegressorParams`. */
export const SGD_REGRESSOR_CONSTRAINTS: Constraints<SgdRegressorParams> = {
  loss: oneOf(...REGRESSION_LOSS_NAMES),
  ...SGD_COMMON_CONSTRAINTS,
}

/** Serialized `SgdRegressor`. */
export type SgdRegressorJSON = LinearRegressorJSON<'sgd-regressor', SgdRegressorParams>

/**
 * Stochastic-gradient linear regressor.
 * @example
 * const model = new SgdRegressor({ shuffle: false })
 * model.partialFit(X, y)
 * const yHat = model.predict(X)
 */
export class SgdRegressor extends BaseLinearRegressor<SgdRegressorParams, 'sgd-regressor'> {
  readonly kind = 'sgd-regressor'
  protected readonly owner = 'SgdRegressor'

  constructor(params: Partial<SgdRegressorParams> = {}) {
    super({ ...SGD_REGRESSOR_DEFAULTS, ...params })
  }

  /** A new unfitted regressor with some parameters changed. */
  withParams(patch: Partial<SgdRegressorParams>): SgdRegressor {
    return new SgdRegressor({ ...this.params, ...patch })
  }

  /** Rebuilds a regressor from `toJSON()` output; throws `ARTIFACT_INVALID` on a malformed document. */
  static fromJSON(json: EstimatorJSON): SgdRegressor {
    const model = new SgdRegressor(json.params as Partial<SgdRegressorParams>)
    model.restore(json)
    return model
  }

  protected checkParams(): void {
    validateSgdParams(this.owner, SGD_REGRESSOR_CONSTRAINTS, this.params)
  }

  protected settings(): SgdSettings {
    return resolveSettings(this.params)
  }

  protected stateParams(): LinearStateParams {
    return this.params
  }
}
