/**
 * Seeded pseudo-random numbers (xoshiro128**, seeded through splitmix32) so that every shuffle, split and init is
 * reproducible from one integer seed.
 * @module
 */

function splitmix32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

/** A small, fast, seedable generator. State is four 32-bit words and can be saved and restored. */
export class Random {
  readonly #s = new Uint32Array(4)

  constructor(seed = 0) {
    const next = splitmix32(seed)
    for (let i = 0; i < 4; i++) this.#s[i] = next()
  }

  /** The next unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.#s
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0
    const t = (s[1]! << 9) >>> 0
    s[2]! ^= s[0]!
    s[3]! ^= s[1]!
    s[1]! ^= s[2]!
    s[0]! ^= s[3]!
    s[2]! ^= t
    s[3] = rotl(s[3]!, 11)
    return result
  }

  /** A float in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5
    const lo = this.nextUint32() >>> 6
    return (hi * 67108864 + lo) / 9007199254740992
  }

  /** An integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** Shuffles `array[start..end)` in place (Fisher–Yates). */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T, start = 0, end = array.length): T {
    for (let i = end - 1; i > start; i--) {
      const j = start + this.nextInt(i - start + 1)
      const tmp = array[i]
      array[i] = array[j]
      array[j] = tmp
    }
    return array
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): Uint32Array {
    const out = new Uint32Array(n)
    for (let i = 0; i < n; i++) out[i] = i
    return this.shuffle(out)
  }

  /** Saves the generator state. */
  getState(): number[] {
    return Array.from(this.#s)
  }

  /** Restores a state saved by `getState`. */
  setState(state: readonly number[]): void {
    for (let i = 0; i < 4; i++) this.#s[i] = (state[i] ?? 0) >>> 0
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}

/** A deterministic hash of (seed, index) to [0, 1), used for splits that must not depend on batch boundaries. */
export function hashToUnit(seed: number, index: number): number {
  let h = (Math.imul(index ^ 0x5bd1e995, 0x9e3779b1) ^ seed) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0
  h = (h ^ (h >>> 16)) >>> 0
  // Mix in the high part of large indices so row 2^32 + k differs from row k.
  const high = Math.floor(index / 4294967296)
  if (high !== 0) h = (Math.imul(h ^ high, 0x27d4eb2f) ^ (h >>> 15)) >>> 0
  return h / 4294967296
}
