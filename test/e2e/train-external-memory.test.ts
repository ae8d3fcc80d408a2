/**
 * `scaleml train --model gbdt` in external memory (`--external-memory`, or `--memory-budget` below the estimate):
 * the same model as in memory, its temporary files gone afterwards, and clear errors for what it does not do.
 */
import { mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDuckDb } from '../../src/infra/duckdb.js'
import { openRegistry } from '../../src/registry/registry.js'
import { loadServableModel } from '../../src/serve/model-loader.js'
import { writeSyntheticFlights } from '../../src/testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../../src/testing/temp-home.js'
import { hasStackTrace, runCli } from '../helpers/cli.js'

let tmp: TempHome
let data: string
let spill: string

beforeAll(async () => {
  tmp = await createTempHome('train-external-memory')
  data = join(tmp.path, 'flights.parquet')
  spill = join(tmp.path, 'spill')
  mkdirSync(spill)
  await writeSyntheticFlights(data, { rows: 60_000, seed: 11 })
})
afterAll(async () => {
  await tmp?.remove()
})

function train(name: string, extra: readonly string[] = [], model = 'gbdt') {
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
    'n_estimators=8',
    ...(model === 'gbdt' ? ['--early-stopping', '--validation-fraction', '0.1'] : []),
    '--register',
    name,
    '--home',
    tmp.path,
    '--json',
    ...extra,
  ])
}

/** Class probabilities of the registered model `name` on the first 200 rows of the data. */
async function probabilities(name: string): Promise<Float64Array> {
  const registry = await openRegistry({ home: tmp.path })
  const servable = await loadServableModel(registry, name)
  await registry.close()
  const db = await openDuckDb()
  const rows = await db.connection.runAndReadAll(
    `SELECT strftime(date, '%Y-%m-%dT%H:%M:%S') AS date, distance::DOUBLE AS distance, origin, destination FROM '${data}' LIMIT 200`,
  )
  await db.close()
  const X = servable.pipeline.transformRecords(rows.getRowObjectsJson())
  return (servable.model as { predictProba(X: unknown): Float64Array }).predictProba(X)
}

describe('scaleml train --model gbdt in external memory', () => {
  it('gives the in-memory model, forced or above --memory-budget, and removes its files', async () => {
    const inMemory = await train('in-memory')
    expect(inMemory.code, inMemory.stderr).toBe(0)
    const forced = await train('forced', ['--external-memory', '--spill-dir', spill])
    expect(forced.code, forced.stderr).toBe(0)
    const budgeted = await train('budgeted', ['--memory-budget', '2MiB', '--spill-dir', spill])
    expect(budgeted.code, budgeted.stderr).toBe(0)
    expect(readdirSync(spill)).toEqual([])

    const [a, b, c] = [inMemory, forced, budgeted].map((run) => JSON.parse(run.stdout))
    expect(a.training.trees.externalMemory).toBeUndefined()
    for (const external of [b, c]) {
      // Bins, labels, margins, gradient pairs, row order, class indices: over 30 bytes a row.
      expect(external.training.trees.externalMemory.spillBytes).toBeGreaterThan(external.rows * 30)
      expect(external.training.trees.evalRows).toBe(a.training.trees.evalRows)
      expect(external.training.trees.rounds).toBe(a.training.trees.rounds)
      expect(external.metrics).toEqual(a.metrics)
    }
    const expected = await probabilities('in-memory')
    expect(await probabilities('forced')).toEqual(expected)
    expect(await probabilities('budgeted')).toEqual(expected)
  })

  it('rejects a bad --memory-budget, and external memory where it does not apply, without a stack trace', async () => {
    const cases: [readonly string[], RegExp, string?][] = [
      [['--memory-budget', 'lots'], /--memory-budget expects a size such as 512MiB/],
      [['--memory-budget', '0'], /--memory-budget expects a size/],
      [['--memory-budget', '100KiB'], /memoryBudget \(--memory-budget\) must be a whole number of bytes ≥ 1048576/],
      [
        ['--external-memory'],
        /trains in memory only; external memory \(--external-memory\) is for gradient boosting/,
        'random-forest',
      ],
      [['--memory-budget', '1GiB'], /are for tree models/, 'sgd'],
    ]
    for (const [flags, message, model] of cases) {
      const run = await train('rejected', flags, model)
      expect(run.code, run.stdout).toBe(2)
      expect(run.stderr).toMatch(message)
      expect(hasStackTrace(run.stderr)).toBe(false)
    }
  })
})
