import { describe, expect, it } from 'vitest'
import { Random } from '../../core/random.js'
import { BinMapper } from './binning.js'
import { type GrowerSettings, type GrownTree, TreeGrower } from './tree-grower.js'

const BASE: GrowerSettings = {
  lambda: 0,
  gamma: 0,
  minChildWeight: 0,
  minSamplesLeaf: 1,
  maxCatToOnehot: 4,
  maxCatThreshold: 64,
  maxLeaves: 3,
  maxDepth: null,
  growPolicy: 'leafwise',
  featuresPerSplit: null,
  minSplitGain: 0,
}

/**
 * x = 0..99 (one feature), hessians 1, λ = 0. Gradients −2 below 10, −1 to 49, +1 to 74, +3 from 75. The root's best
 * split is at 50 (score gain 256, against 225 at 75); then the right child's split at 75 gains 50 and the left
 * child's at 10 only 8.
 */
function problem() {
  const n = 100
  const X = { data: Float32Array.from({ length: n }, (_, i) => i), rows: n, cols: 1 }
  const binned = BinMapper.fit(X).transform(X)
  const grad = Float32Array.from({ length: n }, (_, x) => (x < 10 ? -2 : x < 50 ? -1 : x < 75 ? 1 : 3))
  const hess = new Float32Array(n).fill(1)
  return { binned, grad, hess, n }
}

function grow(settings: Partial<GrowerSettings>): GrownTree {
  const { binned, grad, hess, n } = problem()
  const grower = new TreeGrower(binned, 1, { ...BASE, ...settings })
  const rows = Uint32Array.from({ length: n }, (_, i) => i)
  return grower.grow({ grad, hess, rows, nRows: n, allRows: true, features: Int32Array.from([0]), nFeatures: 1 })
}

/** Bin-space split points (last bin going left) of the internal nodes, in node order. */
const splits = (t: GrownTree) => Array.from(t.bin).filter((_, i) => t.feature[i]! >= 0)

describe('TreeGrower', () => {
  it('leaf-wise: spends a leaf budget of 3 on the largest gains (root at 50, then the right child at 75)', () => {
    const tree = grow({ growPolicy: 'leafwise', maxLeaves: 3 })
    expect(tree.nNodes).toBe(5)
    expect(splits(tree)).toEqual([49, 74])
    expect(tree.feature[1]).toBe(-1)
  })

  it('depth-wise: splits level by level, so a budget of 3 goes to the left child first', () => {
    const tree = grow({ growPolicy: 'depthwise', maxLeaves: 3 })
    expect(splits(tree)).toEqual([49, 9])
  })

  it('stops at maxDepth, and without bounds every policy grows the same tree', () => {
    expect(grow({ maxLeaves: null, maxDepth: 1 }).nNodes).toBe(3)
    const trees = (['leafwise', 'depthwise', 'depthfirst'] as const).map((growPolicy) =>
      grow({ growPolicy, maxLeaves: null }),
    )
    const shape = (t: GrownTree) =>
      Array.from({ length: t.nNodes }, (_, i) =>
        t.feature[i]! < 0 ? `leaf ${t.start[i]}-${t.end[i]}` : `split ${t.bin[i]}`,
      ).sort()
    expect(shape(trees[1]!)).toEqual(shape(trees[0]!))
    expect(shape(trees[2]!)).toEqual(shape(trees[0]!))
    // Pure leaves: 0–9, 10–49, 50–74, 75–99.
    expect(trees[0]!.nNodes).toBe(7)
  })

  it('leaves own disjoint row ranges covering every row, and each row is routed to its own leaf', () => {
    const rng = new Random(1)
    const n = 3000
    const X = { data: Float32Array.from({ length: n * 3 }, () => rng.nextInt(50)), rows: n, cols: 3 }
    const binned = BinMapper.fit(X, { categoricalFeatures: [2] }).transform(X)
    const grad = Float32Array.from({ length: n }, () => rng.next() - 0.5)
    const hess = new Float32Array(n).fill(1)
    const grower = new TreeGrower(binned, 1, { ...BASE, maxLeaves: 16, lambda: 1 })
    const rows = Uint32Array.from({ length: n }, (_, i) => i)
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < n; i++) rows[i] = i
      const tree = grower.grow({
        grad,
        hess,
        rows,
        nRows: n,
        allRows: true,
        features: Int32Array.from([0, 1, 2]),
        nFeatures: 3,
      })
      const seen = new Uint8Array(n)
      for (let leaf = 0; leaf < tree.nNodes; leaf++) {
        if (tree.feature[leaf]! >= 0) continue
        for (let j = tree.start[leaf]!; j < tree.end[leaf]!; j++) {
          const r = tree.rows[j]!
          seen[r]!++
          let i = 0
          while (tree.feature[i]! >= 0) {
            const b = binned.bins[tree.feature[i]! * n + r]!
            i = tree.goesLeft[i * 256 + b] === 1 ? tree.left[i]! : tree.right[i]!
          }
          expect(i).toBe(leaf)
        }
      }
      expect(seen.every((v) => v === 1)).toBe(true)
    }
    // Histogram buffers are reused across trees: at most one per open leaf plus the one being built.
    expect(grower.histogramsAllocated).toBeLessThanOrEqual(17)
  })

  it('grows the same trees on 1, 2 and 3 threads with every node threaded (one and three gradients, all policies, nodes cut into row ranges)', () => {
    const rng = new Random(2)
    // Every other row (10,001 of them): big nodes take the two-accumulator path.
    const n = 20_001
    const X = { data: new Float32Array(n * 4), rows: n, cols: 4 }
    for (let i = 0; i < n * 4; i++) X.data[i] = i % 4 === 1 && rng.next() < 0.2 ? Number.NaN : rng.nextInt(60)
    const binned = BinMapper.fit(X, { categoricalFeatures: [3] }).transform(X)
    // Gradients over 2^±20, so that sums in another order would differ in their last bits.
    const grad = Float32Array.from({ length: 3 * n }, () => (rng.next() - 0.5) * 2 ** (rng.nextInt(41) - 20))
    const hess = Float32Array.from({ length: n }, () => 0.5 + rng.next())
    const cases: [number, Partial<GrowerSettings>][] = [
      [1, { growPolicy: 'leafwise', maxLeaves: 24, lambda: 1, minChildWeight: 1 }],
      [1, { growPolicy: 'depthwise', maxLeaves: null, maxDepth: 5, minSamplesLeaf: 30, lambda: 1 }],
      [3, { growPolicy: 'depthfirst', maxLeaves: null, maxDepth: 7, featuresPerSplit: 2 }],
    ]
    for (const [K, settings] of cases) {
      const trees = [1, 2, 3].map((nThreads) => {
        const grower = new TreeGrower(binned, K, {
          ...BASE,
          ...settings,
          nThreads,
          // Small row ranges (several per node), every node threaded, and every unit run by the workers.
          parallel: {
            parallelMinWork: 0,
            parallelMinPartitionRows: 0,
            parallelWorkersOnly: true,
            histogramUnitRows: 700,
          },
        })
        try {
          if (nThreads > 1) expect(grower.histograms.workers?.waitReady(60_000)).toBe(nThreads - 1)
          // Every other row, not shared: the grower works on a shared copy and writes the order back.
          const rows = Uint32Array.from({ length: n }, (_, i) => 2 * i).filter((r) => r < n)
          const tree = grower.grow({
            grad: grad.subarray(0, K * n),
            hess,
            rows,
            nRows: rows.length,
            allRows: false,
            features: Int32Array.from([0, 1, 2, 3]),
            nFeatures: 4,
            random: new Random(5),
          })
          expect(tree.rows).toBe(rows)
          return tree
        } finally {
          grower.close()
        }
      })
      expect(trees[0]!.nNodes).toBeGreaterThan(7)
      expect(trees[1]).toEqual(trees[0])
      expect(trees[2]).toEqual(trees[0])
    }
  })
})
