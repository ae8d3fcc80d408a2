/**
 * The indicator kernel shared by the one-hot encoder and datetime parts.
 * @module
 */

/**
 * Writes `width` indicator values starting at `out[base]`: 1 at position `slot`, 0 elsewhere; `slot < 0` writes all
 * zeros. Every position is written because callers may hand in a reused buffer. Allocates nothing.
 */
export function writeIndicator(out: Float32Array, base: number, width: number, slot: number): void {
  for (let k = 0; k < width; k++) out[base + k] = k === slot ? 1 : 0
}
