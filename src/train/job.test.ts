import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodePayload } from '../core/codec.js'
import { isScalemlError } from '../core/errors.js'
import type { SupervisedEstimator } from '../models/estimator.js'
import { writeParquetFromSql } from '../testing/sql-file.js'
import { writeSyntheticFlights } from '../testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../testing/temp-home.js'
import { readCheckpoint } from './checkpoint.js'
import { type TrainJobOptions, type TrainJobResult, trainJob } from './job.js'

let tmp: TempHome
let flights: string
let otherFlights: string

function sql(file: string, select: string): Promise<string> {
  return writeParquetFromSql(join(tmp.path, file), select)
}

beforeAll(async () => {
  tmp = await createTempHome('train-job')
  flights = join(tmp.path, 'flights.parquet')
  otherFlights = join(tmp.path, 'other.parquet')
  await writeSyntheticFlights(flights, { rows: 12_000, seed: 5 })
  await writeSyntheticFlights(otherFlights, { rows: 12_000, seed: 6 })
})

afterAll(async () => {
  await tmp?.remove()
})

/** Everything a model learned, as bytes: equal strings mean bit-identical models. */
function modelBytes(model: SupervisedEstimator): string {
  const { json, files } = encodePayload(model.toJSON(), { prefix: 'model' })
  return JSON.stringify(json) + files.map((f) => `${f.name}:${Buffer.from(f.bytes).toString('hex')}`).join(',')
}

const base: TrainJobOptions = {
  data: '',
  target: 'delay > 15',
  features: ['date', 'distance', 'origin', 'destination'],
  batchSize: 1000,
  epochs: 2,
  seed: 3,
}

function train(extra: Partial<TrainJobOptions>): Promise<TrainJobResult> {
  return trainJob({ ...base, data: flights, ...extra })
}

/** Runs the job, throwing from onProgress after `after` training batches; resolves when it has stopped. */
async function interrupted(options: Partial<TrainJobOptions>, after: number): Promise<void> {
  let batches = 0
  const error = await train({
    ...options,
    onProgress: (e) => {
      if (e.phase === 'train' && !e.epochEnd && ++batches > after) throw new Error('interrupted')
    },
  }).catch((e: unknown) => e)
  expect((error as Error).message).toBe('interrupted')
}

describe('shuffling', () => {
  it('is reproducible with a seed and differs across seeds and modes', async () => {
    const a = await train({ shuffle: 'segments' })
    const b = await train({ shuffle: 'segments' })
    expect(modelBytes(a.model)).toBe(modelBytes(b.model))
    const otherSeed = await train({ shuffle: 'segments', seed: 4 })
    expect(modelBytes(otherSeed.model)).not.toBe(modelBytes(a.model))
    const none = await train({ shuffle: 'none' })
    const window = await train({ shuffle: 'window' })
    expect(new Set([modelBytes(a.model), modelBytes(none.model), modelBytes(window.model)]).size).toBe(3)
    expect(a.training).toMatchObject({ shuffle: 'segments', epochsCompleted: 2, stoppedEarly: false })
    expect(a.lineage).toMatchObject({ epochs: 2, shuffle: 'segments', rows: 12_000 })
  })

  it('CSV data trains and resumes too (rows numbered as read, segments permute within batches)', async () => {
    const csv = join(tmp.path, 'flights.csv')
    await writeSyntheticFlights(csv, { rows: 6_000, seed: 5, format: 'csv' })
    const options = { data: csv, holdout: 'random:0.2', epochs: 2 } as const
    const straight = await train(options)
    expect(straight.lineage.rows + straight.holdout!.rows).toBe(6_000)
    const dir = join(tmp.path, 'ckpt-csv')
    await interrupted({ ...options, checkpointDir: dir, checkpointEvery: 2 }, 7)
    const resumed = await train({ ...options, checkpointDir: dir, checkpointEvery: 2, resume: true })
    expect(resumed.training.resumedFrom?.epoch).toBe(2)
    expect(modelBytes(resumed.model)).toBe(modelBytes(straight.model))
  })
})

describe('resume', () => {
  for (const [mode, extra] of [
    ['segments', { holdout: 'random:0.2' }],
    ['window', { holdout: 'time:date:0.1', shuffleWindow: 3 }],
    ['none', { holdout: 'random:0.2', validationFraction: 0.2, earlyStopping: true }],
  ] as const) {
    it(`${mode}: a run interrupted mid-epoch and resumed ends with the uninterrupted model, bit for bit`, async () => {
      const options = { shuffle: mode, epochs: 3, ...extra } as const
      let perEpoch = 0
      const uninterrupted = await train({
        ...options,
        onProgress: (e) => {
          if (e.phase === 'train' && e.epoch === 1 && !e.epochEnd) perEpoch++
        },
      })
      expect(perEpoch).toBeGreaterThanOrEqual(6)
      const dir = join(tmp.path, `ckpt-${mode}`)
      // Checkpoints every 2 batches (the count restarts at each epoch end); stop on the 5th batch of epoch 2, so the
      // last checkpoint is the one after its 4th batch.
      await interrupted({ ...options, checkpointDir: dir, checkpointEvery: 2 }, perEpoch + 4)
      const saved = await readCheckpoint(dir)
      expect(saved?.position).toMatchObject({ epoch: 2, epochsCompleted: 1, stopped: false })
      expect(saved?.position.rowsInEpoch).toBeGreaterThan(0)
      const resumed = await train({ ...options, checkpointDir: dir, checkpointEvery: 2, resume: true })
      expect(resumed.training.resumedFrom).toEqual({
        epoch: 2,
        block: saved!.position.block,
        batch: saved!.position.batch,
      })
      expect(modelBytes(resumed.model)).toBe(modelBytes(uninterrupted.model))
      expect(resumed.metrics).toEqual(uninterrupted.metrics)
      expect(resumed.training.scores).toEqual(uninterrupted.training.scores)
    })
  }

  it('early stopping on the training loss resumes with its loss sums, even after two interruptions', async () => {
    const options = { shuffle: 'segments', epochs: 4, earlyStopping: true, nIterNoChange: 2, tol: -1 } as const
    const uninterrupted = await train(options)
    expect(uninterrupted.training.scores?.metric).toBe('trainingLoss')
    expect(uninterrupted.training.scores?.values).toHaveLength(4)
    const dir = join(tmp.path, 'ckpt-loss')
    await interrupted({ ...options, checkpointDir: dir, checkpointEvery: 3 }, 7)
    await interrupted({ ...options, checkpointDir: dir, checkpointEvery: 3, resume: true }, 17)
    const resumed = await train({ ...options, checkpointDir: dir, checkpointEvery: 3, resume: true })
    expect(modelBytes(resumed.model)).toBe(modelBytes(uninterrupted.model))
    expect(resumed.training.scores).toEqual(uninterrupted.training.scores)
  })

  it('a finished checkpoint resumes to the same model without training, and may train on for more epochs', async () => {
    const dir = join(tmp.path, 'ckpt-done')
    const first = await train({ checkpointDir: dir })
    const again = await train({ checkpointDir: dir, resume: true })
    expect(modelBytes(again.model)).toBe(modelBytes(first.model))
    expect(again.training.resumedFrom).toEqual({ epoch: 3, block: 0, batch: 0 })
    const longer = await train({ checkpointDir: dir, resume: true, epochs: 3 })
    const straight = await train({ epochs: 3 })
    expect(modelBytes(longer.model)).toBe(modelBytes(straight.model))
    expect((await readdir(dir)).filter((f) => f.endsWith('.bin'))).toHaveLength(1)
  })

  it('refuses a checkpoint of another model, other data or other params, and a corrupt one', async () => {
    const dir = join(tmp.path, 'ckpt-refuse')
    await train({ checkpointDir: dir, epochs: 1 })
    const refused = async (extra: Partial<TrainJobOptions>, code: string, pattern: RegExp) => {
      const error = await train({ checkpointDir: dir, resume: true, ...extra }).catch((e: unknown) => e)
      expect(isScalemlError(error), String(error)).toBe(true)
      expect((error as { code: string }).code).toBe(code)
      expect((error as Error).message).toMatch(pattern)
    }
    await refused(
      { model: 'sgd-regressor' },
      'INVALID_ARGUMENT',
      /modelKind differs \(checkpoint "sgd-classifier", now "sgd-regressor"\)/,
    )
    await refused({ data: otherFlights }, 'INVALID_ARGUMENT', /written by another job: dataFingerprint differs/)
    await refused(
      { paramAssignments: ['alpha=0.001'] },
      'INVALID_ARGUMENT',
      /params\.alpha differs \(checkpoint 0\.0001, now 0\.001\)/,
    )
    await refused({ resume: false }, 'INVALID_ARGUMENT', /already holds a checkpoint .*pass --resume/)
    await writeFile(join(dir, 'checkpoint.json'), '{"format": "scaleml-train-checkpoint", "formatVersion": 1, "ar')
    await refused({}, 'ARTIFACT_INVALID', /checkpoint\.json is unusable: it is not valid JSON/)
  })
})

describe('early stopping', () => {
  it('stops after nIterNoChange epochs without improvement, and not before', async () => {
    // tol 10: no epoch after the first can improve by 10, so the run stops after 1 + nIterNoChange epochs.
    const plateau = await train({ epochs: 10, earlyStopping: true, validationFraction: 0.2, nIterNoChange: 2, tol: 10 })
    expect(plateau.training).toMatchObject({ epochsCompleted: 3, stoppedEarly: true })
    expect(plateau.training.scores?.metric).toBe('auc')
    expect(plateau.training.scores?.on).toBe('validation-fraction')
    expect(plateau.training.scores?.values).toHaveLength(3)
    expect(plateau.training.validationRows).toBeGreaterThan(2000)
    expect(plateau.lineage.rows + plateau.training.validationRows!).toBe(12_000)
    // tol -1: every epoch counts as an improvement, so it never stops early.
    const never = await train({ epochs: 4, earlyStopping: true, validationFraction: 0.2, nIterNoChange: 1, tol: -1 })
    expect(never.training).toMatchObject({ epochsCompleted: 4, stoppedEarly: false })
  })

  it('emits one epoch summary per epoch with the validation score', async () => {
    const summaries: unknown[] = []
    await train({
      epochs: 3,
      holdout: 'time:date:0.1',
      earlyStopping: true,
      nIterNoChange: 5,
      onProgress: (e) => {
        if (e.epochEnd) summaries.push(e.epochEnd)
      },
    })
    expect(summaries).toHaveLength(3)
    expect(summaries[2]).toMatchObject({ epoch: 3, metric: 'auc', on: 'holdout', stop: false })
    expect((summaries[0] as { score: number }).score).toBeGreaterThan(0.5)
  })
})

describe('bad data', () => {
  it('an empty source is EMPTY_SOURCE', async () => {
    const empty = await sql('empty.parquet', 'SELECT 1.5 AS distance, 20 AS delay FROM range(0)')
    const error = await trainJob({ data: empty, target: 'delay > 15' }).catch((e: unknown) => e)
    expect(isScalemlError(error, 'EMPTY_SOURCE')).toBe(true)
    const allNull = await sql('nulls.parquet', 'SELECT 1.5 AS distance, NULL::BIGINT AS delay FROM range(10)')
    const nulls = await trainJob({ data: allNull, target: 'delay > 15' }).catch((e: unknown) => e)
    expect(isScalemlError(nulls, 'EMPTY_SOURCE')).toBe(true)
    expect((nulls as Error).message).toMatch(/No training rows with a non-null target/)
  })

  it('NaN or Infinity in a feature names the column and row, unless imputation is asked for', async () => {
    const bad = await sql(
      'infinite.parquet',
      `SELECT CASE WHEN i = 17 THEN 'Infinity'::DOUBLE WHEN i = 30 THEN NULL ELSE i * 1.5 END AS distance, i % 40 AS delay FROM range(100) r(i)`,
    )
    const error = await trainJob({ data: bad, target: 'delay > 15' }).catch((e: unknown) => e)
    expect(isScalemlError(error, 'INVALID_DATA')).toBe(true)
    expect((error as Error).message).toMatch(/The feature 'distance' is Infinity at row 18 of .*infinite\.parquet/)
    expect((error as Error).message).toMatch(/--impute all/)
    const imputed = await trainJob({ data: bad, target: 'delay > 15', impute: 'all' })
    expect(imputed.lineage.rows).toBe(100)
    // In the holdout too (a random holdout the training pass never reads).
    const inHoldout = await sql(
      'nan-holdout.parquet',
      `SELECT CASE WHEN i = 95 THEN 'NaN'::DOUBLE ELSE i * 1.5 END AS distance, i AS delay FROM range(100) r(i)`,
    )
    const late = await trainJob({ data: inHoldout, target: 'delay > 15', holdout: 'time:delay:0.1' }).catch(
      (e: unknown) => e,
    )
    expect(isScalemlError(late, 'INVALID_DATA')).toBe(true)
    expect((late as Error).message).toMatch(/'distance' is NaN at row 96 of the holdout 'time:delay:0.1'/)
  })

  it('labels outside the declared classes, or holdout labels the model never saw, name the row', async () => {
    const graded = await sql(
      'graded.parquet',
      `SELECT i * 1.0 AS x, CASE WHEN i = 41 THEN 2 ELSE i % 2 END AS grade FROM range(60) r(i)`,
    )
    const declared = await trainJob({ data: graded, target: 'grade', model: 'sgd-classifier', classes: [0, 1] }).catch(
      (e: unknown) => e,
    )
    expect(isScalemlError(declared, 'INVALID_DATA')).toBe(true)
    expect((declared as Error).message).toMatch(
      /Row 42 of .*graded\.parquet has label 2 for the target 'grade', which is not one of the classes \[0, 1\] declared/,
    )
    const late = await sql(
      'late-class.parquet',
      `SELECT i * 1.0 AS x, CASE WHEN i >= 95 THEN 2 ELSE i % 2 END AS grade FROM range(100) r(i)`,
    )
    const unseen = await trainJob({
      data: late,
      target: 'grade',
      model: 'sgd-classifier',
      holdout: 'time:x:0.05',
    }).catch((e: unknown) => e)
    expect(isScalemlError(unseen, 'INVALID_DATA')).toBe(true)
    expect((unseen as Error).message).toMatch(
      /Row 96 of the holdout .* has label 2 .* not one of the classes \[0, 1\] the model was trained on/,
    )
  })

  it('rejects bad loop options with the parameter named', async () => {
    for (const [extra, pattern] of [
      [{ shuffle: 'random' }, /'shuffle' parameter of trainJob must be one of "none", "window", "segments"/],
      [{ validationFraction: 1 }, /'validationFraction' parameter of trainJob/],
      [{ nIterNoChange: 0 }, /'nIterNoChange' parameter/],
      [{ resume: true }, /--resume needs --checkpoint-dir/],
      [{ checkpointEvery: 5 }, /--checkpoint-every needs --checkpoint-dir/],
    ] as const) {
      const error = await train(extra as Partial<TrainJobOptions>).catch((e: unknown) => e)
      expect(isScalemlError(error), String(error)).toBe(true)
      expect((error as Error).message).toMatch(pattern)
    }
  })
})
