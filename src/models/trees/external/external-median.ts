/**
 * The weighted median of the labels of rows on disk (pseudo-Huber's starting margin) in four passes and 1 MiB:
 * a radix selection over the 64 bits of each label's order-preserving key, 16 bits a pass.
 *
 * gbdt.ts sorts the labels and returns the first one at which the running weight, in ascending order, reaches half
 * the total. Here each pass sums the weight of the rows in each 16-bit bucket of the next key digit (among the rows
 * whose earlier digits match the ones chosen) and picks the bucket where the weight below it reaches half the total;
 * after four passes one value is left. Without weights every sum is a whole number, so the result is exactly
 * gbdt.ts's. With weights the sums are added in another order than the sorted one, so the two can differ only when
 * the weight below the median lies within float64 rounding of half the total.
 * @module
 */
import type { ExternalRows } from './external-rows.js'

const BUCKETS = 65_536

/**
 * The weighted median of the rows' labels (`total`: their weight sum, > 0). `label` and `weight` are chunk-sized
 * scratch buffers.
 */
export function externalMedian(
  rows: ExternalRows,
  scratch: { readonly total: number; readonly label: Float64Array; readonly weight: Float64Array },
): number {
  const { total, label, weight } = scratch
  const sums = new Float64Array(BUCKETS)
  const counts = new Float64Array(BUCKETS)
  const bits = new Float64Array(1)
  const words = new Uint32Array(bits.buffer)
  const half = total / 2
  // The chosen digits so far, most significant first.
  const chosen = new Int32Array(4)
  let below = 0
  for (let pass = 0; pass < 4; pass++) {
    sums.fill(0)
    counts.fill(0)
    for (let c = 0; c < rows.nChunks; c++) {
      const n = rows.chunkLength(c)
      rows.readLabels(c, label)
      if (rows.weighted) rows.readWeights(c, weight)
      for (let r = 0; r < n; r++) {
        bits[0] = label[r]!
        // Ordered key: flip every bit of a negative number, the sign bit of a positive one.
        const negative = (words[1]! & 0x80000000) !== 0
        const hi = negative ? ~words[1]! >>> 0 : (words[1]! | 0x80000000) >>> 0
        const lo = negative ? ~words[0]! >>> 0 : words[0]!
        let matches = true
        for (let p = 0; p < pass && matches; p++) matches = digit(hi, lo, p) === chosen[p]
        if (!matches) continue
        const d = digit(hi, lo, pass)
        sums[d] = sums[d]! + (rows.weighted ? weight[r]! : 1)
        counts[d] = counts[d]! + 1
      }
    }
    let pick = -1
    let last = -1
    for (let d = 0; d < BUCKETS; d++) {
      if (counts[d] === 0) continue
      last = d
      if (below + sums[d]! >= half) {
        pick = d
        break
      }
      below += sums[d]!
    }
    // Rounding may leave the sums just short of half the total; gbdt.ts then returns the largest label.
    chosen[pass] = pick >= 0 ? pick : last
  }
  const hi = ((chosen[0]! << 16) | chosen[1]!) >>> 0
  const lo = ((chosen[2]! << 16) | chosen[3]!) >>> 0
  // Back from the ordered key to the float64 bits.
  if ((hi & 0x80000000) !== 0) {
    words[1] = (hi & 0x7fffffff) >>> 0
    words[0] = lo
  } else {
    words[1] = ~hi >>> 0
    words[0] = ~lo >>> 0
  }
  return bits[0]!
}

/** 16-bit digit `p` (0 = most significant) of the key. */
function digit(hi: number, lo: number, p: number): number {
  switch (p) {
    case 0:
      return hi >>> 16
    case 1:
      return hi & 0xffff
    case 2:
      return lo >>> 16
    default:
      return lo & 0xffff
  }
}
