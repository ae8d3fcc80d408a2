/**
 * `scaleml train --model gbdt | random-forest`: tree models trained from a file, registered, and served with the
 * predictions the trained model gives in process.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDuckDb } from '../../src/infra/duckdb.js'
import { openRegistry } from '../../src/registry/registry.js'
import { loadServableModel } from '../../src/serve/model-loader.js'
import { predictBody } from '../../src/serve/predictor.js'
import { writeSyntheticFlights } from '../../src/testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../../src/testing/temp-home.js'
import { hasStackTrace, runCli } from '../helpers/cli.js'

let tmp: TempHome
let data: string

beforeAll(async () => {
  tmp = await createTempHome('train-trees')
  data = join(tmp.path, 'flights.parquet')
  await writeSyntheticFlights(data, { rows: 20_000, seed: 3 })
})
afterAll(async () => {
  await tmp?.remove()
})

function train(model: string, extra: readonly string[] = []) {
  return runCli([
    'train',
    '--data',
    data,
    '--target',
    'delay > 15',
    '--features',
    'date,distance,origin,destination',
    '--holdout',
    'time:date:0.2',
    '--model',
    model,
    '--param',
    'n_estimators=10',
    '--register',
    model,
    '--home',
    tmp.path,
    '--json',
    ...extra,
  ])
}

describe('scaleml train with tree models', () => {
  for (const [family, kind] of [
    ['gbdt', 'gbdt-classifier'],
    ['random-forest', 'random-forest-classifier'],
  ] as const) {
    it(`--model ${family} registers a ${kind} that serves its holdout predictions`, async () => {
      const run = await train(family)
      expect(run.code, run.stderr).toBe(0)
      const out = JSON.parse(run.stdout)
      expect(out.model).toEqual({ name: family, version: 1 })
      expect(out.training.trees.binnedBytes).toBe(out.rows * 6)
      expect(out.metrics.auc).toBeGreaterThan(0.6)

      const registry = await openRegistry({ home: tmp.path })
      const servable = await loadServableModel(registry, family)
      await registry.close()
      expect(servable.manifest.modelKind).toBe(kind)
      const db = await openDuckDb()
      const rows = await db.connection.runAndReadAll(
        `SELECT strftime(date, '%Y-%m-%dT%H:%M:%S') AS date, distance::DOUBLE AS distance, origin, destination FROM '${data}' LIMIT 50`,
      )
      await db.close()
      const instances = rows.getRowObjectsJson()
      const served = predictBody(servable, { instances }).predictions
      const X = servable.pipeline.transformRecords(instances)
      const model = servable.model as { predictProba(X: unknown): Float64Array }
      const expected = model.predictProba(X)
      served.forEach((p, r) => {
        expect((p as { probability: number }).probability).toBeCloseTo(expected[2 * r + 1]!, 12)
      })
    })
  }

  it('explains what to do instead of --epochs, without a stack trace', async () => {
    const run = await train('gbdt', ['--epochs', '3'])
    expect(run.code).not.toBe(0)
    expect(run.stderr).toMatch(/--param n_estimators/)
    expect(hasStackTrace(run.stderr)).toBe(false)
  })
})
