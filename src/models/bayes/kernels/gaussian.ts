/**
 * Kernels of Gaussian naive Bayes: per-class weighted moments of one batch, per-feature moments of the whole batch
 * (for the variance floor `epsilon`), Chan, Golub & LeVeque's pairwise combination in scikit-learn's arithmetic,
 * and the joint log likelihood. Pure functions over typed arrays with caller-owned outputs; nothing allocates.
 * @module
 */

/**
 * Per-class moments of rows `[0, rows)` of the row-major `x` (`nFeatures` wide), in numpy's order of operations
 * so results match scikit-learn's `np.average` / `np.var` to the last bits: sums row by row, then
 * `mean = Σ w·x / Σ w` and `variance = Σ ((x − mean)²·w) / Σ w` (w = 1 without weights).
 * Writes `rowsOf[k]` (rows of class k), `weightOf[k]` (Σ w), `mean[k·d + j]` and `variance[k·d + j]` for the
 * first `nClasses` classes; classes without rows get zeros.
 */
export function classMoments(
  x: Float32Array,
  nFeatures: number,
  rows: number,
  classIndex: Int32Array,
  weights: Float64Array | null,
  nClasses: number,
  rowsOf: Float64Array,
  weightOf: Float64Array,
  mean: Float64Array,
  variance: Float64Array,
): void {
  const size = nClasses * nFeatures
  rowsOf.fill(0, 0, nClasses)
  weightOf.fill(0, 0, nClasses)
  mean.fill(0, 0, size)
  variance.fill(0, 0, size)
  for (let r = 0; r < rows; r++) {
    const k = classIndex[r]!
    const base = r * nFeatures
    const at = k * nFeatures
    rowsOf[k]!++
    if (weights === null) {
      for (let j = 0; j < nFeatures; j++) mean[at + j]! += x[base + j]!
    } else {
      const w = weights[r]!
      weightOf[k]! += w
      for (let j = 0; j < nFeatures; j++) mean[at + j]! += x[base + j]! * w
    }
  }
  for (let k = 0; k < nClasses; k++) {
    const n = weights === null ? rowsOf[k]! : weightOf[k]!
    if (weights === null) weightOf[k] = n
    if (rowsOf[k] === 0) continue
    const at = k * nFeatures
    for (let j = 0; j < nFeatures; j++) mean[at + j] = mean[at + j]! / n
  }
  for (let r = 0; r < rows; r++) {
    const k = classIndex[r]!
    const base = r * nFeatures
    const at = k * nFeatures
    if (weights === null) {
      for (let j = 0; j < nFeatures; j++) {
        const d = x[base + j]! - mean[at + j]!
        variance[at + j]! += d * d
      }
    } else {
      const w = weights[r]!
      for (let j = 0; j < nFeatures; j++) {
        const d = x[base + j]! - mean[at + j]!
        variance[at + j]! += d * d * w
      }
    }
  }
  for (let k = 0; k < nClasses; k++) {
    if (rowsOf[k] === 0) continue
    const n = weightOf[k]!
    const at = k * nFeatures
    for (let j = 0; j < nFeatures; j++) variance[at + j] = variance[at + j]! / n
  }
}

/**
 * Unweighted mean and population variance of every feature over rows `[0, rows)` (numpy's two-pass
 * `np.var(X, axis=0)`, which scikit-learn's `epsilon_` is computed from, ignoring sample weights). `rows > 0`.
 */
export function featureMoments(
  x: Float32Array,
  nFeatures: number,
  rows: number,
  mean: Float64Array,
  variance: Float64Array,
): void {
  mean.fill(0, 0, nFeatures)
  variance.fill(0, 0, nFeatures)
  for (let r = 0; r < rows; r++) {
    const base = r * nFeatures
    for (let j = 0; j < nFeatures; j++) mean[j]! += x[base + j]!
  }
  for (let j = 0; j < nFeatures; j++) mean[j] = mean[j]! / rows
  for (let r = 0; r < rows; r++) {
    const base = r * nFeatures
    for (let j = 0; j < nFeatures; j++) {
      const d = x[base + j]! - mean[j]!
      variance[j]! += d * d
    }
  }
  for (let j = 0; j < nFeatures; j++) variance[j] = variance[j]! / rows
}

/**
 * Folds `(nNew, newMean, newVariance)` into `(nPast, mean, variance)` for `length` features starting at `at` /
 * `newAt`, writing the result in place (Chan, Golub & LeVeque 1979, in scikit-learn's `_update_mean_variance`
 * form: `μ = (n_new·μ_new + n_past·μ) / n`, `ssd = n_past·σ² + n_new·σ²_new + (n_new·n_past / n)·(μ − μ_new)²`).
 * Every operation is symmetric in the two sides, so combining A into B and B into A give identical bits.
 * With `nPast === 0` the new moments are copied; with `nNew === 0` nothing changes.
 */
export function combineMoments(
  nPast: number,
  mean: Float64Array,
  variance: Float64Array,
  at: number,
  nNew: number,
  newMean: Float64Array,
  newVariance: Float64Array,
  newAt: number,
  length: number,
): void {
  if (nNew === 0) return
  if (nPast === 0) {
    for (let j = 0; j < length; j++) {
      mean[at + j] = newMean[newAt + j]!
      variance[at + j] = newVariance[newAt + j]!
    }
    return
  }
  const total = nPast + nNew
  const cross = (nNew * nPast) / total
  for (let j = 0; j < length; j++) {
    const mu = mean[at + j]!
    const muNew = newMean[newAt + j]!
    const delta = mu - muNew
    mean[at + j] = (nNew * muNew + nPast * mu) / total
    variance[at + j] = (nPast * variance[at + j]! + nNew * newVariance[newAt + j]! + cross * (delta * delta)) / total
  }
}

/**
 * The class-dependent constant of the Gaussian log density, `−½ Σ_j log(2π σ²_kj)`, for each class, written to
 * `out[k]` (scikit-learn computes `2.0 * np.pi` first, then multiplies by the variance).
 */
export function gaussianLogNormalizers(
  variance: Float64Array,
  nClasses: number,
  nFeatures: number,
  out: Float64Array,
): void {
  const twoPi = 2.0 * Math.PI
  for (let k = 0; k < nClasses; k++) {
    let sum = 0
    const at = k * nFeatures
    for (let j = 0; j < nFeatures; j++) sum += Math.log(twoPi * variance[at + j]!)
    out[k] = -0.5 * sum
  }
}

/**
 * Joint log likelihood `log P(c) + log P(x | c)` of rows `[start, end)` for every class, written to
 * `out[(r − start)·nClasses + k]`: `logPrior[k] + (normalizer[k] − ½ Σ_j (x_j − θ_kj)² / σ²_kj)`, in
 * scikit-learn's order of operations.
 */
export function gaussianJointLogLikelihood(
  x: Float32Array,
  nFeatures: number,
  theta: Float64Array,
  variance: Float64Array,
  normalizer: Float64Array,
  logPrior: Float64Array,
  nClasses: number,
  out: Float64Array,
  start: number,
  end: number,
): void {
  for (let r = start; r < end; r++) {
    const base = r * nFeatures
    const o = (r - start) * nClasses
    for (let k = 0; k < nClasses; k++) {
      const at = k * nFeatures
      let sum = 0
      for (let j = 0; j < nFeatures; j++) {
        const d = x[base + j]! - theta[at + j]!
        sum += (d * d) / variance[at + j]!
      }
      out[o + k] = logPrior[k]! + (normalizer[k]! - 0.5 * sum)
    }
  }
}
