/**
 * Numeric columns passed through unchanged (as float32), with null and NaN kept as NaN: the preprocessing of models
 * that handle missing values themselves, such as imported XGBoost ensembles (a missing value follows each split's
 * default direction).
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
import type { Transformer, TransformerJSON } from './transformer.js'

const OWNER = 'Passthrough'

/** Parameters of {@link Passthrough}. */
export interface PassthroughParams {
  /** Numeric (or timestamp, as epoch ms) columns, in output order. */
  readonly columns: readonly string[]
}

/** Serialized {@link Passthrough}. */
export interface PassthroughJSON extends TransformerJSON {
  readonly kind: 'passthrough'
  readonly columns: readonly string[]
}

/**
 * Writes each column's value as it is; null → NaN. Nothing to learn.
 *
 * @example
 * const step = new Passthrough({ columns: ['f0', 'f1'] })
 */
export class Passthrough implements Transformer {
  readonly kind = 'passthrough'
  readonly params: PassthroughParams

  constructor(params: PassthroughParams) {
    if (!Array.isArray(params.columns) || params.columns.length === 0) {
      throw new ScalemlError(
        'INVALID_PARAM',
        `The 'columns' parameter of ${OWNER} must be a non-empty list of column names.`,
      )
    }
    for (const column of params.columns) checkColumnName(OWNER, 'columns', column)
    this.params = { columns: [...params.columns] }
  }

  get inputs(): readonly string[] {
    return this.params.columns
  }

  /** Always true: nothing to learn. */
  get isFitted(): boolean {
    return true
  }

  get nOutputs(): number {
    return this.params.columns.length
  }

  /** Checks that every column is numeric, so a wrong pipeline fails while fitting. */
  partialFit(batch: Batch): void {
    for (const column of this.params.columns) requireNumericColumn(batch, column, OWNER)
  }

  merge(other: Transformer): void {
    if (!(other instanceof Passthrough) || other.params.columns.join('\u0000') !== this.params.columns.join('\u0000')) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${OWNER} over [${this.params.columns.join(', ')}] can only merge the same columns; got ${describeTransformer(other)}.`,
      )
    }
  }

  outputNames(): string[] {
    return [...this.params.columns]
  }

  transform(batch: Batch, out: Float32Array, stride: number, offset: number): void {
    const columns = this.params.columns
    for (let c = 0; c < columns.length; c++) {
      const { values, nulls } = requireNumericColumn(batch, columns[c]!, OWNER)
      for (let i = 0, at = offset + c; i < batch.length; i++, at += stride) {
        out[at] = nulls !== undefined && nulls[i] === 1 ? Number.NaN : values[i]!
      }
    }
  }

  toJSON(): PassthroughJSON {
    return { kind: 'passthrough', columns: [...this.params.columns] }
  }

  /** Restores a {@link Passthrough.toJSON} document (`ARTIFACT_INVALID` when malformed). */
  static fromJSON(json: TransformerJSON): Passthrough {
    const columns = (json as { columns?: unknown }).columns
    if (!Array.isArray(columns)) invalidJSON('passthrough', 'columns', 'an array of column names')
    return constructFromJSON('passthrough', () => new Passthrough({ columns: columns as string[] }))
  }
}
