import { describe, expect, it } from 'vitest'
import { Random } from '../../../core/random.js'
import { BinMapper, type BinnedData } from '../binning.js'
import { HistogramBuilder, HistogramPool } from '../histogram.js'
import { type AccumulatorShape, NodeAccumulator } from './external-grower.js'

const nFeatures = 3

/**
 * Binned rows (bins in [0, 11)) and interleaved gradient pairs spread over twelve decades, so that float64 sums of
 * them depend on the order of the additions: a histogram equal bit for bit was summed in the same order.
 */
function rowsOf(nRows: number, seed: number) {
  const rng = new Random(seed)
  const data = new Float32Array(nRows * nFeatures)
  for (let i = 0; i < data.length; i++) data[i] = rng.nextInt(11)
  const X = { data, rows: nRows, cols: nFeatures }
  const binned = BinMapper.fit(X, { maxBins: 32 }).transform(X)
  const gradHess = new Float32Array(2 * nRows)
  for (let i = 0; i < gradHess.length; i++) gradHess[i] = (rng.next() < 0.5 ? -1 : 1) * 10 ** (rng.next() * 12 - 6)
  for (let r = 0; r < nRows; r++) gradHess[2 * r + 1] = Math.abs(gradHess[2 * r + 1]!)
  const slotBase = Int32Array.from(binned.mapper.histogramOffsets.subarray(0, nFeatures + 1), (o) => o * 3)
  return { binned, gradHess, slotBase }
}

type Data = ReturnType<typeof rowsOf>

const features = Int32Array.from([0, 1, 2])
const ALL = { features, nSelected: nFeatures }

/** Feeds the node rows `nodeRows` (ascending) to `acc` chunk by chunk, chunks of the given sizes in turn. */
function feedInChunks(acc: NodeAccumulator, data: Data, nodeRows: Uint32Array, sizes: readonly number[]): void {
  const { binned, gradHess, slotBase } = data
  const nRows = binned.nRows
  const layout = { slotBase, features, nSelected: nFeatures }
  let at = 0
  let j = 0
  for (let s = 0; at < nRows; s++) {
    const n = Math.min(sizes[s % sizes.length]!, nRows - at)
    const bins = new Uint8Array(n * nFeatures)
    for (let f = 0; f < nFeatures; f++) bins.set(binned.bins.subarray(f * nRows + at, f * nRows + at + n), f * n)
    const local: number[] = []
    while (j < nodeRows.length && nodeRows[j]! < at + n) local.push(nodeRows[j++]! - at)
    const rows = Uint32Array.from(local)
    acc.add(
      { bins, nRows: n, rows, gradHess: gradHess.subarray(2 * at, 2 * (at + n)) },
      { start: 0, end: rows.length },
      layout,
    )
    at += n
  }
  acc.finish()
}

/** The in-memory builder's histogram of the node `nodeRows` (the reference), and the builder's range shape. */
function inMemory(data: Data, nodeRows: Uint32Array, histogramUnitRows?: number) {
  const builder = new HistogramBuilder(data.binned as BinnedData, {
    nGradients: 1,
    withCounts: false,
    ...(histogramUnitRows === undefined ? {} : { histogramUnitRows }),
  })
  builder.loadGradients({ gradHess: data.gradHess, offset: 0 })
  const hist = builder.pool.acquire()
  builder.build({ rows: nodeRows, start: 0, end: nodeRows.length }, ALL, hist)
  const shape: AccumulatorShape = { unitRows: builder.unitRows, maxUnits: builder.maxUnits, withCounts: false }
  return { hist, shape, units: builder.rowUnits(nodeRows.length), length: builder.pool.length }
}

/** The gradient and hessian slots (the in-memory kernels leave counts at 0 when they do not need them). */
function sums(hist: Float64Array): number[] {
  return Array.from(hist).filter((_, k) => k % 3 !== 2)
}

describe('NodeAccumulator', () => {
  it('sums a node as the in-memory builder does (same row ranges, partials and accumulators), whatever the chunks', () => {
    const nRows = 20_001
    const data = rowsOf(nRows, 5)
    const rng = new Random(3)
    const cases = [
      // All rows (odd count): 2 ranges of ≥ 8,192 rows, each with two accumulators.
      { fraction: 1, unitRows: undefined, units: 2 },
      // 41%: one range of ≈ 8,200 rows, two accumulators.
      { fraction: 0.41, unitRows: undefined, units: 1 },
      // Ranges of 1,500 rows (one accumulator each) and of ≈ 5,000 rows (two each).
      { fraction: 0.7, unitRows: 1500, units: 9 },
      { fraction: 1, unitRows: 5000, units: 4 },
      { fraction: 0.1, unitRows: undefined, units: 1 },
    ]
    for (const c of cases) {
      const picked = Array.from({ length: nRows }, (_, r) => r).filter(() => c.fraction >= 1 || rng.next() < c.fraction)
      const nodeRows = Uint32Array.from(picked)
      const ref = inMemory(data, nodeRows, c.unitRows)
      expect(ref.units).toBe(c.units)
      for (const sizes of [[1000], [333, 1, 4096], [nRows]]) {
        const acc = new NodeAccumulator(new HistogramPool(ref.length), nodeRows.length, ref.shape)
        expect(acc.units).toBe(c.units)
        feedInChunks(acc, data, nodeRows, sizes)
        expect(sums(acc.hist)).toEqual(sums(ref.hist))
        // Counts are filled whatever the accumulators.
        let count = 0
        for (let k = 2; k < data.slotBase[1]!; k += 3) count += acc.hist[k]!
        expect(count).toBe(nodeRows.length)
      }
    }
  })

  it('gives other bits when the node is cut into other row ranges (the comparison above can fail)', () => {
    const nRows = 20_001
    const data = rowsOf(nRows, 5)
    const all = Uint32Array.from({ length: nRows }, (_, r) => r)
    const ref = inMemory(data, all)
    expect(ref.units).toBe(2)
    const oneRange = new NodeAccumulator(new HistogramPool(ref.length), nRows, { ...ref.shape, maxUnits: 1 })
    feedInChunks(oneRange, data, all, [1000])
    expect(sums(oneRange.hist)).not.toEqual(sums(ref.hist))
    const oneAccumulator = new NodeAccumulator(new HistogramPool(ref.length), nRows, { ...ref.shape, withCounts: true })
    feedInChunks(oneAccumulator, data, all, [1000])
    expect(sums(oneAccumulator.hist)).not.toEqual(sums(ref.hist))
  })

  it('refuses to finish a node that did not receive all its rows', () => {
    const pool = new HistogramPool(33 * 3)
    const acc = new NodeAccumulator(pool, 5, { unitRows: 8192, maxUnits: 32, withCounts: false })
    expect(() => acc.finish()).toThrow(/5 rows received 0/)
  })
})
