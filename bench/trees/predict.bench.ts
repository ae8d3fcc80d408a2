/**
 * Tree-ensemble inference: single-row latency (p50/p99, caller-owned output, no allocation) and batch throughput
 * (rows/s) for 100 trees × 31 leaves (grown leaf-wise, unbalanced) over 50 features with ~10% missing values,
 * printed, never asserted. The batch is measured for several row-block sizes (1 = every tree per row, "all" = every
 * row per tree) to show why `predictMarginsInto` walks blocks of ROW_BLOCK rows.
 *
 * With `--peer`, /usr/bin/python3.11 trains an XGBoost 1.7 model of the same shape (hist, lossguide, 31 leaves,
 * 100 rounds), which is imported through the XGBoost JSON importer; both sides then predict the same rows
 * (XGBoost single-threaded `inplace_predict`) and the ratio is printed. XGBoost's single-row figure includes the
 * Python call overhead (tens of µs), which is what a Python service pays too, so read that ratio as end-to-end.
 *
 * Run: npx tsx bench/trees/predict.bench.ts [--peer]
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { importXgboostJson } from '../../src/models/formats/xgboost-json.js'
import { randomLeafwiseEnsemble, randomRows } from '../../src/models/trees/predict/test-helpers.js'
import { predictMarginsInto, predictRowInto, ROW_BLOCK } from '../../src/models/trees/predict/traverse.js'
import type { TreeEnsemble } from '../../src/models/trees/tree-ensemble.js'

const N_FEATURES = 50
const N_TREES = 100
const LEAVES = 31
const BATCH_ROWS = 100_000
const SINGLE_CALLS = 50_000

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

function singleRow(e: TreeEnsemble, X: Float32Array, rows: number, float32: boolean) {
  const out = new Float64Array(1)
  const options = { offset: 0, outOffset: 0, float32 }
  for (let i = 0; i < 20_000; i++) predictRowInto(e, X, out, { ...options, offset: (i % rows) * N_FEATURES })
  const times = new Float64Array(SINGLE_CALLS)
  // One options object per row is created up front so the timed calls allocate nothing.
  const perRow = Array.from({ length: rows }, (_, r) => ({ offset: r * N_FEATURES, outOffset: 0, float32 }))
  let sink = 0
  for (let i = 0; i < SINGLE_CALLS; i++) {
    const o = perRow[i % rows]!
    const t0 = process.hrtime.bigint()
    predictRowInto(e, X, out, o)
    times[i] = Number(process.hrtime.bigint() - t0) / 1000
    sink += out[0]!
  }
  times.sort()
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), p999: quantile(times, 0.999), sink }
}

function batch(e: TreeEnsemble, X: Float32Array, rows: number, blockRows: number, float32: boolean): number {
  const out = new Float64Array(rows)
  predictMarginsInto(e, X, Math.min(rows, 5000), out, { blockRows, float32 })
  let best = Number.POSITIVE_INFINITY
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now()
    predictMarginsInto(e, X, rows, out, { blockRows, float32 })
    best = Math.min(best, performance.now() - t0)
  }
  return rows / (best / 1000)
}

function report(label: string, e: TreeEnsemble, X: Float32Array, float32: boolean) {
  const s = singleRow(e, X, 1000, float32)
  console.log(`\n${label}: ${e.treeGroup.length} trees, ${e.feature.length} nodes, ${N_FEATURES} features`)
  console.log(
    `  single row (µs, hrtime overhead included): p50 ${s.p50.toFixed(2)}  p99 ${s.p99.toFixed(2)}  p99.9 ${s.p999.toFixed(2)}`,
  )
  const rates: Record<string, number> = {}
  for (const block of [1, 16, 64, ROW_BLOCK, 1024, BATCH_ROWS]) {
    const name = block === BATCH_ROWS ? 'all' : String(block)
    rates[name] = batch(e, X, BATCH_ROWS, block, float32)
    console.log(`  batch ${BATCH_ROWS} rows, block ${name.padStart(3)}: ${(rates[name]! / 1e6).toFixed(2)} M rows/s`)
  }
  return { single: s, batch: rates[String(ROW_BLOCK)]! }
}

const X = randomRows(N_FEATURES, BATCH_ROWS, 17)
const random = randomLeafwiseEnsemble({ nFeatures: N_FEATURES, nTrees: N_TREES, leaves: LEAVES, seed: 5 })
report('random leaf-wise ensemble (float64 sums)', random, X, false)

if (process.argv.includes('--peer')) {
  const python = process.env['SCALEML_BENCH_PYTHON'] ?? '/usr/bin/python3.11'
  mkdirSync('.bench-data', { recursive: true })
  writeFileSync('.bench-data/trees-X.f32', new Uint8Array(X.buffer, X.byteOffset, X.byteLength))
  const peer = spawnSync(
    python,
    [
      'bench/trees/xgboost_predict.py',
      '.bench-data/trees-X.f32',
      String(BATCH_ROWS),
      String(N_FEATURES),
      '.bench-data/trees-xgb.json',
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  if (peer.status !== 0) {
    console.error(`peer failed (${python} with xgboost 1.7 needed: apt-get install -y python3-xgboost)`)
    process.exit(2)
  }
  const theirs = JSON.parse(peer.stdout) as { single_p50_us: number; single_p99_us: number; batch_rows_per_s: number }
  const model = importXgboostJson(readFileSync('.bench-data/trees-xgb.json', 'utf8'))
  const ours = report('XGBoost model imported (float32 sums, as XGBoost)', model.ensemble, X, true)
  console.log('\n                      scaleml        xgboost 1.7 (1 thread)   ratio')
  console.log(
    `  single p50 (µs)   ${ours.single.p50.toFixed(2).padStart(8)}   ${theirs.single_p50_us.toFixed(2).padStart(12)}   ${(theirs.single_p50_us / ours.single.p50).toFixed(1)}× faster`,
  )
  console.log(
    `  single p99 (µs)   ${ours.single.p99.toFixed(2).padStart(8)}   ${theirs.single_p99_us.toFixed(2).padStart(12)}   ${(theirs.single_p99_us / ours.single.p99).toFixed(1)}× faster`,
  )
  console.log(
    `  batch (M rows/s)  ${(ours.batch / 1e6).toFixed(2).padStart(8)}   ${(theirs.batch_rows_per_s / 1e6).toFixed(2).padStart(12)}   ${(ours.batch / theirs.batch_rows_per_s).toFixed(2)}×`,
  )
}
