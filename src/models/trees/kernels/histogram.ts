/**
 * Gradient-histogram kernels. A histogram is a `Float64Array` of slots, one per (feature, bin), each slot `stride`
 * doubles wide: `nGradients` gradient sums, then the hessian sum, then the row count. Feature `f`'s slots start at
 * `offsets[f]` (its value bins, then its missing bin). Binned features are column-major (`bins[f * nRows + r]`).
 *
 * A node's rows are `rows[start, end)`. The single-gradient kernels first gather the node's gradients into
 * contiguous "ordered" buffers (LightGBM's ordered gradients), so that the per-feature passes read the gradients
 * sequentially and only the bins are gathered. Pure functions over caller-owned buffers; no allocation.
 * @module
 */

/** Copies `grad[rows[i]]`, `hess[rows[i]]` for `i` in `[start, end)` to `outGrad[i - start]`, `outHess[i - start]`. */
export function gatherGradients(
  rows: Uint32Array,
  start: number,
  end: number,
  grad: Float32Array,
  hess: Float32Array,
  outGrad: Float32Array,
  outHess: Float32Array,
): void {
  for (let i = start, j = 0; i < end; i++, j++) {
    const r = rows[i]!
    outGrad[j] = grad[r]!
    outHess[j] = hess[r]!
  }
}

/**
 * Adds rows `rows[start, end)` to `hist` (stride 3: gradient, hessian, count) for each feature in
 * `features[0, nSelected)`, reading the node's gradients from the ordered buffers of {@link gatherGradients}.
 */
export function buildHistogramOrdered(
  bins: Uint8Array,
  nRows: number,
  features: Int32Array,
  nSelected: number,
  offsets: Int32Array,
  rows: Uint32Array,
  start: number,
  end: number,
  orderedGrad: Float32Array,
  orderedHess: Float32Array,
  hist: Float64Array,
): void {
  const n = end - start
  for (let s = 0; s < nSelected; s++) {
    const f = features[s]!
    const col = f * nRows
    const base = offsets[f]! * 3
    for (let j = 0, i = start; j < n; j++, i++) {
      const k = base + bins[col + rows[i]!]! * 3
      hist[k] = hist[k]! + orderedGrad[j]!
      hist[k + 1] = hist[k + 1]! + orderedHess[j]!
      hist[k + 2] = hist[k + 2]! + 1
    }
  }
}

/**
 * Adds every row `[0, nRows)` to `hist` (stride 3) for each selected feature: the root of a tree grown on all rows,
 * where no row index is needed.
 */
export function buildHistogramAllRows(
  bins: Uint8Array,
  nRows: number,
  features: Int32Array,
  nSelected: number,
  offsets: Int32Array,
  grad: Float32Array,
  hess: Float32Array,
  hist: Float64Array,
): void {
  for (let s = 0; s < nSelected; s++) {
    const f = features[s]!
    const col = f * nRows
    const base = offsets[f]! * 3
    for (let r = 0; r < nRows; r++) {
      const k = base + bins[col + r]! * 3
      hist[k] = hist[k]! + grad[r]!
      hist[k + 1] = hist[k + 1]! + hess[r]!
      hist[k + 2] = hist[k + 2]! + 1
    }
  }
}

/**
 * Adds rows `rows[start, end)` to `hist` with `nGradients` gradients per row (stride `nGradients + 2`): gradient `c`
 * of row `r` is `grad[c * nRows + r]`. For multi-output trees (random-forest classification).
 */
export function buildHistogramMulti(
  bins: Uint8Array,
  nRows: number,
  features: Int32Array,
  nSelected: number,
  offsets: Int32Array,
  rows: Uint32Array,
  start: number,
  end: number,
  grad: Float32Array,
  nGradients: number,
  hess: Float32Array,
  hist: Float64Array,
): void {
  const stride = nGradients + 2
  for (let s = 0; s < nSelected; s++) {
    const f = features[s]!
    const col = f * nRows
    const base = offsets[f]! * stride
    for (let i = start; i < end; i++) {
      const r = rows[i]!
      const k = base + bins[col + r]! * stride
      for (let c = 0; c < nGradients; c++) hist[k + c] = hist[k + c]! + grad[c * nRows + r]!
      hist[k + nGradients] = hist[k + nGradients]! + hess[r]!
      hist[k + nGradients + 1] = hist[k + nGradients + 1]! + 1
    }
  }
}

/**
 * `parent[i] -= child[i]` for `i` in `[from, to)`: turns the parent's histogram into the sibling's (histogram
 * subtraction: only the smaller child is built from rows).
 */
export function subtractHistogram(parent: Float64Array, child: Float64Array, from: number, to: number): void {
  for (let i = from; i < to; i++) parent[i] = parent[i]! - child[i]!
}

/**
 * Stable partition of `rows[start, end)` by the bin of each row in `column` (a feature's column of the binned data,
 * `bins[f * nRows …]`): rows whose bin `b` has `goesLeft[b] === 1` keep their order at the front, the others keep
 * theirs at the back (through `scratch`). Returns the first index of the right part.
 */
export function partitionRows(
  rows: Uint32Array,
  start: number,
  end: number,
  bins: Uint8Array,
  columnStart: number,
  goesLeft: Uint8Array,
  goesLeftOffset: number,
  scratch: Uint32Array,
): number {
  let l = start
  let nRight = 0
  for (let i = start; i < end; i++) {
    const r = rows[i]!
    if (goesLeft[goesLeftOffset + bins[columnStart + r]!] === 1) rows[l++] = r
    else scratch[nRight++] = r
  }
  for (let j = 0; j < nRight; j++) rows[l + j] = scratch[j]!
  return l
}
