/**
 * Asynchronous successive halving (ASHA; Li et al., MLSys 2020), for parallel workers: rungs `k = 0..K` with budgets
 * `r·η^k` (the last one `R`), and no rung ever waits for stragglers. A free worker promotes the first trial that
 * is in the top `⌊n_k / η⌋` of the `n_k` results of some rung `k` (checked from the highest rung down) and has not
 * been promoted yet; when there is none, it starts a new trial at rung 0, until `nTrials` trials exist. Trials left
 * behind at a rung when the study ends are pruned.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import {
  type Decision,
  firstWaiting,
  idleDecision,
  nextNumber,
  runDecision,
  type Scheduler,
  topAtRung,
} from './scheduler.js'

/** Settings of ASHA. */
export interface AshaSettings {
  /** R: the budget of the last rung. */
  readonly maxResources: number
  /** r: the budget of rung 0 (default 1). */
  readonly minResources?: number
  /** η (default 3). */
  readonly factor?: number
  /** Trials started at rung 0. */
  readonly nTrials: number
}

/** The budget of each rung: `r·η^k` for `k < K = ⌊log_η(R / r)⌋`, and `R` for rung K. */
export function ashaRungs(settings: AshaSettings): number[] {
  const R = settings.maxResources
  const r = settings.minResources ?? 1
  const eta = settings.factor ?? 3
  if (!(eta > 1)) throw new ScalemlError('INVALID_ARGUMENT', `ASHA's factor must be > 1; got ${eta}.`)
  if (!Number.isInteger(R) || !Number.isInteger(r) || r < 1 || r > R) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `ASHA needs whole budgets with 1 ≤ min resources ≤ max resources; got ${r} and ${R}.`,
    )
  }
  const K = Math.floor(Math.log(R / r) / Math.log(eta) + 1e-9)
  const rungs: number[] = []
  for (let k = 0; k < K; k++) rungs.push(Math.round(r * eta ** k))
  rungs.push(R)
  return rungs
}

/**
 * An ASHA scheduler.
 *
 * @example
 * const scheduler = ashaScheduler({ minResources: 1, maxResources: 27, factor: 3, nTrials: 40 }) // rungs 1, 3, 9, 27
 */
export function ashaScheduler(settings: AshaSettings): Scheduler {
  const rungs = ashaRungs(settings)
  const eta = settings.factor ?? 3
  const top = rungs.length - 1
  return {
    name: 'asha',
    maxResource: settings.maxResources,
    isFinalRung: (_bracket, rung) => rung >= top,
    decide(trials, context): Decision {
      const waiting = firstWaiting(trials)
      if (waiting !== undefined) return runDecision(waiting.number)
      for (let k = top - 1; k >= 0; k--) {
        const finished = trials.filter((t) => t.state !== 'failed' && t.rungs.some((r) => r.rung === k))
        const best = topAtRung(finished, k, Math.floor(finished.length / eta), context.direction)
        const promotable = best.find((t) => t.state === 'paused' && t.rung === k)
        if (promotable !== undefined) {
          return runDecision(promotable.number, {
            transitions: [{ number: promotable.number, state: 'waiting', rung: k + 1, resource: rungs[k + 1]! }],
          })
        }
      }
      if (trials.length < settings.nTrials) {
        const number = nextNumber(trials)
        return runDecision(number, {
          create: [{ number, params: context.propose(number), bracket: 0, rung: 0, resource: rungs[0]! }],
        })
      }
      if (trials.some((t) => t.state === 'running')) return idleDecision('wait')
      return idleDecision('done', {
        transitions: trials
          .filter((t) => t.state === 'paused')
          .map((t) => ({ number: t.number, state: 'pruned' as const })),
      })
    },
  }
}
