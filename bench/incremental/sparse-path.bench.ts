/**
 * bench/incremental: one training pass over flights-3m (read + transform + learn) through the sparse path
 * (`Pipeline.transformSparse` + `SgdClassifier.partialFitSparse`) against the dense path (`Pipeline.transform` +
 * `partialFit`), in process, with the time of each stage; then holdout AUC and log-loss of both models (the paths
 * learn bit-identical weights, so these must agree) and, unless `--no-peer`, scikit-learn's
 * `SGDClassifier.partial_fit` on the same recipe (`sklearn_sgd.py`, its own rows/s). Prints, never asserts.
 *
 *   npx tsx bench/incremental/sparse-path.bench.ts [--rounds 2] [--no-peer] [--batch-size 65536]
 *
 * Same split as flights-sgd.bench.ts: train date < 2001-06-13 (2,697,270 rows), test the rest; label delay > 15;
 * features date (one-hot hour, weekday, month), distance (standardized), origin and destination (one-hot).
 * rows/s counts the whole pass: DuckDB read, transform, partialFit. Best of `--rounds` passes per path (the machine
 * is shared; the least-disturbed pass measures the code).
 */
import { fileURLToPath } from 'node:url'
import type { SparseBuffers } from '../../src/core/matrix.js'
import { sparseBuffers } from '../../src/core/matrix.js'
import type { Batch } from '../../src/data/batch.js'
import { openFileSource } from '../../src/data/sources/file-source.js'
import { ClassificationMetrics } from '../../src/metrics/evaluate.js'
import { SgdClassifier } from '../../src/models/linear/sgd-classifier.js'
import { autoPipeline } from '../../src/preprocess/auto-pipeline.js'
import type { Pipeline } from '../../src/preprocess/pipeline.js'
import { count, fixed, flightsParquet, PYTHON, printMarkdownTable, runJson } from '../lib/peers.js'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1]! : fallback
}
const rounds = Number(arg('--rounds', '2'))
const batchSize = Number(arg('--batch-size', '65536'))
const withPeer = !process.argv.includes('--no-peer')

const FEATURES = ['date', 'distance', 'origin', 'destination']
const CUTOFF = "TIMESTAMP '2001-06-13 00:00:00'"
const LABEL = '__label'
const now = (): number => performance.now() / 1000

async function open(where: string) {
  return openFileSource({
    path: flightsParquet(),
    columns: [...FEATURES, LABEL],
    expressions: [{ name: LABEL, sql: 'delay > 15' }],
    where,
    batchSize,
  })
}

const train = await open(`"date" < ${CUTOFF}`)
const test = await open(`"date" >= ${CUTOFF}`)
const pipeline = autoPipeline(await train.schema(), FEATURES)
const started = now()
await pipeline.fit(train)
const fitSeconds = now() - started
process.stderr.write(
  `pipeline fitted in ${fixed(fitSeconds, 2)} s: ${pipeline.nFeatures} features, ${pipeline.nnzPerRow} stored entries per row\n`,
)

function labels(batch: Batch): Float64Array {
  const column = batch.columns.get(LABEL)
  if (column === undefined || column.type === 'string') throw new Error(`no numeric ${LABEL} column`)
  return column.values.subarray(0, batch.length)
}

interface Pass {
  rows: number
  seconds: number
  read: number
  transform: number
  learn: number
}

/** One pass over `source`; `step` transforms and learns one batch, returning the seconds spent transforming. */
async function pass(step: ((batch: Batch, y: Float64Array) => number) | null): Promise<Pass> {
  let rows = 0
  let transform = 0
  let stepSeconds = 0
  const start = now()
  for await (const batch of train) {
    if (batch.length === 0) continue
    rows += batch.length
    if (step === null) continue
    const t = now()
    transform += step(batch, labels(batch))
    stepSeconds += now() - t
  }
  const seconds = now() - start
  return { rows, seconds, read: seconds - stepSeconds, transform, learn: stepSeconds - transform }
}

function densePath(model: SgdClassifier, p: Pipeline) {
  let buffer: Float32Array = new Float32Array(0)
  return (batch: Batch, y: Float64Array): number => {
    const t = now()
    const X = p.transform(batch, buffer)
    if (X.data.buffer !== buffer.buffer) buffer = X.data
    const transformed = now() - t
    model.partialFit(X, y, { classes: [0, 1] })
    return transformed
  }
}

function sparsePath(model: SgdClassifier, p: Pipeline, buffers: SparseBuffers) {
  return (batch: Batch, y: Float64Array): number => {
    const t = now()
    const X = p.transformSparse(batch, buffers)
    const transformed = now() - t
    model.partialFitSparse(X, y, { classes: [0, 1] })
    return transformed
  }
}

async function holdout(model: SgdClassifier, sparse: boolean): Promise<{ auc: number; logLoss: number }> {
  const metrics = new ClassificationMetrics({ classes: [0, 1] })
  const buffers = sparseBuffers()
  for await (const batch of test) {
    if (batch.length === 0) continue
    const proba = sparse
      ? model.predictProbaSparse(pipeline.transformSparse(batch, buffers))
      : model.predictProba(pipeline.transform(batch))
    metrics.update(labels(batch), proba)
  }
  const { auc, logLoss } = metrics.value()
  return { auc, logLoss }
}

const best: Record<'read' | 'dense' | 'sparse', Pass | undefined> = {
  read: undefined,
  dense: undefined,
  sparse: undefined,
}
const keep = (name: keyof typeof best, p: Pass) => {
  if (best[name] === undefined || p.seconds < best[name]!.seconds) best[name] = p
}
let denseModel = new SgdClassifier()
let sparseModel = new SgdClassifier()
for (let round = 1; round <= rounds; round++) {
  keep('read', await pass(null))
  sparseModel = new SgdClassifier()
  keep('sparse', await pass(sparsePath(sparseModel, pipeline, sparseBuffers())))
  denseModel = new SgdClassifier()
  keep('dense', await pass(densePath(denseModel, pipeline)))
  process.stderr.write(`round ${round}/${rounds} done\n`)
}
const sameWeights =
  denseModel.coef.every((w, j) => Object.is(w, sparseModel.coef[j])) &&
  Object.is(denseModel.intercept[0], sparseModel.intercept[0])
const denseScore = await holdout(denseModel, false)
const sparseScore = await holdout(sparseModel, true)

let peer: Record<string, unknown> | undefined
if (withPeer) {
  const { flightsCsv } = await import('../lib/peers.js')
  const csv = await flightsCsv()
  process.stderr.write('running the scikit-learn peer (one epoch)\n')
  peer = await runJson(PYTHON, [fileURLToPath(new URL('./sklearn_sgd.py', import.meta.url)), csv, '1'])
}
await train.close()
await test.close()

const rate = (p: Pass | undefined) => (p === undefined ? undefined : p.rows / p.seconds)
const perRow = (seconds: number, rows: number) => fixed((seconds / rows) * 1e9, 0)
const rows: (string | number)[][] = []
for (const [name, p, score] of [
  ['read only', best.read, undefined],
  ['dense: transform + partialFit', best.dense, denseScore],
  ['sparse: transformSparse + partialFitSparse', best.sparse, sparseScore],
] as const) {
  if (p === undefined) continue
  rows.push([
    name,
    count(p.rows),
    count(rate(p)),
    fixed(p.seconds, 2),
    perRow(p.read, p.rows),
    perRow(p.transform, p.rows),
    perRow(p.learn, p.rows),
    score === undefined ? '' : fixed(score.auc, 4),
    score === undefined ? '' : fixed(score.logLoss, 4),
  ])
}
if (peer !== undefined) {
  rows.push([
    `scikit-learn peer (${String(peer.peer).split(' + ')[0]})`,
    count(peer.trainRows),
    count(peer.rowsPerSecond),
    fixed(peer.trainSeconds, 2),
    '',
    '',
    '',
    fixed(peer.auc, 4),
    fixed(peer.logLoss, 4),
  ])
}
process.stdout.write(
  `\nflights-3m, one training pass, batch ${count(batchSize)} rows, ${pipeline.nFeatures} features (${pipeline.nnzPerRow} stored per row), SgdClassifier log_loss alpha 1e-4 shuffled\n\n`,
)
printMarkdownTable(
  ['path', 'rows', 'rows/s', 'pass s', 'read ns/row', 'transform ns/row', 'learn ns/row', 'holdout AUC', 'log-loss'],
  rows,
)
const sparseRate = rate(best.sparse)
const denseRate = rate(best.dense)
if (sparseRate !== undefined && denseRate !== undefined) {
  process.stdout.write(`\nsparse / dense rows/s: ${fixed(sparseRate / denseRate, 2)}\n`)
}
if (sparseRate !== undefined && peer !== undefined) {
  process.stdout.write(`sparse / scikit-learn rows/s: ${fixed(sparseRate / (peer.rowsPerSecond as number), 2)}\n`)
}
process.stdout.write(`dense and sparse models bit-identical: ${sameWeights}\n`)
