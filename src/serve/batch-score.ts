/**
 * Batch scoring (what `scaleml predict` runs): a registered model scores a Parquet/CSV file or glob into one
 * Parquet or CSV file, streaming, with memory bounded by a batch whatever the size of the data.
 *
 * How: the model's input columns stream through the pipeline and the model (the `createBatchPredictor` the
 * HTTP predictor uses, so a row gets the same answer either way, via batch-scorer.ts). For a tree model (or
 * contributions) each batch is split by rows between this thread and a helper thread holding a copy of the model
 * (scoring-threads.ts): the trees are most of the work, and rows are scored independently, so the output does not
 * depend on the split. Each batch's predictions (and TreeSHAP contributions) are appended to a small DuckDB table that is written out as a Parquet part file every
 * {@link PART_ROWS} rows and emptied. At the end one DuckDB `COPY` reads the kept input columns straight from the
 * data, side by side with the parts (`POSITIONAL JOIN`: row i with row i), into the output file. So the kept columns
 * keep their exact types (a DATE stays a DATE, a BIGINT is not rounded through a double), and nothing is held in
 * memory but a batch and DuckDB's streaming buffers.
 *
 * Atomic and repeatable: everything is written aside — `<out>.tmp-<pid>-<random>` and a `….parts` folder next to
 * the output — and the finished file is flushed and renamed over `<out>`; on an error or an abort both are removed,
 * and a killed process leaves no file at `<out>` (only the `.tmp-` leftovers). Rows keep the data's order, the
 * writer runs one DuckDB thread and the Parquet settings are fixed, so re-running gives byte-identical output.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm, stat } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import type { DuckDBAppender, DuckDBConnection, DuckDBDataChunk } from '@duckdb/node-api'
import { ScalemlError } from '../core/errors.js'
import type { Issue } from '../core/issues.js'
import { type Batch, type ColumnType, sliceBatch } from '../data/batch.js'
import { columnTypeOf, quoteIdentifier, quoteLiteral } from '../data/sources/duckdb-sql.js'
import { DEFAULT_BATCH_SIZE, openFileSource } from '../data/sources/file-source.js'
import {
  type BoundColumn,
  bindRelationColumns,
  detectFormat,
  matchFiles,
  relationSql,
  unknownColumn,
} from '../data/sources/files.js'
import { describeDuckDbError, openDuckDb } from '../infra/duckdb.js'
import { errnoCode, syncDirectory } from '../infra/durable-fs.js'
import { treeEnsembleOf } from '../models/trees/ensemble-of.js'
import { openRegistry, type RegistryOptions } from '../registry/registry.js'
import { type BatchScorer, createBatchScorer, type ScoredBatch } from './batch-scorer.js'
import { loadServableModel } from './model-loader.js'
import type { PredictionField, ServableModel } from './predictor.js'
import { type ScoringThreads, startScoringThreads } from './scoring-threads.js'

/** Output file formats, by extension. */
export type ScoreFormat = 'parquet' | 'csv'

/** Options of {@link scoreToFile}. */
export interface ScoreToFileOptions {
  /** A registry reference (`name`, `name:3`, `name@alias`) or a model already loaded. */
  readonly model: string | ServableModel
  /** Where to resolve a reference (default: `$SCALEML_HOME`, else `./.scaleml`). */
  readonly registry?: RegistryOptions
  /** Parquet or CSV file, or a glob of them, holding the model's input columns. */
  readonly data: string
  /** Output file; `.parquet` or `.csv` (case-insensitive) picks the format. An existing file is replaced. */
  readonly out: string
  /**
   * Columns of the data copied into the output, in this order, before the prediction columns. Default: every
   * column of the data (the output stands on its own); `[]` writes the predictions only (rows stay in data order).
   */
  readonly columns?: readonly string[]
  /**
   * Adds exact TreeSHAP contributions (tree models only): `contrib_<feature>` per model feature plus `contrib_bias`,
   * summing per row to the raw model output — the margin (log-odds) of a GBDT or XGBoost classifier, the value of
   * a regressor, the positive-class probability of a random forest classifier. With more than two classes, one set
   * per class: `contrib_<class>_<feature>`, `contrib_<class>_bias`.
   */
  readonly contributions?: boolean
  /** Rows per batch (default 65,536): memory grows with it, speed barely does. */
  readonly batchSize?: number
  /**
   * Threads that score, this one included (each batch is split by rows between them; the output is the same
   * whatever the count). Default: 2 for a tree model or contributions when the machine has 2 cores or more, else
   * 1; the default helper starts only for data of {@link THREADED_ROWS} rows or more (predictions) or
   * {@link THREADED_CONTRIBUTION_ROWS} (contributions), as starting it costs ~0.2–0.3 s. A count given here starts
   * the helpers at once. On a machine whose cores are busy with other work, 1 can be faster.
   */
  readonly threads?: number
  /** Called after each batch is scored, and once before the output file is written. */
  readonly onProgress?: (event: ScoreProgress) => void
  /** Aborting stops at the next batch (or interrupts the final write), removes the temporary files and rejects. */
  readonly signal?: AbortSignal
}

/** Progress of {@link scoreToFile}. */
export interface ScoreProgress {
  /** 'score': rows scored so far; 'write': every row is scored and the output file is being written. */
  readonly phase: 'score' | 'write'
  readonly rows: number
  /** Rows of the data, when known without reading it (Parquet footers); unknown for CSV. */
  readonly totalRows?: number
}

/** What {@link scoreToFile} wrote. */
export interface ScoreSummary {
  readonly model: { readonly name: string; readonly version: number }
  readonly data: string
  /** Absolute path of the output file. */
  readonly out: string
  readonly format: ScoreFormat
  readonly rows: number
  /** Output columns, in order. */
  readonly columns: readonly string[]
  /** Wall time of the call (loading the model included), and rows per second over it. */
  readonly seconds: number
  readonly rowsPerSecond: number
  /** Threads that scored rows (1: only the calling thread). */
  readonly threads: number
}

/**
 * Rows of data (known from Parquet footers, else read so far) from which the default helper thread starts for
 * predictions: starting it takes ~0.2–0.3 s, what one thread scores ~300k rows of a 100-tree GBDT in.
 */
export const THREADED_ROWS = 1 << 20
/** As {@link THREADED_ROWS}, for contributions (~15k rows a second per thread on the same model). */
export const THREADED_CONTRIBUTION_ROWS = 16_384

/** Rows of each part file (the last may be shorter): the DuckDB table is written out and emptied at this count. */
export const PART_ROWS = 131_072

/**
 * Scores `data` with a model into `out`. Everything that can be checked before reading the data is checked first,
 * and nothing is left at `out` on failure.
 *
 * @throws ScalemlError INVALID_ARGUMENT (output extension or folder, a kept column that clashes with a prediction
 *   column, output equal to an input file), UNSUPPORTED_OPERATION (`contributions` for a model without trees),
 *   MODEL_NOT_FOUND,
 *   UNKNOWN_COLUMN (a model input or kept column missing from the data), INVALID_DATA (an input column of the wrong
 *   type), SOURCE_NOT_FOUND, SOURCE_READ_FAILED (a file that cannot be read, data that changes while it
 *   is scored, or an output that cannot be written, such as a full disk). Aborting rejects with `signal.reason`.
 * @example
 * const summary = await scoreToFile({ model: 'flights:3', data: 'flights.parquet', out: 'scores.parquet',
 *   columns: ['date', 'origin'] })
 * console.log(`${summary.rows} rows in ${summary.seconds} s`)
 */
export async function scoreToFile(options: ScoreToFileOptions): Promise<ScoreSummary> {
  const started = performance.now()
  const format = outputFormat(options.out)
  const servable = typeof options.model === 'string' ? await loadModel(options.model, options.registry) : options.model
  const threads = options.threads ?? defaultThreads(servable, options.contributions === true)
  if (!Number.isInteger(threads) || threads < 1) {
    throw new ScalemlError('INVALID_ARGUMENT', `threads must be a whole number ≥ 1; got ${String(threads)}.`, [
      { code: 'invalid_value', path: ['threads'], message: 'not a whole number ≥ 1' },
    ])
  }
  const scorer: Scorer = {
    servable,
    scorer: createBatchScorer(servable, { contributions: options.contributions === true }),
    threads,
  }
  options.signal?.throwIfAborted()

  // The writer's own engine, one thread: the output's bytes must not depend on scheduling.
  const db = await openDuckDb({ threads: 1 })
  const temp = temporaryPaths(options.out)
  let renamed = false
  try {
    const plan = await planOutput(db.connection, scorer, options)
    await createTemporaries(temp, options.out)
    const { rows, parts, threadsUsed } = await scoreIntoParts(db.connection, scorer, plan, temp, options)
    options.signal?.throwIfAborted()
    options.onProgress?.({ phase: 'write', rows })
    const written = await copyTo(db.connection, outputQuery(plan, parts), temp.file, format, options)
    // POSITIONAL JOIN pads the shorter side with nulls: a count other than the rows scored means the data changed.
    if (written !== rows) {
      throw dataChanged(options.data, `it held ${rows} rows when scored and ${written} when written`)
    }
    await syncFile(temp.file)
    options.signal?.throwIfAborted()
    await replaceOutput(temp.file, plan.out, options.out)
    renamed = true
    await syncDirectory(dirname(plan.out))
    const seconds = (performance.now() - started) / 1000
    return {
      model: { name: servable.name, version: servable.version },
      data: options.data,
      out: plan.out,
      format,
      rows,
      columns: [...plan.kept, ...plan.predictions.map((c) => c.name)],
      seconds,
      rowsPerSecond: seconds > 0 ? rows / seconds : 0,
      threads: threadsUsed,
    }
  } finally {
    await db.close()
    await rm(temp.parts, { recursive: true, force: true })
    if (!renamed) await rm(temp.file, { force: true })
  }
}

/** The model and what turns batches into output values. */
interface Scorer {
  readonly servable: ServableModel
  readonly scorer: BatchScorer
  /** Threads that may score, this one included. */
  readonly threads: number
}

/** 2 for the models whose scoring is worth a second thread (trees, contributions) on a multi-core machine, else 1. */
function defaultThreads(servable: ServableModel, contributions: boolean): number {
  const heavy = contributions || treeEnsembleOf(servable.model) !== undefined
  return heavy && availableParallelism() >= 2 ? 2 : 1
}

/** What the output holds, settled before any row is read. */
interface OutputPlan {
  /** The matched data files, fixed for both passes (scoring, then copying the kept columns). */
  readonly files: readonly string[]
  /** The DuckDB table function reading them. */
  readonly relation: string
  /** Input columns copied to the output. */
  readonly kept: readonly string[]
  /** Prediction then contribution columns: the name, and the SQL that types the part column holding it. */
  readonly predictions: readonly { readonly name: string; readonly sql: (column: string) => string }[]
  /** Absolute output path. */
  readonly out: string
}

async function planOutput(
  connection: DuckDBConnection,
  scorer: Scorer,
  options: ScoreToFileOptions,
): Promise<OutputPlan> {
  const files = await matchFiles(connection, options.data)
  const relation = relationSql(files, detectFormat(options.data))
  const fileColumns = await bindRelationColumns(connection, relation, options.data)
  checkModelInputs(scorer.servable, fileColumns, options.data)
  const kept = keptColumns(options.columns, fileColumns, options.data)
  const predictions = [
    ...scorer.scorer.fields.map((f) => ({ name: f.name as string, sql: castSql(f.type) })),
    ...scorer.scorer.contributionNames.map((name) => ({ name, sql: castSql('float') })),
  ]
  checkUniqueNames([...kept, ...predictions.map((c) => c.name)], kept)
  const out = resolve(options.out)
  if ((await stat(out).catch(() => undefined))?.isDirectory()) {
    throw new ScalemlError('INVALID_ARGUMENT', `Cannot write '${options.out}': it is a folder; name a file.`, [
      { code: 'invalid_value', path: ['out'], message: 'a folder' },
    ])
  }
  if (files.some((file) => resolve(file) === out)) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `The output '${options.out}' is one of the input files; write the scores to another file.`,
      [{ code: 'invalid_value', path: ['out'], message: 'output equals an input file' }],
    )
  }
  return { files, relation, kept, predictions, out }
}

/** Streams the model inputs through the scorer into part files; returns the rows scored and the parts in order. */
async function scoreIntoParts(
  connection: DuckDBConnection,
  scorer: Scorer,
  plan: OutputPlan,
  temp: TemporaryPaths,
  options: ScoreToFileOptions,
): Promise<{ rows: number; parts: string[]; threadsUsed: number }> {
  const source = await openFileSource({
    path: options.data,
    columns: scorer.servable.pipeline.inputSchema.fields.map((f) => f.name),
    batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
  })
  const table = new PartTable(connection, plan.predictions.length)
  const contributions = options.contributions === true
  const startHelpers = () => startScoringThreads(scorer.servable, { threads: scorer.threads - 1, contributions })
  // Given threads start at once and are waited for; default ones start once the data proves big enough, and take
  // their share from the first batch after they hold the model.
  const explicit = options.threads !== undefined
  let helpers: ScoringThreads | undefined = explicit && scorer.threads > 1 ? startHelpers() : undefined
  const threshold = contributions ? THREADED_CONTRIBUTION_ROWS : THREADED_ROWS
  let rows = 0
  let threadsUsed = 1
  const parts: string[] = []
  const nextPart = () => join(temp.parts, `part-${String(parts.length).padStart(6, '0')}.parquet`)
  try {
    if (!sameFiles(source.files, plan.files)) throw dataChanged(options.data, 'its files changed')
    const totalRows =
      detectFormat(options.data).kind === 'parquet'
        ? (await source.fileRowCounts()).reduce((a, b) => a + b, 0)
        : undefined
    await table.create()
    const columns: StridedColumn[] = plan.predictions.map(() => ({ data: EMPTY, offset: 0, stride: 1 }))
    const width = scorer.scorer.contributionNames.length
    for await (const batch of source) {
      options.signal?.throwIfAborted()
      if (batch.length === 0) continue
      // The data is big enough when its row count (Parquet footers) or the rows read so far (CSV) reach the threshold.
      const known = totalRows ?? rows + batch.length
      if (helpers === undefined && scorer.threads > 1 && known >= threshold) helpers = startHelpers()
      const pieces = await scoreSplit(scorer.scorer, explicit || helpers?.ready === true ? helpers : undefined, batch)
      threadsUsed = Math.max(threadsUsed, pieces.length)
      for (const piece of pieces) {
        piece.values.forEach((values, f) => {
          columns[f] = { data: values, offset: 0, stride: 1 }
        })
        const shap = piece.contributions
        if (shap !== undefined) {
          for (let j = 0; j < width; j++) columns[piece.values.length + j] = { data: shap, offset: j, stride: width }
        }
        // Every part holds exactly PART_ROWS rows (a batch may straddle two), so the parts, and thus the output's
        // bytes, do not depend on the batch size or the split between threads.
        for (let from = 0; from < piece.rows; ) {
          const take = Math.min(piece.rows - from, PART_ROWS - table.rows)
          await table.append(columns, from, take)
          from += take
          if (table.rows === PART_ROWS) parts.push(await table.writePart(nextPart()))
        }
      }
      rows += batch.length
      options.onProgress?.({ phase: 'score', rows, ...(totalRows === undefined ? {} : { totalRows }) })
    }
    if (table.rows > 0) parts.push(await table.writePart(nextPart()))
    return { rows, parts, threadsUsed }
  } finally {
    table.close()
    await helpers?.close()
    await source.close()
  }
}

/**
 * Scores `batch` split by rows into one piece per thread (this one takes the first, the helpers the others, at the
 * same time); without helpers, in one piece. Pieces come back in row order.
 */
async function scoreSplit(
  scorer: BatchScorer,
  helpers: ScoringThreads | undefined,
  batch: Batch,
): Promise<ScoredBatch[]> {
  const n = helpers === undefined ? 1 : Math.min(helpers.threads + 1, batch.length)
  if (n === 1 || helpers === undefined) return [scorer.score(batch)]
  const size = Math.ceil(batch.length / n)
  const remote: Promise<ScoredBatch>[] = []
  for (let i = 1; i < n; i++) {
    const start = i * size
    const end = Math.min(batch.length, start + size)
    if (start < end) remote.push(helpers.score(i - 1, sliceBatch(batch, start, end)))
  }
  // Handled now: should this thread's piece throw, a helper's failure must not surface as an unhandled rejection.
  for (const p of remote) p.catch(() => {})
  const local = scorer.score(size < batch.length ? sliceBatch(batch, 0, size) : batch)
  return [local, ...(await Promise.all(remote))]
}

/** The kept columns read again from the data, row i beside row i of the parts, each prediction cast to its type. */
function outputQuery(plan: OutputPlan, parts: readonly string[]): string {
  // No parts means no rows: the (empty) part table still gives the prediction columns their names and types.
  const scores = parts.length === 0 ? PART_TABLE : `read_parquet([${parts.map(quoteLiteral).join(', ')}])`
  const kept = plan.kept.map(quoteIdentifier)
  const select = [...kept, ...plan.predictions.map((c, i) => `${c.sql(`p${i}`)} AS ${quoteIdentifier(c.name)}`)].join(
    ', ',
  )
  const from =
    kept.length === 0 ? scores : `(SELECT ${kept.join(', ')} FROM ${plan.relation}) POSITIONAL JOIN ${scores}`
  return `SELECT ${select} FROM ${from}`
}

// ---------------------------------------------------------------------------------------------------------------
// Checks made before any row is read

function outputFormat(out: string): ScoreFormat {
  const lower = typeof out === 'string' ? out.toLowerCase() : ''
  if (lower.endsWith('.parquet')) return 'parquet'
  if (lower.endsWith('.csv')) return 'csv'
  throw new ScalemlError(
    'INVALID_ARGUMENT',
    `Cannot write '${String(out)}': the output file must end in .parquet or .csv (the extension picks the format).`,
    [{ code: 'invalid_value', path: ['out'], message: 'unsupported extension', expected: '.parquet | .csv' }],
  )
}

async function loadModel(ref: string, registryOptions: RegistryOptions | undefined): Promise<ServableModel> {
  const registry = await openRegistry(registryOptions)
  try {
    return await loadServableModel(registry, ref)
  } finally {
    await registry.close()
  }
}

const NUMERIC: ReadonlySet<ColumnType> = new Set(['float', 'int', 'bool'])

/** Every model input must be a column of the data, of its type (numbers of any kind are interchangeable). */
function checkModelInputs(servable: ServableModel, fileColumns: readonly BoundColumn[], data: string): void {
  const byName = new Map(fileColumns.map((c) => [c.name, c]))
  const fields = servable.pipeline.inputSchema.fields
  const model = `${servable.name}:${servable.version}`
  const missing = fields.filter((f) => !byName.has(f.name)).map((f) => f.name)
  if (missing.length > 0) {
    throw new ScalemlError(
      'UNKNOWN_COLUMN',
      `The data '${data}' lacks the input column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} ` +
        `of model ${model} (it needs ${fields.map((f) => f.name).join(', ')}); the data has ${[...byName.keys()].join(', ')}.`,
      missing.map((name) => ({
        code: 'unknown_field',
        path: ['data', name],
        message: `missing model input '${name}'`,
        expected: 'a column of the data',
      })),
    )
  }
  const issues: Issue[] = []
  for (const field of fields) {
    const column = byName.get(field.name)!
    const type = columnTypeOf(column.typeId)
    const ok = type === field.type || (type !== undefined && NUMERIC.has(type) && NUMERIC.has(field.type))
    if (ok) continue
    issues.push({
      code: 'invalid_type',
      path: ['data', field.name],
      message: `'${field.name}' is ${column.duckdbType} in the data; model ${model} takes it as ${describeType(field.type)}`,
      expected: describeType(field.type),
      received: column.duckdbType,
    })
  }
  if (issues.length > 0) {
    throw new ScalemlError(
      'INVALID_DATA',
      `The data '${data}' has input columns of the wrong type: ${issues.map((i) => i.message).join('; ')}. Cast them (or fix the file) to score it.`,
      issues,
    )
  }
}

function describeType(type: ColumnType): string {
  if (type === 'string') return 'a string'
  if (type === 'timestamp') return 'a timestamp or date'
  return `a number (${type})`
}

/** The kept columns: every column of the data by default, else those named (each once, each present). */
function keptColumns(
  requested: readonly string[] | undefined,
  fileColumns: readonly BoundColumn[],
  data: string,
): string[] {
  const names = fileColumns.map((c) => c.name)
  if (requested === undefined) return names
  const seen = new Set<string>()
  requested.forEach((name, i) => {
    if (!names.includes(name)) throw unknownColumn(name, data, names, ['columns', i])
    if (seen.has(name)) {
      throw new ScalemlError('INVALID_ARGUMENT', `The kept column '${name}' is listed twice.`, [
        { code: 'invalid_value', path: ['columns', i], message: `'${name}' listed twice` },
      ])
    }
    seen.add(name)
  })
  return [...requested]
}

function checkUniqueNames(names: readonly string[], kept: readonly string[]): void {
  const keptSet = new Set(kept)
  const seen = new Set<string>()
  for (const name of names) {
    // DuckDB and most Parquet/CSV readers match column names case-insensitively.
    const key = name.toLowerCase()
    if (!seen.has(key)) {
      seen.add(key)
      continue
    }
    const hint = keptSet.has(name)
      ? ` Keep fewer input columns (columns option / --columns) so that '${name}' is not copied as well.`
      : ''
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `The output would have two columns named '${name}' (a kept input column and a prediction column, or two features with one name).${hint}`,
      [{ code: 'invalid_value', path: ['columns'], message: `duplicate output column '${name}'` }],
    )
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

const EMPTY = new Float64Array(0)

/** Column `j` of a row-major block: row r's value is `data[offset + r * stride]`. */
interface StridedColumn {
  readonly data: Float64Array
  readonly offset: number
  readonly stride: number
}

const PART_TABLE = 'scaleml_scores'

/** The SQL giving a part column its output type: predictions travel as DOUBLE and are typed in the final SELECT. */
function castSql(type: PredictionField['type']): (column: string) => string {
  if (type === 'bool') return (column) => `CAST(${column} AS BOOLEAN)`
  if (type === 'int') return (column) => `CAST(${column} AS BIGINT)`
  return (column) => column
}

/**
 * The DuckDB table that collects up to {@link PART_ROWS} rows of predictions between part files. One appender per
 * part and one reused data chunk: native memory is not left for the garbage collector to find batch after batch.
 */
class PartTable {
  #rows = 0
  #api: typeof import('@duckdb/node-api') | undefined
  #chunk: DuckDBDataChunk | undefined
  #appender: DuckDBAppender | undefined
  readonly #connection: DuckDBConnection
  readonly #width: number

  constructor(connection: DuckDBConnection, width: number) {
    this.#connection = connection
    this.#width = width
  }

  /** Rows appended since the last part file. */
  get rows(): number {
    return this.#rows
  }

  async create(): Promise<void> {
    const api = await import('@duckdb/node-api')
    this.#api = api
    this.#chunk = api.DuckDBDataChunk.create(Array.from({ length: this.#width }, () => api.DOUBLE))
    // Rows must come out in the order they went in (DuckDB's default, stated so that no setting can change it).
    await this.#connection.run('SET preserve_insertion_order = true')
    await this.#createTable()
  }

  async #createTable(): Promise<void> {
    const columns = Array.from({ length: this.#width }, (_, i) => `p${i} DOUBLE`).join(', ')
    await this.#connection.run(`CREATE OR REPLACE TEMP TABLE ${PART_TABLE} (${columns})`)
  }

  /** Appends rows `[from, from + rows)` of `columns`, DuckDB's standard vector size (2,048 rows) at a time. */
  async append(columns: readonly StridedColumn[], from: number, rows: number): Promise<void> {
    const api = this.#api
    const chunk = this.#chunk
    if (api === undefined || chunk === undefined) throw new Error('PartTable.append before create')
    this.#appender ??= await this.#connection.createAppender(PART_TABLE, null, 'temp')
    const chunkRows = api.DuckDBVector.standardSize()
    for (let start = 0; start < rows; start += chunkRows) {
      const n = Math.min(chunkRows, rows - start)
      chunk.reset()
      chunk.rowCount = n
      for (let c = 0; c < columns.length; c++) {
        const vector = chunk.getColumnVector(c)
        const { data, offset, stride } = columns[c]!
        for (let i = 0, at = offset + (from + start) * stride; i < n; i++, at += stride) vector.setItem(i, data[at]!)
        vector.flush()
      }
      this.#appender.appendDataChunk(chunk)
    }
    this.#rows += rows
  }

  /** Writes the collected rows to `path` (uncompressed Parquet: written once, read once) and empties the table. */
  async writePart(path: string): Promise<string> {
    this.#closeAppender()
    await this.#connection.run(`COPY ${PART_TABLE} TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION uncompressed)`)
    // A new table rather than DELETE: deleted rows keep their storage until a checkpoint, so memory would grow.
    await this.#createTable()
    this.#rows = 0
    return path
  }

  /** Flushes and closes the appender, if any; idempotent. */
  close(): void {
    this.#closeAppender()
  }

  #closeAppender(): void {
    const appender = this.#appender
    this.#appender = undefined
    appender?.closeSync()
  }
}

/**
 * Runs `COPY (query) TO path` and returns the rows written. Settings are spelled out rather than left to DuckDB's
 * defaults, so the bytes do not change with them: Snappy Parquet in row groups of 122,880 rows; CSV with a header.
 */
async function copyTo(
  connection: DuckDBConnection,
  query: string,
  path: string,
  format: ScoreFormat,
  options: ScoreToFileOptions,
): Promise<number> {
  const settings =
    format === 'parquet'
      ? 'FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880'
      : `FORMAT csv, HEADER true, DELIMITER ','`
  const interrupt = () => connection.interrupt()
  options.signal?.addEventListener('abort', interrupt, { once: true })
  try {
    const reader = await connection.runAndReadAll(`COPY (${query}) TO ${quoteLiteral(path)} (${settings})`)
    return Number(reader.getRowsJS()[0]?.[0] ?? 0)
  } catch (error) {
    options.signal?.throwIfAborted()
    throw new ScalemlError(
      'SOURCE_READ_FAILED',
      `Cannot write the scores of '${options.data}' to '${options.out}': ${describeDuckDbError(error)}`,
      [],
      { cause: error },
    )
  } finally {
    options.signal?.removeEventListener('abort', interrupt)
  }
}

interface TemporaryPaths {
  /** The output file being written. */
  readonly file: string
  /** Folder of the part files. */
  readonly parts: string
}

function temporaryPaths(out: string): TemporaryPaths {
  const file = join(dirname(resolve(out)), `${basename(out)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
  return { file, parts: `${file}.parts` }
}

/** Creates the temporary file (proving the folder is writable before any work) and the parts folder. */
async function createTemporaries(temp: TemporaryPaths, out: string): Promise<void> {
  try {
    const handle = await open(temp.file, 'wx')
    await handle.close()
    await mkdir(temp.parts)
  } catch (error) {
    const code = errnoCode(error)
    const reason =
      code === 'ENOENT'
        ? 'its folder does not exist'
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? 'its folder is not writable'
          : (error as Error).message
    throw new ScalemlError('INVALID_ARGUMENT', `Cannot write '${out}': ${reason}.`, [
      { code: 'invalid_value', path: ['out'], message: reason },
    ])
  }
}

/** Renames the finished file over `out` (atomic on one file system: readers see the old file or the new one). */
async function replaceOutput(file: string, out: string, given: string): Promise<void> {
  try {
    await rename(file, out)
  } catch (error) {
    const reason = errnoCode(error) === 'EISDIR' ? 'it is a folder' : (error as Error).message
    throw new ScalemlError('INVALID_ARGUMENT', `Cannot replace '${given}': ${reason}.`, [
      { code: 'invalid_value', path: ['out'], message: reason },
    ])
  }
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function sameFiles(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((file, i) => file === b[i])
}

function dataChanged(data: string, what: string): ScalemlError {
  return new ScalemlError(
    'SOURCE_READ_FAILED',
    `The data '${data}' changed while it was being scored (${what}); nothing was written. Score a copy that does not change.`,
  )
}
