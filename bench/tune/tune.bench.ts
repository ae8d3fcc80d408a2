/**
 * bench/tune: hyperparameter search over GBDT on a 200,000-row sample of the flights task — `scaleml tune` (the built
 * CLI, so the whole product path is timed: reading, preprocessing, the search, the refit, the holdout score, the
 * registry) with successive halving and with TPE, against scikit-learn 1.2's HalvingRandomSearchCV and
 * RandomizedSearchCV and Optuna 3.1's TPE over HistGradientBoostingClassifier, same data, same search space, same
 * run. Reports each search's wall time and its refit best model's holdout AUC (issue 7's benchmark).
 *
 *   npm run bench:tune [-- --only scaleml-halving,sklearn-halving,scaleml-tpe,sklearn-random,optuna-tpe]
 *       (also scaleml-halving-rows: scaleml's halving over rows, scikit-learn's resource; scaleml-random: 20 trials)
 *       [--seeds 0,1,2,3,4] [--cv time-series|stratified] [--order time|shuffled]
 *       [--rows 200000] [--sample-seed 42] [--peer-early-stopping auto|off] [--peer-threads N]
 *       [--max-minutes 15] [--scaleml-args="…"]   (extra flags for both scaleml runs, e.g. "--parallel 1")
 *
 * Data (data.ts): bench/gbdt's flights features (hour, day of week, month, distance; origin and destination as
 * native categoricals), label `delay > 15`, training rows before 2001-06-13 of which 200,000 are drawn with a fixed
 * seed (kept in time order; `--order shuffled` writes them in the order drawn), test rows after (302,730), one
 * CSV/Parquet pair both sides read.
 *
 * Validation: the holdout is the flights task's time split (the late-June rows), so by default every search
 * cross-validates forward in time, `TimeSeriesSplit(3)` on both sides (scaleml `--cv time-series:3`, scikit-learn's
 * exact indices): each validation fold follows its training rows, as the holdout follows the training set.
 * `--cv stratified` is scikit-learn's `cv=3` (stratified, unshuffled): over time-ordered rows its folds are
 * consecutive stretches of January–June, and a CV score that rewards a configuration there says little about late
 * June (a search's holdout AUC then depends on which candidates it happened to draw more than on how it searches).
 *
 * Search seeds: every run is repeated with each of `--seeds` (default five), the table lists every run and the
 * target is judged on the means over the seeds. One seed's "best peer" is the luckiest of three searches, and the
 * candidates a seed draws move a run's holdout AUC by more than the 0.003 the target allows.
 *
 * Search space on both sides (scaleml's default GBDT space): learning rate log-uniform [0.01, 0.3]; leaves
 * (`maxLeaves` / `max_leaf_nodes`) and min samples per leaf integers log-uniform in [8, 256] and [1, 200];
 * L2 (`lambda` / `l2_regularization`) log-uniform [0.001, 10]. 100 boosting rounds, 255 bins, 3 folds, AUC; the
 * best configuration is refit on all 200,000 rows.
 * - scaleml halving: `--strategy halving --trials 20 --min-resources exhaust` (factor 3) over boosting rounds, the
 *   default resource for GBDT: 20 candidates × 11 rounds, 7 × 33, 3 × 99, survivors continuing boosting, each
 *   rung keeping the best among learning-rate neighbours (`--pace-param`, the default over rounds).
 * - scikit-learn halving: `HalvingRandomSearchCV(n_candidates=20, factor=3, min_resources='exhaust')` over
 *   rows, its default resource (20 × 22,222 rows, 7 × 66,666, 3 × 199,998).
 * - scaleml TPE: `--strategy tpe --trials 30`; Optuna: `TPESampler(seed)`, 30 trials of `cross_val_score`.
 * - scikit-learn random: `RandomizedSearchCV(n_iter=20)`.
 *
 * scaleml runs its trials on one worker thread per core (`--parallel <cores>`; GBDT's own threads are then 1): a
 * search is many short fits, and a trial per core wastes nothing on synchronizing threads inside a fit
 * (`--scaleml-args="--parallel 1"` measures the default instead, each fit on GBDT's own threads). The peers keep
 * scikit-learn's and Optuna's defaults (`n_jobs=None`, one trial at a time; HistGradientBoosting uses every core
 * through OpenMP inside each fit), `early_stopping='auto'` included (on above 10,000 rows, holding out 10% of each
 * fit's rows); `--peer-early-stopping off` trains every peer fit 100 rounds, as every scaleml trial does.
 * `--peer-threads N` sets the peers' OpenMP threads: on a machine whose cores are busy with other work,
 * HistGradientBoosting's OpenMP threads slow down by an order of magnitude (measured: one 133k-row fit 0.9 s on 1
 * thread, 34–47 s on 2 while other processes kept both cores busy).
 *
 * Target (issue 7): scaleml halving's holdout AUC within 0.003 of the best peer's, at ≤ 0.5× the wall time of
 * scikit-learn's halving search (means over the seeds). Printed, not asserted. Exits 2 when a peer cannot run, 3 past `--max-minutes`.
 * Times: a peer's is its search's `fit` (refit included) after the CSV is read, as a Python user would time it;
 * scaleml's like-for-like figure is its search plus the refit of the winner (both reading the Parquet file), from the
 * CLI's `--json` (`seconds`, `refit.timings`), and the table also lists the whole CLI process (start, holdout
 * scoring of 302,730 rows, registry). The time target is judged like for like.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { CLI, fixed, PYTHON, printMarkdownTable, requirePython } from '../lib/peers.js'
import { type SampleOrder, TUNE_DATA, tuneData } from './data.js'

const { values: flags } = parseArgs({
  options: {
    only: { type: 'string', default: 'scaleml-halving,sklearn-halving,scaleml-tpe,sklearn-random,optuna-tpe' },
    rows: { type: 'string', default: '200000' },
    'sample-seed': { type: 'string', default: '42' },
    order: { type: 'string', default: 'time' },
    cv: { type: 'string', default: 'time-series' },
    seeds: { type: 'string', default: '0,1,2,3,4' },
    'peer-early-stopping': { type: 'string', default: 'auto' },
    'peer-threads': { type: 'string' },
    'max-minutes': { type: 'string', default: '15' },
    'scaleml-args': { type: 'string', default: '' },
  },
})

const RUNS = flags.only.split(',')
const SEEDS = flags.seeds.split(',').map(Number)
if (SEEDS.some((s) => !Number.isInteger(s) || s < 0)) {
  process.stderr.write('--seeds takes a comma-separated list of whole numbers, e.g. 0,1,2\n')
  process.exit(2)
}
const SPACE = {
  learningRate: [0.01, 0.3],
  maxLeaves: [8, 256],
  minSamplesLeaf: [1, 200],
  lambda: [0.001, 10],
} as const
const FEATURES = 'hour,dow,month,distance,origin,destination'

requirePython(['sklearn', 'optuna', 'pandas', 'scipy'], ['python3-sklearn', 'python3-optuna', 'python3-pandas'])
if (!['auto', 'off'].includes(flags['peer-early-stopping'])) {
  process.stderr.write('--peer-early-stopping takes auto or off\n')
  process.exit(2)
}

const [load1] = loadavg()
if (flags['peer-threads'] === undefined && load1! > availableParallelism() - 0.5) {
  process.stderr.write(
    `warning: load average ${load1!.toFixed(1)} on ${availableParallelism()} cores: HistGradientBoosting's OpenMP threads slow down by 10–50× when other work keeps the cores busy; the peers' times will not mean much (pass --peer-threads 1, or run on a quiet machine)\n`,
  )
}

const deadline = Date.now() + Number(flags['max-minutes']) * SEEDS.length * 60_000
const children = new Set<ChildProcess>()
const killAll = () => {
  for (const child of children) if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
}
process.on('SIGINT', () => {
  killAll()
  process.exit(130)
})

/** Runs a command in its own process group to completion (or the deadline); its stdout (or last line) as JSON. */
function run(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<{ json: Record<string, unknown>; seconds: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, ...env },
    })
    children.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const timer = setTimeout(
      () => {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      },
      Math.max(0, deadline - Date.now()),
    )
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      children.delete(child)
      const seconds = (performance.now() - started) / 1000
      if (signal === 'SIGKILL' && Date.now() >= deadline) {
        reject(new Error(`killed at --max-minutes ${flags['max-minutes']}`))
        return
      }
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`))
        return
      }
      try {
        // The CLI prints one indented JSON object; the Python peer prints one line after its progress.
        const text = stdout.trim()
        resolve({ json: JSON.parse(text.startsWith('{') ? text : (text.split('\n').pop() ?? '')), seconds })
      } catch (error) {
        reject(new Error(`could not parse the output of ${command}: ${String(error)}\n${stdout.slice(-2000)}`))
      }
    })
  })
}

interface Row {
  readonly run: string
  readonly seed: number
  /** Wall seconds: scaleml's whole CLI process; a peer's search `fit` (its refit included). */
  readonly seconds?: number
  /**
   * The peers' scope: the search and the refit of its best (reading the data included for scaleml, whose search
   * and refit each read the Parquet file); without the process start, the holdout scoring and the registry.
   */
  readonly fitSeconds?: number
  readonly cvAuc?: number
  readonly auc?: number
  readonly detail?: string
  readonly error?: string
}

if (!['time', 'shuffled'].includes(flags.order)) {
  process.stderr.write('--order takes time or shuffled\n')
  process.exit(2)
}
if (!['stratified', 'time-series'].includes(flags.cv)) {
  process.stderr.write('--cv takes stratified or time-series\n')
  process.exit(2)
}
/** scaleml's `--cv`: `3` is scikit-learn's `cv=3` (stratified for a classifier); `time-series:3` its TimeSeriesSplit. */
const CV_ARG = flags.cv === 'time-series' ? 'time-series:3' : '3'
const data = await tuneData({
  rows: Number(flags.rows),
  seed: Number(flags['sample-seed']),
  order: flags.order as SampleOrder,
})
mkdirSync(TUNE_DATA, { recursive: true })
const spacePath = join(TUNE_DATA, 'space.json')
writeFileSync(
  spacePath,
  JSON.stringify({
    learningRate: { type: 'loguniform', low: SPACE.learningRate[0], high: SPACE.learningRate[1] },
    maxLeaves: { type: 'int', low: SPACE.maxLeaves[0], high: SPACE.maxLeaves[1], log: true },
    minSamplesLeaf: { type: 'int', low: SPACE.minSamplesLeaf[0], high: SPACE.minSamplesLeaf[1], log: true },
    lambda: { type: 'loguniform', low: SPACE.lambda[0], high: SPACE.lambda[1] },
  }),
)
// The holdout is the is_test = 1 rows: any fraction below their share puts the cutoff at 1 (see data.ts).
const holdoutFraction = (0.5 * data.testRows) / (data.trainRows + data.testRows)

async function scaleml(name: string, seed: number, strategyArgs: readonly string[]): Promise<Row> {
  const home = join(TUNE_DATA, `home-${name}`)
  rmSync(home, { recursive: true, force: true })
  const args = [
    CLI,
    'tune',
    ...['--data', data.parquet, '--target', 'delayed = 1', '--features', FEATURES, '--model', 'gbdt'],
    ...['--space', spacePath, '--cv', CV_ARG, '--seed', String(seed), '--holdout', `time:is_test:${holdoutFraction}`],
    ...strategyArgs,
    ...['--parallel', String(availableParallelism())],
    ...flags['scaleml-args'].split(' ').filter((a) => a !== ''),
    ...['--home', home, '--study', name, '--register', name, '--json'],
  ]
  const { json, seconds } = await run(process.execPath, args)
  const refit = json['refit'] as {
    metrics: Record<string, number>
    rows: number
    holdoutRows: number
    timings: { fitPipeline: number; train: number; evaluate: number }
  }
  if (refit.rows !== data.trainRows || refit.holdoutRows !== data.testRows) {
    throw new Error(`scaleml trained on ${refit.rows} rows and scored ${refit.holdoutRows}; expected the split`)
  }
  const best = json['best'] as { value: number; params: Record<string, number>; rungs: { resource: number }[] }
  const run_ = json['run'] as { continued?: number }
  return {
    run: name,
    seed,
    seconds,
    fitSeconds: Number(json['seconds']) + refit.timings.fitPipeline + refit.timings.train,
    cvAuc: best.value,
    auc: refit.metrics['auc']!,
    detail: `${describeParams(best.params)}; rungs ${best.rungs.map((r) => r.resource).join('/')}${run_.continued ? `, ${run_.continued} continued` : ''}`,
  }
}

function describeParams(p: Record<string, number>): string {
  const get = (...names: string[]) => names.map((n) => p[n]).find((v) => v !== undefined)
  return `lr ${fixed(get('learningRate', 'learning_rate'), 4)}, leaves ${get('maxLeaves', 'max_leaf_nodes')}, min leaf ${get('minSamplesLeaf', 'min_samples_leaf')}, λ ${fixed(get('lambda', 'l2_regularization'), 4)}`
}

async function peer(name: string, seed: number, kind: 'halving' | 'random' | 'optuna'): Promise<Row> {
  const specPath = join(TUNE_DATA, `spec-${kind}.json`)
  writeFileSync(
    specPath,
    JSON.stringify({
      csv: data.csv,
      runs: [kind],
      seed,
      nCandidates: 20,
      factor: 3,
      minResources: 'exhaust',
      cv: flags.cv === 'time-series' ? 'time-series:3' : 3,
      nIter: 20,
      optunaTrials: 30,
      maxIter: 100,
      earlyStopping: flags['peer-early-stopping'] === 'auto' ? 'auto' : false,
      space: SPACE,
    }),
  )
  const threads = flags['peer-threads']
  const { json } = await run(
    PYTHON,
    [fileURLToPath(new URL('./peers_tune.py', import.meta.url)), specPath],
    threads === undefined ? {} : { OMP_NUM_THREADS: threads },
  )
  const out = json[kind] as {
    seconds?: number
    cvAuc?: number
    auc?: number
    params?: Record<string, number>
    nResources?: number[]
    error?: string
  }
  if (out.error !== undefined) return { run: name, seed, error: out.error }
  return {
    run: name,
    seed,
    seconds: out.seconds!,
    fitSeconds: out.seconds!,
    cvAuc: out.cvAuc!,
    auc: out.auc!,
    detail: `${describeParams(out.params ?? {})}${out.nResources ? `; rungs ${out.nResources.join('/')}` : ''}`,
  }
}

const HALVING = ['--strategy', 'halving', '--trials', '20', '--factor', '3', '--min-resources', 'exhaust']
const JOBS: Record<string, (seed: number) => Promise<Row>> = {
  'scaleml-halving': (seed) => scaleml('scaleml-halving', seed, HALVING),
  // Not in the default list: halving over rows (scikit-learn's resource), refit at every rung.
  'scaleml-halving-rows': (seed) => scaleml('scaleml-halving-rows', seed, [...HALVING, '--resource', 'rows']),
  // Not in the default list: every candidate at the full budget, RandomizedSearchCV's counterpart.
  'scaleml-random': (seed) => scaleml('scaleml-random', seed, ['--strategy', 'random', '--trials', '20']),
  'sklearn-halving': (seed) => peer('sklearn-halving', seed, 'halving'),
  'scaleml-tpe': (seed) => scaleml('scaleml-tpe', seed, ['--strategy', 'tpe', '--trials', '30']),
  'sklearn-random': (seed) => peer('sklearn-random', seed, 'random'),
  'optuna-tpe': (seed) => peer('optuna-tpe', seed, 'optuna'),
}
const unknown = RUNS.find((name) => JOBS[name] === undefined)
if (unknown !== undefined) {
  process.stderr.write(`unknown run '${unknown}'; runs: ${Object.keys(JOBS).join(', ')}\n`)
  process.exit(2)
}

const rows: Row[] = []
let timedOut = false
runs: for (const seed of SEEDS) {
  for (const name of RUNS) {
    process.stderr.write(`running ${name} (search seed ${seed}) …\n`)
    try {
      const row = await JOBS[name]!(seed)
      rows.push(row)
      process.stderr.write(`  ${fixed(row.seconds, 1)} s, holdout AUC ${fixed(row.auc, 4)}\n`)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      rows.push({ run: name, seed, error: message.split('\n')[0]! })
      process.stderr.write(`  failed: ${message}\n`)
      if (Date.now() >= deadline) {
        timedOut = true
        break runs
      }
    }
  }
}

/** A run's mean wall time and holdout AUC over the seeds where it finished (undefined if it never did). */
interface Summary {
  readonly run: string
  readonly seeds: number
  readonly seconds: number
  readonly fitSeconds: number
  readonly auc: number
  readonly minAuc: number
  readonly maxAuc: number
}
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length
const summaries: Summary[] = RUNS.flatMap((run) => {
  const done = rows.filter(
    (r) => r.run === run && r.auc !== undefined && r.seconds !== undefined && r.fitSeconds !== undefined,
  )
  if (done.length === 0) return []
  const aucs = done.map((r) => r.auc!)
  return [
    {
      run,
      seeds: done.length,
      seconds: mean(done.map((r) => r.seconds!)),
      fitSeconds: mean(done.map((r) => r.fitSeconds!)),
      auc: mean(aucs),
      minAuc: Math.min(...aucs),
      maxAuc: Math.max(...aucs),
    },
  ]
})
const isPeer = (run: string) => !run.startsWith('scaleml')

process.stdout.write(
  `\n${availableParallelism()} cores available, load average ${load1!.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end\nflights ${data.trainRows.toLocaleString('en-US')}-row sample (seed ${flags['sample-seed']}, ${flags.order === 'time' ? 'time order' : 'shuffled'}), ${flags.cv === 'time-series' ? 'TimeSeriesSplit(3)' : 'stratified 3-fold'} CV, holdout ${data.testRows.toLocaleString('en-US')} rows; search seeds ${SEEDS.join(', ')}; peer HGB early_stopping=${flags['peer-early-stopping']}${flags['peer-threads'] === undefined ? '' : `, OMP_NUM_THREADS=${flags['peer-threads']}`}${flags['scaleml-args'] ? `; scaleml ${flags['scaleml-args']}` : ''}\n\n`,
)
// Per seed: each run against that seed's best peer and that seed's scikit-learn halving.
printMarkdownTable(
  [
    'seed',
    'run',
    'wall s',
    'search + refit s',
    'best CV AUC',
    'holdout AUC',
    'Δ vs best peer',
    '× sklearn halving',
    'best',
  ],
  rows.map((r) => {
    const sameSeed = rows.filter((o) => o.seed === r.seed)
    const bestPeer = Math.max(...sameSeed.filter((o) => isPeer(o.run) && o.auc !== undefined).map((o) => o.auc!))
    const halving = sameSeed.find((o) => o.run === 'sklearn-halving')?.fitSeconds
    return [
      r.seed,
      r.run,
      fixed(r.seconds, 1),
      fixed(r.fitSeconds, 1),
      fixed(r.cvAuc, 4),
      fixed(r.auc, 4),
      r.auc !== undefined && Number.isFinite(bestPeer) ? (r.auc - bestPeer).toFixed(4) : 'n/a',
      r.fitSeconds !== undefined && halving !== undefined ? (r.fitSeconds / halving).toFixed(2) : 'n/a',
      r.error ?? r.detail ?? '',
    ]
  }),
)

// The target on the means over the seeds: one seed's best peer is the luckiest of three searches, and which
// candidates a seed draws moves the holdout AUC of every run by more than the 0.003 the target allows.
const peerSummaries = summaries.filter((s) => isPeer(s.run))
const bestPeer = peerSummaries.reduce<Summary | undefined>(
  (a, s) => (a === undefined || s.auc > a.auc ? s : a),
  undefined,
)
const halvingSeconds = summaries.find((s) => s.run === 'sklearn-halving')?.fitSeconds
if (SEEDS.length > 1) {
  process.stdout.write(`\nmeans over search seeds ${SEEDS.join(', ')}:\n\n`)
  printMarkdownTable(
    [
      'run',
      'seeds',
      'mean wall s',
      'mean search + refit s',
      'mean holdout AUC',
      'min–max',
      'Δ vs best peer',
      '× sklearn halving (search + refit)',
      '× sklearn halving (wall)',
    ],
    summaries.map((s) => [
      s.run,
      s.seeds,
      s.seconds.toFixed(1),
      s.fitSeconds.toFixed(1),
      s.auc.toFixed(4),
      `${s.minAuc.toFixed(4)}–${s.maxAuc.toFixed(4)}`,
      bestPeer === undefined ? 'n/a' : (s.auc - bestPeer.auc).toFixed(4),
      halvingSeconds === undefined ? 'n/a' : (s.fitSeconds / halvingSeconds).toFixed(2),
      halvingSeconds === undefined ? 'n/a' : (s.seconds / halvingSeconds).toFixed(2),
    ]),
  )
}
const ours =
  summaries.find((s) => s.run === 'scaleml-halving') ?? summaries.find((s) => s.run === 'scaleml-halving-rows')
if (ours !== undefined && bestPeer !== undefined && halvingSeconds !== undefined) {
  const dAuc = ours.auc - bestPeer.auc
  // Like for like: scikit-learn's halving is timed from `fit` (search and refit) and so is scaleml's search and
  // refit; the whole CLI process (start, holdout scoring, registry) is printed beside it.
  const ratio = ours.fitSeconds / halvingSeconds
  const wallRatio = ours.seconds / halvingSeconds
  const over = SEEDS.length > 1 ? ' (means over the seeds)' : ''
  process.stdout.write(
    `\ntarget${over}: ${ours.run} AUC within 0.003 of the best peer (${bestPeer.run} ${bestPeer.auc.toFixed(4)}): Δ ${dAuc.toFixed(4)} ${dAuc >= -0.003 ? 'MET' : 'NOT MET'}; search + refit ≤ 0.5× scikit-learn halving's: ${ratio.toFixed(2)}× ${ratio <= 0.5 ? 'MET' : 'NOT MET'} (whole scaleml process ${wallRatio.toFixed(2)}×)\n`,
  )
}
if (timedOut) process.exit(3)
