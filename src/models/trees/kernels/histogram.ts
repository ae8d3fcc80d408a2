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
 * Adds rows `rows[start, end)` to `hist` (stride 3: gradient, hessian, count) for the features
 * `features[fFrom, fTo)`, reading row-major bins (`rowBins[r * nFeatures + f]`) and interleaved gradients
 * (`gradHess[2r]`, `gradHess[2r + 1]`, see {@link interleaveGradients}): one cache line brings all of a row's bins and
 * one its gradient pair, which matters once a node's rows are sparse in the data.
 * `slotBase[f]` is `3 ×` feature `f`'s first slot and `slotBase[f + 1]` the end of its slots. With `withCounts` false
 * the count slots are left alone (callers that need no row counts save a third of the writes).
 *
 * Only the slots of the listed features are read or written (`scratch` included), so threads that own disjoint
 * feature ranges can fill one histogram at once; and each slot receives its rows in the same order whatever the
 * range (the two-accumulator choice depends on the row count alone), so splitting the features over threads leaves
 * every sum bit-identical.
 */
export function buildHistogramRows(
  rowBins: Uint8Array,
  nFeatures: number,
  slotBase: Int32Array,
  features: Int32Array,
  fFrom: number,
  fTo: number,
  rows: Uint32Array,
  start: number,
  end: number,
  gradHess: Float32Array,
  hist: Float64Array,
  scratch: Float64Array,
  withCounts: boolean,
): void {
  if (withCounts) {
    for (let i = start; i < end; i++) {
      const r = rows[i]!
      const g = gradHess[2 * r]!
      const h = gradHess[2 * r + 1]!
      const b = r * nFeatures
      for (let s = fFrom; s < fTo; s++) {
        const f = features[s]!
        const k = slotBase[f]! + rowBins[b + f]! * 3
        hist[k] = hist[k]! + g
        hist[k + 1] = hist[k + 1]! + h
        hist[k + 2] = hist[k + 2]! + 1
      }
    }
    return
  }
  let i = start
  const dual = end - start >= DUAL_MIN_ROWS && scratch.length >= hist.length
  if (dual) {
    zeroSlots(scratch, slotBase, features, fFrom, fTo)
    for (; i + 1 < end; i += 2) {
      const r0 = rows[i]!
      const r1 = rows[i + 1]!
      const g0 = gradHess[2 * r0]!
      const h0 = gradHess[2 * r0 + 1]!
      const g1 = gradHess[2 * r1]!
      const h1 = gradHess[2 * r1 + 1]!
      const b0 = r0 * nFeatures
      const b1 = r1 * nFeatures
      for (let s = fFrom; s < fTo; s++) {
        const f = features[s]!
        const base = slotBase[f]!
        const k0 = base + rowBins[b0 + f]! * 3
        const k1 = base + rowBins[b1 + f]! * 3
        hist[k0] = hist[k0]! + g0
        hist[k0 + 1] = hist[k0 + 1]! + h0
        scratch[k1] = scratch[k1]! + g1
        scratch[k1 + 1] = scratch[k1 + 1]! + h1
      }
    }
    addSlots(hist, scratch, slotBase, features, fFrom, fTo)
  }
  for (; i < end; i++) {
    const r = rows[i]!
    const g = gradHess[2 * r]!
    const h = gradHess[2 * r + 1]!
    const b = r * nFeatures
    for (let s = fFrom; s < fTo; s++) {
      const f = features[s]!
      const k = slotBase[f]! + rowBins[b + f]! * 3
      hist[k] = hist[k]! + g
      hist[k + 1] = hist[k + 1]! + h
    }
  }
}

/** Zeroes the slots of features `features[fFrom, fTo)` (`slotBase` as in {@link buildHistogramRows}). */
function zeroSlots(hist: Float64Array, slotBase: Int32Array, features: Int32Array, fFrom: number, fTo: number): void {
  for (let s = fFrom; s < fTo; s++) {
    const f = features[s]!
    hist.fill(0, slotBase[f]!, slotBase[f + 1]!)
  }
}

/** `hist += other` over the slots of features `features[fFrom, fTo)`. */
function addSlots(
  hist: Float64Array,
  other: Float64Array,
  slotBase: Int32Array,
  features: Int32Array,
  fFrom: number,
  fTo: number,
): void {
  for (let s = fFrom; s < fTo; s++) {
    const f = features[s]!
    for (let k = slotBase[f]!; k < slotBase[f + 1]!; k++) hist[k] = hist[k]! + other[k]!
  }
}

/** Nodes with fewer rows than this are built with one accumulator (zeroing and summing a second does not pay). */
const DUAL_MIN_ROWS = 4096

/**
 * Interleaves `grad` and `hess` into `out` (`out[2r] = grad[r]`, `out[2r + 1] = hess[r]`) for rows `[0, n)`: a gathered
 * row then costs one cache line for both values instead of two.
 */
export function interleaveGradients(grad: Float32Array, hess: Float32Array, n: number, out: Float32Array): void {
  for (let r = 0; r < n; r++) {
    out[2 * r] = grad[r]!
    out[2 * r + 1] = hess[r]!
  }
}

/**
 * As {@link buildHistogramRows} over every row `0 … nRows − 1` in order (a root over all rows: no row index).
 *
 * With `dual` (the caller passes it when every feature is selected and counts are off) rows alternate between
 * `hist` and `scratch` (at least as long; its slots of these features are overwritten), summed at the end. Why: rows
 * often arrive sorted by time, so neighbouring rows share bins (hour, day, month) and each addition would wait for
 * the previous one to the same slot; two accumulators halve those chains (measured 6.4 → 4.5 ns per update on
 * flights-3m). On gathered subsets of rows the memory gather dominates and two accumulators do not pay, so
 * {@link buildHistogramRows} has one. The choice is the caller's, not the feature range's, so that threads owning
 * parts of the features add in the same order as one thread owning all.
 */
export function buildHistogramAllRows(
  rowBins: Uint8Array,
  nFeatures: number,
  slotBase: Int32Array,
  features: Int32Array,
  fFrom: number,
  fTo: number,
  nRows: number,
  gradHess: Float32Array,
  hist: Float64Array,
  scratch: Float64Array,
  options: { readonly withCounts: boolean; readonly dual: boolean },
): void {
  const { withCounts } = options
  if (options.dual && !withCounts && scratch.length >= hist.length) {
    zeroSlots(scratch, slotBase, features, fFrom, fTo)
    let r = 0
    for (; r + 1 < nRows; r += 2) {
      const g0 = gradHess[2 * r]!
      const h0 = gradHess[2 * r + 1]!
      const g1 = gradHess[2 * r + 2]!
      const h1 = gradHess[2 * r + 3]!
      const b0 = r * nFeatures
      const b1 = b0 + nFeatures
      for (let s = fFrom; s < fTo; s++) {
        const f = features[s]!
        const base = slotBase[f]!
        const k0 = base + rowBins[b0 + f]! * 3
        const k1 = base + rowBins[b1 + f]! * 3
        hist[k0] = hist[k0]! + g0
        hist[k0 + 1] = hist[k0 + 1]! + h0
        scratch[k1] = scratch[k1]! + g1
        scratch[k1 + 1] = scratch[k1 + 1]! + h1
      }
    }
    if (r < nRows) {
      const b0 = r * nFeatures
      for (let s = fFrom; s < fTo; s++) {
        const f = features[s]!
        const k = slotBase[f]! + rowBins[b0 + f]! * 3
        hist[k] = hist[k]! + gradHess[2 * r]!
        hist[k + 1] = hist[k + 1]! + gradHess[2 * r + 1]!
      }
    }
    addSlots(hist, scratch, slotBase, features, fFrom, fTo)
    return
  }
  for (let r = 0; r < nRows; r++) {
    const g = gradHess[2 * r]!
    const h = gradHess[2 * r + 1]!
    const b = r * nFeatures
    for (let s = fFrom; s < fTo; s++) {
      const f = features[s]!
      const k = slotBase[f]! + rowBins[b + f]! * 3
      hist[k] = hist[k]! + g
      hist[k + 1] = hist[k + 1]! + h
      if (withCounts) hist[k + 2] = hist[k + 2]! + 1
    }
  }
}

/**
 * Adds rows `rows[start, end)` to `hist` with `nGradients` gradients per row (stride `nGradients + 2`) for the
 * features `features[fFrom, fTo)`: gradient `c` of row `r` is `grad[c * nRows + r]`. For multi-output trees
 * (random-forest classification). Each slot receives its rows in order whatever the feature range.
 */
export function buildHistogramMulti(
  bins: Uint8Array,
  nRows: number,
  features: Int32Array,
  fFrom: number,
  fTo: number,
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
  for (let s = fFrom; s < fTo; s++) {
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
 *
 * Branch-free: each row is written to both destinations and only the cursors move by the routing bit, because which
 * side a row goes is unpredictable and a mispredicted branch per row cost more than the extra store.
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
    const left = goesLeft[goesLeftOffset + bins[columnStart + r]!]!
    // l ≤ i, so this store never overwrites a row not yet read.
    rows[l] = r
    scratch[nRight] = r
    l += left
    nRight += 1 - left
  }
  for (let j = 0; j < nRight; j++) rows[l + j] = scratch[j]!
  return l
}

/**
 * The first step of {@link partitionRows} split over threads, for one chunk `rows[start, end)` of a node: writes the
 * chunk's left rows in order to `scratch[start …]` and its right rows in reverse order to `scratch[… end − 1]`
 * (both in the chunk's own range, so chunks never touch each other's), reading `rows` only. Returns the number of
 * left rows. {@link placeChunk} then moves each chunk's parts to their final places; all left parts in chunk order,
 * then all right parts, is exactly the one-chunk partition. Branch-free as {@link partitionRows}.
 */
export function partitionChunk(
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
  let r = end - 1
  for (let i = start; i < end; i++) {
    const row = rows[i]!
    const left = goesLeft[goesLeftOffset + bins[columnStart + row]!]!
    // l ≤ r + 1: a store at a cursor that does not move is overwritten by the next row.
    scratch[l] = row
    scratch[r] = row
    l += left
    r -= 1 - left
  }
  return l - start
}

/**
 * The second step: copies the chunk's `nLeft` left rows from `scratch[start …]` to `rows[leftTo …]` and its right rows
 * (reversed in `scratch[… end − 1]`) back in order to `rows[rightTo …]`. Chunks write disjoint ranges of `rows` and
 * read only their own range of `scratch`, so they can run at once.
 */
export function placeChunk(
  rows: Uint32Array,
  scratch: Uint32Array,
  start: number,
  end: number,
  nLeft: number,
  destinations: { readonly leftTo: number; readonly rightTo: number },
): void {
  rows.set(scratch.subarray(start, start + nLeft), destinations.leftTo)
  const nRight = end - start - nLeft
  const rightTo = destinations.rightTo
  for (let j = 0; j < nRight; j++) rows[rightTo + j] = scratch[end - 1 - j]!
}
