/**
 * bench/gbdt: accuracy (and train time) of scaleml's histogram GBDT against XGBoost 1.7.4 (`tree_method: 'hist'`,
 * native categoricals through pandas `category` columns and `enable_categorical`, 1 and 2 threads) and
 * scikit-learn 1.2's HistGradientBoostingClassifier, same data, same hyper-parameters, same run.
 *
 *   npx tsx bench/gbdt/gbdt.bench.ts [--only flights|multiclass] [--peers xgboost-1,xgboost-2,sklearn-1] [--robustness]
 *
 * Tasks: flights-3m (hour, day of week, month, distance numeric; origin, destination categorical; train before
 * 2001-06-13, test after; label delay > 15) and a synthetic 5-class set (see data.ts). Settings: 100 rounds,
 * 31 leaves (leaf-wise; XGBoost `grow_policy: 'lossguide'`, `max_depth: 0`), learning rate 0.1, 255 bins, λ = 1,
 * min child weight 1. Scaleml's time includes binning (sketch + bin). Target: holdout AUC and log-loss within 0.002
 * of XGBoost's. Printed, not asserted. Exits 2 when the Python peers cannot run.
 *
 * `--robustness` adds three more splits of the flights training period, scaleml vs XGBoost (1 thread): every 10th
 * row held out (no time shift), and train on months ≤ 4 / test May, train on months ≤ 3 / test April. Why: the
 * official holdout is shifted in time (its positive rate is 0.225 against 0.197 in training, and every test row has
 * month 6, which the training set only covers for 12 days), so late trees that fit date effects move its log-loss
 * by a few thousandths in either direction; the extra splits show how much of a difference is engine and how much
 * is the shift.
 */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LogLoss } from '../../src/metrics/log-loss.js'
import { RocAuc } from '../../src/metrics/roc-auc.js'
import { GbdtClassifier, type GbdtClassifierParams } from '../../src/models/trees/gbdt.js'
import { fixed, PYTHON, printMarkdownTable, runJson } from '../lib/peers.js'
import { flightsSplit, GBDT_DATA, multiclassSplit, type Split } from './data.js'

const onlyArg = process.argv.indexOf('--only')
const ONLY = onlyArg > 0 ? process.argv[onlyArg + 1] : undefined
const ROBUSTNESS = process.argv.includes('--robustness')
const peersArg = process.argv.indexOf('--peers')
const PEERS = (peersArg > 0 ? process.argv[peersArg + 1]! : 'xgboost-1,xgboost-2,sklearn-1').split(',')

const PARAMS: Partial<GbdtClassifierParams> = {
  nEstimators: 100,
  maxLeaves: 31,
  learningRate: 0.1,
  maxBins: 255,
  lambda: 1,
  minChildWeight: 1,
  maxCatToOnehot: 4,
  maxCatThreshold: 64,
  // XGBoost 1.7 starts every model at base_score 0.5 (margin 0); scaleml's default starts at the label mean (as
  // XGBoost 2 and LightGBM do). The same starting point is part of "the same hyper-parameters".
  baseScore: 0.5,
}

const check = spawnSync(PYTHON, ['-c', 'import xgboost, sklearn, pandas, threadpoolctl'], { encoding: 'utf8' })
if (check.status !== 0) {
  process.stderr.write(
    `This benchmark runs XGBoost and scikit-learn under ${PYTHON}.\n` +
      'Install them with: apt-get update && apt-get install -y python3-xgboost python3-sklearn python3-pandas\n' +
      `${check.stderr ?? ''}\n`,
  )
  process.exit(2)
}

interface Row {
  readonly run: string
  readonly seconds: number
  readonly auc?: number
  readonly logLoss: number
  readonly accuracy: number
  readonly error?: string
}

/** The rows of `split.train` that a robustness rule keeps for training and for testing (see the module comment). */
function resplit(split: Split, rule: string): Split {
  const { X, y, rows } = split.train
  const keepTrain: number[] = []
  const keepTest: number[] = []
  const last = rule === 'random10' ? 0 : Number(rule.split(':')[1])
  for (let r = 0; r < rows; r++) {
    if (rule === 'random10') (r % 10 === 0 ? keepTest : keepTrain).push(r)
    else {
      const month = X[r * split.cols + 2]!
      if (month <= last) keepTrain.push(r)
      else if (month === last + 1) keepTest.push(r)
    }
  }
  const take = (idx: number[]) => {
    const out = new Float32Array(idx.length * split.cols)
    const labels = new Float64Array(idx.length)
    idx.forEach((r, i) => {
      out.set(X.subarray(r * split.cols, (r + 1) * split.cols), i * split.cols)
      labels[i] = y[r]!
    })
    return { X: out, y: labels, rows: idx.length }
  }
  return { ...split, name: `${split.name} ${rule}`, train: take(keepTrain), test: take(keepTest) }
}

async function runTask(split: Split, rule?: string): Promise<void> {
  const nClasses = new Set(split.train.y).size
  const ours: Row[] = []
  let model: GbdtClassifier | undefined
  let firstModel: string | undefined
  for (const nThreads of rule === undefined ? [1, 2] : [1]) {
    const trained = new GbdtClassifier({ ...PARAMS, nThreads })
    const start = process.hrtime.bigint()
    trained.fit({ data: split.train.X, rows: split.train.rows, cols: split.cols }, split.train.y, {
      categoricalFeatures: split.categorical,
      featureNames: split.featureNames,
    })
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    // Threads change the speed, never the model: the trees must be the same to the bit.
    const { nThreads: _, ...rest } = trained.toJSON().params
    const json = JSON.stringify({ ...trained.toJSON(), params: rest })
    if (firstModel !== undefined && json !== firstModel) throw new Error('nThreads 1 and 2 gave different models')
    firstModel = json
    model = trained
    ours.push({
      run: `scaleml (${nThreads} thread${nThreads > 1 ? 's' : ''})`,
      seconds,
      ...score(trained, split, nClasses),
    })
  }

  const specPath = join(GBDT_DATA, `${split.name.replace(/[^a-z0-9]+/gi, '-')}-spec.json`)
  writeFileSync(
    specPath,
    JSON.stringify({
      files: split.files,
      categorical: split.categorical,
      featureNames: split.featureNames,
      nClasses,
      params: PARAMS,
      runs: rule === undefined ? PEERS : ['xgboost-1'],
      ...(rule === undefined ? {} : { split: rule }),
    }),
  )
  const peerScript = fileURLToPath(new URL('./peers_gbdt.py', import.meta.url))
  const peer = (await runJson(PYTHON, [peerScript, specPath])) as Record<string, Partial<Row>>
  const rows: Row[] = [...ours]
  for (const run of rule === undefined ? PEERS : ['xgboost-1']) {
    const r = peer[run] ?? { error: 'missing' }
    rows.push({
      run,
      seconds: r.seconds ?? Number.NaN,
      ...(r.auc === undefined ? {} : { auc: r.auc }),
      logLoss: r.logLoss ?? Number.NaN,
      accuracy: r.accuracy ?? Number.NaN,
      ...(r.error === undefined ? {} : { error: r.error }),
    })
  }
  const reference = rows.find((r) => r.run === 'xgboost-1' && r.error === undefined)
  process.stdout.write(
    `\n${split.name}: ${split.train.rows.toLocaleString('en-US')} train rows, ${split.test.rows.toLocaleString('en-US')} test rows, ${split.cols} features (categorical: ${split.categorical.join(', ')}), ${nClasses} classes; peers ${JSON.stringify(peer['versions'])}\n\n`,
  )
  printMarkdownTable(
    ['run', 'train s', 'holdout AUC', 'holdout log-loss', 'accuracy', 'Δ AUC vs xgboost-1', 'Δ log-loss vs xgboost-1'],
    rows.map((r) => [
      r.error === undefined ? r.run : `${r.run} (failed: ${r.error})`,
      fixed(r.seconds, 2),
      fixed(r.auc, 4),
      fixed(r.logLoss, 4),
      fixed(r.accuracy, 4),
      reference?.auc !== undefined && r.auc !== undefined ? fixed(r.auc - reference.auc, 4) : 'n/a',
      reference !== undefined ? fixed(r.logLoss - reference.logLoss, 4) : 'n/a',
    ]),
  )
  const ratios = [1, 2].flatMap((t) => {
    const ours = rows.find((r) => r.run === `scaleml (${t} thread${t > 1 ? 's' : ''})`)
    const peer = rows.find((r) => r.run === `xgboost-${t}` && r.error === undefined)
    return ours === undefined || peer === undefined
      ? []
      : [`${t} thread${t > 1 ? 's' : ''} ${fixed(ours.seconds / peer.seconds, 2)}×`]
  })
  if (ratios.length > 0)
    process.stdout.write(`\ntrain time, scaleml / xgboost at the same thread count: ${ratios.join(', ')}\n`)
  const imp = model!.featureImportance('gain')
  const total = imp.reduce((a, b) => a + b, 0)
  process.stdout.write(
    `\nscaleml gain importance: ${split.featureNames.map((n, f) => `${n} ${((100 * imp[f]!) / total).toFixed(1)}%`).join(', ')}\n`,
  )
}

/** Holdout log-loss, accuracy and (binary) exact AUC of `model` on the split's test rows. */
function score(
  model: GbdtClassifier,
  split: Split,
  nClasses: number,
): { auc?: number; logLoss: number; accuracy: number } {
  const proba = model.predictProba({ data: split.test.X, rows: split.test.rows, cols: split.cols })
  const yTest = split.test.y
  const loss = new LogLoss({ nClasses })
  loss.update(yTest, proba)
  let correct = 0
  for (let r = 0; r < split.test.rows; r++) {
    let best = 0
    for (let k = 1; k < nClasses; k++) if (proba[r * nClasses + k]! > proba[r * nClasses + best]!) best = k
    if (best === yTest[r]) correct++
  }
  let auc: number | undefined
  if (nClasses === 2) {
    const metric = new RocAuc({ mode: 'exact' })
    const p1 = new Float64Array(split.test.rows)
    for (let r = 0; r < split.test.rows; r++) p1[r] = proba[2 * r + 1]!
    metric.update(yTest, p1)
    auc = metric.value()
  }
  return { ...(auc === undefined ? {} : { auc }), logLoss: loss.value(), accuracy: correct / split.test.rows }
}

if (ONLY === undefined || ONLY === 'flights') {
  const flights = await flightsSplit()
  await runTask(flights)
  if (ROBUSTNESS) for (const rule of ['random10', 'month:4', 'month:3']) await runTask(resplit(flights, rule), rule)
}
if (ONLY === undefined || ONLY === 'multiclass') await runTask(multiclassSplit())
