/**
 * Hyperband (Li et al., JMLR 2018): successive halving run in brackets that trade the number of candidates against
 * the budget each starts with, so that neither a too-small first budget nor too few candidates can ruin the search.
 * With `s_max = ⌊log_η(R / r)⌋` (R the largest budget, r the smallest, η the factor), bracket `s = s_max, …, 0`
 * starts `n = ⌈(s_max + 1) / (s + 1) · η^s⌉` candidates at budget `R·η^{−s}` and runs `s + 1` rungs, keeping the best
 * `⌊n_i / η⌋` after each. Brackets repeat in that order until the trial budget is used. Brackets are independent:
 * with several workers, the next bracket starts as soon as the current one only waits for its last results.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { TrialRecord } from '../study.js'
import { promoteRung } from './halving.js'
import {
  type Decision,
  firstWaiting,
  idleDecision,
  isActive,
  type NewTrial,
  nextNumber,
  runDecision,
  type Scheduler,
} from './scheduler.js'

/** Settings of Hyperband. */
export interface HyperbandSettings {
  /** R: the largest budget. */
  readonly maxResources: number
  /** r: the smallest budget a rung may have (default 1). */
  readonly minResources?: number
  /** η (default 3). */
  readonly factor?: number
  /** Most trials over all brackets (default: one pass over the brackets). */
  readonly nTrials?: number
  /** A bracket's survivors are the best among neighbours in this parameter (see halving's `RungOptions`). */
  readonly pace?: string
}

/** One bracket of a Hyperband plan. */
export interface HyperbandBracket {
  /** s: its rungs are 0..s. */
  readonly s: number
  /** Candidates of each rung. */
  readonly nCandidates: readonly number[]
  /** Budget of each rung. */
  readonly nResources: readonly number[]
}

/** The brackets of one pass of Hyperband, most exploratory (largest s) first. */
export function hyperbandBrackets(settings: HyperbandSettings): HyperbandBracket[] {
  const R = settings.maxResources
  const r = settings.minResources ?? 1
  const eta = settings.factor ?? 3
  if (!(eta > 1)) throw new ScalemlError('INVALID_ARGUMENT', `Hyperband's factor must be > 1; got ${eta}.`)
  if (!Number.isInteger(R) || !Number.isInteger(r) || r < 1 || r > R) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Hyperband needs whole budgets with 1 ≤ min resources ≤ max resources; got ${r} and ${R}.`,
    )
  }
  // The epsilon keeps log_3(81) = 3.9999999999999996 from losing a bracket.
  const sMax = Math.floor(Math.log(R / r) / Math.log(eta) + 1e-9)
  const brackets: HyperbandBracket[] = []
  for (let s = sMax; s >= 0; s--) {
    const n = Math.ceil(((sMax + 1) / (s + 1)) * eta ** s)
    const nCandidates: number[] = []
    const nResources: number[] = []
    for (let i = 0; i <= s; i++) {
      nCandidates.push(Math.max(1, Math.floor(n * eta ** -i)))
      nResources.push(Math.min(R, Math.max(1, Math.round(R * eta ** (i - s)))))
    }
    brackets.push({ s, nCandidates, nResources })
  }
  return brackets
}

/**
 * A Hyperband scheduler. Trial `bracket` numbers count brackets in the order they were started (bracket `b` follows
 * plan bracket `b mod (s_max + 1)`).
 *
 * @example
 * const scheduler = hyperbandScheduler({ maxResources: 81, factor: 3 }) // brackets of 81, 34, 15, 8, 5 candidates
 */
export function hyperbandScheduler(settings: HyperbandSettings): Scheduler {
  const plan = hyperbandBrackets(settings)
  const bracketOf = (b: number) => plan[b % plan.length]!
  const onePass = plan.reduce((n, b) => n + b.nCandidates[0]!, 0)
  const nTrials = settings.nTrials ?? onePass
  const eta = settings.factor ?? 3
  return {
    name: 'hyperband',
    maxResource: settings.maxResources,
    isFinalRung: (bracket, rung) => rung >= bracketOf(bracket).s,
    decide(trials, context): Decision {
      const waiting = firstWaiting(trials)
      if (waiting !== undefined) return runDecision(waiting.number)
      const byBracket = new Map<number, TrialRecord[]>()
      for (const t of trials) byBracket.set(t.bracket, [...(byBracket.get(t.bracket) ?? []), t])
      let anyRunning = false
      const settled: Decision['transitions'][number][] = []
      for (const [b, members] of [...byBracket].sort((x, y) => x[0] - y[0])) {
        const bracket = bracketOf(b)
        const rung = Math.max(...members.map((t) => t.rung))
        const step = promoteRung(members, {
          rung,
          lastRung: bracket.s,
          // The plan's count, or fewer when the trial budget cut the bracket short.
          keep: (n) => Math.max(1, Math.min(bracket.nCandidates[rung + 1] ?? 1, Math.floor(n / eta))),
          nextResource: (next) => bracket.nResources[next]!,
          direction: context.direction,
          ...(settings.pace === undefined ? {} : { pace: settings.pace }),
        })
        if (step.status === 'run') return { ...step, transitions: [...settled, ...step.transitions] }
        if (step.status === 'wait') anyRunning = anyRunning || members.some(isActive)
        settled.push(...step.transitions)
      }
      const created = trials.length
      if (created < nTrials) {
        const b = byBracket.size === 0 ? 0 : Math.max(...byBracket.keys()) + 1
        const bracket = bracketOf(b)
        const count = Math.min(bracket.nCandidates[0]!, nTrials - created)
        const first = nextNumber(trials)
        const create: NewTrial[] = []
        for (let i = 0; i < count; i++) {
          const number = first + i
          create.push({
            number,
            params: context.propose(number),
            bracket: b,
            rung: 0,
            resource: bracket.nResources[0]!,
          })
        }
        return runDecision(first, { create, transitions: settled })
      }
      return idleDecision(anyRunning ? 'wait' : 'done', { transitions: settled })
    },
  }
}
