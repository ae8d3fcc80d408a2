/**
 * What the SGD-trained linear regressors (SgdRegressor, PassiveAggressiveRegressor) share, as scikit-learn's
 * `BaseSGDRegressor` does: input checks, the pass through the SGD kernel, prediction and (de)serialization. A
 * subclass supplies its hyperparameter checks and the kernel settings they resolve to. Training only: no I/O.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { DenseMatrix, SparseRows } from '../../core/matrix.js'
import type { EstimatorJSON, PartialFitOptions, Regressor, SparseInputModel } from '../estimator.js'
import type { SgdSettings } from './kernels/sgd-epoch.js'
import type { LinearSgdState, LinearSgdStateJSON, LinearStateParams } from './sgd-core.js'
import {
  checkAnyShape,
  checkRowValues,
  createLinearState,
  linearMargins,
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
 *
 * `partialFitSparse` and `predictSparse` take {@link SparseRows} and give bit-identical results to `partialFit`
 * and `predict` on their dense expansion.
 */
export abstract class BaseLinearRegressor<P extends object, K extends string> implements Regressor, SparseInputModel {
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
    this.#learn(X, y, options)
  }

  /**
   * {@link BaseLinearRegressor.partialFit} on sparse rows: the same checks (plus indices that ascend strictly
   * within `[0, cols)` in every row) and, update for update, the same weights as on their dense expansion, with
   * scikit-learn's dense-input semantics (no 0.01 intercept decay; L1 visits every weight).
   */
  partialFitSparse(X: SparseRows, y: Float64Array, options: Omit<PartialFitOptions, 'classes'> = {}): void {
    this.#learn(X, y, options)
  }

  #learn(X: DenseMatrix | SparseRows, y: Float64Array, options: Omit<PartialFitOptions, 'classes'>): void {
    if (this.#state === undefined) this.checkParams()
    checkAnyShape(this.owner, X, this.#state?.nFeatures)
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
    return linearMargins(this.owner, state, predictiveWeights(state, this.stateParams().average), X)
  }

  /** {@link BaseLinearRegressor.predict} on sparse rows; bit-identical on their dense expansion. */
  predictSparse(X: SparseRows): Float64Array {
    const state = this.#fitted()
    return linearMargins(this.owner, state, predictiveWeights(state, this.stateParams().average), X)
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
