/**
 * Reads a predict (or explain) body against a model's input schema: `{"instances": [{field: value, …}, …]}` or
 * `{"inputs": [[v1, v2, …], …]}` (values in the schema's column order), into one columnar `Batch`. Every problem is
 * collected with its JSON path (`instances[2].distance`, `inputs[0][3]`) and thrown at once as `INVALID_INPUT`; too
 * many rows is `PAYLOAD_TOO_LARGE` naming the limit. Types are never coerced (see `data/records.ts`).
 *
 * Policies: fields the schema does not name are refused (default, listed) or ignored; categories a model never saw
 * go to the encoder's "other" slot (default) or are refused, naming the known ones.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import { describeValue, type Issue } from '../../core/issues.js'
import type { Batch, Field } from '../../data/batch.js'
import { parseRecords } from '../../data/records.js'
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

/** Reads request bodies for one model. */
export interface RequestReader {
  /** The input schema, in `inputs` column order. */
  readonly fields: readonly Field[]
  /** Throws `INVALID_INPUT` (every problem with its path) or `PAYLOAD_TOO_LARGE`. */
  read(body: unknown): ReadRequest
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

  return {
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
  }
}

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
