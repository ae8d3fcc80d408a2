/**
 * Link functions of the ensemble objectives: margins → class probabilities (sigmoid, softmax) or regression values
 * (identity), and margins → class indices. Pure kernels writing into caller-owned arrays.
 * @module
 */
import type { TreeObjective } from '../tree-ensemble.js'

/** `1 / (1 + e^−x)`, without overflow for large negative `x`. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x))
  const z = Math.exp(x)
  return z / (1 + z)
}

/** `log(p / (1 − p))`: the margin of probability `p`. */
export function logit(p: number): number {
  return Math.log(p / (1 - p))
}

/** True for objectives whose ensembles are classifiers. */
export function isClassification(objective: TreeObjective): boolean {
  return objective === 'binary:logistic' || objective === 'multi:softprob'
}

/**
 * Class probabilities from margins (`rows × nOutputs`) into `out` (`rows × classes`): `[1 − σ(m), σ(m)]` per row
 * for 'binary:logistic' (one margin a row), a max-shifted softmax for 'multi:softprob'.
 */
export function probabilitiesInto(
  objective: TreeObjective,
  margins: Float64Array,
  rows: number,
  nOutputs: number,
  out: Float64Array,
): void {
  if (objective === 'binary:logistic') {
    for (let r = 0; r < rows; r++) {
      const p = sigmoid(margins[r]!)
      out[2 * r] = 1 - p
      out[2 * r + 1] = p
    }
    return
  }
  for (let r = 0, o = 0; r < rows; r++, o += nOutputs) {
    let max = Number.NEGATIVE_INFINITY
    for (let k = 0; k < nOutputs; k++) max = Math.max(max, margins[o + k]!)
    let sum = 0
    for (let k = 0; k < nOutputs; k++) {
      const z = Math.exp(margins[o + k]! - max)
      out[o + k] = z
      sum += z
    }
    for (let k = 0; k < nOutputs; k++) out[o + k] = out[o + k]! / sum
  }
}

/**
 * The class index of each row into `out`: margin > 0 for one margin a row (binary), else the first largest margin.
 */
export function classIndicesInto(margins: Float64Array, rows: number, nOutputs: number, out: Float64Array): void {
  if (nOutputs === 1) {
    for (let r = 0; r < rows; r++) out[r] = margins[r]! > 0 ? 1 : 0
    return
  }
  for (let r = 0, o = 0; r < rows; r++, o += nOutputs) {
    let best = 0
    for (let k = 1; k < nOutputs; k++) if (margins[o + k]! > margins[o + best]!) best = k
    out[r] = best
  }
}
