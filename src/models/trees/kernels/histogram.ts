/**
 * Gradient-histogram kernels. A histogram is a `Float64Array` of slots, one per (feature, bin), each slot `stride`
 * doubles wide: `nGradients` gradient sums, then the hessian sum, then the row count. Feature `f`'s slots start at
 * `offsets[f]` (its value bins, then its missing bin). Binned features arrive column-major (`bins[f * nRows + r]`).
 *
 * A node's rows are `rows[start, end)`. The single-gradient kernels read a row-major copy of the bins (all of a
 * row's bins in one cache line) and each row's gradient once for all features; the multi-gradient kernel reads the
 * column-major bins feature by feature. Pure functions over caller-owned buffers; no allocation.
 * @module
 */

/** Transposes column-major bins (`bins[f * nRows + r]`) into row-major ones (`out[r * nFeatures + f]`). */
export function transposeBins(bins: Uint8Array, nRows: number, nFeatures: number, out: Uint8Array): void {
  for (let f = 0; f < nFeatures; f++) {
    const col = f * nRows
    for (let r = 0, o = f; r < nRows; r++, o += nFeatures) out[o] = bins[col + r]!
  }
}

/**
 * Adds rows `rows[start, end)` to `hist` (stride 3: gradient, hessian, count) for every feature, reading row-major
 * bins (`rowBins[r * nFeatures + f]`): one cache line brings all of a row's bins, which matters once a node's rows
 * are sparse in the data. `slotBase[f]` is `3 ×` feature `f`'s first slot. With `withCounts` false the count slots
 * are left alone (callers that need no row counts save a third of the writes).
 */
export function buildHistogramRows(
  rowBins: Uint8Array,
  nFeatures: number,
  slotBase: Int32Array,
  rows: Uint32Array,
  start: number,
  end: number,
  grad: Float32Array,
  hess: Float32Array,
  hist: Float64Array,
  withCounts: boolean,
): void {
  if (withCounts) {
    for (let i = start; i < end; i++) {
      const r = rows[i]!
      const g = grad[r]!
      const h = hess[r]!
      for (let f = 0, b = r * nFeatures; f < nFeatures; f++, b++) {
        const k = slotBase[f]! + rowBins[b]! * 3
        hist[k] = hist[k]! + g
        hist[k + 1] = hist[k + 1]! + h
        hist[k + 2] = hist[k + 2]! + 1
      }
    }
    return
  }
  for (let i = start; i < end; i++) {
    const r = rows[i]!
    const g = grad[r]!
    const h = hess[r]!
    for (let f = 0, b = r * nFeatures; f < nFeatures; f++, b++) {
      const k = slotBase[f]! + rowBins[b]! * 3
      hist[k] = hist[k]! + g
      hist[k + 1] = hist[k + 1]! + h
    }
  }
}

/** As {@link buildHistogramRows} over every row `0 … nRows − 1` (a root over all rows: no row index). */
export function buildHistogramAllRows(
  rowBins: Uint8Array,
  nFeatures: number,
  slotBase: Int32Array,
  nRows: number,
  grad: Float32Array,
  hess: Float32Array,
  hist: Float64Array,
  withCounts: boolean,
): void {
  for (let r = 0, b = 0; r < nRows; r++) {
    const g = grad[r]!
    const h = hess[r]!
    for (let f = 0; f < nFeatures; f++, b++) {
      const k = slotBase[f]! + rowBins[b]! * 3
      hist[k] = hist[k]! + g
      hist[k + 1] = hist[k + 1]! + h
      if (withCounts) hist[k + 2] = hist[k + 2]! + 1
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
