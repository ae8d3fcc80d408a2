/**
 * `scaleml tune`: search hyperparameters (random, grid, TPE, successive halving, Hyperband, ASHA) with
 * cross-validation on the training rows, store the study (SQLite by default, PostgreSQL to share it), refit the best
 * configuration on all training rows and register it with the study in its lineage; `scaleml tune show <study>`
 * lists a study's trials and its best.
 * @module
 */
import { readFile } from 'node:fs/promises'
import cliProgress from 'cli-progress'
import type { Command } from 'commander'
import { ScalemlError } from '../../core/errors.js'
import { toCamelCase } from '../../core/params.js'
import { MODEL_CATALOG, MODEL_FAMILIES } from '../../models/catalog.js'
import { trainJob } from '../../train/job.js'
import type { ValidationSpec } from '../../tune/cross-validation.js'
import { parseSearchSpace, type SearchSpace } from '../../tune/space.js'
import { openStudyStore } from '../../tune/storage/study-store.js'
import { SAMPLERS, STRATEGIES, type Strategy } from '../../tune/strategies.js'
import { bestTrial, lastValue, type TrialRecord, trialSeconds } from '../../tune/study.js'
import { METRICS, type MetricName, RESOURCES, type Resource } from '../../tune/tabular-objective.js'
import { defaultStudyStorage, refitOptions, type TuneEvent, type TuneResult, tune } from '../../tune/tune.js'
import { formatNumber, printJson, printTable } from '../output.js'
import { registerTrained } from '../register-trained.js'
import { addRegistryOptions, parseInteger, registryOptionsFrom, resolveHome } from './shared.js'

interface TuneFlags {
  data?: string
  target?: string
  features?: string
  model?: string
  space?: string
  strategy: string
  trials?: string
  cv: string
  groups?: string
  metric?: string
  parallel: string
  study?: string
  storage?: string
  resume?: boolean
  seed: string
  sample?: string
  stratify?: string
  holdout?: string
  resource?: string
  minResources?: string
  maxResources?: string
  factor?: string
  aggressiveElimination?: boolean
  paceParam?: string
  sampler?: string
  gridPoints?: string
  epochs?: string
  batchSize?: string
  register?: string
  home?: string
  registry?: string
  json?: boolean
}

/** Adds `tune` and `tune show` to the program. */
export function registerTuneCommand(program: Command): void {
  const command: Command = program
    .command('tune')
    .description(
      'Search hyperparameters with cross-validation (random, grid, TPE, halving, Hyperband, ASHA), refit the best on all training rows and register it.',
    )
    .option('--data <path|glob>', 'Parquet or CSV file(s) (required)')
    .option('--target <column|expression>', 'label column or SQL expression, e.g. "delay > 15" (required)')
    .option('--features <a,b,c>', 'feature columns (default: every column the target does not read)')
    .option(
      '--model <name>',
      `model or family: ${[...Object.keys(MODEL_FAMILIES), ...Object.keys(MODEL_CATALOG)].join(' | ')} (default: sgd)`,
    )
    .option(
      '--space <file.json>',
      'search space: { "param": { "type": "uniform|loguniform|int|categorical", … } } (default: the model’s)',
    )
    .option('--strategy <name>', STRATEGIES.join(' | '), 'tpe')
    .option(
      '--trials <n>',
      'trials (random, tpe, asha, hyperband); first-rung candidates (halving: default max/min resources, scikit-learn’s exhaust); at most the grid (grid)',
    )
    .option(
      '--cv <k|kind:k>',
      'validation: k folds (stratified for classifiers), or kfold:k, stratified:k, time-series:k, group:k (with --groups), holdout:<fraction>',
      '3',
    )
    .option('--groups <column>', 'column of the groups for --cv group:k')
    .option('--metric <name>', `${Object.keys(METRICS).join(' | ')} (default: auc for classifiers, r2 for regressors)`)
    .option('--parallel <n>', 'worker threads running trials', '1')
    .option('--study <name>', 'study name (default: tune-<time>)')
    .option(
      '--storage <url|path>',
      'studies: a SQLite file or postgres://user@host:port/db (default: <home>/studies.db)',
    )
    .option(
      '--resume',
      'continue the study if it exists (same settings), else start it; several processes may share one',
    )
    .option('--seed <n>', 'seed of the samplers, folds, sample and refit', '0')
    .option('--sample <fraction>', 'search on a sample of the training rows, fraction in (0, 1]')
    .option('--stratify <column>', 'with --sample: keep each value’s share of this column (or "target")')
    .option(
      '--holdout <spec>',
      'rows the search never reads, scoring the refit: time:<column>:<fraction> or random:<fraction>',
    )
    .option(
      '--resource <kind>',
      `budget of a rung: ${RESOURCES.join(' | ')} (default: rounds for gbdt with halving/hyperband/asha, so survivors continue boosting; else rows)`,
    )
    .option(
      '--min-resources <n|smallest|exhaust>',
      'budget of the first rung; halving default: exhaust with --trials (the last rung gets ~ the full budget), else smallest with as many candidates as it allows. smallest = 1 round or epoch, or 2 × folds × classes rows',
    )
    .option('--max-resources <n>', 'full budget (default: all rows; 9 epochs; the model’s nEstimators)')
    .option('--factor <n>', 'budget multiplier and 1/share of survivors between rungs', '3')
    .option('--aggressive-elimination', 'halving: run enough rungs to get down to one candidate')
    .option(
      '--pace-param <name|none>',
      'halving/hyperband: keep the best of a rung among neighbours in this parameter (default: learningRate over boosting rounds, where a small rate trails after a few rounds; none: the best overall, as scikit-learn)',
    )
    .option('--sampler <name>', `candidates of halving/hyperband/asha: ${SAMPLERS.join(' | ')} (default random)`)
    .option('--grid-points <n>', 'values per continuous range of a grid (default 5)')
    .option('--epochs <n>', 'epochs of incremental models when the budget is not epochs (default 1)')
    .option('--batch-size <n>', 'rows per partialFit call of incremental models (default 1024)')
    .option('--register <name>', 'register the refit model under this name (default: derived from the data file)')
    .option('--json', 'print one JSON object with the result instead of text')
  addRegistryOptions(command)
  command
    .addHelpText(
      'after',
      '\nExamples:\n  scaleml tune --data flights.parquet --target "delay > 15" --holdout time:date:0.1 --model gbdt \\\n    --strategy halving --trials 20 --cv 3 --sample 0.1 --stratify target --register flights-delay\n' +
        '  scaleml tune --data flights.parquet --target "delay > 15" --model gbdt --space space.json --strategy tpe \\\n    --trials 30 --study flights-tpe --storage postgres://postgres@127.0.0.1:5432/test --resume --parallel 2\n' +
        '  scaleml tune show flights-tpe --storage postgres://postgres@127.0.0.1:5432/test',
    )
    .action(async (flags: TuneFlags) => {
      await runTune(flags)
    })
  command
    .command('show <study>')
    .description('List the trials of a study and its best configuration.')
    .option('--storage <url|path>', 'studies: a SQLite file or postgres://… (default: <home>/studies.db)')
    .option('--home <dir>', 'scaleml folder (default: $SCALEML_HOME or ./.scaleml)')
    .option('--json', 'print one JSON object')
    .action(async (study: string, _flags: unknown, show: Command) => {
      // `tune` defines --storage, --home and --json too, and commander hands them to it: read both levels.
      await showStudy(study, show.optsWithGlobals<{ storage?: string; home?: string; json?: boolean }>())
    })
}

function parseNumber(flag: string, raw: string): number {
  const value = raw.trim() === '' ? Number.NaN : Number(raw)
  if (!Number.isFinite(value)) throw new ScalemlError('INVALID_ARGUMENT', `${flag} expects a number; got '${raw}'.`)
  return value
}

function parseChoice<T extends string>(flag: string, raw: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(raw)) {
    throw new ScalemlError('INVALID_ARGUMENT', `${flag} expects one of ${choices.join(', ')}; got '${raw}'.`)
  }
  return raw as T
}

/** `3`, `stratified:5`, `holdout:0.2` → a validation spec (undefined kind for a bare k: chosen by the target). */
export function parseCv(raw: string): ValidationSpec | { readonly kind: undefined; readonly nSplits: number } {
  const [kind, value] = raw.includes(':') ? (raw.split(':', 2) as [string, string]) : [undefined, raw]
  if (kind === 'holdout') {
    const fraction = parseNumber('--cv holdout:<fraction>', value)
    return { kind: 'holdout', fraction }
  }
  const nSplits = parseInteger('--cv', value)
  if (kind === undefined) return { kind: undefined, nSplits }
  const kinds = ['kfold', 'stratified', 'time-series', 'group'] as const
  return { kind: parseChoice('--cv', kind, kinds), nSplits }
}

async function readSpace(path: string): Promise<SearchSpace> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new ScalemlError('SOURCE_NOT_FOUND', `Cannot read the search space ${path}: ${(error as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new ScalemlError('INVALID_ARGUMENT', `${path} is not valid JSON: ${(error as Error).message}`, [
      { code: 'invalid_json', path: [path], message: (error as Error).message },
    ])
  }
  return parseSearchSpace(json, path)
}

function defaultModelName(data: string): string {
  const base = data.split(/[\\/]/).pop() ?? 'model'
  const stem = base.replace(/\.(parquet|csv|tsv|csv\.gz)$/i, '').replace(/[*?[\]{}]/g, '')
  const name = stem
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
  return name.length > 0 ? name.slice(0, 64) : 'model'
}

async function runTune(flags: TuneFlags): Promise<void> {
  if (flags.data === undefined || flags.target === undefined) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      '`scaleml tune` needs --data <path> and --target <column|expression> (or `scaleml tune show <study>`).',
    )
  }
  const data = flags.data
  const target = flags.target
  const home = resolveHome(flags.home)
  const strategy = parseChoice('--strategy', flags.strategy, STRATEGIES) as Strategy
  const cv = parseCv(flags.cv)
  const features = flags.features
    ?.split(',')
    .map((f) => f.trim())
    .filter(Boolean)
  const minResources =
    flags.minResources === undefined
      ? undefined
      : flags.minResources === 'smallest' || flags.minResources === 'exhaust'
        ? flags.minResources
        : parseInteger('--min-resources', flags.minResources)
  if (flags.stratify !== undefined && flags.sample === undefined) {
    throw new ScalemlError('INVALID_ARGUMENT', '--stratify goes with --sample <fraction>.')
  }
  const seed = parseInteger('--seed', flags.seed)
  const progress = createTuneProgress(!flags.json)
  let result: TuneResult
  try {
    result = await tune({
      data,
      target,
      ...(features === undefined ? {} : { features }),
      ...(flags.model === undefined ? {} : { model: flags.model }),
      ...(flags.space === undefined ? {} : { space: await readSpace(flags.space) }),
      strategy,
      ...(flags.trials === undefined ? {} : { trials: parseInteger('--trials', flags.trials) }),
      ...(cv.kind === undefined ? { nSplits: cv.nSplits } : { validation: cv }),
      ...(flags.groups === undefined ? {} : { groups: flags.groups }),
      ...(flags.metric === undefined
        ? {}
        : { metric: parseChoice('--metric', flags.metric, Object.keys(METRICS) as MetricName[]) }),
      parallel: parseInteger('--parallel', flags.parallel),
      ...(flags.study === undefined ? {} : { study: flags.study }),
      storage: flags.storage ?? defaultStudyStorage(home),
      ...(flags.resume ? { resume: true } : {}),
      seed,
      ...(flags.sample === undefined
        ? {}
        : {
            sample: {
              fraction: parseNumber('--sample', flags.sample),
              ...(flags.stratify === undefined ? {} : { stratify: flags.stratify }),
            },
          }),
      ...(flags.holdout === undefined ? {} : { holdout: flags.holdout }),
      ...(flags.resource === undefined
        ? {}
        : { resource: parseChoice('--resource', flags.resource, RESOURCES) as Resource }),
      ...(minResources === undefined ? {} : { minResources }),
      ...(flags.maxResources === undefined
        ? {}
        : { maxResources: parseInteger('--max-resources', flags.maxResources) }),
      ...(flags.factor === undefined ? {} : { factor: parseNumber('--factor', flags.factor) }),
      ...(flags.aggressiveElimination ? { aggressiveElimination: true } : {}),
      ...(flags.paceParam === undefined
        ? {}
        : { pace: flags.paceParam === 'none' ? null : toCamelCase(flags.paceParam) }),
      ...(flags.sampler === undefined ? {} : { sampler: parseChoice('--sampler', flags.sampler, SAMPLERS) }),
      ...(flags.gridPoints === undefined ? {} : { gridPoints: parseInteger('--grid-points', flags.gridPoints) }),
      ...(flags.epochs === undefined ? {} : { epochs: parseInteger('--epochs', flags.epochs) }),
      ...(flags.batchSize === undefined ? {} : { batchSize: parseInteger('--batch-size', flags.batchSize) }),
      onEvent: (e) => progress.update(e),
    })
  } finally {
    progress.stop()
  }
  const refit = await trainJob(
    refitOptions(
      {
        data,
        target,
        ...(features === undefined ? {} : { features }),
        ...(flags.holdout === undefined ? {} : { holdout: flags.holdout }),
        seed,
        ...(flags.epochs === undefined ? {} : { epochs: parseInteger('--epochs', flags.epochs) }),
      },
      result,
    ),
  )
  const best = result.best!
  const study = {
    name: result.study,
    storage: result.storage,
    strategy: result.definition.strategy,
    metric: result.definition.metric,
    trial: best.number,
    value: lastValue(best) ?? null,
    trials: result.trials.length,
  }
  const lineage = { ...refit.lineage, study }
  const ref = await registerTrained(registryOptionsFrom(flags), flags.register ?? defaultModelName(data), {
    ...refit,
    lineage,
  })
  const counts = countStates(result.trials)
  if (flags.json) {
    printJson({
      study: result.study,
      storage: result.storage,
      resumed: !result.created,
      strategy: result.definition.strategy,
      model: result.modelKind,
      metric: result.definition.metric,
      direction: result.definition.direction,
      rows: result.rows,
      trials: counts,
      best: describeBest(best),
      run: result.run,
      seconds: result.seconds,
      registered: ref,
      refit: {
        metrics: refit.metrics,
        rows: refit.lineage.rows,
        holdoutRows: refit.holdout?.rows ?? 0,
        seconds: refit.seconds,
        timings: refit.timings,
      },
    })
    return
  }
  const w = (s: string) => process.stdout.write(`${s}\n`)
  w(
    `study ${result.study} (${result.storage}): ${result.trials.length} trials (${counts.complete} complete, ${counts.pruned} pruned, ${counts.failed} failed) on ${formatNumber(result.rows)} rows in ${result.seconds.toFixed(1)} s`,
  )
  w(
    `best #${best.number}: ${result.definition.metric} ${formatNumber(lastValue(best) ?? Number.NaN)} at ${formatNumber(best.resource)} ${result.definition.settings['resource']} — ${formatParams(best.params)}`,
  )
  const holdout = Object.entries(refit.metrics)
    .map(([k, v]) => `${k} ${formatNumber(v)}`)
    .join(', ')
  w(
    `registered ${ref.name}:${ref.version} (${refit.modelKind}, refit on ${formatNumber(refit.lineage.rows)} rows)${holdout ? `; holdout ${holdout}` : ''}`,
  )
}

function countStates(trials: readonly TrialRecord[]): Record<string, number> {
  const counts: Record<string, number> = { complete: 0, pruned: 0, failed: 0, running: 0, waiting: 0, paused: 0 }
  for (const t of trials) counts[t.state] = (counts[t.state] ?? 0) + 1
  return counts
}

function describeBest(best: TrialRecord | undefined) {
  return best === undefined
    ? null
    : {
        number: best.number,
        params: best.params,
        value: lastValue(best) ?? null,
        resource: best.resource,
        rungs: best.rungs,
      }
}

function formatParams(params: TrialRecord['params']): string {
  return Object.entries(params)
    .map(
      ([k, v]) =>
        `${k}=${typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(4)) : JSON.stringify(v)}`,
    )
    .join(', ')
}

async function showStudy(name: string, flags: { storage?: string; home?: string; json?: boolean }): Promise<void> {
  const store = await openStudyStore(flags.storage ?? defaultStudyStorage(resolveHome(flags.home)))
  try {
    const snapshot = await store.readStudy(name)
    if (snapshot === undefined) {
      const names = await store.listStudies()
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `No study named '${name}' in ${store.description}. Studies: ${names.length > 0 ? names.join(', ') : 'none'}.`,
      )
    }
    const { definition, trials } = snapshot
    const best = bestTrial(trials, definition.direction)
    if (flags.json) {
      printJson({
        study: definition.name,
        storage: store.description,
        createdAt: new Date(snapshot.createdAt).toISOString(),
        definition,
        trials: trials.map((t) => ({ ...t, value: lastValue(t) ?? null, seconds: trialSeconds(t) })),
        counts: countStates(trials),
        best: describeBest(best),
      })
      return
    }
    process.stdout.write(
      `study ${definition.name}: ${definition.strategy} search of ${definition.model} by ${definition.metric} (${definition.direction}), ${trials.length} trials\n`,
    )
    printTable(
      ['#', 'state', 'rung', 'budget', definition.metric, 'seconds', 'params'],
      trials.map((t) => [
        t.number,
        t.state,
        t.rung,
        formatNumber(t.resource),
        lastValue(t) === undefined ? '' : formatNumber(lastValue(t)!),
        trialSeconds(t).toFixed(1),
        formatParams(t.params),
      ]),
    )
    process.stdout.write(
      best === undefined
        ? 'no trial has finished yet\n'
        : `best #${best.number}: ${definition.metric} ${formatNumber(lastValue(best)!)} — ${formatParams(best.params)}\n`,
    )
  } finally {
    await store.close()
  }
}

/** Live progress on a TTY: budget spent, trials finished, best so far, current rung, ETA. */
function createTuneProgress(enabled: boolean): { update(e: TuneEvent): void; stop(): void } {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} }
  const bar = new cliProgress.SingleBar(
    {
      format: ' tune {study} |{bar}| {percentage}% · {trials} trials · best {best} · rung {rung} · ETA {eta_formatted}',
      hideCursor: true,
      stream: process.stderr,
      etaBuffer: 20,
      fps: 4,
    },
    cliProgress.Presets.shades_classic,
  )
  let started = false
  let done = 0
  let trials = 0
  let topResource = Number.NEGATIVE_INFINITY
  let best: number | undefined
  let direction: 'maximize' | 'minimize' = 'maximize'
  let rung = ''
  const consider = (resource: number, value: number) => {
    if (Number.isNaN(value)) return
    const better = best === undefined || (direction === 'maximize' ? value > best : value < best)
    if (resource > topResource) {
      topResource = resource
      best = value
    } else if (resource === topResource && better) best = value
  }
  const payload = () => ({
    trials,
    best: best === undefined ? '—' : formatNumber(best),
    rung,
  })
  return {
    update(e) {
      if (e.kind === 'loaded') {
        process.stderr.write(` loaded ${formatNumber(e.rows)} rows × ${e.features} features for ${e.modelKind}\n`)
        return
      }
      if (e.kind === 'plan') {
        direction = e.direction
        done = e.doneWork
        for (const t of e.trials) {
          const last = t.rungs[t.rungs.length - 1]
          if (last !== undefined) consider(last.resource, last.value)
          if (t.state === 'complete' || t.state === 'pruned' || t.state === 'failed') trials++
        }
        bar.start(Math.max(1, Math.round(e.plannedWork)), Math.min(done, e.plannedWork), {
          study: e.study,
          ...payload(),
        })
        started = true
        return
      }
      if (!started) return
      if (e.kind === 'start') rung = `${e.rung} (${formatNumber(e.resource)})`
      if (e.kind === 'finish') {
        done += e.resource
        consider(e.resource, e.value)
        if (e.final) trials++
      }
      if (e.kind === 'fail' || e.kind === 'prune') trials++
      bar.update(Math.min(done, bar.getTotal()), payload())
    },
    stop() {
      if (started) bar.stop()
      started = false
    },
  }
}
