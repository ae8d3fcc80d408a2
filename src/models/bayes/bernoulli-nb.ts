/**
 * Bernoulli naive Bayes for binary features, one `partialFit` call per batch, reproducing scikit-learn 1.2's
 * `BernoulliNB.partial_fit` (with `force_alpha=False`, its 1.2 behaviour): features are binarized at `binarize`
 * (`x > threshold`) for training and scoring, `P(x_j = 1 | c) = (N_cj + α) / (N_c + 2α)`, and absent features
 * count as evidence too. With `binarize: null` the features are used as given and must lie in [0, 1] (scikit-learn
 * does not check; values outside give NaN probabilities). `merge` adds the counts of models fitted on other shards.
 * Training and scoring only: no I/O.
 * @module
 */
import type { DenseMatrix } from '../../core/matrix.js'
import type { Constraints } from '../../core/params.js'
import { bool, nullable, real } from '../../core/params.js'
import type { EstimatorJSON } from '../estimator.js'
import { badFeatureValue, validateNbParams } from './bayes-core.js'
import { DiscreteNB, type DiscreteNBParams, type DiscreteState, type DiscreteStateJSON } from './discrete-nb.js'
import {
  addBinarizedCounts,
  addCounts,
  bernoulliLinearForm,
  bernoulliLogProb,
  binarizedJointLogLikelihood,
  firstOutsideUnit,
  linearJointLogLikelihood,
} from './kernels/discrete.js'

/** Hyperparameters of {@link BernoulliNB}. */
export type BernoulliNBParams = DiscreteNBParams & {
  /** Threshold: a feature counts as present when `x > binarize`; `null` uses features as given (0/1). Default 0. */
  readonly binarize: number | null
}

/** Defaults: scikit-learn's (`alpha` 1, `binarize` 0, `fitPrior` true, no class prior). */
export const BERNOULLI_NB_DEFAULTS: BernoulliNBParams = { alpha: 1, binarize: 0, fitPrior: true, classPrior: null }

/**
 * Constraint table of the scalar params (scikit-learn's `_parameter_constraints`); the list-valued `classPrior`
 * is checked separately (null, or finite non-negative numbers, one per class).
 */
export const BERNOULLI_NB_CONSTRAINTS: Constraints<Omit<BernoulliNBParams, 'classPrior'>> = {
  alpha: real({ min: 0 }),
  binarize: nullable(real({ min: 0 })),
  fitPrior: bool(),
}

/** Serialized {@link BernoulliNB}. */
export type BernoulliNBJSON = EstimatorJSON & {
  readonly kind: 'bernoulli-nb'
  readonly params: BernoulliNBParams
  readonly state: DiscreteStateJSON
}

const OWNER = 'BernoulliNB'

/** Validates BernoulliNB params (and the class prior's length once the class count is known). */
export function validateBernoulliParams(params: BernoulliNBParams, nClasses?: number): void {
  validateNbParams(OWNER, BERNOULLI_NB_CONSTRAINTS as Constraints<Record<string, unknown>>, params, {
    key: 'classPrior',
    sumToOne: false,
    ...(nClasses === undefined ? {} : { nClasses }),
  })
}

/**
 * Bernoulli naive Bayes classifier.
 * @example
 * const model = new BernoulliNB({ binarize: 0.5 })
 * model.partialFit(X, y, { classes: [0, 1] })
 * const p = model.predictProba(X) // rows × 2
 */
export class BernoulliNB extends DiscreteNB<BernoulliNBParams> {
  readonly kind = 'bernoulli-nb'

  constructor(params: Partial<BernoulliNBParams> = {}) {
    super({ ...BERNOULLI_NB_DEFAULTS, ...params })
  }

  protected get owner(): string {
    return OWNER
  }

  /** A new unfitted model with some parameters changed (scikit-learn's `clone` + `set_params`). */
  withParams(patch: Partial<BernoulliNBParams>): BernoulliNB {
    return new BernoulliNB({ ...this.params, ...patch })
  }

  override toJSON(): BernoulliNBJSON {
    return super.toJSON() as BernoulliNBJSON
  }

  /** Rebuilds a model from `toJSON()` output; throws `ARTIFACT_INVALID` naming a malformed field. */
  static fromJSON(json: EstimatorJSON): BernoulliNB {
    const model = new BernoulliNB(json.params as Partial<BernoulliNBParams>)
    model.restore(json)
    return model
  }

  protected validate(nClasses?: number): void {
    validateBernoulliParams(this.params, nClasses)
  }

  protected checkTrainingValues(X: DenseMatrix): void {
    if (this.params.binarize !== null) return
    const bad = firstOutsideUnit(X.data, X.rows * X.cols)
    if (bad >= 0) {
      throw badFeatureValue(
        OWNER,
        X,
        bad,
        'feature values in [0, 1] when binarize is null (set binarize to a threshold to binarize other values)',
      )
    }
  }

  protected count(state: DiscreteState, X: DenseMatrix, classIndex: Int32Array, weights: Float64Array | null): void {
    const t = this.params.binarize
    if (t === null)
      addCounts(X.data, state.nFeatures, X.rows, classIndex, weights, state.classCount, state.featureCount)
    else
      addBinarizedCounts(X.data, state.nFeatures, X.rows, t, classIndex, weights, state.classCount, state.featureCount)
  }

  protected derive(state: DiscreteState, alpha: number): void {
    const { nClasses, nFeatures } = state
    bernoulliLogProb(state.featureCount, state.classCount, nClasses, nFeatures, alpha, state.featureLogProb)
    bernoulliLinearForm(state.featureLogProb, state.classLogPrior, nClasses, nFeatures, state.weights, state.bias)
  }

  protected writeJointLogLikelihood(
    state: DiscreteState,
    X: DenseMatrix,
    out: Float64Array,
    start: number,
    end: number,
  ): void {
    const t = this.params.binarize
    const { nFeatures, nClasses, weights, bias } = state
    if (t === null) linearJointLogLikelihood(X.data, nFeatures, weights, bias, nClasses, out, start, end)
    else binarizedJointLogLikelihood(X.data, nFeatures, t, weights, bias, nClasses, out, start, end)
  }
}
