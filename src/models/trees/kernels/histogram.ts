/**
 * Gradient-histogram kernels. A histogram is a `Float64Array` of slots, one per (feature, bin), each slot `stride`
 * doubles wide: `nGradients` gradient sums, then the hessian sum, then the row count. Feature `f`'s slots start at
 * `offsets[f]` (its value bins, then its missing bin). Binned features arrive column-major (`bins[f * nRows + r]`).
 *
 * A node's rows are `rows[start, end)`; the builder hands the kernels ranges of them (a node cut into row ranges, each
 * into a partial histogram, see histogram.ts), so every kernel takes a range. The single-gradient kernels read a
 * row-major copy of the bins (all of a row's bins in one cache line) and each row's gradient once for all features;
 * the multi-gradient kernel reads the column-major bins feature by feature. Partitions read one feature's column.
 * Pure functions over caller-owned buffers; no allocation.
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
 * (`gradHess[gradOffset + 2r]`, `gradHess[gradOffset + 2r + 1]`): one cache line brings all of a row's bins and one
 * its gradient pair, which matters once a node's rows are sparse in the data. `slotBase[f]` is `3 ×` feature `f`'s
 * first slot and `slotBase[f + 1]` the end of its slots. `identity` says `features[s] === s` (every feature
 * selected), which saves a load per update. With `withCounts` false the count slots are left alone (callers that need
 * no row counts save a third of the writes).
 *
 * Two accumulators: without counts, a range of at least {@link DUAL_MIN_ROWS} rows alternates its rows between
 * `hist` and `scratch` (at least as long; its slots of these features are overwritten), summed at the end. Why: rows
 * often arrive sorted by time, so neighbouring rows share bins (hour, day, month) and each addition would wait for
 * the previous one to the same slot; two accumulators halve those chains (measured 6.4 → 4.5 ns per update on
 * flights-3m). The choice depends on the row range alone, and only the slots of the listed features are read or
 * written, so threads owning disjoint feature ranges of one row range add exactly what one thread owning all would.
 */
export function buildHistogramRows(
  rowBins: Uint8Array,
  nFeatures: number,
  slotBase: Int32Array,
  features: Int32Array,
  fFrom: number,
  fTo: number,
  identity: boolean,
  rows: Uint32Array,
  start: number,
  end: number,
  gradHess: Float32Array,
  gradOffset: number,
  hist: Float64Array,
  scratch: Float64Array,
  withCounts: boolean,
): void {
  if (withCounts) {
    for (let i = start; i < end; i++) {
      const r = rows[i]!
      const g = gradHess[gradOffset + 2 * r]!
      const h = gradHess[gradOffset + 2 * r + 1]!
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
    zeroSlots(scratch, slotBase, features, fFrom, fTo, identity)
    i = identity
      ? dualIdentity(rowBins, nFeatures, slotBase, fFrom, fTo, rows, start, end, gradHess, gradOffset, hist, scratch)
      : dualSelected(
          rowBins,
          nFeatures,
          slotBase,
          features,
          fFrom,
          fTo,
          rows,
          start,
          end,
          gradHess,
          gradOffset,
          hist,
          scratch,
        )
  }
  for (; i < end; i++) {
    const r = rows[i]!
    const g = gradHess[gradOffset + 2 * r]!
    const h = gradHess[gradOffset + 2 * r + 1]!
    const b = r * nFeatures
    for (let s = fFrom; s < fTo; s++) {
      const f = identity ? s : features[s]!
      const k = slotBase[f]! + rowBins[b + f]! * 3
      hist[k] = hist[k]! + g
      hist[k + 1] = hist[k + 1]! + h
    }
  }
  if (dual) addSlots(hist, scratch, slotBase, features, fFrom, fTo, identity)
}

/** The paired loop of {@link buildHistogramRows} over features `fFrom … fTo − 1`; returns the first row left over. */
function dualIdentity(
  rowBins: Uint8Array,
  nFeatures: number,
  slotBase: Int32Array,
  fFrom: number,
  fTo: number,
  rows: Uint32Array,
  start: number,
  end: number,
  gradHess: Float32Array,
  gradOffset: number,
  hist: Float64Array,
  scratch: Float64Array,
): number {
  let i = start
  for (; i + 1 < end; i += 2) {
    const r0 = rows[i]!
    const r1 = rows[i + 1]!
    const g0 = gradHess[gradOffset + 2 * r0]!
    const h0 = gradHess[gradOffset + 2 * r0 + 1]!
    const g1 = gradHess[gradOffset + 2 * r1]!
    const h1 = gradHess[gradOffset + 2 * r1 + 1]!
    const b0 = r0 * nFeatures
    const b1 = r1 * nFeatures
    for (let f = fFrom; f < fTo; f++) {
      const base = slotBase[f]!
      const k0 = base + rowBins[b0 + f]! * 3
      const k1 = base + rowBins[b1 + f]! * 3
      hist[k0] = hist[k0]! + g0
      hist[k0 + 1] = hist[k0 + 1]! + h0
      scratch[k1] = scratch[k1]! + g1
      scratch[k1 + 1] = scratch[k1 + 1]! + h1
    }
  }
  return i
}

/** As {@link dualIdentity} over the features `features[fFrom, fTo)`. */
function dualSelected(
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
  gradOffset: number,
  hist: Float64Array,
  scratch: Float64Array,
): number {
  let i = start
  for (; i + 1 < end; i += 2) {
    const r0 = rows[i]!
    const r1 = rows[i + 1]!
    const g0 = gradHess[gradOffset + 2 * r0]!
    const h0 = gradHess[gradOffset + 2 * r0 + 1]!
    const g1 = gradHess[gradOffset + 2 * r1]!
    const h1 = gradHess[gradOffset + 2 * r1 + 1]!
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
  return i
}

/**
 * Zeroes the slots of features `features[fFrom, fTo)` (`slotBase` as in {@link buildHistogramRows}, any stride);
 * `identity` as there.
 */
export function zeroSlots(
  hist: Float64Array,
  slotBase: Int32Array,
  features: Int32Array,
  fFrom: number,
  fTo: number,
  identity: boolean,
): void {
  if (identity) {
    hist.fill(0, slotBase[fFrom]!, slotBase[fTo]!)
    return
  }
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
  identity: boolean,
): void {
  for (let s = fFrom; s < fTo; s++) {
    const f = identity ? s : features[s]!
    for (let k = slotBase[f]!; k < slotBase[f + 1]!; k++) hist[k] = hist[k]! + other[k]!
  }
}

/**
 * Adds partial histograms `1 … nPartials` (partial `p` at `partials[(p − 1) * length …]`) to `hist`, one after the
 * other in that order, over the slots of features `features[fFrom, fTo)`: every slot receives the same additions in
 * the same order whichever thread merges which features.
 */
export function mergePartials(
  hist: Float64Array,
  partials: Float64Array,
  length: number,
  nPartials: number,
  slotBase: Int32Array,
  features: Int32Array,
  fFrom: number,
  fTo: number,
  identity: boolean,
): void {
  for (let s = fFrom; s < fTo; s++) {
    const f = identity ? s : features[s]!
    for (let k = slotBase[f]!; k < slotBase[f + 1]!; k++) {
      let v = hist[k]!
      for (let p = 1, o = k; p < nPartials; p++, o += length) v += partials[o]!
      hist[k] = v
    }
  }
}

/** Rows per range below which {@link buildHistogramRows} keeps one accumulator (a second does not pay). */
export const DUAL_MIN_ROWS = 4096

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
 * Stable partition of `rows[start, end)` by the bin of each row in `column` (one feature's column of the binned data,
 * `bins.subarray(f * nRows, (f + 1) * nRows)`): rows whose bin `b` has `goesLeft[goesLeftOffset + b] === 1` keep
 * their order at the front, the others keep theirs at the back (through `scratch`). Returns the first index of the
 * right part.
 *
 * Branch-free: each row is written to both destinations and only the cursors move by the routing bit, because which
 * side a row goes is unpredictable and a mispredicted branch per row cost more than the extra store. The column is a
 * view of its own rather than an offset into all the bins: without the addition V8 indexes it with the row itself
 * (measured 3.8 → 3.2 ns per row on flights-3m nodes).
 */
export function partitionRows(
  rows: Uint32Array,
  start: number,
  end: number,
  column: Uint8Array,
  goesLeft: Uint8Array,
  goesLeftOffset: number,
  scratch: Uint32Array,
): number {
  let l = start
  let nRight = 0
  for (let i = start; i < end; i++) {
    const r = rows[i]!
    const left = goesLeft[goesLeftOffset + column[r]!]!
    // l ≤ i, so this store never overwrites a row not yet read.
    rows[l] = r
    scratch[nRight] = r
    l += left
    nRight += 1 - left
  }
  rows.set(scratch.subarray(0, nRight), l)
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
  column: Uint8Array,
  goesLeft: Uint8Array,
  goesLeftOffset: number,
  scratch: Uint32Array,
): number {
  let l = start
  let r = end - 1
  for (let i = start; i < end; i++) {
    const row = rows[i]!
    const left = goesLeft[goesLeftOffset + column[row]!]!
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
  leftTo: number,
  rightTo: number,
): void {
  rows.set(scratch.subarray(start, start + nLeft), leftTo)
  const nRight = end - start - nLeft
  for (let j = 0; j < nRight; j++) rows[rightTo + j] = scratch[end - 1 - j]!
}
