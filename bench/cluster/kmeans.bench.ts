/**
 * bench/cluster: MiniBatchKMeans (k = 8) on flights-3m, scaleml vs scikit-learn 1.2's
 * `MiniBatchKMeans.partial_fit`, same features, same row order, same batch size (1024, scikit-learn's default),
 * same run.
 *
 *   npx tsx bench/cluster/kmeans.bench.ts [--seeds 0,1,2] [--peer-threads 1]
 *
 * Features: hour, day of week, month and distance of every flight, standardized with StandardScaler (first pass
 * over the Parquet file through `openFileSource`); the second pass standardizes into float32 rows, trains a
 * streaming model (read + transform + learn, reported on its own) and keeps the rows, which are written once to
 * `.bench-data/flights-kmeans.npy` for the peer (`sklearn_kmeans.py`, run under /usr/bin/python3.11).
 *
 * Timed for both sides: the `partialFit` / `partial_fit` calls over the in-memory features (scikit-learn gets them
 * as float64). Reported: rows/s, and the inertia of the final centers over all 3M rows. Runs:
 * - k-means++ with reassignment (both defaults), one run per seed; the generators differ (scaleml's seeded
 *   Random vs NumPy's), so the seeds do not pair up and the medians are compared;
 * - "same init": both start from the same centers (scaleml's k-means++ on the first batch, seed 0) with
 *   reassignment off, the configuration in which both do the same arithmetic: centers must agree to rounding.
 * Targets: inertia within 2% of scikit-learn's at ≥ 2× its rows/s. Printed, not asserted. Exits 2 when the Python
 * peer cannot run.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Random } from '../../src/core/random.js'
import { openFileSource } from '../../src/data/sources/file-source.js'
import { createKmeansPlusPlusScratch, kmeansPlusPlus } from '../../src/models/cluster/kernels/init.js'
import { MiniBatchKMeans, type MiniBatchKMeansParams } from '../../src/models/cluster/minibatch-kmeans.js'
import { StandardScaler } from '../../src/preprocess/standard-scaler.js'
import { BENCH_DATA, count, fixed, flightsParquet, PYTHON, printMarkdownTable, runJson } from '../lib/peers.js'

const N_CLUSTERS = 8
const BATCH = 1024
const FEATURES = ['hour', 'dow', 'month', 'distance'] as const
const D = FEATURES.length
const seedsArg = process.argv.indexOf('--seeds')
const SEEDS = (seedsArg > 0 ? process.argv[seedsArg + 1]! : '0,1,2').split(',').map(Number)
const threadsArg = process.argv.indexOf('--peer-threads')
/**
 * OpenMP threads of the peer (default 1, as scaleml's learner is single-threaded). With 2 threads on a shared 2-core
 * machine, OpenMP's spin-waiting under contention made single runs take anywhere from 1.2 s to 44 s.
 */
const PEER_THREADS = threadsArg > 0 ? Number(process.argv[threadsArg + 1]) : 1

function requirePeer(): string {
  const check = spawnSync(PYTHON, ['-c', 'import numpy, sklearn; print(sklearn.__version__)'], { encoding: 'utf8' })
  if (check.status !== 0) {
    process.stderr.write(
      `This benchmark runs scikit-learn's MiniBatchKMeans under ${PYTHON} and needs the Python modules numpy and sklearn.\n` +
        'Install them with: apt-get update && apt-get install -y python3-sklearn python3-numpy\n' +
        `(or point SCALEML_BENCH_PYTHON at an interpreter that has them)\n${check.stderr ?? check.error?.message ?? ''}\n`,
    )
    process.exit(2)
  }
  return check.stdout.trim()
}

const sklearnVersion = requirePeer()

async function openFeatures() {
  return openFileSource({
    path: flightsParquet(),
    batchSize: 64 * BATCH,
    columns: [...FEATURES],
    expressions: [
      { name: 'hour', sql: 'hour("date")' },
      { name: 'dow', sql: 'dayofweek("date")' },
      { name: 'month', sql: 'month("date")' },
    ],
  })
}

/** Calls `partialFit` on consecutive `BATCH`-row views of `rows × D` features. */
function learn(model: MiniBatchKMeans, data: Float32Array, rows: number): void {
  for (let a = 0; a < rows; a += BATCH) {
    const b = Math.min(rows, a + BATCH)
    model.partialFit({ data: data.subarray(a * D, b * D), rows: b - a, cols: D })
  }
}

/** A float32 `rows × cols` .npy file (NumPy format 1.0). */
function writeNpy(path: string, data: Float32Array, rows: number, cols: number): void {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`
  const unpadded = 10 + header.length + 1
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n'
  const prefix = Buffer.alloc(10)
  prefix.write('\x93NUMPY', 0, 'latin1')
  prefix[6] = 1
  prefix[7] = 0
  prefix.writeUInt16LE(header.length, 8)
  writeFileSync(
    path,
    Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]),
  )
}

// Pass 1: the scaler's statistics, streaming.
const scaler = new StandardScaler({ columns: [...FEATURES] })
{
  const source = await openFeatures()
  try {
    for await (const batch of source) scaler.partialFit(batch)
  } finally {
    await source.close()
  }
}
const rows = scaler.count[0]!

// Pass 2: standardize, train a streaming model on the way (read + transform + learn), keep the rows for the
// in-memory runs and the peer. Source batches are 64 × BATCH rows (all but the last full), so the streaming model
// sees the same 1024-row calls as the in-memory runs.
const X = new Float32Array(rows * D)
const streaming = new MiniBatchKMeans({ nClusters: N_CLUSTERS, seed: SEEDS[0]! })
let streamingSeconds: number
{
  const source = await openFeatures()
  let offset = 0
  const start = process.hrtime.bigint()
  try {
    for await (const batch of source) {
      const block = X.subarray(offset * D, (offset + batch.length) * D)
      scaler.transform(batch, block, D, 0)
      learn(streaming, block, batch.length)
      offset += batch.length
    }
  } finally {
    await source.close()
  }
  streamingSeconds = Number(process.hrtime.bigint() - start) / 1e9
}

mkdirSync(BENCH_DATA, { recursive: true })
const npy = join(BENCH_DATA, 'flights-kmeans.npy')
writeNpy(npy, X, rows, D)

// The shared initial centers of the "same init" run: scaleml's k-means++ on the first batch.
const sameInit = new Float64Array(N_CLUSTERS * D)
kmeansPlusPlus(
  X,
  D,
  BATCH,
  N_CLUSTERS,
  new Random(SEEDS[0]!),
  sameInit,
  new Int32Array(N_CLUSTERS),
  createKmeansPlusPlusScratch(BATCH, D, N_CLUSTERS),
)
const sameInitRows = Array.from({ length: N_CLUSTERS }, (_, j) => Array.from(sameInit.subarray(j * D, (j + 1) * D)))

interface Run {
  readonly name: string
  readonly seed: number
  readonly init: MiniBatchKMeansParams['init']
  readonly reassignmentRatio: number
}
const runs: Run[] = [
  ...SEEDS.map((seed) => ({
    name: `k-means++ seed ${seed}`,
    seed,
    init: 'k-means++' as const,
    reassignmentRatio: 0.01,
  })),
  { name: 'same init, no reassignment', seed: SEEDS[0]!, init: sameInitRows, reassignmentRatio: 0 },
]

interface Result {
  readonly seconds: number
  readonly rowsPerSecond: number
  readonly inertia: number
  readonly centers: ArrayLike<number>
}
const ours: Result[] = runs.map((run) => {
  const model = new MiniBatchKMeans({
    nClusters: N_CLUSTERS,
    seed: run.seed,
    init: run.init,
    reassignmentRatio: run.reassignmentRatio,
  })
  const start = process.hrtime.bigint()
  learn(model, X, rows)
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  return {
    seconds,
    rowsPerSecond: rows / seconds,
    inertia: model.inertia({ data: X, rows, cols: D }),
    centers: model.centers,
  }
})

const specPath = join(BENCH_DATA, 'flights-kmeans-spec.json')
writeFileSync(specPath, JSON.stringify({ npy, nClusters: N_CLUSTERS, batchSize: BATCH, runs }))
const peerScript = fileURLToPath(new URL('./sklearn_kmeans.py', import.meta.url))
const peer = (await runJson(PYTHON, [peerScript, specPath], { OMP_NUM_THREADS: String(PEER_THREADS) })) as {
  nThreads: number
  runs: Result[]
}

// scaleml's inertia of scikit-learn's final centers: checks that both inertia numbers measure the same thing.
const crossCheck = new MiniBatchKMeans({
  nClusters: N_CLUSTERS,
  init: Array.from({ length: N_CLUSTERS }, (_, j) => Array.from(peer.runs[0]!.centers).slice(j * D, (j + 1) * D)),
  reassignmentRatio: 0,
})
crossCheck.partialFit(
  { data: X.subarray(0, BATCH * D), rows: BATCH, cols: D },
  { sampleWeight: new Float64Array(BATCH) },
)
const crossInertia = crossCheck.inertia({ data: X, rows, cols: D })

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const table: (string | number)[][] = []
runs.forEach((run, i) => {
  const o = ours[i]!
  const p = peer.runs[i]!
  table.push(
    [run.name, 'scaleml', count(o.rowsPerSecond), fixed(o.seconds, 2), fixed(o.inertia, 1)],
    [run.name, 'scikit-learn', count(p.rowsPerSecond), fixed(p.seconds, 2), fixed(p.inertia, 1)],
    [
      run.name,
      'ratio (scaleml / sklearn)',
      `${fixed(o.rowsPerSecond / p.rowsPerSecond, 2)}×`,
      fixed(o.seconds / p.seconds, 3),
      fixed(o.inertia / p.inertia, 4),
    ],
  )
})
const kpp = runs.map((_run, i) => i).filter((i) => runs[i]!.init === 'k-means++')
const oursSpeed = median(kpp.map((i) => ours[i]!.rowsPerSecond))
const peerSpeed = median(kpp.map((i) => peer.runs[i]!.rowsPerSecond))
const oursInertia = median(kpp.map((i) => ours[i]!.inertia))
const peerInertia = median(kpp.map((i) => peer.runs[i]!.inertia))
table.push(
  ['k-means++ median', 'scaleml', count(oursSpeed), '', fixed(oursInertia, 1)],
  ['k-means++ median', 'scikit-learn', count(peerSpeed), '', fixed(peerInertia, 1)],
  [
    'k-means++ median',
    'ratio (scaleml / sklearn)',
    `${fixed(oursSpeed / peerSpeed, 2)}×`,
    '',
    fixed(oursInertia / peerInertia, 4),
  ],
)

const same = runs.length - 1
let centerGap = 0
const oc = ours[same]!.centers
const pc = peer.runs[same]!.centers
for (let i = 0; i < oc.length; i++)
  centerGap = Math.max(centerGap, Math.abs(oc[i]! - pc[i]!) / Math.max(Math.abs(pc[i]!), 1e-12))

process.stdout.write(
  `\nMiniBatchKMeans k=${N_CLUSTERS} on flights-3m (${count(rows)} rows × ${D} standardized features: ${FEATURES.join(', ')}), ` +
    `batches of ${BATCH} rows in file order; scikit-learn ${sklearnVersion} (${peer.nThreads} OpenMP threads, compute_labels=False)\n` +
    'rows/s = rows / time of the partial-fit calls over in-memory features; inertia = Σ squared distance to the nearest final center over all rows\n\n',
)
printMarkdownTable(['run', 'who', 'rows/s', 'seconds', 'inertia (all rows)'], table)
process.stdout.write(
  `\nscaleml streaming pass (Parquet read + standardize + learn, seed ${SEEDS[0]}): ${fixed(streamingSeconds, 2)} s, ` +
    `${count(rows / streamingSeconds)} rows/s, inertia ${fixed(streaming.inertia({ data: X, rows, cols: D }), 1)}\n`,
)
process.stdout.write(
  `same init, no reassignment: largest relative center difference scaleml vs scikit-learn ${centerGap.toExponential(2)}\n`,
)
process.stdout.write(
  `cross-check: scaleml's inertia of scikit-learn's '${runs[0]!.name}' centers ${fixed(crossInertia, 1)} vs scikit-learn's ${fixed(peer.runs[0]!.inertia, 1)} ` +
    `(relative difference ${(Math.abs(crossInertia - peer.runs[0]!.inertia) / peer.runs[0]!.inertia).toExponential(2)})\n`,
)
const inertiaOk = Math.abs(oursInertia / peerInertia - 1) <= 0.02
const speedOk = oursSpeed / peerSpeed >= 2
process.stdout.write(
  `target (k-means++ medians): inertia within 2% → ${inertiaOk ? 'met' : 'MISSED'} (${fixed((oursInertia / peerInertia - 1) * 100, 2)}%); ` +
    `≥ 2× rows/s → ${speedOk ? 'met' : 'MISSED'} (${fixed(oursSpeed / peerSpeed, 2)}×)\n`,
)
