/**
 * What a study is made of: its definition (what is searched, how, scored by what) and its trials, each with its
 * configuration, state, per-rung scores and duration. Plain data shared by the samplers, the schedulers, the stores
 * and the CLI; the helpers here rank trials and turn them into sampler observations. No I/O.
 * @module
 */
import type { Observation } from './samplers/sampler.js'
import type { ParamValues, SearchSpace } from './space.js'

/**
 * Where a trial is:
 * - `waiting`: queued to run its next rung (`rung`, `resource`);
 * - `running`: a worker (`owner`) holds it until `leaseUntil`, renewing the lease while it works;
 * - `paused`: finished rung `rung`, waiting for the scheduler to promote or prune it;
 * - `complete`: finished its last rung; `pruned`: stopped early by the scheduler; `failed`: its training threw.
 */
export type TrialState = 'waiting' | 'running' | 'paused' | 'complete' | 'pruned' | 'failed'

/** Trial states after which nothing more happens. */
export const TERMINAL_STATES: readonly TrialState[] = ['complete', 'pruned', 'failed']

/** The score of one rung: the objective at a budget. */
export interface RungResult {
  readonly rung: number
  /** The budget of the rung (rows, epochs or boosting rounds). */
  readonly resource: number
  /** The objective's value (the metric itself, not a loss). */
  readonly value: number
  /** Wall seconds spent on this rung. */
  readonly seconds: number
}

/** One trial of a study. */
export interface TrialRecord {
  /** 0-based, unique within the study. */
  readonly number: number
  readonly params: ParamValues
  readonly state: TrialState
  /** Hyperband bracket (0 for the other strategies). */
  readonly bracket: number
  /** The rung it waits for, runs, or last finished. */
  readonly rung: number
  /** The budget of that rung. */
  readonly resource: number
  /** Scores of the rungs it finished, in order. */
  readonly rungs: readonly RungResult[]
  /** The worker running it (`host:pid:random`), while running. */
  readonly owner?: string
  /** Epoch ms after which a running trial's worker counts as gone and the trial may be run again. */
  readonly leaseUntil?: number
  /** The error of a failed trial. */
  readonly error?: string
  /** Epoch ms of the first start and of the end. */
  readonly startedAt?: number
  readonly finishedAt?: number
}

/** Metric direction. */
export type Direction = 'maximize' | 'minimize'

/**
 * Everything that identifies a study: resuming one checks the given definition against the stored one (the space
 * above all) and refuses a mismatch.
 */
export interface StudyDefinition {
  readonly name: string
  readonly space: SearchSpace
  /** 'random' | 'grid' | 'tpe' | 'halving' | 'hyperband' | 'asha'. */
  readonly strategy: string
  /** The catalog model trained by every trial. */
  readonly model: string
  readonly metric: string
  readonly direction: Direction
  /** Everything else that must not change across a resume (data, target, folds, scheduler settings, seed). */
  readonly settings: Readonly<Record<string, unknown>>
}

/** A study as stored: its definition and trials. */
export interface StudySnapshot {
  readonly definition: StudyDefinition
  /** Epoch ms. */
  readonly createdAt: number
  /** In trial-number order. */
  readonly trials: readonly TrialRecord[]
}

/** The last value a trial reported, or undefined. */
export function lastValue(trial: TrialRecord): number | undefined {
  return trial.rungs[trial.rungs.length - 1]?.value
}

/** Total wall seconds of a trial's rungs. */
export function trialSeconds(trial: TrialRecord): number {
  return trial.rungs.reduce((s, r) => s + r.seconds, 0)
}

/** The value as a loss (lower is better; NaN stays NaN). */
export function toLoss(value: number, direction: Direction): number {
  return direction === 'maximize' ? -value : value
}

/** Compares two values for sorting best first; NaN and undefined sort last. */
export function compareValues(a: number | undefined, b: number | undefined, direction: Direction): number {
  const bad = (v: number | undefined) => v === undefined || Number.isNaN(v)
  if (bad(a)) return bad(b) ? 0 : 1
  if (bad(b)) return -1
  return direction === 'maximize' ? b! - a! : a! - b!
}

/**
 * The best trial: among the trials that reached the largest budget any trial finished, the best last value (ties:
 * the lower number). Halving's winners are the survivors of its last rung, not a trial that scored well on a
 * small sample and was never tried on more; without rungs this is simply the best complete trial.
 */
export function bestTrial(trials: readonly TrialRecord[], direction: Direction): TrialRecord | undefined {
  let top = Number.NEGATIVE_INFINITY
  for (const t of trials) {
    const last = t.rungs[t.rungs.length - 1]
    if (last !== undefined && !Number.isNaN(last.value) && t.state !== 'failed') top = Math.max(top, last.resource)
  }
  let best: TrialRecord | undefined
  for (const t of trials) {
    const last = t.rungs[t.rungs.length - 1]
    if (last === undefined || last.resource !== top || t.state === 'failed' || Number.isNaN(last.value)) continue
    if (best === undefined || compareValues(last.value, lastValue(best), direction) < 0) best = t
  }
  return best
}

/** Trials as a sampler sees them: complete ones with their final value, paused or pruned ones as pruned. */
export function observations(trials: readonly TrialRecord[], direction: Direction): Observation[] {
  const out: Observation[] = []
  for (const t of trials) {
    const last = t.rungs[t.rungs.length - 1]
    if (last === undefined) continue
    if (t.state === 'complete') {
      out.push({
        number: t.number,
        params: t.params,
        state: 'complete',
        loss: toLoss(last.value, direction),
        step: last.resource,
      })
    } else if (t.state === 'pruned' || t.state === 'paused' || t.state === 'waiting' || t.state === 'running') {
      out.push({
        number: t.number,
        params: t.params,
        state: 'pruned',
        loss: toLoss(last.value, direction),
        step: last.resource,
      })
    }
  }
  return out
}
