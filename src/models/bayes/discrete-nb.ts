/**
 * The shared machinery of the count-based naive Bayes classifiers (multinomial and Bernoulli), following
 * scikit-learn 1.2's `_BaseDiscreteNB.partial_fit`: per-class counts (`classCount`) and per-class feature sums
 * (`featureCount`), weighted by `sampleWeight` when given, from which every call recomputes the smoothed feature
 * log probabilities and the class log priors. The counts are sufficient statistics, so `merge` adds them: merging
 * shards equals fitting their rows in one call exactly whenever the sums are exact in float64 (integer counts
 * without weights, binarized features without weights), and to the last bits of float summation otherwise.
 * Subclasses say how a batch is checked and counted and how log probabilities become a linear scorer.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'
import type { Classifier, EstimatorJSON, PartialFitOptions } from '../estimator.js'
import {
  checkFinite,
  checkLength,
  checkMergeable,
  checkSampleWeight,
  checkShape,
  classLookup,
  decisionValues,
  effectiveAlpha,
  type JointLogLikelihood,
  jointLogProba,
  labelIndices,
  notFitted,
  posteriorProba,
  predictLabels,
  readClasses,
  readFeatureCount,
  readVector,
  resolveClasses,
  validateLoadedParams,
  warnOnce,
} from './bayes-core.js'

/** Hyperparameters every count-based naive Bayes model has (scikit-learn's names in camelCase). */
export type DiscreteNBParams = {
  /**
   * Additive (Laplace/Lidstone) smoothing. Values below 1e-10 are raised to 1e-10 with a process warning
   * (scikit-learn 1.2's `force_alpha=False`), which keeps every log probability finite. Default 1.
   */
  readonly alpha: number
  /** Learn class priors from the class counts; `false` uses a uniform prior. Ignored when `classPrior` is set. */
  readonly fitPrior: boolean
  /** Class prior probabilities, one per class in sorted class order (not renormalized); `null` (default) for none. */
  readonly classPrior: readonly number[] | null
}

/** Learned counts and everything derived from them. */
export interface DiscreteState {
  readonly nFeatures: number
  readonly nClasses: number
  /** Rows (or total weight) per class. */
  readonly classCount: Float64Array
  /** Per-class sums of the (binarized) features, `classes × features`. */
  readonly featureCount: Float64Array
  /** Derived: smoothed `log P(x_j | c)`, `classes × features`. */
  readonly featureLogProb: Float64Array
  /** Derived: `log P(c)`. */
  readonly classLogPrior: Float64Array
  /** Derived: the linear scorer `jll_k(x) = x · weights_k + bias_k`. */
  readonly weights: Float64Array
  readonly bias: Float64Array
}

/** The state fields a serialized count-based model carries (derived quantities are recomputed on load). */
export interface DiscreteStateJSON {
  readonly classes: number[]
  readonly nFeatures: number
  /** Rows (or total weight) per class (scikit-learn's `class_count_`). */
  readonly classCount: Float64Array
  /** Per-class feature sums, `classes × features` (scikit-learn's `feature_count_`). */
  readonly featureCount: Float64Array
}

/** Base class of {@link MultinomialNB} and {@link BernoulliNB}. */
export abstract class DiscreteNB<P extends DiscreteNBParams> implements Classifier {
  abstract readonly kind: string
  readonly task = 'classification'
  readonly params: Readonly<P>
  #state: DiscreteState | undefined
  #classes: readonly number[] = []
  #lookup = new Map<number, number>()
  #scratch = new Float64Array(0)
  #classIndex = new Int32Array(0)
  readonly #warned = new Set<string>()
  readonly #jll: JointLogLikelihood = {
    write: (X, out, start, end) => this.writeJointLogLikelihood(this.#state!, X, out, start, end),
  }

  protected constructor(params: P) {
    this.params = params
  }

  /** The class name used in messages. */
  protected abstract get owner(): string
  /** Validates the params (with the prior's length once the class count is known); throws `INVALID_PARAM`. */
  protected abstract validate(nClasses?: number): void
  /** Rejects feature values the model cannot count (`INVALID_DATA` naming row and feature). */
  protected abstract checkTrainingValues(X: DenseMatrix): void
  /** Adds the batch to `state.classCount` and `state.featureCount`. */
  protected abstract count(
    state: DiscreteState,
    X: DenseMatrix,
    classIndex: Int32Array,
    weights: Float64Array | null,
  ): void
  /** Fills `featureLogProb`, `weights` and `bias` from the counts and `classLogPrior`. */
  protected abstract derive(state: DiscreteState, alpha: number): void
  /** Writes joint log likelihoods of rows `[start, end)` into `out[(r − start)·nClasses + k]`. */
  protected abstract writeJointLogLikelihood(
    state: DiscreteState,
    X: DenseMatrix,
    out: Float64Array,
    start: number,
    end: number,
  ): void

  /** True once `partialFit` has seen rows (or after `fromJSON`). */
  get isFitted(): boolean {
    return this.#state !== undefined
  }

  /** Feature count fixed by the first `partialFit`. */
  get nFeaturesIn(): number | undefined {
    return this.#state?.nFeatures
  }

  /** The sorted classes given on the first `partialFit`; empty before. */
  /** Naive Bayes posteriors are probabilities. */
  get hasProbabilities(): boolean {
    return true
  }

  get classes(): readonly number[] {
    return this.#classes
  }

  /** Rows (or total sample weight) per class (scikit-learn's `class_count_`); a copy. */
  get classCount(): Float64Array {
    return this.#fitted().classCount.slice()
  }

  /** Per-class feature sums, `classes × features` (scikit-learn's `feature_count_`); a copy. */
  get featureCount(): Float64Array {
    return this.#fitted().featureCount.slice()
  }

  /** Smoothed `log P(x_j | c)`, `classes × features` (scikit-learn's `feature_log_prob_`); a copy. */
  get featureLogProb(): Float64Array {
    return this.#fitted().featureLogProb.slice()
  }

  /** `log P(c)` (scikit-learn's `class_log_prior_`); a copy. */
  get classLogPrior(): Float64Array {
    return this.#fitted().classLogPrior.slice()
  }

  /**
   * Adds the rows of `X` labelled `y` to the counts and recomputes the log probabilities. The first call
   * validates the params and needs `options.classes`. Throws, leaving the model unchanged, on a changed feature
   * count or wrong lengths (`INVALID_INPUT`), NaN/±Infinity or values the model cannot count, labels outside the
   * classes or negative weights (`INVALID_DATA` naming the row and feature). A call with zero rows changes
   * nothing.
   */
  partialFit(X: DenseMatrix, y: Float64Array, options: PartialFitOptions = {}): void {
    const first = this.#state === undefined
    if (first) this.validate()
    const classes = resolveClasses(this.owner, first ? undefined : this.#classes, options.classes)
    if (first) this.validate(classes.length)
    checkShape(this.owner, X, this.#state?.nFeatures)
    checkLength('y', y, X.rows)
    const weights = options.sampleWeight ?? null
    if (weights !== null) checkSampleWeight(weights, X.rows)
    checkFinite(this.owner, X)
    this.checkTrainingValues(X)
    const lookup = first ? classLookup(classes) : this.#lookup
    if (this.#classIndex.length < X.rows) this.#classIndex = new Int32Array(X.rows)
    labelIndices(y, lookup, classes, this.#classIndex)
    if (X.rows === 0) return

    const state = this.#state ?? createState(classes.length, X.cols)
    this.count(state, X, this.#classIndex, weights)
    this.#refresh(state)
    if (first) this.#install(state, classes, lookup)
  }

  /**
   * Adds the counts of a model fitted on other rows (another shard), so the result equals fitting both shards'
   * rows. Both models need the same kind, params, classes and feature count (`INVALID_ARGUMENT`); merging an
   * unfitted model changes nothing, and an unfitted model takes the other's counts.
   */
  merge(other: DiscreteNB<P>): void {
    if (other.constructor !== this.constructor) {
      throw new ScalemlError('INVALID_ARGUMENT', `${this.owner}.merge needs another ${this.owner}; got ${other.owner}.`)
    }
    checkMergeable(
      this.owner,
      { params: this.params, classes: this.#classes, nFeatures: this.nFeaturesIn },
      { params: other.params, classes: other.#classes, nFeatures: other.nFeaturesIn },
    )
    const theirs = other.#state
    if (theirs === undefined) return
    const mine = this.#state ?? createState(theirs.nClasses, theirs.nFeatures)
    for (let k = 0; k < mine.nClasses; k++) mine.classCount[k] = mine.classCount[k]! + theirs.classCount[k]!
    for (let i = 0; i < mine.featureCount.length; i++) {
      mine.featureCount[i] = mine.featureCount[i]! + theirs.featureCount[i]!
    }
    this.#refresh(mine)
    if (this.#state === undefined) this.#install(mine, other.#classes, classLookup(other.#classes))
  }

  /** Joint log likelihoods `log P(c) + log P(x | c)`, `rows × classes` (scikit-learn's `predict_joint_log_proba`). */
  predictJointLogProba(X: DenseMatrix): Float64Array {
    this.#checkInput(X)
    return jointLogProba(this.#jll, X, this.#classes.length)
  }

  /**
   * Margins per the Classifier contract: for two classes the log posterior odds `jll[1] − jll[0]` (one value
   * per row, positive means `classes[1]`); otherwise the joint log likelihoods, `rows × classes`.
   */
  decisionFunction(X: DenseMatrix): Float64Array {
    this.#checkInput(X)
    return decisionValues(this.#jll, X, this.#classes.length, this.#scratch)
  }

  /** Predicted labels: the class with the largest posterior. Allocates only the output. */
  predict(X: DenseMatrix): Float64Array {
    this.#checkInput(X)
    return predictLabels(this.#jll, X, this.#classes, this.#scratch)
  }

  /** Posterior class probabilities, `rows × classes` row-major. */
  predictProba(X: DenseMatrix): Float64Array {
    this.#checkInput(X)
    return posteriorProba(this.#jll, X, this.#classes.length)
  }

  /** Hyperparameters and raw counts; typed arrays stay typed and are copies. */
  toJSON(): EstimatorJSON & { readonly params: P; readonly state: DiscreteStateJSON } {
    const s = this.#fitted()
    const prior = this.params.classPrior
    return {
      kind: this.kind,
      params: { ...this.params, classPrior: prior === null ? null : [...prior] },
      state: {
        classes: [...this.#classes],
        nFeatures: s.nFeatures,
        classCount: s.classCount.slice(),
        featureCount: s.featureCount.slice(),
      },
    }
  }

  /** Loads `toJSON()` output into this unfitted model; throws `ARTIFACT_INVALID` naming a malformed field. */
  protected restore(json: EstimatorJSON): void {
    const kind = this.kind
    if (json.kind !== kind) {
      throw new ScalemlError('ARTIFACT_INVALID', `Expected kind '${kind}', got '${String(json.kind)}'.`)
    }
    const raw = json.state
    const classes = readClasses(kind, raw)
    validateLoadedParams(kind, () => this.validate(classes.length))
    const nFeatures = readFeatureCount(kind, raw)
    const state = createState(classes.length, nFeatures)
    state.classCount.set(readVector(kind, raw, 'classCount', classes.length, true))
    state.featureCount.set(readVector(kind, raw, 'featureCount', classes.length * nFeatures, false))
    this.#refresh(state)
    this.#install(state, classes, classLookup(classes))
  }

  /** Recomputes the class log priors and the log probabilities (scikit-learn does so after every call). */
  #refresh(state: DiscreteState): void {
    const alpha = effectiveAlpha(this.params.alpha, () =>
      warnOnce(
        this.#warned,
        'ALPHA_CLIPPED',
        `${this.owner}: alpha ${this.params.alpha} is below 1e-10 and was raised to 1e-10 (as scikit-learn 1.2 does); alpha too small would give infinite log probabilities.`,
      ),
    )
    classLogPrior(state, this.params)
    this.derive(state, alpha)
  }

  #install(state: DiscreteState, classes: readonly number[], lookup: Map<number, number>): void {
    this.#state = state
    this.#classes = classes
    this.#lookup = lookup
    this.#scratch = new Float64Array(classes.length)
  }

  #fitted(): DiscreteState {
    if (this.#state === undefined) throw notFitted(this.owner)
    return this.#state
  }

  #checkInput(X: DenseMatrix): void {
    const state = this.#fitted()
    checkShape(this.owner, X, state.nFeatures)
    checkFinite(this.owner, X)
  }
}

function createState(nClasses: number, nFeatures: number): DiscreteState {
  const size = nClasses * nFeatures
  return {
    nFeatures,
    nClasses,
    classCount: new Float64Array(nClasses),
    featureCount: new Float64Array(size),
    featureLogProb: new Float64Array(size),
    classLogPrior: new Float64Array(nClasses),
    weights: new Float64Array(size),
    bias: new Float64Array(nClasses),
  }
}

/**
 * scikit-learn's `_update_class_log_prior`: `log(classPrior)` when given; with `fitPrior` the log class
 * frequencies (−Infinity for a class not seen yet); otherwise uniform `−log(nClasses)`.
 */
function classLogPrior(state: DiscreteState, params: DiscreteNBParams): void {
  const { classCount, classLogPrior: out, nClasses } = state
  if (params.classPrior !== null) {
    for (let k = 0; k < nClasses; k++) out[k] = Math.log(params.classPrior[k]!)
  } else if (params.fitPrior) {
    let total = 0
    for (let k = 0; k < nClasses; k++) total += classCount[k]!
    const logTotal = Math.log(total)
    for (let k = 0; k < nClasses; k++) out[k] = Math.log(classCount[k]!) - logTotal
  } else {
    out.fill(-Math.log(nClasses))
  }
}
