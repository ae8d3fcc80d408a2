/**
 * Concatenates the one-request batches of a micro-batch into one `Batch`, so the model runs one vectorized predict.
 * String columns get a merged dictionary (codes remapped); numeric columns are copied end to end.
 * @module
 */
import type { Batch, Column, NumericColumn } from '../../data/batch.js'

/**
 * Rows of `batches` one after the other, with the columns of the first batch (every batch must have them).
 * One batch is returned as is (no copy).
 *
 * @example
 * const merged = concatBatches([a, b]) // merged.length === a.length + b.length
 */
export function concatBatches(batches: readonly Batch[]): Batch {
  if (batches.length === 1) return batches[0]!
  let rows = 0
  for (const b of batches) rows += b.length
  const columns = new Map<string, Column>()
  for (const [name, first] of batches[0]!.columns) {
    if (first.type === 'string') columns.set(name, concatStrings(batches, name, rows))
    else columns.set(name, concatNumeric(batches, name, first.type, rows))
  }
  return { length: rows, columns }
}

function concatNumeric(batches: readonly Batch[], name: string, type: NumericColumn['type'], rows: number): Column {
  const values = new Float64Array(rows)
  let nulls: Uint8Array | undefined
  let at = 0
  for (const b of batches) {
    const column = b.columns.get(name) as NumericColumn
    values.set(column.values, at)
    if (column.nulls !== undefined) {
      nulls ??= new Uint8Array(rows)
      nulls.set(column.nulls, at)
    }
    at += b.length
  }
  return nulls === undefined ? { type, values } : { type, values, nulls }
}

function concatStrings(batches: readonly Batch[], name: string, rows: number): Column {
  const codes = new Int32Array(rows)
  const dictionary: string[] = []
  const codeOf = new Map<string, number>()
  let at = 0
  for (const b of batches) {
    const column = b.columns.get(name)
    if (column?.type !== 'string') throw new TypeError(`concatBatches: column "${name}" is not a string column`)
    for (let i = 0; i < b.length; i++) {
      const code = column.codes[i]!
      if (code < 0) {
        codes[at + i] = -1
        continue
      }
      const value = column.dictionary[code]!
      let merged = codeOf.get(value)
      if (merged === undefined) {
        merged = dictionary.length
        dictionary.push(value)
        codeOf.set(value, merged)
      }
      codes[at + i] = merged
    }
    at += b.length
  }
  return { type: 'string', codes, dictionary }
}
