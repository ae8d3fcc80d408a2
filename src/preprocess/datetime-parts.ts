/**
 * Calendar features from a timestamp column (epoch milliseconds, UTC): hour 0–23, day of week (Monday = 0 …
 * Sunday = 6) and month 1–12, as one-hot indicators over their fixed ranges, as sin/cos pairs on the unit circle, or
 * as the numbers themselves (for tree models, which split on them).
 * Everything is computed in UTC by integer arithmetic on the epoch value, never in the process's local zone. The
 * vocabularies are fixed, so there is nothing to learn: the step is fitted from the start and `merge` only checks
 * that both sides agree.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Batch } from '../data/batch.js'
import {
  checkColumnName,
  constructFromJSON,
  describeTransformer,
  invalidJSON,
  requireNumericColumn,
} from './columns.js'
import { dayNumber, dayOfWeek, hourInDay, monthOfDay } from './kernels/calendar.js'
import { writeIndicator } from './kernels/one-hot.js'
import type { Transformer, TransformerJSON } from './transformer.js'

/** A calendar field of a timestamp. */
export type DatetimePart = 'hour' | 'dayOfWeek' | 'month'

/**
 * How a part becomes features: 24/7/12 indicators, `sin`/`cos` of the part's angle on its cycle, or one feature
 * holding the part's value (hour 0–23, day of week 0–6, month 1–12; NaN for a missing timestamp).
 */
export type DatetimeEncoding = 'onehot' | 'cyclic' | 'ordinal'

/** Hyperparameters of {@link DatetimeParts}. */
export interface DatetimePartsParams {
  /** Timestamp column (epoch ms, UTC); an int or float column is read as epoch ms too. */
  readonly column: string
  /** Parts to extract, in output order (default hour, dayOfWeek, month). */
  readonly parts?: readonly DatetimePart[]
  /** Default 'onehot'. */
  readonly encoding?: DatetimeEncoding
}

/** Serialized {@link DatetimeParts} (hyperparameters only: there is no learned state). */
export interface DatetimePartsJSON extends TransformerJSON {
  readonly kind: 'datetime-parts'
  readonly column: string
  readonly parts: readonly DatetimePart[]
  readonly encoding: DatetimeEncoding
}

/** Every part, in the default order. */
export const DATETIME_PARTS: readonly DatetimePart[] = ['hour', 'dayOfWeek', 'month']

const OWNER = 'DatetimeParts'
const HOUR = 0
const DAY_OF_WEEK = 1
const MONTH = 2
/** Cycle length per part; month values 1–12 are shifted to 0–11 first. */
const PERIOD = [24, 7, 12] as const
const FIRST_VALUE = [0, 0, 1] as const

/** sin and cos of `2π·k/period` per part, so a row costs two table reads per part. */
const SIN: readonly Float64Array[] = PERIOD.map((p) =>
  Float64Array.from({ length: p }, (_, k) => Math.sin((2 * Math.PI * k) / p)),
)
const COS: readonly Float64Array[] = PERIOD.map((p) =>
  Float64Array.from({ length: p }, (_, k) => Math.cos((2 * Math.PI * k) / p)),
)

/**
 * Writes the position within its cycle of each part of timestamp `ms` into `position` (by part code) and returns
 * the day number. The weekday and month depend only on the day, so they are recomputed only when it differs from
 * `lastDay` (rows of one day, as in date-sorted data, compute the calendar once); pass NaN to force them.
 */
function positionsInCycles(ms: number, lastDay: number, position: Int32Array): number {
  const day = dayNumber(ms)
  position[HOUR] = hourInDay(ms, day)
  if (day !== lastDay) {
    position[DAY_OF_WEEK] = dayOfWeek(day)
    position[MONTH] = monthOfDay(day) - FIRST_VALUE[MONTH]
  }
  return day
}

/**
 * Extracts hour, day of week and month (UTC) from a timestamp column.
 *
 * A null or non-finite timestamp writes zeros in every feature of this step, in both encodings.
 *
 * @example
 * const parts = new DatetimeParts({ column: 'date', parts: ['hour'], encoding: 'cyclic' })
 * parts.outputNames() // ['date.hour_sin', 'date.hour_cos']
 */
export class DatetimeParts implements Transformer {
  readonly kind = 'datetime-parts'
  readonly params: Readonly<Required<DatetimePartsParams>>
  /** Part codes in output order, and each part's first output position within this step. */
  readonly #codes: Int32Array
  readonly #starts: Int32Array
  readonly #width: number
  /** Row scratch: each part's position within its cycle (hour 0–23, weekday 0–6, month 0–11), by part code. */
  readonly #position = new Int32Array(3)

  /** Parameters are checked here: they fix the output layout. */
  constructor(params: DatetimePartsParams) {
    checkColumnName(OWNER, 'column', params?.column)
    const parts = params.parts ?? DATETIME_PARTS
    const encoding = params.encoding ?? 'onehot'
    if (encoding !== 'onehot' && encoding !== 'cyclic' && encoding !== 'ordinal') {
      throw new ScalemlError(
        'INVALID_PARAM',
        `The 'encoding' parameter of ${OWNER} must be one of "onehot", "cyclic", "ordinal". Got ${JSON.stringify(encoding)} instead.`,
      )
    }
    if (!Array.isArray(parts) || parts.length === 0) {
      throw new ScalemlError('INVALID_PARAM', `The 'parts' parameter of ${OWNER} must be a non-empty array of parts.`)
    }
    this.#codes = new Int32Array(parts.length)
    this.#starts = new Int32Array(parts.length)
    let width = 0
    parts.forEach((part, i) => {
      const code = DATETIME_PARTS.indexOf(part)
      if (code < 0 || parts.indexOf(part) !== i) {
        throw new ScalemlError(
          'INVALID_PARAM',
          `The 'parts' parameter of ${OWNER} must list distinct parts among ${DATETIME_PARTS.map((p) => `"${p}"`).join(', ')}. Got ${JSON.stringify(part)}${code >= 0 ? ' twice' : ''}.`,
        )
      }
      this.#codes[i] = code
      this.#starts[i] = width
      width += encoding === 'onehot' ? PERIOD[code as 0 | 1 | 2] : encoding === 'cyclic' ? 2 : 1
    })
    this.#width = width
    this.params = { column: params.column, parts: [...parts], encoding }
  }

  get inputs(): readonly string[] {
    return [this.params.column]
  }

  /** Always true: the vocabularies are fixed. */
  get isFitted(): boolean {
    return true
  }

  get nOutputs(): number {
    return this.#width
  }

  /** Nothing to learn; checks that the batch's column is numeric so a wrong pipeline fails during fit. */
  partialFit(batch: Batch): void {
    requireNumericColumn(batch, this.params.column, OWNER)
  }

  merge(other: Transformer): void {
    const same =
      other instanceof DatetimeParts &&
      other.params.column === this.params.column &&
      other.params.encoding === this.params.encoding &&
      other.params.parts.join() === this.params.parts.join()
    if (!same) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${OWNER} over "${this.params.column}" can only merge a DatetimeParts with the same column, parts and encoding; got ${describeTransformer(other)}.`,
      )
    }
  }

  outputNames(): string[] {
    const { column, parts, encoding } = this.params
    const names: string[] = []
    for (const part of parts) {
      const code = DATETIME_PARTS.indexOf(part) as 0 | 1 | 2
      if (encoding === 'cyclic') {
        names.push(`${column}.${part}_sin`, `${column}.${part}_cos`)
      } else if (encoding === 'ordinal') {
        names.push(`${column}.${part}`)
      } else {
        for (let k = 0; k < PERIOD[code]; k++) names.push(`${column}.${part}=${k + FIRST_VALUE[code]}`)
      }
    }
    return names
  }

  transform(batch: Batch, out: Float32Array, stride: number, offset: number): void {
    const { values, nulls } = requireNumericColumn(batch, this.params.column, OWNER)
    const codes = this.#codes
    const starts = this.#starts
    const nParts = codes.length
    const encoding = this.params.encoding
    const position = this.#position
    let day = Number.NaN
    for (let i = 0, base = offset; i < batch.length; i++, base += stride) {
      const ms = values[i]!
      if (!Number.isFinite(ms) || (nulls !== undefined && nulls[i] === 1)) {
        out.fill(encoding === 'ordinal' ? Number.NaN : 0, base, base + this.#width)
        continue
      }
      day = positionsInCycles(ms, day, position)
      for (let p = 0; p < nParts; p++) {
        const code = codes[p]!
        const k = position[code]!
        const at = base + starts[p]!
        if (encoding === 'onehot') {
          writeIndicator(out, at, PERIOD[code as 0 | 1 | 2], k)
        } else if (encoding === 'ordinal') {
          out[at] = k + FIRST_VALUE[code as 0 | 1 | 2]
        } else {
          out[at] = SIN[code]![k]!
          out[at + 1] = COS[code]![k]!
        }
      }
    }
  }

  /**
   * One entry per part ('onehot': the indicator that is 1; 'ordinal': the value) or two ('cyclic': sin then cos).
   * A null or non-finite timestamp, which `transform` writes as zeros (NaN for 'ordinal'), gives each of its entries
   * that value (at the part's first column, and its cos column for 'cyclic'), so the count stays fixed.
   */
  get nnzPerRow(): number {
    return this.params.encoding === 'cyclic' ? 2 * this.#codes.length : this.#codes.length
  }

  transformSparse(
    batch: Batch,
    indices: Int32Array,
    values: Float32Array,
    nnzStride: number,
    nnzOffset: number,
    colOffset: number,
  ): void {
    const { values: times, nulls } = requireNumericColumn(batch, this.params.column, OWNER)
    const codes = this.#codes
    const starts = this.#starts
    const nParts = codes.length
    const encoding = this.params.encoding
    const position = this.#position
    let day = Number.NaN
    for (let i = 0, base = nnzOffset; i < batch.length; i++, base += nnzStride) {
      const ms = times[i]!
      const missing = !Number.isFinite(ms) || (nulls !== undefined && nulls[i] === 1)
      if (!missing) day = positionsInCycles(ms, day, position)
      for (let p = 0; p < nParts; p++) {
        const code = codes[p]!
        const first = colOffset + starts[p]!
        if (encoding === 'onehot') {
          indices[base + p] = missing ? first : first + position[code]!
          values[base + p] = missing ? 0 : 1
        } else if (encoding === 'ordinal') {
          indices[base + p] = first
          values[base + p] = missing ? Number.NaN : position[code]! + FIRST_VALUE[code as 0 | 1 | 2]
        } else {
          const at = base + 2 * p
          const k = position[code]!
          indices[at] = first
          indices[at + 1] = first + 1
          values[at] = missing ? 0 : SIN[code]![k]!
          values[at + 1] = missing ? 0 : COS[code]![k]!
        }
      }
    }
  }

  toJSON(): DatetimePartsJSON {
    return { kind: 'datetime-parts', ...this.params, parts: [...this.params.parts] }
  }

  /** Restores from {@link DatetimeParts.toJSON}; throws `ARTIFACT_INVALID` on a malformed field. */
  static fromJSON(json: TransformerJSON): DatetimeParts {
    if (!Array.isArray(json['parts'])) invalidJSON('datetime-parts', 'parts', 'an array of parts')
    return constructFromJSON(
      'datetime-parts',
      () =>
        new DatetimeParts({
          column: json['column'] as string,
          parts: json['parts'] as DatetimePart[],
          encoding: json['encoding'] as DatetimeEncoding,
        }),
    )
  }
}
