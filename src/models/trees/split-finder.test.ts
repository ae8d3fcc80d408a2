import { describe, expect, it } from 'vitest'
import type { DenseMatrix } from '../../core/matrix.js'
import { BinMapper, type CategoricalBins, type NumericBins } from './binning.js'
import { HistogramBuilder } from './histogram.js'
import { NodeStats, SplitCandidate, SplitFinder, type SplitSettings } from './split-finder.js'

const SETTINGS: SplitSettings = {
  lambda: 1,
  gamma: 0,
  minChildWeight: 0,
  minSamplesLeaf: 1,
  maxCatToOnehot: 4,
  maxCatThreshold: 64,
}

/** The best split of the root over one feature column with per-row gradients (hessians 1). */
function bestSplit(
  values: readonly number[],
  grad: readonly number[],
  options: { categorical?: boolean; settings?: Partial<SplitSettings> } = {},
) {
  const n = values.length
  const X: DenseMatrix = { data: Float32Array.from(values), rows: n, cols: 1 }
  const mapper = BinMapper.fit(X, { categoricalFeatures: options.categorical ? [0] : [] })
  const binned = mapper.transform(X)
  const builder = new HistogramBuilder(binned, { nGradients: 1, withCounts: true })
  const hist = builder.pool.acquire()
  const rows = Uint32Array.from({ length: n }, (_, i) => i)
  const g = Float32Array.from(grad)
  const h = new Float32Array(n).fill(1)
  const features = Int32Array.from([0])
  builder.loadGradients({ grad: g, hess: h })
  builder.build({ rows, start: 0, end: n, allRows: true }, { features, nSelected: 1 }, hist)
  const totals = new NodeStats(1)
  totals.grad[0] = g.reduce((s, v) => s + v, 0)
  totals.hess = n
  totals.count = n
  const settings = { ...SETTINGS, ...options.settings }
  const finder = new SplitFinder(mapper, { nGradients: 1, withCounts: true }, settings)
  const best = new SplitCandidate(1)
  finder.find(hist, totals, features, 1, best)
  return { best, fb: mapper.features[0]!, mapper }
}

/** XGBoost's gain with λ = 1, γ = 0, hessians = row counts. */
function gain(gl: number, nl: number, gr: number, nr: number): number {
  const score = (g: number, h: number) => (g * g) / (h + 1)
  return 0.5 * (score(gl, nl) + score(gr, nr) - score(gl + gr, nl + nr))
}

describe('SplitFinder', () => {
  it('finds the step of a step function, with XGBoost’s gain, and the cut between the two values', () => {
    // x = 0..9; gradients −1 below 6, +1 from 6: the best split is x < 5.5.
    const values = Array.from({ length: 10 }, (_, i) => i)
    const grad = values.map((x) => (x < 6 ? -1 : 1))
    const { best, fb } = bestSplit(values, grad)
    expect(best.found).toBe(true)
    expect(best.feature).toBe(0)
    expect(best.categorical).toBe(false)
    expect((fb as NumericBins).cuts[best.bin]).toBe(5.5)
    expect(best.gain).toBeCloseTo(gain(-6, 6, 4, 4), 12)
    expect(best.left.count).toBe(6)
    expect(best.right.grad[0]).toBe(4)
  })

  it('learns the missing direction: NaN rows go with the side their gradients match', () => {
    const values = [1, 2, 3, 4, 5, 6, Number.NaN, Number.NaN, Number.NaN]
    const toRight = bestSplit(values, [-1, -1, -1, 1, 1, 1, 1, 1, 1]).best
    expect(toRight.defaultLeft).toBe(false)
    expect(toRight.left.count).toBe(3)
    const toLeft = bestSplit(values, [-1, -1, -1, 1, 1, 1, -1, -1, -1]).best
    expect(toLeft.defaultLeft).toBe(true)
    expect(toLeft.left.count).toBe(6)
    expect(toLeft.gain).toBeCloseTo(gain(-6, 6, 3, 3), 12)
  })

  it('separates missing from present values when that is the best split (all values left, missing right)', () => {
    const { best, fb } = bestSplit([1, 2, 3, Number.NaN, Number.NaN], [-1, -1, -1, 2, 2])
    expect(best.bin).toBe(fb.nBins - 1)
    expect(best.defaultLeft).toBe(false)
    expect(best.right.count).toBe(2)
  })

  it('finds a categorical partition: the categories with negative gradients go right, the "other" bin stays left', () => {
    // 10 categories; 1, 4 and 7 have gradient −1, the rest +1. Partition split (more than maxCatToOnehot).
    const values: number[] = []
    const grad: number[] = []
    for (let c = 0; c < 10; c++) {
      for (let k = 0; k < 5; k++) {
        values.push(c)
        grad.push([1, 4, 7].includes(c) ? -1 : 1)
      }
    }
    const { best, fb } = bestSplit(values, grad, { categorical: true })
    const cat = fb as CategoricalBins
    expect(best.categorical).toBe(true)
    const right = Array.from(cat.categories).filter((_, b) => best.rightBins[b] === 1)
    const left = Array.from(cat.categories).filter((_, b) => best.rightBins[b] === 0)
    // The optimal partition is {1,4,7} vs the rest; either side may be the listed one.
    expect([right, left].map((s) => s.join(','))).toContain('1,4,7')
    expect(best.rightBins[cat.otherBin]).toBe(0)
    expect(best.gain).toBeCloseTo(gain(-15, 15, 35, 35), 12)
  })

  it('sorts 200 categories by their gradient ratio: the optimal set is the prefix of the sorted order', () => {
    // Category c has mean gradient (c·37 mod 200 − 99.5)/100, a scrambled order; the optimal partition (Fisher)
    // sends every category with a negative sum one way, which only a correct sort of 200 keys reaches as a prefix.
    const values: number[] = []
    const grad: number[] = []
    for (let c = 0; c < 200; c++) {
      const mean = (((c * 37) % 200) - 99.5) / 100
      for (let k = 0; k < 4; k++) {
        values.push(c)
        grad.push(mean + (k % 2 === 0 ? 0.001 : -0.001))
      }
    }
    const { best, fb } = bestSplit(values, grad, { categorical: true, settings: { maxCatThreshold: 256 } })
    const cat = fb as CategoricalBins
    expect(best.categorical).toBe(true)
    const negative = Array.from({ length: 200 }, (_, c) => c).filter((c) => (c * 37) % 200 < 100)
    const right = Array.from(cat.categories).filter((_, b) => best.rightBins[b] === 1)
    const left = Array.from(cat.categories).filter((_, b) => best.rightBins[b] === 0)
    expect([right, left].map((side) => side.sort((a, b) => a - b).join(','))).toContain(negative.join(','))
  })

  it('splits one category against the rest when a node has at most maxCatToOnehot categories', () => {
    const values = [0, 0, 1, 1, 2, 2]
    const grad = [1, 1, -3, -3, 1, 1]
    const { best, fb } = bestSplit(values, grad, { categorical: true })
    const cat = fb as CategoricalBins
    const right = Array.from(cat.categories).filter((_, b) => best.rightBins[b] === 1)
    expect(right).toEqual([1])
    expect(best.gain).toBeCloseTo(gain(4, 4, -6, 2), 12)
  })

  it('honours minSamplesLeaf, minChildWeight and gamma', () => {
    const values = Array.from({ length: 10 }, (_, i) => i)
    const grad = values.map((x) => (x < 2 ? -5 : 1))
    expect(bestSplit(values, grad).best.left.count).toBe(2)
    const withMin = bestSplit(values, grad, { settings: { minSamplesLeaf: 3 } }).best
    expect(withMin.left.count).toBe(3)
    expect(bestSplit(values, grad, { settings: { minSamplesLeaf: 6 } }).best.found).toBe(false)
    const heavy = bestSplit(values, grad, { settings: { minChildWeight: 4 } }).best
    expect(heavy.left.hess).toBe(4)
    expect(heavy.right.hess).toBeGreaterThanOrEqual(4)
    expect(bestSplit(values, grad, { settings: { minChildWeight: 6 } }).best.found).toBe(false)
    const best = bestSplit(values, grad).best.gain
    expect(bestSplit(values, grad, { settings: { gamma: best + 1 } }).best.gain).toBeLessThan(0)
  })

  it('finds nothing on a constant feature', () => {
    expect(bestSplit([3, 3, 3, 3], [1, -1, 1, -1]).best.found).toBe(false)
  })

  it('writes a routing table that agrees with the split', () => {
    const { best, mapper } = bestSplit([1, 2, 3, Number.NaN], [-1, -1, 1, -1])
    const table = new Uint8Array(512)
    best.writeRouting(mapper, table, 256)
    const fb = mapper.features[0] as NumericBins
    expect(table[256 + 0]).toBe(1)
    expect(table[256 + 1]).toBe(1)
    expect(table[256 + 2]).toBe(0)
    expect(table[256 + fb.missingBin]).toBe(best.defaultLeft ? 1 : 0)
    expect(best.defaultLeft).toBe(true)
  })
})
