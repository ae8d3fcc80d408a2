import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTempHome, type TempHome } from '../testing/temp-home.js'
import { inlineExecutor } from './executor.js'
import { threadExecutor } from './executors/threads.js'
import { runStudy, type StudyEvent, staleTrials } from './runner.js'
import { uniform } from './space.js'
import { openSqliteStudyStore } from './storage/sqlite.js'
import type { StudyStore } from './storage/study-store.js'
import { buildSearch, type SearchSettings, type Strategy } from './strategies.js'
import { bestTrial, type StudyDefinition, type TrialRecord } from './study.js'
import { createObjective, syntheticValue } from './test-helpers/synthetic-objective.js'

const space = { x: uniform(0, 1) }
let home: TempHome
let store: StudyStore

beforeEach(async () => {
  home = await createTempHome('tune-runner')
  store = await openSqliteStudyStore({ path: join(home.path, 'studies.db') })
})
afterEach(async () => {
  await store.close()
  await home.remove()
})

const definition = (name: string, strategy: string): StudyDefinition => ({
  name,
  space,
  strategy,
  model: 'synthetic',
  metric: 'value',
  direction: 'maximize',
  settings: {},
})

async function run(strategy: Strategy, extra: Partial<SearchSettings> = {}, events: StudyEvent[] = []) {
  await store.openStudy(definition(strategy, strategy), { resume: false })
  const { sampler, scheduler } = buildSearch(space, {
    strategy,
    seed: 3,
    maxResources: 27,
    minResources: 1,
    context: { resource: 'epochs', nSplits: 3 },
    ...extra,
  })
  const summary = await runStudy({
    store,
    study: strategy,
    space,
    direction: 'maximize',
    sampler,
    scheduler,
    executor: inlineExecutor(createObjective()),
    onEvent: (e) => events.push(e),
  })
  return { summary, trials: (await store.readStudy(strategy))!.trials }
}

describe('runStudy', () => {
  it.each(['random', 'tpe'] as const)('%s: runs nTrials trials at the full budget, each once', async (strategy) => {
    const { summary, trials } = await run(strategy, { nTrials: 12 })
    expect(summary).toMatchObject({ ran: 12, failed: 0, requeued: 0, continued: 0 })
    expect(trials.map((t) => t.state)).toEqual(new Array(12).fill('complete'))
    for (const t of trials) {
      expect(t.rungs).toEqual([{ rung: 0, resource: 27, value: syntheticValue(t.params, 27), seconds: 0 }])
    }
  })

  it('grid: runs the whole grid', async () => {
    const { trials } = await run('grid', { gridPoints: 4 })
    expect(trials.map((t) => t.params['x'])).toEqual([0, 1 / 3, 2 / 3, 1])
  })

  it('halving: runs scikit-learn’s rungs and continues each survivor from its previous rung', async () => {
    const events: StudyEvent[] = []
    const { trials, summary } = await run('halving', { nTrials: 9, factor: 3, minResources: 3 }, events)
    expect(trials.length).toBe(9)
    expect(summary).toMatchObject({ continued: 3 + 1, warmStartsDropped: 0 })
    expect(trials.filter((t) => t.state === 'complete').length).toBe(1)
    expect(trials.filter((t) => t.state === 'pruned').length).toBe(8)
    const finishes = events.filter((e) => e.kind === 'finish')
    expect(finishes.map((e) => e.resource)).toEqual([...new Array(9).fill(3), 9, 9, 9, 27])
    // The winner is the candidate closest to x = 0.3.
    const best = bestTrial(trials, 'maximize')!
    const closest = [...trials].sort(
      (a, b) => Math.abs((a.params['x'] as number) - 0.3) - Math.abs((b.params['x'] as number) - 0.3),
    )[0]!
    expect(best.number).toBe(closest.number)
    expect(best.rungs.map((r) => r.resource)).toEqual([3, 9, 27])
  })

  it('hyperband and asha: stop poor trials early and complete the best', async () => {
    const hb = await run('hyperband', { factor: 3 })
    expect(hb.trials.length).toBe(27 + 12 + 6 + 4)
    expect(hb.trials.every((t) => t.state === 'complete' || t.state === 'pruned')).toBe(true)
    await store.close()
    store = await openSqliteStudyStore({ path: join(home.path, 'asha.db') })
    const asha = await run('asha', { nTrials: 30, factor: 3 })
    expect(asha.trials.length).toBe(30)
    const complete = asha.trials.filter((t) => t.state === 'complete')
    expect(complete.length).toBeGreaterThanOrEqual(1)
    for (const t of complete) expect(t.rungs.map((r) => r.resource)).toEqual([1, 3, 9, 27])
  })

  it('records failed trials and carries on', async () => {
    await store.openStudy(definition('f', 'grid'), { resume: false })
    const { sampler, scheduler } = buildSearch(space, {
      strategy: 'grid',
      seed: 0,
      gridPoints: 3,
      maxResources: 5,
      context: { resource: 'epochs', nSplits: 3 },
    })
    const summary = await runStudy({
      store,
      study: 'f',
      space,
      direction: 'maximize',
      sampler,
      scheduler,
      executor: inlineExecutor(createObjective({ failX: 0.5 })),
    })
    expect(summary).toMatchObject({ ran: 2, failed: 1, requeued: 0, continued: 0 })
    const failed = (await store.readStudy('f'))!.trials.find((t) => t.state === 'failed')!
    expect(failed.params['x']).toBe(0.5)
    expect(failed.error).toBe('synthetic failure')
  })

  it('runs trials on worker threads, and a worker’s result continues the next rung', async () => {
    await store.openStudy(definition('threads', 'asha'), { resume: false })
    const { sampler, scheduler } = buildSearch(space, {
      strategy: 'halving',
      nTrials: 9,
      seed: 0,
      factor: 3,
      minResources: 3,
      maxResources: 27,
      context: { resource: 'epochs', nSplits: 3 },
    })
    const executor = threadExecutor({
      workers: 3,
      module: new URL('./test-helpers/synthetic-objective.ts', import.meta.url),
      payload: { delayMs: 20 },
    })
    try {
      const seen: number[] = []
      const original = executor.run
      const results: Awaited<ReturnType<typeof original>>[] = []
      const counting = {
        ...executor,
        run: async (job: Parameters<typeof original>[0]) => {
          const result = await original(job)
          seen.push(job.number)
          results.push(result)
          return result
        },
      }
      await runStudy({ store, study: 'threads', space, direction: 'maximize', sampler, scheduler, executor: counting })
      expect(seen.length).toBe(9 + 3 + 1)
      const threads = new Set(results.map((r) => r.details!['threadId']))
      expect(threads.has(0)).toBe(false)
      expect(threads.size).toBeGreaterThan(1)
      // Rungs after the first continue from the budget their previous rung reached.
      expect(results.filter((r) => r.details!['continuedFrom'] !== -1).map((r) => r.details!['continuedFrom'])).toEqual(
        [3, 3, 3, 9],
      )
    } finally {
      await executor.close()
    }
  })
})

describe('staleTrials', () => {
  const trial = (over: Partial<TrialRecord>): TrialRecord => ({
    number: 0,
    params: {},
    state: 'running',
    bracket: 0,
    rung: 0,
    resource: 1,
    rungs: [],
    ...over,
  })

  it('requeues trials whose lease ran out or whose process on this host is gone, never live ones', async () => {
    const { hostname } = await import('node:os')
    const now = Date.now()
    const trials = [
      trial({ number: 0, owner: 'other-host:1:a', leaseUntil: now - 1 }),
      trial({ number: 1, owner: 'other-host:1:a', leaseUntil: now + 10_000 }),
      trial({ number: 2, owner: `${hostname()}:${2 ** 22 + 12345}:a`, leaseUntil: now + 10_000 }),
      trial({ number: 3, owner: `${hostname()}:${process.pid}:b`, leaseUntil: now + 10_000 }),
      trial({ number: 4, owner: 'me', leaseUntil: now - 1 }),
      trial({ number: 5, state: 'paused', owner: undefined }),
    ]
    expect(staleTrials(trials, now, 'me').map((t) => t.number)).toEqual([0, 2])
  })
})
