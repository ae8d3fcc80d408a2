/**
 * Linear classifier trained by stochastic gradient descent, one `partialFit` call per batch, reproducing
 * scikit-learn 1.2's `SGDClassifier.partial_fit` update for update (with `shuffle: false`; shuffled runs use
 * scaleml's seeded generator, not NumPy's). Binary problems learn one output with the positive class `classes[1]`;
 * more classes learn one-vs-rest outputs (`classes.length × nFeatures` weights). Training only: no I/O.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'
import type { Constraints } from '../../core/params.js'
import { oneOf } from '../../core/params.js'
import type { Classifier, EstimatorJSON, PartialFitOptions } from '../estimator.js'
import { linearScores, logisticProba, modifiedHuberProba } from './kernels/linear-predict.js'
import { LOSS_NAMES, type LossName } from './kernels/losses.js'
import type { LinearSgdState, LinearSgdStateJSON, SgdCommonParams } from './sgd-core.js'
import {
  checkFeatures,
  checkLength,
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

/** Hyperparameters of `SgdClassifier`. */
export type SgdClassifierParams = SgdCommonParams & {
  /**
   * The loss: 'log_loss' (logistic regression, probabilities), 'hinge' (linear SVM), 'modified_huber'
   * (probabilities, robust), 'squared_hinge', 'perceptron', or one of the regression losses applied to ±1 targets.
   */
  readonly loss: LossName
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
}

/** Constraint table of `SgdClassifierParams`. */
export const SGD_CLASSIFIER_CONSTRAINTS: Constraints<SgdClassifierParams> = {
  loss: oneOf(...LOSS_NAMES),
  ...SGD_COMMON_CONSTRAINTS,
}

/** Serialized `SgdClassifier`. */
export type SgdClassifierJSON = EstimatorJSON & {
  readonly kind: 'sgd-classifier'
  readonly params: SgdClassifierParams
  readonly state: LinearSgdStateJSON & { readonly classes: number[] }
}

const OWNER = 'SgdClassifier'

/**
 * Stochastic-gradient linear classifier.
 * @example
 * const model = new SgdClassifier({ loss: 'log_loss', shuffle: false })
 * model.partialFit(X, y, { classes: [0, 1] })
 * const p = model.predictProba(X) // rows × 2
 */
export class SgdClassifier implements Classifier {
  readonly kind = 'sgd-classifier'
  readonly task = 'classification'
  readonly params: Readonly<SgdClassifierParams>
  #state: LinearSgdState | undefined
  #classes: readonly number[] = []
  readonly #workspace = new SgdWorkspace()

  constructor(params: Partial<SgdClassifierParams> = {}) {
    this.params = { ...SGD_CLASSIFIER_DEFAULTS, ...params }
  }

  /** True once `partialFit` has run (or after `fromJSON`). */
  get isFitted(): boolean {
    return this.#state !== undefined
  }

  /** Feature count fixed by the first `partialFit`. */
  get nFeaturesIn(): number | undefined {
    return this.#state?.nFeatures
  }

  /** The sorted classes given on the first `partialFit`; empty before. */
  get classes(): readonly number[] {
    return this.#classes
  }

  /** Weights used for prediction, `outputs × nFeatures` (one output for two classes); a copy. */
  get coef(): Float64Array {
    return predictiveWeights(this.#fitted(), this.params.average).coef.slice()
  }

  /** Intercepts used for prediction, one per output; a copy. */
  get intercept(): Float64Array {
    return predictiveWeights(this.#fitted(), this.params.average).intercept.slice()
  }

  /** 1 + rows learned from so far (scikit-learn's `t_`). */
  get t(): number {
    return this.#fitted().t
  }

  /** A new unfitted classifier with some parameters changed (scikit-learn's `clone` + `set_params`). */
  withParams(patch: Partial<SgdClassifierParams>): SgdClassifier {
    return new SgdClassifier({ ...this.params, ...patch })
  }

  /**
   * One SGD epoch over the rows of `X` with labels `y`. The first call validates the parameters and needs
   * `options.classes`; later calls may repeat the same classes. Labels outside the classes, non-finite features,
   * a changed feature count or a diverging update throw, and a failed call leaves the model unchanged.
   * A call with zero rows changes nothing.
   */
  partialFit(X: DenseMatrix, y: Float64Array, options: PartialFitOptions = {}): void {
    const first = this.#state === undefined
    if (first) validateSgdParams(OWNER, SGD_CLASSIFIER_CONSTRAINTS, this.params)
    const classes = this.#resolveClasses(options.classes)
    checkShape(OWNER, X, this.#state?.nFeatures)
    checkLength('y', y, X.rows)
    const sampleWeight = options.sampleWeight ?? null
    if (sampleWeight !== null) checkRowValues('sampleWeight', sampleWeight, X.rows)
    const classIndex = labelIndices(y, classes)
    if (X.rows === 0) return

    const state = this.#state ?? createLinearState(classes.length === 2 ? 1 : classes.length, X.cols, this.params)
    const binary = state.nOutputs === 1
    runPartialFit(
      OWNER,
      state,
      resolveSettings(this.params),
      X,
      (output, out) => {
        // Binary: the positive class is classes[1]; one-vs-rest: output k's positive class is classes[k].
        const positive = binary ? 1 : output
        for (let i = 0; i < X.rows; i++) out[i] = classIndex[i] === positive ? 1 : -1
        return out
      },
      sampleWeight,
      this.#workspace,
    )
    this.#state = state
    this.#classes = classes
  }

  /** Margins: `rows` values for two classes, `rows × classes` otherwise (row-major). */
  decisionFunction(X: DenseMatrix): Float64Array {
    const state = this.#fitted()
    checkFeatures(OWNER, X, state.nFeatures)
    const { coef, intercept } = predictiveWeights(state, this.params.average)
    const out = new Float64Array(X.rows * state.nOutputs)
    linearScores(X.data, state.nFeatures, coef, intercept, state.nOutputs, out, 0, X.rows)
    return out
  }

  /** Predicted class labels: the positive class where the margin is > 0 (binary), else the largest margin. */
  predict(X: DenseMatrix): Float64Array {
    const scores = this.decisionFunction(X)
    const nOutputs = this.#state!.nOutputs
    const classes = this.#classes
    const out = new Float64Array(X.rows)
    for (let r = 0; r < X.rows; r++) {
      if (nOutputs === 1) {
        out[r] = scores[r]! > 0 ? classes[1]! : classes[0]!
        continue
      }
      let best = 0
      for (let k = 1; k < nOutputs; k++) if (scores[r * nOutputs + k]! > scores[r * nOutputs + best]!) best = k
      out[r] = classes[best]!
    }
    return out
  }

  /**
   * Class probabilities, `rows × classes` row-major, for loss 'log_loss' (sigmoid of the margin; one-vs-rest
   * outputs normalised) or 'modified_huber' (`(clip(margin, -1, 1) + 1) / 2`). Other losses have no calibrated
   * probabilities and throw `INVALID_ARGUMENT`.
   */
  predictProba(X: DenseMatrix): Float64Array {
    const loss = this.params.loss
    if (loss !== 'log_loss' && loss !== 'modified_huber') {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `predictProba is available only for loss 'log_loss' or 'modified_huber'; this SgdClassifier uses '${loss}'. Use decisionFunction, or calibrate the margins.`,
      )
    }
    const scores = this.decisionFunction(X)
    const nOutputs = this.#state!.nOutputs
    const out = new Float64Array(X.rows * this.#classes.length)
    if (loss === 'log_loss') logisticProba(scores, X.rows, nOutputs, out)
    else modifiedHuberProba(scores, X.rows, nOutputs, out)
    return out
  }

  /** Hyperparameters and learned state; typed arrays stay typed. */
  toJSON(): SgdClassifierJSON {
    const state = this.#fitted()
    return {
      kind: 'sgd-classifier',
      params: { ...this.params },
      state: { ...linearStateToJSON(state, this.params.average), classes: [...this.#classes] },
    }
  }

  /** Rebuilds a classifier from `toJSON()` output; throws `ARTIFACT_INVALID` on a malformed document. */
  static fromJSON(json: EstimatorJSON): SgdClassifier {
    if (json.kind !== 'sgd-classifier') {
      throw new ScalemlError('ARTIFACT_INVALID', `Expected kind 'sgd-classifier', got '${String(json.kind)}'.`)
    }
    const model = new SgdClassifier(json.params as Partial<SgdClassifierParams>)
    try {
      validateSgdParams(OWNER, SGD_CLASSIFIER_CONSTRAINTS, model.params)
    } catch (error) {
      throw new ScalemlError('ARTIFACT_INVALID', `Invalid sgd-classifier params: ${(error as Error).message}`, [], {
        cause: error,
      })
    }
    const classes = json.state['classes']
    if (!Array.isArray(classes) || classes.length < 2 || !classes.every((c) => typeof c === 'number')) {
      throw new ScalemlError(
        'ARTIFACT_INVALID',
        'Invalid sgd-classifier state: classes must be an array of 2 or more numbers.',
      )
    }
    const nOutputs = classes.length === 2 ? 1 : classes.length
    model.#state = linearStateFromJSON('sgd-classifier', json.state, nOutputs, model.params)
    model.#classes = [...(classes as number[])]
    return model
  }

  #fitted(): LinearSgdState {
    if (this.#state === undefined) {
      throw new ScalemlError('NOT_FITTED', 'This SgdClassifier is not fitted yet; call partialFit first.')
    }
    return this.#state
  }

  #resolveClasses(given: readonly number[] | undefined): readonly number[] {
    if (this.#state !== undefined) {
      if (given !== undefined && !sameNumbers(uniqueSorted(given), this.#classes)) {
        throw new ScalemlError(
          'INVALID_ARGUMENT',
          `classes [${given.join(', ')}] differ from the classes [${this.#classes.join(', ')}] of the first partialFit call.`,
        )
      }
      return this.#classes
    }
    if (given === undefined) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        'SgdClassifier.partialFit needs options.classes (every label y can take) on the first call.',
      )
    }
    const classes = uniqueSorted(given)
    if (classes.some((c) => !Number.isFinite(c))) {
      throw new ScalemlError('INVALID_ARGUMENT', `classes must be finite numbers, got [${given.join(', ')}].`)
    }
    if (classes.length < 2) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `The number of classes has to be greater than one; got ${classes.length} class ([${classes.join(', ')}]).`,
      )
    }
    return classes
  }
}

/** Maps each label to its index in the sorted classes; throws `INVALID_DATA` naming the first unknown label. */
function labelIndices(y: Float64Array, classes: readonly number[]): Int32Array {
  const index = new Map<number, number>()
  classes.forEach((c, i) => {
    index.set(c, i)
  })
  const out = new Int32Array(y.length)
  for (let i = 0; i < y.length; i++) {
    const k = index.get(y[i]!)
    if (k === undefined) {
      throw new ScalemlError(
        'INVALID_DATA',
        `y[${i}] = ${y[i]} is not one of the classes [${classes.join(', ')}] given on the first partialFit call.`,
        [
          {
            code: 'invalid_value',
            path: ['y', i],
            message: `label ${y[i]} is not a known class`,
            received: String(y[i]),
          },
        ],
      )
    }
    out[i] = k
  }
  return out
}

function uniqueSorted(values: readonly number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b)
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}
