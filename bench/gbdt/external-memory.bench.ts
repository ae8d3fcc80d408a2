/**
 * bench/gbdt external memory: GBDT training whose rows and per-row state are many times the memory budget, in memory
 * and in external memory (src/models/trees/external/), each in its own process, and what each process's memory
 * peaked at.
 *
 *   npm run bench:gbdt-external -- [--rows 24000000] [--budget 64MiB] [--trees 10] [--leaves 31] [--spill-dir DIR]
 *     [--only constant,in-memory,external]
 *
 * Data: `--rows` synthetic rows of 8 features (5 numeric, two with missing values, a 100-value integer, categoricals
 * of 30 and 200 levels) and a binary label from a noisy logistic model, generated batch by batch from a seeded
 * generator (every row draws the same number of values, so any batch size gives the same rows), binned with bins
 * sketched from 500,000 other rows of the same generator. Each child makes the same bins and rows:
 * - in-memory: bins every row into one `BinnedData` (1 MiB-row batches) and calls `fitBinned`;
 * - external: appends 65,536-row batches to `ExternalRows` (chunk rows planned from `--budget`) and calls
 *   `fitExternal`; what its files take on disk (bins, labels, margins, gradients, row order) is measured during the
 *   first round;
 * - constant: loads the same code and trains 10,000 rows, 10 trees — the runtime's own memory, the constant of
 *   "peak RSS ≤ budget + constant".
 * All train on one thread (external memory is single-threaded; in memory, `nThreads: 1` makes the times comparable).
 * Peak RSS is the kernel's high-water mark (`VmHWM` in /proc/self/status) at the end of the child. The models must be
 * identical (a SHA-256 of `toJSON()`). Printed, not asserted; the last line says whether external memory stayed
 * within budget + constant.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatByteSize, parseByteSize } from '../../src/core/byte-size.js'
import { Random } from '../../src/core/random.js'
import { type BinMapper, DatasetSketch } from '../../src/models/trees/binning.js'
import { ExternalRows } from '../../src/models/trees/external/external-rows.js'
import { planTrainingMemory } from '../../src/models/trees/external/memory-plan.js'
import { GbdtClassifier, type GbdtClassifierParams } from '../../src/models/trees/gbdt.js'

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1]! : fallback
}
const ROWS = Number(arg('--rows', '24000000'))
const BUDGET = parseByteSize(arg('--budget', '64MiB'), '--budget')
const TREES = Number(arg('--trees', '10'))
const LEAVES = Number(arg('--leaves', '31'))
const SPILL_DIR = arg('--spill-dir', '')
const ONLY = arg('--only', 'constant,in-memory,external').split(',')
const N_FEATURES = 8
const CATEGORICAL = [6, 7]
const SKETCH_ROWS = 500_000

const PARAMS: Partial<GbdtClassifierParams> = { nEstimators: TREES, maxLeaves: LEAVES, learningRate: 0.1, nThreads: 1 }

/**
 * Fills `X` (row-major) and `y` with the next `rows` rows of `rng`: ten draws a row, always, so that the rows do not
 * depend on how they are batched.
 */
function generate(rng: Random, rows: number, X: Float32Array, y: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    const o = r * N_FEATURES
    const x0 = rng.next() * 4 - 2
    const missing0 = rng.next() < 0.05
    const x1 = rng.next() * 10
    const x2 = rng.nextInt(100)
    const x3 = rng.next()
    const x4 = rng.next() * 2 - 1
    const missing4 = rng.next() < 0.2
    const x6 = rng.nextInt(30)
    const x7 = rng.nextInt(200)
    X[o] = missing0 ? Number.NaN : x0
    X[o + 1] = x1
    X[o + 2] = x2
    X[o + 3] = x3
    X[o + 4] = missing4 ? Number.NaN : x4
    X[o + 5] = x3 * x1
    X[o + 6] = x6
    X[o + 7] = x7
    const z =
      (missing0 ? 0.5 : 1.2 * x0) +
      (x1 > 6 ? 0.7 : -0.3) +
      0.01 * (x2 - 50) +
      (missing4 ? -0.4 : x4 * x0) +
      (x6 % 7 === 0 ? 0.9 : -0.1) +
      (x7 < 20 ? 0.6 : 0)
    y[r] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0
  }
}

/** Bins sketched from other rows of the same generator, fed in batches (the sketch keeps a bounded summary). */
function mapper(): BinMapper {
  const batch = 65_536
  const rng = new Random(1)
  const X = new Float32Array(batch * N_FEATURES)
  const y = new Float64Array(batch)
  const sketch = new DatasetSketch(N_FEATURES, { categoricalFeatures: CATEGORICAL, maxBins: 255 })
  for (let at = 0; at < SKETCH_ROWS; at += batch) {
    const n = Math.min(batch, SKETCH_ROWS - at)
    generate(rng, n, X, y)
    sketch.partialFit({ data: X.subarray(0, n * N_FEATURES), rows: n, cols: N_FEATURES })
  }
  return sketch.toBinMapper()
}

/** Streams `rows` training rows in batches of `batch` into `sink`. */
function stream(rows: number, batch: number, sink: (X: Float32Array, y: Float64Array, n: number, at: number) => void) {
  const rng = new Random(2)
  const X = new Float32Array(batch * N_FEATURES)
  const y = new Float64Array(batch)
  for (let at = 0; at < rows; at += batch) {
    const n = Math.min(batch, rows - at)
    generate(rng, n, X, y)
    sink(X, y, n, at)
  }
}

function peakRss(): number {
  const status = readFileSync('/proc/self/status', 'utf8')
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)
  return kb ? Number(kb[1]) * 1024 : process.resourceUsage().maxRSS * 1024
}

function modelHash(model: GbdtClassifier): string {
  return createHash('sha256').update(JSON.stringify(model.toJSON())).digest('hex').slice(0, 16)
}

function folderBytes(path: string): number {
  let total = 0
  for (const name of readdirSync(path)) total += statSync(join(path, name)).size
  return total
}

interface ChildResult {
  readonly mode: string
  readonly peakRss: number
  readonly generateSeconds: number
  readonly trainSeconds: number
  readonly model: string
  readonly spillBytes?: number
  readonly chunkRows?: number
}

function child(mode: string): ChildResult {
  if (mode === 'constant') {
    const rows = 10_000
    const X = new Float32Array(rows * N_FEATURES)
    const y = new Float64Array(rows)
    generate(new Random(3), rows, X, y)
    const model = new GbdtClassifier({ ...PARAMS, nEstimators: 10 })
    const started = performance.now()
    model.fit({ data: X, rows, cols: N_FEATURES }, y, { categoricalFeatures: CATEGORICAL })
    return {
      mode,
      peakRss: peakRss(),
      generateSeconds: 0,
      trainSeconds: (performance.now() - started) / 1000,
      model: modelHash(model),
    }
  }
  const bins = mapper()
  const model = new GbdtClassifier(PARAMS)
  let started = performance.now()
  if (mode === 'in-memory') {
    const binned = bins.allocate(ROWS)
    const y = new Float64Array(ROWS)
    stream(ROWS, 1 << 20, (X, labels, n, at) => {
      bins.binRows({ data: X.subarray(0, n * N_FEATURES), rows: n, cols: N_FEATURES }, binned, at)
      y.set(labels.subarray(0, n), at)
    })
    const generateSeconds = (performance.now() - started) / 1000
    started = performance.now()
    model.fitBinned(binned, y, { classes: [0, 1] })
    const trainSeconds = (performance.now() - started) / 1000
    return { mode, peakRss: peakRss(), generateSeconds, trainSeconds, model: modelHash(model) }
  }
  const plan = planTrainingMemory(
    { nRows: ROWS, nFeatures: N_FEATURES, nOutputs: 1, totalBins: bins.totalBins, maxLeaves: LEAVES },
    { memoryBudget: BUDGET, externalMemory: true },
  )
  const rows = ExternalRows.create(bins, { chunkRows: plan.chunkRows, ...(SPILL_DIR ? { dir: SPILL_DIR } : {}) })
  try {
    stream(ROWS, 65_536, (X, labels, n) => {
      rows.append({ data: X.subarray(0, n * N_FEATURES), rows: n, cols: N_FEATURES }, labels.subarray(0, n))
    })
    rows.finish()
    const generateSeconds = (performance.now() - started) / 1000
    started = performance.now()
    let spillBytes = 0
    model.fitExternal(rows, {
      classes: [0, 1],
      onIteration: ({ iteration }) => {
        if (iteration === 0) spillBytes = folderBytes(rows.folder.path)
      },
    })
    const trainSeconds = (performance.now() - started) / 1000
    return {
      mode,
      peakRss: peakRss(),
      generateSeconds,
      trainSeconds,
      model: modelHash(model),
      spillBytes,
      chunkRows: rows.chunkRows,
    }
  } finally {
    rows.remove()
  }
}

function runChild(mode: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const script = fileURLToPath(import.meta.url)
    const p = spawn(process.execPath, [...process.execArgv, script, ...process.argv.slice(2), '--child', mode], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    p.on('error', reject)
    p.on('close', (code) => {
      if (code !== 0) reject(new Error(`the ${mode} child exited with ${code}`))
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildResult)
    })
  })
}

async function main(): Promise<void> {
  const childMode = arg('--child', '')
  if (childMode !== '') {
    process.stdout.write(`${JSON.stringify(child(childMode))}\n`)
    return
  }
  process.stderr.write(
    `external-memory bench: ${ROWS.toLocaleString('en-US')} rows × ${N_FEATURES} features, ${TREES} trees × ${LEAVES} leaves, budget ${formatByteSize(BUDGET)}\n`,
  )
  const results: ChildResult[] = []
  for (const mode of ['constant', 'in-memory', 'external']) {
    if (!ONLY.includes(mode)) continue
    process.stderr.write(`running ${mode} …\n`)
    results.push(await runChild(mode))
  }
  const { printMarkdownTable } = await import('../lib/peers.js')
  const constant = results.find((r) => r.mode === 'constant')
  const reference = results.find((r) => r.mode === 'in-memory')?.model
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0)
  printMarkdownTable(
    ['mode', 'peak RSS MiB', 'above constant MiB', 'on disk MiB', 'chunk rows', 'generate+bin s', 'train s', 'model'],
    results.map((r) => [
      r.mode,
      mib(r.peakRss),
      constant && r.mode !== 'constant' ? mib(r.peakRss - constant.peakRss) : '',
      r.spillBytes === undefined ? '' : mib(r.spillBytes),
      r.chunkRows ?? '',
      r.generateSeconds.toFixed(1),
      r.trainSeconds.toFixed(1),
      r.mode === 'constant'
        ? ''
        : reference === undefined
          ? r.model
          : r.model === reference
            ? 'identical'
            : 'DIFFERENT',
    ]),
  )
  const external = results.find((r) => r.mode === 'external')
  if (external && constant) {
    const limit = BUDGET + constant.peakRss
    process.stdout.write(
      `\nexternal memory: data on disk ${(external.spillBytes! / BUDGET).toFixed(1)}× the budget; peak RSS ${mib(external.peakRss)} MiB ${external.peakRss <= limit ? '≤' : '>'} budget ${mib(BUDGET)} MiB + constant ${mib(constant.peakRss)} MiB = ${mib(limit)} MiB` +
        (reference === undefined
          ? '\n'
          : `; model ${external.model === reference ? 'identical to' : 'DIFFERENT from'} in-memory\n`),
    )
  }
}

await main()
