/**
 * Tree-ensemble inference against XGBoost 1.7 (single-threaded both), in the same run, on the same models:
 *
 * 1. The flights GBDT (100 trees × 31 leaves, trained once by the CLI on flights-3m, see flights.ts; 6 features,
 *    origin/destination categorical): batch margins (rows/s), single-row margins (p50/p99 µs, caller-owned output,
 *    no allocation), TreeSHAP (rows/s), on the model's feature rows of the first `--rows` rows of flights-3m. With
 *    `--peer` the same ensemble is exported as XGBoost JSON (xgboost-export.ts) and XGBoost predicts the same rows
 *    (`inplace_predict`, `pred_contribs`); the bench checks that both agree (margins to float32 rounding,
 *    contributions to 1e-5) before printing the ratios.
 * 2. End to end: `scaleml predict` (the built CLI: read Parquet, pipeline, trees, write Parquet) on all 3M rows, and
 *    `--contributions` on the first `--contrib-rows` rows, each with the default threads and with `--threads 1`;
 *    rows/s as the command reports them, against XGBoost's kernel alone on the same model (no I/O).
 * 3. A random leaf-wise ensemble (100 trees × 31 leaves, 50 numeric features, ~10% missing) where walking the trees
 *    beats the leaf-mask tables (many features): both kernels are shown; with `--peer`, XGBoost trains a model of
 *    the same shape on those rows and both sides predict with it.
 *
 * XGBoost's single-row figure includes the Python call overhead (tens of µs), which a Python service pays too, so
 * read that ratio as end to end. Timings are printed, never asserted.
 *
 * Run: npm run build && npx tsx bench/trees/predict.bench.ts [--peer] [--rows 300000] [--shap-rows 5000]
 *        [--contrib-rows 100000] [--no-e2e] [--no-synthetic] [--retrain]
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { importXgboostJson } from '../../src/models/formats/xgboost-json.js'
import { compileLeafMasks } from '../../src/models/trees/predict/leaf-masks.js'
import { randomLeafwiseEnsemble, randomRows } from '../../src/models/trees/predict/test-helpers.js'
import { batchKernelOf, predictMarginsInto, predictRowInto } from '../../src/models/trees/predict/traverse.js'
import type { TreeEnsemble } from '../../src/models/trees/tree-ensemble.js'
import { tabulatedTrees, treeShapInto, treeShapWorkspace } from '../../src/models/trees/tree-shap.js'
import { CLI, flightsParquet, PYTHON, printMarkdownTable, requirePython, runJson } from '../lib/peers.js'
import {
  ensureFlightsModel,
  FLIGHTS_GBDT,
  flightsFeatureRows,
  flightsHead,
  loadFlightsModel,
  TREES_DATA,
  TREES_HOME,
} from './flights.js'
import { ensembleToXgboostJson } from './xgboost-export.js'

const { values: flags } = parseArgs({
  options: {
    peer: { type: 'boolean', default: false },
    rows: { type: 'string', default: '300000' },
    'shap-rows': { type: 'string', default: '5000' },
    'contrib-rows': { type: 'string', default: '100000' },
    'no-e2e': { type: 'boolean', default: false },
    'no-synthetic': { type: 'boolean', default: false },
    retrain: { type: 'boolean', default: false },
  },
})
const ROWS = Number(flags.rows)
const SHAP_ROWS = Number(flags['shap-rows'])
const CONTRIB_ROWS = Number(flags['contrib-rows'])
const SINGLE_CALLS = 50_000
const SAMPLE = 1000

/** Rows per second by the wall clock and by the process's CPU time (which other work on a busy machine disturbs less). */
interface Rate {
  readonly wall: number
  readonly cpu: number
}

interface Figures {
  readonly batch: Rate
  readonly p50: number
  readonly p99: number
  readonly shap: Rate
}

interface PeerFigures {
  readonly version: string
  readonly single_p50_us: number
  readonly single_p99_us: number
  readonly batch_rows_per_s: number
  readonly batch_rows_per_cpu_s: number
  readonly shap_rows_per_s: number
  readonly shap_rows_per_cpu_s: number
}

/** Best of `rounds` runs of `run` over `rows` rows. */
function rate(rows: number, rounds: number, run: () => void): Rate {
  let wall = Number.POSITIVE_INFINITY
  let cpu = Number.POSITIVE_INFINITY
  for (let round = 0; round < rounds; round++) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    run()
    wall = Math.min(wall, (performance.now() - t0) / 1000)
    const c = process.cpuUsage(c0)
    cpu = Math.min(cpu, (c.user + c.system) / 1e6)
  }
  return { wall: rows / wall, cpu: rows / cpu }
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

/** p50/p99 µs of one-row predictions into a reused output (hrtime overhead included). */
function singleRow(e: TreeEnsemble, X: Float32Array, float32: boolean): { p50: number; p99: number } {
  const rows = 1000
  const out = new Float64Array(e.nOutputs)
  // One options object per row, made up front, so the timed calls allocate nothing.
  const perRow = Array.from({ length: rows }, (_, r) => ({ offset: r * e.nFeatures, outOffset: 0, float32 }))
  for (let i = 0; i < 20_000; i++) predictRowInto(e, X, out, perRow[i % rows]!)
  const times = new Float64Array(SINGLE_CALLS)
  let sink = 0
  for (let i = 0; i < SINGLE_CALLS; i++) {
    const o = perRow[i % rows]!
    const t0 = process.hrtime.bigint()
    predictRowInto(e, X, out, o)
    times[i] = Number(process.hrtime.bigint() - t0) / 1000
    sink += out[0]!
  }
  if (!Number.isFinite(sink)) throw new Error('non-finite margins')
  times.sort()
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99) }
}

/** Best of three batch runs over all rows. */
function batch(e: TreeEnsemble, X: Float32Array, rows: number, float32: boolean, kernel: 'auto' | 'walk'): Rate {
  const out = new Float64Array(rows * e.nOutputs)
  predictMarginsInto(e, X, Math.min(rows, 5000), out, { float32, kernel })
  return rate(rows, 3, () => predictMarginsInto(e, X, rows, out, { float32, kernel }))
}

/** Best of two TreeSHAP runs over the first `rows` rows (the workspace, tables included, built before). */
function shap(e: TreeEnsemble, X: Float32Array, rows: number): Rate {
  const ws = treeShapWorkspace(e)
  const out = new Float64Array(rows * e.nOutputs * (e.nFeatures + 1))
  treeShapInto(e, X, Math.min(rows, 200), out, ws)
  return rate(rows, 2, () => treeShapInto(e, X, rows, out, ws))
}

const mRows = (r: Rate) => `${(r.wall / 1e6).toFixed(2)} / ${(r.cpu / 1e6).toFixed(2)}`
const kRows = (r: Rate) => `${r.wall.toFixed(0)} / ${r.cpu.toFixed(0)}`

function measure(label: string, e: TreeEnsemble, X: Float32Array, rows: number, float32: boolean): Figures {
  const masks = compileLeafMasks(e, { force: true })
  const ws = treeShapWorkspace(e)
  const tab = tabulatedTrees(ws)
  console.log(`\n${label}: ${e.treeGroup.length} trees, ${e.feature.length} nodes, ${e.nFeatures} features`)
  console.log(
    `  batch kernel: ${batchKernelOf(e)} (estimate ns/row: tables ${masks?.estimate.tables.toFixed(0) ?? 'n/a'}, ` +
      `walk ${masks?.estimate.walk.toFixed(0) ?? 'n/a'}); TreeSHAP tables: ${tab.trees} trees, ${(tab.bytes / 1048576).toFixed(1)} MiB`,
  )
  const s = singleRow(e, X, float32)
  console.log(`  single row (µs): p50 ${s.p50.toFixed(2)}  p99 ${s.p99.toFixed(2)}`)
  const walk = batch(e, X, rows, float32, 'walk')
  const auto = batch(e, X, rows, float32, 'auto')
  console.log(`  batch ${rows} rows, M rows/s (wall / CPU): walk ${mRows(walk)}; default ${mRows(auto)}`)
  const shapRate = shap(e, X, Math.min(rows, SHAP_ROWS))
  console.log(`  TreeSHAP ${Math.min(rows, SHAP_ROWS)} rows, rows/s (wall / CPU): ${kRows(shapRate)}`)
  return { batch: auto, p50: s.p50, p99: s.p99, shap: shapRate }
}

/** Runs the Python peer on `X`; `train` makes it train (and save) the model instead of loading `model`. */
function peer(X: Float32Array, cols: number, model: string, options: { train: boolean; categorical: number[] }) {
  mkdirSync(TREES_DATA, { recursive: true })
  const xPath = join(TREES_DATA, 'X.f32')
  writeFileSync(xPath, new Uint8Array(X.buffer, X.byteOffset, X.byteLength))
  const sample = join(TREES_DATA, 'xgb-sample')
  const args = [
    'bench/trees/xgboost_predict.py',
    '--x',
    xPath,
    '--rows',
    String(X.length / cols),
    '--cols',
    String(cols),
    '--model',
    model,
    '--categorical',
    options.categorical.join(','),
    '--shap-rows',
    String(SHAP_ROWS),
    '--sample',
    String(SAMPLE),
    '--sample-out',
    sample,
    ...(options.train ? ['--train'] : []),
  ]
  const run = spawnSync(PYTHON, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  if (run.status !== 0) throw new Error(`the XGBoost peer failed (exit ${run.status})`)
  const figures = JSON.parse(run.stdout) as PeerFigures
  const read = (suffix: string) => {
    const bytes = readFileSync(`${sample}-${suffix}.f64`)
    return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8)
  }
  return { figures, margin: read('margin'), contribs: read('contribs') }
}

/** Max |a − b| over the first `n` values. */
function maxDiff(a: Float64Array, b: Float64Array, n: number): number {
  let m = 0
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

/** Features split as categories somewhere in `e`. */
function categoricalFeatures(e: TreeEnsemble): number[] {
  const set = new Set<number>()
  for (let i = 0; i < e.feature.length; i++) if (e.categorical[i] === 1) set.add(e.feature[i]!)
  return [...set].sort((a, b) => a - b)
}

/** Checks that XGBoost and scaleml give the same margins and contributions on the sample rows. */
function checkAgreement(e: TreeEnsemble, X: Float32Array, theirs: ReturnType<typeof peer>): string {
  const margin = new Float64Array(SAMPLE * e.nOutputs)
  predictMarginsInto(e, X, SAMPLE, margin, { float32: true })
  const contribs = new Float64Array(SAMPLE * e.nOutputs * (e.nFeatures + 1))
  treeShapInto(e, X, SAMPLE, contribs)
  const dm = maxDiff(margin, theirs.margin, margin.length)
  const dc = maxDiff(contribs, theirs.contribs, contribs.length)
  // Leaf values are float32 in XGBoost and float64 in a scaleml-trained model: agreement to float32 rounding.
  if (dm > 1e-5 || dc > 1e-5) {
    throw new Error(`scaleml and XGBoost disagree on the same model: margins by ${dm}, contributions by ${dc}`)
  }
  return `agreement on ${SAMPLE} rows: max |Δ margin| ${dm.toExponential(1)}, max |Δ contribution| ${dc.toExponential(1)}`
}

function ratioRows(ours: Figures, theirs: PeerFigures): (string | number)[][] {
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`
  const batchTheirs = { wall: theirs.batch_rows_per_s, cpu: theirs.batch_rows_per_cpu_s }
  const shapTheirs = { wall: theirs.shap_rows_per_s, cpu: theirs.shap_rows_per_cpu_s }
  return [
    [
      'batch margins, M rows/s (wall / CPU)',
      mRows(ours.batch),
      mRows(batchTheirs),
      `${x(ours.batch.wall, batchTheirs.wall)} / ${x(ours.batch.cpu, batchTheirs.cpu)}`,
    ],
    ['single row p50 (µs)', ours.p50.toFixed(2), theirs.single_p50_us.toFixed(2), x(theirs.single_p50_us, ours.p50)],
    ['single row p99 (µs)', ours.p99.toFixed(2), theirs.single_p99_us.toFixed(2), x(theirs.single_p99_us, ours.p99)],
    [
      'TreeSHAP, rows/s (wall / CPU)',
      kRows(ours.shap),
      kRows(shapTheirs),
      `${x(ours.shap.wall, shapTheirs.wall)} / ${x(ours.shap.cpu, shapTheirs.cpu)}`,
    ],
  ]
}

// ---- 1. the flights GBDT ---------------------------------------------------------------------------------------

if (flags.peer) requirePython(['xgboost', 'numpy'], ['python3-xgboost', 'python3-numpy'])
ensureFlightsModel(flags.retrain)
const { servable, ensemble } = await loadFlightsModel()
const X = await flightsFeatureRows(servable, ROWS)
const flights = measure(`flights GBDT '${FLIGHTS_GBDT}' (float64 sums)`, ensemble, X, ROWS, false)
let flightsPeer: PeerFigures | undefined
if (flags.peer) {
  const model = join(TREES_DATA, 'flights-xgb.json')
  const categorical = categoricalFeatures(ensemble)
  writeFileSync(model, ensembleToXgboostJson(ensemble, categorical))
  const theirs = peer(X, ensemble.nFeatures, model, { train: false, categorical })
  console.log(`  ${checkAgreement(ensemble, X, theirs)}`)
  flightsPeer = theirs.figures
}

// ---- 2. end to end ---------------------------------------------------------------------------------------------

const e2e: (string | number)[][] = []
if (!flags['no-e2e']) {
  const out = join(TREES_DATA, 'scored.parquet')
  const predict = async (data: string, extra: string[]) => {
    const args = [CLI, 'predict', '--model', FLIGHTS_GBDT, '--home', TREES_HOME, '--data', data, '--out', out]
    const summary = await runJson(process.execPath, [...args, ...extra, '--json'])
    return {
      rows: Number(summary['rows']),
      rate: Number(summary['rowsPerSecond']),
      threads: Number(summary['threads']),
    }
  }
  const head = await flightsHead(CONTRIB_ROWS)
  const ref = (rate: number, peerRate: number | undefined) =>
    peerRate === undefined ? 'n/a' : `${(rate / peerRate).toFixed(2)}×`
  for (const threads of [[], ['--threads', '1']]) {
    const all = await predict(flightsParquet(), threads)
    e2e.push([
      `scaleml predict, ${all.rows} rows, ${all.threads} thread(s)`,
      count(all.rate),
      ref(all.rate, flightsPeer?.batch_rows_per_s),
    ])
  }
  for (const threads of [[], ['--threads', '1']]) {
    const shap = await predict(head, ['--contributions', ...threads])
    e2e.push([
      `scaleml predict --contributions, ${shap.rows} rows, ${shap.threads} thread(s)`,
      count(shap.rate),
      ref(shap.rate, flightsPeer?.shap_rows_per_s),
    ])
  }
}

// ---- 3. synthetic ----------------------------------------------------------------------------------------------

let synthetic: { ours: Figures; theirs: PeerFigures } | undefined
if (!flags['no-synthetic']) {
  const nFeatures = 50
  const rows = 100_000
  const Xs = randomRows(nFeatures, rows, 17)
  const random = randomLeafwiseEnsemble({ nFeatures, nTrees: 100, leaves: 31, seed: 5 })
  measure('random leaf-wise ensemble (float64 sums)', random, Xs, rows, false)
  if (flags.peer) {
    const model = join(TREES_DATA, 'synthetic-xgb.json')
    const theirs = peer(Xs, nFeatures, model, { train: true, categorical: [] })
    const imported = importXgboostJson(readFileSync(model, 'utf8')).ensemble
    const ours = measure('XGBoost model of that shape, imported (float32 sums, as XGBoost)', imported, Xs, rows, true)
    console.log(`  ${checkAgreement(imported, Xs, theirs)}`)
    synthetic = { ours, theirs: theirs.figures }
  }
}

// ---- summary ---------------------------------------------------------------------------------------------------

function count(v: number): string {
  return Math.round(v).toLocaleString('en-US')
}

if (flightsPeer !== undefined) {
  console.log(`\nFlights GBDT, ${ROWS} rows (TreeSHAP ${SHAP_ROWS}), one thread each:\n`)
  printMarkdownTable(
    ['', 'scaleml', `xgboost ${flightsPeer.version}`, 'scaleml speed-up'],
    ratioRows(flights, flightsPeer),
  )
}
if (e2e.length > 0) {
  console.log('\nEnd to end (read Parquet → pipeline → trees → write Parquet), rows/s:\n')
  printMarkdownTable(['command', 'rows/s', 'vs xgboost kernel on the same model'], e2e)
}
if (synthetic !== undefined) {
  console.log('\nRandom-shape XGBoost model (100 × 31 leaves, 50 features):\n')
  printMarkdownTable(
    ['', 'scaleml', `xgboost ${synthetic.theirs.version}`, 'scaleml speed-up'],
    ratioRows(synthetic.ours, synthetic.theirs),
  )
}
