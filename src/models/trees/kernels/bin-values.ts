/**
 * Binning kernels: map one feature column of dense row-major float32 rows to bin codes, writing into a caller-owned
 * column of a column-major `Uint8Array`. A numeric bin `j` holds `[cuts[j-1], cuts[j])`, so the bin of `x` is the
 * number of cuts `<= x` and "bin <= j" is exactly "x < cuts[j]" (the tree rule). Allocate nothing.
 * @module
 */

/**
 * Number of entries of the ascending `cuts[0..n)` that are `<= x` (an upper bound by binary search). NaN is not
 * handled here: callers route it to the missing bin first.
 */
export function upperBound(cuts: Float32Array, n: number, x: number): number {
  let lo = 0
  let hi = n
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (cuts[mid]! <= x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Writes the numeric bins of column `feature` of rows `[0, rows)` of the row-major `x` (`stride` wide) to
 * `out[outStart + r]`; NaN goes to `missingBin`.
 */
export function binNumericColumn(
  x: Float32Array,
  stride: number,
  feature: number,
  rows: number,
  cuts: Float32Array,
  missingBin: number,
  out: Uint8Array,
  outStart: number,
): void {
  const n = cuts.length
  for (let r = 0, i = feature; r < rows; r++, i += stride) {
    const v = x[i]!
    out[outStart + r] = Number.isNaN(v) ? missingBin : upperBound(cuts, n, v)
  }
}

/**
 * Writes the categorical bins of column `feature` of rows `[0, rows)`: `codeToBin[code]` for an integer code within
 * the table, `otherBin` for a larger or a negative code (the ensemble sends invalid and unseen categories the same
 * way), `missingBin` for NaN. Returns the index of the first
 * row whose value is not an integer (or is >= 2^24, beyond float32's exact integers), or -1 when every row is valid;
 * rows after an invalid one are left unwritten.
 */
export function binCategoricalColumn(
  x: Float32Array,
  stride: number,
  feature: number,
  rows: number,
  codeToBin: Uint8Array,
  otherBin: number,
  missingBin: number,
  out: Uint8Array,
  outStart: number,
): number {
  const tableSize = codeToBin.length
  for (let r = 0, i = feature; r < rows; r++, i += stride) {
    const v = x[i]!
    if (Number.isNaN(v)) {
      out[outStart + r] = missingBin
      continue
    }
    if (v < 0) {
      out[outStart + r] = otherBin
      continue
    }
    if (v !== Math.floor(v) || v >= MAX_CATEGORY_CODE) return r
    out[outStart + r] = v < tableSize ? codeToBin[v]! : otherBin
  }
  return -1
}

/** Category codes must be integers below 2^24, the last float32 integer with exact neighbours. */
export const MAX_CATEGORY_CODE = 16_777_216
