/**
 * A whole search as one library call (what `scaleml tune` runs): resolve the model and its search space, load the
 * training rows (or a sample) into memory, cut the validation folds, open or resume the study in its store, build
 * the sampler and scheduler of the strategy, run the trials in this thread or on worker threads, and return the
 * study with its best trial. Refitting the winner on all training data is {@link refitOptions} + `trainJob`, and
 * registering it is the caller's (the registry sits above this layer).
 * @module
 */
import { join } from 'node:path'
import { ScalemlError } from '../core/errors.js'
import { siblingModule } from '../infra/worker.js'
import { modelEntry, resolveModelName } from '../models/catalog.js'
import type { TrainJobOptions } from '../train/job.js'
import { foldCount, makeFolds, type ValidationSpec } from './cross-validation.js'
import { loadTuningData, type ObjectiveData, type TuningData } from './dataset.js'
import { defaultSearchSpace } from './default-spaces.js'
import { type Executor, inlineExecutor } from './executor.js'
import { threadExecutor } from './executors/threads.js'
import { type RunSummary, runStudy, type StudyEvent } from './runner.js'
import { checkSpaceForModel, type SearchSpace, spaceDifferences } from './space.js'
import { openStudyStore, type StudyStore } from './storage/study-store.js'
import { buildSearch, type SAMPLERS, type Strategy } from './strategies.js'
import { bestTrial, type StudyDefinition, type TrialRecord } from './study.js'
import {
  createObjective,
  METRICS,
  type MetricName,
  type ObjectivePayload,
  type ObjectiveSettings,
  type Resource,
} from './tabular-objective.js'

/** What to search. Mirrors `scaleml tune` flags. */
export interface TuneOptions {
  readonly data: string
  /** A column or a SQL expression (`delay > 15`). */
  readonly target: string
  readonly features?: readonly string[]
  /** Catalog name or family (`gbdt`); default sgd by the target's type. */
  readonly model?: string
  /** The search space; default: the model's (see `default-spaces.ts`). */
  readonly space?: SearchSpace
  readonly strategy: Strategy
  /** Trials (see `SearchSettings.nTrials`). */
  readonly trials?: number
  /** How trials validate (default: `nSplits` folds, stratified for classifiers, as scikit-learn's `cv=k`). */
  readonly validation?: ValidationSpec
  /** Folds when `validation` is not given (default 3). */
  readonly nSplits?: number
  /** Column of the groups for `validation.kind = 'group'`. */
  readonly groups?: string
  /** Default `auc` for classifiers, `r2` for regressors. */
  readonly metric?: MetricName
  /** Worker threads running trials (default 1: in this thread). */
  readonly parallel?: number
  /** Study name (default `tune-<time>`). */
  readonly study?: string
  /** Where studies are stored: a SQLite path or `postgres://…` (default `<home>/studies.db`). */
  readonly storage?: string
  /** The scaleml home (default storage location). */
  readonly home?: string
  /** Continue the study if it exists (created otherwise); it must have been started with the same settings. */
  readonly resume?: boolean
  readonly seed?: number
  /** Search on a sample of the training rows. */
  readonly sample?: { readonly fraction: number; readonly stratify?: string }
  /** Rows never read by the search (`time:<column>:<fraction>` or `random:<fraction>`), as `scaleml train`. */
  readonly holdout?: string
  /**
   * What a rung's budget counts. Default: boosting rounds for GBDT searched by halving, Hyperband or ASHA (its
   * survivors then continue boosting; not when the space searches `nEstimators`), else rows.
   */
  readonly resource?: Resource
  /**
   * Halving and Hyperband: a rung's survivors are the best among neighbours in this parameter (see
   * `topAtRungByPace`); null: the best overall (scikit-learn's rule). Default: `learningRate` when the budget is
   * boosting rounds and the space searches it ({@link defaultPace}), null otherwise.
   */
  readonly pace?: string | null
  /** Bytes the paused trials' warm starts may hold between rungs (default 1 GiB; see `runner.ts`). */
  readonly warmStartBytes?: number
  readonly minResources?: number | 'smallest' | 'exhaust'
  readonly maxResources?: number
  readonly factor?: number
  readonly aggressiveElimination?: boolean
  /** Candidate sampler of halving, Hyperband and ASHA. */
  readonly sampler?: (typeof SAMPLERS)[number]
  readonly gridPoints?: number
  /** Epochs of incremental models when the budget is not epochs (default 1). */
  readonly epochs?: number
  /** Rows per `partialFit` call (default 1,024). */
  readonly batchSize?: number
  readonly onEvent?: (event: TuneEvent) => void
}

/** Progress of a search. */
export type TuneEvent =
  | {
      readonly kind: 'loaded'
      readonly rows: number
      readonly trainingRows: number
      readonly modelKind: string
      readonly features: number
    }
  | {
      readonly kind: 'plan'
      readonly study: string
      readonly resumed: boolean
      readonly plannedWork: number
      /** Budget already spent by the trials of a resumed study. */
      readonly doneWork: number
      readonly trials: readonly TrialRecord[]
      readonly resource: Resource
      readonly direction: 'maximize' | 'minimize'
    }
  | StudyEvent

/** What a search found. */
export interface TuneResult {
  readonly study: string
  /** Where the study is stored (no password). */
  readonly storage: string
  readonly definition: StudyDefinition
  /** False when an existing study was resumed. */
  readonly created: boolean
  readonly trials: readonly TrialRecord[]
  readonly best: TrialRecord | undefined
  readonly run: RunSummary
  readonly modelKind: string
  readonly task: 'classification' | 'regression'
  readonly rows: number
  readonly seconds: number
}

/** The default study storage: `studies.db` in the scaleml home. */
export function defaultStudyStorage(home: string): string {
  return join(home, 'studies.db')
}

/** A study name from the clock: `tune-20240131-142501`. */
export function defaultStudyName(now = new Date()): string {
  return `tune-${now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`
}

/**
 * Refuses to resume `stored` with another definition, listing every difference (the search space's first).
 * @throws ScalemlError INVALID_ARGUMENT
 */
export function checkSameStudy(stored: StudyDefinition, given: StudyDefinition): void {
  const differences = spaceDifferences(stored.space, given.space).map((d) => `search space: ${d}`)
  for (const key of ['strategy', 'model', 'metric', 'direction'] as const) {
    if (stored[key] !== given[key]) differences.push(`${key}: stored ${stored[key]}, given ${given[key]}`)
  }
  const keys = new Set([...Object.keys(stored.settings), ...Object.keys(given.settings)])
  for (const key of keys) {
    const a = JSON.stringify(stored.settings[key] ?? null)
    const b = JSON.stringify(given.settings[key] ?? null)
    if (a !== b) differences.push(`${key}: stored ${a}, given ${b}`)
  }
  if (differences.length > 0) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `The study '${stored.name}' was started with other settings; resume it with the same ones, or start a new study:\n${differences.map((d) => `  ✖ ${d}`).join('\n')}`,
      differences.map((d) => ({ code: 'invalid_value' as const, path: ['study', stored.name], message: d })),
    )
  }
}

function defaultValidation(task: 'classification' | 'regression', nSplits = 3): ValidationSpec {
  return { kind: task === 'classification' ? 'stratified' : 'kfold', nSplits }
}

/** Strategies that give trials growing budgets. */
const BUDGETED: readonly Strategy[] = ['halving', 'hyperband', 'asha']

/**
 * The resource when none is given: boosting rounds for a GBDT searched on budgets (survivors continue boosting,
 * scikit-learn's `resource='n_estimators'`), unless the space searches the rounds itself; rows otherwise
 * (scikit-learn's default `n_samples`).
 */
export function defaultResource(strategy: Strategy, modelKind: string, space: SearchSpace): Resource {
  const boosted = modelKind === 'gbdt-classifier' || modelKind === 'gbdt-regressor'
  return boosted && BUDGETED.includes(strategy) && !('nEstimators' in space) ? 'rounds' : 'rows'
}

/**
 * The parameter whose neighbours a rung compares when none is given: GBDT's `learningRate` when the budget is
 * boosting rounds and the space searches more than one learning rate. After a few rounds a small learning rate
 * always trails a large one, so comparing across learning rates there prunes the slow learners that are best after
 * all the rounds; over rows (every candidate trains every round) or epochs the overall best is kept, as scikit-learn.
 */
export function defaultPace(resource: Resource, space: SearchSpace): string | null {
  const rate = space['learningRate']
  if (resource !== 'rounds' || rate === undefined) return null
  return rate.type === 'categorical' && rate.choices.length < 2 ? null : 'learningRate'
}

/** The budget a complete trial gets. */
function resolveMaxResource(
  resource: Resource,
  options: TuneOptions,
  context: {
    rows: number
    trees: boolean
    modelKind: string
    defaults: Readonly<Record<string, unknown>>
    space: SearchSpace
  },
): number {
  if (resource === 'rows') {
    if (options.maxResources !== undefined && options.maxResources > context.rows) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `--max-resources ${options.maxResources} is more rows than the ${context.rows} loaded.`,
      )
    }
    return options.maxResources ?? context.rows
  }
  if (resource === 'epochs') {
    if (context.trees) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${context.modelKind} trains on all rows at once; its budget is --resource rows or rounds, not epochs.`,
      )
    }
    return options.maxResources ?? 9
  }
  if (!('nEstimators' in context.defaults)) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${context.modelKind} has no boosting rounds or trees to count; use --resource rows${context.trees ? '' : ' or epochs'}.`,
    )
  }
  if ('nEstimators' in context.space) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `--resource rounds sets nEstimators for each rung; remove nEstimators from the search space.`,
    )
  }
  return options.maxResources ?? Number(context.defaults['nEstimators'])
}

/**
 * Runs (or resumes) a search to the end.
 * @example
 * const result = await tune({ data: 'flights.parquet', target: 'delay > 15', model: 'gbdt', strategy: 'tpe', trials: 30 })
 * const refit = await trainJob(refitOptions({ data: 'flights.parquet', target: 'delay > 15' }, result))
 */
export async function tune(options: TuneOptions): Promise<TuneResult> {
  const started = performance.now()
  const seed = options.seed ?? 0
  const emit = options.onEvent ?? (() => {})
  const parallel = options.parallel ?? 1
  if (!Number.isInteger(parallel) || parallel < 1) {
    throw new ScalemlError('INVALID_ARGUMENT', `--parallel must be a whole number ≥ 1; got ${parallel}.`)
  }
  const storage = options.storage ?? defaultStudyStorage(options.home ?? '.scaleml')
  const name = options.study ?? defaultStudyName()
  // Fail before reading any data when the model, its space or a resumed study's space does not fit.
  if (options.model !== undefined) resolveEarly(options)
  const store = await openStudyStore(storage)
  try {
    if (options.space !== undefined && options.resume) {
      const stored = (await store.readStudy(name))?.definition
      if (stored !== undefined) {
        const diff = spaceDifferences(stored.space, options.space)
        if (diff.length > 0) checkSameStudy(stored, { ...stored, space: options.space })
      }
    }
    const data = await loadTuningData({
      data: options.data,
      target: options.target,
      ...(options.features === undefined ? {} : { features: options.features }),
      ...(options.model === undefined ? {} : { model: options.model }),
      ...(options.holdout === undefined ? {} : { holdout: options.holdout }),
      seed,
      ...(options.sample === undefined ? {} : { sample: options.sample }),
      ...(options.groups === undefined ? {} : { groups: options.groups }),
      shared: parallel > 1,
    })
    emit({
      kind: 'loaded',
      rows: data.X.rows,
      trainingRows: data.trainingRows,
      modelKind: data.modelKind,
      features: data.X.cols,
    })
    return await search(options, { store, storage, name, data, seed, parallel, emit, started })
  } finally {
    await store.close()
  }
}

function resolveEarly(options: TuneOptions): void {
  // A family resolves by the target's type, unknown until the data is open: the space must fit one of its members.
  const kinds = ['classification', 'regression'] as const
  const names = [...new Set(kinds.map((task) => resolveModelName(options.model!, task)))]
  const entries = names.map((n) => modelEntry(n))
  if (options.space === undefined) return
  const errors: unknown[] = []
  for (const [i, owner] of names.entries()) {
    try {
      checkSpaceForModel(options.space, { owner, constraints: entries[i]!.constraints })
      return
    } catch (error) {
      errors.push(error)
    }
  }
  throw errors[0]
}

async function search(
  options: TuneOptions,
  ctx: {
    store: StudyStore
    storage: string
    name: string
    data: TuningData
    seed: number
    parallel: number
    emit: (event: TuneEvent) => void
    started: number
  },
): Promise<TuneResult> {
  const { data, seed, store } = ctx
  const entry = modelEntry(data.modelKind)
  const space = options.space ?? defaultSearchSpace(data.modelKind, entry.constraints)
  checkSpaceForModel(space, { owner: data.modelKind, constraints: entry.constraints })
  const metric = options.metric ?? (data.task === 'classification' ? 'auc' : 'r2')
  const metricInfo = METRICS[metric]
  if (metricInfo === undefined || metricInfo.task !== data.task) {
    const fitting = Object.entries(METRICS)
      .filter(([, m]) => m.task === data.task)
      .map(([k]) => k)
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `--metric ${metric} does not score ${data.task}; use one of ${fitting.join(', ')}.`,
    )
  }
  const trees = entry.training === 'fit'
  const resource = options.resource ?? defaultResource(options.strategy, data.modelKind, space)
  const maxResource = resolveMaxResource(resource, options, {
    rows: data.X.rows,
    trees,
    modelKind: data.modelKind,
    defaults: entry.defaults,
    space,
  })
  const pace = options.pace === undefined ? defaultPace(resource, space) : options.pace
  if (pace !== null && !(pace in space)) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `--pace-param ${pace} is not in the search space; name a searched parameter (${Object.keys(space).join(', ')}) or none.`,
    )
  }
  const validation = options.validation ?? defaultValidation(data.task, options.nSplits)
  const folds = makeFolds(validation, {
    n: data.X.rows,
    y: data.y,
    rowIndex: data.rowIndex,
    ...(data.groups === undefined ? {} : { groups: data.groups }),
  })
  const searchSettings = {
    strategy: options.strategy,
    ...(options.trials === undefined ? {} : { nTrials: options.trials }),
    seed,
    ...(options.sampler === undefined ? {} : { sampler: options.sampler }),
    ...(options.gridPoints === undefined ? {} : { gridPoints: options.gridPoints }),
    ...(options.factor === undefined ? {} : { factor: options.factor }),
    ...(options.minResources === undefined ? {} : { minResources: options.minResources }),
    maxResources: maxResource,
    ...(options.aggressiveElimination === undefined ? {} : { aggressiveElimination: options.aggressiveElimination }),
    ...(pace === null ? {} : { pace }),
    context: {
      resource,
      nSplits: foldCount(validation),
      ...(data.classes === undefined ? {} : { nClasses: data.classes.length }),
    },
  }
  const { sampler, scheduler, plannedWork } = buildSearch(space, searchSettings)
  // The loop orders the rows; the model's own in-batch shuffle would only reorder them again (as in `trainJob`).
  const baseParams: Record<string, unknown> = {
    seed,
    ...('shuffle' in entry.defaults && !('shuffle' in space) ? { shuffle: false } : {}),
    // Trials on worker threads already use the cores; a model's own threads would only compete with them.
    ...('nThreads' in entry.defaults && ctx.parallel > 1 && !('nThreads' in space) ? { nThreads: 1 } : {}),
  }
  const settings: ObjectiveSettings = {
    modelKind: data.modelKind,
    metric,
    resource,
    maxResource,
    epochs: options.epochs ?? 1,
    batchSize: options.batchSize ?? 1024,
    seed,
    baseParams,
  }
  const definition: StudyDefinition = {
    name: ctx.name,
    space,
    strategy: options.strategy,
    model: data.modelKind,
    metric,
    direction: metricInfo.direction,
    settings: {
      data: options.data,
      dataFingerprint: data.dataFingerprint,
      target: data.target.expression,
      features: data.features,
      holdout: options.holdout ?? null,
      sample: options.sample ?? null,
      validation,
      groups: options.groups ?? null,
      resource,
      maxResources: maxResource,
      minResources: options.minResources ?? null,
      factor: options.factor ?? null,
      aggressiveElimination: options.aggressiveElimination ?? false,
      // Only where it changes which trials survive, so that studies of the other strategies keep their definition.
      pace: BUDGETED.includes(options.strategy) && options.strategy !== 'asha' ? pace : null,
      sampler: options.sampler ?? null,
      gridPoints: options.gridPoints ?? null,
      trials: options.trials ?? null,
      seed,
      epochs: settings.epochs,
      batchSize: settings.batchSize,
    },
  }
  const opened = await store.openStudy(definition, { resume: options.resume ?? false })
  if (!opened.created) checkSameStudy(opened.definition, definition)
  const before = (await store.readStudy(ctx.name))?.trials ?? []
  ctx.emit({
    kind: 'plan',
    study: ctx.name,
    resumed: !opened.created,
    plannedWork,
    doneWork: before.reduce((w, t) => w + t.rungs.reduce((s, r) => s + r.resource, 0), 0),
    trials: before,
    resource,
    direction: metricInfo.direction,
  })
  const payload: ObjectivePayload = { data: objectiveData(data), folds, settings }
  const executor: Executor =
    ctx.parallel > 1
      ? threadExecutor({ workers: ctx.parallel, module: siblingModule(import.meta.url, 'tabular-objective'), payload })
      : inlineExecutor(createObjective(payload))
  let run: RunSummary
  try {
    run = await runStudy({
      store,
      study: ctx.name,
      space,
      direction: metricInfo.direction,
      scheduler,
      sampler,
      executor,
      onEvent: ctx.emit,
      ...(options.warmStartBytes === undefined ? {} : { warmStartBytes: options.warmStartBytes }),
    })
  } finally {
    await executor.close()
  }
  const trials = (await store.readStudy(ctx.name))?.trials ?? []
  return {
    study: ctx.name,
    storage: store.description,
    definition: opened.definition,
    created: opened.created,
    trials,
    best: bestTrial(trials, metricInfo.direction),
    run,
    modelKind: data.modelKind,
    task: data.task,
    rows: data.X.rows,
    seconds: (performance.now() - ctx.started) / 1000,
  }
}

/** The part of the loaded data the trials need (what travels to worker threads). */
function objectiveData(data: TuningData): ObjectiveData {
  return {
    task: data.task,
    ...(data.classes === undefined ? {} : { classes: data.classes }),
    X: data.X,
    y: data.y,
    categoricalFeatures: data.categoricalFeatures,
    featureNames: data.featureNames,
  }
}

/**
 * The `trainJob` options that refit the best trial on all the training data: the data, target, features, holdout
 * and seed of the search, the winning params, and, when the budget was boosting rounds or epochs, the budget the
 * winner was scored at (as scikit-learn's `best_params_` carry the resource of the last rung).
 * @throws ScalemlError INVALID_ARGUMENT when no trial succeeded.
 */
export function refitOptions(
  options: Pick<TuneOptions, 'data' | 'target' | 'features' | 'holdout' | 'seed' | 'epochs'>,
  result: TuneResult,
): TrainJobOptions {
  const best = result.best
  if (best === undefined) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `No trial of the study '${result.study}' succeeded, so there is nothing to refit; see \`scaleml tune show ${result.study}\` for their errors.`,
    )
  }
  const resource = result.definition.settings['resource'] as Resource
  const budget = best.rungs[best.rungs.length - 1]?.resource ?? best.resource
  return {
    data: options.data,
    target: options.target,
    ...(options.features === undefined ? {} : { features: options.features }),
    model: result.modelKind,
    params: { ...best.params, ...(resource === 'rounds' ? { nEstimators: budget } : {}) },
    ...(options.holdout === undefined ? {} : { holdout: options.holdout }),
    seed: options.seed ?? 0,
    epochs: resource === 'epochs' ? budget : (options.epochs ?? 1),
  }
}
