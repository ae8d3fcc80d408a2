import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Random } from '../../core/random.js'
import { batchFromRecords, type Field } from '../../data/batch.js'
import type { Classifier, SupervisedEstimator } from '../../models/estimator.js'
import type { TreeModel } from '../../models/trees/catalog-entries.js'
import { GbdtClassifier, GbdtRegressor } from '../../models/trees/gbdt.js'
import { RandomForestClassifier, RandomForestRegressor } from '../../models/trees/random-forest.js'
import { type TreeEnsemble, TreeEnsembleBuilder } from '../../models/trees/tree-ensemble.js'
import { TreeEnsembleModel } from '../../models/trees/tree-ensemble-model.js'
import { autoPipeline } from '../../preprocess/auto-pipeline.js'
import { Passthrough } from '../../preprocess/passthrough.js'
import { Pipeline } from '../../preprocess/pipeline.js'
import { loadServableModel } from '../../serve/model-loader.js'
import { predictBody } from '../../serve/predictor.js'
import { createTempHome, type TempHome } from '../../testing/temp-home.js'
import { importModelFile } from '../import.js'
import { openRegistry, type Registry } from '../registry.js'
import type { ExportOnnxOptions } from './export.js'
import {
  type FlightRecord,
  fitPipeline,
  labels,
  makeRecords,
  registerAndLoad,
  runExport,
  SCHEMA,
  target,
} from './test-helpers/data.js'
import { tensorNumbers, worstRelativeDifference } from './test-helpers/feeds.js'

const XGBOOST = fileURLToPath(new URL('../../../test/fixtures/xgboost/', import.meta.url))

let home: TempHome
let registry: Registry
beforeAll(async () => {
  home = await createTempHome('onnx-trees')
  registry = await openRegistry({ home: home.path })
})
afterAll(async () => {
  await registry.close()
  await home.remove()
})

/**
 * Runs the exported model and scaleml's servable on `records` and checks: probabilities (or values) within 1e-5,
 * labels equal except at near-ties, and — for records JSON can carry — the predictor's answers. Returns the worst
 * difference.
 */
async function compare(
  name: string,
  records: readonly FlightRecord[],
  served = records,
  options: ExportOnnxOptions = {},
): Promise<number> {
  const servable = await loadServableModel(registry, name)
  const model = servable.model as SupervisedEstimator
  const X = servable.pipeline.transform(batchFromRecords(servable.pipeline.inputSchema, records))
  const { outputs } = await runExport(await registry.load(name), records, options)
  if (model.task === 'regression') {
    const expected = model.predict(X)
    const worst = worstRelativeDifference(outputs['variable']!.data as Float32Array, expected)
    expect(worst).toBeLessThan(1e-5)
    const answers = predictBody(servable, { instances: served }).predictions
    expect(
      worstRelativeDifference(
        (outputs['variable']!.data as Float32Array).subarray(0, answers.length),
        answers.map((p) => (p as { value: number }).value),
      ),
    ).toBeLessThan(1e-5)
    return worst
  }
  const classifier = model as Classifier
  const k = classifier.classes.length
  const expected = classifier.predictProba(X)
  const proba = outputs['probabilities']!.data as Float32Array
  expect(outputs['probabilities']!.dims).toEqual([records.length, k])
  let worst = 0
  for (let i = 0; i < proba.length; i++) worst = Math.max(worst, Math.abs(proba[i]! - expected[i]!))
  expect(worst).toBeLessThan(1e-5)
  const onnxLabels = tensorNumbers(outputs['label']!)
  const answers = predictBody(servable, { instances: served }).predictions
  const mismatches: number[] = []
  answers.forEach((p, r) => {
    const { label } = p as { label: boolean | number }
    if ((typeof label === 'boolean' ? Number(label) : label) !== onnxLabels[r]) mismatches.push(r)
  })
  for (const r of mismatches) {
    const row = Array.from(expected.subarray(r * k, r * k + k)).sort((a, b) => b - a)
    expect(row[0]! - row[1]!).toBeLessThan(1e-5)
  }
  expect(mismatches.length).toBeLessThan(5)
  return worst
}

/** Rows for an XGBoost fixture: its own test rows, then `n` rows with NaN, unseen/negative/fractional categories. */
function xgboostRows(fixture: string, n: number): { rows: FlightRecord[]; jsonSafe: FlightRecord[] } {
  const expected = JSON.parse(readFileSync(`${XGBOOST}${fixture}.expected.json`, 'utf8')) as {
    rows: number
    cols: number
    X: (number | null)[]
  }
  const names = fixture.includes('categorical')
    ? ['x0', 'x1', 'x2', 'x3', 'x4', 'color']
    : ['x0', 'x1', 'x2', 'x3', 'x4']
  const own = Array.from({ length: expected.rows }, (_, r) =>
    Object.fromEntries(names.map((name, j) => [name, expected.X[r * expected.cols + j]!])),
  )
  const rng = new Random(17)
  const odd = [7, 100, -1, 2.5, 5.9, -0.5, 0.999]
  const generated = Array.from({ length: n }, () =>
    Object.fromEntries(
      names.map((name) => {
        if (rng.next() < 0.1) return [name, null]
        if (name === 'color') return [name, rng.next() < 0.2 ? odd[rng.nextInt(odd.length)]! : rng.nextInt(6)]
        return [name, Math.fround(4 * rng.next() - 2)]
      }),
    ),
  )
  // ±Infinity only reaches the model through a batch (JSON records cannot carry it).
  const infinite = names.map((name) => ({ ...own[0]!, [name]: Number.POSITIVE_INFINITY }))
  const negative = names.map((name) => ({ ...own[1]!, [name]: Number.NEGATIVE_INFINITY }))
  const jsonSafe = [...own, ...generated]
  return { rows: [...jsonSafe, ...infinite, ...negative], jsonSafe }
}

describe('ONNX export of tree ensembles', () => {
  it.each(['binary-logistic-categorical', 'multi-softprob', 'reg-squarederror-categorical', 'reg-pseudohubererror'])(
    'imported XGBoost 1.7.4 model %s (categorical splits as BRANCH_EQ chains, NaN defaults)',
    async (fixture) => {
      const content = await importModelFile('xgboost-json', `${XGBOOST}${fixture}.model.json`)
      const name = `xgb-${fixture}`
      await registry.register(name, content)
      const { rows, jsonSafe } = xgboostRows(fixture, 600)
      const worst = await compare(name, rows, jsonSafe)
      expect(worst).toBeLessThan(1e-5)
      const { exported } = await runExport(await registry.load(name), rows.slice(0, 1))
      expect(exported.notes[0]).toContain(
        fixture.startsWith('reg') ? 'TreeEnsembleRegressor' : 'TreeEnsembleClassifier',
      )
      if (fixture.includes('categorical')) expect(exported.notes[0]).toContain('BRANCH_EQ chains')
      expect(exported.notes[0]).toContain('float64 attributes')
      expect(exported.inputs.every((i) => i.type === 'float')).toBe(true)
      // The classic float attributes: the runtime sums in float32, as XGBoost does.
      expect(await compare(name, rows, jsonSafe, { precision: 'float32' })).toBeLessThan(1e-5)
    },
  )

  it('a hand-built softmax ensemble: empty and one-element category sets, both default directions, a lone leaf', async () => {
    const builder = new TreeEnsembleBuilder({
      nFeatures: 2,
      nOutputs: 3,
      objective: 'multi:softprob',
      baseMargin: [0.1, -0.2, 0.3],
      featureNames: ['a', 'b'],
    })
    const cover = [1, 1, 1, 1, 1]
    // Tree 0: b in {} → always left (missing right); then a < 0.5.
    builder.addTree(
      {
        feature: [1, 0, -1, -1, -1],
        threshold: [0, 0.5, 0, 0, 0],
        left: [1, 3, -1, -1, -1],
        right: [2, 4, -1, -1, -1],
        defaultLeft: [0, 1, 0, 0, 0],
        value: [0, 0, 0.9, -0.4, 0.6],
        cover,
        categories: [[], null, null, null, null],
      },
      0,
    )
    // Tree 1: b in {3} → right (missing left); left: b in {0, 2, 5} → right (missing right).
    builder.addTree(
      {
        feature: [1, 1, -1, -1, -1],
        threshold: [0, 0, 0, 0, 0],
        left: [1, 3, -1, -1, -1],
        right: [2, 4, -1, -1, -1],
        defaultLeft: [1, 0, 0, 0, 0],
        value: [0, 0, 1.5, -0.7, 0.25],
        cover,
        categories: [[3], [5, 0, 2], null, null, null],
      },
      1,
    )
    builder.addTree(
      { feature: [-1], threshold: [0], left: [-1], right: [-1], defaultLeft: [0], value: [0.05], cover: [1] },
      2,
    )
    const ensemble: TreeEnsemble = builder.build()
    const fields: Field[] = [
      { name: 'a', type: 'float', nullable: true },
      { name: 'b', type: 'float', nullable: true },
    ]
    const pipeline = new Pipeline({ inputs: fields, steps: [new Passthrough({ columns: ['a', 'b'] })] })
    await registerAndLoad(registry, 'hand-built', pipeline, TreeEnsembleModel.fromEnsemble(ensemble))
    const values = [null, -1, -0.5, 0, 0.49, 0.5, 1, 2, 2.7, 3, 3.2, 4, 5, 6]
    const rows = values.flatMap((a) => values.map((b) => ({ a, b })))
    await compare('hand-built', rows)
  })

  describe('trained by scaleml on 10,000 evaluation rows (ordinal categories, calendar parts as numbers)', () => {
    const TRAIN = makeRecords(3000, 21)
    const EVAL = makeRecords(10_000, 22, true)

    async function trainedTrees(name: string, model: TreeModel, y: Float64Array): Promise<void> {
      const pipeline = autoPipeline(SCHEMA, ['distance', 'heavy', 'gate', 'origin', 'date'], { encoding: 'trees' })
      const X = fitPipeline(pipeline, TRAIN)
      const names = pipeline.outputNames()
      const categoricalFeatures = pipeline.steps.flatMap((step, s) =>
        step.kind === 'ordinal' ? [pipeline.steps.slice(0, s).reduce((n, t) => n + t.nOutputs, 0)] : [],
      )
      model.fit(X, y, { categoricalFeatures, featureNames: names })
      expect(model.ensemble.feature.some((f) => f >= 0)).toBe(true)
      const binary = model.task === 'classification' && y.every((v) => v === 0 || v === 1)
      await registerAndLoad(registry, name, pipeline, model, binary ? 'boolean' : 'numeric')
    }

    it('GbdtClassifier, binary and softmax over classes 2, 5, 9', async () => {
      await trainedTrees('gbdt-binary', new GbdtClassifier({ nEstimators: 30, seed: 1 }), labels(TRAIN))
      expect(await compare('gbdt-binary', EVAL)).toBeLessThan(1e-5)
      await trainedTrees('gbdt-multi', new GbdtClassifier({ nEstimators: 15, seed: 1 }), labels(TRAIN, [2, 5, 9]))
      expect(await compare('gbdt-multi', EVAL)).toBeLessThan(1e-5)
    })

    it('GbdtRegressor', async () => {
      await trainedTrees('gbdt-regressor', new GbdtRegressor({ nEstimators: 30, seed: 1 }), target(TRAIN))
      expect(await compare('gbdt-regressor', EVAL)).toBeLessThan(1e-5)
    })

    it('RandomForestClassifier (binary and three classes) and RandomForestRegressor: clipped, normalized averages', async () => {
      await trainedTrees('rf-binary', new RandomForestClassifier({ nEstimators: 10, seed: 1 }), labels(TRAIN))
      expect(await compare('rf-binary', EVAL)).toBeLessThan(1e-5)
      await trainedTrees('rf-multi', new RandomForestClassifier({ nEstimators: 10, seed: 1 }), labels(TRAIN, [0, 1, 2]))
      expect(await compare('rf-multi', EVAL)).toBeLessThan(1e-5)
      await trainedTrees('rf-regressor', new RandomForestRegressor({ nEstimators: 10, seed: 1 }), target(TRAIN))
      expect(await compare('rf-regressor', EVAL)).toBeLessThan(1e-5)
    })
  })
})
