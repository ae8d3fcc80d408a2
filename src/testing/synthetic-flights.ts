/**
 * Flights-like data of any size for tests, examples and memory checks, written by DuckDB in one `COPY` so that
 * millions of rows take seconds.
 *
 * Columns: `date` TIMESTAMP increasing from 2001-01-01 over about 180 days (whole seconds), `delay` BIGINT,
 * `distance` BIGINT, `origin` and `destination` VARCHAR from 50 airport codes. The delay is learnable: it grows with
 * the hour of departure, with distance and with a per-origin effect, plus noise, so `delay > 15` is a sensible
 * classification target and `delay` a regression one. Equal `(rows, seed)` give equal files.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import { openDuckDb } from '../infra/duckdb.js'

/** Options for {@link writeSyntheticFlights}. */
export interface SyntheticFlightsOptions {
  /** Number of rows (≥ 1). */
  readonly rows: number
  /** Seed of the pseudo-random columns (a 32-bit integer). */
  readonly seed?: number
  /** File format (default `'parquet'`). CSV is written with a header; a `.gz` path is gzip-compressed. */
  readonly format?: 'parquet' | 'csv'
  /** Fraction of rows whose `delay` is null (default 0), to exercise null handling. */
  readonly nullFraction?: number
}

/** The 50 airport codes used for `origin` and `destination`. */
export const SYNTHETIC_AIRPORTS: readonly string[] = (
  'ATL ORD DFW LAX PHX DEN LAS DTW IAH MSP ' +
  'STL SFO EWR CLT SLC BOS LGA SEA PHL MCO ' +
  'BWI CVG PIT SAN MDW IAD TPA OAK DCA HOU ' +
  'BNA MCI DAL SJC FLL MIA SMF CLE MEM ABQ ' +
  'AUS MSY RDU SNA PDX SAT ONT IND BUR SJU'
).split(' ')

const SPAN_SECONDS = 180 * 24 * 3600

/**
 * Writes `rows` synthetic flights to `path` and resolves when the file is complete.
 *
 * Pseudo-random draws come from DuckDB's `hash(row, seed, k)`, not `random()`, so the output does not depend on
 * how DuckDB schedules its threads.
 *
 * @example
 * await writeSyntheticFlights('/tmp/flights.parquet', { rows: 1_000_000, seed: 7 })
 */
export async function writeSyntheticFlights(path: string, options: SyntheticFlightsOptions): Promise<void> {
  const { rows, seed = 0, format = 'parquet', nullFraction = 0 } = options
  if (!Number.isInteger(rows) || rows < 1) {
    throw new ScalemlError('INVALID_ARGUMENT', `rows must be a positive integer, got ${rows}`)
  }
  if (!Number.isInteger(seed)) throw new ScalemlError('INVALID_ARGUMENT', `seed must be an integer, got ${seed}`)
  if (!(nullFraction >= 0 && nullFraction < 1)) {
    throw new ScalemlError('INVALID_ARGUMENT', `nullFraction must be in [0, 1), got ${nullFraction}`)
  }
  const step = Math.max(1, Math.floor(SPAN_SECONDS / rows))
  const airports = `[${SYNTHETIC_AIRPORTS.map((a) => `'${a}'`).join(', ')}]`
  // u(k): a uniform draw in [0, 1) for draw k of row i. No ORDER BY: rows keep range() order (DuckDB preserves
  // insertion order), and date increases with i, so a sort would only cost memory.
  const u = (k: number) => `((hash(i, ${seed | 0}, ${k}) % 1000000) / 1000000.0)`
  const sql = `
    WITH base AS (
      SELECT i,
             TIMESTAMP '2001-01-01 00:00:00' + to_seconds(CAST(i * ${step} AS BIGINT)) AS date,
             CAST(floor(pow(${u(1)}, 1.5) * 50) AS INTEGER) AS o,
             CAST(floor(${u(2)} * 49) AS INTEGER) AS d_off,
             ${u(3)} AS u3, ${u(4)} + ${u(5)} + ${u(6)} - 1.5 AS noise, ${u(7)} AS u7
      FROM range(${rows}) t(i)
    ), routes AS (
      SELECT *, (o + 1 + d_off) % 50 AS d FROM base
    ), flights AS (
      SELECT date, o, d,
             CAST(150 + ((o * 37 + d * 53) % 50) * 45 + floor(u3 * 40) AS BIGINT) AS distance,
             noise, u7
      FROM routes
    )
    SELECT date,
           CASE WHEN u7 < ${nullFraction} THEN NULL ELSE
             CAST(round(-12 + 1.6 * hour(date) + distance / 150.0 + (o % 7) * 3 + 14 * noise) AS BIGINT)
           END AS delay,
           distance,
           ${airports}[o + 1] AS origin,
           ${airports}[d + 1] AS destination
    FROM flights`
  const target = `'${path.replaceAll("'", "''")}'`
  const copyOptions = format === 'parquet' ? 'FORMAT parquet' : 'FORMAT csv, HEADER true'
  const db = await openDuckDb()
  try {
    await db.connection.run(`COPY (${sql}) TO ${target} (${copyOptions})`)
  } finally {
    await db.close()
  }
}
