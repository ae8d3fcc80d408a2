/**
 * Holdout splits that work on streams: a time split is a SQL filter on a cutoff (so each side is its own file
 * source), a random split is a pure function of (seed, global row index) (so it does not depend on batch boundaries
 * and needs no memory).
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import { hashToUnit } from '../core/random.js'
import { describeDuckDbError, openDuckDb } from '../infra/duckdb.js'
import { type Batch, takeRows } from './batch.js'
import type { Source } from './source.js'
import { columnTypeOf, isTimestampTz, quoteLiteral } from './sources/duckdb-sql.js'
import { bindRelationColumns, detectFormat, matchFiles, relationSql, unknownColumn } from './sources/files.js'

/** A parsed holdout: the last `fraction` of time by `column`, or a seeded random `fraction` of rows. */
export type HoldoutSpec =
  | { readonly kind: 'time'; readonly column: string; readonly fraction: number }
  | { readonly kind: 'random'; readonly fraction: number }

/** Above this many rows the time cutoff is the quantile of a reservoir sample of this size (bounded memory). */
export const QUANTILE_EXACT_ROWS = 5_000_000

const HOLDOUT_FORMS = "'time:<column>:<fraction>' or 'random:<fraction>', fraction in (0, 1)"

/**
 * Parses `'time:date:0.1'` (rows whose `date` is in the last 10%) or `'random:0.2'`. The column name may itself
 * contain colons: the fraction is what follows the last one.
 *
 * @throws ScalemlError INVALID_ARGUMENT naming the spec and the accepted forms.
 */
export function parseHoldout(spec: string): HoldoutSpec {
  const fail = (why: string): never => {
    throw new ScalemlError('INVALID_ARGUMENT', `invalid holdout '${spec}': ${why}; expected ${HOLDOUT_FORMS}`, [
      { code: 'invalid_value', path: ['holdout'], message: why, expected: HOLDOUT_FORMS, received: spec },
    ])
  }
  const kind = spec.slice(0, spec.indexOf(':'))
  const rest = spec.slice(spec.indexOf(':') + 1)
  if (kind === 'random') return { kind, fraction: parseFraction(rest, fail) }
  if (kind === 'time') {
    const last = rest.lastIndexOf(':')
    if (last <= 0) return fail('a time holdout needs a column and a fraction')
    return { kind, column: rest.slice(0, last), fraction: parseFraction(rest.slice(last + 1), fail) }
  }
  return fail(`unknown kind '${spec.includes(':') ? kind : spec}'`)
}

function parseFraction(text: string, fail: (why: string) => never): number {
  const fraction = /^\s*[0-9]*\.?[0-9]+(e-?[0-9]+)?\s*$/i.test(text) ? Number(text) : Number.NaN
  if (!(fraction > 0 && fraction < 1)) return fail(`fraction '${text}' is not a number in (0, 1)`)
  return fraction
}

/** Where a time split cuts, and the filters that select each side. */
export interface TimeCutoff {
  readonly column: string
  readonly fraction: number
  /** The cutoff: epoch ms for date/time columns, the value itself for numeric ones. Test is `column >= cutoff`. */
  readonly cutoff: number
  /** The boundary the cutoff was rounded down to (UTC), or `'exact'` for the quantile itself. */
  readonly granularity: 'day' | 'hour' | 'minute' | 'exact'
  /** Rows with a non-null `column` (rows where it is null are in neither side). */
  readonly rows: number
  /** Rows with `column >= cutoff`. */
  readonly testRows: number
  /** SQL filter (for `openFileSource({ where })`) selecting the training side, `column < cutoff`. */
  readonly trainWhere: string
  /** SQL filter selecting the test side, `column >= cutoff`. */
  readonly testWhere: string
}

/** Options for {@link resolveTimeCutoff}. */
export interface TimeCutoffOptions {
  /**
   * How much larger than `fraction` (relative) the test side may grow when the cutoff is rounded down to a whole UTC
   * day, hour or minute (default 0.05: a 10% holdout may become up to 10.5%). 0 keeps the exact quantile.
   */
  readonly snapTolerance?: number
  /** Rows above which the cutoff comes from a block sample of about this many rows (default {@link QUANTILE_EXACT_ROWS}). */
  readonly maxExactRows?: number
}

/**
 * Finds the cutoff that puts about the last `fraction` of rows (by `column`) in the test side.
 *
 * The exact cutoff is DuckDB's `quantile_disc(column, 1 - fraction)`: an actual value of the column, so that rows
 * with `column >= cutoff` are `fraction` of the rows plus any ties at the cutoff. For date/time columns it is then
 * rounded down to the start of its UTC day, else hour, else minute, taking the coarsest boundary that keeps the test
 * side within `snapTolerance` of `fraction`: a holdout that starts at midnight does not split a day's traffic
 * between train and test. On flights-3m, `time:date:0.1` gives the quantile 2001-06-13 08:02 (300,003 test rows)
 * and the cutoff 2001-06-13 00:00 (302,730 rows, 10.09%).
 *
 * @throws ScalemlError SOURCE_NOT_FOUND, UNKNOWN_COLUMN, INVALID_ARGUMENT (fraction; a column that is not a number or
 *   date/time), INVALID_DATA (no split possible: every value equal or no values).
 */
export async function resolveTimeCutoff(
  path: string,
  column: string,
  fraction: number,
  options: TimeCutoffOptions = {},
): Promise<TimeCutoff> {
  if (!(fraction > 0 && fraction < 1)) {
    throw new ScalemlError('INVALID_ARGUMENT', `holdout fraction must be in (0, 1), got ${fraction}`)
  }
  const tolerance = options.snapTolerance ?? 0.05
  if (!(tolerance >= 0)) {
    throw new ScalemlError('INVALID_ARGUMENT', `snapTolerance must be ≥ 0, got ${tolerance}`)
  }
  const format = detectFormat(path)
  const db = await openDuckDb()
  try {
    const connection = db.connection
    const relation = relationSql(await matchFiles(connection, path), format)
    const columns = await bindRelationColumns(connection, relation, path)
    const bound = columns.find((c) => c.name === column)
    if (bound === undefined) {
      throw unknownColumn(
        column,
        path,
        columns.map((c) => c.name),
        ['holdout'],
      )
    }
    const type = columnTypeOf(bound.typeId)
    if (type !== 'timestamp' && type !== 'int' && type !== 'float') {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `cannot split '${path}' by time on column '${column}' of type ${bound.duckdbType}; ` +
          'expected a date, timestamp or number',
      )
    }
    const isTime = type === 'timestamp'
    const asNumber = (sql: string) => (isTime ? `CAST(epoch_ms(${sql}) AS DOUBLE)` : `CAST(${sql} AS DOUBLE)`)
    const testWhere = (cutoff: number) => `${bound.sql} >= ${cutoffLiteral(cutoff, isTime, bound.typeId)}`
    const run = async (sql: string): Promise<number[]> => {
      try {
        const row = (await connection.runAndReadAll(sql)).getRowsJS()[0] ?? []
        return row.map((v) => (v === null ? Number.NaN : Number(v)))
      } catch (error) {
        throw new ScalemlError('SOURCE_READ_FAILED', `cannot read '${path}': ${describeDuckDbError(error)}`, [], {
          cause: error,
        })
      }
    }

    const [rows = 0] = await run(`SELECT CAST(count(${bound.sql}) AS DOUBLE) FROM ${relation}`)
    // An exact quantile holds the whole column inside DuckDB (8 bytes a row). Up to QUANTILE_EXACT_ROWS rows that is
    // what we do; beyond, the quantile of a seeded block sample of about that many rows keeps memory bounded (DuckDB's
    // reservoir sample is slower and heavier than the exact quantile); the row counts of each side are exact anyway.
    const maxExact = options.maxExactRows ?? QUANTILE_EXACT_ROWS
    const percent = (100 * maxExact) / rows
    const sample = rows > maxExact ? ` USING SAMPLE ${percent.toFixed(6)}% (system, 42)` : ''
    const [quantile = Number.NaN] = await run(
      `SELECT ${asNumber(`quantile_disc(${bound.sql}, ${1 - fraction})`)} FROM ${relation}${sample}`,
    )
    if (rows === 0 || Number.isNaN(quantile)) {
      throw new ScalemlError('INVALID_DATA', `cannot split '${path}' by '${column}': the column has no values`)
    }
    const candidates: { cutoff: number; granularity: TimeCutoff['granularity'] }[] = []
    if (isTime) {
      for (const [granularity, ms] of [
        ['day', 86_400_000],
        ['hour', 3_600_000],
        ['minute', 60_000],
      ] as const) {
        const cutoff = Math.floor(quantile / ms) * ms
        if (cutoff !== quantile && !candidates.some((c) => c.cutoff === cutoff))
          candidates.push({ cutoff, granularity })
      }
    }
    candidates.push({ cutoff: quantile, granularity: 'exact' })
    const counts = await run(
      `SELECT ${candidates.map((c) => `CAST(count(*) FILTER (WHERE ${testWhere(c.cutoff)}) AS DOUBLE)`).join(', ')} ` +
        `FROM ${relation}`,
    )
    const limit = fraction * rows * (1 + tolerance)
    let chosen = candidates.length - 1
    for (let k = 0; k < candidates.length - 1; k++) {
      const testRows = counts[k]!
      if (testRows <= limit && testRows < rows) {
        chosen = k
        break
      }
    }
    const { cutoff, granularity } = candidates[chosen]!
    const testRows = counts[chosen]!
    if (testRows >= rows) {
      throw new ScalemlError(
        'INVALID_DATA',
        `cannot split '${path}' by '${column}': every value is at or after the cutoff, the training side would be empty`,
      )
    }
    return {
      column,
      fraction,
      cutoff,
      granularity,
      rows,
      testRows,
      trainWhere: `${bound.sql} < ${cutoffLiteral(cutoff, isTime, bound.typeId)}`,
      testWhere: testWhere(cutoff),
    }
  } finally {
    await db.close()
  }
}

/**
 * The cutoff as SQL of the column's own type, so the comparison can prune Parquet row groups: a naive TIMESTAMP or
 * DATE compares with `epoch_ms(ms)` (UTC wall time), a TIMESTAMP WITH TIME ZONE with the instant
 * `timezone('UTC', …)` (independent of the session time zone); numbers go through a string so the double is exact.
 */
function cutoffLiteral(cutoff: number, isTime: boolean, typeId: number): string {
  if (!isTime) return `CAST(${quoteLiteral(String(cutoff))} AS DOUBLE)`
  const instant = `epoch_ms(CAST(${Math.round(cutoff)} AS BIGINT))`
  return isTimestampTz(typeId) ? `timezone('UTC', ${instant})` : instant
}

/**
 * True when row `globalRowIndex` belongs to the random holdout: `hashToUnit(seed, index) < fraction`. Pure, so every
 * pass, shard and worker agrees on each row's side without storing anything.
 */
export function isHoldoutRow(seed: number, globalRowIndex: number, fraction: number): boolean {
  return hashToUnit(seed, globalRowIndex) < fraction
}

/**
 * A source yielding only the rows of `source` for which `predicate(globalRowIndex)` is true. The index counts rows
 * of `source` from 0 on every pass, across batches. Batches keep their size minus the dropped rows (empty ones are
 * skipped); closing the filtered source closes `source`.
 *
 * @example
 * const train = filterRows(source, (i) => !isHoldoutRow(seed, i, 0.2))
 * const test = filterRows(source, (i) => isHoldoutRow(seed, i, 0.2))
 */
export function filterRows(source: Source, predicate: (globalRowIndex: number) => boolean): Source {
  return {
    description: `${source.description} (filtered)`,
    schema: () => source.schema(),
    close: () => source.close(),
    async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
      let base = 0
      let keep = new Uint32Array(0)
      for await (const batch of source) {
        if (keep.length < batch.length) keep = new Uint32Array(batch.length)
        let kept = 0
        for (let i = 0; i < batch.length; i++) if (predicate(base + i)) keep[kept++] = i
        base += batch.length
        if (kept === batch.length) yield batch
        else if (kept > 0) yield takeRows(batch, keep.subarray(0, kept))
      }
    },
  }
}

/** Both sides of a seeded random holdout of `source` (they share it: closing either closes it). */
export function randomHoldout(
  source: Source,
  seed: number,
  fraction: number,
): { readonly train: Source; readonly test: Source } {
  if (!(fraction > 0 && fraction < 1)) {
    throw new ScalemlError('INVALID_ARGUMENT', `holdout fraction must be in (0, 1), got ${fraction}`)
  }
  return {
    train: filterRows(source, (i) => !isHoldoutRow(seed, i, fraction)),
    test: filterRows(source, (i) => isHoldoutRow(seed, i, fraction)),
  }
}
