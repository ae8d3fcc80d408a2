/**
 * One-hot encoding of one categorical column over the `maxCategories` most frequent values seen, plus one trailing
 * "other" slot for everything else (values never seen, rare values, nulls). Counts are exact (a `Map` from value to
 * count) so `merge` adds them and the kept set is the same whatever order shards arrive in. It must not hold rows:
 * memory is O(distinct values).
 *
 * Works on string columns and on numeric columns holding small codes (int, bool, or any finite number used as a
 * label); a null or non-finite number goes to "other".
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import { int, validateParams } from '../core/params.js'
import type { Batch, Column } from '../data/batch.js'
import { checkColumnName, constructFromJSON, describeTransformer, invalidJSON, requireColumn } from './columns.js'
import { writeIndicator } from './kernels/one-hot.js'
import { indicatorEntries } from './kernels/sparse-entries.js'
import type { Transformer, TransformerJSON } from './transformer.js'

/** Hyperparameters of {@link OneHotEncoder}. */
export interface OneHotEncoderParams {
  /** The categorical column. */
  readonly column: string
  /** How many of the most frequent categories get their own feature (default 256); the rest share "other". */
  readonly maxCategories?: number
}

/** Kind of values the encoder was fitted on; fixed by the first batch. */
export type CategoryValueType = 'string' | 'number'

/** Serialized {@link OneHotEncoder}: every category seen with its count, sorted by category, so merge stays exact. */
export interface OneHotEncoderJSON extends TransformerJSON {
  readonly kind: 'one-hot'
  readonly column: string
  readonly maxCategories: number
  /** `null` until fitted. */
  readonly valueType: CategoryValueType | null
  readonly categories: readonly (string | number)[]
  readonly counts: readonly number[]
}

/** Default of {@link OneHotEncoderParams.maxCategories}. */
export const DEFAULT_MAX_CATEGORIES = 256

/** Name suffix of the trailing slot that unknown, rare and null values share. */
export const OTHER_CATEGORY = '<other>'

const OWNER = 'OneHotEncoder'
const CONSTRAINTS = { maxCategories: int({ min: 1 }) }

/** The frozen output layout: the kept categories in output order and where each goes. */
interface Vocabulary {
  readonly categories: readonly (string | number)[]
  readonly slotOf: ReadonlyMap<string | number, number>
}

/**
 * Encodes a categorical column as indicators over its most frequent values plus an "other" slot.
 *
 * The kept categories are the `maxCategories` with the highest counts, ties broken by the smaller category
 * (string order by UTF-16 code units, numeric order for numbers), then laid out in that same category order.
 *
 * @example
 * const encoder = new OneHotEncoder({ column: 'origin', maxCategories: 2 })
 * encoder.partialFit(batch) // origin: SFO ×3, LAX ×2, ORD ×1
 * encoder.outputNames()     // ['origin=LAX', 'origin=SFO', 'origin=<other>']
 */
export class OneHotEncoder implements Transformer {
  readonly kind = 'one-hot'
  readonly params: Readonly<Required<OneHotEncoderParams>>
  #valueType: CategoryValueType | undefined
  readonly #counts = new Map<string | number, number>()
  #vocabulary: Vocabulary | undefined
  /** partialFit scratch: dictionary code → count in this batch; grown, never shrunk. */
  #countOfCode = new Int32Array(0)
  /** transform scratch: dictionary code → output slot, valid for `#slotsFor` (its first `#slotsLength` entries). */
  #slotOfCode = new Int32Array(0)
  #slotsFor: readonly string[] | undefined
  #slotsLength = 0

  /** Parameters are checked here rather than at the first fit: the column decides the pipeline's wiring. */
  constructor(params: OneHotEncoderParams) {
    checkColumnName(OWNER, 'column', params?.column)
    const maxCategories = params.maxCategories ?? DEFAULT_MAX_CATEGORIES
    validateParams(OWNER, CONSTRAINTS, { maxCategories })
    this.params = { column: params.column, maxCategories }
  }

  get inputs(): readonly string[] {
    return [this.params.column]
  }

  get isFitted(): boolean {
    return this.#valueType !== undefined
  }

  /** Kept categories plus the "other" slot. */
  get nOutputs(): number {
    return this.#vocab().categories.length + 1
  }

  /** The kept categories in output order (without "other"). */
  get categories(): readonly (string | number)[] {
    return this.#vocab().categories
  }

  /** Exact count of every category seen so far (nulls are not counted). */
  counts(): Map<string | number, number> {
    return new Map(this.#counts)
  }

  partialFit(batch: Batch): void {
    const column = requireColumn(batch, this.params.column, OWNER)
    const valueType: CategoryValueType = column.type === 'string' ? 'string' : 'number'
    this.#checkValueType(valueType)
    const counts = this.#counts
    if (column.type === 'string') {
      const { codes, dictionary } = column
      if (this.#countOfCode.length < dictionary.length) this.#countOfCode = new Int32Array(dictionary.length * 2)
      const perCode = this.#countOfCode
      perCode.fill(0, 0, dictionary.length)
      for (let i = 0; i < batch.length; i++) {
        const code = codes[i]!
        if (code >= 0) perCode[code]!++
      }
      for (let code = 0; code < dictionary.length; code++) {
        const n = perCode[code]!
        if (n === 0) continue
        const key = dictionary[code]!
        counts.set(key, (counts.get(key) ?? 0) + n)
      }
    } else {
      const { values, nulls } = column
      for (let i = 0; i < batch.length; i++) {
        const v = values[i]!
        if (!Number.isFinite(v) || (nulls !== undefined && nulls[i] === 1)) continue
        // Map keys use SameValueZero, so -0 and 0 are one category.
        counts.set(v, (counts.get(v) ?? 0) + 1)
      }
    }
    this.#valueType = valueType
    this.#vocabulary = undefined
    this.#slotsFor = undefined
  }

  merge(other: Transformer): void {
    if (
      !(other instanceof OneHotEncoder) ||
      other.params.column !== this.params.column ||
      other.params.maxCategories !== this.params.maxCategories
    ) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${OWNER} over "${this.params.column}" (maxCategories ${this.params.maxCategories}) can only merge a OneHotEncoder with the same column and maxCategories; got ${describeTransformer(other)}.`,
      )
    }
    if (other.#valueType === undefined) return
    this.#checkValueType(other.#valueType)
    for (const [key, n] of other.#counts) this.#counts.set(key, (this.#counts.get(key) ?? 0) + n)
    this.#valueType = other.#valueType
    this.#vocabulary = undefined
    this.#slotsFor = undefined
  }

  outputNames(): string[] {
    const column = this.params.column
    return [...this.#vocab().categories.map((c) => `${column}=${c}`), `${column}=${OTHER_CATEGORY}`]
  }

  transform(batch: Batch, out: Float32Array, stride: number, offset: number): void {
    const { slotOf, categories } = this.#vocab()
    const other = categories.length
    const width = other + 1
    const column = this.#column(batch)
    if (column.type === 'string') {
      const { codes, dictionary } = column
      const slotOfCode = this.#slots(dictionary, slotOf, other)
      for (let i = 0, base = offset; i < batch.length; i++, base += stride) {
        const code = codes[i]!
        writeIndicator(out, base, width, code < 0 ? other : slotOfCode[code]!)
      }
    } else {
      const { values, nulls } = column
      for (let i = 0, base = offset; i < batch.length; i++, base += stride) {
        writeIndicator(out, base, width, numericSlot(values[i]!, nulls, i, slotOf, other))
      }
    }
  }

  /** One entry per row, always: the row's category slot, or "other" for unknown, rare and null values. */
  get nnzPerRow(): number {
    return 1
  }

  transformSparse(
    batch: Batch,
    indices: Int32Array,
    values: Float32Array,
    nnzStride: number,
    nnzOffset: number,
    colOffset: number,
  ): void {
    const { slotOf, categories } = this.#vocab()
    const other = categories.length
    const column = this.#column(batch)
    if (column.type === 'string') {
      const slotOfCode = this.#slots(column.dictionary, slotOf, other)
      indicatorEntries(column.codes, slotOfCode, other, batch.length, indices, values, nnzStride, nnzOffset, colOffset)
    } else {
      const { values: numbers, nulls } = column
      for (let i = 0, o = nnzOffset; i < batch.length; i++, o += nnzStride) {
        indices[o] = colOffset + numericSlot(numbers[i]!, nulls, i, slotOf, other)
        values[o] = 1
      }
    }
  }

  toJSON(): OneHotEncoderJSON {
    const keys = [...this.#counts.keys()].sort(compareCategories)
    return {
      kind: 'one-hot',
      column: this.params.column,
      maxCategories: this.params.maxCategories,
      valueType: this.#valueType ?? null,
      categories: keys,
      counts: keys.map((k) => this.#counts.get(k)!),
    }
  }

  /** Restores an encoder from {@link OneHotEncoder.toJSON}; throws `ARTIFACT_INVALID` naming a malformed field. */
  static fromJSON(json: TransformerJSON): OneHotEncoder {
    const kind = 'one-hot'
    const maxCategories = json['maxCategories']
    if (typeof maxCategories !== 'number') invalidJSON(kind, 'maxCategories', 'a positive integer')
    const encoder = constructFromJSON(
      kind,
      () => new OneHotEncoder({ column: json['column'] as string, maxCategories }),
    )
    const valueType = json['valueType']
    if (valueType === null || valueType === undefined) return encoder
    if (valueType !== 'string' && valueType !== 'number') invalidJSON(kind, 'valueType', '"string", "number" or null')
    const categories = json['categories']
    const counts = json['counts']
    if (!Array.isArray(categories)) invalidJSON(kind, 'categories', 'an array')
    if (!Array.isArray(counts) || counts.length !== categories.length) {
      invalidJSON(kind, 'counts', `an array as long as categories (${categories.length})`)
    }
    for (let i = 0; i < categories.length; i++) {
      const key: unknown = categories[i]
      const n: unknown = counts[i]
      const keyOk = valueType === 'string' ? typeof key === 'string' : typeof key === 'number' && Number.isFinite(key)
      if (!keyOk) invalidJSON(kind, `categories[${i}]`, valueType === 'string' ? 'a string' : 'a finite number')
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
        invalidJSON(kind, `counts[${i}]`, 'a positive integer')
      if (encoder.#counts.has(key as string | number)) invalidJSON(kind, `categories[${i}]`, 'unique')
      encoder.#counts.set(key as string | number, n)
    }
    encoder.#valueType = valueType
    return encoder
  }

  /** The batch's column, checked against the value type the encoder was fitted on. */
  #column(batch: Batch): Column {
    const column = requireColumn(batch, this.params.column, OWNER)
    if ((column.type === 'string') !== (this.#valueType === 'string')) {
      throw new ScalemlError(
        'INVALID_DATA',
        `${OWNER} was fitted on ${this.#valueType} values of column "${this.params.column}" but the batch holds ${column.type === 'string' ? 'strings' : 'numbers'}.`,
      )
    }
    return column
  }

  #checkValueType(valueType: CategoryValueType): void {
    if (this.#valueType !== undefined && this.#valueType !== valueType) {
      throw new ScalemlError(
        'INVALID_DATA',
        `${OWNER} over "${this.params.column}" was fitted on ${this.#valueType} values and cannot take ${valueType} values.`,
      )
    }
  }

  /**
   * Output slot of every dictionary code, so the row loop only indexes a typed array. Readers that share one
   * dictionary across batches pay for the lookups once; a dictionary that grew in place is resolved again.
   */
  #slots(dictionary: readonly string[], slotOf: ReadonlyMap<string | number, number>, other: number): Int32Array {
    if (this.#slotsFor === dictionary && this.#slotsLength === dictionary.length) return this.#slotOfCode
    if (this.#slotOfCode.length < dictionary.length) this.#slotOfCode = new Int32Array(dictionary.length * 2)
    const slots = this.#slotOfCode
    for (let code = 0; code < dictionary.length; code++) slots[code] = slotOf.get(dictionary[code]!) ?? other
    this.#slotsFor = dictionary
    this.#slotsLength = dictionary.length
    return slots
  }

  #vocab(): Vocabulary {
    if (this.#vocabulary !== undefined) return this.#vocabulary
    if (this.#valueType === undefined) {
      throw new ScalemlError(
        'NOT_FITTED',
        `${OWNER} over "${this.params.column}" is not fitted: call partialFit (or fit the pipeline) before transform.`,
      )
    }
    const ranked = [...this.#counts].sort((a, b) => b[1] - a[1] || compareCategories(a[0], b[0]))
    const categories = ranked
      .slice(0, this.params.maxCategories)
      .map(([key]) => key)
      .sort(compareCategories)
    const slotOf = new Map<string | number, number>(categories.map((key, slot) => [key, slot]))
    this.#vocabulary = { categories, slotOf }
    return this.#vocabulary
  }
}

/** Output slot of numeric row `i`: its category's, or `other` for a null, non-finite or unkept value. */
function numericSlot(
  v: number,
  nulls: Uint8Array | undefined,
  i: number,
  slotOf: ReadonlyMap<string | number, number>,
  other: number,
): number {
  const missing = !Number.isFinite(v) || (nulls !== undefined && nulls[i] === 1)
  return missing ? other : (slotOf.get(v) ?? other)
}

/** Total order on categories independent of locale: numbers numerically, strings by UTF-16 code units. */
function compareCategories(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  const x = String(a)
  const y = String(b)
  return x < y ? -1 : x > y ? 1 : 0
}
