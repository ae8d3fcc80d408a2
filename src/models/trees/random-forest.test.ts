import { describe, expect, it } from 'vitest'
import { isScalemlError, type ScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'
import { Random } from '../../core/random.js'
import { RandomForestClassifier, RandomForestRegressor } from './random-forest.js'
import { treeCount } from './tree-ensemble.js'

function catchError(fn: () => unknown): ScalemlError {
  try {
    fn()
  } catch (error) {
    if (isScalemlError(error)) return error
    throw error
  }
  throw new Error('expected a ScalemlError')
}

function uniform(rows: number, cols: number, seed: number): DenseMatrix {
  const rng = new Random(seed)
  return { data: Float32Array.from({ length: rows * cols }, () => rng.next() * 10), rows, cols }
}

const xor = (X: DenseMatrix) =>
  Float64Array.from({ length: X.rows }, (_, r) => (X.data[r * X.cols]! > 5 !== X.data[r * X.cols + 1]! > 5 ? 1 : 0))

function accuracy(a: Float64Array, b: Float64Array): number {
  let ok = 0
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) ok++
  return ok / a.length
}

describe('RandomForestClassifier', () => {
  it('learns XOR (no single split helps) with deep trees; probabilities are averaged leaf frequencies', () => {
    const X = uniform(3000, 4, 1)
    const test = uniform(2000, 4, 2)
    const forest = new RandomForestClassifier({ nEstimators: 30, maxFeatures: 'all' })
    forest.fit(X, xor(X))
    expect(accuracy(forest.predict(test), xor(test))).toBeGreaterThan(0.98)
    const e = forest.ensemble
    expect(treeCount(e)).toBe(30)
    expect(e.objective).toBe('reg:squarederror')
    const p = forest.predictProba(test)
    for (let r = 0; r < 20; r++) {
      expect(p[2 * r]! + p[2 * r + 1]!).toBeCloseTo(1, 12)
      // An average of 30 leaf frequencies: a multiple of 1/30 when every leaf is pure.
      expect(p[2 * r + 1]! * 30).toBeCloseTo(Math.round(p[2 * r + 1]! * 30), 6)
    }
    const gain = forest.featureImportance('gain')
    expect(gain[0]! + gain[1]!).toBeGreaterThan(5 * (gain[2]! + gain[3]!))
  })

  it('grows one shared structure per forest tree for three classes (one ensemble tree per class)', () => {
    const X = uniform(2000, 3, 3)
    const y = Float64Array.from({ length: 2000 }, (_, r) => Math.min(2, Math.floor(X.data[r * 3 + 2]! / 3.34)))
    const forest = new RandomForestClassifier({ nEstimators: 10 })
    forest.fit(X, y)
    const e = forest.ensemble
    expect(forest.classes).toEqual([0, 1, 2])
    expect(treeCount(e)).toBe(30)
    expect(Array.from(e.treeGroup.subarray(0, 6))).toEqual([0, 1, 2, 0, 1, 2])
    expect(e.feature.subarray(e.treeOffsets[0]!, e.treeOffsets[1]!)).toEqual(
      e.feature.subarray(e.treeOffsets[1]!, e.treeOffsets[2]!),
    )
    const p = forest.predictProba(X)
    expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 12)
    expect(accuracy(forest.predict(X), y)).toBeGreaterThan(0.99)
  })

  it('honours maxDepth and minSamplesLeaf, and is deterministic for a seed', () => {
    const X = uniform(1000, 4, 4)
    const y = xor(X)
    const shallow = new RandomForestClassifier({ nEstimators: 5, maxDepth: 2, seed: 3 })
    shallow.fit(X, y)
    const e = shallow.ensemble
    for (let t = 0; t < treeCount(e); t++) expect(e.treeOffsets[t + 1]! - e.treeOffsets[t]!).toBeLessThanOrEqual(7)
    const big = new RandomForestClassifier({ nEstimators: 5, minSamplesLeaf: 50, seed: 3 })
    big.fit(X, y)
    const again = new RandomForestClassifier({ nEstimators: 5, minSamplesLeaf: 50, seed: 3 })
    again.fit(X, y)
    expect(again.ensemble).toEqual(big.ensemble)
    // With ≥ 50 distinct rows per leaf, a 1000-row bootstrap sample (≈ 632 distinct) has at most 12 leaves.
    for (let t = 0; t < 5; t++) expect(big.ensemble.treeOffsets[t + 1]! - big.ensemble.treeOffsets[t]!).toBeLessThan(25)
  })

  it('round-trips through toJSON / fromJSON', () => {
    const X = uniform(500, 3, 5)
    const forest = new RandomForestClassifier({ nEstimators: 5 })
    forest.fit(X, xor(X))
    const again = RandomForestClassifier.fromJSON(forest.toJSON())
    expect(again.predictProba(X)).toEqual(forest.predictProba(X))
    expect(catchError(() => RandomForestRegressor.fromJSON(forest.toJSON())).code).toBe('ARTIFACT_INVALID')
  })

  it('rejects single-class labels and bad params', () => {
    const X = uniform(10, 2, 6)
    expect(catchError(() => new RandomForestClassifier().fit(X, new Float64Array(10))).code).toBe('INVALID_DATA')
    const bad = catchError(() => new RandomForestClassifier({ maxFeatures: 'half' as 'all' }).fit(X, xor(X)))
    expect(bad.code).toBe('INVALID_PARAM')
    expect(bad.message).toContain("The 'maxFeatures' parameter of RandomForestClassifier must be one of")
  })
})

describe('RandomForestRegressor', () => {
  it('averages least-squares trees: close on a smooth function, exact leaf means without bootstrap', () => {
    const X = uniform(3000, 2, 7)
    const f = (r: number, A: DenseMatrix) => Math.sin(A.data[r * 2]!) * 3 + A.data[r * 2 + 1]!
    const y = Float64Array.from({ length: 3000 }, (_, r) => f(r, X))
    const test = uniform(1000, 2, 8)
    const forest = new RandomForestRegressor({ nEstimators: 20 })
    forest.fit(X, y)
    const p = forest.predict(test)
    let mae = 0
    for (let r = 0; r < 1000; r++) mae += Math.abs(p[r]! - f(r, test))
    expect(mae / 1000).toBeLessThan(0.15)
    // No bootstrap, all features, one leaf per distinct row: every tree interpolates, so the forest does too.
    const exact = new RandomForestRegressor({ nEstimators: 3, bootstrap: false })
    const small = uniform(50, 2, 9)
    const ys = Float64Array.from({ length: 50 }, (_, r) => f(r, small))
    exact.fit(small, ys)
    const q = exact.predict(small)
    for (let r = 0; r < 50; r++) expect(q[r]).toBeCloseTo(ys[r]!, 4)
  })
})
