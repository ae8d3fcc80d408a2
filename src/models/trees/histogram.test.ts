import { describe, expect, it } from 'vitest'
import { Random } from '../../core/random.js'
import { BinMapper, type BinnedData } from './binning.js'
import { HistogramBuilder, HistogramPool } from './histogram.js'
import { partitionRows } from './kernels/histogram.js'

/** Binned random data: 3 numeric features (some NaN), 1 categorical; and per-row gradients. */
function setup(nRows: number, seed = 1) {
  const rng = new Random(seed)
  const data = new Float32Array(nRows * 4)
  for (let r = 0; r < nRows; r++) {
    data[r * 4] = rng.next() < 0.1 ? Number.NaN : rng.nextInt(300)
    data[r * 4 + 1] = rng.next()
    data[r * 4 + 2] = rng.nextInt(5)
    data[r * 4 + 3] = rng.nextInt(40)
  }
  const X = { data, rows: nRows, cols: 4 }
  const binned = BinMapper.fit(X, { categoricalFeatures: [3], maxBins: 64 }).transform(X)
  const grad = Float32Array.from({ length: nRows }, () => rng.next() - 0.5)
  const hess = Float32Array.from({ length: nRows }, () => 0.1 + rng.next())
  return { binned, grad, hess, rng }
}

/** The histogram of `rows` by the definition: one slot per (feature, bin), (Σg, Σh, count). */
function reference(binned: BinnedData, rows: ArrayLike<number>, grad: Float32Array, hess: Float32Array): Float64Array {
  const { mapper, nRows, bins } = binned
  const out = new Float64Array(mapper.totalBins * 3)
  for (let f = 0; f < mapper.nFeatures; f++) {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!
      const k = (mapper.histogramOffsets[f]! + bins[f * nRows + r]!) * 3
      out[k] = out[k]! + grad[r]!
      out[k + 1] = out[k + 1]! + hess[r]!
      out[k + 2] = out[k + 2]! + 1
    }
  }
  return out
}

function expectClose(actual: Float64Array, expected: Float64Array): void {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < actual.length; i++) {
    if (Math.abs(actual[i]! - expected[i]!) > 1e-9 * (1 + Math.abs(expected[i]!))) {
      throw new Error(`slot value ${i}: ${actual[i]} vs ${expected[i]}`)
    }
  }
}

const ALL = { features: Int32Array.from([0, 1, 2, 3]), nSelected: 4 }

describe('HistogramBuilder', () => {
  it('builds the defining sums for a subset of rows (one- and two-accumulator paths), and for all rows', () => {
    const { binned, grad, hess } = setup(9001)
    const builder = new HistogramBuilder(binned, { nGradients: 1, withCounts: false })
    builder.loadGradients({ grad, hess })
    // 6,000 rows take the two-accumulator path (≥ 4,096 rows), 900 rows the single one.
    for (const keep of [(r: number) => r % 3 !== 0, (r: number) => r % 10 === 0]) {
      const rows = Uint32Array.from({ length: 9001 }, (_, i) => i).filter(keep)
      const sub = builder.pool.acquire()
      builder.build({ rows, start: 0, end: rows.length }, ALL, sub)
      const expected = reference(binned, rows, grad, hess)
      for (let k = 2; k < expected.length; k += 3) expected[k] = 0
      expectClose(sub, expected)
    }
    const counted = new HistogramBuilder(binned, { nGradients: 1, withCounts: true })
    counted.loadGradients({ grad, hess })
    const rows = Uint32Array.from({ length: 9001 }, (_, i) => i).filter((r) => r % 2 === 1)
    const withCounts = counted.pool.acquire()
    counted.build({ rows, start: 0, end: rows.length }, ALL, withCounts)
    expectClose(withCounts, reference(binned, rows, grad, hess))

    const identity = Uint32Array.from({ length: 9001 }, (_, i) => i)
    const expected = reference(binned, identity, grad, hess)
    const noCounts = new HistogramBuilder(binned, { nGradients: 1, withCounts: false })
    const root = noCounts.pool.acquire()
    noCounts.loadGradients({ grad, hess })
    noCounts.build({ rows: identity, start: 0, end: 9001, allRows: true }, ALL, root)
    // Without counts only the count slots differ (left at 0).
    for (let k = 2; k < expected.length; k += 3) expected[k] = 0
    expectClose(root, expected)
  })

  it('cuts a node into row ranges summed through partial histograms: the defining sums, for every selection', () => {
    const { binned, grad, hess } = setup(9001, 5)
    for (const withCounts of [false, true]) {
      // 250 rows a range: 9,001 rows make the most ranges (32), 3,000 rows make 12, 200 rows one.
      const builder = new HistogramBuilder(binned, { nGradients: 1, withCounts, histogramUnitRows: 250 })
      expect([builder.rowUnits(9001), builder.rowUnits(3000), builder.rowUnits(200)]).toEqual([32, 12, 1])
      builder.loadGradients({ grad, hess })
      for (const keep of [() => true, (r: number) => r % 3 === 0, (r: number) => r % 20 === 1]) {
        const rows = Uint32Array.from({ length: 9001 }, (_, i) => i).filter(keep)
        for (const selection of [ALL, { features: Int32Array.from([1, 3]), nSelected: 2 }]) {
          const h = builder.pool.acquire()
          builder.build({ rows, start: 0, end: rows.length }, selection, h)
          const expected = reference(binned, rows, grad, hess)
          const off = binned.mapper.histogramOffsets
          for (let f = 0; f < 4; f++) {
            const selected = Array.from(selection.features.subarray(0, selection.nSelected)).includes(f)
            for (let k = off[f]! * 3; k < off[f + 1]! * 3; k++) {
              if (!selected || (!withCounts && k % 3 === 2)) expected[k] = 0
            }
          }
          expectClose(h, expected)
          builder.pool.release(h)
        }
      }
    }
  })

  it('derives the larger child by subtraction equal to building it directly (counts exact)', () => {
    const { binned, grad, hess, rng } = setup(4000, 2)
    const builder = new HistogramBuilder(binned, { nGradients: 1, withCounts: true })
    const rows = Uint32Array.from({ length: 4000 }, (_, i) => i)
    const parent = builder.pool.acquire()
    builder.loadGradients({ grad, hess })
    builder.build({ rows, start: 0, end: 4000, allRows: true }, ALL, parent)
    // Split on feature 3's bins with a random routing table, as a tree split does.
    const goesLeft = new Uint8Array(256)
    for (let b = 0; b < 256; b++) goesLeft[b] = rng.next() < 0.3 ? 1 : 0
    const mid = partitionRows(
      rows,
      0,
      4000,
      binned.bins.subarray(3 * 4000, 4 * 4000),
      goesLeft,
      0,
      new Uint32Array(4000),
    )
    expect(mid).toBeGreaterThan(0)
    expect(mid).toBeLessThan(4000)
    const small = builder.pool.acquire()
    builder.loadGradients({ grad, hess })
    builder.build({ rows, start: 0, end: mid }, ALL, small)
    builder.subtract(parent, small)
    const direct = builder.pool.acquire()
    builder.loadGradients({ grad, hess })
    builder.build({ rows, start: mid, end: 4000 }, ALL, direct)
    expectClose(parent, direct)
    for (let k = 2; k < parent.length; k += 3) expect(parent[k]).toBe(direct[k])
  })

  it('fills only the selected features (column sampling)', () => {
    const { binned, grad, hess } = setup(1000, 3)
    const builder = new HistogramBuilder(binned, { nGradients: 1, withCounts: true })
    const rows = Uint32Array.from({ length: 1000 }, (_, i) => i)
    const h = builder.pool.acquire()
    builder.loadGradients({ grad, hess })
    builder.build({ rows, start: 0, end: 1000 }, { features: Int32Array.from([1, 3]), nSelected: 2 }, h)
    const full = reference(binned, rows, grad, hess)
    const off = binned.mapper.histogramOffsets
    for (let f = 0; f < 4; f++) {
      const slice = h.subarray(off[f]! * 3, off[f + 1]! * 3)
      if (f === 1 || f === 3) expectClose(slice, full.subarray(off[f]! * 3, off[f + 1]! * 3))
      else expect(slice.every((v) => v === 0)).toBe(true)
    }
  })

  it('builds multi-gradient histograms (stride nGradients + 2) equal to one single-gradient build per gradient', () => {
    const { binned, grad, hess, rng } = setup(2000, 4)
    const grad2 = Float32Array.from({ length: 2000 }, () => rng.next())
    const both = new Float32Array(4000)
    both.set(grad, 0)
    both.set(grad2, 2000)
    const multi = new HistogramBuilder(binned, { nGradients: 2, withCounts: false })
    expect(multi.stride).toBe(4)
    expect(multi.withCounts).toBe(true)
    const rows = Uint32Array.from({ length: 2000 }, (_, i) => i).filter((r) => r % 2 === 0)
    const h = multi.pool.acquire()
    multi.loadGradients({ grad: both, hess })
    multi.build({ rows, start: 0, end: rows.length }, ALL, h)
    const a = reference(binned, rows, grad, hess)
    const b = reference(binned, rows, grad2, hess)
    for (let slot = 0; slot < binned.mapper.totalBins; slot++) {
      expect(h[slot * 4]).toBeCloseTo(a[slot * 3]!, 9)
      expect(h[slot * 4 + 1]).toBeCloseTo(b[slot * 3]!, 9)
      expect(h[slot * 4 + 2]).toBeCloseTo(a[slot * 3 + 1]!, 9)
      expect(h[slot * 4 + 3]).toBe(a[slot * 3 + 2])
    }
  })
})

describe('partitionRows', () => {
  it('is stable: left rows first, right rows after, each in their original order', () => {
    const bins = Uint8Array.from([0, 1, 0, 2, 1, 0, 2, 2])
    const rows = Uint32Array.from([0, 1, 2, 3, 4, 5, 6, 7])
    const goesLeft = new Uint8Array(256)
    goesLeft[1] = 1
    goesLeft[2] = 1
    const mid = partitionRows(rows, 1, 7, bins, goesLeft, 0, new Uint32Array(8))
    expect(mid).toBe(5)
    expect(Array.from(rows)).toEqual([0, 1, 3, 4, 6, 2, 5, 7])
  })
})

describe('HistogramPool', () => {
  it('reuses released buffers, zeroed', () => {
    const pool = new HistogramPool(8)
    const a = pool.acquire()
    a[3] = 5
    pool.release(a)
    const b = pool.acquire()
    expect(b).toBe(a)
    expect(b[3]).toBe(0)
    expect(pool.allocated).toBe(1)
  })
})
