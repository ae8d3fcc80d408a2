import { describe, expect, it } from 'vitest'
import { randomEnsemble, randomRows } from './predict/test-helpers.js'
import { predictMarginsInto } from './predict/traverse.js'
import { type TreeEnsemble, TreeEnsembleBuilder } from './tree-ensemble.js'
import {
  MAX_TABLE_FEATURES,
  maxTreeDepth,
  nodeMeanValues,
  tabulatedTrees,
  treeShap,
  treeShapInto,
  treeShapWorkspace,
} from './tree-shap.js'

/**
 * Shapley values by definition, for checking: v(S) is the tree's expected output when only the features in S are
 * known (unknown splits average their children by cover — the path-dependent expectation), and φ_i sums the
 * weighted marginal contributions of i over all 2^(M−1) subsets S.
 */
function bruteForceShap(e: TreeEnsemble, x: Float32Array, output: number): Float64Array {
  const M = e.nFeatures
  const expectation = (i: number, known: number): number => {
    const f = e.feature[i]!
    if (f < 0) return e.value[i]!
    const l = e.left[i]!
    const r = e.right[i]!
    if ((known >> f) & 1) {
      const v = x[f]!
      let left: boolean
      if (Number.isNaN(v)) left = e.defaultLeft[i] === 1
      else if (e.categorical[i] === 1) {
        const list = [...e.categories.subarray(e.categoryOffsets[i]!, e.categoryOffsets[i + 1]!)]
        left = v < 0 || !list.includes(Math.trunc(v))
      } else left = v < e.threshold[i]!
      return expectation(left ? l : r, known)
    }
    return (expectation(l, known) * e.cover[l]! + expectation(r, known) * e.cover[r]!) / e.cover[i]!
  }
  const v = (known: number): number => {
    let sum = 0
    for (let t = 0; t < e.treeGroup.length; t++) {
      if (e.treeGroup[t] === output) sum += expectation(e.treeOffsets[t]!, known)
    }
    return sum
  }
  const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1))
  const phi = new Float64Array(M + 1)
  for (let i = 0; i < M; i++) {
    for (let S = 0; S < 1 << M; S++) {
      if ((S >> i) & 1) continue
      let size = 0
      for (let j = 0; j < M; j++) size += (S >> j) & 1
      const weight = (factorial(size) * factorial(M - size - 1)) / factorial(M)
      phi[i] = phi[i]! + weight * (v(S | (1 << i)) - v(S))
    }
  }
  phi[M] = e.baseMargin[output]! + v(0)
  return phi
}

describe('TreeSHAP', () => {
  it('equals the Shapley values by definition (repeated features, NaN, categories, several outputs)', () => {
    const nFeatures = 4
    const categorical = [3]
    // Depth 6 over 4 features: every path splits some feature twice, which exercises the unwinding.
    const e = randomEnsemble({
      nFeatures,
      nTrees: 6,
      nOutputs: 2,
      depth: 6,
      categoricalFeatures: categorical,
      seed: 11,
    })
    const rows = 12
    const X = randomRows(nFeatures, rows, 5, categorical)
    // Default: every tree from its leaf tables; budget 0: Algorithm 2 for every tree.
    for (const tableBytes of [undefined, 0]) {
      const ws = treeShapWorkspace(e, tableBytes === undefined ? {} : { tableBytes })
      expect(tabulatedTrees(ws).trees).toBe(tableBytes === 0 ? 0 : 6)
      const phi = new Float64Array(rows * 2 * (nFeatures + 1))
      treeShapInto(e, X, rows, phi, ws)
      for (let r = 0; r < rows; r++) {
        const x = X.subarray(r * nFeatures, (r + 1) * nFeatures)
        for (let k = 0; k < 2; k++) {
          const expected = bruteForceShap(e, x, k)
          const at = (r * 2 + k) * (nFeatures + 1)
          for (let j = 0; j <= nFeatures; j++) expect(phi[at + j]).toBeCloseTo(expected[j]!, 10)
        }
      }
    }
  })

  it('gives the same values from leaf tables as Algorithm 2, whatever part of the ensemble the budget tabulates', () => {
    const nFeatures = 9
    const categorical = [2, 7]
    const e = randomEnsemble({
      nFeatures,
      nTrees: 24,
      nOutputs: 3,
      depth: 8,
      categoricalFeatures: categorical,
      seed: 17,
    })
    const rows = 150
    const X = randomRows(nFeatures, rows, 23, categorical)
    const size = rows * 3 * (nFeatures + 1)
    const reference = new Float64Array(size)
    treeShapInto(e, X, rows, reference, treeShapWorkspace(e, { tableBytes: 0 }))
    const all = treeShapWorkspace(e)
    expect(tabulatedTrees(all).trees).toBe(24)
    const some = treeShapWorkspace(e, { tableBytes: Math.floor(tabulatedTrees(all).bytes / 2) })
    const part = tabulatedTrees(some).trees
    expect(part).toBeGreaterThan(0)
    expect(part).toBeLessThan(24)
    for (const ws of [all, some]) {
      const phi = new Float64Array(size)
      treeShapInto(e, X, rows, phi, ws)
      for (let i = 0; i < size; i++) expect(Math.abs(phi[i]! - reference[i]!)).toBeLessThan(1e-12)
    }
  })

  it(`runs Algorithm 2 for a tree with a leaf of more than ${MAX_TABLE_FEATURES} path features`, () => {
    const nFeatures = 40
    const deep = randomEnsemble({ nFeatures, nTrees: 1, depth: 13, full: true, seed: 8 })
    const ws = treeShapWorkspace(deep)
    expect(maxTreeDepth(deep)).toBe(13)
    expect(tabulatedTrees(ws).trees).toBe(0)
    const rows = 3
    const X = randomRows(nFeatures, rows, 2)
    const phi = new Float64Array(rows * (nFeatures + 1))
    treeShapInto(deep, X, rows, phi, ws)
    const margins = new Float64Array(rows)
    predictMarginsInto(deep, X, rows, margins)
    for (let r = 0; r < rows; r++) {
      let sum = 0
      for (let j = 0; j <= nFeatures; j++) sum += phi[r * (nFeatures + 1) + j]!
      expect(sum).toBeCloseTo(margins[r]!, 10)
    }
  })

  it('sums to the margin and reuses a workspace', () => {
    const nFeatures = 7
    const e = randomEnsemble({ nFeatures, nTrees: 20, depth: 8, seed: 3 })
    const rows = 30
    const X = randomRows(nFeatures, rows, 9)
    const ws = treeShapWorkspace(e)
    const out = new Float64Array(rows * (nFeatures + 1)).fill(99)
    treeShapInto(e, X, rows, out, ws)
    const margins = new Float64Array(rows)
    predictMarginsInto(e, X, rows, margins)
    for (let r = 0; r < rows; r++) {
      let sum = 0
      for (let j = 0; j <= nFeatures; j++) sum += out[r * (nFeatures + 1) + j]!
      expect(sum).toBeCloseTo(margins[r]!, 10)
    }
    const again = new Float64Array(out.length)
    treeShapInto(e, X, rows, again, ws)
    expect(again).toEqual(out)
  })

  it('gives a feature that no tree splits on zero, and a stump its whole effect', () => {
    const b = new TreeEnsembleBuilder({ nFeatures: 2, nOutputs: 1, objective: 'reg:squarederror', baseMargin: [1] })
    b.addTree({
      feature: [1, -1, -1],
      threshold: [0, 0, 0],
      left: [1, -1, -1],
      right: [2, -1, -1],
      defaultLeft: [1, 0, 0],
      value: [0, -1, 3],
      cover: [4, 3, 1],
    })
    const e = b.build()
    expect(maxTreeDepth(e)).toBe(1)
    expect(nodeMeanValues(e)[0]).toBe(0) // (−1·3 + 3·1) / 4
    const phi = treeShap(e, { data: Float32Array.of(5, 1), rows: 1, cols: 2 })
    expect([...phi]).toEqual([0, 3, 1])
    expect(() => treeShap(e, { data: Float32Array.of(5), rows: 1, cols: 1 })).toThrow(/expects 2/)
  })
})
