/**
 * What the SGD-trained linear regressors (SgdRegressor, PassiveAggressiveRegressor) share, as scikit-learn's
 * `BaseSGDRegressor` does: input checks, the pass through the SGD kernel, prediction and (de)serialization. A
 * subclass supplies its hyperparameter checks and the kernel settings they resolve to. Training only: no I/O.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'
import type { EstimatorJSON, PartialFitOptions, Regressor } from '../estimator.js'
import { linearScores } from './kernels/linear-predict.js'
import type { SgdSettings } from './kernels/sgd-epoch.js'
import type { LinearSgdState, LinearSgdStateJSON, LinearStateParams } from './sgd-core.js'
import {
  checkFeatures,
  checkRowValues,
  checkShape,
  createLinearState,
  linearStateFromJSON,
  linearStateToJSON,
  predictiveWeights,
  runPartialFit,
  SgdWorkspace,
} from './sgd-core.js'

/** Serialized linear regressor of kind `K` with params `P`. */
export type LinearRegressorJSON<K extends string, P> = EstimatorJSON & {
  readonly kind: K
  readonly params: P
  readonly state: LinearSgdStateJSON
}

/**
 * Base of the SGD-trained linear regressors. Subclasses set `kind` and `owner` and implement `checkParams`
 * (validation on the first `partialFit`), `settings` (the kernel settings the params resolve to), and
 * `stateParams`.
 */
export abstract class BaseLinearRegressor<P extends object, K extends string> implements Regressor {
  abstract readonly kind: K
  readonly task = 'regression'
  readonly params: Readonly<P>
  /** Class name used in messages. */
  protected abstract readonly owner: string
  #state: LinearSgdState | undefined
  readonly #workspace = new SgdWorkspace()

  protected constructor(params: P) {
    this.params = params
  }

  /** Validates the params (constraint table and cross-parameter rules); throws `INVALID_PARAM`. */
  protected abstract checkParams(): void
  /** The SGD kernel settings the (validated) params resolve to. */
  protected abstract settings(): SgdSettings
  /** Averaging and shuffling of the learned state. */
  protected abstract stateParams(): LinearStateParams

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
    return predictiveWeights(this.#fitted(), this.stateParams().average).coef.slice()
  }

  /** Intercept used for prediction (one value); a copy. */
  get intercept(): Float64Array {
    return predictiveWeights(this.#fitted(), this.stateParams().average).intercept.slice()
  }

  /** 1 + rows learned from so far (scikit-learn's `t_`). */
  get t(): number {
    return this.#fitted().t
  }

  /**
   * One epoch over the rows of `X` with targets `y`. The first call validates the parameters. Non-finite
   * features or targets, a changed feature count or a diverging update throw, and a failed call leaves the model
   * unchanged. A call with zero rows changes nothing.
   */
  partialFit(X: DenseMatrix, y: Float64Array, options: Omit<PartialFitOptions, 'classes'> = {}): void {
    if (this.#state === undefined) this.checkParams()
    checkShape(this.owner, X, this.#state?.nFeatures)
    checkRowValues('y', y, X.rows)
    const sampleWeight = options.sampleWeight ?? null
    if (sampleWeight !== null) checkRowValues('sampleWeight', sampleWeight, X.rows)
    if (X.rows === 0) return
    const state = this.#state ?? createLinearState(1, X.cols, this.stateParams())
    runPartialFit(
      this.owner,
      state,
      this.settings(),
      { X, fillTargets: () => y, sampleWeight, outputWeights: null },
      this.#workspace,
    )
    this.#state = state
  }

  /** Predicted targets `X · coef + intercept`. */
  predict(X: DenseMatrix): Float64Array {
    const state = this.#fitted()
    checkFeatures(this.owner, X, state.nFeatures)
    const { coef, intercept } = predictiveWeights(state, this.stateParams().average)
    const out = new Float64Array(X.rows)
    linearScores(X.data, state.nFeatures, coef, intercept, 1, out, 0, X.rows)
    return out
  }

  /** Hyperparameters and learned state; typed arrays stay typed. */
  toJSON(): LinearRegressorJSON<K, P> {
    return {
      kind: this.kind,
      params: { ...this.params },
      state: linearStateToJSON(this.#fitted(), this.stateParams().average),
    }
  }

  /**
   * Loads `json` (the output of `toJSON()`) into this new model built from `json.params`; throws
   * `ARTIFACT_INVALID` on a wrong kind, invalid params or a malformed state.
   */
  protected restore(json: EstimatorJSON): void {
    if (json.kind !== this.kind) {
      throw new ScalemlError('ARTIFACT_INVALID', `Expected kind '${this.kind}', got '${String(json.kind)}'.`)
    }
    try {
      this.checkParams()
    } catch (error) {
      throw new ScalemlError('ARTIFACT_INVALID', `Invalid ${this.kind} params: ${(error as Error).message}`, [], {
        cause: error,
      })
    }
    this.#state = linearStateFromJSON(this.kind, json.state, 1, this.stateParams())
  }

  #fitted(): LinearSgdState {
    if (this.#state === undefined) {
      throw new ScalemlError('NOT_FITTED', `This ${this.owner} is not fitted yet; call partialFit first.`)
    }
    return this.#state
  }
}
