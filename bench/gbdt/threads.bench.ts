/**
 * bench/gbdt threads: what worker threads buy the tree engine (src/models/trees/parallel-histogram.ts).
 *
 *   npx tsx bench/gbdt/threads.bench.ts [--only histogram,flights,synthetic] [--repeats 3] [--trees 100] [--threads 1,2]
 *     [--statistic min|median]
 *
 * Three parts, each with every thread count, alternating runs (1, 2, 1, 2, …) so that a neighbour's load spreads
 * over both, reporting the fastest run (or the median):
 * - histogram: histogram building alone on the flights training bins (6 features): the root (all rows, in order) and
 *   nodes of 50% down to 0.1% of the rows (random subsets in ascending order, as a tree's nodes are), every node
 *   split over the threads, in rows × features per second; a node's row partition in rows per second; and the cost
 *   of handing a share to a worker (a 64-row node, minus the same node on one thread). Workers are started and
 *   waited for first.
 * - flights: GBDT training on flights-3m, gbdt.bench.ts's settings (100 trees, 31 leaves, learning rate 0.1,
 *   255 bins), `fitBinned` on bins made once, so the time is the boosting alone; the models must be identical.
 * - synthetic: the same on 1M rows × 20 features (16 numeric with 5% missing, 4 categorical of 50 levels).
 *
 * The machine may be shared: the histogram rows × features/s and the ratios are the figures to compare; wall times
 * move with the neighbours, and a thread count above the cores left free is slower than one thread (every node
 * waits for its slowest share). CPU time is of all threads and includes the workers' short polls for their next
 * task (see histogram-worker.ts). Printed, not asserted.
 */
import { createHash } from 'node:crypto'
import { Random } from '../../src/core/random.js'
import { type BinnedData, DatasetSketch } from '../../src/models/trees/binning.js'
import { GbdtClassifier, type GbdtClassifierParams } from '../../src/models/trees/gbdt.js'
import { HistogramBuilder, PARALLEL_MIN_WORK } from '../../src/models/trees/histogram.js'
import { DEFAULT_N_THREADS, histogramWorkerStats } from '../../src/models/trees/parallel-histogram.js'
import { count, fixed, printMarkdownTable } from '../lib/peers.js'
import { flightsSplit } from './data.js'

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1]! : fallback
}
const ONLY = arg('--only', 'histogram,flights,synthetic').split(',')
const REPEATS = Number(arg('--repeats', '3'))
const TREES = Number(arg('--trees', '100'))
const THREADS = arg('--threads', '1,2').split(',').map(Number)
const STATISTIC = arg('--statistic', 'min')

const PARAMS: Partial<GbdtClassifierParams> = {
  nEstimators: TREES,
  maxLeaves: 31,
  learningRate: 0.1,
  maxBins: 255,
  lambda: 1,
  minChildWeight: 1,
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9

function bin(X: Float32Array, rows: number, cols: number, categorical: readonly number[]): BinnedData {
  const sketch = new DatasetSketch(cols, { maxBins: 255, categoricalFeatures: categorical, seed: 0 })
  const matrix = { data: X, rows, cols }
  sketch.partialFit(matrix)
  return sketch.toBinMapper().transform(matrix)
}

/** Wall and CPU seconds (all threads of the process) of one measured run, per unit of work. */
interface Timing {
  readonly wall: number
  readonly cpu: number
}

/** Times `units` repetitions of `body`: seconds per repetition, wall and CPU. */
function timed(units: number, body: () => void): Timing {
  const cpu = process.cpuUsage()
  const start = process.hrtime.bigint()
  body()
  const wall = seconds(start) / units
  const used = process.cpuUsage(cpu)
  return { wall, cpu: (used.user + used.system) / 1e6 / units }
}

/**
 * Runs `run(threads)` for every thread count, `REPEATS` rounds alternating; per count the wall and CPU seconds by
 * `STATISTIC` (each the minimum by default: on a shared machine the fastest run is the one least disturbed).
 */
function alternate(run: (threads: number) => Timing): Map<number, Timing> {
  const times = new Map<number, Timing[]>(THREADS.map((t) => [t, []]))
  for (let i = 0; i < REPEATS; i++) for (const t of THREADS) times.get(t)!.push(run(t))
  const pick = (xs: number[]) => (STATISTIC === 'median' ? median(xs) : Math.min(...xs))
  return new Map(
    [...times].map(([t, xs]) => [t, { wall: pick(xs.map((x) => x.wall)), cpu: pick(xs.map((x) => x.cpu)) }]),
  )
}

function histogramPart(binned: BinnedData, label: string): void {
  const { nRows, mapper } = binned
  const nFeatures = mapper.nFeatures
  const rng = new Random(1)
  const grad = Float32Array.from({ length: nRows }, () => rng.next() - 0.5)
  const hess = Float32Array.from({ length: nRows }, () => 0.05 + 0.2 * rng.next())
  const features = Int32Array.from({ length: nFeatures }, (_, f) => f)
  const selection = { features, nSelected: nFeatures }
  // Every node goes to the threads (thresholds 0), to show from which node size they pay.
  const forced = new Map<number, HistogramBuilder>()
  for (const t of THREADS) {
    const b = new HistogramBuilder(binned, {
      nGradients: 1,
      withCounts: false,
      nThreads: t,
      parallelMinWork: 0,
      parallelMinPartitionRows: 0,
    })
    b.loadGradients({ grad, hess })
    const ready = b.workers?.waitReady(30_000) ?? 0
    if (t > 1 && ready !== t - 1) throw new Error(`only ${ready} of ${t - 1} workers started`)
    forced.set(t, b)
  }
  const sharedRows = (n: number) => new Uint32Array(new SharedArrayBuffer(4 * n))
  const identity = (n: number) => {
    const rows = sharedRows(n)
    for (let r = 0; r < n; r++) rows[r] = r
    return rows
  }
  const subset = (fraction: number) => {
    const out: number[] = []
    for (let r = 0; r < nRows; r++) if (rng.next() < fraction) out.push(r)
    const rows = sharedRows(out.length)
    rows.set(out)
    return rows
  }
  const cases: { name: string; rows: Uint32Array; allRows: boolean }[] = [
    { name: 'root (all rows)', rows: identity(nRows), allRows: true },
    { name: '50% of rows', rows: subset(0.5), allRows: false },
    { name: '10% of rows', rows: subset(0.1), allRows: false },
    { name: '1% of rows', rows: subset(0.01), allRows: false },
    { name: '0.3% of rows', rows: subset(0.003), allRows: false },
    { name: '0.1% of rows', rows: subset(0.001), allRows: false },
  ]
  const table: (string | number)[][] = []
  const reference = new Map<string, Float64Array>()
  for (const c of cases) {
    const n = c.allRows ? nRows : c.rows.length
    const reps = Math.max(3, Math.round(2e8 / (n * nFeatures)))
    const perBuild = alternate((t) => {
      const b = forced.get(t)!
      const hist = b.pool.acquire()
      const time = timed(reps, () => {
        for (let i = 0; i < reps; i++) {
          hist.fill(0)
          b.build({ rows: c.rows, start: 0, end: n, allRows: c.allRows }, selection, hist)
        }
      })
      const ref = reference.get(c.name)
      if (ref === undefined) reference.set(c.name, hist.slice())
      else if (!ref.every((v, k) => Object.is(v, hist[k]))) throw new Error(`${c.name}: histograms differ`)
      b.pool.release(hist)
      return time
    })
    const t1 = perBuild.get(THREADS[0]!)!
    for (const [t, s] of perBuild) {
      table.push([
        c.name,
        count(n),
        t,
        fixed(s.wall * 1e3, 3),
        fixed((n * nFeatures) / s.wall / 1e6, 1),
        fixed(s.cpu * 1e3, 3),
        t === THREADS[0] ? '' : fixed(t1.wall / s.wall, 2),
      ])
    }
  }
  process.stdout.write(
    `\nHistogram building alone, ${label}: ${count(nRows)} rows × ${nFeatures} features; every node split over the threads (threshold forced to 0; fits keep nodes under ${count(PARALLEL_MIN_WORK)} rows × features on one thread); bit-identical histograms checked\n\n`,
  )
  printMarkdownTable(
    ['node', 'rows', 'threads', 'ms per build', 'M rows×features/s', 'CPU ms per build', 'speed-up'],
    table,
  )

  // Partition of the root's rows by feature 0 at its median bin.
  const goesLeft = new Uint8Array(256)
  const fb = mapper.features[0]!
  for (let b = 0; b < Math.floor(fb.nBins / 2); b++) goesLeft[b] = 1
  const rows = sharedRows(nRows)
  const scratch = sharedRows(nRows)
  const partRows = new Map<number, Uint32Array>()
  const perPartition = alternate((t) => {
    const b = forced.get(t)!
    const reps = 5
    let time: Timing = { wall: 0, cpu: 0 }
    for (let i = 0; i < reps; i++) {
      for (let r = 0; r < nRows; r++) rows[r] = r
      const one = timed(reps, () => b.partition({ rows, start: 0, end: nRows, scratch }, 0, { goesLeft, offset: 0 }))
      time = { wall: time.wall + one.wall, cpu: time.cpu + one.cpu }
    }
    partRows.set(t, rows.slice())
    return time
  })
  const first = partRows.get(THREADS[0]!)!
  for (const [t, r] of partRows) if (!r.every((v, i) => v === first[i])) throw new Error(`partition differs at ${t}`)
  const pt1 = perPartition.get(THREADS[0]!)!
  process.stdout.write(`\nRow partition of all ${count(nRows)} rows (identical order checked)\n\n`)
  printMarkdownTable(
    ['threads', 'ms', 'M rows/s', 'CPU ms', 'speed-up'],
    [...perPartition].map(([t, s]) => [
      t,
      fixed(s.wall * 1e3, 2),
      fixed(nRows / s.wall / 1e6, 1),
      fixed(s.cpu * 1e3, 2),
      fixed(pt1.wall / s.wall, 2),
    ]),
  )

  // Hand-off cost: a 64-row node forced onto the threads against the same node on the calling thread alone.
  const tiny = subset(64 / nRows)
  const nTiny = tiny.length
  const reps = 20_000
  const overhead = alternate((t) => {
    const b = forced.get(t)!
    const hist = b.pool.acquire()
    const time = timed(reps, () => {
      for (let i = 0; i < reps; i++) b.build({ rows: tiny, start: 0, end: nTiny }, selection, hist)
    })
    b.pool.release(hist)
    return time
  })
  const base = overhead.get(THREADS[0]!)!
  process.stdout.write(
    `\nHand-off cost per node (a ${nTiny}-row node forced onto the threads, ${count(reps)} builds)\n\n`,
  )
  printMarkdownTable(
    ['threads', 'µs per build', 'µs over 1 thread'],
    [...overhead].map(([t, s]) => [t, fixed(s.wall * 1e6, 2), fixed((s.wall - base.wall) * 1e6, 2)]),
  )
  for (const b of forced.values()) b.close()
}

function trainPart(
  name: string,
  data: { X: Float32Array; y: Float64Array; rows: number; cols: number; categorical: readonly number[] },
): void {
  const binStart = process.hrtime.bigint()
  const binned = bin(data.X, data.rows, data.cols, data.categorical)
  const binSeconds = seconds(binStart)
  const hashes = new Map<number, string>()
  const tasksBefore = histogramWorkerStats.tasks
  const times = alternate((t) => {
    const model = new GbdtClassifier({ ...PARAMS, nThreads: t })
    const time = timed(1, () => model.fitBinned(binned, data.y))
    const json = model.toJSON()
    hashes.set(t, createHash('sha256').update(JSON.stringify(json.state)).digest('hex').slice(0, 16))
    return time
  })
  const t1 = times.get(THREADS[0]!)!
  process.stdout.write(
    `\n${name}: ${count(data.rows)} rows × ${data.cols} features, ${TREES} trees × 31 leaves; binning ${fixed(binSeconds, 2)} s (once, not in the times); worker tasks run: ${count(histogramWorkerStats.tasks - tasksBefore)}\n\n`,
  )
  printMarkdownTable(
    ['threads', `train s (${STATISTIC})`, 'CPU s', 'speed-up', 'model sha256'],
    [...times].map(([t, s]) => [t, fixed(s.wall, 2), fixed(s.cpu, 2), fixed(t1.wall / s.wall, 2), hashes.get(t)!]),
  )
  if (new Set(hashes.values()).size !== 1) throw new Error(`${name}: models differ between thread counts`)
}

function synthetic(): { X: Float32Array; y: Float64Array; rows: number; cols: number; categorical: number[] } {
  const rows = 1_000_000
  const cols = 20
  const rng = new Random(3)
  const X = new Float32Array(rows * cols)
  const y = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    let s = 0
    for (let c = 0; c < cols; c++) {
      const v = c >= 16 ? rng.nextInt(50) : rng.next() < 0.05 ? Number.NaN : rng.next() * 2 - 1
      X[r * cols + c] = v
      if (c < 16 && !Number.isNaN(v)) s += (c % 3 === 0 ? v * v : v) / (1 + c)
      else if (c >= 16) s += v % 7 === 0 ? 0.3 : 0
    }
    y[r] = s + 0.5 * (rng.next() - 0.5) > 0.2 ? 1 : 0
  }
  return { X, y, rows, cols, categorical: [16, 17, 18, 19] }
}

process.stdout.write(
  `threads bench: thread counts ${THREADS.join(', ')}, ${REPEATS} alternating runs each (${STATISTIC}); default nThreads here ${DEFAULT_N_THREADS}\n`,
)
if (ONLY.includes('histogram') || ONLY.includes('flights')) {
  const flights = await flightsSplit()
  const data = { ...flights.train, cols: flights.cols, categorical: flights.categorical }
  if (ONLY.includes('histogram')) histogramPart(bin(data.X, data.rows, data.cols, data.categorical), 'flights-3m train')
  if (ONLY.includes('flights')) trainPart('flights-3m', data)
}
if (ONLY.includes('synthetic')) trainPart('synthetic 1M', synthetic())
