/**
 * Estimator contracts (scikit-learn's verbs): hyperparameters in the constructor, learned state private,
 * `partialFit` to learn from one batch, `predict`/`predictProba` on dense row-major features.
 * @module
 */
import type { DenseMatrix, SparseRows } from '../core/matrix.js'

/** Serialized estimator: `kind` picks the class in the model catalog; typed arrays are allowed anywhere in `state`. */
export interface EstimatorJSON {
  readonly kind: string
  readonly params: Readonly<Record<string, unknown>>
  readonly state: Readonly<Record<string, unknown>>
}

/** What every estimator has. */
export interface Estimator {
  readonly kind: string
  readonly task: 'classification' | 'regression'
  readonly params: Readonly<Record<string, unknown>>
  readonly isFitted: boolean
  /** Number of input features seen at fit time. */
  readonly nFeaturesIn: number | undefined
  toJSON(): EstimatorJSON
}

/** Options of one incremental step. */
export interface PartialFitOptions {
  /** Every class the labels can take (required on the first call, as in scikit-learn). */
  readonly classes?: readonly number[]
  /** Per-row weights. */
  readonly sampleWeight?: Float64Array
  /** Rows per class over the whole training data, for `classWeight: 'balanced'` (ignored otherwise). */
  readonly classCounts?: ReadonlyMap<number, number> | Readonly<Record<string, number>>
}

/** A classifier over numeric class labels. */
export interface Classifier extends Estimator {
  readonly task: 'classification'
  /** The classes, sorted; valid once fitted. */
  readonly classes: readonly number[]
  /**
   * True when `predictProba` gives probabilities (logistic or modified Huber loss, naive Bayes); margin classifiers
   * (hinge, perceptron, passive-aggressive) only have `decisionFunction` and `predict`.
   */
  readonly hasProbabilities: boolean
  partialFit(X: DenseMatrix, y: Float64Array, options?: PartialFitOptions): void
  /** Predicted class labels. */
  predict(X: DenseMatrix): Float64Array
  /** Class probabilities, row-major `rows × classes.length`. */
  predictProba(X: DenseMatrix): Float64Array
  /** Raw margins: `rows` values for binary, `rows × classes` otherwise. */
  decisionFunction(X: DenseMatrix): Float64Array
}

/** A regressor. */
export interface Regressor extends Estimator {
  readonly task: 'regression'
  partialFit(X: DenseMatrix, y: Float64Array, options?: Omit<PartialFitOptions, 'classes'>): void
  predict(X: DenseMatrix): Float64Array
}

/** Any supervised estimator. */
export type SupervisedEstimator = Classifier | Regressor

/** Options of one incremental clustering step. */
export type ClusterPartialFitOptions = Pick<PartialFitOptions, 'sampleWeight'>

/**
 * A clustering estimator (unsupervised): learns from X alone, one batch per `partialFit`, and labels rows with the
 * index of their cluster. It has every member of `Estimator` except that its task is 'clustering'.
 */
export interface Clusterer extends Omit<Estimator, 'task'> {
  readonly task: 'clustering'
  /** Number of clusters the model partitions rows into. */
  readonly nClusters: number
  partialFit(X: DenseMatrix, options?: ClusterPartialFitOptions): void
  /** The cluster of each row, as a number in `0 … nClusters − 1`. */
  predict(X: DenseMatrix): Float64Array
  /** Distance from each row to each cluster, row-major `rows × nClusters`. */
  transform(X: DenseMatrix): Float64Array
  /** Σ weight × squared distance of each row to its nearest cluster (lower is better). */
  inertia(X: DenseMatrix, options?: ClusterPartialFitOptions): number
  /** `−inertia(X)`, so that higher is better (scikit-learn's `score`). */
  score(X: DenseMatrix, options?: ClusterPartialFitOptions): number
}

/** Any estimator the catalog can create. */
export type AnyEstimator = Classifier | Regressor | Clusterer

/**
 * Capability: learns from and predicts on {@link SparseRows} (what `Pipeline.transformSparse` writes), with
 * results bit-identical to the dense methods on the rows' dense expansion, at a cost proportional to the stored
 * entries rather than the width. The linear SGD models (SgdClassifier, SgdRegressor, Perceptron, the
 * passive-aggressive models) have it; check with {@link acceptsSparse}.
 */
export interface SparseInputModel {
  /** `partialFit` on sparse rows. */
  partialFitSparse(X: SparseRows, y: Float64Array, options?: PartialFitOptions): void
  /** `predict` on sparse rows. */
  predictSparse(X: SparseRows): Float64Array
}

/** The sparse capability of a classifier: its scoring methods too. */
export interface SparseInputClassifier extends SparseInputModel {
  /** `decisionFunction` on sparse rows. */
  decisionFunctionSparse(X: SparseRows): Float64Array
  /** `predictProba` on sparse rows; throws `INVALID_ARGUMENT` where `predictProba` does. */
  predictProbaSparse(X: SparseRows): Float64Array
}

/** `M` with the sparse capability that fits its kind: a classifier gets the classifier's methods. */
export type WithSparseInput<M> = M extends Classifier ? M & SparseInputClassifier : M & SparseInputModel

/**
 * True when `model` has the sparse capability (a classifier: all four sparse methods; otherwise
 * `partialFitSparse` and `predictSparse`).
 *
 * @example
 * if (acceptsSparse(model) && pipeline.supportsSparse) model.partialFitSparse(pipeline.transformSparse(batch, buffers), y)
 */
export function acceptsSparse<M extends AnyEstimator>(model: M): model is WithSparseInput<M> & M {
  const m = model as Partial<SparseInputClassifier>
  const base = typeof m.partialFitSparse === 'function' && typeof m.predictSparse === 'function'
  if (!base || model.task !== 'classification') return base
  return typeof m.decisionFunctionSparse === 'function' && typeof m.predictProbaSparse === 'function'
}
