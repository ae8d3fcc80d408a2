import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { halvingPlan, halvingScheduler } from './halving.js'
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
