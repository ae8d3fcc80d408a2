/**
 * The conformance suite of {@link StreamingMetric}: chunked updates equal one update, merged shards equal one
 * accumulator, JSON snapshots restore the value and keep accumulating identically, reset forgets, shapes are checked.
 * Each metric's test calls `describeMetricContract` with a factory and some data.
 * @module
 */
import { describe, expect, it } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import { Random } from '../core/random.js'
import type { MetricJSON, NumericArray, StreamingMetric } from './metric.js'

/** One batch of inputs for a metric. */
export interface MetricData {
  readonly yTrue: NumericArray
  readonly yPred: NumericArray
  readonly sampleWeight?: Float64Array
}

/** How to exercise one metric. */
export interface MetricContractOptions<V> {
  /** A fresh accumulator. */
  readonly create: () => StreamingMetric<V>
  /** The class's `fromJSON`. */
  readonly fromJSON: (json: unknown) => StreamingMetric<V>
  /** Inputs: at least a few hundred rows, so chunks and shards are non-trivial. */
  readonly data: MetricData
  /**
   * Relative tolerance of merge vs one accumulator (default 0: bit-identical). Sums of non-integer weights taken in
   * another order round differently, so weighted data needs ~1e-12.
   */
  readonly mergeTolerance?: number
}

/** Runs the metric laws on `options.create()` under `describe(name)`. */
export function describeMetricContract<V>(name: string, options: MetricContractOptions<V>): void {
  const { create, fromJSON, data } = options
  const n = data.yTrue.length
  const perRow = data.yPred.length / n
  const slice = (start: number, end: number): MetricData => ({
    yTrue: data.yTrue.subarray(start, end),
    yPred: data.yPred.subarray(start * perRow, end * perRow),
    ...(data.sampleWeight ? { sampleWeight: data.sampleWeight.subarray(start, end) } : {}),
  })
  const feed = (metric: StreamingMetric<V>, part: MetricData): StreamingMetric<V> => {
    metric.update(part.yTrue, part.yPred, part.sampleWeight)
    return metric
  }
  const whole = (): StreamingMetric<V> => feed(create(), data)
  // Uneven chunk sizes, including empty and single-row chunks, from a fixed sequence.
  const cuts = (): number[] => {
    const out = [0]
    const sizes = [0, 1, 7, 0, 64, 3, 200, 1, 31]
    for (let i = 0; out[out.length - 1]! < n; i++)
      out.push(Math.min(n, out[out.length - 1]! + sizes[i % sizes.length]!))
    return out
  }

  describe(`${name} (streaming metric contract)`, () => {
    it('needs data with several hundred rows (so the laws below test something)', () => {
      expect(n).toBeGreaterThanOrEqual(300)
      expect(Number.isInteger(perRow)).toBe(true)
    })

    it('the data moves the value away from that of an empty accumulator', () => {
      const stringify = (v: unknown): string =>
        JSON.stringify(ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v)
      expect(stringify(whole().value())).not.toBe(stringify(create().value()))
    })

    it('many small updates equal one update, bit for bit', () => {
      const chunked = create()
      const c = cuts()
      for (let i = 1; i < c.length; i++) feed(chunked, slice(c[i - 1]!, c[i]!))
      expect(c.length).toBeGreaterThan(10)
      expect(chunked.rows).toBe(n)
      expectSameValue(chunked.value(), whole().value(), 0)
    })

    it(`merge(A, B, C) equals one accumulator over A ∪ B ∪ C (rel. tol ${options.mergeTolerance ?? 0})`, () => {
      const a = feed(create(), slice(0, Math.floor(n / 3)))
      const b = feed(create(), slice(Math.floor(n / 3), Math.floor((2 * n) / 3)))
      const c = feed(create(), slice(Math.floor((2 * n) / 3), n))
      const merged = a.merge(b as never).merge(c as never)
      expect(merged).toBe(a)
      expect(merged.rows).toBe(n)
      expectSameValue(merged.value(), whole().value(), options.mergeTolerance ?? 0)
    })

    it('merging an empty accumulator changes nothing; merging into an empty one copies', () => {
      const full = whole()
      const before = full.value()
      full.merge(create() as never)
      expectSameValue(full.value(), before, 0)
      const empty = create()
      empty.merge(whole() as never)
      expectSameValue(empty.value(), before, 0)
    })

    it('a JSON snapshot restores the value and keeps accumulating bit-identically', () => {
      const half = Math.floor(n / 2)
      const original = feed(create(), slice(0, half))
      const snapshot: MetricJSON = JSON.parse(JSON.stringify(original.toJSON()))
      const restored = fromJSON(snapshot)
      expect(restored.kind).toBe(original.kind)
      expect(restored.rows).toBe(half)
      expectSameValue(restored.value(), original.value(), 0)
      feed(original, slice(half, n))
      feed(restored, slice(half, n))
      expectSameValue(restored.value(), original.value(), 0)
      expect(JSON.stringify(restored.toJSON())).toBe(JSON.stringify(original.toJSON()))
    })

    it('fromJSON rejects another kind with INVALID_INPUT', () => {
      const json = { ...create().toJSON(), kind: 'not-this-metric' }
      expect(() => fromJSON(json)).toThrowError(expect.objectContaining({ code: 'INVALID_INPUT' }))
    })

    it('reset forgets every row', () => {
      const metric = whole()
      metric.reset()
      expect(metric.rows).toBe(0)
      expect(JSON.stringify(metric.toJSON())).toBe(JSON.stringify(create().toJSON()))
      feed(metric, data)
      expectSameValue(metric.value(), whole().value(), 0)
    })

    it('rejects predictions and weights of the wrong length with INVALID_ARGUMENT', () => {
      const metric = create()
      const short = slice(0, 10)
      let error: unknown
      try {
        metric.update(short.yTrue, data.yPred.subarray(0, 9 * perRow), undefined)
      } catch (e) {
        error = e
      }
      expect(isScalemlError(error, 'INVALID_ARGUMENT')).toBe(true)
      expect(() => metric.update(short.yTrue, short.yPred, new Float64Array(11))).toThrowError(/sampleWeight/)
    })

    it('rejects a negative or NaN weight with INVALID_DATA naming the row', () => {
      const part = slice(0, 10)
      const weights = new Float64Array(10).fill(1)
      weights[4] = -1
      expect(() => create().update(part.yTrue, part.yPred, weights)).toThrowError(/sampleWeight\[4\] is -1/)
      weights[4] = Number.NaN
      expect(() => create().update(part.yTrue, part.yPred, weights)).toThrowError(
        expect.objectContaining({ code: 'INVALID_DATA' }),
      )
    })
  })
}

/**
 * Compares metric values: numbers, typed arrays or objects of numbers; NaN equals NaN; `rel` 0 means identical.
 */
export function expectSameValue(actual: unknown, expected: unknown, rel: number): void {
  if (typeof expected === 'number') {
    expect(typeof actual).toBe('number')
    const a = actual as number
    if (Number.isNaN(expected) || rel === 0) {
      expect(a).toBe(expected)
      return
    }
    expect(Math.abs(a - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)))
    return
  }
  if (ArrayBuffer.isView(expected)) {
    const e = expected as unknown as ArrayLike<number>
    const a = actual as ArrayLike<number>
    expect(a.length).toBe(e.length)
    for (let i = 0; i < e.length; i++) expectSameValue(a[i], e[i], rel)
    return
  }
  if (typeof expected === 'object' && expected !== null) {
    const keys = Object.keys(expected).sort()
    expect(Object.keys(actual as object).sort()).toEqual(keys)
    for (const key of keys) {
      expectSameValue((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], rel)
    }
    return
  }
  expect(actual).toEqual(expected)
}

/** Seeded synthetic inputs for metric tests. */
export interface SyntheticOptions {
  readonly rows: number
  readonly seed: number
  /** Add per-row weights in [0, 3) (some exactly 0). */
  readonly weighted?: boolean
}

function normal(rng: Random): number {
  // Box–Muller; 1 − u keeps the log argument in (0, 1].
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next())
}

function weights(rng: Random, rows: number): Float64Array {
  const w = new Float64Array(rows)
  for (let i = 0; i < rows; i++) w[i] = rng.next() < 0.05 ? 0 : 3 * rng.next()
  return w
}

/** Binary labels drawn from logistic-model probabilities (`yPred` = the probabilities). */
export function syntheticBinary(options: SyntheticOptions): MetricData {
  const rng = new Random(options.seed)
  const yTrue = new Float64Array(options.rows)
  const yPred = new Float64Array(options.rows)
  for (let i = 0; i < options.rows; i++) {
    const p = 1 / (1 + Math.exp(-(normal(rng) * 1.2 - 1.3)))
    yPred[i] = p
    yTrue[i] = rng.next() < p ? 1 : 0
  }
  return options.weighted ? { yTrue, yPred, sampleWeight: weights(rng, options.rows) } : { yTrue, yPred }
}

/** Class indices 0..k-1 and `rows × k` softmax probabilities that favour the true class. */
export function syntheticMulticlass(options: SyntheticOptions & { readonly classes: number }): MetricData {
  const rng = new Random(options.seed)
  const k = options.classes
  const yTrue = new Float64Array(options.rows)
  const yPred = new Float64Array(options.rows * k)
  for (let i = 0; i < options.rows; i++) {
    const y = rng.nextInt(k)
    yTrue[i] = y
    let total = 0
    for (let c = 0; c < k; c++) {
      const e = Math.exp(normal(rng) + (c === y ? 1 : 0))
      yPred[i * k + c] = e
      total += e
    }
    for (let c = 0; c < k; c++) yPred[i * k + c]! /= total
  }
  return options.weighted ? { yTrue, yPred, sampleWeight: weights(rng, options.rows) } : { yTrue, yPred }
}

/** Targets y = offset + N(0, 10) and predictions 0.9·(y − offset) + offset + noise. */
export function syntheticRegression(options: SyntheticOptions & { readonly offset?: number }): MetricData {
  const rng = new Random(options.seed)
  const offset = options.offset ?? 0
  const yTrue = new Float64Array(options.rows)
  const yPred = new Float64Array(options.rows)
  for (let i = 0; i < options.rows; i++) {
    const d = 10 * normal(rng)
    yTrue[i] = offset + d
    yPred[i] = offset + 0.9 * d + 3 * normal(rng)
  }
  return options.weighted ? { yTrue, yPred, sampleWeight: weights(rng, options.rows) } : { yTrue, yPred }
}
