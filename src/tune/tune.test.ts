import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import { TreeGrower } from '../models/trees/tree-grower.js'
import { writeSyntheticFlights } from '../testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../testing/temp-home.js'
import { trainJob } from '../train/job.js'
import { categorical, integer, loguniform } from './space.js'
import { defaultPace, refitOptions, type TuneEvent, tune } from './tune.js'

let tmp: TempHome
let data: string
let storage: string

beforeAll(async () => {
  tmp = await createTempHome('tune-lib')
  data = join(tmp.path, 'flights.parquet')
  storage = join(tmp.path, 'studies.db')
  await writeSyntheticFlights(data, { rows: 4000, seed: 8 })
})
afterAll(async () => {
  await tmp?.remove()
})

const gbdtSpace = { learningRate: loguniform(0.05, 0.3), maxLeaves: integer(4, 32, { log: true }) }

describe('tune', () => {
  it('runs TPE on GBDT, finds a good configuration, and refits it on all training rows', async () => {
    const events: TuneEvent[] = []
    const result = await tune({
      data,
      target: 'delay > 15',
      model: 'gbdt',
      space: gbdtSpace,
      strategy: 'tpe',
      trials: 4,
      resource: 'rounds',
      maxResources: 20,
      holdout: 'random:0.2',
      study: 'tpe-gbdt',
      storage,
      onEvent: (e) => events.push(e),
    })
    expect(result.modelKind).toBe('gbdt-classifier')
    expect(result.trials.length).toBe(4)
    expect(result.trials.every((t) => t.state === 'complete')).toBe(true)
    expect(result.best!.rungs[0]!.value).toBe(Math.max(...result.trials.map((t) => t.rungs[0]!.value)))
    expect(result.best!.rungs[0]!.value).toBeGreaterThan(0.65)
    expect(events[0]).toMatchObject({ kind: 'loaded', modelKind: 'gbdt-classifier' })
    expect(events.filter((e) => e.kind === 'finish').length).toBe(4)
    // The holdout rows were not loaded.
    expect(result.rows).toBeLessThan(3400)

    const refit = await trainJob(refitOptions({ data, target: 'delay > 15', holdout: 'random:0.2' }, result))
    expect(refit.modelKind).toBe('gbdt-classifier')
    expect(refit.params['nEstimators']).toBe(20)
    expect(refit.params['learningRate']).toBe(result.best!.params['learningRate'])
    expect(refit.metrics['auc']).toBeGreaterThan(0.65)
  })

  it('halves GBDT over boosting rounds by default; survivors continue boosting instead of refitting', async () => {
    const grow = vi.spyOn(TreeGrower.prototype, 'grow')
    try {
      const result = await tune({
        data,
        target: 'delay > 15',
        model: 'gbdt',
        space: gbdtSpace,
        strategy: 'halving',
        trials: 9,
        minResources: 'exhaust',
        maxResources: 27,
        study: 'halving-rounds',
        storage,
      })
      expect(result.definition.settings['resource']).toBe('rounds')
      // Rungs keep the best among learning-rate neighbours (defaultPace), since the space searches the rate.
      expect(result.definition.settings['pace']).toBe('learningRate')
      expect(result.best!.rungs.map((r) => r.resource)).toEqual([3, 9, 27])
      expect(result.trials.filter((t) => t.state === 'complete').length).toBe(1)
      // 9 candidates × 3 rounds, then 3 survivors grow 6 more rounds and 1 grows 18 more, on each of 3 folds
      // (refitting would grow 3 × (27 + 27 + 27) = 243 trees).
      expect(grow).toHaveBeenCalledTimes(3 * (9 * 3 + 3 * 6 + 1 * 18))
      expect(result.run).toMatchObject({ ran: 9 + 3 + 1, continued: 3 + 1, warmStartsDropped: 0 })
      expect(result.run.warmStartPeakBytes).toBeGreaterThan(0)
      // The winner is refit with the rounds it was scored at.
      expect(refitOptions({ data, target: 'delay > 15' }, result).params?.['nEstimators']).toBe(27)
    } finally {
      grow.mockRestore()
    }
  })

  it('drops warm starts beyond the memory budget (those survivors refit), and continues across worker threads: same scores', async () => {
    const common = {
      data,
      target: 'delay > 15',
      model: 'gbdt',
      space: gbdtSpace,
      strategy: 'halving',
      trials: 9,
      minResources: 'exhaust',
      maxResources: 27,
      storage,
    } as const
    const tight = await tune({ ...common, study: 'halving-tight', warmStartBytes: 1 })
    const roomy = await tune({ ...common, study: 'halving-roomy' })
    const threads = await tune({ ...common, study: 'halving-threads', parallel: 2 })
    expect(tight.run).toMatchObject({ continued: 0, warmStartsDropped: 9 + 3, warmStartPeakBytes: 0 })
    expect(roomy.run.continued).toBe(4)
    expect(threads.run.continued).toBe(4)
    const values = (r: typeof tight) => r.trials.map((t) => t.rungs.map((g) => g.value))
    expect(values(tight)).toEqual(values(roomy))
    expect(values(threads)).toEqual(values(roomy))
  })

  it('halves an SGD search over rows on two worker threads', async () => {
    const result = await tune({
      data,
      target: 'delay > 15',
      model: 'sgd',
      space: { alpha: loguniform(1e-5, 1e-1), penalty: categorical(['l2', 'l1']) },
      strategy: 'halving',
      trials: 9,
      factor: 3,
      minResources: 300,
      parallel: 2,
      study: 'halving-sgd',
      storage,
    })
    const byState = (s: string) => result.trials.filter((t) => t.state === s).length
    expect(result.trials.length).toBe(9)
    expect(byState('pruned') + byState('complete')).toBe(9)
    expect(byState('complete')).toBeGreaterThanOrEqual(1)
    expect(result.best!.rungs.map((r) => r.resource)).toEqual([300, 900, 2700])
    expect(result.run.ran).toBe(9 + 3 + 1)
  })

  it('resumes a finished study without running anything again, and refuses another space', async () => {
    const again = await tune({
      data,
      target: 'delay > 15',
      model: 'gbdt',
      space: gbdtSpace,
      strategy: 'tpe',
      trials: 4,
      resource: 'rounds',
      maxResources: 20,
      holdout: 'random:0.2',
      study: 'tpe-gbdt',
      storage,
      resume: true,
    })
    expect(again.created).toBe(false)
    expect(again.run.ran).toBe(0)
    expect(again.trials.length).toBe(4)

    const changed = await tune({
      data,
      target: 'delay > 15',
      model: 'gbdt',
      space: { ...gbdtSpace, learningRate: loguniform(0.01, 0.3) },
      strategy: 'tpe',
      trials: 4,
      study: 'tpe-gbdt',
      storage,
      resume: true,
    }).catch((e: unknown) => e)
    expect(isScalemlError(changed, 'INVALID_ARGUMENT')).toBe(true)
    expect((changed as Error).message).toContain("The study 'tpe-gbdt' was started with other settings")
    expect((changed as Error).message).toContain(
      `search space: 'learningRate' changed from {"type":"loguniform","low":0.05,"high":0.3} to {"type":"loguniform","low":0.01,"high":0.3}`,
    )
    const exists = await tune({
      data,
      target: 'delay > 15',
      model: 'gbdt',
      space: gbdtSpace,
      strategy: 'tpe',
      trials: 4,
      study: 'tpe-gbdt',
      storage,
    }).catch((e: unknown) => e)
    expect((exists as Error).message).toMatch(/already exists .*; pass --resume/)
  })

  it('compares learning-rate neighbours only over boosting rounds, and refuses a pace parameter the space lacks', async () => {
    expect(defaultPace('rounds', gbdtSpace)).toBe('learningRate')
    expect(defaultPace('rows', gbdtSpace)).toBeNull()
    expect(defaultPace('rounds', { maxLeaves: integer(4, 32) })).toBeNull()
    expect(defaultPace('rounds', { learningRate: categorical([0.1]), maxLeaves: integer(4, 32) })).toBeNull()
    expect(defaultPace('rounds', { learningRate: categorical([0.1, 0.2]) })).toBe('learningRate')
    const error = await tune({
      data,
      target: 'delay > 15',
      model: 'gbdt',
      space: gbdtSpace,
      strategy: 'halving',
      trials: 3,
      pace: 'lambda',
      study: 'pace-missing',
      storage,
    }).catch((e: unknown) => e)
    expect(isScalemlError(error) && error.code).toBe('INVALID_ARGUMENT')
    expect((error as Error).message).toBe(
      '--pace-param lambda is not in the search space; name a searched parameter (learningRate, maxLeaves) or none.',
    )
  })

  it('refuses a parameter the model does not have before reading any data', async () => {
    const error = await tune({
      data: join(tmp.path, 'missing.parquet'),
      target: 'delay > 15',
      model: 'gbdt',
      space: { learningRate: loguniform(0.01, 0.3), leaves: integer(2, 8) },
      strategy: 'random',
      trials: 2,
      storage,
    }).catch((e: unknown) => e)
    expect(isScalemlError(error, 'INVALID_PARAM')).toBe(true)
    expect((error as Error).message).toContain("The search space names 'leaves', which gbdt-classifier does not have")
  })
})
