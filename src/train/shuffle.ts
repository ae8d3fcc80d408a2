/**
 * The randomness of the training loop, all derived from one seed: the order segments are read in each epoch and
 * the permutation of the rows of each block (a segment or a window of batches). Every generator is built from
 * `(seed, epoch, block)`, not carried from one block to the next, so a run resumed at any block draws exactly what
 * the uninterrupted run drew without saving generator state. Nothing here reads data.
 * @module
 */
import { Random } from '../core/random.js'
import type { Batch, Column } from '../data/batch.js'
import { takeRows } from '../data/batch.js'

/**
 * How training rows are ordered:
 * - `'none'`: file order, as before (a sorted file gives SGD a drifting stream).
 * - `'window'`: file order, but the rows of each run of `shuffleWindow` consecutive batches are permuted together
 *   (memory: that many batches of raw columns).
 * - `'segments'` (the default of `trainJob`): the data is cut into segments of `segmentRows` rows, read in a new
 *   random order every epoch, and the rows of each run of `shuffleWindow` segments (in that order) are permuted
 *   together, so a batch mixes rows from that many random places of the file (memory: that many segments). Parquet
 *   only; on CSV, which cannot be read from the middle, it permutes the rows of each batch.
 */
export type ShuffleMode = 'none' | 'window' | 'segments'

/** Every shuffle mode, for option parsing. */
export const SHUFFLE_MODES: readonly ShuffleMode[] = ['none', 'window', 'segments']

/** Mixes up to three integers into a 32-bit seed (murmur3's finalizer over a running hash). */
export function mixSeed(seed: number, a: number, b = 0): number {
  let h = seed >>> 0
  for (const v of [a, b]) {
    let k = Math.imul(v >>> 0, 0xcc9e2d51)
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593)
    h ^= k
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) >>> 0
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** Purposes of derived generators, so that two uses of the same (seed, epoch) never share a stream. */
const ORDER_STREAM = 0x6f726472
const ROWS_STREAM = 0x726f7773

/** The order segments are read in during `epoch` (1-based): a seeded permutation of `0 … count−1`. */
export function segmentOrder(seed: number, epoch: number, count: number): Uint32Array {
  return new Random(mixSeed(seed ^ ORDER_STREAM, epoch)).permutation(count)
}

/** The permutation of the `rows` rows of block `block` of `epoch`. */
export function blockPermutation(seed: number, epoch: number, block: number, rows: number): Uint32Array {
  return new Random(mixSeed(seed ^ ROWS_STREAM, epoch, block)).permutation(rows)
}

/**
 * Concatenates batches with the same columns into one. String columns get one dictionary: the first batch's,
 * followed by the values later batches add (codes are remapped, so values read back unchanged).
 */
export function concatBatches(batches: readonly Batch[]): Batch {
  if (batches.length === 1) return batches[0]!
  let length = 0
  for (const b of batches) length += b.length
  const first = batches[0]
  const columns = new Map<string, Column>()
  if (first === undefined) return { length: 0, columns }
  for (const [name, column] of first.columns) {
    if (column.type === 'string') {
      const dictionary: string[] = []
      const index = new Map<string, number>()
      const codes = new Int32Array(length)
      let at = 0
      for (const batch of batches) {
        const part = batch.columns.get(name) as typeof column
        const remap = new Int32Array(part.dictionary.length)
        for (let d = 0; d < part.dictionary.length; d++) {
          const value = part.dictionary[d]!
          let code = index.get(value)
          if (code === undefined) {
            code = dictionary.length
            dictionary.push(value)
            index.set(value, code)
          }
          remap[d] = code
        }
        for (let i = 0; i < batch.length; i++) {
          const c = part.codes[i]!
          codes[at++] = c < 0 ? -1 : remap[c]!
        }
      }
      columns.set(name, { type: 'string', codes, dictionary })
    } else {
      const values = new Float64Array(length)
      let nulls: Uint8Array | undefined
      let at = 0
      for (const batch of batches) {
        const part = batch.columns.get(name) as typeof column
        values.set(part.values.subarray(0, batch.length), at)
        if (part.nulls !== undefined) {
          nulls ??= new Uint8Array(length)
          nulls.set(part.nulls.subarray(0, batch.length), at)
        }
        at += batch.length
      }
      columns.set(name, nulls === undefined ? { type: column.type, values } : { type: column.type, values, nulls })
    }
  }
  return { length, columns }
}

/** `batch` with its rows in the order of the block permutation of `(seed, epoch, block)`. */
export function permuteBlock(batch: Batch, seed: number, epoch: number, block: number): Batch {
  if (batch.length < 2) return batch
  return takeRows(batch, blockPermutation(seed, epoch, block, batch.length))
}
