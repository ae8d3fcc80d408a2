/**
 * Row-level checks of training and evaluation batches that must name the row at fault: non-finite feature values
 * and labels outside the classes. Rows are named by their 1-based position in the data (the
 * `ROW_INDEX_COLUMN` of batches read by `rows.ts`, plus one), as `data/checks.ts` names rows.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Batch, NumericColumn } from '../data/batch.js'
import { ROW_INDEX_COLUMN } from './rows.js'

/**
 * What to impute: `'nulls'` (default) fills nulls with the training mean and refuses NaN and ±Infinity in a numeric
 * feature, which usually mean a bug upstream (a division by zero, a failed parse); `'all'` treats NaN and ±Infinity
 * as nulls (the preprocessing steps already leave them out of their statistics and map them to the mean).
 */
export type ImputeMode = 'nulls' | 'all'

/** Every impute mode, for option parsing. */
export const IMPUTE_MODES: readonly ImputeMode[] = ['nulls', 'all']

/**
 * Throws `INVALID_DATA` naming the column, the row and the value when a non-null value of one of `columns` is NaN
 * or ±Infinity.
 *
 * @example
 * checkFiniteFeatures(batch, ['distance'], 'flights.parquet') // error: "The feature 'distance' is Infinity at row 18 of flights.parquet; …"
 */
export function checkFiniteFeatures(batch: Batch, columns: readonly string[], data: string): void {
  for (const name of columns) {
    const column = batch.columns.get(name)
    if (column === undefined || column.type === 'string') continue
    const { values, nulls } = column
    for (let i = 0; i < batch.length; i++) {
      const v = values[i]!
      // v - v is 0 for every finite number and NaN for NaN and ±Infinity: one comparison in the common case.
      if (v - v === 0 || nulls?.[i] === 1) continue
      const row = dataRow(batch, i)
      throw new ScalemlError(
        'INVALID_DATA',
        `The feature '${name}' is ${v} at row ${row} of ${data}; NaN and ±Infinity are not imputed by default ` +
          '(nulls are, with the training mean). Fix the data, or pass --impute all (option impute: "all") to ' +
          'treat them as missing.',
        [{ code: 'invalid_value', path: ['row', row, name], message: 'expected a finite number', received: String(v) }],
      )
    }
  }
}

/**
 * Throws `INVALID_DATA` naming the row and the label when a label of `y` (the labels of `batch`'s rows) is not one
 * of `classes` (sorted ascending).
 */
export function checkLabelsIn(
  batch: Batch,
  y: Float64Array,
  classes: readonly number[],
  context: { readonly target: string; readonly data: string; readonly why: string },
): void {
  for (let i = 0; i < y.length; i++) {
    if (binarySearch(classes, y[i]!)) continue
    const row = dataRow(batch, i)
    throw new ScalemlError(
      'INVALID_DATA',
      `Row ${row} of ${context.data} has label ${y[i]} for the target '${context.target}', which is not one of ` +
        `the classes [${classes.join(', ')}] ${context.why}.`,
      [
        {
          code: 'invalid_value',
          path: ['row', row, context.target],
          message: 'label outside the classes',
          expected: classes.join(' | '),
          received: String(y[i]),
        },
      ],
    )
  }
}

/** The 1-based data row of row `i` of a batch (its index column plus one; `i + 1` without one). */
export function dataRow(batch: Batch, i: number): number {
  const index = batch.columns.get(ROW_INDEX_COLUMN) as NumericColumn | undefined
  return index === undefined ? i + 1 : index.values[i]! + 1
}

function binarySearch(sorted: readonly number[], value: number): boolean {
  let lo = 0
  let hi = sorted.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const v = sorted[mid]!
    if (v === value) return true
    if (v < value) lo = mid + 1
    else hi = mid - 1
  }
  return false
}
