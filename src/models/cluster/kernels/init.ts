/**
 * Initial k-means centers drawn from rows: greedy k-means++ (Arthur & Vassilvitskii 2007, with scikit-learn's
 * `2 + ⌊ln k⌋` local trials per center) and uniform distinct rows. Both draw from scaleml's seeded `Random`, so
 * they are reproducible from the seed but do not pick the rows NumPy would. Caller-owned buffers; no allocation.
 * @module
 */
import type { Random } from '../../../core/random.js'
import { minSquaredDistancesToPoint } from './distances.js'

/** scikit-learn's number of candidates tried per k-means++ center: `2 + ⌊ln k⌋`. */
export function localTrials(nClusters: number): number {
  return 2 + Math.floor(Math.log(nClusters))
}

/** Scratch for {@link kmeansPlusPlus} over `rows` rows of `nFeatures` features with `nClusters` centers. */
export interface KmeansPlusPlusScratch {
  /** Squared distance of each row to its nearest chosen center. */
  readonly closest: Float64Array
  /** Prefix sums of `closest`. */
  readonly cumulative: Float64Array
  /** `closest` updated with each candidate, `trials × rows`. */
  readonly candidateClosest: Float64Array
  readonly candidateRows: Int32Array
  readonly candidatePotential: Float64Array
  readonly point: Float64Array
}

/** Allocates the scratch {@link kmeansPlusPlus} needs. */
export function createKmeansPlusPlusScratch(rows: number, nFeatures: number, nClusters: number): KmeansPlusPlusScratch {
  const trials = localTrials(nClusters)
  return {
    closest: new Float64Array(rows),
    cumulative: new Float64Array(rows),
    candidateClosest: new Float64Array(trials * rows),
    candidateRows: new Int32Array(trials),
    candidatePotential: new Float64Array(trials),
    point: new Float64Array(nFeatures),
  }
}

function copyRow(X: Float32Array, nFeatures: number, row: number, out: Float64Array, outOffset: number): void {
  const xb = row * nFeatures
  for (let f = 0; f < nFeatures; f++) out[outOffset + f] = X[xb + f]!
}

/** First index i with `cumulative[i] >= value` (NumPy's `searchsorted`, side 'left'), clipped to `rows - 1`. */
function searchLeft(cumulative: Float64Array, rows: number, value: number): number {
  let lo = 0
  let hi = rows
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (cumulative[mid]! < value) lo = mid + 1
    else hi = mid
  }
  return lo < rows ? lo : rows - 1
}

/**
 * Greedy k-means++ over `rows ≥ 1` rows: the first center is a uniform row; each next one is the best (lowest
 * resulting potential Σ min-squared-distance) of `localTrials(nClusters)` rows drawn with probability proportional
 * to their squared distance to the nearest center so far. Writes the centers (`nClusters × nFeatures`) into
 * `centers` and the chosen row indices into `chosen`. Rows that coincide with a chosen center have probability 0,
 * so the centers are distinct whenever the rows hold `nClusters` distinct points.
 */
export function kmeansPlusPlus(
  X: Float32Array,
  nFeatures: number,
  rows: number,
  nClusters: number,
  random: Random,
  centers: Float64Array,
  chosen: Int32Array,
  scratch: KmeansPlusPlusScratch,
): void {
  const { closest, cumulative, candidateClosest, candidateRows, candidatePotential, point } = scratch
  const trials = localTrials(nClusters)
  const first = random.nextInt(rows)
  chosen[0] = first
  copyRow(X, nFeatures, first, centers, 0)
  copyRow(X, nFeatures, first, point, 0)
  let potential = minSquaredDistancesToPoint(X, nFeatures, rows, point, null, closest, 0)
  for (let c = 1; c < nClusters; c++) {
    let running = 0
    for (let r = 0; r < rows; r++) {
      running += closest[r]!
      cumulative[r] = running
    }
    let best = 0
    for (let t = 0; t < trials; t++) {
      const row = searchLeft(cumulative, rows, random.next() * potential)
      candidateRows[t] = row
      copyRow(X, nFeatures, row, point, 0)
      candidatePotential[t] = minSquaredDistancesToPoint(X, nFeatures, rows, point, closest, candidateClosest, t * rows)
      if (candidatePotential[t]! < candidatePotential[best]!) best = t
    }
    potential = candidatePotential[best]!
    const from = best * rows
    for (let r = 0; r < rows; r++) closest[r] = candidateClosest[from + r]!
    const row = candidateRows[best]!
    chosen[c] = row
    copyRow(X, nFeatures, row, centers, c * nFeatures)
  }
}

/**
 * `nClusters` distinct uniform rows as centers (scikit-learn's `init='random'`: the first `nClusters` of a random
 * permutation). `order` is scratch of at least `rows` entries; needs `rows ≥ nClusters`.
 */
export function randomRows(
  X: Float32Array,
  nFeatures: number,
  rows: number,
  nClusters: number,
  random: Random,
  centers: Float64Array,
  chosen: Int32Array,
  order: Int32Array,
): void {
  for (let r = 0; r < rows; r++) order[r] = r
  // A partial Fisher–Yates: only the first nClusters positions need to be drawn.
  for (let c = 0; c < nClusters; c++) {
    const j = c + random.nextInt(rows - c)
    const tmp = order[c]!
    order[c] = order[j]!
    order[j] = tmp
    chosen[c] = order[c]!
    copyRow(X, nFeatures, order[c]!, centers, c * nFeatures)
  }
}
