/**
 * Histogram gradient-boosted decision trees: `GbdtClassifier` (binary log-loss, multi-class softmax) and
 * `GbdtRegressor` (squared error, pseudo-Huber), trained in memory on binned features (binning.ts) by the shared
 * tree engine (tree-grower.ts), producing a {@link TreeEnsemble} through its builder.
 *
 * Boosting, XGBoost's formulation: each round computes per-row gradients and hessians of the loss at the current
 * margins, grows one tree per output on them (leaf weight `−G/(H + λ)`, split gain
 * `½[G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)] − γ`), and adds `learningRate ×` the leaf weights to the margins.
 * The first margin is the loss minimizer over the labels (log-odds of the positive rate, log class priors, mean, or
 * median for pseudo-Huber) — XGBoost 1.7 starts from 0.5 instead; starting from the prior saves the first rounds.
 *
 * Why `fit` and not `partialFit`: a boosting round needs the gradients of every training row at the current
 * margins, so training holds the binned rows (1 byte per feature per row) in memory and sees them once per round;
 * there is no sound one-batch-at-a-time update. Out-of-core callers bin batch by batch with a
 * `DatasetSketch` → `BinMapper.binRows` into one buffer and call `fitBinned`. Training itself does no I/O, except in
 * external memory (`memoryBudget`, `externalMemory`, or `fitExternal` on rows spilled to disk), where every per-row
 * array lives in chunk files and the model is the same, bit for bit (see external/external-boost.ts).
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'
import type { Constraints } from '../../core/params.js'
import { int, nullable, oneOf, real, validateParams } from '../../core/params.js'
import { Random } from '../../core/random.js'
import type { Classifier, EstimatorJSON, Regressor } from '../estimator.js'
import { type BinMapper, type BinnedData, DatasetSketch, MAX_BINS } from './binning.js'
import { accumulateImportance, gbdtGrowerSettings, keepRounds, sampleFeatures } from './boosted-rounds.js'
import { boostExternal } from './external/external-boost.js'
import { checkExternalRows, distinctExternalLabels } from './external/external-labels.js'
import type { ExternalRows } from './external/external-rows.js'
import { type MemoryOptions, planTrainingMemory } from './external/memory-plan.js'
import { boostBinnedExternal } from './external/spill-binned.js'
import { checkLabels, checkMatrix, checkWeights, labelIndices, resolveClasses } from './fit-inputs.js'
import { captureBoosting, type GbdtWarmStart, resumeBoosting } from './gbdt-warm-start.js'
import { type BoostPass, sharedIf } from './histogram.js'
import { addBinnedTreeMargins, binnedTreeLeaves } from './kernels/binned-tree.js'
import { addPendingLeafValues, meanLoss } from './kernels/objectives.js'
import { DEFAULT_N_THREADS } from './parallel-histogram.js'
import { classIndicesInto, probabilitiesInto } from './predict/link.js'
import { predictMarginsInto } from './predict/traverse.js'
import {
  ensembleFromJSON,
  ensembleToJSON,
  type TreeEnsemble,
  TreeEnsembleBuilder,
  type TreeEnsembleJSON,
  type TreeObjective,
} from './tree-ensemble.js'
import { type GrownTree, TreeGrower, toTreeSpec, treeLeafWeights } from './tree-grower.js'

/** Hyperparameters shared by {@link GbdtClassifier} and {@link GbdtRegressor}. */
export type GbdtCommonParams = {
  /** Shrinkage of each tree's leaf weights (XGBoost `eta`); default 0.1. */
  readonly learningRate: number
  /** Boosting rounds (trees per output); default 100. */
  readonly nEstimators: number
  /**
   * Most leaves per tree; default 31 (LightGBM's `num_leaves`). null for no bound: growth then stops only at
   * `maxDepth`, `minChildWeight`, `minSamplesLeaf` or `gamma`, and training holds one histogram per open leaf.
   */
  readonly maxLeaves: number | null
  /** Most levels below the root; null for no bound (default). */
  readonly maxDepth: number | null
  /**
   * 'leafwise' (default) splits the leaf with the largest gain first (LightGBM); 'depthwise' splits level by level
   * (XGBoost's default). They differ only when `maxLeaves` stops growth.
   */
  readonly growPolicy: 'leafwise' | 'depthwise'
  /** Fewest training rows in a leaf; default 1. */
  readonly minSamplesLeaf: number
  /** Smallest hessian sum in a leaf (XGBoost's `min_child_weight`); default 1. */
  readonly minChildWeight: number
  /** L2 regularization of leaf weights (λ); default 1. */
  readonly lambda: number
  /** Minimum split gain (γ), subtracted from each split's gain; default 0. */
  readonly gamma: number
  /** Fraction of rows drawn (without replacement, per tree) to grow each tree on; default 1. */
  readonly subsample: number
  /** Fraction of features drawn per tree; default 1. */
  readonly colsampleBytree: number
  /** Value bins per feature, 2..255; default 255 (a missing bin comes on top). */
  readonly maxBins: number
  /** Categorical features with at most this many categories present in a node split one category vs the rest; 4. */
  readonly maxCatToOnehot: number
  /** Most categories sent right by one categorical split (XGBoost 1.7's `max_cat_threshold`); default 64. */
  readonly maxCatThreshold: number
  /**
   * Stop when the validation loss has not improved for this many rounds and keep the best round's trees; null
   * (default) trains every round. Needs `evalSet` in the fit options.
   */
  readonly earlyStoppingRounds: number | null
  /**
   * Where boosting starts: null (default) for the loss minimizer over the training labels (log-odds of the positive
   * rate, log class priors, the mean, the median for pseudo-Huber); a number for XGBoost's `base_score` semantics
   * (a probability of the positive class for binary classification, a value for regression; for multi-class any
   * number starts every margin at 0).
   */
  readonly baseScore: number | null
  /** Seed of row and feature sampling and of the binning sketch; default 0. */
  readonly seed: number
  /**
   * Threads that build histograms, partition rows and compute gradients and margins (worker threads over shared
   * memory, the calling thread included); the model is bit-identical for any value. Default
   * {@link DEFAULT_N_THREADS}: the machine's available parallelism, at most 4.
   *
   * Why threads by default: only nodes of ≥ 32k rows × features and passes over ≥ 131k rows go to the threads, and
   * the workers start on the first such job, so small data trains exactly as on one thread and never starts one; on
   * big data the work splits into units that every thread claims from, so a machine whose other cores are busy
   * simply gets fewer units done by the worker (see bench/gbdt/threads.bench.ts for the speed-ups). The split search
   * stays on the calling thread. Set 1 to train on the calling thread only.
   */
  readonly nThreads: number
}

/** Hyperparameters of {@link GbdtClassifier}: the common ones (the objective follows from the class count). */
export type GbdtClassifierParams = GbdtCommonParams

/** Hyperparameters of {@link GbdtRegressor}. */
export type GbdtRegressorParams = GbdtCommonParams & {
  /** 'squared_error' (default) or 'pseudo_huber' (robust to outliers). */
  readonly objective: 'squared_error' | 'pseudo_huber'
  /** Slope δ of the pseudo-Huber loss (XGBoost's `huber_slope`); default 1. */
  readonly huberSlope: number
}

/** Defaults of the common parameters. */
export const GBDT_COMMON_DEFAULTS: GbdtCommonParams = {
  learningRate: 0.1,
  nEstimators: 100,
  maxLeaves: 31,
  maxDepth: null,
  growPolicy: 'leafwise',
  minSamplesLeaf: 1,
  minChildWeight: 1,
  lambda: 1,
  gamma: 0,
  subsample: 1,
  colsampleBytree: 1,
  maxBins: MAX_BINS,
  maxCatToOnehot: 4,
  maxCatThreshold: 64,
  earlyStoppingRounds: null,
  baseScore: null,
  seed: 0,
  nThreads: DEFAULT_N_THREADS,
}

/** Defaults of {@link GbdtClassifier}. */
export const GBDT_CLASSIFIER_DEFAULTS: GbdtClassifierParams = GBDT_COMMON_DEFAULTS

/** Defaults of {@link GbdtRegressor}. */
export const GBDT_REGRESSOR_DEFAULTS: GbdtRegressorParams = {
  ...GBDT_COMMON_DEFAULTS,
  objective: 'squared_error',
  huberSlope: 1,
}

/** Constraint table of the common parameters. */
export const GBDT_COMMON_CONSTRAINTS: Constraints<GbdtCommonParams> = {
  learningRate: real({ min: 0, closed: 'neither' }),
  nEstimators: int({ min: 1 }),
  maxLeaves: nullable(int({ min: 2 })),
  maxDepth: nullable(int({ min: 1 })),
  growPolicy: oneOf('leafwise', 'depthwise'),
  minSamplesLeaf: int({ min: 1 }),
  minChildWeight: real({ min: 0 }),
  lambda: real({ min: 0 }),
  gamma: real({ min: 0 }),
  subsample: real({ min: 0, max: 1, closed: 'right' }),
  colsampleBytree: real({ min: 0, max: 1, closed: 'right' }),
  maxBins: int({ min: 2, max: MAX_BINS }),
  maxCatToOnehot: int({ min: 1 }),
  maxCatThreshold: int({ min: 1 }),
  earlyStoppingRounds: nullable(int({ min: 1 })),
  baseScore: nullable(real()),
  seed: int(),
  nThreads: int({ min: 1 }),
}

/** Constraint table of {@link GbdtClassifierParams}. */
export const GBDT_CLASSIFIER_CONSTRAINTS: Constraints<GbdtClassifierParams> = GBDT_COMMON_CONSTRAINTS

/** Constraint table of {@link GbdtRegressorParams}. */
export const GBDT_REGRESSOR_CONSTRAINTS: Constraints<GbdtRegressorParams> = {
  ...GBDT_COMMON_CONSTRAINTS,
  objective: oneOf('squared_error', 'pseudo_huber'),
  huberSlope: real({ min: 0, closed: 'neither' }),
}

/** Validation rows for loss tracking and early stopping: raw rows (binned with the training bins) or binned rows. */
export type GbdtEvalSet = (
  | { readonly X: DenseMatrix; readonly binned?: undefined }
  | { readonly binned: BinnedData; readonly X?: undefined }
) & {
  readonly y: Float64Array
  readonly sampleWeight?: Float64Array
}

/** What each boosting round reports to {@link GbdtFitOptions.onIteration}. */
export interface GbdtIteration {
  /** 0-based round. */
  readonly iteration: number
  /** Validation loss after this round (log-loss, multi-class log-loss, RMSE or mean pseudo-Huber), with an eval set. */
  readonly validLoss?: number
}

/**
 * Options of `fit` / `fitBinned`. `memoryBudget` (bytes), `externalMemory` and `chunkRows` choose external memory
 * (see external/memory-plan.ts); `spillDir` is the folder its files go under (default: the OS temp folder).
 */
export interface GbdtFitOptions extends MemoryOptions {
  /** Columns holding integer category codes (`fit` only: `fitBinned` takes the kinds from the bin mapper). */
  readonly categoricalFeatures?: readonly number[]
  /** Per-row weights (finite, ≥ 0). */
  readonly sampleWeight?: Float64Array
  /** Validation rows: loss per round, and early stopping when `earlyStoppingRounds` is set. */
  readonly evalSet?: GbdtEvalSet
  /**
   * Compute the eval set's loss after every round (default true). False keeps only its margins (`warmStart`'s
   * `evalMargin`), for a caller that scores them itself once (the tuner, which spent ~7% of its trials' time on
   * per-round losses it never read); `validLoss` then stays empty. Not with early stopping; in-memory training only
   * (external memory computes it).
   */
  readonly evalLoss?: boolean
  /** Feature names for the ensemble (default f0, f1, …). */
  readonly featureNames?: readonly string[]
  /** Called after each round (progress, logging). */
  readonly onIteration?: (event: GbdtIteration) => void
  /**
   * Continue boosting from what an earlier fit on the same binned rows (and eval set) left, up to this fit's
   * `nEstimators`: the model equals one fit to `nEstimators` from scratch (gbdt-warm-start.ts). Not with early stopping.
   */
  readonly warmStart?: GbdtWarmStart
  /** Keep this fit's {@link GbdtWarmStart} (8 bytes × outputs × rows) as `model.warmStart`; default false. */
  readonly keepWarmStart?: boolean
  /** Folder under which external-memory training creates its spill folder (default: the OS temp folder). */
  readonly spillDir?: string
}

/** Options of `fitExternal` (rows already on disk). */
export interface GbdtExternalFitOptions {
  /** Validation rows, binned with the same mapper: loss per round, and early stopping. */
  readonly evalRows?: ExternalRows
  /** Feature names for the ensemble (default f0, f1, …). */
  readonly featureNames?: readonly string[]
  /** Called after each round (progress, logging). */
  readonly onIteration?: (event: GbdtIteration) => void
  /** Classifier: every class the labels can take (default: the distinct labels, one extra pass). */
  readonly classes?: readonly number[]
}

/** Classifier fit options: the common ones plus the class list. */
export interface GbdtClassifierFitOptions extends GbdtFitOptions {
  /** Every class the labels can take (default: the distinct labels of y); at least two. */
  readonly classes?: readonly number[]
}

/** Serialized GBDT model. */
export interface GbdtJSON extends EstimatorJSON {
  readonly state: {
    readonly ensemble: TreeEnsembleJSON
    readonly classes?: number[]
    /** Total gain of the splits on each feature (kept trees only). */
    readonly importanceGain: Float64Array
    /** Number of splits on each feature (kept trees only). */
    readonly importanceSplit: Float64Array
    /** Rounds trained (before truncation to the best round). */
    readonly nRounds: number
    /** Best round (0-based) by validation loss; the last round without an eval set. */
    readonly bestIteration: number
    /** Validation loss per round, empty without an eval set. */
    readonly validLoss: number[]
  }
}

/** An empty row list: `addBinnedTreeMargins` then walks every row. */
const ALL_ROWS = new Uint32Array(0)

type Objective = 'logistic' | 'softmax' | 'squared_error' | 'pseudo_huber'

const ENSEMBLE_OBJECTIVE: Record<Objective, TreeObjective> = {
  logistic: 'binary:logistic',
  softmax: 'multi:softprob',
  squared_error: 'reg:squarederror',
  pseudo_huber: 'reg:pseudohubererror',
}

interface BoostingState {
  readonly ensemble: TreeEnsemble
  readonly classes: readonly number[] | undefined
  readonly importanceGain: Float64Array
  readonly importanceSplit: Float64Array
  readonly nRounds: number
  readonly bestIteration: number
  readonly validLoss: readonly number[]
  readonly warmStart?: GbdtWarmStart
}

interface Problem {
  readonly objective: Objective
  readonly nOutputs: number
  /** Class index (classification) or target (regression) per row. */
  readonly label: Float64Array
  readonly weight: Float64Array
  readonly delta: number
}

/** Base of the two GBDT estimators: fitting, margins, importance, (de)serialization. */
abstract class GbdtBase<P extends GbdtCommonParams> {
  readonly params: Readonly<P>
  protected abstract readonly owner: string
  abstract readonly kind: string
  protected state: BoostingState | undefined

  protected constructor(params: P) {
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

  /** The fitted ensemble (for inference, TreeSHAP, export); throws `NOT_FITTED`. */
  get ensemble(): TreeEnsemble {
    return this.fitted().ensemble
  }

  /** Best round (0-based): by validation loss with an eval set, else the last. */
  get bestIteration(): number {
    return this.fitted().bestIteration
  }

  /** Rounds trained before truncation to the best round. */
  get nRounds(): number {
    return this.fitted().nRounds
  }

  /** Validation loss after each round (empty without an eval set); a copy. */
  get validLoss(): number[] {
    return [...this.fitted().validLoss]
  }

  /** What a later fit can continue from, when this one was asked to keep it (`keepWarmStart`); not serialized. */
  get warmStart(): GbdtWarmStart | undefined {
    return this.state?.warmStart
  }

  /**
   * Per-feature importance over the kept trees: 'gain' (default) is the total gain of the splits on the feature,
   * 'split' the number of splits on it (LightGBM's two importance types). A copy.
   */
  featureImportance(type: 'gain' | 'split' = 'gain'): Float64Array {
    const s = this.fitted()
    return (type === 'split' ? s.importanceSplit : s.importanceGain).slice()
  }

  protected fitted(): BoostingState {
    if (this.state === undefined) {
      throw new ScalemlError('NOT_FITTED', `This ${this.owner} is not fitted yet; call fit first.`)
    }
    return this.state
  }

  /** Validates the params: the constraint table, then the rules between parameters. */
  protected abstract checkParams(): void

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

  protected binTraining(X: DenseMatrix, options: GbdtFitOptions): BinnedData {
    checkMatrix(this.owner, X)
    const sketch = new DatasetSketch(X.cols, {
      maxBins: this.params.maxBins,
      categoricalFeatures: options.categoricalFeatures ?? [],
      seed: this.params.seed,
    })
    sketch.partialFit(X)
    return sketch.toBinMapper().transform(X)
  }

  protected train(binned: BinnedData, problem: Problem, options: GbdtFitOptions, classes?: readonly number[]): void {
    this.checkStopping(options.evalSet !== undefined)
    if (this.params.earlyStoppingRounds !== null && options.keepWarmStart === true) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${this.owner}: keepWarmStart cannot be combined with earlyStoppingRounds (the kept trees would not match the margins).`,
        [{ code: 'invalid_value', path: ['keepWarmStart'], message: 'not with earlyStoppingRounds' }],
      )
    }
    if (this.params.earlyStoppingRounds !== null && options.evalLoss === false) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${this.owner}: evalLoss false cannot be combined with earlyStoppingRounds (early stopping reads the per-round loss).`,
        [{ code: 'invalid_value', path: ['evalLoss'], message: 'not with earlyStoppingRounds' }],
      )
    }
    const evalData =
      options.evalSet === undefined ? undefined : this.evalProblem(binned.mapper, options.evalSet, classes ?? [])
    const plan = planTrainingMemory(
      {
        nRows: binned.nRows,
        nFeatures: binned.mapper.nFeatures,
        nOutputs: problem.nOutputs,
        weighted: problem.weight.length > 0,
        evalRows: evalData?.binned.nRows ?? 0,
        subsample: this.params.subsample,
        totalBins: binned.mapper.totalBins,
        maxLeaves: this.params.maxLeaves,
      },
      options,
    )
    if (plan.external) {
      this.refuseWarmStart(options)
      this.state = boostBinnedExternal(
        this.params,
        { binned, label: problem.label, weight: problem.weight },
        {
          problem,
          chunkRows: plan.chunkRows,
          ...(options.spillDir === undefined ? {} : { spillDir: options.spillDir }),
          ...(evalData === undefined
            ? {}
            : {
                evalData: { binned: evalData.binned, label: evalData.problem.label, weight: evalData.problem.weight },
              }),
          ...(classes === undefined ? {} : { classes }),
          ...(options.featureNames === undefined ? {} : { featureNames: options.featureNames }),
          ...(options.onIteration === undefined ? {} : { onIteration: options.onIteration }),
        },
      )
      return
    }
    this.state = boost(this.params, binned, problem, { ...options, evalData, classes })
  }

  /** Trains in external memory on rows on disk with the given problem (labels mapped by `mapClasses` if any). */
  protected trainExternal(
    rows: ExternalRows,
    options: GbdtExternalFitOptions,
    spec: { problem: Pick<Problem, 'objective' | 'nOutputs' | 'delta'>; classes?: readonly number[] },
  ): void {
    this.checkStopping(options.evalRows !== undefined)
    this.state = boostExternal(this.params, rows, {
      problem: spec.problem,
      ...(spec.classes === undefined ? {} : { mapClasses: spec.classes, classes: spec.classes }),
      ...(options.evalRows === undefined ? {} : { evalRows: options.evalRows }),
      ...(options.featureNames === undefined ? {} : { featureNames: options.featureNames }),
      ...(options.onIteration === undefined ? {} : { onIteration: options.onIteration }),
    })
  }

  /**
   * Throws when warm start is asked for with external memory: it continues from in-memory margins and per-row
   * state (8 bytes × outputs × rows), which external memory exists not to hold.
   */
  protected refuseWarmStart(options: GbdtFitOptions): void {
    const which = options.warmStart !== undefined ? 'warmStart' : options.keepWarmStart === true ? 'keepWarmStart' : ''
    if (which === '') return
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${this.owner}: ${which} is not supported with external-memory training (memoryBudget / externalMemory chose external memory); drop ${which} or train in memory (externalMemory: false, or a larger memoryBudget).`,
      [{ code: 'invalid_value', path: [which], message: 'not with external memory' }],
    )
  }

  /** Throws when early stopping is asked for without validation rows. */
  protected checkStopping(hasEvalRows: boolean): void {
    if (this.params.earlyStoppingRounds !== null && !hasEvalRows) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${this.owner} has earlyStoppingRounds = ${this.params.earlyStoppingRounds} but fit got no evalSet; pass options.evalSet (validation rows) or set earlyStoppingRounds to null.`,
        [{ code: 'invalid_value', path: ['evalSet'], message: 'required with earlyStoppingRounds' }],
      )
    }
  }

  /** The eval set's binned rows and problem (labels mapped like the training labels, by `classes` if any). */
  protected abstract evalProblem(
    mapper: BinMapper,
    evalSet: GbdtEvalSet,
    classes: readonly number[],
  ): { binned: BinnedData; problem: Problem }

  protected binEval(mapper: BinMapper, evalSet: GbdtEvalSet): BinnedData {
    if (evalSet.binned !== undefined) {
      if (evalSet.binned.mapper !== mapper) {
        throw new ScalemlError('INVALID_ARGUMENT', 'evalSet.binned must be binned with the training bin mapper.')
      }
      return evalSet.binned
    }
    checkMatrix(`${this.owner} evalSet`, evalSet.X)
    if (evalSet.X.cols !== mapper.nFeatures) {
      throw new ScalemlError(
        'INVALID_INPUT',
        `evalSet.X has ${evalSet.X.cols} features; the training rows have ${mapper.nFeatures}.`,
      )
    }
    return mapper.transform(evalSet.X)
  }

  protected stateJSON(): GbdtJSON['state'] {
    const s = this.fitted()
    return {
      ensemble: ensembleToJSON(s.ensemble),
      ...(s.classes === undefined ? {} : { classes: [...s.classes] }),
      importanceGain: s.importanceGain.slice(),
      importanceSplit: s.importanceSplit.slice(),
      nRounds: s.nRounds,
      bestIteration: s.bestIteration,
      validLoss: [...s.validLoss],
    }
  }

  protected restore(json: EstimatorJSON, objectives: readonly TreeObjective[]): void {
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
    const st = json.state as Partial<GbdtJSON['state']>
    const ensemble = ensembleFromJSON(st.ensemble)
    if (!objectives.includes(ensemble.objective)) {
      throw new ScalemlError(
        'ARTIFACT_INVALID',
        `A ${this.kind} needs an ensemble with objective ${objectives.join(' or ')}, got '${ensemble.objective}'.`,
      )
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
    const nRounds = st.nRounds
    const bestIteration = st.bestIteration
    if (!Number.isInteger(nRounds) || !Number.isInteger(bestIteration) || !Array.isArray(st.validLoss)) {
      throw new ScalemlError(
        'ARTIFACT_INVALID',
        `Invalid ${this.kind} state: nRounds, bestIteration and validLoss are required.`,
      )
    }
    let classes: number[] | undefined
    if (ensemble.objective === 'binary:logistic' || ensemble.objective === 'multi:softprob') {
      const c = st.classes
      const expected = ensemble.objective === 'binary:logistic' ? 2 : ensemble.nOutputs
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
      nRounds: nRounds as number,
      bestIteration: bestIteration as number,
      validLoss: [...(st.validLoss as number[])],
    }
  }
}

/**
 * Gradient-boosted trees for classification: binary log-loss for two classes (positive class `classes[1]`),
 * softmax with one tree per class per round for more.
 *
 * @example
 * const model = new GbdtClassifier({ nEstimators: 100, maxLeaves: 31 })
 * model.fit(X, y, { categoricalFeatures: [4, 5], evalSet: { X: Xval, y: yval } })
 * const p = model.predictProba(Xtest) // rows × 2
 */
export class GbdtClassifier extends GbdtBase<GbdtClassifierParams> implements Omit<Classifier, 'partialFit'> {
  readonly kind = 'gbdt-classifier'
  readonly task = 'classification'
  readonly hasProbabilities = true
  protected readonly owner = 'GbdtClassifier'

  constructor(params: Partial<GbdtClassifierParams> = {}) {
    super({ ...GBDT_CLASSIFIER_DEFAULTS, ...params })
  }

  /** A new unfitted classifier with some parameters changed. */
  withParams(patch: Partial<GbdtClassifierParams>): GbdtClassifier {
    return new GbdtClassifier({ ...this.params, ...patch })
  }

  /** The sorted classes; empty before fitting. */
  get classes(): readonly number[] {
    return this.state?.classes ?? []
  }

  /**
   * Trains on all rows of `X` (row-major float32; NaN = missing) with labels `y`, replacing any previous fit. Bins the
   * rows first (one sketch pass, then binning); see {@link fitBinned} to bin elsewhere.
   * @throws ScalemlError INVALID_PARAM, INVALID_INPUT (shapes), INVALID_DATA (a NaN label, a label outside
   *   `classes`, fewer than two classes, a bad category code or weight), INVALID_ARGUMENT (early stopping without
   *   an eval set).
   */
  fit(X: DenseMatrix, y: Float64Array, options: GbdtClassifierFitOptions = {}): void {
    this.checkParams()
    checkMatrix(this.owner, X)
    this.fitBinned(this.binTraining(X, options), y, options)
  }

  /** Trains on rows already binned (e.g. streamed into one buffer with `BinMapper.binRows`); see {@link fit}. */
  fitBinned(binned: BinnedData, y: Float64Array, options: GbdtClassifierFitOptions = {}): void {
    this.checkParams()
    checkLabels(this.owner, y, binned.nRows)
    const classes = resolveClasses(this.owner, y, options.classes)
    const label = labelIndices(y, classes)
    const weight = checkWeights(this.owner, options.sampleWeight, binned.nRows)
    const problem: Problem =
      classes.length === 2
        ? { objective: 'logistic', nOutputs: 1, label, weight, delta: 1 }
        : { objective: 'softmax', nOutputs: classes.length, label, weight, delta: 1 }
    this.train(binned, problem, options, classes)
  }

  /**
   * Trains on rows spilled to disk ({@link ExternalRows}, binned and labelled batch by batch), in external memory:
   * every per-row array stays on disk and memory holds one chunk at a time. The model is the one
   * {@link fitBinned} gives on the same bins. Labels are class labels (mapped to `options.classes`, default the
   * distinct labels). Weights come with the rows.
   *
   * @example
   * const rows = ExternalRows.create(mapper, { chunkRows: 262_144 })
   * try {
   *   for (const { X, y } of batches) rows.append(X, y)
   *   rows.finish()
   *   model.fitExternal(rows, { classes: [0, 1] })
   * } finally {
   *   rows.remove()
   * }
   */
  fitExternal(rows: ExternalRows, options: GbdtExternalFitOptions = {}): void {
    this.checkParams()
    checkExternalRows(this.owner, rows)
    const distinct =
      options.classes === undefined ? Float64Array.from(distinctExternalLabels(this.owner, rows)) : new Float64Array(0)
    const classes = resolveClasses(this.owner, distinct, options.classes)
    const problem =
      classes.length === 2
        ? { objective: 'logistic' as const, nOutputs: 1, delta: 1 }
        : { objective: 'softmax' as const, nOutputs: classes.length, delta: 1 }
    this.trainExternal(rows, options, { problem, classes })
  }

  /** Margins: `rows` values for two classes, `rows × classes` otherwise. */
  decisionFunction(X: DenseMatrix): Float64Array {
    return this.margins(X)
  }

  /** Class probabilities, `rows × classes` row-major. */
  predictProba(X: DenseMatrix): Float64Array {
    const margins = this.margins(X)
    const e = this.ensemble
    const out = new Float64Array(X.rows * this.classes.length)
    probabilitiesInto(e.objective, margins, X.rows, e.nOutputs, out)
    return out
  }

  /** Predicted class labels. */
  predict(X: DenseMatrix): Float64Array {
    const margins = this.margins(X)
    const out = new Float64Array(X.rows)
    classIndicesInto(margins, X.rows, this.ensemble.nOutputs, out)
    const classes = this.classes
    for (let r = 0; r < X.rows; r++) out[r] = classes[out[r]!]!
    return out
  }

  /** Hyperparameters and the fitted ensemble (typed arrays stay typed). */
  toJSON(): GbdtJSON {
    return { kind: this.kind, params: { ...this.params }, state: this.stateJSON() }
  }

  /** Rebuilds a classifier from {@link toJSON}; throws `ARTIFACT_INVALID` when malformed. */
  static fromJSON(json: EstimatorJSON): GbdtClassifier {
    const model = new GbdtClassifier(json.params as Partial<GbdtClassifierParams>)
    model.restore(json, ['binary:logistic', 'multi:softprob'])
    return model
  }

  protected checkParams(): void {
    validateGbdtParams(this.owner, GBDT_CLASSIFIER_CONSTRAINTS, this.params)
  }

  protected evalProblem(
    mapper: BinMapper,
    evalSet: GbdtEvalSet,
    classes: readonly number[],
  ): { binned: BinnedData; problem: Problem } {
    const binned = this.binEval(mapper, evalSet)
    const owner = `${this.owner} evalSet`
    checkLabels(owner, evalSet.y, binned.nRows)
    const label = labelIndices(evalSet.y, classes, 'evalSet.y')
    const weight = checkWeights(owner, evalSet.sampleWeight, binned.nRows)
    return {
      binned,
      problem: {
        objective: classes.length === 2 ? 'logistic' : 'softmax',
        nOutputs: classes.length === 2 ? 1 : classes.length,
        label,
        weight,
        delta: 1,
      },
    }
  }
}

/**
 * Gradient-boosted trees for regression: squared error, or pseudo-Huber (`objective: 'pseudo_huber'`).
 *
 * @example
 * const model = new GbdtRegressor({ objective: 'pseudo_huber', huberSlope: 5 })
 * model.fit(X, y)
 * const yhat = model.predict(Xtest)
 */
export class GbdtRegressor extends GbdtBase<GbdtRegressorParams> implements Omit<Regressor, 'partialFit'> {
  readonly kind = 'gbdt-regressor'
  readonly task = 'regression'
  protected readonly owner = 'GbdtRegressor'

  constructor(params: Partial<GbdtRegressorParams> = {}) {
    super({ ...GBDT_REGRESSOR_DEFAULTS, ...params })
  }

  /** A new unfitted regressor with some parameters changed. */
  withParams(patch: Partial<GbdtRegressorParams>): GbdtRegressor {
    return new GbdtRegressor({ ...this.params, ...patch })
  }

  /** Trains on all rows of `X` with targets `y` (finite), replacing any previous fit; see {@link GbdtClassifier.fit}. */
  fit(X: DenseMatrix, y: Float64Array, options: GbdtFitOptions = {}): void {
    this.checkParams()
    checkMatrix(this.owner, X)
    this.fitBinned(this.binTraining(X, options), y, options)
  }

  /** Trains on rows already binned; see {@link fit}. */
  fitBinned(binned: BinnedData, y: Float64Array, options: GbdtFitOptions = {}): void {
    this.checkParams()
    checkLabels(this.owner, y, binned.nRows)
    const weight = checkWeights(this.owner, options.sampleWeight, binned.nRows)
    this.train(binned, this.#problem(y, weight), options)
  }

  /** Trains on rows spilled to disk, in external memory; see {@link GbdtClassifier.fitExternal}. */
  fitExternal(rows: ExternalRows, options: GbdtExternalFitOptions = {}): void {
    this.checkParams()
    const { objective, nOutputs, delta } = this.#problem(new Float64Array(0), new Float64Array(0))
    this.trainExternal(rows, options, { problem: { objective, nOutputs, delta } })
  }

  /** Predicted targets. */
  predict(X: DenseMatrix): Float64Array {
    return this.margins(X)
  }

  /** Hyperparameters and the fitted ensemble. */
  toJSON(): GbdtJSON {
    return { kind: this.kind, params: { ...this.params }, state: this.stateJSON() }
  }

  /** Rebuilds a regressor from {@link toJSON}; throws `ARTIFACT_INVALID` when malformed. */
  static fromJSON(json: EstimatorJSON): GbdtRegressor {
    const model = new GbdtRegressor(json.params as Partial<GbdtRegressorParams>)
    model.restore(json, ['reg:squarederror', 'reg:pseudohubererror'])
    return model
  }

  protected checkParams(): void {
    validateGbdtParams(this.owner, GBDT_REGRESSOR_CONSTRAINTS, this.params)
  }

  protected evalProblem(mapper: BinMapper, evalSet: GbdtEvalSet): { binned: BinnedData; problem: Problem } {
    const binned = this.binEval(mapper, evalSet)
    const owner = `${this.owner} evalSet`
    checkLabels(owner, evalSet.y, binned.nRows)
    return { binned, problem: this.#problem(evalSet.y, checkWeights(owner, evalSet.sampleWeight, binned.nRows)) }
  }

  #problem(y: Float64Array, weight: Float64Array): Problem {
    return {
      objective: this.params.objective,
      nOutputs: 1,
      label: y,
      weight,
      delta: this.params.huberSlope,
    }
  }
}

/** Full validation of GBDT params: the constraint table (unknown names included). */
export function validateGbdtParams<P extends GbdtCommonParams>(
  owner: string,
  constraints: Constraints<P>,
  params: P,
): void {
  validateParams(owner, constraints, params)
}

// ---------------------------------------------------------------------------------------------------------------

interface BoostOptions extends GbdtFitOptions {
  readonly evalData: { binned: BinnedData; problem: Problem } | undefined
  readonly classes: readonly number[] | undefined
}

/** The boosting loop. */
function boost(params: GbdtCommonParams, binned: BinnedData, problem: Problem, options: BoostOptions): BoostingState {
  const settings = gbdtGrowerSettings(params)
  const grower = new TreeGrower(binned, 1, settings)
  try {
    return boostRounds(params, binned, problem, { ...options, grower })
  } finally {
    // Stops the worker threads also when a round (or an onIteration callback) throws.
    grower.close()
  }
}

/** The rounds of {@link boost} on its grower. */
function boostRounds(
  params: GbdtCommonParams,
  binned: BinnedData,
  problem: Problem,
  options: BoostOptions & { readonly grower: TreeGrower },
): BoostingState {
  const { grower } = options
  const { nRows, mapper } = binned
  const nFeatures = mapper.nFeatures
  const K = problem.nOutputs
  const random = new Random(params.seed)
  const base = baseMargins(problem, params.baseScore)
  const builder = new TreeEnsembleBuilder({
    nFeatures,
    nOutputs: K,
    objective: ENSEMBLE_OBJECTIVE[problem.objective],
    baseMargin: base,
    ...(options.featureNames === undefined ? {} : { featureNames: options.featureNames }),
  })

  // Column-major margins (output k of row r at k * nRows + r): a tree of output k updates one contiguous block.
  // Shared with the worker threads (as the row list and the pass's buffers), which run the passes over all rows.
  const threaded = params.nThreads > 1
  const margin = sharedIf(threaded, Float64Array, nRows * K)
  for (let k = 0; k < K; k++) margin.fill(base[k]!, k * nRows, (k + 1) * nRows)
  const pass = boostPassBuffers(problem, margin, threaded)
  const rows = sharedIf(threaded, Uint32Array, nRows)
  const outOfSample = new Uint32Array(params.subsample < 1 ? nRows : 0)
  const features = new Int32Array(nFeatures)
  const evalData = options.evalData
  const nEval = evalData?.binned.nRows ?? 0
  const evalMargin = new Float64Array(nEval * K)
  for (let k = 0; k < K; k++) evalMargin.fill(base[k]!, k * nEval, (k + 1) * nEval)
  const roundGain: Float64Array[] = []
  const roundSplit: Float64Array[] = []
  const validLoss: number[] = []
  let bestIteration = -1
  let bestLoss = Number.POSITIVE_INFINITY
  let nodeValues = new Float64Array(64)
  let rowsInOrder = false
  const nColumns = Math.max(1, Math.round(nFeatures * params.colsampleBytree))

  let round = 0
  if (options.warmStart !== undefined) {
    const loop = { random, builder, baseMargin: base, margin, evalMargin, roundGain, roundSplit, validLoss }
    const shape = { nRows, nFeatures, nOutputs: K, nEstimators: params.nEstimators }
    ;({ round, bestIteration, bestLoss } = resumeBoosting(options.warmStart, {
      ...loop,
      ...shape,
      earlyStoppingRounds: params.earlyStoppingRounds,
    }))
  }
  for (; round < params.nEstimators; round++) {
    // The last round's trees' values into the margins, then the gradients at those margins.
    grower.histograms.boostPass(pass)
    pass.apply.fill(0)
    const gain = new Float64Array(nFeatures)
    const split = new Float64Array(nFeatures)
    for (let k = 0; k < K; k++) {
      // A tree grown on all rows leaves them in order (see deferLeafMargins), so the next one need not refill them.
      const nIn: number = rowsInOrder ? nRows : sampleRows(random, params.subsample, nRows, rows, outOfSample)
      const nSelected = sampleFeatures(random, nColumns, nFeatures, features)
      const tree = grower.grow({
        gradHess: pass.gradHess,
        gradOffset: 2 * k * nRows,
        rows,
        nRows: nIn,
        allRows: nIn === nRows,
        features,
        nFeatures: nSelected,
      })
      if (nodeValues.length < tree.nNodes) nodeValues = new Float64Array(tree.nNodes * 2)
      treeLeafWeights(tree, 0, params.lambda, nodeValues)
      for (let i = 0; i < tree.nNodes; i++) nodeValues[i] = nodeValues[i]! * params.learningRate
      const placement = { k, nIn, outOfSample, binned }
      const deferred = deferLeafMargins(grower, tree, nodeValues, { ...placement, pass })
      if (!deferred) addTreeMargins(tree, nodeValues, { ...placement, margin })
      rowsInOrder = deferred && nIn === nRows
      if (evalData !== undefined) {
        addBinnedTreeMargins(
          evalData.binned.bins,
          evalData.binned.nRows,
          ALL_ROWS,
          evalData.binned.nRows,
          tree.feature,
          tree.left,
          tree.right,
          tree.goesLeft,
          nodeValues,
          evalMargin,
          1,
          k * nEval,
        )
      }
      accumulateImportance(tree, gain, split)
      builder.addTree(toTreeSpec(tree, mapper, nodeValues), k)
    }
    roundGain.push(gain)
    roundSplit.push(split)
    let loss: number | undefined
    if (evalData !== undefined && options.evalLoss !== false) {
      const p = evalData.problem
      loss = meanLoss(p.objective, evalMargin, p.label, p.weight, evalData.binned.nRows, K, p.delta)
      validLoss.push(loss)
      if (loss < bestLoss) {
        bestLoss = loss
        bestIteration = round
      }
    }
    options.onIteration?.(loss === undefined ? { iteration: round } : { iteration: round, validLoss: loss })
    if (
      params.earlyStoppingRounds !== null &&
      evalData !== undefined &&
      round - bestIteration >= params.earlyStoppingRounds
    ) {
      round++
      break
    }
  }
  // The last trees' values, so that the margins are complete (a warm start keeps them).
  addPendingLeafValues(pass, K, nRows, 0, nRows)
  const nRounds = round
  const kept = evalData !== undefined && params.earlyStoppingRounds !== null ? bestIteration + 1 : nRounds
  const { ensemble, importanceGain, importanceSplit } = keepRounds(
    builder,
    { grown: nRounds, kept, treesPerRound: K },
    roundGain,
    roundSplit,
    nFeatures,
  )
  return {
    ensemble,
    classes: options.classes,
    importanceGain,
    importanceSplit,
    nRounds,
    bestIteration: evalData === undefined ? nRounds - 1 : Math.max(bestIteration, 0),
    validLoss,
    ...(options.keepWarmStart === true
      ? {
          warmStart: captureBoosting(
            { ensemble, margin, evalMargin, random, roundGain, roundSplit, validLoss },
            { rounds: nRounds, nRows, nOutputs: K, bestIteration, bestLoss },
          ),
        }
      : {}),
  }
}

/** The starting margin per output: the loss minimizer, or `baseScore` mapped through the link's inverse. */
function baseMargins(p: Problem, baseScore: number | null): Float64Array {
  if (baseScore !== null) {
    const out = new Float64Array(p.nOutputs)
    if (p.objective === 'logistic') out[0] = Math.log(baseScore / (1 - baseScore))
    else if (p.objective !== 'softmax') out[0] = baseScore
    return out
  }
  const { label, weight } = p
  const n = label.length
  const w = (r: number) => (weight.length > 0 ? weight[r]! : 1)
  let total = 0
  for (let r = 0; r < n; r++) total += w(r)
  const out = new Float64Array(p.nOutputs)
  if (total <= 0) return out
  switch (p.objective) {
    case 'logistic': {
      let pos = 0
      for (let r = 0; r < n; r++) pos += label[r]! * w(r)
      const rate = Math.min(Math.max(pos / total, 1e-7), 1 - 1e-7)
      out[0] = Math.log(rate / (1 - rate))
      return out
    }
    case 'softmax': {
      const counts = new Float64Array(p.nOutputs)
      for (let r = 0; r < n; r++) counts[label[r]!] = counts[label[r]!]! + w(r)
      let mean = 0
      for (let k = 0; k < p.nOutputs; k++) {
        out[k] = Math.log(Math.max(counts[k]! / total, 1e-7))
        mean += out[k]!
      }
      // Only differences of softmax margins matter; centring keeps them near 0.
      mean /= p.nOutputs
      for (let k = 0; k < p.nOutputs; k++) out[k] = out[k]! - mean
      return out
    }
    case 'squared_error': {
      let s = 0
      for (let r = 0; r < n; r++) s += label[r]! * w(r)
      out[0] = s / total
      return out
    }
    case 'pseudo_huber': {
      out[0] = weightedMedian(label, weight)
      return out
    }
  }
}

function weightedMedian(values: Float64Array, weight: Float64Array): number {
  const order = Array.from(values.keys()).sort((a, b) => values[a]! - values[b]!)
  let total = 0
  for (let r = 0; r < values.length; r++) total += weight.length > 0 ? weight[r]! : 1
  let acc = 0
  for (const r of order) {
    acc += weight.length > 0 ? weight[r]! : 1
    if (acc >= total / 2) return values[r]!
  }
  return values[order[order.length - 1]!] ?? 0
}

/** Draws each row with probability `fraction` into `rows` (ascending), the others into `outOfSample`; returns the in-sample count. */
function sampleRows(
  random: Random,
  fraction: number,
  nRows: number,
  rows: Uint32Array,
  outOfSample: Uint32Array,
): number {
  if (fraction >= 1) {
    for (let r = 0; r < nRows; r++) rows[r] = r
    return nRows
  }
  let nIn = 0
  let nOut = 0
  for (let r = 0; r < nRows; r++) {
    if (random.next() < fraction) rows[nIn++] = r
    else outOfSample[nOut++] = r
  }
  return nIn
}

/** The boosting passes' buffers, with the ones that grow with the trees. */
interface PassState extends BoostPass {
  leafValues: Float64Array
  valueStride: number
  /** Leaf ranges of the last tree, (start, end, node) triples. */
  leaves: Int32Array
}

const PASS_OBJECTIVE: Record<Objective, BoostPass['objective']> = {
  logistic: 'logistic',
  softmax: 'softmax',
  squared_error: 'squaredError',
  pseudo_huber: 'pseudoHuber',
}

/** The pass's buffers for `problem` on `margin` (shared with the worker threads when `threaded`). */
function boostPassBuffers(problem: Problem, margin: Float64Array, threaded: boolean): PassState {
  const n = problem.label.length
  const K = problem.nOutputs
  // The threads need shared copies; one thread reads the problem's arrays.
  const copy = (a: Float64Array): Float64Array => {
    if (!threaded) return a
    const out = sharedIf(true, Float64Array, a.length)
    out.set(a)
    return out
  }
  return {
    objective: PASS_OBJECTIVE[problem.objective],
    nOutputs: K,
    delta: problem.delta,
    margin,
    label: copy(problem.label),
    weight: copy(problem.weight),
    leafOf: sharedIf(threaded, Uint16Array, K * n),
    leafValues: sharedIf(threaded, Float64Array, K * 64),
    valueStride: 64,
    apply: sharedIf(threaded, Uint8Array, K),
    gradHess: sharedIf(threaded, Float32Array, 2 * K * n),
    leaves: sharedIf(threaded, Int32Array, 3 * 64),
  }
}

/**
 * Leaves the margins of output `k` to the next boosting pass: each training row's leaf into `pass.leafOf` (in-sample
 * rows from the tree's leaf ranges, on the threads; out-of-sample rows by walking the tree) and the node values into
 * `pass.leafValues`; a tree grown on all rows then gets its row list back in order. False, with nothing done, when
 * the tree has too many nodes for 16-bit leaf indices.
 */
function deferLeafMargins(
  grower: TreeGrower,
  tree: GrownTree,
  values: Float64Array,
  at: {
    readonly pass: PassState
    readonly k: number
    readonly nIn: number
    readonly outOfSample: Uint32Array
    readonly binned: BinnedData
  },
): boolean {
  const { pass, k, nIn, binned } = at
  const n = binned.nRows
  if (tree.nNodes > 65_536) return false
  if (tree.nNodes > pass.valueStride) {
    const stride = Math.max(tree.nNodes, 2 * pass.valueStride)
    const grown = sharedIf(isShared(pass.leafValues), Float64Array, pass.nOutputs * stride)
    for (let c = 0; c < pass.nOutputs; c++) {
      grown.set(pass.leafValues.subarray(c * pass.valueStride, (c + 1) * pass.valueStride), c * stride)
    }
    pass.leafValues = grown
    pass.valueStride = stride
  }
  pass.leafValues.set(values.subarray(0, tree.nNodes), k * pass.valueStride)
  let nLeaves = 0
  for (let i = 0; i < tree.nNodes; i++) if (tree.feature[i] === -1) nLeaves++
  if (pass.leaves.length < 3 * nLeaves) pass.leaves = sharedIf(isShared(pass.leafOf), Int32Array, 6 * nLeaves)
  const leaves = pass.leaves
  for (let i = 0, j = 0; i < tree.nNodes; i++) {
    if (tree.feature[i] !== -1) continue
    leaves[3 * j] = tree.start[i]!
    leaves[3 * j + 1] = tree.end[i]!
    leaves[3 * j + 2] = i
    j++
  }
  grower.histograms.assignLeaves({ rows: tree.rows, n: nIn, leaves, nLeaves }, pass.leafOf, {
    offset: k * n,
    resetRows: nIn === n,
  })
  if (nIn < n) binnedTreeLeaves(binned.bins, n, at.outOfSample, n - nIn, tree, pass.leafOf, k * n)
  pass.apply[k] = 1
  return true
}

function isShared(a: ArrayBufferView): boolean {
  return a.buffer instanceof SharedArrayBuffer
}

/** Adds the tree's values to the margins of output `k` now: its leaves' rows, and out-of-sample rows by walking it. */
function addTreeMargins(
  tree: GrownTree,
  values: Float64Array,
  at: {
    readonly margin: Float64Array
    readonly k: number
    readonly nIn: number
    readonly outOfSample: Uint32Array
    readonly binned: BinnedData
  },
): void {
  const { margin, k, nIn, binned } = at
  const nRows = binned.nRows
  addLeafMargins(tree, values, margin.subarray(k * nRows, (k + 1) * nRows))
  if (nIn === nRows) return
  addBinnedTreeMargins(
    binned.bins,
    nRows,
    at.outOfSample,
    nRows - nIn,
    tree.feature,
    tree.left,
    tree.right,
    tree.goesLeft,
    values,
    margin,
    1,
    k * nRows,
  )
}

/** Adds each leaf's value to the margins (one output's block) of the rows it holds. */
function addLeafMargins(tree: GrownTree, values: Float64Array, margin: Float64Array): void {
  const { rows, start, end, feature } = tree
  for (let i = 0; i < tree.nNodes; i++) {
    if (feature[i] !== -1) continue
    const v = values[i]!
    for (let j = start[i]!; j < end[i]!; j++) {
      const r = rows[j]!
      margin[r] = margin[r]! + v
    }
  }
}
