/**
 * Walks a tree under construction over binned rows: node `i` routes a row by the bin of feature `feature[i]` through
 * its 256-entry table `goesLeft[i * 256 + bin]` (1 = left). Because numeric bins and cuts agree exactly with the
 * ensemble's float32 rule, this reaches the same leaf as inference on the raw row. Used during training to update
 * margins of rows a tree was not grown on (subsampled-out rows, validation rows). No allocation.
 * @module
 */

/**
 * Adds `leafValue[leaf]` to `out[r * outStride + outOffset]` for each row `r` of `rows[0, n)` (or, when `rows` is
 * empty, each row `0 … n − 1`), the leaf being the one the row reaches from node 0.
 */
export function addBinnedTreeMargins(
  bins: Uint8Array,
  nRows: number,
  rows: Uint32Array,
  n: number,
  feature: Int32Array,
  left: Int32Array,
  right: Int32Array,
  goesLeft: Uint8Array,
  leafValue: Float64Array,
  out: Float64Array,
  outStride: number,
  outOffset: number,
): void {
  const indexed = rows.length > 0
  for (let j = 0; j < n; j++) {
    const r = indexed ? rows[j]! : j
    let i = 0
    let f = feature[0]!
    while (f >= 0) {
      i = goesLeft[i * 256 + bins[f * nRows + r]!] === 1 ? left[i]! : right[i]!
      f = feature[i]!
    }
    const o = r * outStride + outOffset
    out[o] = out[o]! + leafValue[i]!
  }
}
