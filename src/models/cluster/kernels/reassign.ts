/**
 * Random reassignment of starved centers (scikit-learn 1.2.1's `_mini_batch_step`): a center whose weight sum is
 * below `ratio × the largest weight sum` has stopped attracting rows, so it jumps to a uniformly drawn row of the
 * current batch, and its weight sum is raised to the smallest kept one so that it is not reassigned again at once.
 * Draws from scaleml's seeded `Random` (not NumPy's). Caller-owned buffers; no allocation.
 * @module
 */
import type { Random } from '../../../core/random.js'

/** Scratch for {@link reassignStarvedCenters}, each of at least `nClusters` entries. */
export interface ReassignScratch {
  readonly flags: Uint8Array
  readonly order: Int32Array
  readonly picked: Int32Array
}

/** Allocates the scratch for `nClusters` centers. */
export function createReassignScratch(nClusters: number): ReassignScratch {
  return { flags: new Uint8Array(nClusters), order: new Int32Array(nClusters), picked: new Int32Array(nClusters) }
}

/**
 * Moves every center with `counts[j] < ratio · max(counts)` to a distinct uniformly drawn row of `X` (`rows ≥ 1`),
 * at most `⌊rows / 2⌋` of them (the lowest counts first, as scikit-learn), and sets their counts to the smallest
 * count among the centers kept. With `ratio ≤ 1` the center of largest count is always kept. Returns how many
 * centers moved.
 */
export function reassignStarvedCenters(
  X: Float32Array,
  nFeatures: number,
  rows: number,
  centers: Float64Array,
  counts: Float64Array,
  nClusters: number,
  ratio: number,
  random: Random,
  scratch: ReassignScratch,
): number {
  const { flags, order, picked } = scratch
  let max = 0
  for (let j = 0; j < nClusters; j++) if (counts[j]! > max) max = counts[j]!
  const threshold = ratio * max
  let n = 0
  for (let j = 0; j < nClusters; j++) {
    const low = counts[j]! < threshold ? 1 : 0
    flags[j] = low
    n += low
  }
  if (n > 0.5 * rows) {
    // Keep only the ⌊rows/2⌋ lowest counts eligible; ties by index, so the choice is deterministic.
    for (let j = 0; j < nClusters; j++) order[j] = j
    for (let i = 1; i < nClusters; i++) {
      const v = order[i]!
      let p = i - 1
      while (p >= 0 && counts[order[p]!]! > counts[v]!) {
        order[p + 1] = order[p]!
        p--
      }
      order[p + 1] = v
    }
    const limit = Math.floor(0.5 * rows)
    for (let p = limit; p < nClusters; p++) flags[order[p]!] = 0
    n = 0
    for (let j = 0; j < nClusters; j++) n += flags[j]!
  }
  if (n === 0) return 0
  // n ≤ rows / 2 distinct rows by rejection: each draw succeeds with probability ≥ 1/2.
  for (let m = 0; m < n; m++) {
    let row: number
    let taken: boolean
    do {
      row = random.nextInt(rows)
      taken = false
      for (let q = 0; q < m; q++) if (picked[q] === row) taken = true
    } while (taken)
    picked[m] = row
  }
  let minKept = Number.POSITIVE_INFINITY
  for (let j = 0; j < nClusters; j++) if (flags[j] === 0 && counts[j]! < minKept) minKept = counts[j]!
  let m = 0
  for (let j = 0; j < nClusters; j++) {
    if (flags[j] === 0) continue
    const xb = picked[m++]! * nFeatures
    const cb = j * nFeatures
    for (let f = 0; f < nFeatures; f++) centers[cb + f] = X[xb + f]!
    counts[j] = minKept
  }
  return n
}
