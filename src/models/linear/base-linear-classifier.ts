/**
 * What the SGD-trained linear classifiers (SgdClassifier, Perceptron, PassiveAggressiveClassifier) share, as
 * scikit-learn's `BaseSGDClassifier` does: classes fixed by the first `partialFit`, labels mapped to ±1 targets
 * (binary: positive class `classes[1]`; more classes: one-vs-rest outputs), class weights, the pass through the
 * SGD kernel, margins and predicted labels, and (de)serialization. A subclass supplies its hyperparameter checks
 * and the kernel settings they resolve to. Training only: no I/O.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { DenseMatrix, SparseRows } from '../../core/matrix.js'
import type { Classifier, EstimatorJSON, PartialFitOptions, SparseInputClassifier } from '../estimator.js'
import type { ClassCounts, ClassWeight } from './class-weight.js'
import { outputWeights, resolveClassWeights } from './class-weight.js'
import type { SgdSettings } from './kernels/sgd-epoch.js'
import type { LinearSgdState, LinearSgdStateJSON, LinearStateParams } from './sgd-core.js'
import {
  checkAnyShape,
  checkLength,
  checkRowValues,
  createLinearState,
  invalid,
  linearMargins,
  linearStateFromJSON,
  linearStateToJSON,
  predictiveWeights,
  readFloat64,
  runPartialFit,
  SgdWorkspace,
} from './sgd-core.js'

/** `partialFit` options of the linear classifiers. */
export interface LinearClassifierPartialFitOptions extends PartialFitOptions {
  /**
   * Rows per class label over the whole training set, for `classWeight: 'balanced'`; read on the first call (the
   * weights it resolves are then part of the model). Later calls may repeat it, and a different resolution
   * throws. Ignored unless `classWeight` is 'balanced', so a training loop can always pass it.
   */
  readonly classCounts?: ClassCounts
}

/** Serialized state of a linear classifier. */
export type LinearClassifierStateJSON = LinearSgdStateJSON & {
  /** The sorted classes. */
  readonly classes: number[]
  /**
   * The resolved weight of each class (sorted like `classes`); a plain array, like `classes`, since it is small
   * metadata. Absent in documents older than class weights (read as all 1).
   */
  readonly classWeights?: number[]
}

/** Serialized linear classifier of kind `K` with params `P`. */
export type LinearClassifierJSON<K extends string, P> = EstimatorJSON & {
  readonly kind: K
  readonly params: P
  readonly state: LinearClassifierStateJSON
}

/** What a fitted linear classifier has learned. */
interface ClassifierFit {
  readonly state: LinearSgdState
  readonly classes: readonly number[]
  readonly classWeights: Float64Array
}

/**
 * Base of the SGD-trained linear classifiers. Subclasses set `kind` and `owner` and implement `checkParams`
 * (validation on the first `partialFit`), `settings` (the kernel settings the params resolve to), and
 * `stateParams`.
 *
 * Every method has a sparse twin (`partialFitSparse`, `decisionFunctionSparse`, `predictSparse`,
 * `predictProbaSparse`) over {@link SparseRows}, whose results are bit-identical to the dense method's on the
 * dense expansion of the rows, so a model may be trained on either layout and served on the other.
 */
export abstract class BaseLinearClassifier<P extends { readonly classWeight: ClassWeight }, K extends string>
  implements Classifier, SparseInputClassifier
{
  abstract readonly kind: K
  readonly task = 'classification'
  readonly params: Readonly<P>
  /** Class name used in messages. */
  protected abstract readonly owner: string
  #fit: ClassifierFit | undefined
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
    return this.#fit !== undefined
  }

  /** Feature count fixed by the first `partialFit`. */
  get nFeaturesIn(): number | undefined {
    return this.#fit?.state.nFeatures
  }

  /** The sorted classes given on the first `partialFit`; empty before. */
  /** Margin classifiers have no probabilities; {@link SgdClassifier} says yes for its probabilistic losses. */
  get hasProbabilities(): boolean {
    return false
  }

  get classes(): readonly number[] {
    return this.#fit?.classes ?? []
  }

  /** Weights used for prediction, `outputs × nFeatures` (one output for two classes); a copy. */
  get coef(): Float64Array {
    return predictiveWeights(this.#fitted().state, this.stateParams().average).coef.slice()
  }

  /** Intercepts used for prediction, one per output; a copy. */
  get intercept(): Float64Array {
    return predictiveWeights(this.#fitted().state, this.stateParams().average).intercept.slice()
  }

  /** 1 + rows learned from so far (scikit-learn's `t_`). */
  get t(): number {
    return this.#fitted().state.t
  }

  /** The weight of each class (sorted like `classes`) that scales its rows' updates; a copy. */
  get classWeights(): Float64Array {
    return this.#fitted().classWeights.slice()
  }

  /**
   * One epoch over the rows of `X` with labels `y`. The first call validates the parameters and needs
   * `options.classes` (and `options.classCounts` with `classWeight: 'balanced'`); later calls may repeat the
   * same classes. Labels outside the classes, non-finite features, a changed feature count or a diverging update
   * throw, and a failed call leaves the model unchanged. A call with zero rows changes nothing.
   */
  partialFit(X: DenseMatrix, y: Float64Array, options: LinearClassifierPartialFitOptions = {}): void {
    this.#learn(X, y, options)
  }

  /**
   * {@link BaseLinearClassifier.partialFit} on sparse rows: the same checks (plus indices that ascend strictly
   * within `[0, cols)` in every row) and, update for update, the same weights as `partialFit` on their dense
   * expansion. The semantics are scikit-learn's for dense input (the intercept moves by the full update, an L1
   * penalty visits every weight), not its sparse-input ones (intercept decay 0.01, L1 on the row's features only).
   * Costs O(nnzPerRow) per row rather than O(cols), except for an L1 or elastic-net penalty (O(cols) per row, as
   * dense) and averaging (O(cols) per call).
   *
   * @example
   * model.partialFitSparse(pipeline.transformSparse(batch, buffers), y, { classes: [0, 1] })
   */
  partialFitSparse(X: SparseRows, y: Float64Array, options: LinearClassifierPartialFitOptions = {}): void {
    this.#learn(X, y, options)
  }

  #learn(X: DenseMatrix | SparseRows, y: Float64Array, options: LinearClassifierPartialFitOptions): void {
    const previous = this.#fit
    if (previous === undefined) this.checkParams()
    const classes = this.#resolveClasses(options.classes)
    const classWeights = this.#resolveClassWeights(classes, options.classCounts)
    checkAnyShape(this.owner, X, previous?.state.nFeatures)
    checkLength('y', y, X.rows)
    const sampleWeight = options.sampleWeight ?? null
    if (sampleWeight !== null) checkRowValues('sampleWeight', sampleWeight, X.rows)
    const classIndex = labelIndices(y, classes)
    if (X.rows === 0) return

    const state =
      previous?.state ?? createLinearState(classes.length === 2 ? 1 : classes.length, X.cols, this.stateParams())
    const binary = state.nOutputs === 1
    runPartialFit(
      this.owner,
      state,
      this.settings(),
      {
        X,
        fillTargets: (output, out) => {
          // Binary: the positive class is classes[1]; one-vs-rest: output k's positive class is classes[k].
          const positive = binary ? 1 : output
          for (let i = 0; i < X.rows; i++) out[i] = classIndex[i] === positive ? 1 : -1
          return out
        },
        sampleWeight,
        outputWeights: outputWeights(classWeights),
      },
      this.#workspace,
    )
    this.#fit = previous ?? { state, classes, classWeights }
  }

  /** Margins: `rows` values for two classes, `rows × classes` otherwise (row-major). */
  decisionFunction(X: DenseMatrix): Float64Array {
    return this.#margins(X)
  }

  /** {@link BaseLinearClassifier.decisionFunction} on sparse rows; bit-identical on their dense expansion. */
  decisionFunctionSparse(X: SparseRows): Float64Array {
    return this.#margins(X)
  }

  /** Predicted class labels: the positive class where the margin is > 0 (binary), else the largest margin. */
  predict(X: DenseMatrix): Float64Array {
    return this.#labels(this.decisionFunction(X), X.rows)
  }

  /** {@link BaseLinearClassifier.predict} on sparse rows; the same labels as on their dense expansion. */
  predictSparse(X: SparseRows): Float64Array {
    return this.#labels(this.decisionFunctionSparse(X), X.rows)
  }

  /**
   * Class probabilities. This model has no calibrated probabilities (as in scikit-learn), so it throws
   * `INVALID_ARGUMENT`; subclasses with a probabilistic loss override it.
   */
  predictProba(_X: DenseMatrix): Float64Array {
    throw this.noProbabilities()
  }

  /** {@link BaseLinearClassifier.predictProba} on sparse rows (throws `INVALID_ARGUMENT` here, likewise). */
  predictProbaSparse(_X: SparseRows): Float64Array {
    throw this.noProbabilities()
  }

  /** The `INVALID_ARGUMENT` error of `predictProba` for a model without probabilities. */
  protected noProbabilities(): ScalemlError {
    return new ScalemlError(
      'INVALID_ARGUMENT',
      `${this.owner} has no predictProba (its margins are not calibrated probabilities). Use decisionFunction or predict, or an SgdClassifier with loss 'log_loss' or 'modified_huber'.`,
    )
  }

  #margins(X: DenseMatrix | SparseRows): Float64Array {
    const { state } = this.#fitted()
    return linearMargins(this.owner, state, predictiveWeights(state, this.stateParams().average), X)
  }

  #labels(scores: Float64Array, rows: number): Float64Array {
    const { state, classes } = this.#fitted()
    const nOutputs = state.nOutputs
    const out = new Float64Array(rows)
    for (let r = 0; r < rows; r++) {
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

  /** Hyperparameters and learned state; typed arrays stay typed, and nothing shares memory with the model. */
  toJSON(): LinearClassifierJSON<K, P> {
    const { state, classes, classWeights } = this.#fitted()
    const classWeight = this.params.classWeight
    return {
      kind: this.kind,
      params: {
        ...this.params,
        classWeight: classWeight !== null && typeof classWeight === 'object' ? { ...classWeight } : classWeight,
      },
      state: {
        ...linearStateToJSON(state, this.stateParams().average),
        classes: [...classes],
        classWeights: Array.from(classWeights),
      },
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
    const classes = json.state['classes']
    if (!Array.isArray(classes) || classes.length < 2 || !classes.every((c) => typeof c === 'number')) {
      throw new ScalemlError(
        'ARTIFACT_INVALID',
        `Invalid ${this.kind} state: classes must be an array of 2 or more numbers.`,
      )
    }
    const nOutputs = classes.length === 2 ? 1 : classes.length
    const state = linearStateFromJSON(this.kind, json.state, nOutputs, this.stateParams())
    const classWeights =
      json.state['classWeights'] === undefined
        ? new Float64Array(classes.length).fill(1)
        : readFloat64(this.kind, json.state, 'classWeights', classes.length)
    if (classWeights.some((w) => w < 0))
      throw invalid(this.kind, 'state.classWeights', 'weights >= 0', 'a negative weight')
    this.#fit = { state, classes: [...(classes as number[])], classWeights }
  }

  #fitted(): ClassifierFit {
    if (this.#fit === undefined) {
      throw new ScalemlError('NOT_FITTED', `This ${this.owner} is not fitted yet; call partialFit first.`)
    }
    return this.#fit
  }

  #resolveClasses(given: readonly number[] | undefined): readonly number[] {
    const fit = this.#fit
    if (fit !== undefined) {
      if (given !== undefined && !sameNumbers(uniqueSorted(given), fit.classes)) {
        throw new ScalemlError(
          'INVALID_ARGUMENT',
          `classes [${given.join(', ')}] differ from the classes [${fit.classes.join(', ')}] of the first partialFit call.`,
        )
      }
      return fit.classes
    }
    if (given === undefined) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${this.owner}.partialFit needs options.classes (every label y can take) on the first call.`,
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

  /** The first call resolves the weights; later calls keep them, checking repeated 'balanced' counts agree. */
  #resolveClassWeights(classes: readonly number[], counts: ClassCounts | undefined): Float64Array {
    const fit = this.#fit
    const classWeight = this.params.classWeight
    if (fit === undefined) return resolveClassWeights(this.owner, classWeight, classes, counts)
    if (classWeight === 'balanced' && counts !== undefined) {
      const again = resolveClassWeights(this.owner, classWeight, classes, counts)
      if (!sameNumbers(Array.from(again), Array.from(fit.classWeights))) {
        throw new ScalemlError(
          'INVALID_ARGUMENT',
          `classCounts give the balanced class weights [${Array.from(again).join(', ')}], which differ from the weights [${Array.from(fit.classWeights).join(', ')}] resolved on the first partialFit call.`,
          [{ code: 'invalid_value', path: ['classCounts'], message: 'differs from the first call' }],
        )
      }
    }
    return fit.classWeights
  }
}

/** Up to this many classes, a label's index is found by comparing with each class, which beats a `Map` lookup. */
const SCAN_CLASSES = 8

/** Maps each label to its index in the sorted classes; throws `INVALID_DATA` naming the first unknown label. */
function labelIndices(y: Float64Array, classes: readonly number[]): Int32Array {
  const out = new Int32Array(y.length)
  const k = classes.length
  // `===` and the Map's SameValueZero agree on finite classes (0 and -0 match; NaN is never a class).
  const index = k > SCAN_CLASSES ? new Map(classes.map((c, i) => [c, i])) : null
  for (let i = 0; i < y.length; i++) {
    const label = y[i]!
    let found = -1
    if (index === null) {
      for (let c = 0; c < k; c++) {
        if (label === classes[c]) {
          found = c
          break
        }
      }
    } else {
      found = index.get(label) ?? -1
    }
    if (found < 0) throw unknownLabel(y, i, classes)
    out[i] = found
  }
  return out
}

function unknownLabel(y: Float64Array, i: number, classes: readonly number[]): ScalemlError {
  return new ScalemlError(
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

function uniqueSorted(values: readonly number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b)
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}
