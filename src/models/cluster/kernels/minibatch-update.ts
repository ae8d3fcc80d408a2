/**
 * The mini-batch k-means center update (Sculley 2010, as scikit-learn 1.2.1's `_minibatch_update_dense`):
 * each center is the weighted mean of every row ever assigned to it, kept as a running mean with a per-center
 * weight sum ("count"), so one batch moves center j to
 * `(c_j · count_j + Σ_{r→j} w_r x_r) / (count_j + Σ_{r→j} w_r)` — equivalently
 * `c_j + (x̄_j − c_j) · W_j / (count_j + W_j)` with a learning rate that decays as the center absorbs weight.
 * Pure function over caller-owned buffers; allocates nothing.
 * @module
 */

/**
 * Applies one batch's update in place. `labels[r]` is row r's center (from `assignNearest` against the same
 * centers), `counts` the per-center weight sums, updated in place; `batchWeights` is scratch of `nClusters` values
 * and holds each center's batch weight afterwards. Sample weights must be ≥ 0 (null means 1 each).
 *
 * The arithmetic is scikit-learn's, in its order, so float64 results agree to the last bits: a center that
 * received weight is scaled back to a sum (`c · count`), the rows are added in row order, the count grows, and the
 * sum is multiplied by `1 / count`. A center that received no weight (no rows, or only zero-weight rows) is left
 * untouched.
 */
export function minibatchUpdate(
  X: Float32Array,
  nFeatures: number,
  rows: number,
  sampleWeight: Float64Array | null,
  labels: Int32Array,
  centers: Float64Array,
  counts: Float64Array,
  nClusters: number,
  batchWeights: Float64Array,
): void {
  batchWeights.fill(0, 0, nClusters)
  if (sampleWeight === null) {
    for (let r = 0; r < rows; r++) batchWeights[labels[r]!]! += 1
  } else {
    for (let r = 0; r < rows; r++) batchWeights[labels[r]!]! += sampleWeight[r]!
  }
  for (let j = 0; j < nClusters; j++) {
    if (!(batchWeights[j]! > 0)) continue
    const count = counts[j]!
    const cb = j * nFeatures
    for (let f = 0; f < nFeatures; f++) centers[cb + f]! *= count
  }
  for (let r = 0; r < rows; r++) {
    const j = labels[r]!
    if (!(batchWeights[j]! > 0)) continue
    const w = sampleWeight === null ? 1 : sampleWeight[r]!
    const cb = j * nFeatures
    const xb = r * nFeatures
    for (let f = 0; f < nFeatures; f++) centers[cb + f]! += X[xb + f]! * w
  }
  for (let j = 0; j < nClusters; j++) {
    const wsum = batchWeights[j]!
    if (!(wsum > 0)) continue
    const count = counts[j]! + wsum
    counts[j] = count
    const alpha = 1 / count
    const cb = j * nFeatures
    for (let f = 0; f < nFeatures; f++) centers[cb + f]! *= alpha
  }
}
