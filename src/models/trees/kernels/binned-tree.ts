/**
 * Walks a tree under construction over binned rows: node `i` routes a row by the bin of feature `feature[i]` through
 * its 256-entry table `goesLeft[i * 256 + bin]` (1 = left). Because numeric bins and cuts agree exactly with the
 * ensemble's float32 rule, this reaches the same leaf as inference on the raw row. Used during training to update
 * margins of rows a tree was not grown on (subsampled-out rows, validation rows), and to name the leaf of each
 * training row (by walking, or from the grown tree's leaf ranges) for the next boosting pass. No allocation.
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

/**
 * Writes the node `i` (a leaf) of every row `r` of the last tree walked into `out[outOffset + r]`, for the rows of
 * `rows[0, n)` (or, when `rows` is empty, rows `0 … n − 1`): {@link addBinnedTreeMargins} with the leaf's index in
 * place of its value. Node indices must be below 65,536.
 */
export function binnedTreeLeaves(
  bins: Uint8Array,
  nRows: number,
  rows: Uint32Array,
  n: number,
  tree: {
    readonly feature: Int32Array
    readonly left: Int32Array
    readonly right: Int32Array
    readonly goesLeft: Uint8Array
  },
  out: Uint16Array,
  outOffset: number,
): void {
  const { feature, left, right, goesLeft } = tree
  const indexed = rows.length > 0
  for (let j = 0; j < n; j++) {
    const r = indexed ? rows[j]! : j
    let i = 0
    let f = feature[0]!
    while (f >= 0) {
      i = goesLeft[i * 256 + bins[f * nRows + r]!] === 1 ? left[i]! : right[i]!
      f = feature[i]!
    }
    out[outOffset + r] = i
  }
}

/**
 * For positions `[from, to)` of a grown tree's row list `rows`, writes each row's leaf into `out[outOffset + row]`:
 * `leaves` holds `nLeaves` triples (first position, end position, node index), disjoint, covering the positions.
 * Each row appears once in `rows`, so ranges of positions can be assigned by different threads. With `resetRows`,
 * then sets `rows[j] = j` over the range (a tree grown on all rows leaves the next one the identity to start from).
 */
export function assignLeafRows(
  rows: Uint32Array,
  from: number,
  to: number,
  leaves: Int32Array,
  nLeaves: number,
  out: Uint16Array,
  outOffset: number,
  resetRows: boolean,
): void {
  for (let i = 0; i < nLeaves; i++) {
    const lo = Math.max(from, leaves[3 * i]!)
    const hi = Math.min(to, leaves[3 * i + 1]!)
    if (lo >= hi) continue
    const node = leaves[3 * i + 2]!
    for (let j = lo; j < hi; j++) out[outOffset + rows[j]!] = node
  }
  if (resetRows) for (let j = from; j < to; j++) rows[j] = j
}
