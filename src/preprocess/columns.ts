/**
 * Column lookup and parameter checks shared by the transformers, so every step reports a missing or mistyped
 * column and a bad parameter with the same message shape. Internal to preprocess.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Batch, Column, NumericColumn } from '../data/batch.js'
import type { Transformer } from './transformer.js'

/** The column `name` of `batch`, or `UNKNOWN_COLUMN` naming it, the step that needs it and the batch's columns. */
export function requireColumn(batch: Batch, name: string, owner: string): Column {
  const column = batch.columns.get(name)
  if (column === undefined) {
    throw new ScalemlError(
      'UNKNOWN_COLUMN',
      `${owner} needs column "${name}", which the batch does not have (batch columns: ${[...batch.columns.keys()].join(', ') || 'none'}).`,
    )
  }
  return column
}

/** The numeric column `name` (float, int, bool or timestamp); a string column is `INVALID_DATA`. */
export function requireNumericColumn(batch: Batch, name: string, owner: string): NumericColumn {
  const column = requireColumn(batch, name, owner)
  if (column.type === 'string') {
    throw new ScalemlError('INVALID_DATA', `${owner} needs a numeric column, but column "${name}" holds strings.`)
  }
  return column
}

/** Throws `INVALID_PARAM` unless `value` is a non-empty string (a column name). */
export function checkColumnName(owner: string, key: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ScalemlError(
      'INVALID_PARAM',
      `The '${key}' parameter of ${owner} must be a non-empty column name. Got ${JSON.stringify(value) ?? String(value)} instead.`,
      [{ code: 'invalid_value', path: [key], message: `Expected a non-empty column name.`, expected: 'string' }],
    )
  }
}

/** Throws `ARTIFACT_INVALID` naming the transformer kind and the bad field of its JSON. */
export function invalidJSON(kind: string, field: string, expected: string): never {
  throw new ScalemlError('ARTIFACT_INVALID', `Invalid ${kind} JSON: "${field}" must be ${expected}.`)
}

/** Reads a list of finite numbers (a plain array or any typed array) from transformer JSON. */
export function readNumbers(kind: string, field: string, value: unknown, length: number): Float64Array {
  const ok = (Array.isArray(value) || ArrayBuffer.isView(value)) && (value as ArrayLike<unknown>).length === length
  if (!ok) invalidJSON(kind, field, `an array of ${length} numbers`)
  const out = new Float64Array(length)
  const list = value as ArrayLike<unknown>
  for (let i = 0; i < length; i++) {
    const v = list[i]
    if (typeof v !== 'number' || !Number.isFinite(v)) invalidJSON(kind, `${field}[${i}]`, 'a finite number')
    out[i] = v
  }
  return out
}

/** `standard-scaler over [a, b]`: names a transformer in merge-mismatch messages. */
export function describeTransformer(t: Transformer): string {
  return `${t.kind} over [${t.inputs.join(', ')}]`
}

/** Runs a constructor on deserialized parameters, reporting a rejected parameter as `ARTIFACT_INVALID`. */
export function constructFromJSON<T>(kind: string, make: () => T): T {
  try {
    return make()
  } catch (error) {
    if (error instanceof ScalemlError && error.code === 'INVALID_PARAM') {
      throw new ScalemlError('ARTIFACT_INVALID', `Invalid ${kind} JSON: ${error.message}`, error.issues)
    }
    throw error
  }
}
