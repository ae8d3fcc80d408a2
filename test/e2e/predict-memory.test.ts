/**
 * Memory of `scaleml predict` is O(batch), not O(data): scoring 10× the rows must not raise peak RSS by more than
 * allocator and GC noise (the train memory test's bound). The smaller run has a million rows because the first few
 * hundred batches still warm up (V8 grows its young generation, DuckDB its buffers): measured peaks were 181 MiB at
 * 300k rows, 196–203 MiB at 1M and 218–232 MiB at both 3M and 10M rows.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeSyntheticFlights } from '../../src/testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../../src/testing/temp-home.js'
import { runCli } from '../helpers/cli.js'

const BATCH = 4_096
const SMALL = 1_000_000
const LARGE = 10_000_000

let tmp: TempHome
let home: string

beforeAll(async () => {
  tmp = await createTempHome('predict-memory')
  home = join(tmp.path, 'home')
  await writeSyntheticFlights(join(tmp.path, 'small.parquet'), { rows: SMALL, seed: 1 })
  await writeSyntheticFlights(join(tmp.path, 'large.parquet'), { rows: LARGE, seed: 1 })
  const train = await runCli([
    'train',
    '--data',
    join(tmp.path, 'small.parquet'),
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
  expect(train.code, train.stderr).toBe(0)
})
afterAll(async () => {
  await tmp?.remove()
})

async function peakRss(file: string): Promise<{ peak: number; rows: number }> {
  const run = await runCli([
    'predict',
    '--model',
    'delays',
    '--home',
    home,
    '--data',
    join(tmp.path, file),
    '--out',
    join(tmp.path, `${file}.scores.parquet`),
    '--batch-size',
    String(BATCH),
    '--json',
  ])
  expect(run.code, run.stderr).toBe(0)
  const out = JSON.parse(run.stdout)
  return { peak: out.peakRssBytes, rows: out.rows }
}

describe('scaleml predict memory', () => {
  it('peak RSS does not grow with the row count (10× the rows)', async () => {
    const small = await peakRss('small.parquet')
    const large = await peakRss('large.parquet')
    expect(small.rows).toBe(SMALL)
    expect(large.rows).toBe(LARGE)
    console.log(
      `predict peak RSS ${(small.peak / 2 ** 20).toFixed(0)} MiB at ${SMALL} rows, ${(large.peak / 2 ** 20).toFixed(0)} MiB at ${LARGE} rows`,
    )
    // Holding the extra 9M rows' predictions alone would cost ≥ 137 MiB (two doubles a row), their inputs far more.
    expect(large.peak - small.peak).toBeLessThan(0.2 * small.peak)
  }, 300_000)
})
