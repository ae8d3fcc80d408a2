/**
 * Linear regressor trained by stochastic gradient descent, one `partialFit` call per batch, reproducing
 * scikit-learn 1.2's `SGDRegressor.partial_fit` update for update (with `shuffle: false`; shuffled runs use
 * scaleml's seeded generator, not NumPy's). Training only: no I/O.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'
import type { Constraints } from '../../core/params.js'
import { oneOf } from '../../core/params.js'
import type { EstimatorJSON, PartialFitOptions, Regressor } from '../estimator.js'
import { linearScores } from './kernels/linear-predict.js'
import type { LinearSgdState, LinearSgdStateJSON, SgdCommonParams } from './sgd-core.js'
import {
  checkFeatures,
  checkRowValues,
  checkShape,
  createLinearState,
  linearStateFromJSON,
  linearStateToJSON,
  predictiveWeights,
  resolveSettings,
  runPartialFit,
  SGD_COMMON_CONSTRAINTS,
  SgdWorkspace,
  validateSgdParams,
} from './sgd-core.js'

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
export type SgdRegressorJSON = EstimatorJSON & {
  readonly kind: 'sgd-regressor'
  readonly params: SgdRegressorParams
  readonly state: LinearSgdStateJSON
}

const OWNER = 'SgdRegressor'

/**
 * Stochastic-gradient linear regressor.
 * @example
 * const model = new SgdRegressor({ shuffle: false })
 * model.partialFit(X, y)
 * const yHat = model.predict(X)
 */
export class SgdRegressor implements Regressor {
  readonly kind = 'sgd-regressor'
  readonly task = 'regression'
  readonly params: Readonly<SgdRegressorParams>
  #state: LinearSgdState | undefined
  readonly #workspace = new SgdWorkspace()

  constructor(params: Partial<SgdRegressorParams> = {}) {
    this.params = { ...SGD_REGRESSOR_DEFAULTS, ...params }
  }

  /** True once `partialFit` has run (or after `fromJSON`). */
  get isFitted(): boolean {
    return this.#state !== undefined
  }

  /** Feature count fixed by the first `partialFit`. */
  get nFeaturesIn(): number | undefined {
    return this.#state?.nFeatures
  }

  /** Weights used for prediction (`nFeatures`); a copy. */
  get coef(): Float64Array {
    return predictiveWeights(this.#fitted(), this.params.average).coef.slice()
  }

  /** Intercept used for prediction (one value); a copy. */
  get intercept(): Float64Array {
    return predictiveWeights(this.#fitted(), this.params.average).intercept.slice()
  }

  /** 1 + rows learned from so far (scikit-learn's `t_`). */
  get t(): number {
    return this.#fitted().t
  }

  /** A new unfitted regressor with some parameters changed. */
  withParams(patch: Partial<SgdRegressorParams>): SgdRegressor {
    return new SgdRegressor({ ...this.params, ...patch })
  }

  /**
   * One SGD epoch over the rows of `X` with targets `y`. The first call validates the parameters. Non-finite
   * features or targets, a changed feature count or a diverging update throw, and a failed call leaves the model
   * unchanged. A call with zero rows changes nothing.
   */
  partialFit(X: DenseMatrix, y: Float64Array, options: Omit<PartialFitOptions, 'classes'> = {}): void {
    if (this.#state === undefined) validateSgdParams(OWNER, SGD_REGRESSOR_CONSTRAINTS, this.params)
    checkShape(OWNER, X, this.#state?.nFeatures)
    checkRowValues('y', y, X.rows)
    const sampleWeight = options.sampleWeight ?? null
    if (sampleWeight !== null) checkRowValues('sampleWeight', sampleWeight, X.rows)
    if (X.rows === 0) return
    const state = this.#state ?? createLinearState(1, X.cols, this.params)
    runPartialFit(OWNER, state, resolveSettings(this.params), X, () => y, sampleWeight, this.#workspace)
    this.#state = state
  }

  /** Predicted targets `X · coef + intercept`. */
  predict(X: DenseMatrix): Float64Array {
    const state = this.#fitted()
    checkFeatures(OWNER, X, state.nFeatures)
    const { coef, intercept } = predictiveWeights(state, this.params.average)
    const out = new Float64Array(X.rows)
    linearScores(X.data, state.nFeatures, coef, intercept, 1, out, 0, X.rows)
    return out
  }

  /** Hyperparameters and learned state; typed arrays stay typed. */
  toJSON(): SgdRegressorJSON {
    return {
      kind: 'sgd-regressor',
      params: { ...this.params },
      state: linearStateToJSON(this.#fitted(), this.params.average),
    }
  }

  /** Rebuilds a regressor from `toJSON()` output; throws `ARTIFACT_INVALID` on a malformed document. */
  static fromJSON(json: EstimatorJSON): SgdRegressor {
    if (json.kind !== 'sgd-regressor') {
      throw new ScalemlError('ARTIFACT_INVALID', `Expected kind 'sgd-regressor', got '${String(json.kind)}'.`)
    }
    const model = new SgdRegressor(json.params as Partial<SgdRegressorParams>)
    try {
      validateSgdParams(OWNER, SGD_REGRESSOR_CONSTRAINTS, model.params)
    } catch (error) {
      throw new ScalemlError('ARTIFACT_INVALID', `Invalid sgd-regressor params: ${(error as Error).message}`, [], {
        cause: error,
      })
    }
    model.#state = linearStateFromJSON('sgd-regressor', json.state, 1, model.params)
    return model
  }

  #fitted(): LinearSgdState {
    if (this.#state === undefined) {
      throw new ScalemlError('NOT_FITTED', 'This SgdRegressor is not fitted yet; call partialFit first.')
    }
    return this.#state
  }
}
