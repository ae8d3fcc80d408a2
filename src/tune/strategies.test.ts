import { describe, expect, it } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import { categorical, integer, loguniform } from './space.js'
import { buildSearch } from './strategies.js'

const space = { learningRate: loguniform(0.01, 0.3), maxLeaves: integer(8, 256, { log: true }) }
const rounds = { resource: 'rounds', nSplits: 3, nClasses: 2 } as const

describe('buildSearch defaults (scikit-learn 1.2)', () => {
  it("halving over random candidates starts from 'smallest' and exhausts the candidates (HalvingRandomSearchCV)", () => {
    // HalvingRandomSearchCV(n_candidates='exhaust', min_resources='smallest', factor=3, resource='n_estimators',
    // max_resources=100): min_resources_ = 1, n_candidates = 100 // 1, log3(100) → 5 rungs.
    const { plan, scheduler, plannedWork } = buildSearch(space, {
      strategy: 'halving',
      seed: 0,
      maxResources: 100,
      context: rounds,
    })
    expect(plan!.nResources).toEqual([1, 3, 9, 27, 81])
    expect(plan!.nCandidates).toEqual([100, 34, 12, 4, 2])
    expect(scheduler.maxResource).toBe(81)
    expect(plannedWork).toBe(100 * 1 + 34 * 3 + 12 * 9 + 4 * 27 + 2 * 81)
    // Over rows, 'smallest' is 2 × folds × classes (scikit-learn's n_samples rule).
    const rows = buildSearch(space, {
      strategy: 'halving',
      nTrials: 20,
      seed: 0,
      minResources: 'smallest',
      maxResources: 200_000,
      context: { ...rounds, resource: 'rows' },
    })
    expect(rows.plan!.nResources).toEqual([12, 36, 108])
  })

  it('with a number of candidates, exhausts the budget instead: the last rung trains on about all of it', () => {
    const { plan } = buildSearch(space, {
      strategy: 'halving',
      nTrials: 20,
      seed: 0,
      maxResources: 100,
      context: rounds,
    })
    // HalvingRandomSearchCV(n_candidates=20, min_resources='exhaust', max_resources=100, factor=3).
    expect(plan!.nResources).toEqual([11, 33, 99])
    expect(plan!.nCandidates).toEqual([20, 7, 3])
  })

  it("halving over a grid exhausts the resources (HalvingGridSearchCV's min_resources='exhaust')", () => {
    const grid = { maxLeaves: categorical([8, 16, 32, 64, 128, 256, 512, 1024, 2048]) }
    const { plan } = buildSearch(grid, {
      strategy: 'halving',
      sampler: 'grid',
      seed: 0,
      maxResources: 100,
      context: rounds,
    })
    expect(plan!.nCandidates).toEqual([9, 3, 1])
    expect(plan!.nResources).toEqual([11, 33, 99])
  })

  it("refuses 'exhaust' for both the candidates and the first budget, with scikit-learn's reason", () => {
    const error = (() => {
      try {
        buildSearch(space, {
          strategy: 'halving',
          seed: 0,
          minResources: 'exhaust',
          maxResources: 100,
          context: rounds,
        })
      } catch (e) {
        return e
      }
    })()
    expect(isScalemlError(error, 'INVALID_ARGUMENT')).toBe(true)
    expect((error as Error).message).toBe(
      "Successive halving cannot run: n_candidates and min_resources cannot be both set to 'exhaust'.",
    )
    const withTrials = buildSearch(space, {
      strategy: 'halving',
      nTrials: 20,
      seed: 0,
      minResources: 'exhaust',
      maxResources: 100,
      context: rounds,
    })
    expect(withTrials.plan!.nResources).toEqual([11, 33, 99])
    expect(withTrials.plan!.nCandidates).toEqual([20, 7, 3])
  })
})
