/**
 * JSON records (a predict request's `instances`, a line of JSONL) checked against a schema and turned into a
 * columnar `Batch`, so that a served record goes through the very transform a training batch went through. Every
 * problem is collected as an `Issue` with a path (`[2, 'distance']`: record 2, field `distance`); checking never
 * throws. It must not coerce: `"42"` is not a number, `1` is not a boolean.
 *
 * Rules, per schema field (every field is required; fields the schema does not name are ignored):
 * - float: a finite number; int: a finite integer; bool: `true` or `false`; string: a string.
 * - timestamp: epoch milliseconds (a finite number) or an ISO 8601 string (`2001-01-31`, `2001-01-31T14:05`,
 *   `2001-01-31T14:05:09.250Z`, `2001-01-31 14:05:09+02:00`). A string without `Z` or an offset is **UTC**, not the
 *   server's local zone (unlike `Date.parse`, which reads `2001-01-01T10:00:00` as local time).
 * - `null` only when the field is nullable; a missing key (or `undefined`) is always an issue.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Issue } from '../core/issues.js'
import { describeValue, formatIssues } from '../core/issues.js'
import type { Batch, Column, Field, Schema } from './batch.js'

/** The result of {@link parseRecords}. */
export interface ParsedRecords {
  /** One row per record; a value that has an issue is stored as null. Use it only when `issues` is empty. */
  readonly batch: Batch
  /** Every problem found, in record order then schema order. */
  readonly issues: Issue[]
}

const EXPECTED: Record<Field['type'], string> = {
  float: 'number',
  int: 'integer',
  bool: 'boolean',
  timestamp: 'ISO 8601 string or epoch milliseconds',
  string: 'string',
}

/** Most issue lines {@link parseRecordsOrThrow} puts in its message (the error still carries every issue). */
const MESSAGE_ISSUES = 20

/**
 * Checks one record against `schema`; returns every problem (empty when valid). Paths start with `index`.
 *
 * @example
 * checkRecord(schema, { distance: '42' }, 2)
 * // [{ code: 'invalid_type', path: [2, 'distance'], message: 'Expected number, received string "42".', … }]
 */
export function checkRecord(schema: Schema, record: unknown, index: number): Issue[] {
  const issues: Issue[] = []
  if (!isRecord(record)) {
    issues.push(notAnObject(record, index))
    return issues
  }
  for (const field of schema.fields) {
    if (field.type === 'string') readString(field, record, index, issues)
    else readNumeric(field, record, index, issues)
  }
  return issues
}

/**
 * Checks `records` against `schema` and builds a batch with one column per schema field (types from the schema,
 * strings dictionary-encoded, timestamps as epoch ms UTC). Never throws.
 *
 * @example
 * const { batch, issues } = parseRecords(schema, body.instances)
 * if (issues.length > 0) reply(400, issues)
 */
export function parseRecords(schema: Schema, records: readonly unknown[]): ParsedRecords {
  const n = records.length
  const issues: Issue[] = []
  const columns = new Map<string, Column>()
  const objects: (Record<string, unknown> | undefined)[] = new Array(n)
  for (let i = 0; i < n; i++) {
    const record = records[i]
    if (isRecord(record)) objects[i] = record
    else issues.push(notAnObject(record, i))
  }
  for (const field of schema.fields) {
    if (field.type === 'string') {
      const codes = new Int32Array(n)
      const dictionary: string[] = []
      const codeOf = new Map<string, number>()
      for (let i = 0; i < n; i++) {
        const record = objects[i]
        const value = record === undefined ? null : readString(field, record, i, issues)
        if (value === null) {
          codes[i] = -1
          continue
        }
        let code = codeOf.get(value)
        if (code === undefined) {
          code = dictionary.length
          dictionary.push(value)
          codeOf.set(value, code)
        }
        codes[i] = code
      }
      columns.set(field.name, { type: 'string', codes, dictionary })
    } else {
      const values = new Float64Array(n)
      let nulls: Uint8Array | undefined
      for (let i = 0; i < n; i++) {
        const record = objects[i]
        const value = record === undefined ? Number.NaN : readNumeric(field, record, i, issues)
        values[i] = value
        if (Number.isNaN(value)) {
          nulls ??= new Uint8Array(n)
          nulls[i] = 1
        }
      }
      columns.set(field.name, nulls ? { type: field.type, values, nulls } : { type: field.type, values })
    }
  }
  // Field-major parsing finds issues column by column; report them record by record, as a reader expects.
  issues.sort((a, b) => (a.path[0] as number) - (b.path[0] as number))
  return { batch: { length: n, columns }, issues }
}

/**
 * Like {@link parseRecords} but returns the batch, throwing `ScalemlError('INVALID_INPUT')` that carries every issue
 * (the message lists the first 20) when any record is invalid.
 */
export function parseRecordsOrThrow(schema: Schema, records: readonly unknown[]): Batch {
  const { batch, issues } = parseRecords(schema, records)
  if (issues.length === 0) return batch
  const shown = formatIssues(issues.slice(0, MESSAGE_ISSUES))
  const more = issues.length > MESSAGE_ISSUES ? `\n  … and ${issues.length - MESSAGE_ISSUES} more` : ''
  throw new ScalemlError(
    'INVALID_INPUT',
    `${issues.length} invalid value(s) in ${records.length} record(s):\n${shown}${more}`,
    issues,
  )
}

/**
 * Parses an ISO 8601 date or date-time to epoch milliseconds, or returns `undefined` when `text` is not one.
 * Accepts `YYYY-MM-DD`, then optionally `T` or a space, `hh:mm`, `:ss`, a fraction of any length (truncated to
 * milliseconds) and `Z` or an offset `±hh`, `±hhmm`, `±hh:mm`. No offset means UTC. Calendar ranges are checked
 * (`2001-02-29` is rejected rather than rolled over to March 1st).
 *
 * @example
 * parseIsoTimestamp('2001-01-01T10:00:00')       // 978343200000, whatever the server's time zone
 * parseIsoTimestamp('2001-01-01 12:00:00+02:00') // 978343200000
 */
export function parseIsoTimestamp(text: string): number | undefined {
  const fast = parseCommonIsoTimestamp(text)
  // NaN: not one of the common shapes; the full grammar decides.
  return Number.isNaN(fast) ? parseIsoTimestampByRegex(text) : fast
}

/**
 * The shapes requests nearly always use, read with char codes (no regex, no substrings): `YYYY-MM-DD`, then
 * optionally `T`/`t`/space, `hh:mm`, `:ss`, `.`/`,` and a fraction, and `Z`/`z`. Returns the same value as
 * {@link parseIsoTimestampByRegex} for these, `undefined` for an out-of-range field, and NaN for any other text
 * (offsets, malformed input), which the regex path then reads.
 */
function parseCommonIsoTimestamp(text: string): number | undefined {
  const n = text.length
  if (n < 10 || text.charCodeAt(4) !== DASH || text.charCodeAt(7) !== DASH) return Number.NaN
  const year = digitsAt(text, 0, 4)
  const month = digitsAt(text, 5, 2)
  const day = digitsAt(text, 8, 2)
  if (year < 0 || month < 0 || day < 0) return Number.NaN
  let hour = 0
  let minute = 0
  let second = 0
  let millis = 0
  if (n > 10) {
    const separator = text.charCodeAt(10)
    if (separator !== UPPER_T && separator !== LOWER_T && separator !== SPACE) return Number.NaN
    if (n < 16 || text.charCodeAt(13) !== COLON) return Number.NaN
    hour = digitsAt(text, 11, 2)
    minute = digitsAt(text, 14, 2)
    if (hour < 0 || minute < 0) return Number.NaN
    let i = 16
    if (i < n && text.charCodeAt(i) === COLON) {
      if (n < 19) return Number.NaN
      second = digitsAt(text, 17, 2)
      if (second < 0) return Number.NaN
      i = 19
      const mark = i < n ? text.charCodeAt(i) : 0
      if (mark === DOT || mark === COMMA) {
        const start = ++i
        while (i < n && isDigit(text.charCodeAt(i))) {
          // Digits past the third are read (they must be digits) but truncated, as the regex path does.
          const place = i - start
          if (place < 3) millis += (text.charCodeAt(i) - ZERO) * (place === 0 ? 100 : place === 1 ? 10 : 1)
          i++
        }
        if (i === start) return Number.NaN
      }
    }
    if (i < n && (text.charCodeAt(i) === UPPER_Z || text.charCodeAt(i) === LOWER_Z)) i++
    if (i !== n) return Number.NaN
  }
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  if (hour > 23 || minute > 59 || second > 59) return undefined
  return daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis
}

const ZERO = 48
const DASH = 45
const COLON = 58
const DOT = 46
const COMMA = 44
const SPACE = 32
const UPPER_T = 84
const LOWER_T = 116
const UPPER_Z = 90
const LOWER_Z = 122

const isDigit = (code: number): boolean => code >= ZERO && code <= ZERO + 9

/** The `count` ASCII digits at `start` as a number, or -1 when one is not a digit. The caller checks the length. */
function digitsAt(text: string, start: number, count: number): number {
  let value = 0
  for (let i = start; i < start + count; i++) {
    const code = text.charCodeAt(i)
    if (!isDigit(code)) return -1
    value = value * 10 + (code - ZERO)
  }
  return value
}

/** {@link parseIsoTimestamp} by the full grammar ({@link ISO_8601}). */
function parseIsoTimestampByRegex(text: string): number | undefined {
  const m = ISO_8601.exec(text)
  if (m === null) return undefined
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = m[4] === undefined ? 0 : Number(m[4])
  const minute = m[5] === undefined ? 0 : Number(m[5])
  const second = m[6] === undefined ? 0 : Number(m[6])
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'))
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  if (hour > 23 || minute > 59 || second > 59) return undefined
  let offsetMinutes = 0
  if (m[8] !== undefined) {
    const offsetHours = Number(m[9])
    const offsetMins = m[10] === undefined ? 0 : Number(m[10])
    if (offsetHours > 23 || offsetMins > 59) return undefined
    offsetMinutes = (m[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins)
  }
  return (
    daysFromCivil(year, month, day) * 86_400_000 +
    hour * 3_600_000 +
    (minute - offsetMinutes) * 60_000 +
    second * 1000 +
    millis
  )
}

/** date, then optionally [T or space] hh:mm[:ss[.fraction]] [Z | ±hh[[:]mm]]. */
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:[Zz]|([+-])(\d{2})(?::?(\d{2}))?)?)?$/

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function notAnObject(value: unknown, index: number): Issue {
  return {
    code: 'invalid_type',
    path: [index],
    message: `Expected an object mapping field names to values, received ${describeValue(value)}.`,
    expected: 'object',
    received: describeValue(value),
  }
}

/** The field's value, `undefined` (missing) or `null`; own properties only, so `toString` is not a field. */
function own(record: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(record, name) ? record[name] : undefined
}

/** Shared checks for a missing or null value; returns true when the caller should store null. */
function missingOrNull(field: Field, value: unknown, index: number, issues: Issue[]): boolean {
  if (value === undefined) {
    issues.push({
      code: 'missing_field',
      path: [index, field.name],
      message: `Missing field "${field.name}" (expected ${EXPECTED[field.type]}${field.nullable ? ' or null' : ''}).`,
      expected: EXPECTED[field.type],
    })
    return true
  }
  if (value === null) {
    if (!field.nullable) {
      issues.push({
        code: 'invalid_type',
        path: [index, field.name],
        message: `Expected ${EXPECTED[field.type]}, received null (field "${field.name}" is not nullable).`,
        expected: EXPECTED[field.type],
        received: 'null',
      })
    }
    return true
  }
  return false
}

function wrongType(field: Field, value: unknown, index: number, issues: Issue[]): void {
  issues.push({
    code: 'invalid_type',
    path: [index, field.name],
    message: `Expected ${EXPECTED[field.type]}, received ${describeValue(value)}.`,
    expected: EXPECTED[field.type],
    received: describeValue(value),
  })
}

/** The string value, or null (missing, null or invalid; issues pushed). */
function readString(field: Field, record: Record<string, unknown>, index: number, issues: Issue[]): string | null {
  const value = own(record, field.name)
  if (missingOrNull(field, value, index, issues)) return null
  if (typeof value === 'string') return value
  wrongType(field, value, index, issues)
  return null
}

/** The numeric value (bool as 0/1, timestamp as epoch ms), or NaN (missing, null or invalid; issues pushed). */
function readNumeric(field: Field, record: Record<string, unknown>, index: number, issues: Issue[]): number {
  const value = own(record, field.name)
  if (missingOrNull(field, value, index, issues)) return Number.NaN
  switch (field.type) {
    case 'bool':
      if (typeof value === 'boolean') return value ? 1 : 0
      break
    case 'timestamp':
      if (typeof value === 'string') {
        const ms = parseIsoTimestamp(value)
        if (ms !== undefined) return ms
        issues.push({
          code: 'invalid_value',
          path: [index, field.name],
          message: `Expected an ISO 8601 timestamp like "2001-01-31T14:05:00Z" or epoch milliseconds, received ${describeValue(value)}.`,
          expected: EXPECTED.timestamp,
          received: describeValue(value),
        })
        return Number.NaN
      }
      if (typeof value === 'number') return finite(field, value, index, issues)
      break
    case 'int':
      if (typeof value === 'number') {
        if (Number.isFinite(value) && !Number.isInteger(value)) {
          issues.push({
            code: 'invalid_type',
            path: [index, field.name],
            message: `Expected integer, received ${describeValue(value)}.`,
            expected: EXPECTED.int,
            received: describeValue(value),
          })
          return Number.NaN
        }
        return finite(field, value, index, issues)
      }
      break
    default:
      if (typeof value === 'number') return finite(field, value, index, issues)
  }
  wrongType(field, value, index, issues)
  return Number.NaN
}

/** JSON cannot carry NaN or Infinity, but in-process callers can; they are never valid values. */
function finite(field: Field, value: number, index: number, issues: Issue[]): number {
  if (Number.isFinite(value)) return value
  issues.push({
    code: 'not_finite',
    path: [index, field.name],
    message: `Expected a finite number, received ${describeValue(value)}.`,
    expected: EXPECTED[field.type],
    received: describeValue(value),
  })
  return Number.NaN
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`); exact integer
 * arithmetic, unlike `Date.UTC`, which also maps years 0–99 to 1900–1999.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146_097 + doe - 719_468
}
