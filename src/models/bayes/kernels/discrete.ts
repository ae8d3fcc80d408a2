/**
 * Kernels of the count-based naive Bayes models (multinomial, Bernoulli): weighted per-class counts, the smoothed
 * log probabilities scikit-learn derives from them, and the joint log likelihood, which for both models is linear
 * in the (possibly binarized) features. Pure functions over typed arrays with caller-owned outputs.
 * @module
 */

/**
 * Adds rows `[0, rows)` of the row-major `x` to the counts of their class: `classCount[k] += w`,
 * `featureCount[k·d + j] += w·x_j` (w = 1 without weights), row by row.
 */
export function addCounts(
  x: Float32Array,
  nFeatures: number,
  rows: number,
  classIndex: Int32Array,
  weights: Float64Array | null,
  classCount: Float64Array,
  featureCount: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    const k = classIndex[r]!
    const base = r * nFeatures
    const at = k * nFeatures
    if (weights === null) {
      classCount[k]!++
      for (let j = 0; j < nFeatures; j++) featureCount[at + j]! += x[base + j]!
    } else {
      const w = weights[r]!
      classCount[k]! += w
      for (let j = 0; j < nFeatures; j++) featureCount[at + j]! += w * x[base + j]!
    }
  }
}

/** As {@link addCounts} on the binarized features `x_j > threshold ? 1 : 0` (scikit-learn's `binarize`). */
export function addBinarizedCounts(
  x: Float32Array,
  nFeatures: number,
  rows: number,
  threshold: number,
  classIndex: Int32Array,
  weights: Float64Array | null,
  classCount: Float64Array,
  featureCount: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    const k = classIndex[r]!
    const base = r * nFeatures
    const at = k * nFeatures
    const w = weights === null ? 1 : weights[r]!
    classCount[k]! += w
    for (let j = 0; j < nFeatures; j++) if (x[base + j]! > threshold) featureCount[at + j]! += w
  }
}

/**
 * Multinomial smoothed log probabilities `log(N_kj + α) − log(Σ_j (N_kj + α))` into `out` (`nClasses × nFeatures`).
 */
export function multinomialLogProb(
  featureCount: Float64Array,
  nClasses: number,
  nFeatures: number,
  alpha: number,
  out: Float64Array,
): void {
  for (let k = 0; k < nClasses; k++) {
    const at = k * nFeatures
    let total = 0
    for (let j = 0; j < nFeatures; j++) total += featureCount[at + j]! + alpha
    const logTotal = Math.log(total)
    for (let j = 0; j < nFeatures; j++) out[at + j] = Math.log(featureCount[at + j]! + alpha) - logTotal
  }
}

/** Bernoulli smoothed log probabilities `log(N_kj + α) − log(N_k + 2α)` into `out` (`nClasses × nFeatures`). */
export function bernoulliLogProb(
  featureCount: Float64Array,
  classCount: Float64Array,
  nClasses: number,
  nFeatures: number,
  alpha: number,
  out: Float64Array,
): void {
  for (let k = 0; k < nClasses; k++) {
    const at = k * nFeatures
    const logTotal = Math.log(classCount[k]! + alpha * 2)
    for (let j = 0; j < nFeatures; j++) out[at + j] = Math.log(featureCount[at + j]! + alpha) - logTotal
  }
}

/**
 * Rewrites Bernoulli log probabilities as the linear form scikit-learn evaluates: with `neg = log(1 − exp(p))`,
 * `weights[k·d + j] = p_kj − neg_kj` and `bias[k] = classLogPrior[k] + Σ_j neg_kj`, so that
 * `jll_k(x) = x · weights_k + bias_k` for 0/1 features.
 */
export function bernoulliLinearForm(
  featureLogProb: Float64Array,
  classLogPrior: Float64Array,
  nClasses: number,
  nFeatures: number,
  weights: Float64Array,
  bias: Float64Array,
): void {
  for (let k = 0; k < nClasses; k++) {
    const at = k * nFeatures
    let negSum = 0
    for (let j = 0; j < nFeatures; j++) {
      const p = featureLogProb[at + j]!
      const neg = Math.log(1 - Math.exp(p))
      weights[at + j] = p - neg
      negSum += neg
    }
    bias[k] = classLogPrior[k]! + negSum
  }
}

/**
 * `out[(r − start)·nClasses + k] = x_r · weights_k + bias_k` for rows `[start, end)` (`weights` is
 * `nClasses × nFeatures`).
 */
export function linearJointLogLikelihood(
  x: Float32Array,
  nFeatures: number,
  weights: Float64Array,
  bias: Float64Array,
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
      let dot = 0
      for (let j = 0; j < nFeatures; j++) dot += x[base + j]! * weights[at + j]!
      out[o + k] = dot + bias[k]!
    }
  }
}

/** As {@link linearJointLogLikelihood} on the binarized features `x_j > threshold ? 1 : 0`. */
export function binarizedJointLogLikelihood(
  x: Float32Array,
  nFeatures: number,
  threshold: number,
  weights: Float64Array,
  bias: Float64Array,
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
      let dot = 0
      for (let j = 0; j < nFeatures; j++) if (x[base + j]! > threshold) dot += weights[at + j]!
      out[o + k] = dot + bias[k]!
    }
  }
}

/** Index of the first row value in `x[0, rows·nFeatures)` that is `< 0`, or -1. */
export function firstNegative(x: Float32Array, length: number): number {
  for (let i = 0; i < length; i++) if (x[i]! < 0) return i
  return -1
}

/** Index of the first value in `x[0, length)` outside `[0, 1]`, or -1. */
export function firstOutsideUnit(x: Float32Array, length: number): number {
  for (let i = 0; i < length; i++) {
    const v = x[i]!
    if (v < 0 || v > 1) return i
  }
  return -1
}
