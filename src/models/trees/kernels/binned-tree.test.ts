import { describe, expect, it } from 'vitest'
import { Random } from '../../../core/random.js'
import { BinMapper } from '../binning.js'
import { TreeGrower } from '../tree-grower.js'
import { addBinnedTreeMargins, assignLeafRows, binnedTreeLeaves } from './binned-tree.js'

describe('leaves of a grown tree', () => {
  it('the leaf a row reaches by walking the tree is the leaf whose row range holds it (and adds that leaf’s value)', () => {
    const rng = new Random(3)
    const n = 3000
    const X = { data: new Float32Array(n * 3), rows: n, cols: 3 }
    for (let i = 0; i < n * 3; i++) X.data[i] = i % 3 === 0 && rng.next() < 0.1 ? Number.NaN : rng.nextInt(40)
    const binned = BinMapper.fit(X, { categoricalFeatures: [2] }).transform(X)
    const grad = Float32Array.from(
      { length: n },
      (_, r) => (X.data[3 * r]! > 20 ? 1 : -1) + (X.data[3 * r + 2]! % 3) - 1 + X.data[3 * r + 1]! / 10,
    )
    const hess = new Float32Array(n).fill(1)
    const grower = new TreeGrower(binned, 1, {
      lambda: 1,
      gamma: 0,
      minChildWeight: 1,
      minSamplesLeaf: 1,
      maxCatToOnehot: 4,
      maxCatThreshold: 64,
      maxLeaves: 12,
      maxDepth: null,
      growPolicy: 'leafwise',
      featuresPerSplit: null,
      minSplitGain: 1e-6,
    })
    // Grown on the even rows; the odd ones are "out of sample".
    const rows = Uint32Array.from({ length: n / 2 }, (_, i) => 2 * i)
    const odd = Uint32Array.from({ length: n / 2 }, (_, i) => 2 * i + 1)
    const tree = grower.grow({
      grad,
      hess,
      rows,
      nRows: n / 2,
      allRows: false,
      features: Int32Array.from([0, 1, 2]),
      nFeatures: 3,
    })
    expect(tree.nNodes).toBeGreaterThan(15)
    const leaves: number[] = []
    for (let i = 0; i < tree.nNodes; i++) if (tree.feature[i] === -1) leaves.push(tree.start[i]!, tree.end[i]!, i)
    const byRange = new Uint16Array(2 * n).fill(65_535)
    // Two ranges of positions, as two threads would.
    const grownRows = tree.rows.slice()
    assignLeafRows(tree.rows, 0, 700, Int32Array.from(leaves), leaves.length / 3, byRange, n, false)
    assignLeafRows(grownRows, 700, n / 2, Int32Array.from(leaves), leaves.length / 3, byRange, n, true)
    expect(grownRows.subarray(700, n / 2)).toEqual(Uint32Array.from({ length: n / 2 - 700 }, (_, j) => 700 + j))
    const byWalk = new Uint16Array(2 * n).fill(65_535)
    binnedTreeLeaves(binned.bins, n, rows, n / 2, tree, byWalk, n)
    binnedTreeLeaves(binned.bins, n, odd, n / 2, tree, byWalk, n)
    for (const r of rows) expect(byRange[n + r]).toBe(byWalk[n + r])
    for (const r of odd) expect(tree.feature[byWalk[n + r]!]).toBe(-1)
    expect(byRange.subarray(0, n).every((v) => v === 65_535)).toBe(true)
    const values = Float64Array.from({ length: tree.nNodes }, (_, i) => i + 0.5)
    const margins = new Float64Array(n)
    addBinnedTreeMargins(
      binned.bins,
      n,
      new Uint32Array(0),
      n,
      tree.feature,
      tree.left,
      tree.right,
      tree.goesLeft,
      values,
      margins,
      1,
      0,
    )
    for (let r = 0; r < n; r++) expect(margins[r]).toBe(byWalk[n + r]! + 0.5)
  })
})
