/**
 * The indicator kernel shared by the one-hot encoder and datetime parts.
 * @module
 */

/** From this width on, `fill` (a native memset) zeroes a slice faster than a JS loop (measured at 24 vs 231). */
const FILL_WIDTH = 64

/**
 * Writes `width` indicator values starting at `out[base]`: 1 at position `slot`, 0 elsewhere; `slot < 0` writes all
 * zeros. Every position is written because callers may hand in a reused buffer. Allocates nothing.
 */
export function writeIndicator(out: Float32Array, base: number, width: number, slot: number): void {
  // A branch-free zero loop then one store measured ~2x faster than a per-position conditional; past FILL_WIDTH
  // the native fill is ~20% faster again.
  if (width >= FILL_WIDTH) out.fill(0, base, base + width)
  else for (let k = base, end = base + width; k < end; k++) out[k] = 0
  if (slot >= 0) out[base + slot] = 1
}
