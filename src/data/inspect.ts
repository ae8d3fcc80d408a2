/**
 * One streaming pass over a source that profiles every column: null count, min, max, mean and an estimated number of
 * distinct values. Memory is one batch plus a 16 KiB sketch per column, whatever the size of the data.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Batch, Column, ColumnType, Schema } from './batch.js'
import { HyperLogLog } from './sketches/hyperloglog.js'
import type { Source } from './source.js'

/** The profile of one column. */
export interface ColumnProfile {
  readonly name: string
  readonly type: ColumnType
  /** Null rows; NaN counts as null, as `isNull` in batch.ts. */
  readonly nulls: number
  /**
   * Smallest and largest non-null value: numbers for numeric columns (epoch ms for timestamps, 0/1 for booleans);
   * for strings the first and last in JavaScript's `<` order (UTF-16 code units, which differs from DuckDB's byte
   * order only for characters beyond U+FFFF). `null` when the column has no non-null value.
   */
  readonly min: number | string | null
  readonly max: number | string | null
  /** Mean of non-null values (the fraction of `true` for booleans, epoch ms for timestamps); `null` for strings. */
  readonly mean: number | null
  /** Estimated distinct non-null values (HyperLogLog, relative standard error in `distinctError`). */
  readonly distinct: number
  /** Relative standard error of `distinct`. */
  readonly distinctError: number
}

/** The profile of a source. */
export interface SourceProfile {
  readonly schema: Schema
  readonly rows: number
  readonly columns: readonly ColumnProfile[]
}

/** Options for {@link inspectSource}. */
export interface InspectOptions {
  /** Called after each batch with the number of rows read so far. */
  readonly onProgress?: (rows: number) => void
  /** HyperLogLog precision (default 14: 0.81% standard error, 16 KiB per column). */
  readonly precision?: number
}

/**
 * Profiles every column of `source` in one pass.
 *
 * @example
 * const profile = await inspectSource(source, { onProgress: (rows) => bar.update(rows) })
 */
export async function inspectSource(source: Source, options: InspectOptions = {}): Promise<SourceProfile> {
  const schema = await source.schema()
  const accumulators = schema.fields.map((field) =>
    field.type === 'string'
      ? new StringAccumulator(options.precision)
      : new NumericAccumulator(field.type, options.precision),
  )
  let rows = 0
  for await (const batch of source) {
    for (let j = 0; j < schema.fields.length; j++) {
      const name = schema.fields[j]!.name
      const column = batch.columns.get(name)
      if (column === undefined) {
        throw new ScalemlError('INVALID_DATA', `a batch of ${source.description} has no column '${name}'`)
      }
      accumulateColumn(accumulators[j]!, column, batch, name, source.description)
    }
    rows += batch.length
    options.onProgress?.(rows)
  }
  const columns = schema.fields.map((field, j) => accumulators[j]!.profile(field.name, field.type))
  return { schema, rows, columns }
}

function accumulateColumn(
  accumulator: NumericAccumulator | StringAccumulator,
  column: Column,
  batch: Batch,
  name: string,
  description: string,
): void {
  if (accumulator instanceof StringAccumulator) {
    if (column.type !== 'string') throw typeMismatch(name, description, 'string', column.type)
    accumulator.add(column, batch.length)
  } else {
    if (column.type === 'string') throw typeMismatch(name, description, accumulator.type, 'string')
    accumulator.add(column.values, column.nulls, batch.length)
  }
}

function typeMismatch(name: string, description: string, expected: string, received: string): ScalemlError {
  return new ScalemlError(
    'INVALID_DATA',
    `column '${name}' of ${description} is ${received} in a batch but ${expected} in the schema`,
  )
}

class NumericAccumulator {
  #nulls = 0
  #count = 0
  #min = Number.POSITIVE_INFINITY
  #max = Number.NEGATIVE_INFINITY
  // Neumaier-compensated sum: timestamps (~1e12) summed over millions of rows would otherwise lose digits.
  #sum = 0
  #compensation = 0
  readonly #sketch: HyperLogLog

  constructor(
    readonly type: Exclude<ColumnType, 'string'>,
    precision?: number,
  ) {
    this.#sketch = new HyperLogLog(precision)
  }

  add(values: Float64Array, nulls: Uint8Array | undefined, length: number): void {
    let min = this.#min
    let max = this.#max
    let sum = this.#sum
    let compensation = this.#compensation
    let count = 0
    const sketch = this.#sketch
    let previous = Number.NaN
    for (let i = 0; i < length; i++) {
      const v = values[i]!
      if ((nulls !== undefined && nulls[i] === 1) || Number.isNaN(v)) continue
      count++
      if (v < min) min = v
      if (v > max) max = v
      const t = sum + v
      compensation += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum
      sum = t
      // Sorted and low-cardinality columns repeat values; re-adding one cannot change the sketch.
      if (v !== previous) {
        sketch.addNumber(v)
        previous = v
      }
    }
    this.#nulls += length - count
    this.#count += count
    this.#min = min
    this.#max = max
    this.#sum = sum
    this.#compensation = compensation
  }

  profile(name: string, type: ColumnType): ColumnProfile {
    const any = this.#count > 0
    return {
      name,
      type,
      nulls: this.#nulls,
      min: any ? this.#min : null,
      max: any ? this.#max : null,
      mean: any ? (this.#sum + this.#compensation) / this.#count : null,
      distinct: Math.round(this.#sketch.estimate()),
      distinctError: this.#sketch.standardError,
    }
  }
}

/**
 * Works on dictionaries, not rows: each batch marks which codes occur, then compares and sketches each used entry
 * once (HyperLogLog ignores repeats, so adding a value once per batch is the same as once per row).
 */
class StringAccumulator {
  #nulls = 0
  #min: string | null = null
  #max: string | null = null
  readonly #sketch: HyperLogLog
  #used = new Uint8Array(1024)

  constructor(precision?: number) {
    this.#sketch = new HyperLogLog(precision)
  }

  add(column: Extract<Column, { type: 'string' }>, length: number): void {
    const { codes, dictionary } = column
    if (this.#used.length < dictionary.length) this.#used = new Uint8Array(dictionary.length * 2)
    const used = this.#used
    used.fill(0, 0, dictionary.length)
    let nulls = 0
    for (let i = 0; i < length; i++) {
      const code = codes[i]!
      if (code < 0) nulls++
      else used[code] = 1
    }
    this.#nulls += nulls
    let min = this.#min
    let max = this.#max
    for (let code = 0; code < dictionary.length; code++) {
      if (used[code] === 0) continue
      const value = dictionary[code]!
      if (min === null || value < min) min = value
      if (max === null || value > max) max = value
      this.#sketch.addString(value)
    }
    this.#min = min
    this.#max = max
  }

  profile(name: string, type: ColumnType): ColumnProfile {
    return {
      name,
      type,
      nulls: this.#nulls,
      min: this.#min,
      max: this.#max,
      mean: null,
      distinct: Math.round(this.#sketch.estimate()),
      distinctError: this.#sketch.standardError,
    }
  }
}
