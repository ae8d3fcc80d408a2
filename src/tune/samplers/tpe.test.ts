import { describe, expect, it } from 'vitest'
import { Random } from '../../core/random.js'
import {
  categorical,
  contains,
  type Distribution,
  integer,
  internalBounds,
  loguniform,
  type ParamValues,
  type SearchSpace,
  uniform,
} from '../space.js'
import { randomSampler } from './random.js'
import type { Observation, Sampler } from './sampler.js'
import { defaultGamma, defaultWeights, parzenEstimator, splitObservations, tpeSampler } from './tpe.js'

const obs = (number: number, loss: number, state: 'complete' | 'pruned' = 'complete', step = 1): Observation => ({
  number,
  params: {},
  state,
  loss,
  step,
})

describe("Optuna's defaults", () => {
  it('γ(n) = min(⌈0.1·n⌉, 25)', () => {
    expect([1, 10, 11, 100, 249, 250, 251, 1000].map(defaultGamma)).toEqual([1, 1, 2, 10, 25, 25, 25, 25])
  })

  it('weights: 1 up to 25 trials, then a ramp from 1/n over the oldest n − 25', () => {
    expect(Array.from(defaultWeights(3))).toEqual([1, 1, 1])
    const w = defaultWeights(30)
    expect(w.length).toBe(30)
    // numpy.linspace(1/30, 1, 5)
    const ramp = [1 / 30, 1 / 30 + (29 / 30) * 0.25, 1 / 30 + (29 / 30) * 0.5, 1 / 30 + (29 / 30) * 0.75, 1]
    ramp.forEach((v, i) => {
      expect(w[i]).toBeCloseTo(v, 12)
    })
    expect(Array.from(w.subarray(5))).toEqual(new Array(25).fill(1))
  })
})

describe('splitObservations', () => {
  it('ranks complete trials by loss, then pruned ones by budget reached, and returns each group by number', () => {
    const history = [
      obs(0, 0.5),
      obs(1, 0.1, 'pruned', 9),
      obs(2, 0.3),
      obs(3, 0.2, 'pruned', 3),
      obs(4, 0.05, 'pruned', 9),
      obs(5, Number.NaN),
    ]
    const { below, above } = splitObservations(history, 3)
    expect(below.map((o) => o.number)).toEqual([0, 2, 5])
    expect(above.map((o) => o.number)).toEqual([1, 3, 4])
    const split4 = splitObservations(history, 4)
    expect(split4.below.map((o) => o.number)).toEqual([0, 2, 4, 5])
  })
})

describe('Parzen estimators', () => {
  const integrate = (d: Distribution, pdf: (x: number) => number): number => {
    const { low, high } = internalBounds(d)
    const n = 20_000
    let sum = 0
    for (let i = 0; i < n; i++) sum += Math.exp(pdf(low + ((i + 0.5) * (high - low)) / n))
    return (sum * (high - low)) / n
  }

  it('has a density that integrates to 1 on a continuous (log) range', () => {
    const d = loguniform(1e-4, 1)
    const x = [1e-3, 2e-3, 0.5].map(Math.log)
    const est = parzenEstimator(d, x, defaultWeights(3), 1)
    expect(integrate(d, (v) => est.logPdf(v))).toBeCloseTo(1, 4)
  })

  it('puts probabilities summing to 1 on the values of an int range, and samples them accordingly', () => {
    const d = integer(1, 12, { step: 1 })
    const est = parzenEstimator(d, [3, 4, 11], defaultWeights(3), 1)
    let total = 0
    const p: number[] = []
    for (let v = 1; v <= 12; v++) {
      p.push(Math.exp(est.logPdf(v)))
      total += p[p.length - 1]!
    }
    expect(total).toBeCloseTo(1, 10)
    const counts = new Array(12).fill(0)
    const random = new Random(4)
    for (let i = 0; i < 40_000; i++) counts[Math.round(est.sample(random)) - 1]++
    for (let v = 0; v < 12; v++) expect(Math.abs(counts[v] / 40_000 - p[v]!)).toBeLessThan(0.01)
  })

  it('weights categorical choices by their counts plus the prior', () => {
    const d = categorical(['a', 'b', 'c'])
    const est = parzenEstimator(d, [0, 0, 1], defaultWeights(3), 1)
    const p = [0, 1, 2].map((c) => Math.exp(est.logPdf(c)))
    expect(p.reduce((a, b) => a + b)).toBeCloseTo(1, 12)
    // Each of 3 trials: (1/4 everywhere + 1 on its choice) / 1.75; the prior: uniform. Mixture weights 1/4 each.
    const kernel = (own: number, c: number) => (0.25 + (c === own ? 1 : 0)) / 1.75
    const want = [0, 1, 2].map((c) => (kernel(0, c) + kernel(0, c) + kernel(1, c) + 1 / 3) / 4)
    p.forEach((v, c) => {
      expect(v).toBeCloseTo(want[c]!, 12)
    })
  })
})

describe('tpeSampler', () => {
  const space: SearchSpace = {
    lr: loguniform(1e-4, 1),
    leaves: integer(2, 256, { log: true }),
    frac: uniform(0, 1),
    kind: categorical(['a', 'b', 'c', 'd']),
  }

  it('is random for the first 10 trials (the random sampler with the same seed)', () => {
    const tpe = tpeSampler({ seed: 3 })
    const random = randomSampler({ seed: 3 })
    for (let n = 0; n < 10; n++) {
      const history = Array.from({ length: n }, (_, i) => obs(i, i))
      expect(tpe.sample({ space, number: n, history })).toEqual(random.sample({ space, number: n, history: [] }))
    }
  })

  it('is a deterministic function of seed, number and history, and stays inside the space', () => {
    const history = Array.from({ length: 15 }, (_, i) => ({
      ...obs(i, (i * 7) % 5),
      params: randomSampler({ seed: 9 }).sample({ space, number: i, history: [] }),
    }))
    const a = tpeSampler({ seed: 1 }).sample({ space, number: 15, history })
    const b = tpeSampler({ seed: 1 }).sample({ space, number: 15, history: [...history].reverse() })
    expect(a).toEqual(b)
    for (const [name, d] of Object.entries(space)) expect(contains(d, a[name]!)).toBe(true)
    expect(tpeSampler({ seed: 2 }).sample({ space, number: 15, history })).not.toEqual(a)
  })

  /**
   * A known synthetic objective over every distribution type, minimized at lr = 0.01, leaves = 32, frac = 0.7 and
   * kind 'c'. Each sampler gets 60 trials per seed; over the fixed seeds 0..19 TPE must find the lower best loss in at
   * least 15 (a one-sided sign test: P(≥ 15 of 20 | no difference) = 0.021) and a mean best loss below 0.6× random's
   * (measured: 17 wins; mean best loss 0.141 against 0.457).
   */
  it('beats random search on a synthetic objective across 20 fixed seeds (sign test)', () => {
    const objective = (p: ParamValues): number =>
      (Math.log10(p['lr'] as number) + 2) ** 2 +
      (Math.log2(p['leaves'] as number) - 5) ** 2 / 4 +
      4 * ((p['frac'] as number) - 0.7) ** 2 +
      (p['kind'] === 'c' ? 0 : 0.5)
    const bestOf = (sampler: Sampler): number => {
      const history: Observation[] = []
      let best = Number.POSITIVE_INFINITY
      for (let n = 0; n < 60; n++) {
        const params = sampler.sample({ space, number: n, history })
        const loss = objective(params)
        history.push({ number: n, params, state: 'complete', loss, step: 1 })
        best = Math.min(best, loss)
      }
      return best
    }
    let wins = 0
    let tpeTotal = 0
    let randomTotal = 0
    for (let seed = 0; seed < 20; seed++) {
      const t = bestOf(tpeSampler({ seed }))
      const r = bestOf(randomSampler({ seed: 1000 + seed }))
      if (t < r) wins++
      tpeTotal += t
      randomTotal += r
    }
    expect(wins).toBeGreaterThanOrEqual(15)
    expect(tpeTotal).toBeLessThan(0.6 * randomTotal)
  })
})
