/**
 * Histogram kernels of external-memory training: they add the rows of one chunk (a slice of the training rows read
 * from disk, bins column-major `bins[f * nRows + r]`, gradients interleaved `gradHess[2r]`, `gradHess[2r + 1]`) to a
 * node histogram (stride 3: gradient, hessian, count), so that a node's histogram builds up chunk by chunk.
 *
 * Why separate kernels: to give the model the in-memory trainer gives, each slot must receive the node's rows in the
 * same order and through the same accumulators as kernels/histogram.ts, whose two-accumulator path alternates rows
 * by their position in a node's row range. Across chunks that position carries over, so the kernels here take the
 * parity of the first row instead of assuming 0, and never sum the two accumulators themselves (the caller does it
 * once, when the range ends: external/external-grower.ts `NodeAccumulator`). Count slots are always filled: external growth reads child sizes from them before a pass (the
 * split search ignores them unless it checks row counts), and counts are exact whatever the order.
 * Pure functions over caller-owned buffers; no allocation.
 * @module
 */

/**
 * Adds rows `rows[start, end)` of a chunk of `nRows` rows to the slots of features `features[0, nSelected)`,
 * feature by feature (each slot still receives the rows in list order). The row at list position `i` goes to `even`
 * when `parity + (i − start)` is even, else to `odd`; pass one buffer as both for a single accumulator.
 * `slotBase[f]` is `3 ×` feature `f`'s first slot.
 */
export function addChunkRows(
  bins: Uint8Array,
  nRows: number,
  slotBase: Int32Array,
  features: Int32Array,
  nSelected: number,
  rows: Uint32Array,
  start: number,
  end: number,
  gradHess: Float32Array,
  even: Float64Array,
  odd: Float64Array,
  parity: number,
): void {
  for (let s = 0; s < nSelected; s++) {
    const f = features[s]!
    const col = f * nRows
    const base = slotBase[f]!
    if (even === odd) {
      for (let i = start; i < end; i++) {
        const r = rows[i]!
        const k = base + bins[col + r]! * 3
        even[k] = even[k]! + gradHess[2 * r]!
        even[k + 1] = even[k + 1]! + gradHess[2 * r + 1]!
        even[k + 2] = even[k + 2]! + 1
      }
      continue
    }
    let i = start
    if (parity === 1 && i < end) {
      const r = rows[i]!
      const k = base + bins[col + r]! * 3
      odd[k] = odd[k]! + gradHess[2 * r]!
      odd[k + 1] = odd[k + 1]! + gradHess[2 * r + 1]!
      odd[k + 2] = odd[k + 2]! + 1
      i++
    }
    for (; i + 1 < end; i += 2) {
      const r0 = rows[i]!
      const r1 = rows[i + 1]!
      const k0 = base + bins[col + r0]! * 3
      const k1 = base + bins[col + r1]! * 3
      even[k0] = even[k0]! + gradHess[2 * r0]!
      even[k0 + 1] = even[k0 + 1]! + gradHess[2 * r0 + 1]!
      even[k0 + 2] = even[k0 + 2]! + 1
      odd[k1] = odd[k1]! + gradHess[2 * r1]!
      odd[k1 + 1] = odd[k1 + 1]! + gradHess[2 * r1 + 1]!
      odd[k1 + 2] = odd[k1 + 2]! + 1
    }
    if (i < end) {
      const r = rows[i]!
      const k = base + bins[col + r]! * 3
      even[k] = even[k]! + gradHess[2 * r]!
      even[k + 1] = even[k + 1]! + gradHess[2 * r + 1]!
      even[k + 2] = even[k + 2]! + 1
    }
  }
}

/** `hist += other` over the slots of features `features[0, nSelected)` (`slotBase[f + 1]` ends feature `f`'s). */
export function addFeatureSlots(
  hist: Float64Array,
  other: Float64Array,
  slotBase: Int32Array,
  features: Int32Array,
  nSelected: number,
): void {
  for (let s = 0; s < nSelected; s++) {
    const f = features[s]!
    for (let k = slotBase[f]!; k < slotBase[f + 1]!; k++) hist[k] = hist[k]! + other[k]!
  }
}

/** Adds `value` to `out[offset + rows[i]]` for `i` in `[start, end)` (a leaf's rows of one chunk). */
export function addLeafValue(
  rows: Uint32Array,
  start: number,
  end: number,
  value: number,
  out: Float64Array,
  offset: number,
): void {
  for (let i = start; i < end; i++) {
    const o = offset + rows[i]!
    out[o] = out[o]! + value
  }
}
