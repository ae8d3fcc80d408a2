/**
 * Random forests on the histogram tree engine (tree-grower.ts): `RandomForestClassifier` and
 * `RandomForestRegressor`. Each tree is grown deep on a bootstrap sample of the rows (drawn with replacement, each
 * row weighted by how often it was drawn), choosing each split among a fresh random subset of the features, and the
 * forest averages the trees (Breiman 2001; scikit-learn's RandomForest* semantics, on 255-bin histograms).
 *
 * How the engine grows a forest tree: the trees fit the targets by least squares from a zero start, i.e. gradients
 * `−y·w` and hessians `w` with no regularization (λ = 0), so a leaf's value is the weighted mean target and a split's
 * gain is half the weighted variance reduction; for classification the targets are class indicators (one gradient
 * per class for three or more classes, one shared structure), which makes the gain the Gini impurity decrease and
 * the leaves class frequencies.
 *
 * The fitted trees go into a {@link TreeEnsemble} with the identity link ('reg:squarederror') and leaf values already
 * divided by the number of trees, so the ensemble's margin is the forest average: the mean target, or the class
 * probabilities (binary: one output, P(classes[1]); more classes: one output per class, each class's trees sharing
 * the structure of their forest tree). Training only: no I/O.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'
import type { Constraints } from '../../core/params.js'
import { bool, int, nullable, oneOf, real, validateParams } from '../../core/params.js'
import { Random } from '../../core/random.js'
import type { Classifier, EstimatorJSON, Regressor } from '../estimator.js'
import { type BinnedData, DatasetSketch, MAX_BINS } from './binning.js'
import { checkLabels, checkMatrix, checkWeights, labelIndices, resolveClasses } from './fit-inputs.js'
import { sharedIf } from './histogram.js'
import { DEFAULT_N_THREADS } from './parallel-histogram.js'
import { predictMarginsInto } from './predict/traverse.js'
import {
  ensembleFromJSON,
  ensembleToJSON,
  type TreeEnsemble,
  TreeEnsembleBuilder,
  type TreeEnsembleJSON,
} from './tree-ensemble.js'
import { type GrowerSettings, TreeGrower, toTreeSpec, treeLeafWeights } from './tree-grower.js'

/** Hyperparameters of the random forests. */
export type RandomForestParams = {
  /** Trees; default 100. */
  readonly nEstimators: number
  /** Most levels below the root; null (default) grows until leaves are pure or too small. */
  readonly maxDepth: number | null
  /** Most leaves per tree; null (default) for no bound. */
  readonly maxLeaves: number | null
  /** Fewest training rows (distinct, in the bootstrap sample) in a leaf; default 1. */
  readonly minSamplesLeaf: number
  /**
   * Features considered at each split: 'sqrt' (√nFeatures, the classifier's default), 'log2', or 'all' (the
   * regressor's default, scikit-learn's `max_features=1.0`); at least one.
   */
  readonly maxFeatures: 'sqrt' | 'log2' | 'all'
  /** Draw each tree's rows with replacement (default true); false grows every tree on all rows. */
  readonly bootstrap: boolean
  /** Rows drawn per tree as a fraction of the training rows, (0, 1]; null (default) draws as many as there are. */
  readonly maxSamples: number | null
  /** Value bins per feature, 2..255; default 255. */
  readonly maxBins: number
  /** Categorical features with at most this many categories present in a node split one category vs the rest; 4. */
  readonly maxCatToOnehot: number
  /** Most categories sent right by one categorical split; default 64. */
  readonly maxCatThreshold: number
  /** Seed of the bootstrap draws and feature subsets; default 0. */
  readonly seed: number
  /**
   * Threads that build histograms and partition rows (the calling thread included); the forest is bit-identical
   * for any value. Default: the machine's available parallelism, at most 4 (see the GBDT's `nThreads` for why).
   */
  readonly nThreads: number
}

const COMMON_DEFAULTS: Omit<RandomForestParams, 'maxFeatures'> = {
  nEstimators: 100,
  maxDepth: null,
  maxLeaves: null,
  minSamplesLeaf: 1,
  bootstrap: true,
  maxSamples: null,
  maxBins: MAX_BINS,
  maxCatToOnehot: 4,
  maxCatThreshold: 64,
  seed: 0,
  nThreads: DEFAULT_N_THREADS,
}

/** Defaults of {@link RandomForestClassifier}. */
export const RANDOM_FOREST_CLASSIFIER_DEFAULTS: RandomForestParams = { ...COMMON_DEFAULTS, maxFeatures: 'sqrt' }

/** Defaults of {@link RandomForestRegressor}. */
export const RANDOM_FOREST_REGRESSOR_DEFAULTS: RandomForestParams = { ...COMMON_DEFAULTS, maxFeatures: 'all' }

/** Constraint table of {@link RandomForestParams}. */
export const RANDOM_FOREST_CONSTRAINTS: Constraints<RandomForestParams> = {
  nEstimators: int({ min: 1 }),
  maxDepth: nullable(int({ min: 1 })),
  maxLeaves: nullable(int({ min: 2 })),
  minSamplesLeaf: int({ min: 1 }),
  maxFeatures: oneOf('sqrt', 'log2', 'all'),
  bootstrap: bool(),
  maxSamples: nullable(real({ min: 0, max: 1, closed: 'right' })),
  maxBins: int({ min: 2, max: MAX_BINS }),
  maxCatToOnehot: int({ min: 1 }),
  maxCatThreshold: int({ min: 1 }),
  seed: int(),
  nThreads: int({ min: 1 }),
}

/** Options of `fit` / `fitBinned`. */
export interface RandomForestFitOptions {
  /** Columns holding integer category codes (`fit` only). */
  readonly categoricalFeatures?: readonly number[]
  /** Per-row weights (finite, ≥ 0), multiplied with the bootstrap counts. */
  readonly sampleWeight?: Float64Array
  /** Feature names for the ensemble. */
  readonly featureNames?: readonly string[]
}

/** Classifier fit options. */
export interface RandomForestClassifierFitOptions extends RandomForestFitOptions {
  /** Every class the labels can take (default: the distinct labels); at least two. */
  readonly classes?: readonly number[]
}

/** Serialized forest. */
export interface RandomForestJSON extends EstimatorJSON {
  readonly state: {
    readonly ensemble: TreeEnsembleJSON
    readonly classes?: number[]
    readonly importanceGain: Float64Array
    readonly importanceSplit: Float64Array
  }
}

interface ForestState {
  readonly ensemble: TreeEnsemble
  readonly classes: readonly number[] | undefined
  readonly importanceGain: Float64Array
  readonly importanceSplit: Float64Array
}

/** Base of the two forests. */
abstract class RandomForestBase {
  readonly params: Readonly<RandomForestParams>
  protected abstract readonly owner: string
  abstract readonly kind: string
  protected state: ForestState | undefined

  protected constructor(params: RandomForestParams) {
    this.params = params
  }

  /** True once fitted (or loaded). */
  get isFitted(): boolean {
    return this.state !== undefined
  }

  /** Features seen at fit time. */
  get nFeaturesIn(): number | undefined {
    return this.state?.ensemble.nFeatures
  }

  /** The fitted ensemble; throws `NOT_FITTED`. */
  get ensemble(): TreeEnsemble {
    return this.fitted().ensemble
  }

  /**
   * Per-feature importance: 'gain' (default), the total impurity decrease (weighted variance, or Gini for
   * classification, over every split on the feature); 'split', the number of splits. A copy.
   */
  featureImportance(type: 'gain' | 'split' = 'gain'): Float64Array {
    const s = this.fitted()
    return (type === 'split' ? s.importanceSplit : s.importanceGain).slice()
  }

  protected fitted(): ForestState {
    if (this.state === undefined) {
      throw new ScalemlError('NOT_FITTED', `This ${this.owner} is not fitted yet; call fit first.`)
    }
    return this.state
  }

  protected checkParams(): void {
    validateParams(this.owner, RANDOM_FOREST_CONSTRAINTS, this.params)
  }

  protected margins(X: DenseMatrix): Float64Array {
    const e = this.fitted().ensemble
    if (X.cols !== e.nFeatures || X.data.length < X.rows * X.cols) {
      throw new ScalemlError(
        'INVALID_INPUT',
        `${this.owner} was fitted on ${e.nFeatures} features; got rows of ${X.cols} features (${X.rows} rows).`,
      )
    }
    const out = new Float64Array(X.rows * e.nOutputs)
    predictMarginsInto(e, X.data, X.rows, out)
    return out
  }

  protected bin(X: DenseMatrix, options: RandomForestFitOptions): BinnedData {
    checkMatrix(this.owner, X)
    const sketch = new DatasetSketch(X.cols, {
      maxBins: this.params.maxBins,
      categoricalFeatures: options.categoricalFeatures ?? [],
      seed: this.params.seed,
    })
    sketch.partialFit(X)
    return sketch.toBinMapper().transform(X)
  }

  /** Grows the forest on targets `target` (`nGradients` columns of `nRows`: y, or class indicators). */
  protected grow(
    binned: BinnedData,
    problem: { readonly target: Float32Array; readonly nGradients: number; readonly weight: Float64Array },
    options: RandomForestFitOptions & { readonly classes?: readonly number[] },
  ): void {
    const p = this.params
    const nFeatures = binned.mapper.nFeatures
    const K = problem.nGradients
    const random = new Random(p.seed)
    const settings: GrowerSettings = {
      lambda: 0,
      gamma: 0,
      minChildWeight: 0,
      minSamplesLeaf: p.minSamplesLeaf,
      maxCatToOnehot: p.maxCatToOnehot,
      maxCatThreshold: p.maxCatThreshold,
      maxLeaves: p.maxLeaves,
      maxDepth: p.maxDepth,
      growPolicy: 'depthfirst',
      featuresPerSplit: featuresPerSplit(p.maxFeatures, nFeatures),
      // Any variance reduction counts (an absolute floor would stop forests on targets in small units).
      minSplitGain: 0,
      nThreads: p.nThreads,
    }
    const grower = new TreeGrower(binned, K, settings)
    try {
      this.state = growForest(p, binned, problem, { ...options, grower, random })
    } finally {
      // Stops the worker threads also when growing throws.
      grower.close()
    }
  }

  protected stateJSON(): RandomForestJSON['state'] {
    const s = this.fitted()
    return {
      ensemble: ensembleToJSON(s.ensemble),
      ...(s.classes === undefined ? {} : { classes: [...s.classes] }),
      importanceGain: s.importanceGain.slice(),
      importanceSplit: s.importanceSplit.slice(),
    }
  }

  protected restore(json: EstimatorJSON, classification: boolean): void {
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
    const st = json.state as Partial<RandomForestJSON['state']>
    const ensemble = ensembleFromJSON(st.ensemble)
    if (ensemble.objective !== 'reg:squarederror') {
      throw new ScalemlError('ARTIFACT_INVALID', `A ${this.kind} needs an identity-link ensemble ('reg:squarederror').`)
    }
    const importance = (v: unknown, name: string): Float64Array => {
      const a = v instanceof Float64Array ? v : Array.isArray(v) ? Float64Array.from(v as number[]) : undefined
      if (a === undefined || a.length !== ensemble.nFeatures) {
        throw new ScalemlError(
          'ARTIFACT_INVALID',
          `Invalid ${this.kind} state: ${name} must hold one number a feature.`,
        )
      }
      return a.slice()
    }
    let classes: number[] | undefined
    if (classification) {
      const c = st.classes
      const expected = ensemble.nOutputs === 1 ? 2 : ensemble.nOutputs
      if (!Array.isArray(c) || c.length !== expected || !c.every((v) => typeof v === 'number')) {
        throw new ScalemlError('ARTIFACT_INVALID', `Invalid ${this.kind} state: classes must list ${expected} numbers.`)
      }
      classes = [...c]
    }
    this.state = {
      ensemble,
      classes,
      importanceGain: importance(st.importanceGain, 'importanceGain'),
      importanceSplit: importance(st.importanceSplit, 'importanceSplit'),
    }
  }
}

/** Grows the trees of a forest on `options.grower`. */
function growForest(
  p: RandomForestParams,
  binned: BinnedData,
  problem: { readonly target: Float32Array; readonly nGradients: number; readonly weight: Float64Array },
  options: RandomForestFitOptions & {
    readonly classes?: readonly number[]
    readonly grower: TreeGrower
    readonly random: Random
  },
): ForestState {
  const { grower, random } = options
  const { nRows, mapper } = binned
  const nFeatures = mapper.nFeatures
  const K = problem.nGradients
  const builder = new TreeEnsembleBuilder({
    nFeatures,
    nOutputs: K,
    objective: 'reg:squarederror',
    baseMargin: new Float64Array(K),
    ...(options.featureNames === undefined ? {} : { featureNames: options.featureNames }),
  })
  // Shared with the worker threads, so the builder and grower need not copy them per tree.
  const threaded = p.nThreads > 1
  const grad = sharedIf(threaded, Float32Array, nRows * K)
  const hess = sharedIf(threaded, Float32Array, nRows)
  const rows = sharedIf(threaded, Uint32Array, nRows)
  const counts = new Float64Array(nRows)
  const features = Int32Array.from({ length: nFeatures }, (_, f) => f)
  const importanceGain = new Float64Array(nFeatures)
  const importanceSplit = new Float64Array(nFeatures)
  const nDraws = p.maxSamples === null ? nRows : Math.max(1, Math.round(p.maxSamples * nRows))
  let values = new Float64Array(64)
  for (let t = 0; t < p.nEstimators; t++) {
    counts.fill(0)
    if (p.bootstrap) for (let d = 0; d < nDraws; d++) counts[random.nextInt(nRows)]!++
    else counts.fill(1)
    let nIn = 0
    for (let r = 0; r < nRows; r++) {
      const w = counts[r]! * (problem.weight.length > 0 ? problem.weight[r]! : 1)
      if (counts[r]! > 0) rows[nIn++] = r
      hess[r] = w
      for (let c = 0; c < K; c++) grad[c * nRows + r] = -problem.target[c * nRows + r]! * w
    }
    const tree = grower.grow({
      grad,
      hess,
      rows,
      nRows: nIn,
      allRows: nIn === nRows,
      features,
      nFeatures,
      random,
    })
    if (values.length < tree.nNodes) values = new Float64Array(tree.nNodes * 2)
    for (let c = 0; c < K; c++) {
      treeLeafWeights(tree, c, 0, values)
      for (let i = 0; i < tree.nNodes; i++) values[i] = values[i]! / p.nEstimators
      builder.addTree(toTreeSpec(tree, mapper, values), c)
    }
    for (let i = 0; i < tree.nNodes; i++) {
      const f = tree.feature[i]!
      if (f < 0) continue
      importanceGain[f] = importanceGain[f]! + tree.gain[i]!
      importanceSplit[f] = importanceSplit[f]! + 1
    }
  }
  return { ensemble: builder.build(), classes: options.classes, importanceGain, importanceSplit }
}

/**
 * Random-forest classifier: averaged class frequencies of deep trees grown on bootstrap samples with Gini splits.
 *
 * @example
 * const forest = new RandomForestClassifier({ nEstimators: 200, maxFeatures: 'sqrt' })
 * forest.fit(X, y)
 * const p = forest.predictProba(Xtest) // rows × classes
 */
export class RandomForestClassifier extends RandomForestBase implements Omit<Classifier, 'partialFit'> {
  readonly kind = 'random-forest-classifier'
  readonly task = 'classification'
  readonly hasProbabilities = true
  protected readonly owner = 'RandomForestClassifier'

  constructor(params: Partial<RandomForestParams> = {}) {
    super({ ...RANDOM_FOREST_CLASSIFIER_DEFAULTS, ...params })
  }

  /** A new unfitted forest with some parameters changed. */
  withParams(patch: Partial<RandomForestParams>): RandomForestClassifier {
    return new RandomForestClassifier({ ...this.params, ...patch })
  }

  /** The sorted classes; empty before fitting. */
  get classes(): readonly number[] {
    return this.state?.classes ?? []
  }

  /**
   * Trains on all rows of `X` (NaN = missing) with labels `y`, replacing any previous fit.
   * @throws ScalemlError INVALID_PARAM, INVALID_INPUT, INVALID_DATA (NaN label, fewer than two classes, …).
   */
  fit(X: DenseMatrix, y: Float64Array, options: RandomForestClassifierFitOptions = {}): void {
    this.checkParams()
    checkMatrix(this.owner, X)
    this.fitBinned(this.bin(X, options), y, options)
  }

  /** Trains on rows already binned; see {@link fit}. */
  fitBinned(binned: BinnedData, y: Float64Array, options: RandomForestClassifierFitOptions = {}): void {
    this.checkParams()
    checkLabels(this.owner, y, binned.nRows)
    const classes = resolveClasses(this.owner, y, options.classes)
    const index = labelIndices(y, classes)
    const weight = checkWeights(this.owner, options.sampleWeight, binned.nRows)
    const n = binned.nRows
    const K = classes.length === 2 ? 1 : classes.length
    const target = new Float32Array(n * K)
    for (let r = 0; r < n; r++) {
      if (K === 1) target[r] = index[r]!
      else target[index[r]! * n + r] = 1
    }
    this.grow(binned, { target, nGradients: K, weight }, { ...options, classes })
  }

  /** Class probabilities (the forest's average class frequencies), `rows × classes`. */
  predictProba(X: DenseMatrix): Float64Array {
    const margins = this.margins(X)
    const k = this.classes.length
    const out = new Float64Array(X.rows * k)
    for (let r = 0; r < X.rows; r++) {
      if (k === 2) {
        const p = Math.min(Math.max(margins[r]!, 0), 1)
        out[2 * r] = 1 - p
        out[2 * r + 1] = p
        continue
      }
      // Averages of frequencies sum to 1 up to rounding; clip and renormalize so callers get a distribution.
      let sum = 0
      for (let c = 0; c < k; c++) sum += Math.max(margins[r * k + c]!, 0)
      for (let c = 0; c < k; c++) out[r * k + c] = sum > 0 ? Math.max(margins[r * k + c]!, 0) / sum : 1 / k
    }
    return out
  }

  /** Probabilities (the forest's margins are probabilities: there is no separate decision function). */
  decisionFunction(X: DenseMatrix): Float64Array {
    return this.margins(X)
  }

  /** The most probable class (ties: the smaller class). */
  predict(X: DenseMatrix): Float64Array {
    const proba = this.predictProba(X)
    const classes = this.classes
    const k = classes.length
    const out = new Float64Array(X.rows)
    for (let r = 0; r < X.rows; r++) {
      let best = 0
      for (let c = 1; c < k; c++) if (proba[r * k + c]! > proba[r * k + best]!) best = c
      out[r] = classes[best]!
    }
    return out
  }

  /** Hyperparameters and the fitted ensemble. */
  toJSON(): RandomForestJSON {
    return { kind: this.kind, params: { ...this.params }, state: this.stateJSON() }
  }

  /** Rebuilds a forest from {@link toJSON}; throws `ARTIFACT_INVALID` when malformed. */
  static fromJSON(json: EstimatorJSON): RandomForestClassifier {
    const model = new RandomForestClassifier(json.params as Partial<RandomForestParams>)
    model.restore(json, true)
    return model
  }
}

/**
 * Random-forest regressor: the average of deep least-squares trees grown on bootstrap samples.
 *
 * @example
 * const forest = new RandomForestRegressor({ nEstimators: 100, minSamplesLeaf: 5 })
 * forest.fit(X, y)
 * const yhat = forest.predict(Xtest)
 */
export class RandomForestRegressor extends RandomForestBase implements Omit<Regressor, 'partialFit'> {
  readonly kind = 'random-forest-regressor'
  readonly task = 'regression'
  protected readonly owner = 'RandomForestRegressor'

  constructor(params: Partial<RandomForestParams> = {}) {
    super({ ...RANDOM_FOREST_REGRESSOR_DEFAULTS, ...params })
  }

  /** A new unfitted forest with some parameters changed. */
  withParams(patch: Partial<RandomForestParams>): RandomForestRegressor {
    return new RandomForestRegressor({ ...this.params, ...patch })
  }

  /** Trains on all rows of `X` with finite targets `y`, replacing any previous fit. */
  fit(X: DenseMatrix, y: Float64Array, options: RandomForestFitOptions = {}): void {
    this.checkParams()
    checkMatrix(this.owner, X)
    this.fitBinned(this.bin(X, options), y, options)
  }

  /** Trains on rows already binned; see {@link fit}. */
  fitBinned(binned: BinnedData, y: Float64Array, options: RandomForestFitOptions = {}): void {
    this.checkParams()
    checkLabels(this.owner, y, binned.nRows)
    const weight = checkWeights(this.owner, options.sampleWeight, binned.nRows)
    this.grow(binned, { target: Float32Array.from(y), nGradients: 1, weight }, options)
  }

  /** Predicted targets (the average over the trees). */
  predict(X: DenseMatrix): Float64Array {
    return this.margins(X)
  }

  /** Hyperparameters and the fitted ensemble. */
  toJSON(): RandomForestJSON {
    return { kind: this.kind, params: { ...this.params }, state: this.stateJSON() }
  }

  /** Rebuilds a forest from {@link toJSON}; throws `ARTIFACT_INVALID` when malformed. */
  static fromJSON(json: EstimatorJSON): RandomForestRegressor {
    const model = new RandomForestRegressor(json.params as Partial<RandomForestParams>)
    model.restore(json, false)
    return model
  }
}

function featuresPerSplit(mode: RandomForestParams['maxFeatures'], nFeatures: number): number | null {
  switch (mode) {
    case 'all':
      return null
    case 'sqrt':
      return Math.max(1, Math.floor(Math.sqrt(nFeatures)))
    case 'log2':
      return Math.max(1, Math.floor(Math.log2(nFeatures)))
  }
}
