/**
 * Turning a target column of a batch into labels: drop rows whose target is null, map booleans to 0/1.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Batch, Column } from '../data/batch.js'
import { takeRows } from '../data/batch.js'

/** A batch with its labels, rows with a null target removed. */
export interface LabeledBatch {
  readonly batch: Batch
  readonly y: Float64Array
}

/** Splits the target column off a batch; rows whose target is null or NaN are dropped. */
export function extractLabels(batch: Batch, targetColumn: string): LabeledBatch {
  const column = batch.columns.get(targetColumn)
  if (!column) {
    throw new ScalemlError('UNKNOWN_COLUMN', `The target column '${targetColumn}' is missing from the data.`)
  }
  if (column.type === 'string') {
    throw new ScalemlError(
      'INVALID_DATA',
      `The target '${targetColumn}' is a string column; use an expression that yields a boolean or a number (e.g. "${targetColumn} = 'yes'").`,
    )
  }
  const keep = countValid(column, batch.length)
  if (keep === batch.length) return { batch, y: column.values.slice(0, batch.length) }
  const index = new Uint32Array(keep)
  let k = 0
  for (let i = 0; i < batch.length; i++) if (isValid(column, i)) index[k++] = i
  const filtered = takeRows(batch, index)
  const target = filtered.columns.get(targetColumn) as Extract<Column, { values: Float64Array }>
  return { batch: filtered, y: target.values }
}

function isValid(column: Extract<Column, { values: Float64Array }>, i: number): boolean {
  return !(column.nulls?.[i] === 1) && !Number.isNaN(column.values[i]!)
}

function countValid(column: Extract<Column, { values: Float64Array }>, n: number): number {
  let count = 0
  for (let i = 0; i < n; i++) if (isValid(column, i)) count++
  return count
}
