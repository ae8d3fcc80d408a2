/**
 * SQL text and type mapping shared by every DuckDB-backed source: quoting, the DuckDB type → scaleml column type
 * table, and the read expression that makes each column cheap to copy out of DuckDB's vectors.
 * @module
 */
import type { ColumnType } from '../batch.js'

/** `name` as a DuckDB identifier (`"my ""col"""`). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** `text` as a DuckDB string literal (`'it''s'`). */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`
}

// DuckDB C API type ids (`duckdb_type`), stable across releases; kept here so that mapping a type never needs the
// native module loaded.
const BOOLEAN = 1
const INTEGER_IDS = new Set([2, 3, 4, 5, 6, 7, 8, 9, 16, 32]) // TINYINT … UBIGINT, HUGEINT, UHUGEINT
const FLOAT_IDS = new Set([10, 11, 19]) // FLOAT, DOUBLE, DECIMAL
const NAIVE_TIME_IDS = new Set([12, 13, 20, 21, 22]) // TIMESTAMP, DATE, TIMESTAMP_S/_MS/_NS
const TIMESTAMP_TZ = 31
const VARCHAR = 17
const STRING_LIKE_IDS = new Set([23, 27]) // ENUM, UUID

/** The scaleml column type for a DuckDB type id, or `undefined` when scaleml cannot read the type (LIST, BLOB, …). */
export function columnTypeOf(typeId: number): ColumnType | undefined {
  if (typeId === BOOLEAN) return 'bool'
  if (INTEGER_IDS.has(typeId)) return 'int'
  if (FLOAT_IDS.has(typeId)) return 'float'
  if (NAIVE_TIME_IDS.has(typeId) || typeId === TIMESTAMP_TZ) return 'timestamp'
  if (typeId === VARCHAR || STRING_LIKE_IDS.has(typeId)) return 'string'
  return undefined
}

/**
 * The SELECT-list expression that reads `sql` (of DuckDB type `typeId`) in the form the chunk reader copies: DOUBLE
 * for every numeric type (so one bulk copy from a `Float64Array` serves ints, decimals, booleans and timestamps) and
 * VARCHAR for strings.
 *
 * Timestamps become epoch milliseconds with `epoch_ms`, which reads a naive `TIMESTAMP` or a `DATE` as UTC wall
 * time and a `TIMESTAMP WITH TIME ZONE` as its instant; it never consults the session time zone. Sub-millisecond
 * parts are truncated toward zero; ±infinity becomes null. Integers beyond 2^53 lose precision in the double.
 */
export function readExpression(sql: string, typeId: number): string {
  const type = columnTypeOf(typeId)
  if (type === 'string') return typeId === VARCHAR ? sql : `CAST(${sql} AS VARCHAR)`
  if (type === 'timestamp') return `CAST(epoch_ms(${sql}) AS DOUBLE)`
  return `CAST(${sql} AS DOUBLE)`
}

/** True for DuckDB `TIMESTAMP WITH TIME ZONE`. */
export function isTimestampTz(typeId: number): boolean {
  return typeId === TIMESTAMP_TZ
}

/** True for the naive date/time types read as UTC (TIMESTAMP, DATE, TIMESTAMP_S/_MS/_NS). */
export function isNaiveTime(typeId: number): boolean {
  return NAIVE_TIME_IDS.has(typeId)
}
