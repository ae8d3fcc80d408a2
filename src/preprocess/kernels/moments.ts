/**
 * Exact, mergeable first and second moments of a numeric column: count, mean and M2 (the sum of squared deviations
 * from the mean). Per batch the shifted, corrected two-pass algorithm; across batches and shards the pairwise update
 * of Chan, Golub & LeVeque (1983). The mean is carried as an unevaluated sum `high + low` of two doubles, so a column
 * such as `1e9 + noise` keeps the digits that one double at 1e9 cannot hold. Missing values (null-mask set, NaN,
 * ±Infinity) are skipped. Pure functions over typed arrays; nothing here allocates.
 * @module
 */

/**
 * Writes `[count, meanHigh, meanLow, m2]` of the non-missing values among rows `[0, n)` into `out[0..3]`.
 *
 * Why not Welford: it rounds the running mean once per row, errors of ~1e-7 per row at 1e9. Here the first pass
 * sums `x − firstValue` (exact when values are close, by Sterbenz's lemma), the second sums deviations from that
 * mean and corrects both the mean and M2 (`Σd² − (Σd)²/n`), leaving errors of a few ulps of the spread.
 */
export function columnMoments(values: Float64Array, nulls: Uint8Array | undefined, n: number, out: Float64Array): void {
  let count = 0
  let shift = 0
  let shiftedSum = 0
  for (let i = 0; i < n; i++) {
    const v = values[i]!
    if (!Number.isFinite(v) || (nulls !== undefined && nulls[i] === 1)) continue
    if (count === 0) shift = v
    shiftedSum += v - shift
    count++
  }
  out[0] = count
  if (count === 0) {
    out[1] = 0
    out[2] = 0
    out[3] = 0
    return
  }
  twoSum(shift, shiftedSum / count, out, 1)
  const high = out[1]!
  const low = out[2]!
  let sum = 0
  let sumSquares = 0
  for (let i = 0; i < n; i++) {
    const v = values[i]!
    if (!Number.isFinite(v) || (nulls !== undefined && nulls[i] === 1)) continue
    const d = v - high - low
    sum += d
    sumSquares += d * d
  }
  twoSum(high, sum / count, out, 1)
  const refinedHigh = out[1]!
  const refinedLow = out[2]! + low
  out[1] = refinedHigh + refinedLow
  out[2] = refinedLow - (out[1] - refinedHigh)
  out[3] = Math.max(sumSquares - (sum * sum) / count, 0)
}

/** Per-column running moments; the mean of column `j` is `meanHigh[j] + meanLow[j]`. */
export interface MomentArrays {
  readonly count: Float64Array
  readonly meanHigh: Float64Array
  readonly meanLow: Float64Array
  readonly m2: Float64Array
}

/**
 * Folds moments `(countB, highB + lowB, m2B)` into column `j` of `state` (Chan et al.'s pairwise combination).
 * Combining is exact in exact arithmetic, so fitting shards and merging equals fitting the concatenation up to
 * rounding.
 */
export function combineMoments(
  state: MomentArrays,
  j: number,
  countB: number,
  highB: number,
  lowB: number,
  m2B: number,
): void {
  if (countB === 0) return
  const countA = state.count[j]!
  if (countA === 0) {
    state.count[j] = countB
    state.meanHigh[j] = highB
    state.meanLow[j] = lowB
    state.m2[j] = m2B
    return
  }
  const total = countA + countB
  const highA = state.meanHigh[j]!
  const lowA = state.meanLow[j]!
  // highB − highA is exact when the means are close, which is exactly when the low parts matter.
  const delta = highB - highA + (lowB - lowA)
  const step = delta * (countB / total)
  const s = highA + step
  const t = s - highA
  const low = highA - (s - t) + (step - t) + lowA
  const high = s + low
  state.meanHigh[j] = high
  state.meanLow[j] = low - (high - s)
  state.m2[j] = state.m2[j]! + m2B + delta * delta * ((countA * countB) / total)
  state.count[j] = total
}

/** Knuth's TwoSum: writes `a + b` as `out[at] + out[at + 1]` exactly, `out[at]` being the rounded sum. */
function twoSum(a: number, b: number, out: Float64Array, at: number): void {
  const s = a + b
  const t = s - a
  out[at] = s
  out[at + 1] = a - (s - t) + (b - t)
}
