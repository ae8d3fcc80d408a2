/**
 * Finiteness scans over typed arrays, one monomorphic function per array type so V8 keeps each loop fast.
 * @module
 */

/**
 * Index of the first NaN or ±Infinity in `x[start, end)`, or -1. A branch-free pass first (`v * 0` is NaN exactly
 * for NaN and ±Infinity; four sums so the loop is not bound by the latency of one chain), the locating loop only
 * when it found something.
 */
export function firstNonFiniteF32(x: Float32Array, start: number, end: number): number {
  let p0 = 0
  let p1 = 0
  let p2 = 0
  let p3 = 0
  let i = start
  for (; i + 3 < end; i += 4) {
    p0 += x[i]! * 0
    p1 += x[i + 1]! * 0
    p2 += x[i + 2]! * 0
    p3 += x[i + 3]! * 0
  }
  for (; i < end; i++) p0 += x[i]! * 0
  if (p0 + p1 + p2 + p3 === 0) return -1
  for (let j = start; j < end; j++) if (!Number.isFinite(x[j]!)) return j
  return -1
}

/** Index of the first NaN or ±Infinity in `x[start, end)`, or -1. */
export function firstNonFiniteF64(x: Float64Array, start: number, end: number): number {
  let p = 0
  for (let i = start; i < end; i++) p += x[i]! * 0
  if (p === 0) return -1
  for (let j = start; j < end; j++) if (!Number.isFinite(x[j]!)) return j
  return -1
}

/** True when every value of `a[start, end)` is finite. */
export function allFinite(a: Float64Array, start: number, end: number): boolean {
  return firstNonFiniteF64(a, start, end) === -1
}
