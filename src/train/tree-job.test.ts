import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import type { GbdtClassifier } from '../models/trees/gbdt.js'
import { writeParquetFromSql } from '../testing/sql-file.js'
import { writeSyntheticFlights } from '../testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../testing/temp-home.js'
import { type TrainJobOptions, type TrainJobResult, trainJob } from './job.js'

let tmp: TempHome
let flights: string

function sql(file: string, select: string): Promise<string> {
  return writeParquetFromSql(join(tmp.path, file), select)
}

beforeAll(async () => {
  tmp = await createTempHome('tree-job')
  flights = join(tmp.path, 'flights.parquet')
  await writeSyntheticFlights(flights, { rows: 20_000, seed: 5 })
})

afterAll(async () => {
  await tmp?.remove()
})

const base: TrainJobOptions = {
  data: '',
  target: 'delay > 15',
  features: ['date', 'distance', 'origin', 'destination'],
  holdout: 'time:date:0.2',
  batchSize: 4096,
  model: 'gbdt',
  paramAssignments: ['n_estimators=20', 'max_leaves=15'],
}

function train(extra: Partial<TrainJobOptions> = {}): Promise<TrainJobResult> {
  return trainJob({ ...base, data: flights, ...extra })
}

async function failure(extra: Partial<TrainJobOptions>, data = flights): Promise<Error> {
  const error = await trainJob({ ...base, data, ...extra }).catch((e: unknown) => e)
  expect(isScalemlError(error), (error as Error).stack).toBe(true)
  return error as Error
}

describe('trainJob with tree models', () => {
  it("'gbdt' on a boolean target trains a classifier on raw numbers, category codes and calendar values", async () => {
    const events = new Set<string>()
    const result = await train({ onProgress: (e) => events.add(e.phase) })
    expect(result.modelKind).toBe('gbdt-classifier')
    expect(result.pipeline.steps.map((s) => s.kind)).toEqual(['datetime-parts', 'passthrough', 'ordinal', 'ordinal'])
    expect(result.pipeline.outputNames()).toEqual([
      'date.hour',
      'date.dayOfWeek',
      'date.month',
      'distance',
      'origin',
      'destination',
    ])
    expect([...events]).toEqual(['fit-pipeline', 'sketch', 'bin', 'boost', 'evaluate'])
    const model = result.model as unknown as GbdtClassifier
    expect(model.nRounds).toBe(20)
    // Origin and destination are split on as categories: some node lists categories.
    expect(model.ensemble.categorical.some((c) => c === 1)).toBe(true)
    expect(result.training.trees).toMatchObject({ binnedBytes: result.lineage.rows * 6, rounds: 20 })
    expect(result.training.trees!.binsPerFeature[0]).toBe(24 + 1)
    expect(result.metrics['auc']).toBeGreaterThan(0.6)
    expect(result.lineage.shuffle).toBe('none')
  })

  it('is deterministic: the same job twice gives the same trees', async () => {
    const a = await train({ model: 'random-forest', paramAssignments: ['n_estimators=5', 'max_depth=6'] })
    const b = await train({ model: 'random-forest', paramAssignments: ['n_estimators=5', 'max_depth=6'] })
    expect(a.modelKind).toBe('random-forest-classifier')
    expect(JSON.stringify(a.model.toJSON())).toBe(JSON.stringify(b.model.toJSON()))
    expect(a.metrics).toEqual(b.metrics)
  })

  it("'gbdt' on a numeric target trains a regressor", async () => {
    const result = await train({ target: 'delay' })
    expect(result.modelKind).toBe('gbdt-regressor')
    expect(result.metrics['r2']).toBeGreaterThan(0)
  })

  it('--early-stopping scores each round on the validation rows and keeps the best', async () => {
    const result = await train({
      earlyStopping: true,
      nIterNoChange: 3,
      validationFraction: 0.2,
      paramAssignments: ['n_estimators=400', 'learning_rate=0.5'],
    })
    const trees = result.training.trees!
    expect(trees.evalRows).toBeGreaterThan(3000)
    expect(trees.rounds).toBeLessThan(400)
    expect(trees.rounds! - 1 - trees.bestIteration!).toBe(3)
    expect(result.training.stoppedEarly).toBe(true)
  })

  it('takes a feature that is entirely missing (never split on) and 100k distinct categories (top 256 kept)', async () => {
    const data = await sql(
      'wide.parquet',
      `SELECT i % 7 = 0 AS y, CAST(NULL AS DOUBLE) AS empty, 'id' || i AS id, (i % 7)::DOUBLE AS x FROM range(100000) t(i)`,
    )
    const result = await trainJob({
      ...base,
      data,
      target: 'y',
      features: ['empty', 'id', 'x'],
      holdout: 'random:0.1',
    })
    const model = result.model as unknown as GbdtClassifier
    const features = Array.from(model.ensemble.feature).filter((f) => f >= 0)
    expect(features).not.toContain(0)
    expect(features).toContain(2)
    expect(result.training.trees!.binsPerFeature[0]).toBe(2)
    expect(result.metrics['auc']).toBeGreaterThan(0.99)
  })

  it('skips rows whose label is null or NaN, and refuses a single class', async () => {
    const data = await sql(
      'labels.parquet',
      `SELECT CASE WHEN i % 10 = 0 THEN NULL WHEN i % 10 = 1 THEN 'NaN'::DOUBLE ELSE (i % 3)::DOUBLE END AS y, (i % 5)::DOUBLE AS x FROM range(3000) t(i)`,
    )
    const result = await trainJob({ ...base, data, target: 'y', features: ['x'], holdout: undefined })
    expect(result.lineage.rows).toBe(2400)
    const single = await failure({ target: 'x > 10', features: ['y'], holdout: undefined }, data)
    expect(single.message).toMatch(/is false for every/)
  })

  it('refuses the options of incremental training, saying what to do instead', async () => {
    expect((await failure({ epochs: 2 })).message).toMatch(/--param n_estimators/)
    expect((await failure({ checkpointDir: join(tmp.path, 'ckpt') })).message).toMatch(/--checkpoint-dir/)
    expect((await failure({ model: 'random-forest', earlyStopping: true })).message).toMatch(/no early stopping/)
    expect((await failure({ earlyStopping: true, holdout: undefined })).message).toMatch(/--validation-fraction/)
    expect((await failure({ hash: new Map([['origin', 1024]]) })).message).toMatch(/cannot be hashed/)
  })
})
