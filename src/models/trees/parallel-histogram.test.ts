import { afterAll, describe, expect, it, vi } from 'vitest'
import { Random } from '../../core/random.js'
import { BinMapper, type BinnedData } from './binning.js'
import { HistogramBuilder, sharedIf } from './histogram.js'
import { emptyTask, OP } from './histogram-tasks.js'
import { partitionRows } from './kernels/histogram.js'
import { HistogramWorkers, histogramWorkerStats, liveHistogramWorkers } from './parallel-histogram.js'

/** Binned random rows: 4 numeric features (some NaN, some with few values), 2 categorical; gradients in float32. */
function setup(nRows: number, seed = 1) {
  const rng = new Random(seed)
  const cols = 6
  const data = new Float32Array(nRows * cols)
  for (let r = 0; r < nRows; r++) {
    data[r * cols] = rng.next() < 0.1 ? Number.NaN : rng.nextInt(300)
    data[r * cols + 1] = rng.next()
    data[r * cols + 2] = rng.nextInt(5)
    data[r * cols + 3] = rng.next() < 0.3 ? Number.NaN : rng.next() * 1e-3
    data[r * cols + 4] = rng.nextInt(40)
    data[r * cols + 5] = rng.nextInt(7)
  }
  const X = { data, rows: nRows, cols }
  const binned = BinMapper.fit(X, { categoricalFeatures: [4, 5], maxBins: 64 }).transform(X)
  // Gradients over 2^±30: float64 sums of float32 values that far apart are inexact, so any change in the order of
  // the additions shows in the last bits.
  const grad = Float32Array.from({ length: 3 * nRows }, () => (rng.next() - 0.5) * 2 ** (rng.nextInt(61) - 30))
  const hess = Float32Array.from({ length: nRows }, () => rng.next() * 2 ** -rng.nextInt(40))
  // The last rows, which the two-accumulator paths add apart, below 1: their low bits fall under the last bit of the
  // sums they join, so adding them to the other accumulator would round differently.
  for (let r = nRows - 12; r < nRows; r++) {
    for (let c = 0; c < 3; c++) grad[c * nRows + r] = (rng.next() - 0.5) * 2 ** -8
    hess[r] = rng.next() * 2 ** -8
  }
  return { binned, grad, hess, rng }
}

/** Feature `f`'s column of the binned rows. */
const column = (binned: BinnedData, f: number) => binned.bins.subarray(f * binned.nRows, (f + 1) * binned.nRows)

/** Every value equal, bit for bit (Object.is also tells −0 from 0). */
function expectIdentical(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) throw new Error(`index ${i}: ${actual[i]} vs ${expected[i]}`)
  }
}

const builders: HistogramBuilder[] = []

/** Rows per histogram row range in these tests: nodes of a few thousand rows are cut into several. */
const UNIT_ROWS = 1000

/** A builder on one thread with the tests' row ranges. */
function oneThread(binned: BinnedData, options: { nGradients: number; withCounts: boolean }) {
  return new HistogramBuilder(binned, { ...options, histogramUnitRows: UNIT_ROWS })
}

/** A builder whose workers take every node and run every unit, with its workers started and waited for. */
function threaded(binned: BinnedData, options: { nGradients: number; withCounts: boolean; nThreads: number }) {
  const b = new HistogramBuilder(binned, {
    ...options,
    parallelMinWork: 0,
    parallelMinPartitionRows: 0,
    parallelWorkersOnly: true,
    histogramUnitRows: UNIT_ROWS,
  })
  builders.push(b)
  expect(b.workers?.waitReady(60_000)).toBe(options.nThreads - 1)
  return b
}

afterAll(() => {
  for (const b of builders) b.close()
})

const shared = (values: ArrayLike<number>) => {
  const out = new Uint32Array(new SharedArrayBuffer(4 * values.length))
  out.set(values)
  return out
}

describe('HistogramBuilder with worker threads', () => {
  it('builds histograms bit-identical to one thread on every path (row ranges, counts, subsets, two and three threads)', () => {
    const unitsBefore = histogramWorkerStats.units
    // An odd and an even row count: the two-accumulator paths treat a last unpaired row apart.
    for (const n of [9001, 8000]) {
      const { binned, grad, hess } = setup(n)
      const single = grad.subarray(0, n)
      const ids = Array.from({ length: n }, (_, i) => i)
      const large = shared(ids.filter((r) => r % 3 !== 0))
      const nodes = [
        { rows: large, start: 0, end: large.length },
        { rows: large, start: 17, end: large.length - 2 },
        { rows: shared(ids.filter((r) => r % 3 !== 1 && r !== 5)), start: 0, end: n - Math.ceil(n / 3) - 1 },
        { rows: shared(ids.filter((r) => r % 10 === 0)), start: 0, end: Math.ceil(n / 10) },
        { rows: shared(ids), start: 0, end: n, allRows: true },
      ]
      for (const withCounts of [false, true]) {
        const one = oneThread(binned, { nGradients: 1, withCounts })
        const many = [2, 3].map((nThreads) => threaded(binned, { nGradients: 1, withCounts, nThreads }))
        for (const b of [one, ...many]) b.loadGradients({ grad: single, hess })
        for (const selection of [
          { features: Int32Array.from([0, 1, 2, 3, 4, 5]), nSelected: 6 },
          { features: Int32Array.from([1, 3, 4]), nSelected: 3 },
          { features: Int32Array.from([2]), nSelected: 1 },
        ]) {
          for (const node of nodes) {
            const expected = one.pool.acquire()
            for (const b of many) {
              const h = b.pool.acquire()
              // Builds add to what the buffer holds.
              expected.fill(0.25)
              h.fill(0.25)
              one.build(node, selection, expected)
              b.build(node, selection, h)
              expectIdentical(h, expected)
              b.pool.release(h)
            }
            one.pool.release(expected)
          }
        }
      }
    }
    expect(histogramWorkerStats.units).toBeGreaterThan(unitsBefore)
  })

  it('builds multi-gradient histograms bit-identical to one thread, from unshared gradient arrays too', () => {
    const n = 5000
    const { binned, grad, hess } = setup(n, 2)
    const rows = shared(Array.from({ length: n }, (_, i) => i).filter((r) => r % 4 !== 0))
    const one = oneThread(binned, { nGradients: 3, withCounts: true })
    const two = threaded(binned, { nGradients: 3, withCounts: true, nThreads: 2 })
    for (const b of [one, two]) b.loadGradients({ grad, hess })
    const selection = { features: Int32Array.from([0, 2, 4, 5]), nSelected: 4 }
    const expected = one.pool.acquire()
    const actual = two.pool.acquire()
    const unitsBefore = histogramWorkerStats.units
    one.build({ rows, start: 3, end: rows.length }, selection, expected)
    two.build({ rows, start: 3, end: rows.length }, selection, actual)
    expectIdentical(actual, expected)
    // Three row ranges of 1,250 rows, each a unit the worker ran.
    expect(histogramWorkerStats.units).toBe(unitsBefore + 3)
  })

  it('partitions rows exactly as one thread does (stable, left rows first)', () => {
    const n = 20_000
    const { binned, rng } = setup(n, 3)
    const two = threaded(binned, { nGradients: 1, withCounts: false, nThreads: 2 })
    const three = threaded(binned, { nGradients: 1, withCounts: false, nThreads: 3 })
    const goesLeft = new Uint8Array(512)
    for (let b = 0; b < 512; b++) goesLeft[b] = rng.next() < 0.4 ? 1 : 0
    const base = Array.from({ length: n }, (_, i) => i).filter((r) => r % 7 !== 3)
    for (const [feature, start, end] of [
      [4, 0, base.length],
      [0, 101, base.length - 50],
      [3, 5, 9],
    ] as const) {
      const expected = Uint32Array.from(base)
      const mid = partitionRows(expected, start, end, column(binned, feature), goesLeft, 256, new Uint32Array(n))
      for (const b of [two, three]) {
        const rows = shared(base)
        const scratch = new Uint32Array(new SharedArrayBuffer(4 * n))
        expect(b.partition({ rows, start, end, scratch }, feature, { goesLeft, offset: 256 })).toBe(mid)
        expectIdentical(rows, expected)
      }
    }
  })

  it('runs each unit exactly once when the calling thread takes back jobs its workers have not joined', () => {
    const n = 4000
    const { binned, rng } = setup(n, 7)
    const b = new HistogramBuilder(binned, {
      nGradients: 1,
      withCounts: false,
      nThreads: 3,
      parallelMinWork: 0,
      parallelMinPartitionRows: 0,
    })
    builders.push(b)
    expect(b.workers?.waitReady(60_000)).toBe(2)
    const before = histogramWorkerStats.tasks + histogramWorkerStats.takenBack
    const goesLeft = new Uint8Array(256)
    const scratch = new Uint32Array(new SharedArrayBuffer(4 * n))
    const rounds = 300
    for (let i = 0; i < rounds; i++) {
      for (let k = 0; k < 256; k++) goesLeft[k] = rng.next() < 0.5 ? 1 : 0
      // Small nodes: a share often ends before its worker wakes, and is then taken back; a share run twice would
      // partition its rows twice and scramble them.
      const base = Array.from({ length: n }, (_, r) => r).filter(() => rng.next() < 0.05)
      const expected = Uint32Array.from(base)
      const mid = partitionRows(expected, 0, base.length, column(binned, 0), goesLeft, 0, new Uint32Array(n))
      const rows = shared(base)
      expect(b.partition({ rows, start: 0, end: base.length, scratch }, 0, { goesLeft, offset: 0 })).toBe(mid)
      expectIdentical(rows, expected)
    }
    // Every posted job (two workers, two steps per partition) was either joined by its worker or taken back.
    expect(histogramWorkerStats.tasks + histogramWorkerStats.takenBack - before).toBe(2 * 2 * rounds)
  })

  it('reports a unit that throws in a worker as an error on the calling thread', () => {
    const { binned } = setup(100, 4)
    const b = threaded(binned, { nGradients: 1, withCounts: false, nThreads: 2 })
    const workers = b.workers!
    const task = { ...emptyTask(), op: OP.boost, objective: 99, nUnits: 1 }
    task.margin = sharedIf(true, Float64Array, 100)
    task.label = sharedIf(true, Float64Array, 100)
    task.gradHess = sharedIf(true, Float32Array, 200)
    expect(workers.post(task)).toBe(1)
    expect(() => workers.finish(false)).toThrow(/histogram worker 0 failed: .*unknown objective 99/)
  })

  it('runs boosting passes and leaf assignments bit-identical to one thread', () => {
    const n = 5000
    const { binned, rng } = setup(n, 8)
    const one = oneThread(binned, { nGradients: 1, withCounts: false })
    const two = threaded(binned, { nGradients: 1, withCounts: false, nThreads: 2 })
    const K = 3
    const make = () => ({
      margin: sharedIf(true, Float64Array, K * n).map(() => (rng.next() - 0.5) * 8),
      leafOf: sharedIf(true, Uint16Array, K * n),
      gradHess: sharedIf(true, Float32Array, 2 * K * n),
    })
    const label = sharedIf(true, Float64Array, n).map(() => rng.nextInt(K))
    const weight = sharedIf(true, Float64Array, n).map(() => rng.next())
    const leafValues = sharedIf(true, Float64Array, K * 8).map(() => rng.next() - 0.5)
    const apply = sharedIf(true, Uint8Array, K).fill(1)
    apply[1] = 0
    // A tree's row order and its leaves: positions [0, 1700) in node 3, [1700, 5000) in node 6.
    const rows = shared(Array.from({ length: n }, (_, i) => (i * 7919) % n))
    const leaves = sharedIf(true, Int32Array, 6)
    leaves.set([1700, 5000, 6, 0, 1700, 3])
    const [a, b] = [make(), make()]
    b.margin.set(a.margin)
    for (const [builder, s] of [
      [one, a],
      [two, b],
    ] as const) {
      builder.assignLeaves({ rows, n, leaves, nLeaves: 2 }, s.leafOf, { offset: 2 * n, resetRows: false })
      const pass = { nOutputs: K, delta: 1, label, weight, leafValues, valueStride: 8, apply, ...s }
      builder.boostPass({ ...pass, objective: 'softmax' })
    }
    expect(a.leafOf[2 * n + rows[0]!]).toBe(3)
    expect(a.leafOf[2 * n + rows[n - 1]!]).toBe(6)
    expectIdentical(b.leafOf, a.leafOf)
    expectIdentical(b.margin, a.margin)
    expectIdentical(b.gradHess, a.gradHess)
  })

  it('stops its threads on close: none stays alive', async () => {
    const { binned } = setup(100, 5)
    for (const other of builders) other.close()
    await vi.waitFor(() => expect(liveHistogramWorkers()).toBe(0), { timeout: 10_000 })
    const started = histogramWorkerStats.workersStarted
    const b = new HistogramBuilder(binned, { nGradients: 1, withCounts: false, nThreads: 3 })
    expect(b.workers?.waitReady(60_000)).toBe(2)
    expect(histogramWorkerStats.workersStarted).toBe(started + 2)
    expect(liveHistogramWorkers()).toBe(2)
    b.close()
    b.close()
    await vi.waitFor(() => expect(liveHistogramWorkers()).toBe(0), { timeout: 10_000 })
  })

  it('starts no thread while every node is below the threshold', () => {
    const { binned, grad, hess } = setup(2000, 6)
    const b = new HistogramBuilder(binned, { nGradients: 1, withCounts: false, nThreads: 2 })
    builders.push(b)
    b.loadGradients({ grad: grad.subarray(0, 2000), hess })
    const rows = shared(Array.from({ length: 2000 }, (_, i) => i))
    b.build(
      { rows, start: 0, end: 2000, allRows: true },
      { features: Int32Array.from([0, 1]), nSelected: 2 },
      b.pool.acquire(),
    )
    expect(b.workers?.started).toBe(false)
    b.close()
  })
})

describe('HistogramWorkers', () => {
  it('refuses arrays that are not shared', () => {
    const workers = new HistogramWorkers(
      1,
      { nFeatures: 1, nRows: 1, nGradients: 1, slotBase: new Int32Array(2), offsets: new Int32Array(2), histLength: 3 },
      { rowBins: new Uint8Array(new SharedArrayBuffer(1)), colBins: new Uint8Array(new SharedArrayBuffer(1)) },
    )
    expect(() => workers.share(new Float64Array(3), 'f64')).toThrow(/SharedArrayBuffer/)
    workers.close()
    expect(workers.started).toBe(false)
  })
})
