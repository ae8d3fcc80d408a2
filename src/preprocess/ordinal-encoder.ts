/**
 * Ordinal encoding of one categorical column: each of the `maxCategories` most frequent values gets an integer
 * code, every other value (rare, never seen) one shared "other" code, and a null NaN (missing). This is the input
 * tree models split on natively (one feature per column, categories partitioned by the tree), where a linear model
 * needs one-hot indicators. The vocabulary is learned exactly as {@link OneHotEncoder}'s (exact counts, same
 * ranking and order), which it delegates to, so both encoders keep the same categories for the same data.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Batch } from '../data/batch.js'
import { describeTransformer, invalidJSON, requireColumn } from './columns.js'
import { DEFAULT_MAX_CATEGORIES, OneHotEncoder, type OneHotEncoderJSON } from './one-hot-encoder.js'
import type { Transformer, TransformerJSON } from './transformer.js'

/** Hyperparameters of {@link OrdinalEncoder}. */
export interface OrdinalEncoderParams {
  /** The categorical column (strings, or numbers used as labels). */
  readonly column: string
  /** How many of the most frequent categories get their own code (default 256); the rest share the "other" code. */
  readonly maxCategories?: number
}

/** Serialized {@link OrdinalEncoder}: the vocabulary's counts, as {@link OneHotEncoderJSON} holds them. */
export interface OrdinalEncoderJSON extends TransformerJSON {
  readonly kind: 'ordinal'
  readonly vocabulary: OneHotEncoderJSON
}

const OWNER = 'OrdinalEncoder'

/**
 * Encodes a categorical column as one feature holding a category code.
 *
 * Codes `0 … k−1` are the kept categories in category order (string order by UTF-16 code units, numeric order for
 * numbers); code `k` ("other") is every unkept or unseen value; null and non-finite numbers are NaN.
 *
 * @example
 * const encoder = new OrdinalEncoder({ column: 'origin', maxCategories: 2 })
 * encoder.partialFit(batch) // origin: SFO ×3, LAX ×2, ORD ×1
 * encoder.categories        // ['LAX', 'SFO']: LAX → 0, SFO → 1, ORD and unseen → 2, null → NaN
 */
export class OrdinalEncoder implements Transformer {
  readonly kind = 'ordinal'
  readonly params: Readonly<Required<OrdinalEncoderParams>>
  readonly #vocabulary: OneHotEncoder
  /** transform scratch: dictionary code → category code, valid for `#codesFor` (its first `#codesLength` entries). */
  #codeOfEntry = new Float32Array(0)
  #codesFor: readonly string[] | undefined
  #codesLength = 0
  #codeOf: ReadonlyMap<string | number, number> | undefined

  constructor(params: OrdinalEncoderParams) {
    this.#vocabulary = new OneHotEncoder({
      column: params?.column,
      maxCategories: params?.maxCategories ?? DEFAULT_MAX_CATEGORIES,
    })
    this.params = this.#vocabulary.params
  }

  get inputs(): readonly string[] {
    return [this.params.column]
  }

  get isFitted(): boolean {
    return this.#vocabulary.isFitted
  }

  /** One feature: the code. */
  get nOutputs(): number {
    return 1
  }

  /** The kept categories; category `categories[c]` has code `c`, and `categories.length` is "other". */
  get categories(): readonly (string | number)[] {
    return this.#vocabulary.categories
  }

  partialFit(batch: Batch): void {
    this.#vocabulary.partialFit(batch)
    this.#forget()
  }

  merge(other: Transformer): void {
    if (!(other instanceof OrdinalEncoder)) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${OWNER} over "${this.params.column}" can only merge an OrdinalEncoder; got ${describeTransformer(other)}.`,
      )
    }
    this.#vocabulary.merge(other.#vocabulary)
    this.#forget()
  }

  outputNames(): string[] {
    return [this.params.column]
  }

  transform(batch: Batch, out: Float32Array, stride: number, offset: number): void {
    const codeOf = this.#codes()
    const other = this.categories.length
    const column = requireColumn(batch, this.params.column, OWNER)
    if (column.type === 'string') {
      if (typeof this.categories[0] === 'number') throw this.#wrongType('strings')
      const { codes, dictionary } = column
      const codeOfEntry = this.#entries(dictionary, codeOf, other)
      for (let i = 0, at = offset; i < batch.length; i++, at += stride) {
        const entry = codes[i]!
        out[at] = entry < 0 ? Number.NaN : codeOfEntry[entry]!
      }
      return
    }
    if (typeof this.categories[0] === 'string') throw this.#wrongType('numbers')
    const { values, nulls } = column
    for (let i = 0, at = offset; i < batch.length; i++, at += stride) {
      const v = values[i]!
      const missing = !Number.isFinite(v) || (nulls !== undefined && nulls[i] === 1)
      out[at] = missing ? Number.NaN : (codeOf.get(v) ?? other)
    }
  }

  toJSON(): OrdinalEncoderJSON {
    return { kind: 'ordinal', vocabulary: this.#vocabulary.toJSON() }
  }

  /** Restores an encoder from {@link OrdinalEncoder.toJSON}; throws `ARTIFACT_INVALID` naming a malformed field. */
  static fromJSON(json: TransformerJSON): OrdinalEncoder {
    const vocabulary = json['vocabulary']
    if (typeof vocabulary !== 'object' || vocabulary === null || Array.isArray(vocabulary)) {
      invalidJSON('ordinal', 'vocabulary', 'an object')
    }
    const inner = OneHotEncoder.fromJSON(vocabulary as TransformerJSON)
    const encoder = new OrdinalEncoder({ column: inner.params.column, maxCategories: inner.params.maxCategories })
    encoder.#vocabulary.merge(inner)
    return encoder
  }

  #forget(): void {
    this.#codeOf = undefined
    this.#codesFor = undefined
  }

  #codes(): ReadonlyMap<string | number, number> {
    if (this.#codeOf === undefined) this.#codeOf = new Map(this.categories.map((key, code) => [key, code]))
    return this.#codeOf
  }

  /** Category code of every dictionary entry, so the row loop only indexes a typed array. */
  #entries(dictionary: readonly string[], codeOf: ReadonlyMap<string | number, number>, other: number): Float32Array {
    if (this.#codesFor === dictionary && this.#codesLength === dictionary.length) return this.#codeOfEntry
    if (this.#codeOfEntry.length < dictionary.length) this.#codeOfEntry = new Float32Array(dictionary.length * 2)
    const table = this.#codeOfEntry
    for (let entry = 0; entry < dictionary.length; entry++) table[entry] = codeOf.get(dictionary[entry]!) ?? other
    this.#codesFor = dictionary
    this.#codesLength = dictionary.length
    return table
  }

  #wrongType(got: 'strings' | 'numbers'): ScalemlError {
    return new ScalemlError(
      'INVALID_DATA',
      `${OWNER} over "${this.params.column}" was fitted on ${got === 'strings' ? 'numbers' : 'strings'} but the batch holds ${got}.`,
    )
  }
}
