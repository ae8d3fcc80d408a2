/**
 * HyperLogLog distinct counting: a fixed-size, mergeable sketch (Flajolet et al. 2007) with the improved raw
 * estimator of Ertl ("New cardinality estimation algorithms for HyperLogLog sketches", 2017), which is unbiased
 * from one value to billions without HLL++'s empirical bias tables.
 *
 * Standard error ≈ 1.04 / √m for m = 2^precision registers: 0.81% at the default precision 14 (16 KiB).
 * Each value is hashed to 64 bits: the top `precision` bits of the first word pick the register, the leading zeros of
 * the second word give the rank, so ranks go to 33 and the sketch stays accurate far beyond 2^32 values.
 * Merging (register-wise max) gives exactly the sketch of the union, so shards can be sketched apart and combined.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'

/** Smallest and largest supported precision. */
export const HLL_MIN_PRECISION = 4
export const HLL_MAX_PRECISION = 18

/** Rank bits: the rank comes from a full 32-bit word, so registers hold 0..RANK_BITS + 1. */
const RANK_BITS = 32

/** The JSON form of a sketch. */
export interface HyperLogLogJSON {
  readonly precision: number
  /** Registers as base64. */
  readonly registers: string
}

const scratch = new Float64Array(1)
const scratchWords = new Uint32Array(scratch.buffer)

/** A HyperLogLog sketch. */
export class HyperLogLog {
  readonly precision: number
  readonly #registers: Uint8Array

  /** @param precision log2 of the register count, 4..18 (default 14). */
  constructor(precision = 14) {
    if (!Number.isInteger(precision) || precision < HLL_MIN_PRECISION || precision > HLL_MAX_PRECISION) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `HyperLogLog precision must be an integer in [${HLL_MIN_PRECISION}, ${HLL_MAX_PRECISION}], got ${precision}`,
      )
    }
    this.precision = precision
    this.#registers = new Uint8Array(1 << precision)
  }

  /** The relative standard error of estimates at `precision`: 1.04 / √(2^precision). */
  static standardError(precision: number): number {
    return 1.04 / Math.sqrt(2 ** precision)
  }

  /** The relative standard error of this sketch's estimates. */
  get standardError(): number {
    return HyperLogLog.standardError(this.precision)
  }

  /** Adds a value given by its 64-bit hash as two unsigned 32-bit words. */
  addHash(high: number, low: number): void {
    const index = high >>> (32 - this.precision)
    const rank = Math.clz32(low) + 1
    if (rank > this.#registers[index]!) this.#registers[index] = rank
  }

  /** Adds a number; 0 and -0 are one value, and so are all NaNs. */
  addNumber(value: number): void {
    scratch[0] = value === 0 ? 0 : Number.isNaN(value) ? Number.NaN : value
    const lo = scratchWords[0]!
    const hi = scratchWords[1]!
    this.addHash(mix32(lo ^ mix32(hi ^ 0x9e3779b9)), mix32(hi ^ mix32(lo ^ 0x85ebca6b) ^ 0x27d4eb2f))
  }

  /** Adds a string (hashed over its UTF-16 code units). */
  addString(value: string): void {
    let a = 0x811c9dc5 ^ value.length
    let b = 0x1b873593 ^ Math.imul(value.length, 0x9e3779b1)
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i)
      a = Math.imul(a ^ c, 0x01000193)
      b = Math.imul(((b ^ c) << 13) | ((b ^ c) >>> 19), 5) + 0xe6546b64
    }
    this.addHash(mix32(a ^ 0x2545f491), mix32(b ^ mix32(a)))
  }

  /** Folds `other` (same precision) into this sketch, which becomes the sketch of the union. Returns `this`. */
  merge(other: HyperLogLog): this {
    if (other.precision !== this.precision) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `cannot merge HyperLogLog sketches of precision ${this.precision} and ${other.precision}`,
      )
    }
    const mine = this.#registers
    const theirs = other.#registers
    for (let i = 0; i < mine.length; i++) if (theirs[i]! > mine[i]!) mine[i] = theirs[i]!
    return this
  }

  /** The estimated number of distinct values added. */
  estimate(): number {
    const m = this.#registers.length
    const counts = new Float64Array(RANK_BITS + 2)
    for (const r of this.#registers) counts[r]!++
    let z = m * tau(1 - counts[RANK_BITS + 1]! / m)
    for (let k = RANK_BITS; k >= 1; k--) z = 0.5 * (z + counts[k]!)
    z += m * sigma(counts[0]! / m)
    return (m * m) / (2 * Math.LN2 * z)
  }

  /** A copy of the registers (tests, diagnostics). */
  registers(): Uint8Array {
    return this.#registers.slice()
  }

  /** Serializes the sketch. */
  toJSON(): HyperLogLogJSON {
    return { precision: this.precision, registers: Buffer.from(this.#registers).toString('base64') }
  }

  /** Restores a sketch serialized by {@link HyperLogLog.toJSON}. */
  static fromJSON(json: HyperLogLogJSON): HyperLogLog {
    const sketch = new HyperLogLog(json.precision)
    const bytes = Buffer.from(json.registers, 'base64')
    if (bytes.length !== sketch.#registers.length || bytes.some((r) => r > RANK_BITS + 1)) {
      throw new ScalemlError(
        'INVALID_INPUT',
        `HyperLogLog registers do not match precision ${json.precision}: expected ${sketch.#registers.length} ` +
          `bytes of at most ${RANK_BITS + 1}, got ${bytes.length}`,
      )
    }
    sketch.#registers.set(bytes)
    return sketch
  }
}

/** A 32-bit integer hash finalizer with good avalanche (lowbias32, C. Wellons). */
export function mix32(x: number): number {
  x ^= x >>> 16
  x = Math.imul(x, 0x7feb352d)
  x ^= x >>> 15
  x = Math.imul(x, 0x846ca68b)
  x ^= x >>> 16
  return x >>> 0
}

// Ertl's σ and τ series (2017, Algorithm 6): they replace the empty-register and saturated-register corrections.
function sigma(x: number): number {
  if (x === 1) return Number.POSITIVE_INFINITY
  let y = 1
  let z = x
  for (;;) {
    x *= x
    const previous = z
    z += x * y
    y += y
    if (z === previous) return z
  }
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0
  let y = 1
  let z = 1 - x
  for (;;) {
    x = Math.sqrt(x)
    const previous = z
    y *= 0.5
    z -= (1 - x) ** 2 * y
    if (z === previous) return z / 3
  }
}
