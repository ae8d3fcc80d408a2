import { describe, expect, it } from 'vitest'
import { Random } from '../core/random.js'
import { describeMetricContract, syntheticBinary, syntheticMulticlass } from './metric.contract.js'
import { RocAuc } from './roc-auc.js'

const f64 = (values: number[]): Float64Array => Float64Array.from(values)

describeMetricContract('RocAuc binned', {
  create: () => new RocAuc(),
  fromJSON: RocAuc.fromJSON,
  data: syntheticBinary({ rows: 3000, seed: 1 }),
})
describeMetricContract('RocAuc binned, weighted, 8 bits', {
  create: () => new RocAuc({ mantissaBits: 8 }),
  fromJSON: RocAuc.fromJSON,
  data: syntheticBinary({ rows: 3000, seed: 2, weighted: true }),
  mergeTolerance: 1e-12,
})
describeMetricContract('RocAuc exact', {
  create: () => new RocAuc({ mode: 'exact' }),
  fromJSON: RocAuc.fromJSON,
  data: syntheticBinary({ rows: 2000, seed: 3, weighted: true }),
  mergeTolerance: 1e-12,
})

/** Brute force over all pairs: the definition of AUC with ties as 1/2. */
function pairwiseAuc(y: Float64Array, s: Float64Array, w?: Float64Array): number {
  let num = 0
  let den = 0
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 1) continue
    for (let j = 0; j < y.length; j++) {
      if (y[j] !== 0) continue
      const ww = (w?.[i] ?? 1) * (w?.[j] ?? 1)
      den += ww
      num += ww * (s[i]! > s[j]! ? 1 : s[i] === s[j] ? 0.5 : 0)
    }
  }
  return num / den
}

describe('RocAuc', () => {
  it('computes the documented example (0.75) exactly in both modes', () => {
    for (const mode of ['binned', 'exact'] as const) {
      const auc = new RocAuc({ mode })
      auc.update(f64([0, 0, 1, 1]), f64([0.1, 0.4, 0.35, 0.8]))
      expect(auc.value()).toBe(0.75)
      expect(auc.maxError()).toBe(0)
    }
  })

  it('matches the pairwise definition with ties and weights (exact mode, 1e-12)', () => {
    const rng = new Random(11)
    const n = 400
    const y = new Float64Array(n)
    const s = new Float64Array(n)
    const w = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      y[i] = rng.next() < 0.3 ? 1 : 0
      s[i] = Math.round(rng.next() * 20) / 20 + (y[i] === 1 ? 0.1 : 0)
      w[i] = rng.next() < 0.1 ? 0 : rng.next() * 2
    }
    const exact = new RocAuc({ mode: 'exact' })
    exact.update(y, s, w)
    expect(Math.abs(exact.value() - pairwiseAuc(y, s, w))).toBeLessThan(1e-12)
  })

  it('is exact (maxError 0) when no bin holds two distinct scores: 2,000 distinct integer scores', () => {
    const rng = new Random(5)
    const n = 20_000
    const y = new Float64Array(n)
    const s = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      s[i] = rng.nextInt(2000) - 1000
      y[i] = rng.next() < 0.2 + (0.6 * (s[i]! + 1000)) / 2000 ? 1 : 0
    }
    const binned = new RocAuc({ mantissaBits: 12 })
    const exact = new RocAuc({ mode: 'exact' })
    binned.update(y, s)
    exact.update(y, s)
    expect(binned.maxError()).toBe(0)
    expect(Math.abs(binned.value() - exact.value())).toBeLessThan(1e-14)
    expect(binned.value()).toBeGreaterThan(0.6)
  })

  it('reports pos·neg/(2PN) for a bin mixing two scores, and the truth lies within it', () => {
    // 0.5 and 0.5 + 1e-9 share a bin; the positive is above the negative, so the exact AUC is 1.
    const auc = new RocAuc()
    auc.update(f64([1, 0]), f64([0.5 + 1e-9, 0.5]))
    expect(auc.value()).toBe(0.5)
    expect(auc.maxError()).toBe(0.5)
    const exact = new RocAuc({ mode: 'exact' })
    exact.update(f64([1, 0]), f64([0.5 + 1e-9, 0.5]))
    expect(exact.value()).toBe(1)
    expect(Math.abs(auc.value() - exact.value())).toBeLessThanOrEqual(auc.maxError())
  })

  it('keeps |binned − exact| ≤ maxError ≤ 1e-4 on 300k logistic-model probabilities (14 bits)', () => {
    const data = syntheticBinary({ rows: 300_000, seed: 7, weighted: true })
    const binned = new RocAuc()
    const exact = new RocAuc({ mode: 'exact' })
    binned.update(data.yTrue, data.yPred, data.sampleWeight)
    exact.update(data.yTrue, data.yPred, data.sampleWeight)
    const { auc, maxError } = binned.summary()
    expect(maxError).toBeGreaterThan(0)
    expect(maxError).toBeLessThanOrEqual(1e-4)
    expect(Math.abs(auc - exact.value())).toBeLessThanOrEqual(maxError + 1e-12)
  })

  it('handles margins of both signs, ±0, tiny and huge magnitudes and ±Infinity like the exact sort', () => {
    const rng = new Random(9)
    const n = 5000
    const y = new Float64Array(n)
    const s = new Float64Array(n)
    const specials = [0, -0, 5e-324, -5e-324, 1e-300, -1e-300, 1e300, -1e300, Infinity, -Infinity]
    for (let i = 0; i < n; i++) {
      const z = (rng.next() - 0.5) * 40
      y[i] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0
      s[i] = i < 200 ? specials[i % specials.length]! : z
    }
    const binned = new RocAuc()
    const exact = new RocAuc({ mode: 'exact' })
    binned.update(y, s)
    exact.update(y, s)
    expect(Math.abs(binned.value() - exact.value())).toBeLessThanOrEqual(binned.maxError() + 1e-12)
    expect(binned.maxError()).toBeLessThan(1e-4)
    expect(exact.value()).toBeGreaterThan(0.8)
  })

  it('treats -0 and +0 as the same score (a tie, and no mixed bin)', () => {
    const auc = new RocAuc()
    auc.update(f64([1, 0]), f64([-0, 0]))
    expect(auc.value()).toBe(0.5)
    expect(auc.maxError()).toBe(0)
  })

  it('survives a JSON round trip with infinite scores in both modes', () => {
    for (const mode of ['binned', 'exact'] as const) {
      const auc = new RocAuc({ mode })
      auc.update(f64([1, 0, 1, 0]), f64([Infinity, -Infinity, 0.3, 0.2]))
      const restored = RocAuc.fromJSON(JSON.parse(JSON.stringify(auc.toJSON())))
      expect(restored.value()).toBe(1)
      restored.update(f64([0]), f64([Infinity]))
      expect(restored.value()).toBe(0.75)
    }
  })

  it('returns NaN (not an error) while only one class has been seen, then recovers', () => {
    const auc = new RocAuc()
    expect(auc.value()).toBeNaN()
    auc.update(f64([1, 1]), f64([0.2, 0.9]))
    expect(auc.value()).toBeNaN()
    expect(auc.maxError()).toBeNaN()
    expect(auc.summary()).toMatchObject({ positives: 2, negatives: 0 })
    auc.update(f64([0]), f64([0.5]))
    expect(auc.value()).toBe(0.5)
  })

  it('ignores rows of weight 0 except in the row count', () => {
    const auc = new RocAuc()
    auc.update(f64([1, 0, 0]), f64([0.9, 0.1, 0.95]), f64([1, 1, 0]))
    expect(auc.value()).toBe(1)
    expect(auc.rows).toBe(3)
  })

  it('one-vs-rest on column c equals the binary AUC of (y == c) against that column', () => {
    const data = syntheticMulticlass({ rows: 2000, seed: 4, classes: 3, weighted: true })
    for (let c = 0; c < 3; c++) {
      const ovr = new RocAuc()
      ovr.updateOneVsRest(data.yTrue, data.yPred, { classIndex: c, sampleWeight: data.sampleWeight })
      const y = data.yTrue.map((v) => (v === c ? 1 : 0))
      const s = new Float64Array(2000).map((_, i) => data.yPred[i * 3 + c]!)
      const binary = new RocAuc()
      binary.update(y, s, data.sampleWeight)
      expect(ovr.value()).toBe(binary.value())
      expect(ovr.value()).toBeGreaterThan(0.6)
    }
  })

  it('rejects labels other than 0/1 and NaN scores with INVALID_DATA naming the row', () => {
    const auc = new RocAuc()
    expect(() => auc.update(f64([0, 2]), f64([0.1, 0.2]))).toThrowError(
      expect.objectContaining({
        code: 'INVALID_DATA',
        message: 'RocAuc.update: the label of row 1 is 2; expected 0 or 1.',
      }),
    )
    expect(() => auc.update(f64([0, 1, 1]), f64([0.1, 0.2, Number.NaN]))).toThrowError(
      expect.objectContaining({
        code: 'INVALID_DATA',
        message: 'RocAuc: the score of row 2 is NaN; expected a number.',
      }),
    )
    expect(() => auc.updateOneVsRest(f64([0, 3]), f64([0.5, 0.5, 0.5, 0.5]), { classIndex: 0 })).toThrowError(
      /the label of row 1 is 3; expected a class index in \[0, 1\]/,
    )
    expect(() => auc.updateOneVsRest(f64([0, 1]), f64([0.5, 0.5, 0.5, 0.5]), { classIndex: 2 })).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
  })

  it('validates its options with INVALID_PARAM and refuses to merge unlike accumulators', () => {
    expect(() => new RocAuc({ mantissaBits: 30 })).toThrowError(
      expect.objectContaining({ code: 'INVALID_PARAM', message: expect.stringMatching(/'mantissaBits'.*\[4, 20\]/) }),
    )
    expect(() => new RocAuc({ mode: 'fast' as never })).toThrowError(expect.objectContaining({ code: 'INVALID_PARAM' }))
    expect(() => new RocAuc().merge(new RocAuc({ mantissaBits: 10 }))).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
    expect(() => new RocAuc().merge(new RocAuc({ mode: 'exact' }))).toThrowError(/parameters differ/)
  })

  it('fromJSON names the bad field', () => {
    const json = new RocAuc().toJSON()
    const broken = { ...json, state: { ...json.state, keys: [1, 2], pos: [1] } }
    expect(() => RocAuc.fromJSON(broken)).toThrowError(
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('state.pos') }),
    )
  })

  it('allocates bins only where scores fall: probabilities in (0, 1) use a few pages', () => {
    const data = syntheticBinary({ rows: 50_000, seed: 8 })
    const auc = new RocAuc()
    auc.update(data.yTrue, data.yPred)
    const json = auc.toJSON()
    const keys = json.state['keys'] as number[]
    const pages = new Set(keys.map((k) => Math.floor(k / 1024)))
    let lo = 1
    for (const p of data.yPred) lo = Math.min(lo, p)
    // A page is 1/16 of an octave, so the scores' octaves bound the page count.
    const octaves = Math.ceil(-Math.log2(lo)) + 1
    expect(octaves).toBeLessThan(12)
    expect(pages.size).toBeLessThanOrEqual(16 * octaves)
    expect(keys.length).toBeLessThanOrEqual(50_000)
    expect([...keys].sort((a, b) => a - b)).toEqual(keys)
  })
})
