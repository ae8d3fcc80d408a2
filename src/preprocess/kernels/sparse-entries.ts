/**
 * Kernels that write sparse entries (column index + value) at a fixed stride, the sparse counterparts of the dense
 * indicator and strided writes. Caller-owned outputs; nothing allocated.
 * @module
 */

/** Writes `value` to `out[i * stride + offset]` for rows `[0, n)`. */
export function fillStrided(out: Int32Array, value: number, stride: number, offset: number, n: number): void {
  for (let i = 0, o = offset; i < n; i++, o += stride) out[o] = value
}

/**
 * One one-hot entry per row from dictionary codes: row `i` gets index `colOffset + slotOfCode[codes[i]]` (or
 * `colOffset + other` for a null code, -1) and value 1, at `i * stride + offset`.
 */
export function indicatorEntries(
  codes: Int32Array,
  slotOfCode: Int32Array,
  other: number,
  n: number,
  indices: Int32Array,
  values: Float32Array,
  stride: number,
  offset: number,
  colOffset: number,
): void {
  for (let i = 0, o = offset; i < n; i++, o += stride) {
    const code = codes[i]!
    indices[o] = colOffset + (code < 0 ? other : slotOfCode[code]!)
    values[o] = 1
  }
}
