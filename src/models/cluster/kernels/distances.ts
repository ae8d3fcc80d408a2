/**
 * Distance kernels of k-means over row-major float32 rows and float64 centers: nearest-center assignment, the
 * weighted sum of squared distances to the nearest center (inertia), and the full row × center distance table.
 * Pure functions over caller-owned buffers; they allocate nothing and know nothing of models.
 * @module
 */

/** Writes `‖c_j‖²` of every center (`nClusters × nFeatures` row-major) into `out[j]`. */
export function centerSquaredNorms(
  centers: Float64Array,
  nFeatures: number,
  nClusters: number,
  out: Float64Array,
): void {
  for (let j = 0; j < nClusters; j++) {
    const base = j * nFeatures
    let s = 0
    for (let f = 0; f < nFeatures; f++) {
      const c = centers[base + f]!
      s += c * c
    }
    out[j] = s
  }
}

/**
 * Index of the center nearest to row `r`. Ranks centers by `‖c‖² − 2·x·c` (the squared distance less the row's own
 * `‖x‖²`, which does not change the ranking), as scikit-learn's `_labels_inertia` does; ties go to the lowest index.
 * Four centers share each pass over the row's features: four independent dot products keep the CPU's pipelines busy
 * where one accumulator would wait on its own additions (measured ~1.4× faster on 4 features × 8 centers). Each dot
 * product still sums its features in order, so scores do not depend on the grouping.
 */
function nearest(
  X: Float32Array,
  nFeatures: number,
  r: number,
  centers: Float64Array,
  centerNorms: Float64Array,
  nClusters: number,
): number {
  const xb = r * nFeatures
  let best = 0
  let bestScore = Number.POSITIVE_INFINITY
  let j = 0
  for (; j + 3 < nClusters; j += 4) {
    const c0 = j * nFeatures
    const c1 = c0 + nFeatures
    const c2 = c1 + nFeatures
    const c3 = c2 + nFeatures
    let d0 = 0
    let d1 = 0
    let d2 = 0
    let d3 = 0
    for (let f = 0; f < nFeatures; f++) {
      const x = X[xb + f]!
      d0 += x * centers[c0 + f]!
      d1 += x * centers[c1 + f]!
      d2 += x * centers[c2 + f]!
      d3 += x * centers[c3 + f]!
    }
    const s0 = centerNorms[j]! - 2 * d0
    const s1 = centerNorms[j + 1]! - 2 * d1
    const s2 = centerNorms[j + 2]! - 2 * d2
    const s3 = centerNorms[j + 3]! - 2 * d3
    if (s0 < bestScore) {
      bestScore = s0
      best = j
    }
    if (s1 < bestScore) {
      bestScore = s1
      best = j + 1
    }
    if (s2 < bestScore) {
      bestScore = s2
      best = j + 2
    }
    if (s3 < bestScore) {
      bestScore = s3
      best = j + 3
    }
  }
  for (; j < nClusters; j++) {
    const cb = j * nFeatures
    let dot = 0
    for (let f = 0; f < nFeatures; f++) dot += X[xb + f]! * centers[cb + f]!
    const score = centerNorms[j]! - 2 * dot
    if (score < bestScore) {
      bestScore = score
      best = j
    }
  }
  return best
}

/** `‖x_r − c_j‖²` computed directly (no cancellation, never negative). */
function squaredDistance(X: Float32Array, nFeatures: number, r: number, centers: Float64Array, j: number): number {
  const xb = r * nFeatures
  const cb = j * nFeatures
  let s = 0
  for (let f = 0; f < nFeatures; f++) {
    const d = X[xb + f]! - centers[cb + f]!
    s += d * d
  }
  return s
}

/**
 * Writes the nearest center of each row `r` in `[start, end)` into `labels[r]`. `centerNorms` comes from
 * {@link centerSquaredNorms} for the same centers.
 */
export function assignNearest(
  X: Float32Array,
  nFeatures: number,
  centers: Float64Array,
  centerNorms: Float64Array,
  nClusters: number,
  labels: Int32Array,
  start: number,
  end: number,
): void {
  for (let r = start; r < end; r++) labels[r] = nearest(X, nFeatures, r, centers, centerNorms, nClusters)
}

/**
 * Σ w_r · ‖x_r − c_nearest(r)‖² over rows `[start, end)` (weights 1 when `sampleWeight` is null): the nearest center
 * is ranked as in {@link assignNearest} and its distance then computed directly, as scikit-learn's `_inertia_dense`
 * does after labelling.
 */
export function nearestInertia(
  X: Float32Array,
  nFeatures: number,
  centers: Float64Array,
  centerNorms: Float64Array,
  nClusters: number,
  sampleWeight: Float64Array | null,
  start: number,
  end: number,
): number {
  let sum = 0
  for (let r = start; r < end; r++) {
    const j = nearest(X, nFeatures, r, centers, centerNorms, nClusters)
    const d = squaredDistance(X, nFeatures, r, centers, j)
    sum += sampleWeight === null ? d : d * sampleWeight[r]!
  }
  return sum
}

/** Writes the Euclidean distance from row `r` to center `j` into `out[(r − start) · nClusters + j]` for `r` in `[start, end)`. */
export function euclideanDistances(
  X: Float32Array,
  nFeatures: number,
  centers: Float64Array,
  nClusters: number,
  out: Float64Array,
  start: number,
  end: number,
): void {
  for (let r = start; r < end; r++) {
    const ob = (r - start) * nClusters
    for (let j = 0; j < nClusters; j++) out[ob + j] = Math.sqrt(squaredDistance(X, nFeatures, r, centers, j))
  }
}

/**
 * Writes `min(closest[r], ‖x_r − p‖²)` (just the distance when `closest` is null) into `out[outOffset + r]` for every
 * row `r < rows` and returns their sum; `p` is `nFeatures` values (a candidate center in k-means++).
 */
export function minSquaredDistancesToPoint(
  X: Float32Array,
  nFeatures: number,
  rows: number,
  point: Float64Array,
  closest: Float64Array | null,
  out: Float64Array,
  outOffset: number,
): number {
  let sum = 0
  for (let r = 0; r < rows; r++) {
    const xb = r * nFeatures
    let s = 0
    for (let f = 0; f < nFeatures; f++) {
      const d = X[xb + f]! - point[f]!
      s += d * d
    }
    const v = closest === null || s < closest[r]! ? s : closest[r]!
    out[outOffset + r] = v
    sum += v
  }
  return sum
}
