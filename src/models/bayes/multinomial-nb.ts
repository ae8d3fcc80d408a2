/**
 * Multinomial naive Bayes for count features (word counts, event counts; fractional values such as tf-idf work in
 * practice), one `partialFit` call per batch, reproducing scikit-learn 1.2's `MultinomialNB.partial_fit`
 * (with `force_alpha=False`, its 1.2 behaviour): `log P(x_j | c) = log(N_cj + α) − log(Σ_j N_cj + α·d)` and a
 * joint log likelihood linear in the counts. Negative features are rejected at training time. `merge` adds the
 * counts of models fitted on other shards. Training and scoring only: no I/O.
 * @module
 */
import type { DenseMatrix } from '../../core/matrix.js'
import type { Constraints } from '../../core/params.js'
import { bool, real } from '../../core/params.js'
import type { EstimatorJSON } from '../estimator.js'
import { badFeatureValue, validateNbParams } from './bayes-core.js'
import { DiscreteNB, type DiscreteNBParams, type DiscreteState, type DiscreteStateJSON } from './discrete-nb.js'
import { addCounts, firstNegative, linearJointLogLikelihood, multinomialLogProb } from './kernels/discrete.js'

/** Hyperparameters of {@link MultinomialNB}. */
export type MultinomialNBParams = DiscreteNBParams

/** Defaults: scikit-learn's (`alpha` 1, `fitPrior` true, no class prior). */
export const MULTINOMIAL_NB_DEFAULTS: MultinomialNBParams = { alpha: 1, fitPrior: true, classPrior: null }

/**
 * Constraint table of the scalar params (scikit-learn's `_parameter_constraints`); the list-valued `classPrior`
 * is checked separately (null, or finite non-negative numbers, one per class).
 */
export const MULTINOMIAL_NB_CONSTRAINTS: Constraints<Omit<MultinomialNBParams, 'classPrior'>> = {
  alpha: real({ min: 0 }),
  fitPrior: bool(),
}

/** Serialized {@link MultinomialNB}. */
export type MultinomialNBJSON = EstimatorJSON & {
  readonly kind: 'multinomial-nb'
  readonly params: MultinomialNBParams
  readonly state: DiscreteStateJSON
}

const OWNER = 'MultinomialNB'

/** Validates MultinomialNB params (and the class prior's length once the class count is known). */
export function validateMultinomialParams(params: MultinomialNBParams, nClasses?: number): void {
  validateNbParams(OWNER, MULTINOMIAL_NB_CONSTRAINTS as Constraints<Record<string, unknown>>, params, {
    key: 'classPrior',
    sumToOne: false,
    ...(nClasses === undefined ? {} : { nClasses }),
  })
}

/**
 * Multinomial naive Bayes classifier.
 * @example
 * const model = new MultinomialNB({ alpha: 0.5 })
 * model.partialFit(counts, y, { classes: [0, 1, 2] })
 * const labels = model.predict(moreCounts)
 */
export class MultinomialNB extends DiscreteNB<MultinomialNBParams> {
  readonly kind = 'multinomial-nb'

  constructor(params: Partial<MultinomialNBParams> = {}) {
    super({ ...MULTINOMIAL_NB_DEFAULTS, ...params })
  }

  protected get owner(): string {
    return OWNER
  }

  /** A new unfitted model with some parameters changed (scikit-learn's `clone` + `set_params`). */
  withParams(patch: Partial<MultinomialNBParams>): MultinomialNB {
    return new MultinomialNB({ ...this.params, ...patch })
  }

  override toJSON(): MultinomialNBJSON {
    return super.toJSON() as MultinomialNBJSON
  }

  /** Rebuilds a model from `toJSON()` output; throws `ARTIFACT_INVALID` naming a malformed field. */
  static fromJSON(json: EstimatorJSON): MultinomialNB {
    const model = new MultinomialNB(json.params as Partial<MultinomialNBParams>)
    model.restore(json)
    return model
  }

  protected validate(nClasses?: number): void {
    validateMultinomialParams(this.params, nClasses)
  }

  protected checkTrainingValues(X: DenseMatrix): void {
    const bad = firstNegative(X.data, X.rows * X.cols)
    if (bad >= 0) throw badFeatureValue(OWNER, X, bad, 'non-negative feature values (counts or frequencies)')
  }

  protected count(state: DiscreteState, X: DenseMatrix, classIndex: Int32Array, weights: Float64Array | null): void {
    addCounts(X.data, state.nFeatures, X.rows, classIndex, weights, state.classCount, state.featureCount)
  }

  protected derive(state: DiscreteState, alpha: number): void {
    multinomialLogProb(state.featureCount, state.nClasses, state.nFeatures, alpha, state.featureLogProb)
    state.weights.set(state.featureLogProb)
    state.bias.set(state.classLogPrior)
  }

  protected writeJointLogLikelihood(
    state: DiscreteState,
    X: DenseMatrix,
    out: Float64Array,
    start: number,
    end: number,
  ): void {
    linearJointLogLikelihood(X.data, state.nFeatures, state.weights, state.bias, state.nClasses, out, start, end)
  }
}
