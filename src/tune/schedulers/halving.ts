/**
 * Successive halving with scikit-learn's semantics (`HalvingRandomSearchCV` / `HalvingGridSearchCV`, 1.2): the plan
 * of rung budgets and candidate counts from `factor`, `min_resources`, `max_resources`, `aggressive_elimination` and
 * `n_candidates` is computed exactly as scikit-learn computes `n_resources_` and `n_candidates_` (a committed fixture
 * checks it), and each rung keeps the best `⌈n / factor⌉` candidates.
 *
 * Unlike scikit-learn, a survivor does not start over at the next rung: the trial runner continues it from where it
 * stopped when the learner allows (see the objective).
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { TrialRecord } from '../study.js'
import {
  type Decision,
  firstWaiting,
  idleDecision,
  isActive,
  type NewTrial,
  runDecision,
  type Scheduler,
  type TrialTransition,
  topAtRung,
  topAtRungByPace,
} from './scheduler.js'

/** Settings of successive halving, named and defaulted as scikit-learn's. */
export interface HalvingSettings {
  /** Candidates of the first rung, or 'exhaust' (enough for the last rung to use about `maxResources`); default 'exhaust'. */
  readonly nCandidates?: number | 'exhaust'
  /** Rung budget multiplier and inverse share of survivors, > 1; default 3. */
  readonly factor?: number
  /**
   * Budget of the first rung: a number; 'smallest' (rows: 2 × folds × classes for classifiers, 2 × folds for
   * regressors; any other resource: 1); or 'exhaust' (the largest first budget that lets the last rung use about
   * `maxResources`). Default 'exhaust'.
   */
  readonly minResources?: number | 'smallest' | 'exhaust'
  /** Largest budget of a rung (scikit-learn's 'auto' for rows: all of them). */
  readonly maxResources: number
  /** Run as many rungs as halving the candidates down to one needs, repeating the first budget if needed; false. */
  readonly aggressiveElimination?: boolean
}

/** What the 'smallest' first budget depends on. */
export interface HalvingContext {
  /** 'rows' is scikit-learn's `n_samples`; anything else (boosting rounds, epochs) has 'smallest' = 1. */
  readonly resource: 'rows' | 'rounds' | 'epochs'
  /** Folds of the cross-validation. */
  readonly nSplits: number
  /** Classes of a classifier's target; undefined for regressors. */
  readonly nClasses?: number
  /** Size of a grid search's grid: its candidates (`nCandidates` then does not apply). */
  readonly gridSize?: number
}

/** scikit-learn's attributes of a halving search, before it runs. */
export interface HalvingPlan {
  readonly factor: number
  readonly minResources: number
  readonly maxResources: number
  /** `n_required_iterations_`: rungs to halve the candidates down to one. */
  readonly nRequiredIterations: number
  /** `n_possible_iterations_`: rungs between the first and the largest budget. */
  readonly nPossibleIterations: number
  /** `n_iterations_`: rungs run. */
  readonly nIterations: number
  /** `n_resources_`: the budget of each rung. */
  readonly nResources: readonly number[]
  /** `n_candidates_`: the candidates of each rung. */
  readonly nCandidates: readonly number[]
}

/** Python's `math.log(x, base)`: the quotient of natural logs, as CPython computes it. */
function pyLog(x: number, base: number): number {
  return Math.log(x) / Math.log(base)
}

/**
 * The plan scikit-learn 1.2 would follow (`_check_input_parameters`, `_generate_candidate_params`, `_run_search`).
 * Throws `INVALID_ARGUMENT` where scikit-learn raises, with its reason.
 *
 * @example
 * halvingPlan({ nCandidates: 20, factor: 3, minResources: 'smallest', maxResources: 200_000 },
 *   { resource: 'rows', nSplits: 3, nClasses: 2 }).nResources // [12, 36, 108]
 */
export function halvingPlan(settings: HalvingSettings, context: HalvingContext): HalvingPlan {
  const factor = settings.factor ?? 3
  const minSetting = settings.minResources ?? 'exhaust'
  const nSetting = context.gridSize ?? settings.nCandidates ?? 'exhaust'
  const maxResources = settings.maxResources
  const aggressive = settings.aggressiveElimination ?? false
  const fail = (why: string): never => {
    throw new ScalemlError('INVALID_ARGUMENT', `Successive halving cannot run: ${why}`)
  }
  if (!(factor > 1)) fail(`factor must be > 1; got ${factor}.`)
  if (!Number.isInteger(maxResources) || maxResources < 1)
    fail(`max resources must be a whole number ≥ 1; got ${maxResources}.`)
  if (typeof minSetting === 'number' && (!Number.isInteger(minSetting) || minSetting < 1)) {
    fail(`min resources must be a whole number ≥ 1, 'smallest' or 'exhaust'; got ${minSetting}.`)
  }
  if (typeof nSetting === 'number' && (!Number.isInteger(nSetting) || nSetting < 1)) {
    fail(`the number of candidates must be a whole number ≥ 1 or 'exhaust'; got ${nSetting}.`)
  }
  if (nSetting === 'exhaust' && minSetting === 'exhaust' && context.gridSize === undefined) {
    fail("n_candidates and min_resources cannot be both set to 'exhaust'.")
  }
  let minResources: number
  if (typeof minSetting === 'number') minResources = minSetting
  else if (context.resource === 'rows') minResources = context.nSplits * 2 * (context.nClasses ?? 1)
  else minResources = 1
  if (minResources > maxResources) {
    fail(`min_resources_=${minResources} is greater than max_resources_=${maxResources}.`)
  }
  const nFirst = nSetting === 'exhaust' ? Math.floor(maxResources / minResources) : nSetting
  const nRequiredIterations = 1 + Math.floor(pyLog(nFirst, factor))
  if (minSetting === 'exhaust') {
    const last = nRequiredIterations - 1
    minResources = Math.max(minResources, Math.floor(maxResources / factor ** last))
  }
  const nPossibleIterations = 1 + Math.floor(pyLog(Math.floor(maxResources / minResources), factor))
  const nIterations = aggressive ? nRequiredIterations : Math.min(nPossibleIterations, nRequiredIterations)
  const nResources: number[] = []
  const nCandidates: number[] = []
  let candidates = nFirst
  for (let itr = 0; itr < nIterations; itr++) {
    const power = aggressive ? Math.max(0, itr - nRequiredIterations + nPossibleIterations) : itr
    nResources.push(Math.min(Math.trunc(factor ** power * minResources), maxResources))
    nCandidates.push(candidates)
    candidates = Math.ceil(candidates / factor)
  }
  return {
    factor,
    minResources,
    maxResources,
    nRequiredIterations,
    nPossibleIterations,
    nIterations,
    nResources,
    nCandidates,
  }
}

/**
 * Synchronous successive halving over `plan`: creates the first rung's candidates at once, runs every one, then
 * promotes the best `⌈n / factor⌉` of the rung (failed trials never) to the next budget and prunes the rest, until
 * the last rung, whose trials are complete.
 *
 * @example
 * const scheduler = halvingScheduler(halvingPlan({ nCandidates: 27, maxResources: 90_000 }, { resource: 'rows', nSplits: 3, nClasses: 2 }))
 */
export function halvingScheduler(plan: HalvingPlan, options: RungOptions = {}): Scheduler {
  const last = plan.nIterations - 1
  return {
    name: 'halving',
    maxResource: plan.nResources[last] ?? plan.maxResources,
    isFinalRung: (_bracket, rung) => rung >= last,
    decide(trials, context): Decision {
      if (trials.length === 0) {
        const create: NewTrial[] = []
        for (let number = 0; number < plan.nCandidates[0]!; number++) {
          create.push({ number, params: context.propose(number), bracket: 0, rung: 0, resource: plan.nResources[0]! })
        }
        return runDecision(0, { create })
      }
      const waiting = firstWaiting(trials)
      if (waiting !== undefined) return runDecision(waiting.number)
      return promoteRung(trials, {
        rung: Math.max(...trials.map((t) => t.rung)),
        lastRung: last,
        keep: (n) => Math.ceil(n / plan.factor),
        nextResource: (rung) => plan.nResources[rung]!,
        direction: context.direction,
        ...(options.pace === undefined ? {} : { pace: options.pace }),
      })
    },
  }
}

/** How a rung chooses its survivors. */
export interface RungOptions {
  /**
   * The parameter that sets how fast a model learns per unit of budget (GBDT's `learningRate` over boosting rounds):
   * survivors are then the best among neighbours in it ({@link topAtRungByPace}); unset, the best overall.
   */
  readonly pace?: string
}

/**
 * The step after rung `rung` of one synchronous halving (a halving study, or a Hyperband bracket): wait while a
 * member runs; when all have finished, promote the best `keep(n)` and prune the others.
 */
export function promoteRung(
  members: readonly TrialRecord[],
  options: {
    readonly rung: number
    readonly lastRung: number
    readonly keep: (n: number) => number
    readonly nextResource: (rung: number) => number
    readonly direction: 'maximize' | 'minimize'
    readonly pace?: string
  },
): Decision {
  const { rung } = options
  const atRung = members.filter((t) => t.rung === rung)
  if (atRung.some(isActive)) return idleDecision('wait')
  const paused = atRung.filter((t) => t.state === 'paused')
  if (rung >= options.lastRung || paused.length === 0) {
    // Nothing further: whatever is left paused cannot be promoted any more.
    return idleDecision('done', { transitions: paused.map((t) => ({ number: t.number, state: 'complete' as const })) })
  }
  const k = options.keep(atRung.length)
  const keep =
    options.pace === undefined
      ? topAtRung(atRung, rung, k, options.direction)
      : topAtRungByPace(atRung, rung, k, options.direction, options.pace)
  const kept = new Set(keep.map((t) => t.number))
  const transitions: TrialTransition[] = paused.map((t) =>
    kept.has(t.number)
      ? { number: t.number, state: 'waiting', rung: rung + 1, resource: options.nextResource(rung + 1) }
      : { number: t.number, state: 'pruned' },
  )
  const first = keep.map((t) => t.number).sort((a, b) => a - b)[0]
  return first === undefined ? idleDecision('done', { transitions }) : runDecision(first, { transitions })
}
