/**
 * Reads a predict (or explain) body against a model's input schema: `{"instances": [{field: value, …}, …]}` or
 * `{"inputs": [[v1, v2, …], …]}` (values in the schema's column order), into one columnar `Batch`. Every problem is
 * collected with its JSON path (`instances[2].distance`, `inputs[0][3]`) and thrown at once as `INVALID_INPUT`; too
 * many rows is `PAYLOAD_TOO_LARGE` naming the limit. Types are never coerced (see `data/records.ts`).
 *
 * Policies: fields the schema does not name are refused (default, listed) or ignored; categories a model never saw
 * go to the encoder's "other" slot (default) or are refused, naming the known ones.
 *
 * The serving hot path uses `readRows` + `merge` instead of `read`: a check compiled once per model version accepts
 * exactly what `read` accepts (anything else is handed to `read`, which names every problem), and the rows of all
 * the requests of a micro-batch are written into one batch, with no columns per request.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import { describeValue, type Issue } from '../../core/issues.js'
import type { Batch, Column, Field, NumericColumn } from '../../data/batch.js'
import { parseIsoTimestamp, parseRecords } from '../../data/records.js'
import type { Pipeline } from '../../preprocess/pipeline.js'

/** What to do with a field the input schema does not name. */
export type UnknownFieldPolicy = 'reject' | 'ignore'

/** What to do with a category value a model's encoder never kept. */
export type UnknownCategoryPolicy = 'other' | 'reject'

/** Options of {@link createRequestReader}. */
export interface RequestReaderOptions {
  /** Default `'reject'`: a record with a field outside the input schema is a 400 listing the unknown fields. */
  readonly unknownFields?: UnknownFieldPolicy
  /** Default `'other'`: an unseen category is encoded as the encoder's "other" value, as in training. */
  readonly unknownCategories?: UnknownCategoryPolicy
  /** Most rows in one request (default 10,000); more is `PAYLOAD_TOO_LARGE`. */
  readonly maxInstances?: number
}

/** A request body read into rows. */
export interface ReadRequest {
  readonly batch: Batch
  /** The rows as sent (records or arrays), for cache keys. */
  readonly rows: readonly unknown[]
  /** Which body form the rows came in. */
  readonly format: 'instances' | 'inputs'
}

/**
 * A request body checked but not yet made columnar: what a request holds while it waits in the micro-batch queue.
 * {@link RequestReader.merge} writes the rows of every request of a batch straight into the batch's columns, so a
 * request allocates no columns of its own.
 */
export interface RowsRequest {
  /** Rows. */
  readonly length: number
  /** The rows as sent (records or arrays), for cache keys. */
  readonly rows: readonly unknown[]
  readonly format: 'instances' | 'inputs'
  /** The numeric inputs (bool as 0/1, timestamps as epoch ms, null as NaN), row-major, parsed while checking. */
  readonly numbers?: Float64Array
  /** The string inputs (null as null), row-major: copied while checking, so later changes to the body do not count. */
  readonly strings?: readonly (string | null)[]
  /** The rows as a batch instead (when the body was read by the general reader). */
  readonly batch?: Batch
}

/** Reads request bodies for one model. */
export interface RequestReader {
  /** The input schema, in `inputs` column order. */
  readonly fields: readonly Field[]
  /** Throws `INVALID_INPUT` (every problem with its path) or `PAYLOAD_TOO_LARGE`. */
  read(body: unknown): ReadRequest
  /**
   * {@link read}'s checks, without building the batch: the same bodies are accepted and the same errors thrown.
   * Join requests into a batch with {@link merge}.
   */
  readRows(body: unknown): RowsRequest
  /** One batch of the rows of `requests`, in order (`rows` in all), with the columns {@link read} gives. */
  merge(requests: readonly RowsRequest[], rows: number): Batch
}

/** Default {@link RequestReaderOptions.maxInstances}. */
export const DEFAULT_MAX_INSTANCES = 10_000

/** How many known categories a message lists before "…". */
const SHOWN_CATEGORIES = 10

/**
 * A reader for bodies sent to the model whose pipeline is `pipeline`.
 *
 * @example
 * const reader = createRequestReader(servable.pipeline, { unknownFields: 'reject' })
 * const { batch } = reader.read({ instances: [{ distance: 900, origin: 'ORD' }] })
 */
export function createRequestReader(pipeline: Pipeline, options: RequestReaderOptions = {}): RequestReader {
  const schema = pipeline.inputSchema
  const fields = schema.fields
  const names = new Set(fields.map((f) => f.name))
  const rejectUnknownFields = (options.unknownFields ?? 'reject') === 'reject'
  const maxInstances = options.maxInstances ?? DEFAULT_MAX_INSTANCES
  const categories = options.unknownCategories === 'reject' ? knownCategories(pipeline) : new Map()
  const columnList = fields.map((f) => f.name).join(', ')

  const unknownField = (path: (string | number)[], key: string): Issue => ({
    code: 'unknown_field',
    path: [...path, key],
    message: `Unknown field "${key}": the model's inputs are ${columnList}.`,
    received: key,
  })

  const readRows = (body: Record<string, unknown>, key: 'instances' | 'inputs', issues: Issue[]): unknown[] => {
    const rows = body[key]
    if (!Array.isArray(rows)) {
      issues.push({
        code: 'invalid_type',
        path: [key],
        message: `Expected an array under "${key}", received ${describeValue(rows)}.`,
        expected: 'array',
        received: describeValue(rows),
      })
      return []
    }
    if (rows.length === 0) {
      issues.push({ code: 'invalid_value', path: [key], message: `Expected at least one row under "${key}".` })
    }
    if (rows.length > maxInstances) {
      throw new ScalemlError(
        'PAYLOAD_TOO_LARGE',
        `At most ${maxInstances} rows per request (maxInstances); got ${rows.length} under "${key}". Split the request.`,
      )
    }
    return rows
  }

  const readInstances = (records: readonly unknown[], issues: Issue[]): Batch => {
    if (rejectUnknownFields) {
      for (let i = 0; i < records.length; i++) {
        const record = records[i]
        if (typeof record !== 'object' || record === null || Array.isArray(record)) continue
        for (const key in record) if (!names.has(key)) issues.push(unknownField(['instances', i], key))
      }
    }
    const parsed = parseRecords(schema, records)
    for (const issue of parsed.issues) issues.push({ ...issue, path: ['instances', ...issue.path] })
    return parsed.batch
  }

  const readInputs = (rows: readonly unknown[], issues: Issue[]): Batch => {
    const records: Record<string, unknown>[] = new Array(rows.length)
    const width = fields.length
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]
      const record: Record<string, unknown> = {}
      records[i] = record
      if (!Array.isArray(row)) {
        issues.push({
          code: 'invalid_type',
          path: ['inputs', i],
          message: `Expected an array of ${width} values (${columnList}), received ${describeValue(row)}.`,
          expected: 'array',
          received: describeValue(row),
        })
        continue
      }
      if (row.length !== width && (row.length < width || rejectUnknownFields)) {
        issues.push({
          code: row.length < width ? 'missing_field' : 'unknown_field',
          path: ['inputs', i],
          message: `Expected ${width} values (${columnList}), received ${row.length}.`,
          expected: String(width),
          received: String(row.length),
        })
        continue
      }
      for (let j = 0; j < width; j++) record[fields[j]!.name] = row[j]
    }
    const parsed = parseRecords(schema, records)
    const column = new Map(fields.map((f, j) => [f.name, j]))
    for (const issue of parsed.issues) {
      const [row, name] = issue.path as [number, string | undefined]
      // A row that is not an array was reported above; parseRecords sees an empty record for it.
      if (!Array.isArray(rows[row]) || (rows[row] as unknown[]).length < width) continue
      const j = name === undefined ? undefined : column.get(name)
      issues.push({
        ...issue,
        path: j === undefined ? ['inputs', row] : ['inputs', row, j],
        message: name === undefined ? issue.message : `${name}: ${issue.message}`,
      })
    }
    return parsed.batch
  }

  const checkCategories = (batch: Batch, format: ReadRequest['format'], issues: Issue[]) => {
    for (const [name, known] of categories) {
      const column = batch.columns.get(name)
      if (column?.type !== 'string') continue
      const unknownCodes = column.dictionary.map((value) => !known.set.has(value))
      if (!unknownCodes.includes(true)) continue
      for (let i = 0; i < batch.length; i++) {
        const code = column.codes[i]!
        if (code < 0 || !unknownCodes[code]) continue
        const value = column.dictionary[code]!
        issues.push({
          code: 'invalid_value',
          path:
            format === 'instances' ? ['instances', i, name] : ['inputs', i, fields.findIndex((f) => f.name === name)],
          message: `Unknown category ${JSON.stringify(value)} for "${name}": the model knows ${known.list.length} (${known.shown}); unknown categories are refused (unknownCategories: reject).`,
          received: describeValue(value),
        })
      }
    }
  }

  // The compiled check behind `readRows`: per field its kind, nullability and slot among the numeric or string
  // inputs. It accepts exactly the values `parseRecords` accepts; anything else goes to `read`, which names every
  // problem.
  const nFields = fields.length
  const kinds = Uint8Array.from(fields, (f) => KIND[f.type])
  const nullable = fields.map((f) => f.nullable)
  // Field j's place among the numeric inputs, or among the string inputs.
  const slots = new Int32Array(nFields)
  let nNumeric = 0
  let nString = 0
  for (let j = 0; j < nFields; j++) slots[j] = kinds[j] === STRING ? nString++ : nNumeric++
  const knownSets = fields.map((f) => (categories.get(f.name) as KnownCategories | undefined)?.set)
  const fieldNames = fields.map((f) => f.name)

  /**
   * Checks value `value` of field `j` in row `i` and stores it (in `numbers` or `strings`). False when `read` would
   * report it.
   */
  const checkValue = (
    value: unknown,
    j: number,
    i: number,
    numbers: Float64Array,
    strings: (string | null)[],
  ): boolean => {
    const at = (kinds[j] === STRING ? i * nString : i * nNumeric) + slots[j]!
    switch (kinds[j]) {
      case STRING:
        if (typeof value === 'string') {
          if (knownSets[j] !== undefined && !knownSets[j]!.has(value)) return false
          strings[at] = value
        } else if (value === null && nullable[j]!) strings[at] = null
        else return false
        return true
      case FLOAT:
        if (typeof value === 'number' && Number.isFinite(value)) numbers[at] = value
        else if (value === null && nullable[j]!) numbers[at] = Number.NaN
        else return false
        return true
      case INT:
        if (typeof value === 'number' && Number.isInteger(value)) numbers[at] = value
        else if (value === null && nullable[j]!) numbers[at] = Number.NaN
        else return false
        return true
      case BOOL:
        if (typeof value === 'boolean') numbers[at] = value ? 1 : 0
        else if (value === null && nullable[j]!) numbers[at] = Number.NaN
        else return false
        return true
      default: {
        if (typeof value === 'string') {
          const ms = parseIsoTimestamp(value)
          if (ms === undefined) return false
          numbers[at] = ms
        } else if (typeof value === 'number' && Number.isFinite(value)) numbers[at] = value
        else if (value === null && nullable[j]!) numbers[at] = Number.NaN
        else return false
        return true
      }
    }
  }

  const checkRecord = (row: unknown, i: number, numbers: Float64Array, strings: (string | null)[]): boolean => {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) return false
    const record = row as Record<string, unknown>
    if (rejectUnknownFields) for (const key in record) if (!names.has(key)) return false
    for (let j = 0; j < nFields; j++) {
      const name = fieldNames[j]!
      if (!Object.hasOwn(record, name)) return false
      if (!checkValue(record[name], j, i, numbers, strings)) return false
    }
    return true
  }

  const checkArray = (row: unknown, i: number, numbers: Float64Array, strings: (string | null)[]): boolean => {
    if (!Array.isArray(row)) return false
    if (row.length !== nFields && (row.length < nFields || rejectUnknownFields)) return false
    for (let j = 0; j < nFields; j++) {
      const value: unknown = row[j]
      // A hole or `undefined` is a missing field to `read`.
      if (value === undefined || !checkValue(value, j, i, numbers, strings)) return false
    }
    return true
  }

  const reader: RequestReader = {
    fields,
    read(body) {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new ScalemlError(
          'INVALID_INPUT',
          'The request body must be a JSON object like {"instances": [{...}]} or {"inputs": [[...]]}.',
          [{ code: 'invalid_type', path: [], message: `Expected a JSON object, received ${describeValue(body)}.` }],
        )
      }
      const object = body as Record<string, unknown>
      const hasInstances = Object.hasOwn(object, 'instances')
      const hasInputs = Object.hasOwn(object, 'inputs')
      if (hasInstances === hasInputs) {
        const message = hasInstances
          ? 'Send either "instances" (records) or "inputs" (arrays), not both.'
          : 'The request body needs "instances" (an array of records) or "inputs" (an array of arrays in the order of the input schema).'
        throw new ScalemlError('INVALID_INPUT', message, [
          { code: hasInstances ? 'invalid_value' : 'missing_field', path: ['instances'], message },
        ])
      }
      const format = hasInstances ? 'instances' : 'inputs'
      const issues: Issue[] = []
      if (rejectUnknownFields) {
        for (const key in object) {
          if (key !== format) {
            issues.push({
              code: 'unknown_field',
              path: [key],
              message: `Unknown field "${key}": the body holds only "${format}".`,
              received: key,
            })
          }
        }
      }
      const rows = readRows(object, format, issues)
      const batch = format === 'instances' ? readInstances(rows, issues) : readInputs(rows, issues)
      if (issues.length === 0 && categories.size > 0) checkCategories(batch, format, issues)
      if (issues.length > 0) {
        throw new ScalemlError('INVALID_INPUT', `Invalid ${format}: ${issues.length} problem(s).`, sortByRow(issues))
      }
      return { batch, rows, format }
    },

    readRows(body) {
      const general = (): RowsRequest => {
        // `read` throws for every body the fast check refuses; should it ever accept one, its batch is used.
        const read = reader.read(body)
        return { length: read.batch.length, rows: read.rows, format: read.format, batch: read.batch }
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return general()
      const object = body as Record<string, unknown>
      const hasInstances = Object.hasOwn(object, 'instances')
      if (hasInstances === Object.hasOwn(object, 'inputs')) return general()
      const format = hasInstances ? 'instances' : 'inputs'
      if (rejectUnknownFields) for (const key in object) if (key !== format) return general()
      const rows = object[format]
      if (!Array.isArray(rows) || rows.length === 0 || rows.length > maxInstances) return general()
      const n = rows.length
      const numbers = new Float64Array(n * nNumeric)
      const strings: (string | null)[] = new Array(n * nString)
      const check = format === 'instances' ? checkRecord : checkArray
      for (let i = 0; i < n; i++) if (!check(rows[i], i, numbers, strings)) return general()
      return { length: n, rows, format, numbers, strings }
    },

    merge(requests, rows) {
      const columns = new Map<string, Column>()
      for (let j = 0; j < nFields; j++) {
        const field = fields[j]!
        if (kinds[j] === STRING) {
          const codes = new Int32Array(rows)
          const dictionary: string[] = []
          // Small batches (light load) search the few distinct values directly; larger ones use a map.
          const codeOf = rows > SMALL_BATCH ? new Map<string, number>() : undefined
          let at = 0
          for (const request of requests) {
            const column = request.batch?.columns.get(field.name)
            const strings = request.strings
            const slot = slots[j]!
            for (let i = 0; i < request.length; i++, at++) {
              let value: string | null
              if (column?.type === 'string') {
                const code = column.codes[i]!
                value = code < 0 ? null : column.dictionary[code]!
              } else value = strings![i * nString + slot]!
              if (value === null) {
                codes[at] = -1
                continue
              }
              let code = codeOf === undefined ? dictionary.indexOf(value) : (codeOf.get(value) ?? -1)
              if (code < 0) {
                code = dictionary.length
                dictionary.push(value)
                codeOf?.set(value, code)
              }
              codes[at] = code
            }
          }
          columns.set(field.name, { type: 'string', codes, dictionary })
        } else {
          const values = new Float64Array(rows)
          let nulls: Uint8Array | undefined
          const slot = slots[j]!
          let at = 0
          for (const request of requests) {
            const column = request.batch?.columns.get(field.name)
            if (column !== undefined && column.type !== 'string') {
              values.set(column.values, at)
              if (column.nulls !== undefined) {
                nulls ??= new Uint8Array(rows)
                nulls.set(column.nulls, at)
              }
            } else {
              const numbers = request.numbers!
              for (let i = 0; i < request.length; i++) {
                const value = numbers[i * nNumeric + slot]!
                values[at + i] = value
                // Checked values are finite: NaN is a null.
                if (Number.isNaN(value)) {
                  nulls ??= new Uint8Array(rows)
                  nulls[at + i] = 1
                }
              }
            }
            at += request.length
          }
          const type = field.type as NumericColumn['type']
          columns.set(field.name, nulls === undefined ? { type, values } : { type, values, nulls })
        }
      }
      return { length: rows, columns }
    },
  }
  return reader
}

/** Batches of at most this many rows dictionary-encode strings without a map. */
const SMALL_BATCH = 16

const STRING = 0
const FLOAT = 1
const INT = 2
const BOOL = 3
const TIMESTAMP = 4
const KIND: Record<Field['type'], number> = { string: STRING, float: FLOAT, int: INT, bool: BOOL, timestamp: TIMESTAMP }

/**
 * A valid record for the schema, made up (zeros, `false`, the epoch, a known category), to warm a model up before
 * it takes traffic.
 *
 * @example
 * reader.read({ instances: [syntheticRecord(pipeline)] })
 */
export function syntheticRecord(pipeline: Pipeline): Record<string, unknown> {
  const known = knownCategories(pipeline)
  const record: Record<string, unknown> = {}
  for (const field of pipeline.inputSchema.fields) {
    switch (field.type) {
      case 'string':
        record[field.name] = known.get(field.name)?.list[0] ?? 'warm-up'
        break
      case 'bool':
        record[field.name] = false
        break
      case 'timestamp':
        record[field.name] = '2001-01-01T00:00:00Z'
        break
      default:
        record[field.name] = 0
    }
  }
  return record
}

/** The categories a pipeline kept for one string input. */
export interface KnownCategories {
  readonly set: ReadonlySet<string>
  readonly list: readonly string[]
  /** The first few, for messages. */
  readonly shown: string
}

/** Per string input read by a category encoder (one-hot, ordinal): the categories it kept. */
export function knownCategories(pipeline: Pipeline): Map<string, KnownCategories> {
  const out = new Map<string, KnownCategories>()
  const stringInputs = new Set(pipeline.inputSchema.fields.filter((f) => f.type === 'string').map((f) => f.name))
  for (const step of pipeline.steps) {
    const categories = (step as { readonly categories?: unknown }).categories
    const input = step.inputs[0]
    if (step.inputs.length !== 1 || input === undefined || !stringInputs.has(input) || !Array.isArray(categories)) {
      continue
    }
    const list = categories.filter((c): c is string => typeof c === 'string')
    const shown = list
      .slice(0, SHOWN_CATEGORIES)
      .map((c) => JSON.stringify(c))
      .join(', ')
    out.set(input, { set: new Set(list), list, shown: list.length > SHOWN_CATEGORIES ? `${shown}, …` : shown })
  }
  return out
}

/** Issues in row order (then in the order found), as a reader scans a body. */
function sortByRow(issues: Issue[]): Issue[] {
  const rowOf = (issue: Issue) => (typeof issue.path[1] === 'number' ? issue.path[1] : -1)
  return issues
    .map((issue, order) => ({ issue, order }))
    .sort((a, b) => rowOf(a.issue) - rowOf(b.issue) || a.order - b.order)
    .map(({ issue }) => issue)
}
