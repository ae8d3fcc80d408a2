/**
 * `scaleml models export --format onnx|json` and `models import --format onnx`: a trained model leaves the registry
 * as a file another runtime reads with the same answers, and an ONNX model comes in as a registered version.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modelFromJSON } from '../../src/models/catalog.js'
import { Pipeline } from '../../src/preprocess/pipeline.js'
import { openRegistry } from '../../src/registry/registry.js'
import { loadServableModel } from '../../src/serve/model-loader.js'
import { predictBody } from '../../src/serve/predictor.js'
import { writeSyntheticFlights } from '../../src/testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../../src/testing/temp-home.js'
import { hasStackTrace, runCli } from '../helpers/cli.js'

let tmp: TempHome
let home: string

const RECORDS = [
  { date: '2001-01-03T08:10:00', distance: 400, origin: 'SFO', destination: 'LAX' },
  { date: '2001-02-14T21:45:00', distance: 2500, origin: 'JFK', destination: 'SFO' },
  { date: '2001-03-01T06:00:00', distance: 120, origin: 'ZZZ', destination: null },
]

beforeAll(async () => {
  tmp = await createTempHome('models-export')
  home = join(tmp.path, 'home')
  const data = join(tmp.path, 'flights.parquet')
  await writeSyntheticFlights(data, { rows: 5_000, seed: 2 })
  const run = await runCli([
    'train',
    '--data',
    data,
    '--target',
    'delay > 15',
    '--features',
    'date,distance,origin,destination',
    '--register',
    'delays',
    '--home',
    home,
    '--json',
  ])
  expect(run.code, run.stderr).toBe(0)
})
afterAll(async () => {
  await tmp?.remove()
})

async function served(ref: string) {
  const registry = await openRegistry({ home })
  try {
    return await loadServableModel(registry, ref)
  } finally {
    await registry.close()
  }
}

describe('scaleml models export', () => {
  it('--format onnx writes a model onnxruntime runs with the served probabilities (1e-6)', async () => {
    const out = join(tmp.path, 'delays.onnx')
    const run = await runCli(['models', 'export', 'delays', '--format', 'onnx', '--out', out, '--home', home, '--json'])
    expect(run.code, run.stderr).toBe(0)
    const summary = JSON.parse(run.stdout)
    expect(summary).toMatchObject({ model: { name: 'delays', version: 1 }, format: 'onnx', file: out })
    const session = await ort.InferenceSession.create(readFileSync(out))
    const feeds: Record<string, ort.Tensor> = {
      date: new ort.Tensor(
        'float64',
        Float64Array.from(RECORDS, (r) => Date.parse(`${r.date}Z`)),
        [RECORDS.length, 1],
      ),
      distance: new ort.Tensor(
        'float32',
        Float32Array.from(RECORDS, (r) => r.distance),
        [RECORDS.length, 1],
      ),
      origin: new ort.Tensor(
        'string',
        RECORDS.map((r) => r.origin),
        [RECORDS.length, 1],
      ),
      destination: new ort.Tensor(
        'string',
        RECORDS.map((r) => r.destination ?? ''),
        [RECORDS.length, 1],
      ),
    }
    const result = await session.run(feeds)
    await session.release()
    const probabilities = result['probabilities']!.data as Float32Array | Float64Array
    const expected = predictBody(await served('delays'), { instances: RECORDS }).predictions as readonly {
      probability: number
    }[]
    expected.forEach((p, r) => {
      expect(Math.abs(Number(probabilities[2 * r + 1]) - p.probability)).toBeLessThan(1e-6)
    })
  })

  it('--format json writes a document whose pipeline and model predict as the registry does', async () => {
    const out = join(tmp.path, 'delays.json')
    const run = await runCli(['models', 'export', 'delays:1', '--format', 'json', '--out', out, '--home', home])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/wrote delays:1 as json/)
    const document = JSON.parse(readFileSync(out, 'utf8'))
    expect(document.format).toBe('scaleml-model/1')
    const pipeline = Pipeline.fromJSON(document.pipeline)
    const model = modelFromJSON(document.model) as { predictProba(X: unknown): Float64Array }
    const proba = model.predictProba(pipeline.transformRecords(RECORDS))
    const expected = predictBody(await served('delays'), { instances: RECORDS }).predictions as readonly {
      probability: number
    }[]
    for (const [r, p] of expected.entries()) expect(proba[2 * r + 1]).toBe(p.probability)
  })

  it('refuses an unknown format and an unknown model without a stack trace', async () => {
    const bad = await runCli([
      'models',
      'export',
      'delays',
      '--format',
      'pmml',
      '--out',
      join(tmp.path, 'x.pmml'),
      '--home',
      home,
    ])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/--format must be onnx or json/)
    const missing = await runCli([
      'models',
      'export',
      'nope',
      '--format',
      'onnx',
      '--out',
      join(tmp.path, 'n.onnx'),
      '--home',
      home,
    ])
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toMatch(/No model named 'nope'/)
    expect(hasStackTrace(bad.stderr + missing.stderr)).toBe(false)
  })
})

describe('scaleml models import --format onnx', () => {
  it('registers an ONNX classifier with its feature names and classes', async () => {
    const file = new URL('../fixtures/onnx/classifier-matrix.onnx', import.meta.url).pathname
    const run = await runCli([
      'models',
      'import',
      file,
      '--format',
      'onnx',
      '--name',
      'imported',
      '--features',
      'a,b,c,d',
      '--classes',
      '3,5,7',
      '--home',
      home,
      '--json',
    ])
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({
      model: { name: 'imported', version: 1 },
      modelKind: 'onnx-classifier',
      task: 'classification',
      features: ['a', 'b', 'c', 'd'],
    })
    const show = await runCli(['models', 'show', 'imported', '--home', home, '--json'])
    expect(show.code, show.stderr).toBe(0)
    expect(JSON.parse(show.stdout).lineage.importedFrom).toMatchObject({ format: 'onnx' })
  })
})

describe('scaleml models benchmark', () => {
  it('reports size, load time, latency and throughput of each model side by side (a native and an ONNX model)', async () => {
    const run = await runCli([
      'models',
      'benchmark',
      'delays',
      'imported',
      '--requests',
      '300',
      '--batch-rows',
      '200',
      '--home',
      home,
      '--json',
    ])
    expect(run.code, run.stderr).toBe(0)
    const { models } = JSON.parse(run.stdout)
    expect(models.map((m: { model: { name: string } }) => m.model.name)).toEqual(['delays', 'imported'])
    for (const cost of models) {
      expect(cost.artifactBytes).toBeGreaterThan(100)
      expect(cost.loadMs).toBeGreaterThan(0)
      expect(cost.singleRow.requests).toBe(300)
      expect(cost.singleRow.p50Us).toBeGreaterThan(0)
      expect(cost.singleRow.p99Us).toBeGreaterThanOrEqual(cost.singleRow.p50Us)
      expect(cost.batch).toMatchObject({ rows: 200 })
      expect(cost.batch.rowsPerSecond).toBeGreaterThan(0)
    }
    const table = await runCli(['models', 'benchmark', 'delays', '--requests', '50', '--home', home])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/p99 µs/)
    const missing = await runCli(['models', 'benchmark', 'delays', 'nope', '--home', home])
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toMatch(/No model named 'nope'/)
    expect(hasStackTrace(missing.stderr)).toBe(false)
  })
})
