import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseRecordsOrThrow } from '../../data/records.js'
import { onnxArtifactContent } from '../../registry/onnx/import.js'
import { openRegistry, type Registry } from '../../registry/registry.js'
import { SYNTHETIC_AIRPORTS } from '../../testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../../testing/temp-home.js'
import { loadServableModel } from '../model-loader.js'
import { createBatchPredictor, predictBody, type ServableModel } from '../predictor.js'
import { createPredictThreadPool, type PredictThreadPool } from './predict-threads.js'
import { createServingRuntime } from './runtime.js'
import { FLIGHT, flightsData, trainedContent } from './test-helpers/models.js'

let home: TempHome
let registry: Registry
let servable: ServableModel
let pool: PredictThreadPool

beforeAll(async () => {
  home = await createTempHome('serve-threads')
  registry = await openRegistry({ home: home.path })
  await registry.register('trees', await trainedContent(await flightsData(home.path), 'gbdt', { nEstimators: 30 }))
  servable = await loadServableModel(registry, 'trees')
  pool = createPredictThreadPool({ threads: 2 })
  await pool.load('trees:1', servable)
})

afterAll(async () => {
  await pool?.close()
  await registry?.close()
  await home?.remove()
})

function batchOf(rows: number) {
  const records = Array.from({ length: rows }, (_, i) => ({
    ...FLIGHT,
    distance: 100 + ((i * 37) % 2500),
    origin: SYNTHETIC_AIRPORTS[i % SYNTHETIC_AIRPORTS.length]!,
  }))
  return parseRecordsOrThrow(servable.pipeline.inputSchema, records)
}

describe('createPredictThreadPool', () => {
  it('predicts on worker threads exactly what the model predicts in this thread', async () => {
    const batch = batchOf(500)
    const before = pool.dispatched
    const values = await pool.predict('trees:1', batch)
    expect(pool.dispatched).toBe(before + 1)
    const local = createBatchPredictor(servable).predict(batch).values
    expect(values.map((v) => Array.from(v))).toEqual(local.map((v) => Array.from(v)))
  })

  it('keeps the event loop free while a big batch runs on a thread', async () => {
    const batch = batchOf(100_000)
    let turns = 0
    const ticker = setInterval(() => turns++, 1)
    try {
      // In this thread the same predict would run to completion before any timer could fire.
      await pool.predict('trees:1', batch)
    } finally {
      clearInterval(ticker)
    }
    expect(turns).toBeGreaterThan(0)
  })

  it('rejects a batch for a model it does not hold, naming it', async () => {
    await expect(pool.predict('nope:1', batchOf(1))).rejects.toThrow(/nope:1 is not loaded/)
  })
})

describe('heavy models in the runtime', () => {
  it('runs a model flagged heavy on the threads, answering as in this thread', async () => {
    const runtime = createServingRuntime({ registry, refs: ['trees'], heavy: ['trees'], threads: 2, pollMs: 0 })
    try {
      await runtime.start()
      expect(runtime.describe('trees').heavy).toBe(true)
      const bodies = Array.from({ length: 40 }, (_, i) => ({ instances: [{ ...FLIGHT, distance: 200 + i * 50 }] }))
      const answers = await Promise.all(bodies.map((body) => runtime.predict('trees', body)))
      for (const [i, answer] of answers.entries()) {
        expect(answer.predictions).toEqual(predictBody(servable, bodies[i]).predictions)
      }
    } finally {
      await runtime.close()
    }
  })
})

describe('imported ONNX models', () => {
  const fixtures = new URL('../../../test/fixtures/onnx/', import.meta.url)
  const expected = JSON.parse(readFileSync(new URL('expected.json', fixtures), 'utf8')) as {
    'classifier-matrix': { X: number[][]; probabilities: number[][]; label: number[] }
  }

  it('run on a worker thread without being flagged, answering what onnxruntime computes', async () => {
    const bytes = readFileSync(new URL('classifier-matrix.onnx', fixtures))
    await registry.register('onnx-clf', await onnxArtifactContent(bytes, { source: 'classifier-matrix.onnx' }))
    const runtime = createServingRuntime({ registry, refs: ['onnx-clf'], pollMs: 0 })
    try {
      await runtime.start()
      expect(runtime.describe('onnx-clf')).toMatchObject({ heavy: true, modelKind: 'onnx-classifier' })
      const { X, probabilities, label } = expected['classifier-matrix']
      const answers = await Promise.all(
        X.map((x) => runtime.predict('onnx-clf', { instances: [{ f0: x[0], f1: x[1], f2: x[2], f3: x[3] }] })),
      )
      answers.forEach((answer, r) => {
        const [prediction] = answer.predictions
        expect(prediction!['label']).toBe(label[r])
        // onnxruntime computes in float32: the probability of the predicted class, to float32 precision.
        expect(prediction!['probability']).toBeCloseTo(Math.max(...probabilities[r]!), 6)
      })
    } finally {
      await runtime.close()
    }
  })
})
