/**
 * `--strategy` → a sampler and a scheduler: random, grid and TPE search run every trial at the full budget;
 * halving, Hyperband and ASHA stop poor trials early on a budget (rows, epochs or boosting rounds), drawing their
 * candidates with a random sampler by default (`sampler: 'tpe'` makes Hyperband and ASHA model-based, as BOHB;
 * `sampler: 'grid'` makes halving scikit-learn's `HalvingGridSearchCV`).
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import { gridSampler, gridSize } from './samplers/grid.js'
import { randomSampler } from './samplers/random.js'
import type { Sampler } from './samplers/sampler.js'
import { tpeSampler } from './samplers/tpe.js'
import { ashaRungs, ashaScheduler } from './schedulers/asha.js'
import { type HalvingContext, type HalvingPlan, halvingPlan, halvingScheduler } from './schedulers/halving.js'
import { hyperbandBrackets, hyperbandScheduler } from './schedulers/hyperband.js'
import { type Scheduler, sequentialScheduler } from './schedulers/scheduler.js'
import type { SearchSpace } from './space.js'

/** Search strategies. */
export const STRATEGIES = ['random', 'grid', 'tpe', 'halving', 'hyperband', 'asha'] as const
/** A search strategy. */
export type Strategy = (typeof STRATEGIES)[number]

/** Samplers. */
export const SAMPLERS = ['random', 'grid', 'tpe'] as const

/** Everything that shapes a search. */
export interface SearchSettings {
  readonly strategy: Strategy
  /**
   * Trials: random/TPE trials; the grid's size at most; halving's first-rung candidates (scikit-learn's
   * `n_candidates`; 'exhaust' when undefined); trials over all Hyperband brackets; ASHA trials started.
   */
  readonly nTrials?: number
  readonly seed: number
  /** Candidate sampler of halving, Hyperband and ASHA (default random). */
  readonly sampler?: (typeof SAMPLERS)[number]
  /** Values per continuous range of a grid (default 5). */
  readonly gridPoints?: number
  /** Budget multiplier between rungs (default 3). */
  readonly factor?: number
  /**
   * Budget of the first rung: a number, 'smallest' or 'exhaust' ('exhaust' for halving only). Halving's default
   * exhausts whichever of candidates and budget is not given: without `nTrials`, 'smallest' with as many candidates
   * as it allows (`HalvingRandomSearchCV`'s defaults); with `nTrials` or a grid, 'exhaust', so that the last rung
   * trains on about the full budget (`HalvingGridSearchCV`'s default; `HalvingRandomSearchCV` would keep 'smallest'
   * and stop its last rung at `smallest × factor^k`). 'smallest' for Hyperband and ASHA.
   */
  readonly minResources?: number | 'smallest' | 'exhaust'
  /** The full budget: all rows, the epochs or the boosting rounds of a complete trial. */
  readonly maxResources: number
  readonly aggressiveElimination?: boolean
  /**
   * Halving and Hyperband: choose each rung's survivors among neighbours in this parameter (GBDT's `learningRate`
   * when the budget is boosting rounds; see `topAtRungByPace`) instead of overall. ASHA ignores it.
   */
  readonly pace?: string
  /** What 'smallest' depends on (the resource, the folds, the classes). */
  readonly context: HalvingContext
}

/** The sampler and scheduler of a search. */
export interface Search {
  readonly sampler: Sampler
  readonly scheduler: Scheduler
  /** The total budget the search expects to spend (Σ rung budgets), for progress and ETA; an estimate for ASHA. */
  readonly plannedWork: number
  /** Halving's rungs and candidates (scikit-learn's `n_resources_`, `n_candidates_`). */
  readonly plan?: HalvingPlan
}

/** The smallest budget scikit-learn's halving would start from ('smallest'). */
export function smallestResource(context: HalvingContext): number {
  return context.resource === 'rows' ? context.nSplits * 2 * (context.nClasses ?? 1) : 1
}

/**
 * Builds the sampler and scheduler of `settings` over `space`.
 * @example
 * const { sampler, scheduler } = buildSearch(space, { strategy: 'tpe', nTrials: 30, seed: 0, maxResources: 100, context })
 */
export function buildSearch(space: SearchSpace, settings: SearchSettings): Search {
  const { strategy, seed } = settings
  const points = settings.gridPoints
  const sampler = (name: (typeof SAMPLERS)[number]): Sampler =>
    name === 'grid'
      ? gridSampler(points === undefined ? {} : { points })
      : name === 'tpe'
        ? tpeSampler({ seed })
        : randomSampler({ seed })
  if (settings.sampler === 'grid' && strategy !== 'halving') {
    throw new ScalemlError('INVALID_ARGUMENT', `--sampler grid goes with --strategy halving (or use --strategy grid).`)
  }
  const nTrials = settings.nTrials
  const needTrials = (): number => {
    if (nTrials === undefined) {
      throw new ScalemlError('INVALID_ARGUMENT', `--strategy ${strategy} needs --trials <n>.`)
    }
    if (!Number.isInteger(nTrials) || nTrials < 1) {
      throw new ScalemlError('INVALID_ARGUMENT', `--trials must be a whole number ≥ 1; got ${nTrials}.`)
    }
    return nTrials
  }
  const minimum = (): number => {
    const m = settings.minResources
    return typeof m === 'number' ? m : smallestResource(settings.context)
  }
  switch (strategy) {
    case 'random':
    case 'tpe':
      return {
        sampler: sampler(strategy),
        scheduler: sequentialScheduler({ nTrials: needTrials(), resource: settings.maxResources }),
        plannedWork: needTrials() * settings.maxResources,
      }
    case 'grid': {
      const size = Math.min(nTrials ?? gridSize(space, points), gridSize(space, points))
      return {
        sampler: sampler('grid'),
        scheduler: sequentialScheduler({ nTrials: size, resource: settings.maxResources }),
        plannedWork: size * settings.maxResources,
      }
    }
    case 'halving': {
      const name = settings.sampler ?? 'random'
      const plan = halvingPlan(
        {
          ...(nTrials === undefined ? {} : { nCandidates: nTrials }),
          ...(settings.factor === undefined ? {} : { factor: settings.factor }),
          minResources: settings.minResources ?? (name === 'grid' || nTrials !== undefined ? 'exhaust' : 'smallest'),
          maxResources: settings.maxResources,
          ...(settings.aggressiveElimination === undefined
            ? {}
            : { aggressiveElimination: settings.aggressiveElimination }),
        },
        { ...settings.context, ...(name === 'grid' ? { gridSize: gridSize(space, points) } : {}) },
      )
      const plannedWork = plan.nCandidates.reduce((w, n, i) => w + n * plan.nResources[i]!, 0)
      const rungs = settings.pace === undefined ? {} : { pace: settings.pace }
      return { sampler: sampler(name), scheduler: halvingScheduler(plan, rungs), plannedWork, plan }
    }
    case 'hyperband': {
      const hyperband = {
        maxResources: settings.maxResources,
        minResources: minimum(),
        ...(settings.factor === undefined ? {} : { factor: settings.factor }),
      }
      const brackets = hyperbandBrackets(hyperband)
      const onePass = brackets.reduce((n, b) => n + b.nCandidates[0]!, 0)
      // Whole passes, then the part of a pass the trial budget leaves (bracket by bracket).
      let left = nTrials ?? onePass
      let plannedWork = 0
      for (let b = 0; left > 0; b++) {
        const bracket = brackets[b % brackets.length]!
        const share = Math.min(1, left / bracket.nCandidates[0]!)
        plannedWork += share * bracket.nCandidates.reduce((w, n, i) => w + n * bracket.nResources[i]!, 0)
        left -= bracket.nCandidates[0]!
      }
      return {
        sampler: sampler(settings.sampler ?? 'random'),
        scheduler: hyperbandScheduler({
          ...hyperband,
          ...(nTrials === undefined ? {} : { nTrials }),
          ...(settings.pace === undefined ? {} : { pace: settings.pace }),
        }),
        plannedWork,
      }
    }
    case 'asha': {
      const asha = {
        maxResources: settings.maxResources,
        minResources: minimum(),
        ...(settings.factor === undefined ? {} : { factor: settings.factor }),
        nTrials: needTrials(),
      }
      const eta = settings.factor ?? 3
      // About n/η^k trials reach rung k.
      const plannedWork = ashaRungs(asha).reduce((w, r, k) => w + (asha.nTrials / eta ** k) * r, 0)
      return { sampler: sampler(settings.sampler ?? 'random'), scheduler: ashaScheduler(asha), plannedWork }
    }
  }
}
