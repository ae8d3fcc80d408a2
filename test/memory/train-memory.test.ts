/**
 * Memory of the streaming training path is O(batch), not O(data): training on 10× the rows (and ≥ 10× the batch
 * budget) must not raise peak RSS by more than a small constant.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeSyntheticFlights } from '../../src/testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../../src/testing/temp-home.js'
import { runCli } from '../helpers/cli.js'

const BATCH = 4_096
// 10× the rows, ≥ 10× the batch budget at both sizes (293 and 2,930 batches); both above the file source's
// DEFAULT_WORKER_AFTER_ROWS (2^20), so both runs may read later passes on the reader thread.
const SMALL = 1_200_000
const LARGE = 12_000_000

let tmp: TempHome

beforeAll(async () => {
  tmp = await createTempHome('memory')
  await writeSyntheticFlights(join(tmp.path, 'small.parquet'), { rows: SMALL, seed: 1 })
  await writeSyntheticFlights(join(tmp.path, 'large.parquet'), { rows: LARGE, seed: 1 })
})
afterAll(async () => {
  await tmp?.remove()
})

async function peakRss(file: string): Promise<{ peak: number; rows: number }> {
  const run = await runCli([
    'train',
    '--data',
    join(tmp.path, file),
    '--target',
    'delay > 15',
    '--holdout',
    // A random holdout keeps the whole path O(batch); a time holdout adds DuckDB's exact quantile of one column.
    'random:0.1',
    '--batch-size',
    String(BATCH),
    '--home',
    join(tmp.path, 'home'),
    '--register',
    file.replace('.parquet', ''),
    '--json',
  ])
  expect(run.code, run.stderr).toBe(0)
  const out = JSON.parse(run.stdout)
  return { peak: out.peakRssBytes, rows: out.rows + out.holdoutRows }
}

describe('streaming train memory', () => {
  it('peak RSS does not grow with the row count (10× the rows, ≥ 10× the batch budget)', async () => {
    const small = await peakRss('small.parquet')
    const large = await peakRss('large.parquet')
    expect(small.rows).toBe(SMALL)
    expect(large.rows).toBe(LARGE)
    const growth = large.peak - small.peak
    console.log(
      `peak RSS ${(small.peak / 2 ** 20).toFixed(0)} MiB at ${SMALL} rows, ${(large.peak / 2 ** 20).toFixed(0)} MiB at ${LARGE} rows`,
    )
    // What must not happen is growth with the rows: keeping anything per row of the extra 10.8M rows — even 8 bytes,
    // a quarter of the raw columns (32 bytes a row), let alone the features (~6 GiB) — would pass 80 MiB. Below it
    // sits what a longer run may add once: V8's young generation growing to its maximum (3 × 16 MiB semi-spaces) and
    // the reader thread, depending on GC timing on a loaded machine (measured: −4 to +55 MiB).
    expect(growth).toBeLessThan(80 * 2 ** 20)
  }, 300_000)
})
