/**
 * Runs a scheduler to the end in memory, for scheduler tests: applies each decision the way a store does, "runs" the
 * claimed trial by scoring it with `score(params, resource)`, and records the order of events. `workers` claims are
 * made before any result comes back (results return oldest first), which exercises the 'wait' paths. Test-only.
 * @module
 */
import type { ParamValues } from '../../space.js'
import type { Direction, TrialRecord } from '../../study.js'
import type { Decision, Scheduler } from '../scheduler.js'

/** What a simulated study did. */
export interface Simulation {
  readonly trials: TrialRecord[]
  /** Every run in order: trial number, rung, budget. */
  readonly runs: { number: number; rung: number; resource: number }[]
}

/** Applies a decision to trials, as the stores do (without leases). */
export function applyDecision(trials: TrialRecord[], decision: Decision): TrialRecord[] {
  const out = trials.map((t) => ({ ...t }))
  for (const c of decision.create) {
    out.push({
      number: c.number,
      params: c.params,
      state: 'waiting',
      bracket: c.bracket,
      rung: c.rung,
      resource: c.resource,
      rungs: [],
    })
  }
  for (const tr of decision.transitions) {
    const i = out.findIndex((t) => t.number === tr.number)
    out[i] = { ...out[i]!, state: tr.state, rung: tr.rung ?? out[i]!.rung, resource: tr.resource ?? out[i]!.resource }
  }
  out.sort((a, b) => a.number - b.number)
  if (decision.status === 'run') {
    const i = out.findIndex((t) => t.number === decision.run)
    if (out[i]?.state !== 'waiting') throw new Error(`decision runs trial ${decision.run}, which is ${out[i]?.state}`)
    out[i] = { ...out[i]!, state: 'running' }
  }
  return out
}

/** Runs `scheduler` until it says 'done'. */
export function simulate(
  scheduler: Scheduler,
  options: {
    readonly direction?: Direction
    readonly propose: (number: number) => ParamValues
    readonly score: (params: ParamValues, resource: number) => number
    readonly workers?: number
    readonly fail?: (params: ParamValues) => boolean
  },
): Simulation {
  const direction = options.direction ?? 'maximize'
  let trials: TrialRecord[] = []
  const runs: Simulation['runs'] = []
  const inflight: number[] = []
  const workers = options.workers ?? 1
  for (let step = 0; step < 100_000; step++) {
    let idle = false
    while (inflight.length < workers) {
      const decision = scheduler.decide(trials, { direction, propose: options.propose })
      trials = applyDecision(trials, decision)
      if (decision.status !== 'run') {
        idle = true
        if (decision.status === 'done' && inflight.length === 0) return { trials, runs }
        break
      }
      const t = trials.find((x) => x.number === decision.run)!
      runs.push({ number: t.number, rung: t.rung, resource: t.resource })
      inflight.push(t.number)
    }
    if (inflight.length === 0) {
      if (idle) throw new Error('scheduler waits with nothing running')
      continue
    }
    const number = inflight.shift()!
    const i = trials.findIndex((x) => x.number === number)
    const t = trials[i]!
    if (options.fail?.(t.params)) {
      trials[i] = { ...t, state: 'failed', error: 'boom' }
      continue
    }
    const value = options.score(t.params, t.resource)
    trials[i] = {
      ...t,
      state: scheduler.isFinalRung(t.bracket, t.rung) ? 'complete' : 'paused',
      rungs: [...t.rungs, { rung: t.rung, resource: t.resource, value, seconds: 0 }],
    }
  }
  throw new Error('simulation did not end')
}
