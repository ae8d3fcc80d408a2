import { describe, expect, it } from 'vitest'
import { Random } from '../../../core/random.js'
import {
  assignNearest,
  centerSquaredNorms,
  euclideanDistances,
  minSquaredDistancesToPoint,
  nearestInertia,
} from './distances.js'
import { createKmeansPlusPlusScratch, kmeansPlusPlus, localTrials, randomRows } from './init.js'
import { minibatchUpdate } from './minibatch-update.js'
import { createReassignScratch, reassignStarvedCenters } from './reassign.js'

describe('distance kernels', () => {
  const X = Float32Array.from([0, 0, 3, 4, 1, 1, 10, 10])
  const centers = Float64Array.from([0, 0, 2, 2, 10, 10])
  const norms = new Float64Array(3)
  centerSquaredNorms(centers, 2, 3, norms)

  it('computes center norms and assigns each row in [start, end) to its nearest center', () => {
    expect(Array.from(norms)).toEqual([0, 8, 200])
    const labels = new Int32Array(4).fill(-1)
    assignNearest(X, 2, centers, norms, 3, labels, 1, 4)
    expect(Array.from(labels)).toEqual([-1, 1, 0, 2])
  })

  it('breaks ties toward the lowest center index', () => {
    const labels = new Int32Array(1)
    const twin = Float64Array.from([1, 0, -1, 0])
    const twinNorms = new Float64Array(2)
    centerSquaredNorms(twin, 2, 2, twinNorms)
    assignNearest(Float32Array.from([0, 5]), 2, twin, twinNorms, 2, labels, 0, 1)
    expect(labels[0]).toBe(0)
  })

  it('sums (weighted) squared distances to the nearest center', () => {
    // rows: (0,0)→c0 0; (3,4)→c1 1+4=5; (1,1)→c0 2; (10,10)→c2 0
    expect(nearestInertia(X, 2, centers, norms, 3, null, 0, 4)).toBe(7)
    expect(nearestInertia(X, 2, centers, norms, 3, Float64Array.from([9, 2, 0.5, 9]), 0, 4)).toBe(11)
    expect(nearestInertia(X, 2, centers, norms, 3, null, 1, 2)).toBe(5)
  })

  it('writes the rows × centers Euclidean distance table for rows [start, end)', () => {
    const out = new Float64Array(6)
    euclideanDistances(X, 2, centers, 3, out, 1, 3)
    const expected = [5, Math.hypot(1, 2), Math.hypot(7, 6), Math.SQRT2, Math.SQRT2, Math.hypot(9, 9)]
    out.forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i]!, 14)
    })
  })

  it('takes the elementwise minimum with the current closest distances and returns the sum', () => {
    const out = new Float64Array(6)
    const closest = Float64Array.from([1, 1, 1, 1])
    const sum = minSquaredDistancesToPoint(X, 2, 4, Float64Array.from([1, 1]), closest, out, 2)
    expect(Array.from(out)).toEqual([0, 0, 1, 1, 0, 1])
    expect(sum).toBe(3)
    expect(minSquaredDistancesToPoint(X, 2, 2, Float64Array.from([0, 0]), null, out, 0)).toBe(25)
  })
})

describe('minibatchUpdate', () => {
  it('moves a center to c + (x̄_w − c) · W / (count + W) and leaves centers without weight untouched', () => {
    const X = Float32Array.from([2, 0, 4, 0, 100, 100, 7, 7])
    const centers = Float64Array.from([0, 0, 50, 50, -1, -1])
    const counts = Float64Array.from([2, 5, 3])
    const labels = Int32Array.from([0, 0, 1, 2])
    const weights = Float64Array.from([1, 3, 0, 2])
    const batch = new Float64Array(3)
    minibatchUpdate(X, 2, 4, weights, labels, centers, counts, 3, batch)
    // center 0: x̄_w = (2·1 + 4·3) / 4 = 3.5, W = 4, count 2 → 0 + 3.5 · 4/6
    expect(centers[0]).toBeCloseTo((3.5 * 4) / 6, 14)
    expect(centers[1]).toBe(0)
    // center 1 got only a zero-weight row: unchanged, count unchanged.
    expect(Array.from(centers.subarray(2, 4))).toEqual([50, 50])
    // center 2: −1 + (7 − −1) · 2 / 5
    expect(centers[4]).toBeCloseTo(-1 + (8 * 2) / 5, 14)
    expect(Array.from(counts)).toEqual([6, 5, 5])
    expect(Array.from(batch)).toEqual([4, 0, 2])
  })

  it('with null weights counts each row once', () => {
    const centers = Float64Array.from([0])
    const counts = Float64Array.from([0])
    minibatchUpdate(
      Float32Array.from([1, 2, 6]),
      1,
      3,
      null,
      Int32Array.from([0, 0, 0]),
      centers,
      counts,
      1,
      new Float64Array(1),
    )
    expect(centers[0]).toBe(3)
    expect(counts[0]).toBe(3)
  })
})

describe('initialization kernels', () => {
  it('uses 2 + ⌊ln k⌋ local trials', () => {
    expect([1, 2, 3, 8, 20, 100].map(localTrials)).toEqual([2, 2, 3, 4, 4, 6])
  })

  it('k-means++ with k = rows picks every row once; its centers are copies of the chosen rows', () => {
    const rows = 7
    const X = Float32Array.from({ length: rows * 2 }, (_, i) => (i * 37) % 11)
    const centers = new Float64Array(rows * 2)
    const chosen = new Int32Array(rows)
    kmeansPlusPlus(X, 2, rows, rows, new Random(3), centers, chosen, createKmeansPlusPlusScratch(rows, 2, rows))
    expect(Array.from(chosen).sort()).toEqual([0, 1, 2, 3, 4, 5, 6])
    chosen.forEach((r, j) => {
      expect([centers[2 * j], centers[2 * j + 1]]).toEqual([X[2 * r], X[2 * r + 1]])
    })
  })

  it('k-means++ never picks a row that duplicates a chosen center while distinct rows remain', () => {
    // Ten copies of (0, 0) and two distinct points: three centers must be the three distinct points.
    const X = new Float32Array(24)
    X.set([5, 5], 20)
    X.set([-3, 8], 22)
    for (let seed = 0; seed < 20; seed++) {
      const centers = new Float64Array(6)
      const chosen = new Int32Array(3)
      kmeansPlusPlus(X, 2, 12, 3, new Random(seed), centers, chosen, createKmeansPlusPlusScratch(12, 2, 3))
      const points = new Set([0, 1, 2].map((j) => `${centers[2 * j]},${centers[2 * j + 1]}`))
      expect(points).toEqual(new Set(['0,0', '5,5', '-3,8']))
    }
  })

  it('random rows are distinct and reproducible from the generator', () => {
    const X = Float32Array.from({ length: 50 }, (_, i) => i)
    const pick = (seed: number) => {
      const chosen = new Int32Array(10)
      randomRows(X, 1, 50, 10, new Random(seed), new Float64Array(10), chosen, new Int32Array(50))
      return Array.from(chosen)
    }
    expect(new Set(pick(1)).size).toBe(10)
    expect(pick(1)).toEqual(pick(1))
    expect(pick(1)).not.toEqual(pick(2))
  })
})

describe('reassignStarvedCenters', () => {
  const X = Float32Array.from({ length: 20 }, (_, i) => 100 + i)

  it('moves centers below ratio × max to distinct batch rows and raises their counts to the smallest kept one', () => {
    const centers = Float64Array.from([1, 2, 3, 4])
    const counts = Float64Array.from([100, 0.5, 40, 0.9])
    const moved = reassignStarvedCenters(X, 1, 20, centers, counts, 4, 0.01, new Random(1), createReassignScratch(4))
    expect(moved).toBe(2)
    expect(centers[0]).toBe(1)
    expect(centers[2]).toBe(3)
    expect(centers[1]).toBeGreaterThanOrEqual(100)
    expect(centers[3]).toBeGreaterThanOrEqual(100)
    expect(centers[1]).not.toBe(centers[3])
    expect(Array.from(counts)).toEqual([100, 40, 40, 40])
  })

  it('moves at most ⌊rows / 2⌋ centers, the lowest counts first', () => {
    const centers = Float64Array.from([1, 2, 3, 4, 5])
    const counts = Float64Array.from([0.3, 0.1, 0.2, 0.4, 100])
    const moved = reassignStarvedCenters(X, 1, 5, centers, counts, 5, 0.5, new Random(2), createReassignScratch(5))
    expect(moved).toBe(2)
    // Centers 1 and 2 (counts 0.1, 0.2) move; 0 and 3 stay and the smallest kept count is 0.3.
    expect([centers[0], centers[3], centers[4]]).toEqual([1, 4, 5])
    expect(Array.from(counts)).toEqual([0.3, 0.3, 0.3, 0.4, 100])
  })

  it('does nothing when every count is zero or none is below the threshold', () => {
    const centers = Float64Array.from([1, 2])
    const scratch = createReassignScratch(2)
    expect(reassignStarvedCenters(X, 1, 20, centers, Float64Array.from([0, 0]), 2, 0.5, new Random(1), scratch)).toBe(0)
    expect(reassignStarvedCenters(X, 1, 20, centers, Float64Array.from([3, 2]), 2, 0.5, new Random(1), scratch)).toBe(0)
    expect(Array.from(centers)).toEqual([1, 2])
  })
})
