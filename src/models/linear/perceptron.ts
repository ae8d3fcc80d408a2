/**
 * The perceptron, one `partialFit` call per batch, reproducing scikit-learn 1.2's `Perceptron.partial_fit` update
 * for update (with `shuffle: false`). As in scikit-learn it is not a separate algorithm but SGD with the perceptron
 * loss (the hinge with threshold 0: an update only on a mistake), a constant step `eta0` and, by default, no
 * penalty; it runs through the same SGD kernel as `SgdClassifier`. Training only: no I/O.
 * @module
 */
import type { Constraints } from '../../core/params.js'
import { bool, int, oneOf, real } from '../../core/params.js'
import type { EstimatorJSON } from '../estimator.js'
import { BaseLinearClassifier, type LinearClassifierJSON } from './base-linear-classifier.js'
import { CLASS_WEIGHT_CONSTRAINT, type ClassWeight, validateParamsWithClassWeight } from './class-weight.js'
import { PENALTY_NAMES, type PenaltyName } from './kernels/penalties.js'
import type { SgdSettings } from './kernels/sgd-epoch.js'
import type { LinearStateParams } from './sgd-core.js'
import { resolveSettings } from './sgd-core.js'

/** Hyperparameters of `Perceptron` (scikit-learn's names in camelCase). */
export type PerceptronParams = {
  /** Regularisation penalty; 'none' (scikit-learn's `None`) by default. */
  readonly penalty: PenaltyName
  /** Regularisation strength (used only with a penalty). */
  readonly alpha: number
  /** Elastic-net mixing: 0 is pure L2, 1 pure L1. Used only with penalty 'elasticnet'. */
  readonly l1Ratio: number
  /** Learn an intercept. */
  readonly fitIntercept: boolean
  /** The constant step size (> 0). */
  readonly eta0: number
  /** Shuffle the rows of every `partialFit` call with a generator seeded by `seed`. */
  readonly shuffle: boolean
  /** Seed of the shuffling generator. */
  readonly seed: number
  /** Per-class weights of the updates (see `ClassWeight`); default null, every class 1. */
  readonly classWeight: ClassWeight
}

/** Defaults: scikit-learn's (`penalty` None, `eta0` 1, `alpha` 0.0001), `seed` 0 (scikit-learn: `random_state=0`). */
export const PERCEPTRON_DEFAULTS: PerceptronParams = {
  penalty: 'none',
  alpha: 0.0001,
  l1Ratio: 0.15,
  fitIntercept: true,
  eta0: 1,
  shuffle: true,
  seed: 0,
  classWeight: null,
}

/**
 * Constraint table of `PerceptronParams`. `eta0` is > 0 (scikit-learn's table says >= 0, but its constant
 * schedule then rejects 0).
 */
export const PERCEPTRON_CONSTRAINTS: Constraints<PerceptronParams> = {
  penalty: oneOf(...PENALTY_NAMES),
  alpha: real({ min: 0 }),
  l1Ratio: real({ min: 0, max: 1 }),
  fitIntercept: bool(),
  eta0: real({ min: 0, closed: 'neither' }),
  shuffle: bool(),
  seed: int({ min: 0, max: 4294967295 }),
  classWeight: CLASS_WEIGHT_CONSTRAINT,
}

const OWNER = 'Perceptron'

/** Validates Perceptron params (the table, a `classWeight` map included); throws `INVALID_PARAM`. */
export function validatePerceptronParams(params: PerceptronParams): void {
  validateParamsWithClassWeight(OWNER, PERCEPTRON_CONSTRAINTS, params)
}

/** Serialized `Perceptron`. */
export type PerceptronJSON = LinearClassifierJSON<'perceptron', PerceptronParams>

/**
 * Perceptron classifier (binary, or one-vs-rest over more classes).
 * @example
 * const model = new Perceptron({ shuffle: false })
 * model.partialFit(X, y, { classes: [0, 1] })
 * const labels = model.predict(X)
 */
export class Perceptron extends BaseLinearClassifier<PerceptronParams, 'perceptron'> {
  readonly kind = 'perceptron'
  protected readonly owner = OWNER

  constructor(params: Partial<PerceptronParams> = {}) {
    super({ ...PERCEPTRON_DEFAULTS, ...params })
  }

  /** A new unfitted perceptron with some parameters changed. */
  withParams(patch: Partial<PerceptronParams>): Perceptron {
    return new Perceptron({ ...this.params, ...patch })
  }

  /** Rebuilds a perceptron from `toJSON()` output; throws `ARTIFACT_INVALID` on a malformed document. */
  static fromJSON(json: EstimatorJSON): Perceptron {
    const model = new Perceptron(json.params as Partial<PerceptronParams>)
    model.restore(json)
    return model
  }

  protected checkParams(): void {
    validatePerceptronParams(this.params)
  }

  protected settings(): SgdSettings {
    // scikit-learn's Perceptron is SGDClassifier(loss='perceptron', learning_rate='constant', power_t=0.5).
    return resolveSettings({
      ...this.params,
      loss: 'perceptron',
      learningRate: 'constant',
      powerT: 0.5,
      epsilon: 0.1,
      average: 0,
    })
  }

  protected stateParams(): LinearStateParams {
    return { average: 0, shuffle: this.params.shuffle, seed: this.params.seed }
  }
}
