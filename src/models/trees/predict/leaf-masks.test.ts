import { describe, expect, it } from 'vitest'
import { type TreeEnsemble, TreeEnsembleBuilder } from '../tree-ensemble.js'
import { compileLeafMasks, leafMaskMarginsInto } from './leaf-masks.js'
import { randomEnsemble, randomLeafwiseEnsemble, randomRows, referenceLeaf } from './test-helpers.js'
import { batchKernelOf, predictMarginsInto } from './traverse.js'

/** Margins by the walking kernel and by the tables (built whatever the cost estimate), both float32 modes. */
function bothKernels(e: TreeEnsemble, X: Float32Array, rows: number) {
  const masks = compileLeafMasks(e, { force: true })
  if (masks === undefined) throw new Error('expected tables')
  const result = []
  for (const float32 of [false, true]) {
    const walked = new Float64Array(rows * e.nOutputs)
    predictMarginsInto(e, X, rows, walked, { kernel: 'walk', float32 })
    const tabled = new Float64Array(rows * e.nOutputs).fill(Number.NaN)
    leafMaskMarginsInto(masks, X, rows, tabled, float32)
    result.push({ walked, tabled })
  }
  return result
}

/** Every threshold of `e` (and its neighbours), ±0, ±∞ and NaN, on every feature: the edges of the intervals. */
function edgeRows(e: TreeEnsemble): { X: Float32Array; rows: number } {
  const values = new Set<number>([0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, -1, 7])
  for (let i = 0; i < e.feature.length; i++) {
    if (e.feature[i]! < 0) continue
    const t = e.threshold[i]!
    values.add(t)
    values.add(Math.fround(t + 1e-6))
    values.add(Math.fround(t - 1e-6))
  }
  const list = [...values]
  const rows = list.length * e.nFeatures
  const X = new Float32Array(rows * e.nFeatures)
  // Row (v, f): feature f takes value v, the others cycle through the list so rows differ elsewhere too.
  for (let v = 0; v < list.length; v++) {
    for (let f = 0; f < e.nFeatures; f++) {
      const r = v * e.nFeatures + f
      for (let g = 0; g < e.nFeatures; g++) X[r * e.nFeatures + g] = list[(v + 3 * g + 1) % list.length]!
      X[r * e.nFeatures + f] = list[v]!
    }
  }
  return { X, rows }
}

describe('leaf-mask tables', () => {
  it('give bit-identical margins to the walking kernel (categories, NaN, several outputs, float32 sums)', () => {
    const nFeatures = 6
    const categorical = [4, 5]
    const e = randomEnsemble({
      nFeatures,
      nTrees: 40,
      nOutputs: 3,
      depth: 6,
      categoricalFeatures: categorical,
      seed: 9,
    })
    const rows = 700
    const X = randomRows(nFeatures, rows, 13, categorical)
    for (const { walked, tabled } of bothKernels(e, X, rows)) expect(tabled).toEqual(walked)
  })

  it('put every row in the reference leaf at the interval edges (thresholds, ±0, ±∞, NaN)', () => {
    const e = randomEnsemble({ nFeatures: 3, nTrees: 12, depth: 5, seed: 21 })
    const { X, rows } = edgeRows(e)
    for (const { walked, tabled } of bothKernels(e, X, rows)) expect(tabled).toEqual(walked)
    // The margins follow from the reference leaves, so the tables hold the rule itself, not just the walker's.
    const out = new Float64Array(rows)
    leafMaskMarginsInto(compileLeafMasks(e, { force: true })!, X, rows, out, false)
    for (let r = 0; r < rows; r++) {
      let expected = e.baseMargin[0]!
      for (let t = 0; t < 12; t++) expected += e.value[referenceLeaf(e, t, X, r)]!
      expect(out[r]).toBe(expected)
    }
  })

  it('handle trees of more than 32 leaves (several words a tree) and a single-leaf tree', () => {
    const e = randomLeafwiseEnsemble({ nFeatures: 4, nTrees: 6, leaves: 75, seed: 3 })
    const b = new TreeEnsembleBuilder({ nFeatures: 4, nOutputs: 1, objective: 'binary:logistic', baseMargin: [0] })
    for (let t = 0; t < 6; t++) {
      const o = e.treeOffsets[t]!
      const end = e.treeOffsets[t + 1]!
      const local = (i: number) => (i < 0 ? -1 : i - o)
      b.addTree({
        feature: [...e.feature.subarray(o, end)],
        threshold: [...e.threshold.subarray(o, end)],
        left: [...e.left.subarray(o, end)].map(local),
        right: [...e.right.subarray(o, end)].map(local),
        defaultLeft: [...e.defaultLeft.subarray(o, end)],
        value: [...e.value.subarray(o, end)],
        cover: [...e.cover.subarray(o, end)],
      })
    }
    b.addTree({ feature: [-1], threshold: [0], left: [-1], right: [-1], defaultLeft: [0], value: [0.5], cover: [1] })
    const withStump = b.build()
    const masks = compileLeafMasks(withStump, { force: true })!
    expect(masks.words).toBe(6 * 3 + 1)
    const rows = 500
    const X = randomRows(4, rows, 4)
    for (const { walked, tabled } of bothKernels(withStump, X, rows)) expect(tabled).toEqual(walked)
  })

  it('handle categories beyond the listed ones, negative and fractional codes', () => {
    const b = new TreeEnsembleBuilder({ nFeatures: 2, nOutputs: 1, objective: 'reg:squarederror', baseMargin: [0] })
    b.addTree({
      feature: [0, 1, -1, -1, -1],
      threshold: [0, 0, 0, 0, 0],
      left: [1, 3, -1, -1, -1],
      right: [2, 4, -1, -1, -1],
      defaultLeft: [0, 1, 0, 0, 0],
      value: [0, 0, 1, 2, 3],
      cover: [4, 2, 2, 1, 1],
      categories: [[1, 40], [0, 2], null, null, null],
    })
    const e = b.build()
    const xs = [-1, -0.5, -0, 0, 0.5, 1, 1.9, 2, 39, 40, 40.5, 41, 1e9, Number.NaN, Number.POSITIVE_INFINITY]
    const X = new Float32Array(xs.length * xs.length * 2)
    let rows = 0
    for (const a of xs) {
      for (const c of xs) {
        X[2 * rows] = a
        X[2 * rows + 1] = c
        rows++
      }
    }
    for (const { walked, tabled } of bothKernels(e, X, rows)) expect(tabled).toEqual(walked)
  })

  it('are chosen for few features and not for many, and never for a feature split both ways', () => {
    const few = randomEnsemble({ nFeatures: 4, nTrees: 50, depth: 5, categoricalFeatures: [3], seed: 2 })
    expect(batchKernelOf(few)).toBe('masks')
    const many = randomLeafwiseEnsemble({ nFeatures: 80, nTrees: 50, leaves: 31, seed: 2 })
    expect(batchKernelOf(many)).toBe('walk')
    // Feature 0 numerical in one tree and categorical in another: one table cannot hold both rules.
    const b = new TreeEnsembleBuilder({ nFeatures: 1, nOutputs: 1, objective: 'reg:squarederror', baseMargin: [0] })
    const stump = { feature: [0, -1, -1], left: [1, -1, -1], right: [2, -1, -1], defaultLeft: [1, 0, 0] }
    b.addTree({ ...stump, threshold: [0.5, 0, 0], value: [0, 1, 2], cover: [2, 1, 1] })
    b.addTree({ ...stump, threshold: [0, 0, 0], value: [0, 3, 4], cover: [2, 1, 1], categories: [[1], null, null] })
    expect(compileLeafMasks(b.build(), { force: true })).toBeUndefined()
  })

  it('are used by predictMarginsInto by default, and staged prediction walks', () => {
    const e = randomEnsemble({ nFeatures: 3, nTrees: 20, depth: 4, seed: 5 })
    expect(batchKernelOf(e)).toBe('masks')
    const rows = 300
    const X = randomRows(3, rows, 8)
    const auto = new Float64Array(rows)
    const walked = new Float64Array(rows)
    predictMarginsInto(e, X, rows, auto)
    predictMarginsInto(e, X, rows, walked, { kernel: 'walk' })
    expect(auto).toEqual(walked)
    const staged = new Float64Array(rows)
    predictMarginsInto(e, X, rows, staged, { nTrees: 10 })
    const firstTen = new Float64Array(rows)
    for (let r = 0; r < rows; r++) {
      firstTen[r] = e.baseMargin[0]!
      for (let t = 0; t < 10; t++) firstTen[r] = firstTen[r]! + e.value[referenceLeaf(e, t, X, r)]!
    }
    expect(staged).toEqual(firstTen)
  })
})
