import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { ParamValues } from '../space.js'
import type { TrialRecord } from '../study.js'
import { halvingPlan, halvingScheduler } from './halving.js'
import { topAtRung, topAtRungByPace } from './scheduler.js'
import { simulate } from './test-helpers/simulate.js'

interface FixtureCase {
  search: 'random' | 'grid'
  resource: 'n_samples' | 'budget'
  nCandidates: number | 'exhaust'
  factor: number
  minResources: number | 'smallest' | 'exhaust'
  maxResources: number | 'auto'
  aggressiveElimination: boolean
  nClasses: number
  nSplits: number
  nSamples: number
  error?: string
  expected?: {
    minResources: number
    maxResources: number
    nResources: number[]
    nCandidates: number[]
    nIterations: number
    nRequiredIterations: number
    nPossibleIterations: number
    nRemainingCandidates: number
    evaluated: number[][]
  }
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/halving/cases.json', import.meta.url), 'utf8'),
) as { targetP: number; cases: FixtureCase[] }

const label = (c: FixtureCase) =>
  `${c.search} ${c.resource} n=${c.nCandidates} factor=${c.factor} min=${c.minResources} max=${c.maxResources}${c.aggressiveElimination ? ' aggressive' : ''} classes=${c.nClasses}`

function planOf(c: FixtureCase) {
  return halvingPlan(
    {
      nCandidates: c.nCandidates,
      factor: c.factor,
      minResources: c.minResources,
      maxResources: c.maxResources === 'auto' ? c.nSamples : c.maxResources,
      aggressiveElimination: c.aggressiveElimination,
    },
    {
      resource: c.resource === 'n_samples' ? 'rows' : 'rounds',
      nSplits: c.nSplits,
      nClasses: c.nClasses,
      ...(c.search === 'grid' ? { gridSize: c.nCandidates as number } : {}),
    },
  )
}

describe('halvingPlan equals scikit-learn 1.2.1 (test/fixtures/halving)', () => {
  it('covers many settings, including refused ones', () => {
    expect(fixture.cases.length).toBeGreaterThan(400)
    expect(fixture.cases.filter((c) => c.error !== undefined).length).toBeGreaterThan(10)
  })

  it.each(fixture.cases.map((c) => [label(c), c] as const))('%s', (_label, c) => {
    if (c.error !== undefined) {
      expect(() => planOf(c)).toThrow(c.error)
      return
    }
    const e = c.expected!
    const plan = planOf(c)
    expect({
      minResources: plan.minResources,
      maxResources: plan.maxResources,
      nResources: plan.nResources,
      nCandidates: plan.nCandidates,
      nIterations: plan.nIterations,
      nRequiredIterations: plan.nRequiredIterations,
      nPossibleIterations: plan.nPossibleIterations,
    }).toEqual({
      minResources: e.minResources,
      maxResources: e.maxResources,
      nResources: e.nResources,
      nCandidates: e.nCandidates,
      nIterations: e.nIterations,
      nRequiredIterations: e.nRequiredIterations,
      nPossibleIterations: e.nPossibleIterations,
    })
  })
})

describe('halvingScheduler', () => {
  it.each(fixture.cases.filter((c) => c.expected !== undefined).map((c) => [label(c), c] as const))(
    'runs the rungs of scikit-learn and keeps the same candidates: %s',
    (_label, c) => {
      const e = c.expected!
      const first = e.evaluated[0]!
      const simulation = simulate(halvingScheduler(planOf(c)), {
        propose: (number) => ({ p: first[number]! }),
        score: (params) => -Math.abs((params['p'] as number) - fixture.targetP) - 1e-9 * (params['p'] as number),
        workers: 3,
      })
      const byRung: number[][] = e.nResources.map(() => [])
      for (const run of simulation.runs) {
        expect(run.resource).toBe(e.nResources[run.rung])
        byRung[run.rung]!.push(simulation.trials[run.number]!.params['p'] as number)
      }
      expect(byRung.map((ps) => ps.sort((a, b) => a - b))).toEqual(e.evaluated)
      // Every candidate of the last rung is complete (scikit-learn picks its best among them too).
      const lastRung = e.evaluated[e.evaluated.length - 1]!.length
      expect(simulation.trials.filter((t) => t.state === 'complete').length).toBe(lastRung)
      expect(simulation.trials.filter((t) => t.state === 'pruned').length).toBe(first.length - lastRung)
    },
  )

  it('never promotes a failed trial, and prunes the rest of its rung as usual', () => {
    const plan = halvingPlan(
      { nCandidates: 9, factor: 3, minResources: 1, maxResources: 9 },
      { resource: 'rounds', nSplits: 3 },
    )
    const simulation = simulate(halvingScheduler(plan), {
      propose: (n) => ({ p: n }),
      score: (params) => params['p'] as number,
      fail: (params) => params['p'] === 8,
    })
    expect(simulation.trials.find((t) => t.params['p'] === 8)!.state).toBe('failed')
    expect(simulation.runs.filter((r) => r.rung === 1).map((r) => r.number)).toEqual([6, 7, 5].sort())
    expect(simulation.trials.filter((t) => t.state === 'complete').map((t) => t.number)).toEqual([7])
  })
})

describe('halving with a pace parameter (survivors among learning-rate neighbours)', () => {
  // A boosting-like learning curve: after r rounds at rate lr a candidate has reached 1 − e^(−lr·r) of its ceiling,
  // and the ceiling is higher for smaller rates (slower learners generalise better), so that after all 100 rounds a
  // rate near 0.05 is best while after 11 rounds the fastest lead.
  const rates = Array.from({ length: 27 }, (_, i) => 0.01 * 30 ** (i / 26))
  const ceiling = (lr: number) => 0.7 - 0.1 * Math.log10(lr / 0.01)
  const curve = (params: ParamValues, rounds: number) => {
    const lr = params['learningRate'] as number
    return ceiling(lr) * (1 - Math.exp(-lr * rounds))
  }
  const plan = halvingPlan(
    { nCandidates: 27, factor: 3, minResources: 'exhaust', maxResources: 100 },
    { resource: 'rounds', nSplits: 3 },
  )
  const run = (pace?: string) =>
    simulate(halvingScheduler(plan, pace === undefined ? {} : { pace }), {
      propose: (n) => ({ learningRate: rates[n]!, leaves: 8 + n }),
      score: curve,
      workers: 2,
    })
  const bestComplete = (s: ReturnType<typeof run>) =>
    s.trials
      .filter((t) => t.state === 'complete')
      .sort((a, b) => b.rungs[b.rungs.length - 1]!.value - a.rungs[a.rungs.length - 1]!.value)[0]!

  it('ends on a slower, better learner than halving that keeps the overall best of the early rungs', () => {
    const atFullBudget = (t: TrialRecord) => curve(t.params, 100)
    const bestOfAll = Math.max(...rates.map((lr) => curve({ learningRate: lr }, 100)))
    const plain = bestComplete(run())
    const paced = bestComplete(run('learningRate'))
    // Neighbours still favour the faster of them, so the bias shrinks rather than vanishes: on this curve plain
    // halving ends at lr 0.23 (0.564 of the best 0.628), paced halving at lr 0.092 (0.603).
    expect(atFullBudget(paced)).toBeGreaterThan(atFullBudget(plain) + 0.03)
    expect(atFullBudget(paced)).toBeLessThanOrEqual(bestOfAll)
    expect(plain.params['learningRate'] as number).toBeGreaterThan(paced.params['learningRate'] as number)
  })

  it("runs scikit-learn's rung budgets and candidate counts", () => {
    const s = run('learningRate')
    for (const r of s.runs) expect(r.resource).toBe(plan.nResources[r.rung])
    const counts = plan.nResources.map((_, rung) => s.runs.filter((r) => r.rung === rung).length)
    expect(counts).toEqual(plan.nCandidates)
  })

  it('promotes one candidate from each contiguous group of the pace order', () => {
    // keep 2 of 6: the best of the 3 smallest rates and the best of the 3 largest, whatever the overall order.
    const trial = (number: number, lr: number, value: number): TrialRecord => ({
      number,
      params: { learningRate: lr },
      state: 'paused',
      bracket: 0,
      rung: 0,
      resource: 1,
      rungs: [{ rung: 0, resource: 1, value, seconds: 0 }],
    })
    const members = [
      trial(0, 0.3, 0.9),
      trial(1, 0.2, 0.8),
      trial(2, 0.1, 0.85),
      trial(3, 0.03, 0.5),
      trial(4, 0.02, 0.6),
      trial(5, 0.01, 0.55),
    ]
    expect(topAtRungByPace(members, 0, 2, 'maximize', 'learningRate').map((t) => t.number)).toEqual([0, 4])
    expect(topAtRung(members, 0, 2, 'maximize').map((t) => t.number)).toEqual([0, 2])
    // minimize: the lowest value of each group.
    expect(topAtRungByPace(members, 0, 2, 'minimize', 'learningRate').map((t) => t.number)).toEqual([3, 1])
    // A failed trial is never promoted; the groups are cut over the others.
    const failed = members.map((t) => (t.number === 4 ? { ...t, state: 'failed' as const } : t))
    expect(topAtRungByPace(failed, 0, 2, 'maximize', 'learningRate').map((t) => t.number)).toEqual([0, 5])
  })

  it('keeps the overall best when the pace parameter is not searched or not numeric', () => {
    const trial = (number: number, params: ParamValues, value: number): TrialRecord => ({
      number,
      params,
      state: 'paused',
      bracket: 0,
      rung: 0,
      resource: 1,
      rungs: [{ rung: 0, resource: 1, value, seconds: 0 }],
    })
    const same = [0.4, 0.9, 0.1, 0.7].map((v, i) => trial(i, { learningRate: 0.1 }, v))
    expect(topAtRungByPace(same, 0, 2, 'maximize', 'learningRate')).toEqual(topAtRung(same, 0, 2, 'maximize'))
    const absent = [0.4, 0.9, 0.1, 0.7].map((v, i) => trial(i, { leaves: i }, v))
    expect(topAtRungByPace(absent, 0, 2, 'maximize', 'learningRate').map((t) => t.number)).toEqual([1, 3])
  })
})
