/**
 * Standardization `(x − mean) / scale` of numeric columns, fitted in one streaming pass with exact, mergeable
 * statistics (count, mean and M2 per column), so shards fitted on different machines combine to what one fit on
 * all the rows would give. It must not hold rows: memory is O(columns).
 *
 * Semantics follow scikit-learn's `StandardScaler` (1.2.1): `scale` is the population standard deviation (ddof 0);
 * a feature whose variance is zero or indistinguishable from zero (sklearn's `_is_constant_feature` bound) gets
 * scale 1. Missing values — a null, NaN or ±Infinity — are left out of the statistics (sklearn also skips NaN)
 * and transform to 0, the standardized mean (sklearn would output NaN, which no model here accepts). A column that
 * has never held a value has mean 0 and scale 1.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Batch } from '../data/batch.js'
import {
  checkColumnName,
  constructFromJSON,
  describeTransformer,
  invalidJSON,
  readNumbers,
  requireNumericColumn,
} from './columns.js'
import { columnMoments, combineMoments, type MomentArrays } from './kernels/moments.js'
import { fillStrided } from './kernels/sparse-entries.js'
import { standardizeColumn } from './kernels/standardize.js'
import type { Transformer, TransformerJSON } from './transformer.js'

/** Hyperparameters of {@link StandardScaler}. */
export interface StandardScalerParams {
  /** Numeric columns to standardize (float, int, bool or timestamp), one output feature each, in this order. */
  readonly columns: readonly string[]
}

/** Serialized {@link StandardScaler}: raw moments, so a deserialized scaler can still `merge` exactly. */
export interface StandardScalerJSON extends TransformerJSON {
  readonly kind: 'standard-scaler'
  readonly columns: readonly string[]
  readonly fitted: boolean
  /** Non-missing values seen per column. */
  readonly count: readonly number[]
  /** Mean per column, rounded to a double. */
  readonly mean: readonly number[]
  /** What `mean` lost to rounding (the exact running mean is `mean + meanLow`), so merges after loading stay exact. */
  readonly meanLow: readonly number[]
  /** Sum of squared deviations from the mean per column (variance × count). */
  readonly m2: readonly number[]
}

const OWNER = 'StandardScaler'
const EPS = 2 ** -52

/**
 * Standardizes numeric columns with streaming, mergeable mean and variance.
 *
 * @example
 * const scaler = new StandardScaler({ columns: ['distance'] })
 * scaler.partialFit(batch)
 * const out = new Float32Array(batch.length)
 * scaler.transform(batch, out, 1, 0) // out[i] = (distance[i] - mean) / std
 */
export class StandardScaler implements Transformer {
  readonly kind = 'standard-scaler'
  readonly params: Readonly<StandardScalerParams>
  #state: MomentArrays | undefined
  /** Derived from the moments; recomputed lazily after every update. */
  #scale: Float64Array | undefined
  readonly #moments = new Float64Array(4)

  /** Column names are checked here rather than at the first fit: they decide the pipeline's wiring. */
  constructor(params: StandardScalerParams) {
    const columns: unknown = params?.columns
    if (!Array.isArray(columns) || columns.length === 0) {
      throw new ScalemlError(
        'INVALID_PARAM',
        `The 'columns' parameter of ${OWNER} must be a non-empty array of column names. Got ${JSON.stringify(columns) ?? String(columns)} instead.`,
      )
    }
    for (const name of columns) checkColumnName(OWNER, 'columns', name)
    const duplicate = columns.find((name, i) => columns.indexOf(name) !== i)
    if (duplicate !== undefined) {
      throw new ScalemlError('INVALID_PARAM', `The 'columns' parameter of ${OWNER} lists "${duplicate}" twice.`)
    }
    this.params = { columns: [...(columns as string[])] }
  }

  get inputs(): readonly string[] {
    return this.params.columns
  }

  get isFitted(): boolean {
    return this.#state !== undefined
  }

  get nOutputs(): number {
    return this.params.columns.length
  }

  /** Non-missing values seen per column (sklearn's `n_samples_seen_`). */
  get count(): Float64Array {
    return this.#fitted().count.slice()
  }

  /** Mean per column (sklearn's `mean_`). */
  get mean(): Float64Array {
    return this.#fitted().meanHigh.slice()
  }

  /** Population variance per column (sklearn's `var_`). */
  get variance(): Float64Array {
    const { count, m2 } = this.#fitted()
    return m2.map((v, j) => (count[j]! > 0 ? v / count[j]! : 0))
  }

  /** Divisor per column: the standard deviation, or 1 for (near-)constant columns (sklearn's `scale_`). */
  get scale(): Float64Array {
    this.#fitted()
    return this.#scales().slice()
  }

  partialFit(batch: Batch): void {
    const columns = this.params.columns
    const state = this.#state ?? emptyState(columns.length)
    const moments = this.#moments
    // Check every column before touching the state, so a bad batch leaves the scaler as it was.
    for (const name of columns) requireNumericColumn(batch, name, OWNER)
    for (let j = 0; j < columns.length; j++) {
      const column = requireNumericColumn(batch, columns[j]!, OWNER)
      columnMoments(column.values, column.nulls, batch.length, moments)
      combineMoments(state, j, moments[0]!, moments[1]!, moments[2]!, moments[3]!)
    }
    this.#state = state
    this.#scale = undefined
  }

  merge(other: Transformer): void {
    if (!(other instanceof StandardScaler) || !sameColumns(this.params.columns, other.params.columns)) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${OWNER} over [${this.params.columns.join(', ')}] can only merge a StandardScaler over the same columns; got ${describeTransformer(other)}.`,
      )
    }
    const theirs = other.#state
    if (theirs === undefined) return
    const state = this.#state ?? emptyState(this.params.columns.length)
    for (let j = 0; j < this.params.columns.length; j++) {
      combineMoments(state, j, theirs.count[j]!, theirs.meanHigh[j]!, theirs.meanLow[j]!, theirs.m2[j]!)
    }
    this.#state = state
    this.#scale = undefined
  }

  outputNames(): string[] {
    return [...this.params.columns]
  }

  transform(batch: Batch, out: Float32Array, stride: number, offset: number): void {
    const { meanHigh, meanLow } = this.#fitted()
    const scale = this.#scales()
    const columns = this.params.columns
    for (let j = 0; j < columns.length; j++) {
      const column = requireNumericColumn(batch, columns[j]!, OWNER)
      const { values, nulls } = column
      standardizeColumn(values, nulls, meanHigh[j]!, meanLow[j]!, scale[j]!, out, stride, offset + j, batch.length)
    }
  }

  /** One entry per column, always (a missing value is an explicit 0, as in `transform`). */
  get nnzPerRow(): number {
    return this.params.columns.length
  }

  transformSparse(
    batch: Batch,
    indices: Int32Array,
    values: Float32Array,
    nnzStride: number,
    nnzOffset: number,
    colOffset: number,
  ): void {
    const { meanHigh, meanLow } = this.#fitted()
    const scale = this.#scales()
    const columns = this.params.columns
    for (let j = 0; j < columns.length; j++) {
      const column = requireNumericColumn(batch, columns[j]!, OWNER)
      // The same kernel as `transform`, striding over the entries instead of the dense rows: same bits by design.
      const at = nnzOffset + j
      standardizeColumn(
        column.values,
        column.nulls,
        meanHigh[j]!,
        meanLow[j]!,
        scale[j]!,
        values,
        nnzStride,
        at,
        batch.length,
      )
      fillStrided(indices, colOffset + j, nnzStride, at, batch.length)
    }
  }

  toJSON(): StandardScalerJSON {
    const state = this.#state
    return {
      kind: 'standard-scaler',
      columns: [...this.params.columns],
      fitted: state !== undefined,
      count: state ? Array.from(state.count) : [],
      mean: state ? Array.from(state.meanHigh) : [],
      meanLow: state ? Array.from(state.meanLow) : [],
      m2: state ? Array.from(state.m2) : [],
    }
  }

  /** Restores a scaler from {@link StandardScaler.toJSON}; throws `ARTIFACT_INVALID` naming a malformed field. */
  static fromJSON(json: TransformerJSON): StandardScaler {
    const kind = 'standard-scaler'
    if (!Array.isArray(json['columns'])) invalidJSON(kind, 'columns', 'an array of column names')
    const scaler = constructFromJSON(kind, () => new StandardScaler({ columns: json['columns'] as string[] }))
    if (json['fitted'] !== true) return scaler
    const n = scaler.params.columns.length
    const count = readNumbers(kind, 'count', json['count'], n)
    const meanHigh = readNumbers(kind, 'mean', json['mean'], n)
    // Optional: JSON written by hand may carry only the rounded mean.
    const meanLow =
      json['meanLow'] === undefined ? new Float64Array(n) : readNumbers(kind, 'meanLow', json['meanLow'], n)
    const m2 = readNumbers(kind, 'm2', json['m2'], n)
    for (let j = 0; j < n; j++) {
      if (!Number.isInteger(count[j]) || count[j]! < 0) invalidJSON(kind, `count[${j}]`, 'a non-negative integer')
      if (m2[j]! < 0) invalidJSON(kind, `m2[${j}]`, 'non-negative')
    }
    scaler.#state = { count, meanHigh, meanLow, m2 }
    return scaler
  }

  #fitted(): MomentArrays {
    if (this.#state === undefined) {
      throw new ScalemlError(
        'NOT_FITTED',
        `${OWNER} over [${this.params.columns.join(', ')}] is not fitted: call partialFit (or fit the pipeline) before transform.`,
      )
    }
    return this.#state
  }

  #scales(): Float64Array {
    if (this.#scale !== undefined) return this.#scale
    const { count, meanHigh, m2 } = this.#fitted()
    const scale = new Float64Array(count.length)
    for (let j = 0; j < scale.length; j++) {
      const n = count[j]!
      const variance = n > 0 ? m2[j]! / n : 0
      // sklearn's _is_constant_feature: a variance within the rounding error of the two-pass algorithm
      // (Chan, Golub & LeVeque) is treated as zero, so a near-constant column does not blow up.
      const bound = n * EPS * variance + (n * meanHigh[j]! * EPS) ** 2
      scale[j] = variance <= bound ? 1 : Math.sqrt(variance)
    }
    this.#scale = scale
    return scale
  }
}

function emptyState(n: number): MomentArrays {
  return {
    count: new Float64Array(n),
    meanHigh: new Float64Array(n),
    meanLow: new Float64Array(n),
    m2: new Float64Array(n),
  }
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i])
}
