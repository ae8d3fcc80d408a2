/**
 * Turning joint log likelihoods into predictions: row-wise log-sum-exp normalization (scipy's `logsumexp`, as
 * scikit-learn's `predict_proba` uses) and the arg max. Caller-owned buffers, no allocation.
 * @module
 */

/**
 * Replaces each of `nRows` rows of `jll` (`nRows × nClasses`, row-major) with `exp(jll − logsumexp(jll))` in
 * place. As in scipy, the shift is the row maximum, or 0 when that maximum is not finite, so a row whose classes
 * are all −Infinity yields NaN rather than a made-up distribution.
 */
export function softmaxRowsInPlace(jll: Float64Array, nRows: number, nClasses: number): void {
  for (let r = 0; r < nRows; r++) {
    const at = r * nClasses
    let max = Number.NEGATIVE_INFINITY
    for (let k = 0; k < nClasses; k++) if (jll[at + k]! > max) max = jll[at + k]!
    if (!Number.isFinite(max)) max = 0
    let sum = 0
    for (let k = 0; k < nClasses; k++) sum += Math.exp(jll[at + k]! - max)
    const logNorm = Math.log(sum) + max
    for (let k = 0; k < nClasses; k++) jll[at + k] = Math.exp(jll[at + k]! - logNorm)
  }
}

/** Index of the largest of `values[at, at + n)`; the first one on ties (numpy's `argmax`). */
export function argmax(values: Float64Array, at: number, n: number): number {
  let best = 0
  let bestValue = values[at]!
  for (let k = 1; k < n; k++) {
    const v = values[at + k]!
    if (v > bestValue) {
      best = k
      bestValue = v
    }
  }
  return best
}
