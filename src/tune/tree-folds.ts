/**
 * The tree models' side of the tabular objective: the loaded rows binned once (bins fitted on all of them, see
 * `dataset.ts`), each fold's training and validation rows cut from those bins (cached, so a trial does not copy
 * them again), and GBDT trials that score their validation fold from the margins boosting keeps for its eval set.
 *
 * Why score from the boosting margins rather than with `predict`: the validation rows travel binned through each
 * tree as it is grown (a 256-entry table lookup per node), which on flights (66,667 validation rows, 100 trees of
 * 31 leaves, two 229-level categoricals) is several times cheaper than walking the finished ensemble over float rows;
 * and a survivor continued to more rounds (gbdt-warm-start.ts) only walks its new trees.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { DenseMatrix } from '../core/matrix.js'
import {
  ClassificationMetrics,
  type ClassificationReport,
  RegressionMetrics,
  type RegressionReport,
} from '../metrics/evaluate.js'
import { type BinnedData, DatasetSketch } from '../models/trees/binning.js'
import type { GbdtClassifier, GbdtRegressor } from '../models/trees/gbdt.js'
import type { GbdtWarmStart } from '../models/trees/gbdt-warm-start.js'
import { probabilitiesInto } from '../models/trees/predict/link.js'
import type { Fold } from './cross-validation.js'
import type { ObjectiveData } from './dataset.js'

/** Row subsets kept per objective (a rows budget cuts one per fold and rung). */
const MAX_CACHED_SUBSETS = 24

/** Each fold's rows as bins: training rows in the fold's fixed order, validation rows in fold order. */
export class BinnedFolds {
  readonly #data: ObjectiveData
  readonly #folds: readonly Fold[]
  readonly #orders: readonly Uint32Array[]
  readonly #all = new Map<number, BinnedData>()
  readonly #subsets = new Map<string, { binned: BinnedData; y: Float64Array }>()

  /** `orders[f]`: fold `f`'s training rows in the order whose first `n` rows are a budget of `n` rows. */
  constructor(data: ObjectiveData, folds: readonly Fold[], orders: readonly Uint32Array[]) {
    this.#data = data
    this.#folds = folds
    this.#orders = orders
  }

  /** Every loaded row binned with `maxBins` bins per feature (fitted once). */
  all(maxBins: number): BinnedData {
    let all = this.#all.get(maxBins)
    if (all === undefined) {
      const X = this.#data.X
      if (X.kind !== 'dense') throw new ScalemlError('INTERNAL', 'tree models take dense rows')
      const matrix: DenseMatrix = { data: X.data, rows: X.rows, cols: X.cols }
      const sketch = new DatasetSketch(X.cols, {
        maxBins,
        categoricalFeatures: this.#data.categoricalFeatures,
        seed: 0,
      })
      sketch.partialFit(matrix)
      all = sketch.toBinMapper().transform(matrix)
      this.#all.set(maxBins, all)
    }
    return all
  }

  /** The first `n` training rows of fold `f` (in its fixed order), binned, with their labels. */
  train(f: number, n: number, maxBins: number): { binned: BinnedData; y: Float64Array } {
    return this.#subset(`train:${f}:${n}:${maxBins}`, this.#orders[f]!.subarray(0, n), maxBins)
  }

  /** The validation rows of fold `f`, binned, with their labels. */
  valid(f: number, maxBins: number): { binned: BinnedData; y: Float64Array } {
    return this.#subset(`valid:${f}:${maxBins}`, this.#folds[f]!.test, maxBins)
  }

  #subset(key: string, rows: ArrayLike<number>, maxBins: number): { binned: BinnedData; y: Float64Array } {
    const hit = this.#subsets.get(key)
    if (hit !== undefined) {
      // Most recently used last, so the oldest goes first when the cache is full.
      this.#subsets.delete(key)
      this.#subsets.set(key, hit)
      return hit
    }
    const all = this.all(maxBins)
    const n = rows.length
    const binned = all.mapper.allocate(n)
    const N = all.nRows
    for (let f = 0; f < all.mapper.nFeatures; f++) {
      const from = f * N
      const to = f * n
      for (let r = 0; r < n; r++) binned.bins[to + r] = all.bins[from + rows[r]!]!
    }
    const y = new Float64Array(n)
    for (let r = 0; r < n; r++) y[r] = this.#data.y[rows[r]!]!
    const subset = { binned, y }
    this.#subsets.set(key, subset)
    if (this.#subsets.size > MAX_CACHED_SUBSETS) this.#subsets.delete(this.#subsets.keys().next().value!)
    return subset
  }
}

/** What one fold of a GBDT trial produced. */
export interface BoostedFold {
  /** The validation metrics; undefined when a margin is not finite (a diverged fit). */
  readonly report: ClassificationReport | RegressionReport | undefined
  /** What the next rung continues from. */
  readonly warmStart: GbdtWarmStart
  /** Boosting rounds this fit ran (fewer than the budget when it continued). */
  readonly rounds: number
}

/**
 * Fits `model` (a GBDT with the trial's params, `nEstimators` the budget) on fold `f`'s first `nTrain` training
 * rows, continuing from `warmStart` when given, and scores it on the fold's validation rows by `metric`.
 */
export function fitBoostedFold(
  model: GbdtClassifier | GbdtRegressor,
  o: {
    readonly folds: BinnedFolds
    readonly data: ObjectiveData
    readonly f: number
    readonly nTrain: number
    readonly maxBins: number
    readonly warmStart?: GbdtWarmStart
  },
): BoostedFold {
  const train = o.folds.train(o.f, o.nTrain, o.maxBins)
  const valid = o.folds.valid(o.f, o.maxBins)
  model.fitBinned(train.binned, train.y, {
    ...(o.data.classes === undefined ? {} : { classes: o.data.classes }),
    featureNames: o.data.featureNames,
    evalSet: { binned: valid.binned, y: valid.y },
    // The fold is scored once from its margins below; a loss per round would only cost time.
    evalLoss: false,
    keepWarmStart: true,
    ...(o.warmStart === undefined ? {} : { warmStart: o.warmStart }),
  })
  const warmStart = model.warmStart!
  return {
    report: marginMetrics(warmStart.evalMargin, valid.y, { nOutputs: warmStart.nOutputs, classes: o.data.classes }),
    warmStart,
    rounds: warmStart.rounds - (o.warmStart?.rounds ?? 0),
  }
}

/**
 * The metrics of column-major margins (`k × rows + r`) of a GBDT against labels `y`: classes through the sigmoid or
 * softmax, regression margins as predictions. Undefined when a margin is not finite (a diverged fit).
 */
export function marginMetrics(
  margins: Float64Array,
  y: Float64Array,
  o: { readonly nOutputs: number; readonly classes: readonly number[] | undefined },
): ClassificationReport | RegressionReport | undefined {
  const n = y.length
  const K = o.nOutputs
  if (!margins.every(Number.isFinite)) return undefined
  if (o.classes === undefined) {
    const metrics = new RegressionMetrics()
    metrics.update(y, margins)
    return metrics.value()
  }
  const rowMajor = K === 1 ? margins : new Float64Array(n * K)
  if (K > 1) for (let k = 0; k < K; k++) for (let r = 0; r < n; r++) rowMajor[r * K + k] = margins[k * n + r]!
  const proba = new Float64Array(n * o.classes.length)
  probabilitiesInto(K === 1 ? 'binary:logistic' : 'multi:softprob', rowMajor, n, K, proba)
  const metrics = new ClassificationMetrics({ classes: o.classes })
  metrics.update(y, proba)
  return metrics.value()
}
