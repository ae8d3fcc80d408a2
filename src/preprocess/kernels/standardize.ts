/**
 * The standardization kernel: `(x − mean) / scale` into a strided float32 slot, missing values written as 0.
 * @module
 */

/**
 * Writes `(values[i] − mean) / scale` to `out[i * stride + offset]` for rows `[0, n)`, the mean given as
 * `meanHigh + meanLow` (subtracting the high part first is exact for values near the mean); a missing value
 * (null-mask set, NaN, ±Infinity) is written as 0, which is the standardized mean (mean imputation). Allocates
 * nothing.
 */
export function standardizeColumn(
  values: Float64Array,
  nulls: Uint8Array | undefined,
  meanHigh: number,
  meanLow: number,
  scale: number,
  out: Float32Array,
  stride: number,
  offset: number,
  n: number,
): void {
  for (let i = 0, o = offset; i < n; i++, o += stride) {
    const v = values[i]!
    out[o] = !Number.isFinite(v) || (nulls !== undefined && nulls[i] === 1) ? 0 : (v - meanHigh - meanLow) / scale
  }
}
