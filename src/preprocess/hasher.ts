/**
 * The hashing trick for one string column: each value goes to column `abs(h) % nFeatures` of a fixed-width feature
 * space, with value `+1` (or `-1` when `alternateSign` and the hash is negative), where `h` is the signed 32-bit
 * MurmurHash3 (seed 0) of the value's UTF-8 bytes. Exactly scikit-learn 1.2.1's
 * `FeatureHasher(n_features, input_type='string', alternate_sign)` applied to one-string samples `[[s] for s in col]`.
 *
 * Stateless: nothing is learned, so it is fitted from construction, `partialFit` only checks the column, and shards
 * merge when their parameters agree. A value never seen in training still gets its column, which is why it suits
 * high-cardinality columns (ids, free-text tokens) where one-hot would need a vocabulary.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Constraints } from '../core/params.js'
import { bool, int, validateParams } from '../core/params.js'
import type { Batch, StringColumn } from '../data/batch.js'
import { checkColumnName, constructFromJSON, describeTransformer, invalidJSON, requireColumn } from './columns.js'
import { hashDictionary } from './kernels/murmur3.js'
import type { Transformer, TransformerJSON } from './transformer.js'

/** Hyperparameters of {@link FeatureHasher}. */
export interface FeatureHasherParams {
  /** The string column to hash. */
  readonly column: string
  /** Width of the hashed feature space (default 2^20, as sklearn); an int in [1, 2^31 − 1]. */
  readonly nFeatures?: number
  /** Give half the hash space value −1 so collisions tend to cancel in inner products (default true, as sklearn). */
  readonly alternateSign?: boolean
}

/** Serialized {@link FeatureHasher}: only its parameters, since it learns nothing. */
export interface FeatureHasherJSON extends TransformerJSON {
  readonly kind: 'feature-hasher'
  readonly column: string
  readonly nFeatures: number
  readonly alternateSign: boolean
}

/** Per-row result of {@link FeatureHasher.hashIndices}: the one nonzero column of each row and its value. */
export interface HashedRows {
  /** Column of row i's nonzero, or −1 for a null row (which has no nonzero). */
  readonly index: Int32Array
  /** Value at that column: +1 or −1; 0 for a null row. */
  readonly sign: Float32Array
}

/** Default of {@link FeatureHasherParams.nFeatures}, as in scikit-learn. */
export const DEFAULT_N_FEATURES = 2 ** 20

/** Constraint table of {@link FeatureHasher}'s numeric and boolean parameters (sklearn's bounds). */
export const FEATURE_HASHER_CONSTRAINTS = {
  nFeatures: int({ min: 1, max: 2 ** 31 - 1 }),
  alternateSign: bool(),
} satisfies Constraints<Omit<FeatureHasherParams, 'column'>>

const OWNER = 'FeatureHasher'

/**
 * Hashes a string column into `nFeatures` signed indicator features.
 *
 * `transform` writes the dense row (all zeros but one ±1, all zeros for a null); a 2^18- or 2^20-wide dense row is
 * large, so a sparse consumer should call `transformSparse` (through `Pipeline.transformSparse`) or
 * {@link FeatureHasher.hashIndices} instead, which give the one (column, value) pair of every row.
 *
 * @example
 * const hasher = new FeatureHasher({ column: 'origin', nFeatures: 2 ** 18 })
 * const { index, sign } = hasher.hashIndices(batch) // row i: value sign[i] at column index[i] (−1 when null)
 */
export class FeatureHasher implements Transformer {
  readonly kind = 'feature-hasher'
  readonly params: Readonly<Required<FeatureHasherParams>>
  /** Column and sign of every dictionary code of `#hashedFor` (its first `#hashedLength` entries). */
  #codeIndex = new Int32Array(0)
  #codeSign = new Float32Array(0)
  #hashedFor: readonly string[] | undefined
  #hashedLength = 0

  /** Parameters are checked here rather than at the first fit: `nFeatures` decides the pipeline's wiring. */
  constructor(params: FeatureHasherParams) {
    checkColumnName(OWNER, 'column', params?.column)
    const nFeatures = params.nFeatures ?? DEFAULT_N_FEATURES
    const alternateSign = params.alternateSign ?? true
    validateParams(OWNER, FEATURE_HASHER_CONSTRAINTS, { nFeatures, alternateSign })
    this.params = { column: params.column, nFeatures, alternateSign }
  }

  get inputs(): readonly string[] {
    return [this.params.column]
  }

  /** Always true: there is nothing to learn. */
  get isFitted(): boolean {
    return true
  }

  get nOutputs(): number {
    return this.params.nFeatures
  }

  /** Learns nothing; checks that the batch has the column and that it holds strings. */
  partialFit(batch: Batch): void {
    this.#stringColumn(batch)
  }

  /** Accepts only a FeatureHasher with the same parameters (then there is nothing to combine). */
  merge(other: Transformer): void {
    const same =
      other instanceof FeatureHasher &&
      other.params.column === this.params.column &&
      other.params.nFeatures === this.params.nFeatures &&
      other.params.alternateSign === this.params.alternateSign
    if (!same) {
      const { column, nFeatures, alternateSign } = this.params
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${OWNER} over "${column}" (nFeatures ${nFeatures}, alternateSign ${alternateSign}) can only merge a FeatureHasher with the same column, nFeatures and alternateSign; got ${describeMergeCandidate(other)}.`,
      )
    }
  }

  /** `column#0` … `column#(nFeatures − 1)`; builds `nFeatures` strings, so ask only when names are needed. */
  outputNames(): string[] {
    const column = this.params.column
    return Array.from({ length: this.params.nFeatures }, (_, k) => `${column}#${k}`)
  }

  transform(batch: Batch, out: Float32Array, stride: number, offset: number): void {
    const { codes, dictionary } = this.#stringColumn(batch)
    this.#hashDictionary(dictionary)
    const index = this.#codeIndex
    const sign = this.#codeSign
    const width = this.params.nFeatures
    for (let i = 0, base = offset; i < batch.length; i++, base += stride) {
      // Every position is written because the caller may hand in a reused buffer.
      out.fill(0, base, base + width)
      const code = codes[i]!
      if (code >= 0) out[base + index[code]!] = sign[code]!
    }
  }

  /** One entry per row, always: the hashed column with its sign, or a 0 at column 0 for a null. */
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
    const { codes, dictionary } = this.#stringColumn(batch)
    this.#hashDictionary(dictionary)
    const codeIndex = this.#codeIndex
    const codeSign = this.#codeSign
    for (let i = 0, o = nnzOffset; i < batch.length; i++, o += nnzStride) {
      const code = codes[i]!
      // A null row has no nonzero; the fixed entry count still needs an entry, so it is an explicit 0.
      indices[o] = colOffset + (code < 0 ? 0 : codeIndex[code]!)
      values[o] = code < 0 ? 0 : codeSign[code]!
    }
  }

  /**
   * The one nonzero of every row, for sparse consumers: `index[i]` is row i's column (−1 for null) and `sign[i]` its
   * value (±1; 0 for null). Writes into `into` when given (each array at least `batch.length` long, caller-owned, so
   * a reader can reuse them across batches), else into new arrays of `batch.length`.
   */
  hashIndices(batch: Batch, into?: HashedRows): HashedRows {
    const { codes, dictionary } = this.#stringColumn(batch)
    const n = batch.length
    if (into !== undefined && (into.index.length < n || into.sign.length < n)) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${OWNER}.hashIndices needs output arrays of at least ${n} entries (the batch length); got index ${into.index.length} and sign ${into.sign.length}.`,
      )
    }
    const out = into ?? { index: new Int32Array(n), sign: new Float32Array(n) }
    this.#hashDictionary(dictionary)
    const codeIndex = this.#codeIndex
    const codeSign = this.#codeSign
    const { index, sign } = out
    for (let i = 0; i < n; i++) {
      const code = codes[i]!
      if (code < 0) {
        index[i] = -1
        sign[i] = 0
      } else {
        index[i] = codeIndex[code]!
        sign[i] = codeSign[code]!
      }
    }
    return out
  }

  toJSON(): FeatureHasherJSON {
    const { column, nFeatures, alternateSign } = this.params
    return { kind: 'feature-hasher', column, nFeatures, alternateSign }
  }

  /** Restores a hasher from {@link FeatureHasher.toJSON}; throws `ARTIFACT_INVALID` naming a malformed field. */
  static fromJSON(json: TransformerJSON): FeatureHasher {
    const kind = 'feature-hasher'
    const nFeatures = json['nFeatures']
    const alternateSign = json['alternateSign']
    if (typeof nFeatures !== 'number') invalidJSON(kind, 'nFeatures', 'an integer in [1, 2147483647]')
    if (typeof alternateSign !== 'boolean') invalidJSON(kind, 'alternateSign', 'a boolean')
    return constructFromJSON(
      kind,
      () => new FeatureHasher({ column: json['column'] as string, nFeatures, alternateSign }),
    )
  }

  #stringColumn(batch: Batch): StringColumn {
    const column = requireColumn(batch, this.params.column, OWNER)
    if (column.type !== 'string') {
      throw new ScalemlError(
        'INVALID_DATA',
        `${OWNER} hashes strings, but column "${this.params.column}" holds ${column.type} values.`,
      )
    }
    return column
  }

  /**
   * Hashes each dictionary entry once, so the row loops only index typed arrays. A dictionary shared across batches
   * (sliced batches) is hashed once; one that grew in place since is hashed only for its new entries.
   */
  #hashDictionary(dictionary: readonly string[]): void {
    const length = dictionary.length
    const same = this.#hashedFor === dictionary
    if (same && this.#hashedLength === length) return
    const from = same && this.#hashedLength < length ? this.#hashedLength : 0
    if (this.#codeIndex.length < length) {
      const index = new Int32Array(length * 2)
      const sign = new Float32Array(length * 2)
      index.set(this.#codeIndex.subarray(0, from))
      sign.set(this.#codeSign.subarray(0, from))
      this.#codeIndex = index
      this.#codeSign = sign
    }
    const { nFeatures, alternateSign } = this.params
    hashDictionary(dictionary, from, length, nFeatures, alternateSign, this.#codeIndex, this.#codeSign)
    this.#hashedFor = dictionary
    this.#hashedLength = length
  }
}

function describeMergeCandidate(other: Transformer): string {
  if (!(other instanceof FeatureHasher)) return describeTransformer(other)
  const { column, nFeatures, alternateSign } = other.params
  return `FeatureHasher over "${column}" (nFeatures ${nFeatures}, alternateSign ${alternateSign})`
}
