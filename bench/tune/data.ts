/**
 * Input of the tuning bench: bench/gbdt's flights task (hour, day of week, month, distance, origin, destination;
 * label `delay > 15`; train before 2001-06-13, test after) with a seeded sample of 200,000 training rows, written
 * once under `.bench-data/tune/` as one CSV (what Python reads: Debian's pandas has no Parquet) and the same rows as
 * Parquet (what `scaleml tune` reads). Both hold the sampled training rows (in time order, or with `order: 'shuffled'`
 * in the order drawn), then every test row, and a column `is_test` (0/1) that splits them: `scaleml tune --holdout
 * time:is_test:<f>` with f below the test share puts exactly the `is_test = 1` rows in the holdout (the cutoff is the
 * value 1, ties included).
 *
 * Airports are written as strings (`a<code>`) so that scaleml reads them as categorical columns; Python maps them
 * back to integer codes for scikit-learn's native categoricals.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Random } from '../../src/core/random.js'
import { openDuckDb } from '../../src/infra/duckdb.js'
import { flightsSplit } from '../gbdt/data.js'
import { BENCH_DATA } from '../lib/peers.js'

/** Where the bench writes its inputs. */
export const TUNE_DATA = join(BENCH_DATA, 'tune')

/** The bench's data files and sizes. */
export interface TuneData {
  readonly csv: string
  readonly parquet: string
  readonly trainRows: number
  readonly testRows: number
}

const COLUMNS = ['hour', 'dow', 'month', 'distance', 'origin', 'destination', 'delayed', 'is_test'] as const

/** Writes (once) and returns the sampled flights task: `rows` training rows drawn with `seed`, all test rows. */
export async function tuneData(options: { rows: number; seed: number; order: SampleOrder }): Promise<TuneData> {
  const stem = join(
    TUNE_DATA,
    `flights-${options.rows}-seed${options.seed}${options.order === 'time' ? '' : '-shuffled'}`,
  )
  const csv = `${stem}.csv`
  const parquet = `${stem}.parquet`
  const split = await flightsSplit()
  const sample = sampleRows(split.train.rows, options.rows, options.seed, options.order)
  if (!existsSync(parquet)) {
    mkdirSync(TUNE_DATA, { recursive: true })
    process.stderr.write(`writing ${csv} and ${parquet} (once)\n`)
    const lines: string[] = [COLUMNS.join(',')]
    const line = (X: Float32Array, r: number, label: number, isTest: number) => {
      const o = r * split.cols
      lines.push(
        `${X[o]},${X[o + 1]},${X[o + 2]},${X[o + 3]},a${X[o + 4]},a${X[o + 5]},${label === 1 ? 1 : 0},${isTest}`,
      )
    }
    for (const r of sample) line(split.train.X, r, split.train.y[r]!, 0)
    for (let r = 0; r < split.test.rows; r++) line(split.test.X, r, split.test.y[r]!, 1)
    writeFileSync(`${csv}.tmp`, `${lines.join('\n')}\n`)
    renameSync(`${csv}.tmp`, csv)
    const db = await openDuckDb()
    try {
      const types =
        "{'hour': 'INTEGER', 'dow': 'INTEGER', 'month': 'INTEGER', 'distance': 'DOUBLE', 'origin': 'VARCHAR', " +
        "'destination': 'VARCHAR', 'delayed': 'INTEGER', 'is_test': 'INTEGER'}"
      await db.connection.run(
        `COPY (SELECT * FROM read_csv('${csv}', header = true, columns = ${types})) TO '${parquet}.tmp' (FORMAT parquet)`,
      )
    } finally {
      await db.close()
    }
    renameSync(`${parquet}.tmp`, parquet)
  }
  return { csv, parquet, trainRows: sample.length, testRows: split.test.rows }
}

/**
 * Order of the sampled training rows in the files: `time` keeps the flights' time order, `shuffled` is the order the
 * rows were drawn in (what `DataFrame.sample` returns), so that unshuffled folds are random rather than consecutive
 * stretches of the year.
 */
export type SampleOrder = 'time' | 'shuffled'

/** `k` of `n` row indices drawn uniformly without replacement with `seed`, in time order or in the order drawn. */
function sampleRows(n: number, k: number, seed: number, order: SampleOrder): Uint32Array {
  const drawn = new Random(seed).permutation(n).subarray(0, Math.min(k, n))
  return order === 'time' ? drawn.sort() : drawn
}
