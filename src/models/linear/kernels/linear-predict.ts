/**
 * Scoring kernels of linear models: margins `x · coef_k + intercept_k` for every row and output, and the
 * probability links scikit-learn's SGDClassifier uses on top of them. Caller-owned outputs, no allocation.
 * @module
 */

/**
 * Writes the margins of rows `[start, end)` of the row-major `x` (`nFeatures` wide) into
 * `out[row * nOutputs + k]`, for weights `coef` (`nOutputs × nFeatures`, row-major) and `intercept` (`nOutputs`).
 */
export function linearScores(
  x: Float32Array,
  nFeatures: number,
  coef: Float64Array,
  intercept: Float64Array,
  nOutputs: number,
  out: Float64Array,
  start: number,
  end: number,
): void {
  for (let r = start; r < end; r++) {
    const base = r * nFeatures
    for (let k = 0; k < nOutputs; k++) {
      const wBase = k * nFeatures
      let dot = 0
      for (let j = 0; j < nFeatures; j++) dot += x[base + j]! * coef[wBase + j]!
      out[r * nOutputs + k] = dot + intercept[k]!
    }
  }
}

/**
 * The logistic function in scipy's `expit` form, so probabilities match scikit-learn's to rounding; for very
 * negative `z`, `exp(-z)` overflows to Infinity and the result is the correct 0, never NaN.
 */
export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z))
}

/**
 * Probabilities of a logistic-loss classifier from its margins (`nRows × nOutputs`): binary `[1 - s, s]` with
 * `s = sigmoid(margin)`; multiclass one-vs-rest sigmoids normalised to sum to one (scikit-learn's
 * `_predict_proba_lr`). Writes `nRows × nClasses` into `out`.
 */
export function logisticProba(scores: Float64Array, nRows: number, nOutputs: number, out: Float64Array): void {
  if (nOutputs === 1) {
    for (let r = 0; r < nRows; r++) {
      const s = sigmoid(scores[r]!)
      out[2 * r] = 1 - s
      out[2 * r + 1] = s
    }
    return
  }
  for (let r = 0; r < nRows; r++) {
    let sum = 0
    for (let k = 0; k < nOutputs; k++) {
      const s = sigmoid(scores[r * nOutputs + k]!)
      out[r * nOutputs + k] = s
      sum += s
    }
    for (let k = 0; k < nOutputs; k++) out[r * nOutputs + k]! /= sum
  }
}

/**
 * Probabilities of a modified-Huber classifier (Zhang 2004, appendix B): `(clip(margin, -1, 1) + 1) / 2` per
 * output; multiclass rows are normalised, and a row whose outputs are all zero becomes uniform, as in
 * scikit-learn. Writes `nRows × nClasses` into `out`.
 */
export function modifiedHuberProba(scores: Float64Array, nRows: number, nOutputs: number, out: Float64Array): void {
  if (nOutputs === 1) {
    for (let r = 0; r < nRows; r++) {
      const p = (Math.min(1, Math.max(-1, scores[r]!)) + 1) / 2
      out[2 * r] = 1 - p
      out[2 * r + 1] = p
    }
    return
  }
  for (let r = 0; r < nRows; r++) {
    let sum = 0
    for (let k = 0; k < nOutputs; k++) {
      const p = (Math.min(1, Math.max(-1, scores[r * nOutputs + k]!)) + 1) / 2
      out[r * nOutputs + k] = p
      sum += p
    }
    for (let k = 0; k < nOutputs; k++) {
      out[r * nOutputs + k] = sum === 0 ? 1 / nOutputs : out[r * nOutputs + k]! / sum
    }
  }
}

/**
 * `linearScores` over sparse rows (ELLPACK, `nnzPerRow` entries per row, indices ascending in `[0, nFeatures)`):
 * each margin sums the row's entries in ascending feature order, which gives the bits `linearScores` gives on the
 * dense expansion as long as `coef` is finite (an omitted `0 * coef[j]` is ±0, and adding ±0 to a sum that starts
 * at +0 changes nothing).
 */
export function linearScoresSparse(
  indices: Int32Array,
  values: Float32Array,
  nnzPerRow: number,
  nFeatures: number,
  coef: Float64Array,
  intercept: Float64Array,
  nOutputs: number,
  out: Float64Array,
  start: number,
  end: number,
): void {
  for (let r = start; r < end; r++) {
    const from = r * nnzPerRow
    const to = from + nnzPerRow
    for (let k = 0; k < nOutputs; k++) {
      const wBase = k * nFeatures
      let dot = 0
      for (let e = from; e < to; e++) dot += values[e]! * coef[wBase + indices[e]!]!
      out[r * nOutputs + k] = dot + intercept[k]!
    }
  }
}
