/**
 * Parquet and CSV files (one path or a glob) as a `Source`, read through DuckDB in a stream of batches.
 *
 * Everything that can be checked without reading the data is checked when the source opens: the files exist, the
 * requested columns exist and have readable types, computed expressions and the filter bind. Each pass over the source
 * runs the query again on its own connection, so memory stays one batch and passes can run concurrently. Passes may
 * run on a reader thread (worker-reader.ts) so that reading overlaps with the consumer's work; see
 * {@link FileSourceOptions.reader}.
 * @module
 */
import type { DuckDBConnection } from '@duckdb/node-api'
import { isScalemlError, ScalemlError } from '../../core/errors.js'
import type { Issue } from '../../core/issues.js'
import { type DuckDb, describeDuckDbError, openDuckDb } from '../../infra/duckdb.js'
import type { Batch, ColumnType, Field, Schema } from '../batch.js'
import type { Source } from '../source.js'
import { type ReadColumn, streamBatches } from './chunk-reader.js'
import { columnTypeOf, quoteIdentifier, quoteLiteral, readExpression } from './duckdb-sql.js'
import {
  type BoundColumn,
  bindRelationColumns,
  detectFormat,
  type FileFormat,
  matchFiles,
  relationSql,
  unknownColumn,
} from './files.js'
import { DEFAULT_READ_AHEAD, WorkerReader } from './worker-reader.js'

/** A column computed by a SQL expression over the file's columns (one value per row; no aggregates). */
export interface ComputedColumn {
  /** Name of the output column, e.g. `'__target'`. */
  readonly name: string
  /** DuckDB SQL over the file's columns, e.g. `'delay > 15'`. */
  readonly sql: string
}

/** Options for {@link openFileSource}. */
export interface FileSourceOptions {
  /** A file or a glob (`data/*.parquet`); all files must share one format and schema. */
  readonly path: string
  /**
   * Columns to read, in this order; may also name computed columns to place them. Default: every column scaleml can
   * read, in file order. Computed columns not named here follow the listed ones.
   */
  readonly columns?: readonly string[]
  /** Computed columns. */
  readonly expressions?: readonly ComputedColumn[]
  /** A DuckDB SQL filter over the file's columns (time splits use it), e.g. `"date" < epoch_ms(992390400000)`. */
  readonly where?: string
  /** Rows per batch (default 65,536); the last batch of a pass may be shorter. */
  readonly batchSize?: number
  /**
   * Adds an `int` column of this name holding each row's index in the data: its position among all rows of the
   * matched files taken in order, counted before `where` is applied (DuckDB's `file_index` and `file_row_number`).
   * Splits keyed on it select the same rows whatever order, segment or filter the rows are read with. Parquet only:
   * a CSV source throws `INVALID_ARGUMENT` (a CSV reader cannot number rows before its filter).
   */
  readonly rowIndexColumn?: string
  /**
   * Where batches are assembled; either way they are the same, bit for bit.
   *
   * - `'worker'`: on a reader thread with its own DuckDB instance, started when the source opens, which runs up to
   *   `readAhead` batches ahead of the consumer, so that reading overlaps with whatever the consumer does per batch:
   *   a pass costs about max(read, consume) instead of their sum. The thread takes ~0.2–0.4 s to start and holds a
   *   second DuckDB instance (~15 MB, more while it reads).
   * - `'thread'`: on the calling thread, one DuckDB chunk ahead.
   * - `'auto'` (default): the first full pass reads on the calling thread; once a full pass of at least
   *   `workerAfterRows` rows has completed there, later full passes (the next epoch, a validation pass) use the reader
   *   thread, starting it if needed. A source read once (an evaluation, a prediction, an inspection) never starts it.
   *   `readSegment` always reads on the calling thread: a segment is short, and its caller gathers several before
   *   using any, so there is nothing to overlap.
   */
  readonly reader?: ReaderMode
  /** Batches the reader thread may finish ahead of the consumer, each stream (default 2; 1–64). */
  readonly readAhead?: number
  /** `'auto'` reader: rows a completed full pass must have read for later passes to use the reader thread. */
  readonly workerAfterRows?: number
}

/** Where a file source assembles its batches (see {@link FileSourceOptions.reader}). */
export type ReaderMode = 'auto' | 'thread' | 'worker'

/**
 * `'auto'` reader: rows a completed full pass must have read for later passes to use the reader thread. On the
 * flights task (SGD, 4 features) the overlap saves ~0.3–0.4 s per million rows of a pass, against ~0.2–0.4 s to start
 * the thread once: a pass of a million rows or more repays it.
 */
export const DEFAULT_WORKER_AFTER_ROWS = 1 << 20
const MAX_READ_AHEAD = 64

/**
 * Rows `[start, end)` of one matched file, counted before `where` (see {@link FileSource.readSegment}).
 * `file` indexes {@link FileSource.files}.
 */
export interface FileSegment {
  readonly file: number
  readonly start: number
  readonly end: number
}

/** A file column scaleml cannot read (LIST, STRUCT, BLOB, TIME, INTERVAL, …); left out of the default projection. */
export interface SkippedColumn {
  readonly name: string
  readonly duckdbType: string
}

/** A `Source` over files, with what it resolved when it opened. */
export interface FileSource extends Source {
  /** The matched files, in read order. Fixed at open: files added later are not read. */
  readonly files: readonly string[]
  /** File columns left out because their type is not readable. */
  readonly skippedColumns: readonly SkippedColumn[]
  /** The query each pass runs (for logs). */
  readonly sql: string
  /**
   * Rows of each matched file, from the Parquet footers (no data read). CSV sources throw `INVALID_ARGUMENT`:
   * their rows can only be counted by reading them.
   */
  fileRowCounts(): Promise<readonly number[]>
  /**
   * One pass over a segment: the rows `[start, end)` of `files[file]`, before `where` (which still applies), in
   * file order, in batches of the source's batch size. DuckDB prunes the Parquet row groups outside the range by
   * `file_row_number`, so a segment costs about its own size to read (on flights-3m, 65,536 rows of 5 columns
   * read in ~6 ms against ~15 ms per 272,727-row row group read whole). A `rowIndexColumn` counts
   * as in a full pass. Parquet only (`INVALID_ARGUMENT` for CSV, or for a range outside the file).
   *
   * @example
   * const [rows] = await source.fileRowCounts()
   * for await (const batch of source.readSegment({ file: 0, start: 0, end: Math.min(rows!, 65_536) })) use(batch)
   */
  readSegment(segment: FileSegment): AsyncIterable<Batch>
  /**
   * Where a full pass starting now would assemble its batches: `'worker'` when the reader thread serves it (mode
   * `'worker'`; `'auto'` once a long enough pass has completed, unless the thread failed to start), else `'thread'`.
   */
  readonly reader: 'thread' | 'worker'
}

/** What {@link describeFile} reports. */
export interface FileDescription {
  readonly schema: Schema
  /** Row count, from Parquet footers (no data read) or by counting CSV rows. */
  readonly rows: number
  readonly files: readonly string[]
  readonly skippedColumns: readonly SkippedColumn[]
}

/** Default rows per batch. */
export const DEFAULT_BATCH_SIZE = 65_536
const MAX_BATCH_SIZE = 1 << 24

/**
 * Opens Parquet or CSV/TSV files as a stream of batches.
 *
 * Column types: DOUBLE/FLOAT/DECIMAL → `float`; every integer type → `int`; BOOLEAN → `bool`; TIMESTAMP, DATE and
 * TIMESTAMP WITH TIME ZONE → `timestamp` in epoch milliseconds (naive values read as UTC); VARCHAR, ENUM and UUID →
 * `string`, dictionary-encoded per batch. Nulls go to the `nulls` mask (value NaN) or code -1. Rows arrive in file
 * order, files in name order. Every field is reported nullable: files do not reliably declare otherwise.
 *
 * @throws ScalemlError SOURCE_NOT_FOUND (nothing matches), INVALID_ARGUMENT (extension, options, unreadable column
 *   type), UNKNOWN_COLUMN, INVALID_EXPRESSION (an expression or `where` DuckDB rejects), SOURCE_READ_FAILED.
 * @example
 * const source = await openFileSource({ path: 'flights.parquet', columns: ['delay', 'origin'],
 *   expressions: [{ name: '__target', sql: 'delay > 15' }] })
 * try { for await (const batch of source) train(batch) } finally { await source.close() }
 */
export async function openFileSource(options: FileSourceOptions): Promise<FileSource> {
  const batchSize = checkOptions(options)
  const format = detectFormat(options.path)
  const db = await openDuckDb()
  try {
    const plan = await planQuery(db.connection, options, format)
    return new DuckDbFileSource(db, options.path, plan, batchSize, format, {
      mode: options.reader ?? 'auto',
      readAhead: options.readAhead ?? DEFAULT_READ_AHEAD,
      workerAfterRows: options.workerAfterRows ?? DEFAULT_WORKER_AFTER_ROWS,
    })
  } catch (error) {
    await db.close()
    throw error
  }
}

/**
 * The schema and row count of a file or glob without reading the data (CSV rows are counted by DuckDB).
 *
 * @throws ScalemlError SOURCE_NOT_FOUND, INVALID_ARGUMENT (extension), SOURCE_READ_FAILED.
 */
export async function describeFile(path: string): Promise<FileDescription> {
  const format = detectFormat(path)
  const db = await openDuckDb()
  try {
    const plan = await planQuery(db.connection, { path }, format)
    const files = plan.files.map(quoteLiteral).join(', ')
    const countSql =
      format.kind === 'parquet'
        ? `SELECT CAST(coalesce(sum(num_rows), 0) AS DOUBLE) FROM parquet_file_metadata([${files}])`
        : `SELECT CAST(count(*) AS DOUBLE) FROM ${plan.relation}`
    let rows: number
    try {
      rows = Number((await db.connection.runAndReadAll(countSql)).getRowsJS()[0]?.[0] ?? 0)
    } catch (error) {
      throw readFailed(path, error)
    }
    return { schema: plan.schema, rows, files: plan.files, skippedColumns: plan.skipped }
  } finally {
    await db.close()
  }
}

// ---------------------------------------------------------------------------------------------------------------

interface QueryPlan {
  readonly files: readonly string[]
  readonly relation: string
  readonly sql: string
  readonly schema: Schema
  readonly columns: readonly ReadColumn[]
  readonly skipped: readonly SkippedColumn[]
  /** True when nothing is selected and the query reads a placeholder column only for the row count. */
  readonly empty: boolean
  /** The query over another relation (one file of a segment) with the row index offset by `rowOffset`. */
  readonly sqlFor: (relation: string, rowIndexOffset: string, extraWhere: string | undefined) => string
}

/** How a source reads (resolved {@link FileSourceOptions} reader settings). */
interface ReaderSettings {
  readonly mode: ReaderMode
  readonly readAhead: number
  readonly workerAfterRows: number
}

class DuckDbFileSource implements FileSource {
  readonly #db: DuckDb
  readonly #plan: QueryPlan
  readonly #batchSize: number
  readonly #format: FileFormat
  readonly #reader: ReaderSettings
  #fileRows: Promise<readonly number[]> | undefined
  #closed = false
  /** The reader thread, once started (mode 'worker': at open; 'auto': at the first pass that uses it). */
  #worker: WorkerReader | undefined
  /** Rows of the longest full pass completed on the calling thread ('auto' moves to the thread past `workerAfterRows`). */
  #longestPass = -1

  constructor(
    db: DuckDb,
    readonly description: string,
    plan: QueryPlan,
    batchSize: number,
    format: FileFormat,
    reader: ReaderSettings,
  ) {
    this.#db = db
    this.#plan = plan
    this.#batchSize = batchSize
    this.#format = format
    this.#reader = reader
    if (reader.mode === 'worker') this.#worker = WorkerReader.start()
  }

  get reader(): 'thread' | 'worker' {
    return this.#usesWorker('pass') ? 'worker' : 'thread'
  }

  /** Whether a read of this kind starting now goes to the reader thread. */
  #usesWorker(kind: 'pass' | 'segment'): boolean {
    const mode = this.#reader.mode
    if (mode !== 'auto') return mode === 'worker'
    if (kind === 'segment') return false
    // A thread that could not start (or died) leaves 'auto' reading here for good.
    if (this.#worker !== undefined) return this.#worker.state === 'ready' || this.#worker.state === 'starting'
    return this.#longestPass >= this.#reader.workerAfterRows
  }

  get files(): readonly string[] {
    return this.#plan.files
  }

  get skippedColumns(): readonly SkippedColumn[] {
    return this.#plan.skipped
  }

  get sql(): string {
    return this.#plan.sql
  }

  async schema(): Promise<Schema> {
    return this.#plan.schema
  }

  [Symbol.asyncIterator](): AsyncGenerator<Batch> {
    return this.#read(this.#plan.sql, 'pass')
  }

  fileRowCounts(): Promise<readonly number[]> {
    if (this.#format.kind !== 'parquet') return Promise.reject(parquetOnly(this.description, 'fileRowCounts'))
    this.#fileRows ??= parquetRowCounts(this.#db.connection, this.#plan.files, this.description)
    return this.#fileRows
  }

  async *readSegment(segment: FileSegment): AsyncGenerator<Batch> {
    if (this.#format.kind !== 'parquet') throw parquetOnly(this.description, 'readSegment')
    const counts = await this.fileRowCounts()
    const { file, start, end } = segment
    const rows = counts[file]
    if (
      rows === undefined ||
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(end) ||
      start < 0 ||
      end < start ||
      end > rows
    ) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `segment ${JSON.stringify(segment)} is outside '${this.description}': ` +
          `expected file in [0, ${counts.length}) and 0 ≤ start ≤ end ≤ the file's row count${rows === undefined ? '' : ` (${rows})`}`,
        [{ code: 'out_of_range', path: ['segment'], message: 'segment outside the data' }],
      )
    }
    let offset = 0
    for (let k = 0; k < file; k++) offset += counts[k]!
    const relation = relationSql([this.#plan.files[file]!], this.#format)
    yield* this.#read(
      this.#plan.sqlFor(relation, String(offset), `file_row_number >= ${start} AND file_row_number < ${end}`),
      'segment',
    )
  }

  async *#read(sql: string, kind: 'pass' | 'segment'): AsyncGenerator<Batch> {
    const closed = () => new ScalemlError('SOURCE_READ_FAILED', `cannot read '${this.description}': source is closed`)
    if (this.#closed) throw closed()
    let connection: DuckDBConnection | undefined
    const worker = await this.#workerFor(kind)
    if (this.#closed) throw closed()
    let rows = 0
    try {
      let batches: AsyncGenerator<Batch>
      if (worker !== undefined) {
        batches = worker.stream(sql, this.#plan.columns, this.#batchSize, { readAhead: this.#reader.readAhead })
      } else {
        connection = await this.#db.connect()
        batches = streamBatches(connection, sql, this.#plan.columns, this.#batchSize)
      }
      for await (const batch of batches) {
        // DuckDB keeps a running result alive after close; stop the pass instead of reading on.
        if (this.#closed) throw closed()
        rows += batch.length
        yield this.#plan.empty ? { length: batch.length, columns: new Map() } : batch
      }
      if (worker === undefined && kind === 'pass') this.#longestPass = Math.max(this.#longestPass, rows)
    } catch (error) {
      // Closing the source stops the reader thread under a running pass; say so rather than how it stopped.
      if (this.#closed && worker !== undefined) throw closed()
      if (isScalemlError(error)) throw error
      throw readFailed(this.description, error)
    } finally {
      if (connection !== undefined) this.#db.disconnect(connection)
    }
  }

  /** The reader thread for a read of this kind, started and ready; undefined to read on this thread. */
  async #workerFor(kind: 'pass' | 'segment'): Promise<WorkerReader | undefined> {
    if (!this.#usesWorker(kind)) return undefined
    this.#worker ??= WorkerReader.start()
    if (this.#reader.mode === 'worker') return this.#worker
    try {
      await this.#worker.ready()
      return this.#worker
    } catch {
      // 'auto' only chose the thread for speed: without it (DuckDB would not load there) this thread reads.
      return undefined
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#worker?.close()
    await this.#db.close()
  }
}

function checkOptions(options: FileSourceOptions): number {
  const issues: Issue[] = []
  if (typeof options.path !== 'string' || options.path === '') {
    issues.push({ code: 'invalid_type', path: ['path'], message: 'path must be a non-empty string' })
  }
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    issues.push({
      code: 'out_of_range',
      path: ['batchSize'],
      message: `batchSize must be an integer in [1, ${MAX_BATCH_SIZE}], got ${batchSize}`,
      expected: `integer in [1, ${MAX_BATCH_SIZE}]`,
      received: String(batchSize),
    })
  }
  if (options.reader !== undefined && !['auto', 'thread', 'worker'].includes(options.reader)) {
    issues.push({
      code: 'invalid_value',
      path: ['reader'],
      message: `reader must be 'auto', 'thread' or 'worker', got ${JSON.stringify(options.reader)}`,
    })
  }
  const readAhead = options.readAhead
  if (readAhead !== undefined && (!Number.isInteger(readAhead) || readAhead < 1 || readAhead > MAX_READ_AHEAD)) {
    issues.push({
      code: 'out_of_range',
      path: ['readAhead'],
      message: `readAhead must be an integer in [1, ${MAX_READ_AHEAD}], got ${readAhead}`,
      expected: `integer in [1, ${MAX_READ_AHEAD}]`,
      received: String(readAhead),
    })
  }
  const after = options.workerAfterRows
  if (after !== undefined && (!Number.isSafeInteger(after) || after < 0)) {
    issues.push({
      code: 'out_of_range',
      path: ['workerAfterRows'],
      message: `workerAfterRows must be a non-negative integer, got ${after}`,
      expected: 'non-negative integer',
      received: String(after),
    })
  }
  const seen = new Set<string>()
  for (const [i, name] of (options.columns ?? []).entries()) {
    if (seen.has(name)) {
      issues.push({ code: 'invalid_value', path: ['columns', i], message: `column '${name}' is listed twice` })
    }
    seen.add(name)
  }
  const rowIndex = options.rowIndexColumn
  if (rowIndex !== undefined && (typeof rowIndex !== 'string' || rowIndex === '' || seen.has(rowIndex))) {
    issues.push({
      code: 'invalid_value',
      path: ['rowIndexColumn'],
      message: `rowIndexColumn must be a non-empty name not among the listed columns, got ${JSON.stringify(rowIndex)}`,
    })
  }
  const names = new Set<string>()
  for (const [i, expression] of (options.expressions ?? []).entries()) {
    if (typeof expression.name !== 'string' || expression.name === '') {
      issues.push({ code: 'invalid_value', path: ['expressions', i, 'name'], message: 'expression name is empty' })
    } else if (names.has(expression.name)) {
      issues.push({
        code: 'invalid_value',
        path: ['expressions', i, 'name'],
        message: `expression name '${expression.name}' is used twice`,
      })
    }
    names.add(expression.name)
    if (expression.name === rowIndex) {
      issues.push({
        code: 'invalid_value',
        path: ['expressions', i, 'name'],
        message: `expression name '${expression.name}' is also the rowIndexColumn`,
      })
    }
    if (typeof expression.sql !== 'string' || expression.sql.trim() === '') {
      issues.push({
        code: 'invalid_value',
        path: ['expressions', i, 'sql'],
        message: `expression '${expression.name}' has no SQL`,
      })
    }
  }
  if (issues.length > 0) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `invalid file source options: ${issues.map((issue) => issue.message).join('; ')}`,
      issues,
    )
  }
  return batchSize
}

async function planQuery(
  connection: DuckDBConnection,
  options: FileSourceOptions,
  format: FileFormat,
): Promise<QueryPlan> {
  const files = await matchFiles(connection, options.path)
  const relation = relationSql(files, format)
  const fileColumns = await bindRelationColumns(connection, relation, options.path)
  const byName = new Map(fileColumns.map((c) => [c.name, c]))
  const skipped = fileColumns
    .filter((c) => columnTypeOf(c.typeId) === undefined)
    .map((c) => ({ name: c.name, duckdbType: c.duckdbType }))

  const expressions = new Map<string, BoundColumn>()
  for (const [i, expression] of (options.expressions ?? []).entries()) {
    if (byName.has(expression.name)) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `expression name '${expression.name}' is already a column of '${options.path}'; choose another name`,
        [{ code: 'invalid_value', path: ['expressions', i, 'name'], message: 'name clashes with a file column' }],
      )
    }
    expressions.set(expression.name, await bindExpression(connection, relation, expression, i))
  }

  if (options.where !== undefined) await bindWhere(connection, relation, options.where)

  const rowIndex = options.rowIndexColumn
  if (rowIndex !== undefined) {
    if (format.kind !== 'parquet') throw parquetOnly(options.path, 'rowIndexColumn')
    if (byName.has(rowIndex) || expressions.has(rowIndex)) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `rowIndexColumn '${rowIndex}' is already a column of '${options.path}'; choose another name`,
        [{ code: 'invalid_value', path: ['rowIndexColumn'], message: 'name clashes with a column' }],
      )
    }
  }

  const selected: BoundColumn[] = []
  if (options.columns === undefined) {
    for (const c of fileColumns) if (columnTypeOf(c.typeId) !== undefined) selected.push(c)
  } else {
    const available = [...fileColumns.map((c) => c.name), ...expressions.keys()]
    for (const [i, name] of options.columns.entries()) {
      const column = byName.get(name) ?? expressions.get(name)
      if (column === undefined) {
        throw unknownColumn(name, options.path, available, ['columns', i])
      }
      if (columnTypeOf(column.typeId) === undefined) {
        throw new ScalemlError(
          'INVALID_ARGUMENT',
          `column '${name}' of '${options.path}' has type ${column.duckdbType}, which scaleml cannot read; ` +
            'readable types are numbers, booleans, dates, timestamps and strings',
          [{ code: 'invalid_type', path: ['columns', i], message: `unreadable type ${column.duckdbType}` }],
        )
      }
      selected.push(column)
    }
  }
  const listed = new Set(selected.map((c) => c.name))
  for (const column of expressions.values()) if (!listed.has(column.name)) selected.push(column)
  // file_row_number is a virtual column of read_parquet: no extra read, and filters on it prune row groups.
  const ROW_INDEX_SQL = '\u0000row-index\u0000'
  if (rowIndex !== undefined)
    selected.push({ name: rowIndex, typeId: BIGINT_TYPE_ID, duckdbType: 'BIGINT', sql: ROW_INDEX_SQL })

  const fields: Field[] = selected.map((c) => ({ name: c.name, type: columnTypeOf(c.typeId)!, nullable: true }))
  const sqlFor = (from: string, rowIndexOffset: string, extraWhere: string | undefined): string => {
    const selectList = selected
      .map((c) => {
        const sql = c.sql === ROW_INDEX_SQL ? `(${rowIndexOffset} + file_row_number)` : c.sql
        return `${readExpression(sql, c.typeId)} AS ${quoteIdentifier(c.name)}`
      })
      .join(', ')
    const filters = [extraWhere, options.where].filter((w) => w !== undefined).map((w) => `(${w})`)
    const where = filters.length === 0 ? '' : ` WHERE ${filters.join(' AND ')}`
    // An empty projection still needs a row count for length; DuckDB rejects an empty SELECT list.
    return `SELECT ${selectList === '' ? '1 AS __row' : selectList} FROM ${from}${where}`
  }
  // Offsets of each file's first row among all rows, indexed by file_index (DuckDB lists are 1-based).
  let offsets = '0'
  if (rowIndex !== undefined && files.length > 1) {
    const counts = await parquetRowCounts(connection, files, options.path)
    const starts: number[] = []
    let total = 0
    for (const rows of counts) {
      starts.push(total)
      total += rows
    }
    offsets = `CAST([${starts.join(', ')}] AS BIGINT[])[CAST(file_index AS BIGINT) + 1]`
  }
  const sql = sqlFor(relation, offsets, undefined)
  const columns: ReadColumn[] =
    selected.length === 0
      ? [{ name: '__row', type: 'int' }]
      : selected.map((c) => ({ name: c.name, type: columnTypeOf(c.typeId) as ColumnType }))
  return { files, relation, sql, schema: { fields }, columns, skipped, empty: selected.length === 0, sqlFor }
}

/** DuckDB's type id of BIGINT (`duckdb_type` 5), the type of `file_row_number`. */
const BIGINT_TYPE_ID = 5

/** Row count of each Parquet file, in the order of `files`, from the footers. */
async function parquetRowCounts(
  connection: DuckDBConnection,
  files: readonly string[],
  path: string,
): Promise<number[]> {
  const counts = new Map<string, number>()
  try {
    const reader = await connection.runAndReadAll(
      `SELECT file_name, CAST(num_rows AS DOUBLE) FROM parquet_file_metadata([${files.map(quoteLiteral).join(', ')}])`,
    )
    for (const [name, rows] of reader.getRowsJS()) counts.set(String(name), Number(rows))
  } catch (error) {
    throw readFailed(path, error)
  }
  return files.map((file) => counts.get(file) ?? 0)
}

async function bindExpression(
  connection: DuckDBConnection,
  relation: string,
  expression: ComputedColumn,
  index: number,
): Promise<BoundColumn> {
  const sql = `(${expression.sql})`
  const label = `expression '${expression.name}' (${expression.sql})`
  let prepared: Awaited<ReturnType<DuckDBConnection['prepare']>>
  try {
    // The WHERE use is a probe: DuckDB rejects aggregates and window functions there, which would otherwise turn
    // the whole query into one row. Preparing (not running) binds without reading data, and refuses a second
    // statement smuggled in after a semicolon.
    prepared = await connection.prepare(`SELECT ${sql} AS v FROM ${relation} WHERE (${sql}) IS NULL OR true LIMIT 0`)
  } catch (error) {
    throw invalidExpression(label, ['expressions', index, 'sql'], error)
  }
  try {
    const typeId = prepared.columnTypeId(0)
    const duckdbType = prepared.columnType(0).toString()
    if (columnTypeOf(typeId) === undefined) {
      throw new ScalemlError(
        'INVALID_EXPRESSION',
        `${label} yields ${duckdbType}; expected a number, boolean, date, timestamp or string`,
        [{ code: 'invalid_type', path: ['expressions', index, 'sql'], message: `yields ${duckdbType}` }],
      )
    }
    return { name: expression.name, typeId, duckdbType, sql }
  } finally {
    prepared.destroySync()
  }
}

async function bindWhere(connection: DuckDBConnection, relation: string, where: string): Promise<void> {
  try {
    const prepared = await connection.prepare(`SELECT 1 FROM ${relation} WHERE (${where}) LIMIT 0`)
    prepared.destroySync()
  } catch (error) {
    throw invalidExpression(`where clause (${where})`, ['where'], error)
  }
}

function invalidExpression(label: string, path: (string | number)[], error: unknown): ScalemlError {
  let reason = describeDuckDbError(error)
  if (/cannot contain (aggregates|window functions)/i.test(reason)) {
    reason = 'aggregates and window functions are not allowed; an expression computes one value per row'
  }
  return new ScalemlError(
    'INVALID_EXPRESSION',
    `${label} is invalid: ${reason}`,
    [{ code: 'invalid_value', path, message: reason }],
    {
      cause: error,
    },
  )
}

function parquetOnly(path: string, what: string): ScalemlError {
  return new ScalemlError(
    'INVALID_ARGUMENT',
    `${what} needs Parquet files; '${path}' is CSV, whose rows can only be numbered by reading them in order`,
    [{ code: 'invalid_value', path: [what], message: 'Parquet only' }],
  )
}

function readFailed(path: string, error: unknown): ScalemlError {
  return new ScalemlError('SOURCE_READ_FAILED', `cannot read '${path}': ${describeDuckDbError(error)}`, [], {
    cause: error,
  })
}
