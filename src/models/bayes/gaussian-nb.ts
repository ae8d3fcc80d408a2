/**
 * Gaussian naive Bayes, one `partialFit` call per batch, reproducing scikit-learn 1.2's `GaussianNB.partial_fit`:
 * per-class means and variances updated with Chan, Golub & LeVeque's pairwise formula (weighted by
 * `sampleWeight` when given), and the variance floor `epsilon = varSmoothing · max_j Var(X_j)` recomputed from
 * each batch's unweighted feature variances and added to every variance.
 *
 * scikit-learn's bookkeeping of that floor is kept as is, so results match it call for call: at each later call
 * it subtracts the *new* epsilon from the stored variances before updating them and adds it back after, so the
 * previous batches' epsilons leak into the stored variances (≈ `epsilon` in size; visible only for features
 * whose variance is within a few orders of magnitude of `epsilon`). A consequence worth knowing: a batch whose
 * features are all constant (e.g. a single row) has epsilon 0, and a class whose variance of some feature is
 * then 0 gets NaN likelihoods, as in scikit-learn.
 *
 * `merge` combines models fitted on different shards: each side's own epsilon is removed, the class statistics
 * are combined with the same pairwise formula, and epsilon is recomputed from the combined statistics of the two
 * sides' last batches, so merging single-call fits of A and B equals one call on A ∪ B to rounding.
 * Training and scoring only: no I/O.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'
import type { Constraints } from '../../core/params.js'
import { real } from '../../core/params.js'
import type { Classifier, EstimatorJSON, PartialFitOptions } from '../estimator.js'
import {
  checkFinite,
  checkLength,
  checkMergeable,
  checkSampleWeight,
  checkShape,
  classLookup,
  decisionValues,
  invalidState,
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
  validateNbParams,
} from './bayes-core.js'
import {
  classMoments,
  combineMoments,
  featureMoments,
  gaussianJointLogLikelihood,
  gaussianLogNormalizers,
} from './kernels/gaussian.js'

/** Hyperparameters of {@link GaussianNB} (scikit-learn's names in camelCase). */
export type GaussianNBParams = {
  /**
   * Fraction of the largest feature variance (of the latest batch) added to every variance for stability.
   * Default 1e-9.
   */
  readonly varSmoothing: number
  /** Class prior probabilities, one per class in sorted class order, summing to 1; `null` (default) learns them. */
  readonly priors: readonly number[] | null
}

/** Defaults: scikit-learn's. */
export const GAUSSIAN_NB_DEFAULTS: GaussianNBParams = { varSmoothing: 1e-9, priors: null }

/**
 * Constraint table of the scalar params (scikit-learn's `_parameter_constraints`); the list-valued `priors` is
 * checked separately (null, or finite non-negative numbers summing to 1, one per class).
 */
export const GAUSSIAN_NB_CONSTRAINTS: Constraints<Omit<GaussianNBParams, 'priors'>> = {
  varSmoothing: real({ min: 0 }),
}

/** Serialized {@link GaussianNB}: the raw statistics; derived quantities are recomputed on load. */
export type GaussianNBJSON = EstimatorJSON & {
  readonly kind: 'gaussian-nb'
  readonly params: GaussianNBParams
  readonly state: {
    readonly classes: number[]
    readonly nFeatures: number
    /** Rows (or total weight) per class (scikit-learn's `class_count_`). */
    readonly classCount: Float64Array
    /** Per-class feature means, `classes × features` (scikit-learn's `theta_`). */
    readonly theta: Float64Array
    /** Per-class feature variances including epsilon, `classes × features` (scikit-learn's `var_`). */
    readonly variance: Float64Array
    /** Rows of the batch (or merged batches) that set epsilon. */
    readonly epsilonRows: number
    /** Unweighted per-feature mean and variance of those rows; `epsilon = varSmoothing · max(epsilonVariance)`. */
    readonly epsilonMean: Float64Array
    readonly epsilonVariance: Float64Array
  }
}

const OWNER = 'GaussianNB'
const KIND = 'gaussian-nb'

interface GaussianState {
  readonly nFeatures: number
  readonly nClasses: number
  readonly classCount: Float64Array
  readonly theta: Float64Array
  readonly variance: Float64Array
  epsilonRows: number
  readonly epsilonMean: Float64Array
  readonly epsilonVariance: Float64Array
  epsilon: number
  /** Derived after every update. */
  readonly classPrior: Float64Array
  readonly logPrior: Float64Array
  readonly normalizer: Float64Array
}

/** Validates GaussianNB params (and the priors' length once the class count is known); throws `INVALID_PARAM`. */
export function validateGaussianParams(params: GaussianNBParams, nClasses?: number): void {
  validateNbParams(OWNER, GAUSSIAN_NB_CONSTRAINTS as Constraints<Record<string, unknown>>, params, {
    key: 'priors',
    sumToOne: true,
    ...(nClasses === undefined ? {} : { nClasses }),
  })
}

/**
 * Gaussian naive Bayes classifier.
 * @example
 * const model = new GaussianNB()
 * model.partialFit(X, y, { classes: [0, 1] })
 * model.partialFit(X2, y2)
 * const p = model.predictProba(Xtest) // rows × 2
 */
export class GaussianNB implements Classifier {
  readonly kind = KIND
  readonly task = 'classification'
  readonly params: Readonly<GaussianNBParams>
  #state: GaussianState | undefined
  #classes: readonly number[] = []
  #lookup = new Map<number, number>()
  #scratch = new Float64Array(0)
  #workspace: GaussianWorkspace | undefined
  readonly #jll: JointLogLikelihood = {
    write: (X, out, start, end) => {
      const s = this.#state!
      gaussianJointLogLikelihood(
        X.data,
        s.nFeatures,
        s.theta,
        s.variance,
        s.normalizer,
        s.logPrior,
        s.nClasses,
        out,
        start,
        end,
      )
    },
  }

  constructor(params: Partial<GaussianNBParams> = {}) {
    this.params = { ...GAUSSIAN_NB_DEFAULTS, ...params }
  }

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

  /** Per-class feature means, `classes × features` (scikit-learn's `theta_`); a copy. */
  get theta(): Float64Array {
    return this.#fitted().theta.slice()
  }

  /** Per-class feature variances including epsilon, `classes × features` (scikit-learn's `var_`); a copy. */
  get variance(): Float64Array {
    return this.#fitted().variance.slice()
  }

  /** Rows (or total sample weight) per class (scikit-learn's `class_count_`); a copy. */
  get classCount(): Float64Array {
    return this.#fitted().classCount.slice()
  }

  /** Class priors: `priors` when given, else the class frequencies (scikit-learn's `class_prior_`); a copy. */
  get classPrior(): Float64Array {
    return this.#fitted().classPrior.slice()
  }

  /** The variance floor added to every variance (scikit-learn's `epsilon_`). */
  get epsilon(): number {
    return this.#fitted().epsilon
  }

  /** A new unfitted model with some parameters changed (scikit-learn's `clone` + `set_params`). */
  withParams(patch: Partial<GaussianNBParams>): GaussianNB {
    return new GaussianNB({ ...this.params, ...patch })
  }

  /**
   * Updates the class statistics with the rows of `X` labelled `y`. The first call validates the params and
   * needs `options.classes`. Throws, leaving the model unchanged, on a changed feature count or wrong lengths
   * (`INVALID_INPUT`), NaN/±Infinity in X, labels outside the classes or negative weights (`INVALID_DATA` naming
   * the row and feature). A call with zero rows changes nothing.
   */
  partialFit(X: DenseMatrix, y: Float64Array, options: PartialFitOptions = {}): void {
    const first = this.#state === undefined
    if (first) validateGaussianParams(this.params)
    const classes = resolveClasses(OWNER, first ? undefined : this.#classes, options.classes)
    if (first) validateGaussianParams(this.params, classes.length)
    checkShape(OWNER, X, this.#state?.nFeatures)
    checkLength('y', y, X.rows)
    const weights = options.sampleWeight ?? null
    if (weights !== null) checkSampleWeight(weights, X.rows)
    checkFinite(OWNER, X)
    const lookup = first ? classLookup(classes) : this.#lookup
    const ws = this.#workspaceFor(classes.length, X.cols, X.rows)
    labelIndices(y, lookup, classes, ws.classIndex)
    if (X.rows === 0) return

    const state = this.#state ?? createState(classes.length, X.cols)
    const { nFeatures, nClasses } = state
    featureMoments(X.data, nFeatures, X.rows, ws.featureMean, ws.featureVariance)
    classMoments(
      X.data,
      nFeatures,
      X.rows,
      ws.classIndex,
      weights,
      nClasses,
      ws.rowsOf,
      ws.weightOf,
      ws.mean,
      ws.variance,
    )
    const epsilon = this.params.varSmoothing * max(ws.featureVariance, nFeatures)
    // scikit-learn subtracts the new epsilon (not the one it added last time) before updating; kept for parity.
    if (!first) for (let i = 0; i < state.variance.length; i++) state.variance[i] = state.variance[i]! - epsilon
    for (let k = 0; k < nClasses; k++) {
      if (ws.rowsOf[k] === 0) continue
      const n = ws.weightOf[k]!
      // scikit-learn skips the moments of a class whose batch weight is ~0 (np.isclose(n, 0)) but still counts it.
      if (!(weights !== null && Math.abs(n) <= 1e-8)) {
        combineMoments(
          state.classCount[k]!,
          state.theta,
          state.variance,
          k * nFeatures,
          n,
          ws.mean,
          ws.variance,
          k * nFeatures,
          nFeatures,
        )
      }
      state.classCount[k] = state.classCount[k]! + n
    }
    for (let i = 0; i < state.variance.length; i++) state.variance[i] = state.variance[i]! + epsilon
    state.epsilonRows = X.rows
    state.epsilonMean.set(ws.featureMean.subarray(0, nFeatures))
    state.epsilonVariance.set(ws.featureVariance.subarray(0, nFeatures))
    state.epsilon = epsilon
    refresh(state, this.params.priors)
    if (first) this.#install(state, classes, lookup)
  }

  /**
   * Folds in a model fitted on other rows (another shard): the result is what fitting both shards' rows would
   * give, to rounding. Both models need the same params, classes and feature count (`INVALID_ARGUMENT`); merging
   * an unfitted model changes nothing, and an unfitted model takes the other's state.
   */
  merge(other: GaussianNB): void {
    checkMergeable(
      OWNER,
      { params: this.params, classes: this.#classes, nFeatures: this.nFeaturesIn },
      { params: other.params, classes: other.#classes, nFeatures: other.nFeaturesIn },
    )
    // Merging a model into itself reads the statistics it is overwriting, so it reads a copy.
    const theirs = other === this && other.#state !== undefined ? cloneState(other.#state) : other.#state
    if (theirs === undefined) return
    const mine = this.#state
    if (mine === undefined) {
      this.#install(cloneState(theirs), other.#classes, classLookup(other.#classes))
      return
    }
    const { nFeatures, nClasses } = mine
    for (let k = 0; k < nClasses; k++) {
      const at = k * nFeatures
      const nA = mine.classCount[k]!
      const nB = theirs.classCount[k]!
      for (let j = at; j < at + nFeatures; j++) mine.variance[j] = nA === 0 ? 0 : mine.variance[j]! - mine.epsilon
      if (nA === 0) mine.theta.fill(0, at, at + nFeatures)
      if (nB !== 0) {
        const ws = this.#workspaceFor(nClasses, nFeatures, 0)
        for (let j = 0; j < nFeatures; j++) {
          ws.mean[j] = theirs.theta[at + j]!
          ws.variance[j] = theirs.variance[at + j]! - theirs.epsilon
        }
        combineMoments(nA, mine.theta, mine.variance, at, nB, ws.mean, ws.variance, 0, nFeatures)
      }
      mine.classCount[k] = nA + nB
    }
    combineMoments(
      mine.epsilonRows,
      mine.epsilonMean,
      mine.epsilonVariance,
      0,
      theirs.epsilonRows,
      theirs.epsilonMean,
      theirs.epsilonVariance,
      0,
      nFeatures,
    )
    mine.epsilonRows += theirs.epsilonRows
    mine.epsilon = this.params.varSmoothing * max(mine.epsilonVariance, nFeatures)
    for (let i = 0; i < mine.variance.length; i++) mine.variance[i] = mine.variance[i]! + mine.epsilon
    refresh(mine, this.params.priors)
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

  /** Hyperparameters and raw statistics; typed arrays stay typed and are copies. */
  toJSON(): GaussianNBJSON {
    const s = this.#fitted()
    return {
      kind: KIND,
      params: { ...this.params, priors: this.params.priors === null ? null : [...this.params.priors] },
      state: {
        classes: [...this.#classes],
        nFeatures: s.nFeatures,
        classCount: s.classCount.slice(),
        theta: s.theta.slice(),
        variance: s.variance.slice(),
        epsilonRows: s.epsilonRows,
        epsilonMean: s.epsilonMean.slice(),
        epsilonVariance: s.epsilonVariance.slice(),
      },
    }
  }

  /** Rebuilds a model from `toJSON()` output; throws `ARTIFACT_INVALID` naming a malformed field. */
  static fromJSON(json: EstimatorJSON): GaussianNB {
    if (json.kind !== KIND) {
      throw new ScalemlError('ARTIFACT_INVALID', `Expected kind '${KIND}', got '${String(json.kind)}'.`)
    }
    const model = new GaussianNB(json.params as Partial<GaussianNBParams>)
    const raw = json.state
    const classes = readClasses(KIND, raw)
    validateLoadedParams(KIND, () => validateGaussianParams(model.params, classes.length))
    const nFeatures = readFeatureCount(KIND, raw)
    const size = classes.length * nFeatures
    const state = createState(classes.length, nFeatures)
    state.classCount.set(readVector(KIND, raw, 'classCount', classes.length, true))
    state.theta.set(readVector(KIND, raw, 'theta', size, false))
    state.variance.set(readVector(KIND, raw, 'variance', size, false))
    const rows = raw['epsilonRows']
    if (typeof rows !== 'number' || !Number.isInteger(rows) || rows < 0) {
      throw invalidState(KIND, 'state.epsilonRows', 'a non-negative integer', rows)
    }
    state.epsilonRows = rows
    state.epsilonMean.set(readVector(KIND, raw, 'epsilonMean', nFeatures, false))
    state.epsilonVariance.set(readVector(KIND, raw, 'epsilonVariance', nFeatures, true))
    state.epsilon = model.params.varSmoothing * max(state.epsilonVariance, nFeatures)
    refresh(state, model.params.priors)
    model.#install(state, classes, classLookup(classes))
    return model
  }

  #install(state: GaussianState, classes: readonly number[], lookup: Map<number, number>): void {
    this.#state = state
    this.#classes = classes
    this.#lookup = lookup
    this.#scratch = new Float64Array(classes.length)
  }

  #fitted(): GaussianState {
    if (this.#state === undefined) throw notFitted(OWNER)
    return this.#state
  }

  #checkInput(X: DenseMatrix): void {
    const state = this.#fitted()
    checkShape(OWNER, X, state.nFeatures)
    checkFinite(OWNER, X)
  }

  /** Scratch sized for `nClasses × nFeatures` statistics and at least `rows` labels; reused across calls. */
  #workspaceFor(nClasses: number, nFeatures: number, rows: number): GaussianWorkspace {
    const ws = this.#workspace
    const fits =
      ws !== undefined &&
      ws.rowsOf.length === nClasses &&
      ws.featureMean.length === nFeatures &&
      ws.classIndex.length >= rows
    if (fits) return ws
    const next: GaussianWorkspace = {
      classIndex: new Int32Array(Math.max(rows, ws?.classIndex.length ?? 0)),
      rowsOf: new Float64Array(nClasses),
      weightOf: new Float64Array(nClasses),
      mean: new Float64Array(nClasses * nFeatures),
      variance: new Float64Array(nClasses * nFeatures),
      featureMean: new Float64Array(nFeatures),
      featureVariance: new Float64Array(nFeatures),
    }
    this.#workspace = next
    return next
  }
}

/** Per-instance scratch for `partialFit`, reused across calls and never serialized. */
interface GaussianWorkspace {
  readonly classIndex: Int32Array
  readonly rowsOf: Float64Array
  readonly weightOf: Float64Array
  readonly mean: Float64Array
  readonly variance: Float64Array
  readonly featureMean: Float64Array
  readonly featureVariance: Float64Array
}

function createState(nClasses: number, nFeatures: number): GaussianState {
  return {
    nFeatures,
    nClasses,
    classCount: new Float64Array(nClasses),
    theta: new Float64Array(nClasses * nFeatures),
    variance: new Float64Array(nClasses * nFeatures),
    epsilonRows: 0,
    epsilonMean: new Float64Array(nFeatures),
    epsilonVariance: new Float64Array(nFeatures),
    epsilon: 0,
    classPrior: new Float64Array(nClasses),
    logPrior: new Float64Array(nClasses),
    normalizer: new Float64Array(nClasses),
  }
}

function cloneState(s: GaussianState): GaussianState {
  return {
    ...s,
    classCount: s.classCount.slice(),
    theta: s.theta.slice(),
    variance: s.variance.slice(),
    epsilonMean: s.epsilonMean.slice(),
    epsilonVariance: s.epsilonVariance.slice(),
    classPrior: s.classPrior.slice(),
    logPrior: s.logPrior.slice(),
    normalizer: s.normalizer.slice(),
  }
}

/** Recomputes the priors and the per-class normalizers from the statistics. */
function refresh(state: GaussianState, priors: readonly number[] | null): void {
  const { classCount, classPrior, logPrior, nClasses } = state
  if (priors !== null) {
    for (let k = 0; k < nClasses; k++) classPrior[k] = priors[k]!
  } else {
    let total = 0
    for (let k = 0; k < nClasses; k++) total += classCount[k]!
    for (let k = 0; k < nClasses; k++) classPrior[k] = classCount[k]! / total
  }
  for (let k = 0; k < nClasses; k++) logPrior[k] = Math.log(classPrior[k]!)
  gaussianLogNormalizers(state.variance, nClasses, state.nFeatures, state.normalizer)
}

function max(values: Float64Array, n: number): number {
  let m = Number.NEGATIVE_INFINITY
  for (let j = 0; j < n; j++) if (values[j]! > m) m = values[j]!
  return m
}
