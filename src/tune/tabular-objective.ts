/**
 * The objective of `scaleml tune`: trains a catalog model with a trial's hyperparameters on each fold's training
 * rows (held in memory, see `dataset.ts`) and returns the mean validation score over the folds (scikit-learn's
 * `mean_test_score`): AUC for classifiers and R² for regressors by default, or the metric asked for.
 *
 * The budget of a rung is one of:
 * - `rows`: the first `resource / maxResource` of each fold's training rows, in a seeded order fixed per fold (every
 *   candidate sees the same rows, as in scikit-learn's halving over `n_samples`); validation uses the whole fold;
 * - `epochs`: passes over the training rows (incremental models), each in its own seeded order;
 * - `rounds`: boosting rounds (`nEstimators`) of tree models.
 *
 * Survivors continue rather than restart, where the learner allows: an incremental model (`partialFit`) at its
 * next rung keeps learning from the state its previous rung reached — the next epochs, or the next rows of the same
 * order (one pass over its rows) — which gives the model a single run to the larger budget gives: bit for bit for
 * epochs; for rows up to rounding, as the rows reach `partialFit` in differently cut batches. A GBDT over boosting
 * rounds keeps each fold's boosting state (gbdt-warm-start.ts) and grows only the next rung's extra rounds on the
 * same binned rows: bit for bit the model of one fit to the larger budget. A GBDT over rows, and random forests,
 * are refit at each rung: trees grown on fewer rows cannot be extended to more rows into the model a fit on those
 * rows would give. Tree models score their validation fold from binned rows (`tree-folds.ts`).
 * Module of a worker thread too: `createObjective` builds it from a structured-cloneable payload.
 * @module
 */
import { type DenseMatrix, type SparseRows, sparseRows } from '../core/matrix.js'
import { Random } from '../core/random.js'
import {
  ClassificationMetrics,
  type ClassificationReport,
  RegressionMetrics,
  type RegressionReport,
} from '../metrics/evaluate.js'
import { modelEntry, supervisedModelFromJSON } from '../models/catalog.js'
import type { EstimatorJSON, SupervisedEstimator } from '../models/estimator.js'
import type { GbdtClassifier, GbdtRegressor } from '../models/trees/gbdt.js'
import type { GbdtWarmStart } from '../models/trees/gbdt-warm-start.js'
import { classScores } from '../train/evaluate.js'
import { type Features, partialFitOn, predictOn } from '../train/features.js'
import { mixSeed } from '../train/shuffle.js'
import type { FittableTreeModel } from '../train/tree-fit.js'
import type { Fold } from './cross-validation.js'
import type { FeatureBlock, ObjectiveData } from './dataset.js'
import type { Objective, TrialJob, TrialJobResult } from './executor.js'
import type { Direction } from './study.js'
import { BinnedFolds, fitBoostedFold } from './tree-folds.js'

/** Budgets a rung can be measured in. */
export const RESOURCES = ['rows', 'epochs', 'rounds'] as const
/** A budget kind. */
export type Resource = (typeof RESOURCES)[number]

/** Metrics a search can optimize, and their direction. */
export const METRICS = {
  auc: { task: 'classification', direction: 'maximize' },
  accuracy: { task: 'classification', direction: 'maximize' },
  logLoss: { task: 'classification', direction: 'minimize' },
  r2: { task: 'regression', direction: 'maximize' },
  rmse: { task: 'regression', direction: 'minimize' },
  mae: { task: 'regression', direction: 'minimize' },
} as const satisfies Record<string, { task: 'classification' | 'regression'; direction: Direction }>

/** A metric name. */
export type MetricName = keyof typeof METRICS

/** How trials train and score (plain data; travels to worker threads). */
export interface ObjectiveSettings {
  readonly modelKind: string
  readonly metric: MetricName
  readonly resource: Resource
  /** The full budget (rows: the loaded rows; epochs; rounds). */
  readonly maxResource: number
  /** Epochs of incremental models when the budget is not epochs (default 1). */
  readonly epochs: number
  /** Rows per `partialFit` call (default 1,024). */
  readonly batchSize: number
  readonly seed: number
  /** Params under every trial's (the model's seed, say). */
  readonly baseParams: Readonly<Record<string, unknown>>
}

/** What the objective is built from. */
export interface ObjectivePayload {
  readonly data: ObjectiveData
  readonly folds: readonly Fold[]
  readonly settings: ObjectiveSettings
}

/**
 * The continuation a rung leaves for the next: how far it got, and each fold's model (incremental learners) or
 * boosting state (GBDT).
 */
interface WarmStart {
  readonly resource: number
  readonly models?: readonly EstimatorJSON[]
  readonly boosting?: readonly GbdtWarmStart[]
}

/** Catalog models whose trials continue boosting between rungs. */
const BOOSTED = new Set(['gbdt-classifier', 'gbdt-regressor'])

/**
 * The tabular objective over `payload` (see the module notes).
 * @example
 * const objective = createObjective({ data, folds, settings })
 * const { value } = await objective.evaluate({ study: 's', number: 0, params: { alpha: 1e-4 }, rung: 0, resource: 3 })
 */
export function createObjective(payload: ObjectivePayload): Objective {
  const { data, folds, settings } = payload
  const entry = modelEntry(settings.modelKind)
  const trees = entry.training === 'fit'
  const boosted = BOOSTED.has(settings.modelKind)
  // Each fold's training rows in a seeded order, fixed for the study: the first k are a rung's k rows.
  const trainOrders = folds.map((fold, f) => {
    const order = Uint32Array.from(fold.train)
    new Random(mixSeed(settings.seed, 0x726f7773, f)).shuffle(order)
    return order
  })
  const binned = trees ? new BinnedFolds(data, folds, trainOrders) : undefined
  return {
    async evaluate(job: TrialJob): Promise<TrialJobResult> {
      const started = performance.now()
      const params: Record<string, unknown> = { ...settings.baseParams, ...job.params }
      if (settings.resource === 'rounds') params['nEstimators'] = job.resource
      entry.validate(params)
      const warm = continuation(job, settings, { trees, boosted })
      const maxBins = typeof params['maxBins'] === 'number' ? params['maxBins'] : 255
      const scores: number[] = []
      const models: EstimatorJSON[] = []
      const boosting: GbdtWarmStart[] = []
      let rounds = 0
      for (const [f, fold] of folds.entries()) {
        const order = trainOrders[f]!
        const rowsFor = (resource: number) =>
          settings.resource === 'rows'
            ? Math.max(1, Math.min(order.length, Math.floor((order.length * resource) / settings.maxResource)))
            : order.length
        const rows = order.subarray(0, rowsFor(job.resource))
        if (boosted) {
          const model = entry.create(params) as unknown as GbdtClassifier | GbdtRegressor
          const warmStart = warm?.boosting?.[f]
          const result = fitBoostedFold(model, {
            folds: binned!,
            data,
            f,
            nTrain: rows.length,
            maxBins,
            ...(warmStart === undefined ? {} : { warmStart }),
          })
          scores.push(pickMetric(result.report, settings.metric))
          boosting.push(result.warmStart)
          rounds += result.rounds
          continue
        }
        let model: SupervisedEstimator
        if (trees) {
          model = entry.create(params) as SupervisedEstimator
          const subset = binned!.train(f, rows.length, maxBins)
          ;(model as unknown as FittableTreeModel).fitBinned(subset.binned, subset.y, {
            ...(data.classes === undefined ? {} : { classes: data.classes }),
            featureNames: data.featureNames,
          })
        } else if (warm?.models !== undefined) {
          model = supervisedModelFromJSON(warm.models[f]!)
          if (settings.resource === 'epochs') {
            trainIncremental(model, data, rows, { f, fromEpoch: warm.resource, toEpoch: job.resource, settings })
          } else {
            // The previous rung learnt the first rows of this same order in one pass: learn the ones it did not see.
            const seen = rowsFor(warm.resource)
            epochOver(model, data, rows.subarray(seen), { seed: null, batchSize: settings.batchSize })
          }
        } else {
          model = entry.create(params) as SupervisedEstimator
          const epochs = settings.resource === 'epochs' ? job.resource : settings.epochs
          trainIncremental(model, data, rows, { f, fromEpoch: 0, toEpoch: epochs, settings })
        }
        scores.push(score(model, data, fold.test, settings.metric))
        if (!trees) models.push(model.toJSON())
      }
      const value = scores.reduce((a, b) => a + b, 0) / scores.length
      const details: Record<string, number> = {}
      scores.forEach((s, f) => {
        details[`fold${f}`] = s
      })
      if (boosted) details['rounds'] = rounds
      const kept: WarmStart = boosted ? { resource: job.resource, boosting } : { resource: job.resource, models }
      return {
        value,
        seconds: (performance.now() - started) / 1000,
        ...(canContinue(settings, { trees, boosted }) ? { warmStart: kept } : {}),
        details,
      }
    },
  }
}

/** True when a rung's models can be continued to a larger budget (see the module notes). */
function canContinue(settings: ObjectiveSettings, kind: { trees: boolean; boosted: boolean }): boolean {
  if (kind.boosted) return settings.resource === 'rounds'
  if (kind.trees) return false
  return settings.resource === 'epochs' || (settings.resource === 'rows' && settings.epochs === 1)
}

function continuation(
  job: TrialJob,
  settings: ObjectiveSettings,
  kind: { trees: boolean; boosted: boolean },
): WarmStart | undefined {
  const warm = job.warmStart as WarmStart | undefined
  if (warm === undefined || !canContinue(settings, kind) || !(warm.resource < job.resource)) return undefined
  return warm
}

/** The value of `metric` in a validation report; NaN without one (a diverged fit). */
function pickMetric(report: ClassificationReport | RegressionReport | undefined, metric: MetricName): number {
  if (report === undefined) return Number.NaN
  const value = (report as unknown as Readonly<Record<string, number>>)[metric]
  return value ?? Number.NaN
}

/** Rows `rows` of the data as a model's features (a copy). */
export function gatherFeatures(X: FeatureBlock, rows: ArrayLike<number>): Features {
  const n = rows.length
  if (X.kind === 'dense') {
    const out = new Float32Array(n * X.cols)
    for (let r = 0; r < n; r++) out.set(X.data.subarray(rows[r]! * X.cols, (rows[r]! + 1) * X.cols), r * X.cols)
    return { data: out, rows: n, cols: X.cols } satisfies DenseMatrix
  }
  const k = X.nnzPerRow
  const indices = new Int32Array(n * k)
  const values = new Float32Array(n * k)
  for (let r = 0; r < n; r++) {
    const from = rows[r]! * k
    indices.set(X.indices.subarray(from, from + k), r * k)
    values.set(X.values.subarray(from, from + k), r * k)
  }
  return sparseRows(indices, values, { rows: n, cols: X.cols, nnzPerRow: k }) satisfies SparseRows
}

function gatherLabels(y: Float64Array, rows: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows.length)
  for (let r = 0; r < rows.length; r++) out[r] = y[rows[r]!]!
  return out
}

/** One epoch of `partialFit` over `rows` in batches; `order` permutes them first (a copy) unless null. */
function epochOver(
  model: SupervisedEstimator,
  data: ObjectiveData,
  rows: Uint32Array,
  options: { readonly seed: number | null; readonly batchSize: number },
): void {
  const order = options.seed === null ? rows : new Random(options.seed).shuffle(Uint32Array.from(rows))
  const fitOptions = data.classes === undefined ? {} : { classes: data.classes }
  for (let start = 0; start < order.length; start += options.batchSize) {
    const batch = order.subarray(start, Math.min(order.length, start + options.batchSize))
    partialFitOn(model, gatherFeatures(data.X, batch), gatherLabels(data.y, batch), fitOptions)
  }
}

function trainIncremental(
  model: SupervisedEstimator,
  data: ObjectiveData,
  rows: Uint32Array,
  o: { f: number; fromEpoch: number; toEpoch: number; settings: ObjectiveSettings },
): void {
  for (let epoch = o.fromEpoch + 1; epoch <= o.toEpoch; epoch++) {
    // Epoch 1 takes the rows in the fold's fixed order, so a rows budget can continue it with the next rows.
    const seed = epoch === 1 ? null : mixSeed(o.settings.seed, o.f, epoch)
    epochOver(model, data, rows, { seed, batchSize: o.settings.batchSize })
  }
}

/** The validation score of `model` on `rows`; NaN when the model's outputs are not finite (a diverged fit). */
function score(model: SupervisedEstimator, data: ObjectiveData, rows: Uint32Array, metric: MetricName): number {
  const chunk = 65_536
  if (model.task === 'classification') {
    const metrics = new ClassificationMetrics({ classes: data.classes ?? model.classes })
    let calibrated = true
    for (let start = 0; start < rows.length; start += chunk) {
      const part = rows.subarray(start, Math.min(rows.length, start + chunk))
      const scores = classScores(model, gatherFeatures(data.X, part))
      if (!scores.proba.every(Number.isFinite)) return Number.NaN
      calibrated &&= scores.calibrated
      metrics.update(gatherLabels(data.y, part), scores.proba)
    }
    const report = metrics.value()
    if (metric === 'logLoss') return calibrated ? report.logLoss : Number.NaN
    return metric === 'accuracy' ? report.accuracy : report.auc
  }
  const metrics = new RegressionMetrics()
  for (let start = 0; start < rows.length; start += chunk) {
    const part = rows.subarray(start, Math.min(rows.length, start + chunk))
    const predicted = predictOn(model, gatherFeatures(data.X, part))
    if (!predicted.every(Number.isFinite)) return Number.NaN
    metrics.update(gatherLabels(data.y, part), predicted)
  }
  const report = metrics.value()
  return metric === 'rmse' ? report.rmse : metric === 'mae' ? report.mae : report.r2
}
