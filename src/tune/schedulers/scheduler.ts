/**
 * The scheduler contract. A scheduler decides what a free worker does next from the study's trials alone: start a
 * new trial, run a queued rung, promote or prune finished rungs, wait for others, or stop. It is a pure function of
 * the trials (no state of its own), so any number of workers in any number of processes can call it, one at a time,
 * inside the store's claim transaction, and a resumed study continues where the stored trials say it is.
 * @module
 */
import type { ParamValues } from '../space.js'
import { compareValues, type Direction, type TrialRecord, type TrialState } from '../study.js'

/** A trial the decision creates (state `waiting`). */
export interface NewTrial {
  readonly number: number
  readonly params: ParamValues
  readonly bracket: number
  readonly rung: number
  readonly resource: number
}

/** A change of state the decision makes to an existing trial. */
export interface TrialTransition {
  readonly number: number
  readonly state: Extract<TrialState, 'waiting' | 'complete' | 'pruned'>
  /** New rung and budget (a promotion). */
  readonly rung?: number
  readonly resource?: number
}

/**
 * What to do: apply `create` and `transitions`, then, when `status` is 'run', run trial `run` (which is `waiting`
 * after the changes). 'wait': nothing to run now, other workers' results may bring some; 'done': the study is over.
 */
export interface Decision {
  readonly status: 'run' | 'wait' | 'done'
  readonly create: readonly NewTrial[]
  readonly transitions: readonly TrialTransition[]
  readonly run?: number
}

/** What a scheduler may use besides the trials. */
export interface DecideContext {
  readonly direction: Direction
  /** The configuration of a new trial `number` (the sampler, given the trials so far). */
  propose(number: number): ParamValues
}

/** Decides the next step of a study. */
export interface Scheduler {
  /** 'sequential' | 'halving' | 'hyperband' | 'asha'. */
  readonly name: string
  /** The largest budget a trial can get: what a complete trial was trained with. */
  readonly maxResource: number
  decide(trials: readonly TrialRecord[], context: DecideContext): Decision
  /** True when `rung` is the last of its bracket: a trial that finishes it is complete rather than paused. */
  isFinalRung(bracket: number, rung: number): boolean
}

/** Keeps a waiting or running trial where it is; anything else is for the scheduler to settle. */
export function isActive(trial: TrialRecord): boolean {
  return trial.state === 'waiting' || trial.state === 'running'
}

/**
 * The best `k` of `members` by their score at `rung` (best first; NaN last; ties by trial number). Failed trials are
 * never among them.
 */
export function topAtRung(
  members: readonly TrialRecord[],
  rung: number,
  k: number,
  direction: Direction,
): TrialRecord[] {
  const scored = members
    .filter((t) => t.state !== 'failed')
    .map((t) => ({ t, v: t.rungs.find((r) => r.rung === rung)?.value }))
    .filter((x) => x.v !== undefined)
  scored.sort((a, b) => compareValues(a.v, b.v, direction) || a.t.number - b.t.number)
  return scored.slice(0, Math.max(0, k)).map((x) => x.t)
}

/**
 * The best of each of `k` groups of `members` neighbouring in the parameter `pace` (sorted by its value, cut into `k`
 * contiguous groups whose sizes differ by at most one; best first overall). Halving over boosting rounds compares
 * candidates after a few rounds, where a small learning rate always looks worse than a large one however good it
 * is after all of them; comparing only neighbours in learning rate keeps that bias out of the early rungs and lets
 * the last rung, at the full budget, rank the learning rates against each other. Falls back to {@link topAtRung}
 * when some member lacks a numeric `pace` or all share one value (the space does not search it).
 *
 * @example
 * // 20 candidates after 11 rounds, keep 7: the best of each seventh of the learning-rate range.
 * topAtRungByPace(trials, 0, 7, 'maximize', 'learningRate')
 */
export function topAtRungByPace(
  members: readonly TrialRecord[],
  rung: number,
  k: number,
  direction: Direction,
  pace: string,
): TrialRecord[] {
  const scored = members
    .filter((t) => t.state !== 'failed' && t.rungs.some((r) => r.rung === rung))
    .map((t) => ({ t, pace: t.params[pace] }))
  const paced = scored.filter((x): x is { t: TrialRecord; pace: number } => typeof x.pace === 'number')
  const distinct = new Set(paced.map((x) => x.pace)).size
  if (paced.length !== scored.length || distinct < 2 || k >= scored.length) {
    return topAtRung(members, rung, k, direction)
  }
  paced.sort((a, b) => a.pace - b.pace || a.t.number - b.t.number)
  const groups = Math.max(0, k)
  const best: TrialRecord[] = []
  for (let g = 0; g < groups; g++) {
    const from = Math.floor((g * paced.length) / groups)
    const to = Math.floor(((g + 1) * paced.length) / groups)
    const group = paced.slice(from, to).map((x) => x.t)
    const [top] = topAtRung(group, rung, 1, direction)
    if (top !== undefined) best.push(top)
  }
  const value = (t: TrialRecord) => t.rungs.find((r) => r.rung === rung)?.value
  return best.sort((a, b) => compareValues(value(a), value(b), direction) || a.number - b.number)
}

/** A decision that only runs `number`. */
export function runDecision(
  number: number,
  changes: { create?: readonly NewTrial[]; transitions?: readonly TrialTransition[] } = {},
): Decision {
  return { status: 'run', run: number, create: changes.create ?? [], transitions: changes.transitions ?? [] }
}

/** A decision without a trial to run. */
export function idleDecision(
  status: 'wait' | 'done',
  changes: { create?: readonly NewTrial[]; transitions?: readonly TrialTransition[] } = {},
): Decision {
  return { status, create: changes.create ?? [], transitions: changes.transitions ?? [] }
}

/** The lowest-numbered `waiting` trial, optionally of one bracket. */
export function firstWaiting(trials: readonly TrialRecord[], bracket?: number): TrialRecord | undefined {
  for (const t of trials) if (t.state === 'waiting' && (bracket === undefined || t.bracket === bracket)) return t
  return undefined
}

/** The next free trial number. */
export function nextNumber(trials: readonly TrialRecord[]): number {
  let n = 0
  for (const t of trials) n = Math.max(n, t.number + 1)
  return n
}

/**
 * Random, grid or TPE search without early stopping: one rung at the full budget per trial, `nTrials` trials.
 * Waiting trials (an interrupted run requeued) go first.
 */
export function sequentialScheduler(options: { readonly nTrials: number; readonly resource: number }): Scheduler {
  return {
    name: 'sequential',
    maxResource: options.resource,
    decide(trials, context) {
      const waiting = firstWaiting(trials)
      if (waiting !== undefined) return runDecision(waiting.number)
      if (trials.length < options.nTrials) {
        const number = nextNumber(trials)
        const created: NewTrial = {
          number,
          params: context.propose(number),
          bracket: 0,
          rung: 0,
          resource: options.resource,
        }
        return runDecision(number, { create: [created] })
      }
      return idleDecision(trials.some((t) => t.state === 'running') ? 'wait' : 'done')
    },
    isFinalRung: () => true,
  }
}
