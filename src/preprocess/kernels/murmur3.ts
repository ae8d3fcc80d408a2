/**
 * MurmurHash3 (x86, 32-bit; Austin Appleby's public-domain algorithm) over bytes and over the UTF-8 encoding of
 * strings, and scikit-learn's `FeatureHasher` map from a hash to a column index and sign. Pure functions; the only
 * state is one module-level scratch buffer that strings are encoded into (JavaScript runs one call at a time per
 * thread, and every worker thread has its own module instance).
 * @module
 */

const C1 = 0xcc9e2d51
const C2 = 0x1b873593

/**
 * MurmurHash3 x86_32 of `bytes[start, end)` with `seed`, as a signed 32-bit integer: the value of scikit-learn's
 * `murmurhash3_32(key, seed, positive=False)` (and of the reference C++ `MurmurHash3_x86_32` read as `int32_t`).
 * `seed` is taken modulo 2^32, so `0xffffffff` and `-1` are the same seed. Allocates nothing.
 *
 * @example
 * murmurhash3_32(new TextEncoder().encode('SFO'), 0) // the hash sklearn's FeatureHasher uses for 'SFO'
 */
export function murmurhash3_32(bytes: Uint8Array, seed = 0, start = 0, end: number = bytes.length): number {
  const length = end - start
  const blocksEnd = start + (length & ~3)
  let h = seed | 0
  let i = start
  for (; i < blocksEnd; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, C2)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  const tail = length & 3
  if (tail !== 0) {
    let k = bytes[i]!
    if (tail > 1) k |= bytes[i + 1]! << 8
    if (tail > 2) k |= bytes[i + 2]! << 16
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, C2)
    h ^= k
  }
  h ^= length
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h | 0
}

const encoder = new TextEncoder()
let scratch = new Uint8Array(1024)

/**
 * {@link murmurhash3_32} of the UTF-8 bytes of `s`, which is what scikit-learn hashes for a `str` feature. A lone
 * UTF-16 surrogate (a string no UTF-8 encoder can encode exactly) is hashed as U+FFFD, as `TextEncoder` writes it;
 * Python refuses to encode such a string, so sklearn has no value to agree with there.
 *
 * Encodes into a reused buffer, so the only allocation is `encodeInto`'s small result object.
 */
export function hashString(s: string, seed = 0): number {
  // A UTF-16 code unit becomes at most 3 UTF-8 bytes (a surrogate pair: 2 units, 4 bytes), so 3 × length always fits.
  const needed = s.length * 3
  if (scratch.length < needed) scratch = new Uint8Array(Math.max(needed, scratch.length * 2))
  const { written } = encoder.encodeInto(s, scratch)
  return murmurhash3_32(scratch, seed, 0, written)
}

/**
 * The column scikit-learn's `FeatureHasher` puts hash `h` in: `abs(h) % nFeatures`. For `h = -2^31`, whose `abs`
 * overflows int32 in sklearn's Cython, sklearn special-cases the result to equal `2^31 % nFeatures`; doubles make
 * that the plain formula here.
 */
export function hashToIndex(h: number, nFeatures: number): number {
  return Math.abs(h) % nFeatures
}

/**
 * The column scikit-learn 1.2.1's `FeatureHasher(n_features=nFeatures, input_type='string')` gives the string `s`
 * (seed 0). Its sign, with `alternate_sign`, is `hashString(s) >= 0 ? +1 : -1`.
 *
 * @example
 * hashStringIndex('SFO', 2 ** 20) // the column of 'SFO' in a 2^20-wide hashed feature space
 */
export function hashStringIndex(s: string, nFeatures: number): number {
  return hashToIndex(hashString(s, 0), nFeatures)
}

/**
 * Hashes `dictionary[start, end)` for `FeatureHasher`: `index[k]` gets the column of `dictionary[k]` and `sign[k]`
 * its value (+1, or -1 for a negative hash when `alternateSign`). Caller-owned outputs, indexed like the dictionary.
 */
export function hashDictionary(
  dictionary: readonly string[],
  start: number,
  end: number,
  nFeatures: number,
  alternateSign: boolean,
  index: Int32Array,
  sign: Float32Array,
): void {
  for (let k = start; k < end; k++) {
    const h = hashString(dictionary[k]!, 0)
    index[k] = hashToIndex(h, nFeatures)
    sign[k] = alternateSign && h < 0 ? -1 : 1
  }
}
