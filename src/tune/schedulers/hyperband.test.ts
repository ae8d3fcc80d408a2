import { describe, expect, it } from 'vitest'
import { ashaRungs, ashaScheduler } from './asha.js'
import { hyperbandBrackets, hyperbandScheduler } from './hyperband.js'
import { sequentialScheduler } from './scheduler.js'
import { simulate } from './test-helpers/simulate.js'

describe('Hyperband', () => {
  it('plans the brackets of Li et al. (Table 1: R = 81, η = 3)', () => {
    const brackets = hyperbandBrackets({ maxResources: 81, minResources: 1, factor: 3 })
    expect(brackets.map((b) => [b.s, b.nCandidates, b.nResources])).toEqual([
      [4, [81, 27, 9, 3, 1], [1, 3, 9, 27, 81]],
      [3, [34, 11, 3, 1], [3, 9, 27, 81]],
      [2, [15, 5, 1], [9, 27, 81]],
      [1, [8, 2], [27, 81]],
      [0, [5], [81]],
    ])
  })

  it('runs every bracket as planned and completes the best of each bracket (serial and with 4 workers)', () => {
    for (const workers of [1, 4]) {
      const simulation = simulate(hyperbandScheduler({ maxResources: 27, minResources: 1, factor: 3 }), {
        propose: (n) => ({ p: (n * 37) % 101 }),
        score: (params, resource) => (params['p'] as number) + resource / 1000,
        workers,
      })
      const plan = hyperbandBrackets({ maxResources: 27, minResources: 1, factor: 3 })
      for (const [b, bracket] of plan.entries()) {
        const members = simulation.trials.filter((t) => t.bracket === b)
        expect(members.length).toBe(bracket.nCandidates[0])
        for (const [i, n] of bracket.nCandidates.entries()) {
          const runs = simulation.runs.filter((r) => members.some((t) => t.number === r.number) && r.rung === i)
          expect(runs.length).toBe(n)
          for (const run of runs) expect(run.resource).toBe(bracket.nResources[i])
        }
        const complete = members.filter((t) => t.state === 'complete')
        expect(complete.length).toBe(bracket.nCandidates[bracket.s])
        // The bracket's best candidate (scores only grow with p here) survives to its last rung.
        const best = Math.max(...members.map((t) => t.params['p'] as number))
        expect(complete.map((t) => t.params['p'])).toContain(best)
      }
      expect(simulation.trials.every((t) => t.state === 'complete' || t.state === 'pruned')).toBe(true)
    }
  })

  it('with a pace parameter, promotes the best of each learning-rate group and runs the same rungs', () => {
    // Slow learners (small lr) trail after a few rounds but end higher (as halving.test.ts's curve).
    const rates = Array.from({ length: 40 }, (_, i) => 0.01 * 30 ** (((i * 17) % 40) / 39))
    const curve = (lr: number, rounds: number) => (0.7 - 0.1 * Math.log10(lr / 0.01)) * (1 - Math.exp(-lr * rounds))
    const settings = { maxResources: 81, minResources: 3, factor: 3 }
    const run = (pace?: string) =>
      simulate(hyperbandScheduler({ ...settings, ...(pace === undefined ? {} : { pace }) }), {
        propose: (n) => ({ learningRate: rates[n % rates.length]! }),
        score: (params, resource) => curve(params['learningRate'] as number, resource),
        workers: 2,
      })
    const plain = run()
    const paced = run('learningRate')
    const shape = (s: typeof plain) =>
      s.runs.map((r) => [s.trials[r.number]!.bracket, r.rung, r.resource].join('/')).sort()
    expect(shape(paced)).toEqual(shape(plain))
    const bestAtFull = (s: typeof plain) =>
      Math.max(
        ...s.trials.filter((t) => t.state === 'complete').map((t) => curve(t.params['learningRate'] as number, 81)),
      )
    expect(bestAtFull(paced)).toBeGreaterThan(bestAtFull(plain))
  })

  it('stops creating brackets at the trial budget', () => {
    const simulation = simulate(hyperbandScheduler({ maxResources: 9, factor: 3, nTrials: 20 }), {
      propose: (n) => ({ p: n }),
      score: (params) => params['p'] as number,
    })
    // Brackets of 9, 5 and 3 candidates, then 3 of the next pass's 9.
    expect(simulation.trials.length).toBe(20)
    expect(new Set(simulation.trials.map((t) => t.bracket))).toEqual(new Set([0, 1, 2, 3]))
  })
})

describe('ASHA', () => {
  it('has rungs r·η^k ending at R', () => {
    expect(ashaRungs({ minResources: 1, maxResources: 27, nTrials: 1 })).toEqual([1, 3, 9, 27])
    expect(ashaRungs({ minResources: 2, maxResources: 30, nTrials: 1 })).toEqual([2, 6, 30])
    expect(() => ashaRungs({ minResources: 5, maxResources: 3, nTrials: 1 })).toThrow(/1 ≤ min resources ≤ max/)
  })

  it('promotes as soon as a rung allows: the best of the first three results goes up before a fourth trial starts', () => {
    const simulation = simulate(ashaScheduler({ minResources: 1, maxResources: 9, factor: 3, nTrials: 9 }), {
      propose: (n) => ({ p: [5, 9, 1, 7, 3, 8, 2, 6, 4][n]! }),
      score: (params) => params['p'] as number,
    })
    expect(simulation.runs.slice(0, 5)).toEqual([
      { number: 0, rung: 0, resource: 1 },
      { number: 1, rung: 0, resource: 1 },
      { number: 2, rung: 0, resource: 1 },
      { number: 1, rung: 1, resource: 3 },
      { number: 3, rung: 0, resource: 1 },
    ])
    // 9 trials at rung 0 → 3 promoted to rung 1 → 1 to rung 2 (the last): the best one.
    expect(simulation.runs.filter((r) => r.rung === 1).length).toBe(3)
    expect(simulation.trials.filter((t) => t.state === 'complete').map((t) => t.params['p'])).toEqual([9])
    expect(simulation.trials.filter((t) => t.state === 'pruned').length).toBe(8)
  })

  it('keeps every worker busy while trials remain (no rung waits for stragglers)', () => {
    const simulation = simulate(ashaScheduler({ minResources: 1, maxResources: 27, factor: 3, nTrials: 60 }), {
      propose: (n) => ({ p: (n * 53) % 97 }),
      score: (params) => params['p'] as number,
      workers: 4,
    })
    expect(simulation.trials.length).toBe(60)
    expect(simulation.trials.filter((t) => t.state === 'complete').length).toBeGreaterThanOrEqual(1)
    const best = Math.max(...simulation.trials.map((t) => t.params['p'] as number))
    expect(simulation.trials.find((t) => t.params['p'] === best)!.state).toBe('complete')
  })
})

describe('sequential', () => {
  it('runs nTrials trials at the full budget, requeued ones first', () => {
    const simulation = simulate(sequentialScheduler({ nTrials: 5, resource: 100 }), {
      propose: (n) => ({ p: n }),
      score: (params) => params['p'] as number,
      workers: 2,
    })
    expect(simulation.runs).toEqual([0, 1, 2, 3, 4].map((number) => ({ number, rung: 0, resource: 100 })))
    expect(simulation.trials.every((t) => t.state === 'complete')).toBe(true)
  })
})
