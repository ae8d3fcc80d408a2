/**
 * Linear classifier trained by stochastic gradient descent, one `partialFit` call per batch, reproducing
 * scikit-learn 1.2's `SGDClassifier.partial_fit` update for update (with `shuffle: false`; shuffled runs use
 * scaleml's seeded generator, not NumPy's). Binary problems learn one output with the positive class `classes[1]`;
 * more classes learn one-vs-rest outputs (`classes.length × nFeatures` weights). Training only: no I/O.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { DenseMatrix, SparseRows } from '../../core/matrix.js'
import type { Constraints } from '../../core/params.js'
import { oneOf } from '../../core/params.js'
import type { EstimatorJSON } from '../estimator.js'
import { BaseLinearClassifier, type LinearClassifierJSON } from './base-linear-classifier.js'
import { CLASS_WEIGHT_CONSTRAINT, type ClassWeight } from './class-weight.js'
import { logisticProba, modifiedHuberProba } from './kernels/linear-predict.js'
import { LOSS_NAMES, type LossName } from './kernels/losses.js'
import type { SgdSettings } from './kernels/sgd-epoch.js'
import type { LinearStateParams, SgdCommonParams } from './sgd-core.js'
import { resolveSettings, SGD_COMMON_CONSTRAINTS, validateSgdParams } from './sgd-core.js'

/** Hyperparameters of `SgdClassifier`. */
export type SgdClassifierParams = SgdCommonParams & {
  /**
   * The loss: 'log_loss' (logistic regression, probabilities), 'hinge' (linear SVM), 'modified_huber'
   * (probabilities, robust), 'squared_hinge', 'perceptron', or one of the regression losses applied to ±1 targets.
   */
  readonly loss: LossName
  /** Per-class weights of the updates (see `ClassWeight`); default null, every class 1. */
  readonly classWeight: ClassWeight
}

/**
 * Defaults: scikit-learn's, except `loss`, which is 'log_loss' (scikit-learn: 'hinge') so that a default model
 * has `predictProba`, and `seed` 0 in place of an unseeded generator.
 */
export const SGD_CLASSIFIER_DEFAULTS: SgdClassifierParams = {
  loss: 'log_loss',
  penalty: 'l2',
  alpha: 0.0001,
  l1Ratio: 0.15,
  fitIntercept: true,
  learningRate: 'optimal',
  eta0: 0,
  powerT: 0.5,
  epsilon: 0.1,
  shuffle: true,
  seed: 0,
  average: 0,
  classWeight: null,
}

/** Constraint table of `SgdClassifierParams`. */
export const SGD_CLASSIFIER_CONSTRAINTS: Constraints<SgdClassifierParams> = {
  loss: oneOf(...LOSS_NAMES),
  ...SGD_COMMON_CONSTRAINTS,
  classWeight: CLASS_WEIGHT_CONSTRAINT,
}

/** Serialized `SgdClassifier`. */
export type SgdClassifierJSON = LinearClassifierJSON<'sgd-classifier', SgdClassifierParams>

/**
 * Stochastic-gradient linear classifier.
 * @example
 * const model = new SgdClassifier({ loss: 'log_loss', shuffle: false })
 * model.partialFit(X, y, { classes: [0, 1] })
 * const p = model.predictProba(X) // rows × 2
 */
export class SgdClassifier extends BaseLinearClassifier<SgdClassifierParams, 'sgd-classifier'> {
  readonly kind = 'sgd-classifier'
  protected readonly owner = 'SgdClassifier'

  constructor(params: Partial<SgdClassifierParams> = {}) {
    super({ ...SGD_CLASSIFIER_DEFAULTS, ...params })
  }

  /** A new unfitted classifier with some parameters changed (scikit-learn's `clone` + `set_params`). */
  withParams(patch: Partial<SgdClassifierParams>): SgdClassifier {
    return new SgdClassifier({ ...this.params, ...patch })
  }

  /**
   * Class probabilities, `rows × classes` row-major, for loss 'log_loss' (sigmoid of the margin; one-vs-rest
   * outputs normalised) or 'modified_huber' (`(clip(margin, -1, 1) + 1) / 2`). Other losses have no calibrated
   * probabilities and throw `INVALID_ARGUMENT`.
   */
  override get hasProbabilities(): boolean {
    return this.params.loss === 'log_loss' || this.params.loss === 'modified_huber'
  }

  override predictProba(X: DenseMatrix): Float64Array {
    this.#checkProbabilistic()
    return this.#proba(this.decisionFunction(X), X.rows)
  }

  /** {@link SgdClassifier.predictProba} on sparse rows; bit-identical on their dense expansion. */
  override predictProbaSparse(X: SparseRows): Float64Array {
    this.#checkProbabilistic()
    return this.#proba(this.decisionFunctionSparse(X), X.rows)
  }

  #checkProbabilistic(): void {
    const loss = this.params.loss
    if (loss !== 'log_loss' && loss !== 'modified_huber') {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `predictProba is available only for loss 'log_loss' or 'modified_huber'; this SgdClassifier uses '${loss}'. Use decisionFunction, or calibrate the margins.`,
      )
    }
  }

  #proba(scores: Float64Array, rows: number): Float64Array {
    const nClasses = this.classes.length
    const nOutputs = nClasses === 2 ? 1 : nClasses
    const out = new Float64Array(rows * nClasses)
    if (this.params.loss === 'log_loss') logisticProba(scores, rows, nOutputs, out)
    else modifiedHuberProba(scores, rows, nOutputs, out)
    return out
  }

  /** Rebuilds a classifier from `toJSON()` output; throws `ARTIFACT_INVALID` on a malformed document. */
  static fromJSON(json: EstimatorJSON): SgdClassifier {
    const model = new SgdClassifier(json.params as Partial<SgdClassifierParams>)
    model.restore(json)
    return model
  }

  protected checkParams(): void {
    validateSgdParams(this.owner, SGD_CLASSIFIER_CONSTRAINTS, this.params)
  }

  protected settings(): SgdSettings {
    return resolveSettings(this.params)
  }

  protected stateParams(): LinearStateParams {
    return this.params
  }
}
