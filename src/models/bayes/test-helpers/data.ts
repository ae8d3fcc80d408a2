/**
 * Synthetic problems and comparison helpers shared by the naive Bayes tests (not part of the build).
 * @module
 */
import { isScalemlError, type ScalemlError } from '../../../core/errors.js'
import type { DenseMatrix } from '../../../core/matrix.js'
import { Random } from '../../../core/random.js'

/** Rows, labels and per-row weights. */
export interface Problem {
  readonly X: DenseMatrix
  readonly y: Float64Array
  readonly w: Float64Array
}

/** Which synthetic features to draw. */
export type FeatureKind = 'gaussian' | 'counts' | 'binary' | 'fractional'

/** A seeded problem with `nClasses` classes (labels `10 + k`, so labels are not indices) and class-dependent features. */
export function problem(
  rows: number,
  options: { nClasses: number; kind: FeatureKind; seed: number; cols?: number },
): Problem {
  const { nClasses, kind, seed } = options
  const cols = options.cols ?? 4
  const rng = new Random(seed)
  const data = new Float32Array(rows * cols)
  const y = new Float64Array(rows)
  const w = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    const k = rng.nextInt(nClasses)
    y[r] = 10 + k
    w[r] = 0.2 + 1.8 * rng.next()
    for (let j = 0; j < cols; j++) {
      const u = rng.next()
      const shift = (k + 1) * (j + 1) * 0.3
      let v: number
      switch (kind) {
        case 'gaussian':
          v = 3 * shift + gaussian(rng) * (1 + j) + (j === cols - 1 ? 1000 : 0)
          break
        case 'counts':
          // Each class favours every third feature, so the count proportions (what the multinomial model sees) differ.
          v = Math.floor(u * 4 * ((k + j) % 3 === 0 ? 3 : 1))
          break
        case 'binary':
          v = u < 0.2 + 0.15 * ((k + j) % 4) ? 1 : 0
          break
        case 'fractional':
          v = u * (1 + shift)
          break
      }
      data[r * cols + j] = v
    }
  }
  return { X: { data, rows, cols }, y, w }
}

function gaussian(rng: Random): number {
  const u = Math.max(rng.next(), 1e-12)
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next())
}

/** Rows `[a, b)` of a problem. */
export function slice(p: Problem, a: number, b: number): Problem {
  const cols = p.X.cols
  return {
    X: { data: p.X.data.slice(a * cols, b * cols), rows: b - a, cols },
    y: p.y.slice(a, b),
    w: p.w.slice(a, b),
  }
}

/** The classes `10, 11, …` of a problem with `n` classes. */
export function classesOf(n: number): number[] {
  return Array.from({ length: n }, (_, k) => 10 + k)
}

/** Largest |a − e| relative to max(|e|, 1e-6 · max|e|); equal values (infinities included) count as 0. */
export function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY
  let scale = 0
  for (let i = 0; i < expected.length; i++)
    if (Number.isFinite(expected[i]!)) scale = Math.max(scale, Math.abs(expected[i]!))
  let worst = 0
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!
    const a = actual[i]!
    if (Object.is(a, e)) continue
    worst = Math.max(worst, Math.abs(a - e) / Math.max(Math.abs(e), 1e-6 * scale, Number.MIN_VALUE))
  }
  return worst
}

/** The bytes of a Float64Array, for bit-identical comparisons (NaN payloads and −0 included). */
export function bits(a: Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
}

/** Runs `fn` and returns the ScalemlError it throws; fails otherwise. */
export function catchError(fn: () => unknown): ScalemlError {
  try {
    fn()
  } catch (error) {
    if (isScalemlError(error)) return error
    throw error
  }
  throw new Error('expected a ScalemlError')
}

/** JSON text round trip with typed arrays written as plain arrays (what a JSON-only store would do). */
export function throughJsonText<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_key, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v)))
}
