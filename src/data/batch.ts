/**
 * Columnar batches: the unit every streaming path moves. Numeric, boolean and timestamp columns are `Float64Array`s
 * (timestamps as epoch milliseconds, UTC) with an optional null mask; strings are dictionary-encoded.
 * @module
 */

/** Logical column types. `int` values fit in a double exactly up to 2^53. */
export type ColumnType = 'float' | 'int' | 'bool' | 'timestamp' | 'string'

/** A numeric-valued column (float, int, bool as 0/1, timestamp as epoch ms UTC). */
export interface NumericColumn {
  readonly type: 'float' | 'int' | 'bool' | 'timestamp'
  readonly values: Float64Array
  /** `nulls[i] === 1` when row i is null; absent when the column has no nulls in this batch. */
  readonly nulls?: Uint8Array
}

/** A dictionary-encoded string column; code -1 is null. */
export interface StringColumn {
  readonly type: 'string'
  readonly codes: Int32Array
  readonly dictionary: readonly string[]
}

/** A column of a batch. */
export type Column = NumericColumn | StringColumn

/** A set of equally long columns. */
export interface Batch {
  readonly length: number
  readonly columns: ReadonlyMap<string, Column>
}

/** One field of a schema. */
export interface Field {
  readonly name: string
  readonly type: ColumnType
  readonly nullable: boolean
}

/** The columns of a source, in order. */
export interface Schema {
  readonly fields: readonly Field[]
}

/** True when row `i` of `column` is null (or NaN for floats). */
export function isNull(column: Column, i: number): boolean {
  if (column.type === 'string') return column.codes[i]! < 0
  if (column.nulls !== undefined && column.nulls[i] === 1) return true
  return Number.isNaN(column.values[i]!)
}

/** The JS value of row `i` (`null` for nulls; timestamps as epoch ms). */
export function valueAt(column: Column, i: number): string | number | boolean | null {
  if (column.type === 'string') {
    const code = column.codes[i]!
    return code < 0 ? null : column.dictionary[code]!
  }
  if (column.nulls !== undefined && column.nulls[i] === 1) return null
  const v = column.values[i]!
  return column.type === 'bool' ? v !== 0 : v
}

/** Returns a batch of rows [start, end) sharing no buffers with the input. */
export function sliceBatch(batch: Batch, start: number, end: number): Batch {
  start = Math.max(0, Math.min(start, batch.length))
  end = Math.max(start, Math.min(end, batch.length))
  const columns = new Map<string, Column>()
  for (const [name, column] of batch.columns) {
    if (column.type === 'string') {
      columns.set(name, { type: 'string', codes: column.codes.slice(start, end), dictionary: column.dictionary })
    } else {
      const sliced: NumericColumn = column.nulls
        ? { type: column.type, values: column.values.slice(start, end), nulls: column.nulls.slice(start, end) }
        : { type: column.type, values: column.values.slice(start, end) }
      columns.set(name, sliced)
    }
  }
  return { length: end - start, columns }
}

/** Returns a batch with rows in the order of `index` (used for within-batch shuffling and splits). */
export function takeRows(batch: Batch, index: Uint32Array | Int32Array | readonly number[]): Batch {
  const n = index.length
  const columns = new Map<string, Column>()
  for (const [name, column] of batch.columns) {
    if (column.type === 'string') {
      const codes = new Int32Array(n)
      for (let i = 0; i < n; i++) codes[i] = column.codes[index[i]!]!
      columns.set(name, { type: 'string', codes, dictionary: column.dictionary })
    } else {
      const values = new Float64Array(n)
      for (let i = 0; i < n; i++) values[i] = column.values[index[i]!]!
      if (column.nulls) {
        const nulls = new Uint8Array(n)
        for (let i = 0; i < n; i++) nulls[i] = column.nulls[index[i]!]!
        columns.set(name, { type: column.type, values, nulls })
      } else {
        columns.set(name, { type: column.type, values })
      }
    }
  }
  return { length: n, columns }
}

/** Builds a batch from plain rows (tests, single records at serving time). */
export function batchFromRecords(schema: Schema, records: readonly Record<string, unknown>[]): Batch {
  const n = records.length
  const columns = new Map<string, Column>()
  for (const field of schema.fields) {
    if (field.type === 'string') {
      const dictionary: string[] = []
      const index = new Map<string, number>()
      const codes = new Int32Array(n)
      for (let i = 0; i < n; i++) {
        const v = records[i]![field.name]
        if (v === null || v === undefined) {
          codes[i] = -1
          continue
        }
        const s = String(v)
        let code = index.get(s)
        if (code === undefined) {
          code = dictionary.length
          dictionary.push(s)
          index.set(s, code)
        }
        codes[i] = code
      }
      columns.set(field.name, { type: 'string', codes, dictionary })
    } else {
      const values = new Float64Array(n)
      let nulls: Uint8Array | undefined
      for (let i = 0; i < n; i++) {
        const v = records[i]![field.name]
        if (v === null || v === undefined) {
          nulls ??= new Uint8Array(n)
          nulls[i] = 1
          values[i] = Number.NaN
        } else {
          values[i] = typeof v === 'boolean' ? (v ? 1 : 0) : Number(v)
        }
      }
      columns.set(field.name, nulls ? { type: field.type, values, nulls } : { type: field.type, values })
    }
  }
  return { length: n, columns }
}
