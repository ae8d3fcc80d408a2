import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DenseMatrix } from '../core/matrix.js'
import { Random } from '../core/random.js'
import { ClassificationMetrics } from '../metrics/evaluate.js'
import { DatasetSketch } from '../models/trees/binning.js'
import { GbdtClassifier } from '../models/trees/gbdt.js'
import { writeSyntheticFlights } from '../testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../testing/temp-home.js'
import { mixSeed } from '../train/shuffle.js'
import { makeFolds } from './cross-validation.js'
import { loadTuningData, type TuningData } from './dataset.js'
import type { TrialJob } from './executor.js'
import { createObjective, gatherFeatures, type ObjectiveSettings } from './tabular-objective.js'

let tmp: TempHome
let data: string

beforeAll(async () => {
  tmp = await createTempHome('tune-objective')
  data = join(tmp.path, 'flights.parquet')
  await writeSyntheticFlights(data, { rows: 6000, seed: 5 })
})
afterAll(async () => {
  await tmp?.remove()
})

const job = (params: TrialJob['params'], resource: number, warmStart?: unknown): TrialJob => ({
  study: 's',
  number: 0,
  params,
  rung: 0,
  resource,
  ...(warmStart === undefined ? {} : { warmStart }),
})

function objectiveOf(loaded: TuningData, settings: Partial<ObjectiveSettings>) {
  const folds = makeFolds(
    loaded.task === 'classification' ? { kind: 'stratified', nSplits: 3 } : { kind: 'kfold', nSplits: 3 },
    { n: loaded.X.rows, y: loaded.y },
  )
  return createObjective({
    data: loaded,
    folds,
    settings: {
      modelKind: loaded.modelKind,
      metric: loaded.task === 'classification' ? 'auc' : 'r2',
      resource: 'rows',
      maxResource: loaded.X.rows,
      epochs: 1,
      batchSize: 256,
      seed: 0,
      baseParams: { seed: 0 },
      ...settings,
    },
  })
}

describe('loadTuningData', () => {
  it('loads the training side of the holdout as tree features, with row indices', async () => {
    const loaded = await loadTuningData({ data, target: 'delay > 15', model: 'gbdt', holdout: 'random:0.2', seed: 3 })
    expect(loaded.modelKind).toBe('gbdt-classifier')
    expect(loaded.X.kind).toBe('dense')
    expect(loaded.classes).toEqual([0, 1])
    expect(loaded.trainingRows).toBe(loaded.X.rows)
    expect(loaded.X.rows).toBeGreaterThan(4500)
    expect(loaded.X.rows).toBeLessThan(5100)
    // date → hour, day of week, month; origin and destination are categorical codes.
    expect(loaded.categoricalFeatures.length).toBe(2)
    expect(loaded.features).toEqual(['date', 'distance', 'origin', 'destination'])
    expect(new Set(loaded.rowIndex).size).toBe(loaded.X.rows)
  })

  it('loads linear features as sparse rows, and samples uniformly or stratified by the label', async () => {
    const all = await loadTuningData({ data, target: 'delay > 15', model: 'sgd' })
    expect(all.X.kind).toBe('sparse')
    expect(all.X.rows).toBe(6000)
    const uniform = await loadTuningData({ data, target: 'delay > 15', model: 'sgd', sample: { fraction: 0.25 } })
    expect(uniform.X.rows).toBeGreaterThan(1300)
    expect(uniform.X.rows).toBeLessThan(1700)
    expect(uniform.trainingRows).toBe(6000)
    const stratified = await loadTuningData({
      data,
      target: 'delay > 15',
      model: 'sgd',
      sample: { fraction: 0.25, stratify: 'target' },
    })
    expect(stratified.X.rows).toBe(1500)
    const rate = (y: Float64Array) => y.reduce((a, b) => a + b, 0) / y.length
    expect(Math.abs(rate(stratified.y) - rate(all.y))).toBeLessThan(1 / 1500 + 1e-9)
  })

  it('refuses a stratify column the data does not have', async () => {
    await expect(
      loadTuningData({ data, target: 'delay > 15', sample: { fraction: 0.5, stratify: 'airline' } }),
    ).rejects.toThrow(/--stratify names 'airline', which is not a column/)
  })
})

describe('tabular objective', () => {
  it('scores an SGD classifier by mean AUC over the folds', async () => {
    const loaded = await loadTuningData({ data, target: 'delay > 15', model: 'sgd' })
    const result = await objectiveOf(loaded, {}).evaluate(job({ alpha: 1e-4 }, loaded.X.rows))
    expect(result.value).toBeGreaterThan(0.6)
    expect(result.value).toBeLessThanOrEqual(1)
    const folds = [0, 1, 2].map((f) => result.details![`fold${f}`]!)
    expect(result.value).toBeCloseTo(folds.reduce((a, b) => a + b) / 3, 12)
  })

  it('continues a survivor: more epochs give exactly, more rows to rounding, the model of one longer run', async () => {
    const loaded = await loadTuningData({ data, target: 'delay > 15', model: 'sgd' })
    const params = { alpha: 1e-3, shuffle: false }
    const epochs = objectiveOf(loaded, { resource: 'epochs', maxResource: 9 })
    const first = await epochs.evaluate(job(params, 1))
    const continued = await epochs.evaluate(job(params, 3, first.warmStart))
    const direct = await epochs.evaluate(job(params, 3))
    expect(continued.value).toBe(direct.value)
    expect(continued.warmStart).toEqual(direct.warmStart)
    expect(continued.value).not.toBe(first.value)

    const rows = objectiveOf(loaded, { resource: 'rows', maxResource: 900 })
    const small = await rows.evaluate(job(params, 100))
    const grown = await rows.evaluate(job(params, 300, small.warmStart))
    const straight = await rows.evaluate(job(params, 300))
    // The same rows in the same order, cut into partialFit calls at other places: equal up to rounding.
    expect(Math.abs(grown.value - straight.value)).toBeLessThan(1e-9)
    const weights = (r: typeof grown) =>
      (r.warmStart as { models: { state: { coef: Float64Array } }[] }).models.flatMap((m) => Array.from(m.state.coef))
    const a = weights(grown)
    const b = weights(straight)
    expect(a.length).toBe(b.length)
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-9 * Math.max(1, Math.abs(b[i]!)))
    expect(Math.abs(grown.value - small.value)).toBeGreaterThan(1e-6)
  })

  it('continues GBDT survivors over boosting rounds: the same scores as one fit to the larger budget', async () => {
    const loaded = await loadTuningData({ data, target: 'delay > 15', model: 'gbdt' })
    const objective = objectiveOf(loaded, { resource: 'rounds', maxResource: 40 })
    const params = { learningRate: 0.1, maxLeaves: 15, subsample: 0.8 }
    const few = await objective.evaluate(job(params, 5))
    const continued = await objective.evaluate(job(params, 40, few.warmStart))
    const direct = await objective.evaluate(job(params, 40))
    expect(few.details!['rounds']).toBe(3 * 5)
    // Only the 35 missing rounds of each fold were boosted, and the folds' models are the one-fit models.
    expect(continued.details!['rounds']).toBe(3 * 35)
    expect(direct.details!['rounds']).toBe(3 * 40)
    expect(continued.value).toBe(direct.value)
    expect(continued.details).toMatchObject({ fold0: direct.details!['fold0'], fold2: direct.details!['fold2'] })
    const margins = (r: typeof continued) =>
      (r.warmStart as { boosting: { margin: Float64Array; evalMargin: Float64Array }[] }).boosting
    expect(margins(continued).map((b) => b.evalMargin)).toEqual(margins(direct).map((b) => b.evalMargin))
    expect(margins(continued).map((b) => b.margin)).toEqual(margins(direct).map((b) => b.margin))
    expect(continued.value).toBeGreaterThan(few.value)
    expect(continued.value).toBeGreaterThan(0.65)
  })

  it('scores tree models from binned validation rows as predict would (GBDT over rows; a random forest)', async () => {
    const loaded = await loadTuningData({ data, target: 'delay > 15', model: 'gbdt' })
    const params = { learningRate: 0.2, maxLeaves: 8, nEstimators: 15 }
    const rows = await objectiveOf(loaded, { resource: 'rows', maxResource: 3000 }).evaluate(job(params, 1500))
    // GBDT over rows is refit at every rung: it hands on nothing.
    expect(rows.warmStart).toBeUndefined()
    // The same fold models scored through predictProba on float rows.
    const folds = makeFolds({ kind: 'stratified', nSplits: 3 }, { n: loaded.X.rows, y: loaded.y })
    const X = loaded.X as DenseMatrix
    const sketch = new DatasetSketch(X.cols, { maxBins: 255, categoricalFeatures: loaded.categoricalFeatures, seed: 0 })
    sketch.partialFit(X)
    const all = sketch.toBinMapper().transform(X)
    for (const [f, fold] of folds.entries()) {
      const order = Uint32Array.from(fold.train)
      new Random(mixSeed(0, 0x726f7773, f)).shuffle(order)
      const picked = order.subarray(0, Math.floor((order.length * 1500) / 3000))
      const binned = all.mapper.allocate(picked.length)
      for (let c = 0; c < X.cols; c++)
        for (let r = 0; r < picked.length; r++)
          binned.bins[c * picked.length + r] = all.bins[c * all.nRows + picked[r]!]!
      const model = new GbdtClassifier({ seed: 0, ...params })
      model.fitBinned(
        binned,
        Float64Array.from(picked, (r) => loaded.y[r]!),
        { classes: [0, 1] },
      )
      const metrics = new ClassificationMetrics({ classes: [0, 1] })
      metrics.update(
        Float64Array.from(fold.test, (r) => loaded.y[r]!),
        model.predictProba(gatherFeatures(loaded.X, fold.test) as DenseMatrix),
      )
      expect(rows.details![`fold${f}`]).toBeCloseTo(metrics.value().auc, 12)
    }

    const forest = await loadTuningData({ data, target: 'delay > 15', model: 'random-forest' })
    const rf = await objectiveOf(forest, { resource: 'rounds', maxResource: 10 }).evaluate(
      job({ maxFeatures: 'sqrt' }, 10),
    )
    expect(rf.value).toBeGreaterThan(0.6)
    expect(rf.warmStart).toBeUndefined()
  })

  it('scores regressors by R², or by the metric asked for', async () => {
    const loaded = await loadTuningData({ data, target: 'delay', model: 'gbdt' })
    expect(loaded.modelKind).toBe('gbdt-regressor')
    const r2 = await objectiveOf(loaded, {}).evaluate(job({ nEstimators: 30 }, loaded.X.rows))
    expect(r2.value).toBeGreaterThan(0.2)
    expect(r2.value).toBeLessThan(1)
    const rmse = await objectiveOf(loaded, { metric: 'rmse' }).evaluate(job({ nEstimators: 30 }, loaded.X.rows))
    expect(rmse.value).toBeGreaterThan(1)
  })

  it('fails a trial whose params the model refuses, with the model’s message', async () => {
    const loaded = await loadTuningData({ data, target: 'delay > 15', model: 'sgd' })
    await expect(objectiveOf(loaded, {}).evaluate(job({ alpha: -1 }, loaded.X.rows))).rejects.toThrow(
      /The 'alpha' parameter of SgdClassifier must be a float in the range \[0, inf\)/,
    )
  })
})
