import { describe, expect, it } from 'vitest'
import { TreeEnsembleBuilder } from '../tree-ensemble.js'
import { BITSET, compileEnsemble, GENERAL, KIND, MAX_BITSET_CATEGORY } from './compiled.js'
import { classIndicesInto, logit, probabilitiesInto, sigmoid } from './link.js'
import { randomEnsemble, randomRows, referenceLeaf } from './test-helpers.js'
import {
  inCategories,
  leafIndex,
  predictLeavesInto,
  predictMarginsInto,
  predictRowInto,
  ROW_BLOCK,
} from './traverse.js'

/** One categorical stump on feature 0 listing {1, 3}: listed → right (value 2), else left (value 1). */
function categoricalStump(defaultLeft: 0 | 1) {
  const b = new TreeEnsembleBuilder({ nFeatures: 1, nOutputs: 1, objective: 'reg:squarederror', baseMargin: [0] })
  b.addTree({
    feature: [0, -1, -1],
    threshold: [0, 0, 0],
    left: [1, -1, -1],
    right: [2, -1, -1],
    defaultLeft: [defaultLeft, 0, 0],
    value: [0, 1, 2],
    cover: [2, 1, 1],
    categories: [[3, 1], null, null],
  })
  return b.build()
}

function numericStump(threshold: number, defaultLeft: 0 | 1 = 0) {
  const b = new TreeEnsembleBuilder({ nFeatures: 1, nOutputs: 1, objective: 'reg:squarederror', baseMargin: [0] })
  b.addTree({
    feature: [0, -1, -1],
    threshold: [threshold, 0, 0],
    left: [1, -1, -1],
    right: [2, -1, -1],
    defaultLeft: [defaultLeft, 0, 0],
    value: [0, 1, 2],
    cover: [2, 1, 1],
  })
  return b.build()
}

const predictOne = (e: ReturnType<typeof numericStump>, x: number) => {
  const out = new Float64Array(1)
  predictRowInto(e, Float32Array.of(x), out)
  return out[0]
}

describe('decision rule', () => {
  it('goes left iff x < threshold, compared in float32', () => {
    const e = numericStump(0.1) // stored as Math.fround(0.1) ≈ 0.10000000149
    expect(predictOne(e, 0.09)).toBe(1)
    expect(predictOne(e, Math.fround(0.1))).toBe(2) // equal goes right
    // 0.1 as a double is below float32(0.1), but the row is float32, so it equals the threshold: right.
    expect(predictOne(e, 0.1)).toBe(2)
    expect(predictOne(e, Number.POSITIVE_INFINITY)).toBe(2)
    expect(predictOne(e, Number.NEGATIVE_INFINITY)).toBe(1)
  })

  it('keeps the rule at the edges of the compiled comparison (±0, ±∞, subnormals), both default directions', () => {
    const values = [Number.NEGATIVE_INFINITY, -1, -1e-45, -0, 0, 1e-45, 2e-45, 1, Number.POSITIVE_INFINITY, Number.NaN]
    for (const threshold of values.slice(0, -1)) {
      for (const defaultLeft of [0, 1] as const) {
        const e = numericStump(threshold, defaultLeft)
        for (const x of values) {
          const left = Number.isNaN(x) ? defaultLeft === 1 : Math.fround(x) < Math.fround(threshold)
          expect(predictOne(e, x), `x = ${x}, threshold = ${threshold}, defaultLeft = ${defaultLeft}`).toBe(
            left ? 1 : 2,
          )
        }
      }
    }
  })

  it('sends NaN the default way', () => {
    expect(predictOne(numericStump(0), Number.NaN)).toBe(2)
    expect(predictOne(categoricalStump(1), Number.NaN)).toBe(1)
    expect(predictOne(categoricalStump(0), Number.NaN)).toBe(2)
  })

  it('sends listed categories right and every other value left, as XGBoost 1.7', () => {
    const e = categoricalStump(0)
    const cases: [number, number][] = [
      [1, 2],
      [3, 2],
      [1.7, 2], // truncated to 1
      [0, 1],
      [2, 1],
      [2.9, 1],
      [4, 1],
      [1e10, 1],
      [-1, 1],
      [-0.5, 1], // negative is an invalid category, even though it truncates to 0
    ]
    for (const [x, expected] of cases) expect(predictOne(e, x), `x = ${x}`).toBe(expected)
    expect(inCategories(Int32Array.of(0), 0, 1, -0.5)).toBe(false)
    expect(inCategories(Int32Array.of(0), 0, 1, 0.5)).toBe(true)
  })

  it('compiles category lists to bitsets, and keeps the list for categories too large for one', () => {
    const b = new TreeEnsembleBuilder({ nFeatures: 1, nOutputs: 1, objective: 'reg:squarederror', baseMargin: [0] })
    const stump = { feature: [0, -1, -1], threshold: [0, 0, 0], left: [1, -1, -1], right: [2, -1, -1] }
    // Missing goes right on the first (the bitset's negated form), left on the second (a category past any bitset).
    b.addTree({
      ...stump,
      defaultLeft: [0, 0, 0],
      value: [0, 1, 2],
      cover: [2, 1, 1],
      categories: [[0, 31, 32, 63], null, null],
    })
    b.addTree({
      ...stump,
      defaultLeft: [1, 0, 0],
      value: [0, 10, 20],
      cover: [2, 1, 1],
      categories: [[5, MAX_BITSET_CATEGORY + 7], null, null],
    })
    const e = b.build()
    const c = compileEnsemble(e, { fresh: true })
    expect(c.code[c.roots[0]!]! & KIND).toBe(BITSET)
    expect(c.code[c.roots[1]!]! & KIND).toBe(GENERAL)
    const xs = [
      0,
      1,
      30,
      31,
      31.5,
      32,
      33,
      62,
      63,
      64,
      5,
      MAX_BITSET_CATEGORY + 7,
      MAX_BITSET_CATEGORY + 8,
      -0,
      -3,
      Number.NaN,
    ]
    const X = Float32Array.from(xs)
    const out = new Float64Array(xs.length)
    predictMarginsInto(e, X, xs.length, out, { kernel: 'walk' })
    xs.forEach((x, r) => {
      const expected = e.value[referenceLeaf(e, 0, X, r)]! + e.value[referenceLeaf(e, 1, X, r)]!
      expect(out[r], `x = ${x}`).toBe(expected)
      expect(predictOne(e, x), `x = ${x}`).toBe(expected)
    })
  })
})

describe('batch and single-row margins', () => {
  const nFeatures = 6
  const categorical = [4, 5]
  const e = randomEnsemble({
    nFeatures,
    nTrees: 30,
    nOutputs: 3,
    depth: 6,
    categoricalFeatures: categorical,
    seed: 7,
  })
  const rows = ROW_BLOCK * 2 + 17 // more than one block and a partial one
  const X = randomRows(nFeatures, rows, 3, categorical)

  it('agree with a recursive reference walk of the rule', () => {
    const out = new Float64Array(rows * 3)
    predictMarginsInto(e, X, rows, out)
    const nTrees = e.treeGroup.length
    const leaves = new Int32Array(rows * nTrees)
    predictLeavesInto(e, X, rows, leaves)
    for (let r = 0; r < rows; r++) {
      const expected = [...e.baseMargin]
      for (let t = 0; t < nTrees; t++) {
        const leaf = referenceLeaf(e, t, X, r)
        expect(leaves[r * nTrees + t]).toBe(leaf)
        expect(leafIndex(e, e.treeOffsets[t]!, X, r * nFeatures)).toBe(leaf)
        expected[e.treeGroup[t]!]! += e.value[leaf]!
      }
      for (let k = 0; k < 3; k++) expect(out[r * 3 + k]).toBeCloseTo(expected[k]!, 12)
    }
  })

  it('single-row predict equals the batch, with offsets, and float32 sums stay within float32 rounding', () => {
    const batch = new Float64Array(rows * 3)
    predictMarginsInto(e, X, rows, batch)
    const out = new Float64Array(3 * rows)
    for (let r = 0; r < rows; r++) predictRowInto(e, X, out, { offset: r * nFeatures, outOffset: r * 3 })
    expect(out).toEqual(batch)
    const f32 = new Float64Array(rows * 3)
    predictMarginsInto(e, X, rows, f32, { float32: true })
    for (let i = 0; i < f32.length; i++) {
      expect(f32[i]).toBe(Math.fround(f32[i]!))
      expect(Math.abs(f32[i]! - batch[i]!)).toBeLessThan(1e-5)
    }
  })

  it('staged prediction uses the first trees only', () => {
    const out = new Float64Array(rows * 3)
    predictMarginsInto(e, X, rows, out, { nTrees: 0 })
    for (let r = 0; r < rows; r++) expect([...out.subarray(r * 3, r * 3 + 3)]).toEqual([...e.baseMargin])
  })
})

describe('links', () => {
  it('sigmoid/logit invert each other and do not overflow', () => {
    expect(sigmoid(logit(0.3))).toBeCloseTo(0.3, 15)
    expect(sigmoid(-1000)).toBe(0)
    expect(sigmoid(1000)).toBe(1)
  })

  it('gives binary and softmax probabilities and class indices', () => {
    const p = new Float64Array(4)
    probabilitiesInto('binary:logistic', Float64Array.of(0, 2), 2, 1, p)
    expect(p[0]).toBe(0.5)
    expect(p[3]).toBeCloseTo(sigmoid(2), 15)
    const q = new Float64Array(3)
    probabilitiesInto('multi:softprob', Float64Array.of(1000, 1000, 0), 1, 3, q)
    expect([...q]).toEqual([0.5, 0.5, 0])
    const labels = new Float64Array(2)
    classIndicesInto(Float64Array.of(1, 3, 3, 0, 5, 1), 2, 3, labels)
    expect([...labels]).toEqual([1, 1])
  })
})
