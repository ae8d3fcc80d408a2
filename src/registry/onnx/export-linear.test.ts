import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batchFromRecords } from '../../data/batch.js'
import { createModel } from '../../models/catalog.js'
import type { AnyEstimator, Classifier, SupervisedEstimator } from '../../models/estimator.js'
import { DatetimeParts } from '../../preprocess/datetime-parts.js'
import { OneHotEncoder } from '../../preprocess/one-hot-encoder.js'
import { Pipeline } from '../../preprocess/pipeline.js'
import { StandardScaler } from '../../preprocess/standard-scaler.js'
import { loadServableModel } from '../../serve/model-loader.js'
import { predictBody } from '../../serve/predictor.js'
import { createTempHome, type TempHome } from '../../testing/temp-home.js'
import { openRegistry, type Registry } from '../registry.js'
import type { ExportOnnxOptions } from './export.js'
import { FIELDS, fitPipeline, labels, makeRecords, registerAndLoad, runExport, target } from './test-helpers/data.js'
import { tensorNumbers, worstRelativeDifference } from './test-helpers/feeds.js'

const TRAIN = makeRecords(3000, 11)
/** The acceptance rows: 10,000, with unseen origins and gates and ~5% missing values in every column. */
const EVAL = makeRecords(10_000, 12, true)

/** scaler + one-hot (string and int) + calendar parts (one-hot and cyclic): what a linear model reads. */
function linearPipeline(): Pipeline {
  return new Pipeline({
    inputs: FIELDS,
    steps: [
      new StandardScaler({ columns: ['distance', 'heavy'] }),
      new OneHotEncoder({ column: 'origin', maxCategories: 6 }),
      new OneHotEncoder({ column: 'gate', maxCategories: 5 }),
      new DatetimeParts({ column: 'date' }),
      new DatetimeParts({ column: 'date', parts: ['hour', 'month'], encoding: 'cyclic' }),
    ],
  })
}

let home: TempHome
let registry: Registry
beforeAll(async () => {
  home = await createTempHome('onnx-linear')
  registry = await openRegistry({ home: home.path })
})
afterAll(async () => {
  await registry.close()
  await home.remove()
})

/** Trains `model` on TRAIN for 5 epochs and registers it with a fresh linear pipeline. */
async function trained(name: string, estimator: AnyEstimator, y: Float64Array) {
  const model = estimator as SupervisedEstimator
  const pipeline = linearPipeline()
  const X = fitPipeline(pipeline, TRAIN)
  const classes = model.task === 'classification' ? [...new Set(y)].sort((a, b) => a - b) : undefined
  for (let epoch = 0; epoch < 5; epoch++) {
    if (model.task === 'classification') model.partialFit(X, y, { classes: classes! })
    else model.partialFit(X, y)
  }
  const boolean = classes?.length === 2 && classes[0] === 0 && classes[1] === 1
  return registerAndLoad(registry, name, pipeline, model, boolean ? 'boolean' : 'numeric')
}

/** scaleml's answer for EVAL through the registry and the predictor (records → pipeline → model). */
async function scaleml(name: string) {
  const servable = await loadServableModel(registry, name)
  const X = servable.pipeline.transform(batchFromRecords(servable.pipeline.inputSchema, EVAL))
  const response = predictBody(servable, { instances: EVAL })
  return { servable, X, predictions: response.predictions }
}

/** Rows where the label may legitimately differ: scaleml's two best values are within `tolerance`. */
function nearTies(values: Float64Array, k: number, tolerance: number): Set<number> {
  const out = new Set<number>()
  for (let r = 0; r < values.length / k; r++) {
    const row = Array.from(values.subarray(r * k, r * k + k)).sort((a, b) => b - a)
    if (k === 1 ? Math.abs(row[0]!) < tolerance : row[0]! - row[1]! < tolerance) out.add(r)
  }
  return out
}

function labelOf(label: boolean | number): number {
  return typeof label === 'boolean' ? Number(label) : label
}

async function checkProbabilities(name: string, options: ExportOnnxOptions = {}, tolerance = 1e-5) {
  const { servable, X, predictions } = await scaleml(name)
  const model = servable.model as Classifier
  const artifact = await registry.load(name)
  const { exported, outputs } = await runExport(artifact, EVAL, options)
  const k = model.classes.length
  expect(outputs['probabilities']!.dims).toEqual([EVAL.length, k])
  const expected = model.predictProba(X)
  const proba = outputs['probabilities']!.data as Float32Array
  let worst = 0
  for (let i = 0; i < proba.length; i++) worst = Math.max(worst, Math.abs(proba[i]! - expected[i]!))
  expect(worst).toBeLessThan(tolerance)
  // The served answer: the probability of the positive class (binary) or of the winner, and the label.
  const ties = nearTies(expected, k, tolerance)
  const onnxLabels = tensorNumbers(outputs['label']!)
  const mismatches: number[] = []
  predictions.forEach((p, r) => {
    const served = p as { probability: number; label: boolean | number }
    if (labelOf(served.label) !== onnxLabels[r]) mismatches.push(r)
    const column = k === 2 ? 1 : model.classes.indexOf(labelOf(served.label))
    expect(Math.abs(proba[r * k + column]! - served.probability)).toBeLessThan(tolerance)
  })
  // A label may differ only where scaleml's two best probabilities are within the tolerance, and rarely.
  expect(mismatches.filter((r) => !ties.has(r))).toEqual([])
  expect(mismatches.length).toBeLessThan(10)
  expect(new Set(onnxLabels).size).toBe(k)
  return { exported, worst }
}

describe('ONNX export of linear models (10,000 rows vs scaleml’s predictor, within 1e-5)', () => {
  it('log-loss SgdClassifier, binary: float64 MatMul + Sigmoid gives scaleml’s probabilities and labels', async () => {
    await trained('sgd-binary', createModel('sgd-classifier', { loss: 'log_loss', seed: 1 }), labels(TRAIN))
    const { exported } = await checkProbabilities('sgd-binary')
    expect(exported.notes[0]).toContain('MatMul + Add (float64) + Sigmoid')
    expect(exported.outputs.map((o) => o.name)).toEqual(['label', 'probabilities'])
    expect(exported.inputs.map((i) => `${i.name}:${i.type}`)).toEqual([
      'distance:float',
      'heavy:float',
      'gate:float',
      'origin:string',
      'date:double',
    ])
  })

  it('log-loss SgdClassifier, one-vs-rest over classes 2, 5, 9: normalized sigmoids and the class labels', async () => {
    await trained('sgd-ovr', createModel('sgd-classifier', { loss: 'log_loss', seed: 2 }), labels(TRAIN, [2, 5, 9]))
    const { exported } = await checkProbabilities('sgd-ovr')
    expect(exported.notes[0]).toContain('row normalization')
  })

  it('modified-Huber SgdClassifier, binary and one-vs-rest: clipped margins, normalized, uniform on all-zero rows', async () => {
    await trained(
      'huber-binary',
      createModel('sgd-classifier', { loss: 'modified_huber', seed: 3 }),
      labels(TRAIN, [0, 1]),
    )
    await checkProbabilities('huber-binary')
    await trained(
      'huber-ovr',
      createModel('sgd-classifier', { loss: 'modified_huber', seed: 4 }),
      labels(TRAIN, [0, 1, 2]),
    )
    const { exported } = await checkProbabilities('huber-ovr')
    expect(exported.notes[0]).toContain('(clip(m, −1, 1) + 1) / 2')
  })

  it.each([
    ['perceptron', [0, 1]],
    ['passive-aggressive-classifier', [0, 1, 2]],
    ['sgd-classifier', [3, 4, 7]],
  ] as const)('%s (no probabilities) over %j: label and margins as scores', async (kind, classes) => {
    const name = `margins-${kind}-${classes.length}`
    const params = kind === 'sgd-classifier' ? { loss: 'hinge', seed: 5 } : { seed: 5 }
    await trained(name, createModel(kind, params), labels(TRAIN, classes))
    const { servable, X, predictions } = await scaleml(name)
    const model = servable.model as Classifier
    const { exported, outputs } = await runExport(await registry.load(name), EVAL)
    expect(exported.outputs.map((o) => o.name)).toEqual(['label', 'scores'])
    const margins = model.decisionFunction(X)
    const scores = outputs['scores']!.data as Float32Array
    expect(outputs['scores']!.dims).toEqual([EVAL.length, classes.length === 2 ? 1 : classes.length])
    expect(worstRelativeDifference(scores, margins)).toBeLessThan(1e-5)
    const ties = nearTies(margins, classes.length === 2 ? 1 : classes.length, 1e-4)
    const onnxLabels = tensorNumbers(outputs['label']!)
    const mismatches = predictions.flatMap((p, r) =>
      labelOf((p as { label: boolean | number }).label) === onnxLabels[r] ? [] : [r],
    )
    expect(mismatches.filter((r) => !ties.has(r))).toEqual([])
    expect(mismatches.length).toBeLessThan(10)
    expect(new Set(onnxLabels).size).toBeGreaterThan(1)
  })

  it('SgdRegressor: LinearRegressor gives scaleml’s values', async () => {
    await trained('sgd-regressor', createModel('sgd-regressor', { seed: 6 }), target(TRAIN))
    const { predictions } = await scaleml('sgd-regressor')
    const { exported, outputs } = await runExport(await registry.load('sgd-regressor'), EVAL)
    expect(exported.outputs).toEqual([expect.objectContaining({ name: 'variable', type: 'float', shape: ['N', 1] })])
    expect(outputs['variable']!.dims).toEqual([EVAL.length, 1])
    const served = predictions.map((p) => (p as { value: number }).value)
    expect(worstRelativeDifference(outputs['variable']!.data as Float32Array, served)).toBeLessThan(1e-5)
    expect(Math.max(...served) - Math.min(...served)).toBeGreaterThan(10)
  })
})

describe("ONNX export of linear models with precision 'float32' (Scaler, LinearClassifier, LinearRegressor)", () => {
  it.each(['sgd-binary', 'sgd-ovr', 'huber-binary', 'huber-ovr'])(
    '%s: probabilities within 1e-4, labels equal but at near-ties',
    async (name) => {
      const { exported, worst } = await checkProbabilities(name, { precision: 'float32' }, 1e-4)
      expect(exported.notes[0]).toMatch(/ai\.onnx\.ml\.Linear(Classifier|Regressor)/)
      expect(exported.notes[0]).not.toContain('float64')
      expect(worst).toBeGreaterThan(0)
    },
  )

  it('sgd-regressor: LinearRegressor values within 1e-5 relative', async () => {
    const { predictions } = await scaleml('sgd-regressor')
    const { exported, outputs } = await runExport(await registry.load('sgd-regressor'), EVAL, { precision: 'float32' })
    expect(exported.notes[0]).toContain('ai.onnx.ml.LinearRegressor')
    const served = predictions.map((p) => (p as { value: number }).value)
    expect(worstRelativeDifference(outputs['variable']!.data as Float32Array, served)).toBeLessThan(1e-5)
  })
})
