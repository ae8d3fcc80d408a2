/**
 * The conformance suite every {@link StudyStore} adapter runs from its own test file (SQLite, PostgreSQL): studies
 * created once and resumed, trials with params, per-rung scores, durations and states, decisions applied in the
 * claim transaction, leases, stale reports refused, and claims that never hand one trial to two workers, from one
 * connection or two. Process-level tests (two processes, SIGKILL and resume) live next to the runner.
 * @module
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isScalemlError } from '../../core/errors.js'
import { idleDecision, nextNumber, runDecision } from '../schedulers/scheduler.js'
import { categorical, integer, loguniform } from '../space.js'
import type { StudyDefinition, TrialRecord } from '../study.js'
import type { StudyStore } from './study-store.js'

/** A fresh, empty store for one test; `openAnother` opens a second connection to the same storage. */
export interface StudyStoreFixture {
  readonly store: StudyStore
  openAnother(): Promise<StudyStore>
  /** Called after the stores are closed. */
  dispose(): Promise<void>
}

const definition = (name: string): StudyDefinition => ({
  name,
  space: {
    learningRate: loguniform(0.01, 0.3),
    maxLeaves: integer(8, 256, { log: true }),
    maxDepth: categorical([null, 4, true, 'x']),
  },
  strategy: 'tpe',
  model: 'gbdt-classifier',
  metric: 'auc',
  direction: 'maximize',
  settings: { data: 'flights.parquet', cv: { kind: 'stratified', nSplits: 3 }, seed: 7 },
})

/** A decision that creates the next trial with `params` and runs it. */
const createAndRun = (params: Record<string, unknown>) => (trials: readonly TrialRecord[]) => {
  const number = nextNumber(trials)
  return runDecision(number, {
    create: [{ number, params: params as TrialRecord['params'], bracket: 0, rung: 0, resource: 100 }],
  })
}

const claimRequest = (owner: string, decide: (trials: readonly TrialRecord[]) => ReturnType<typeof runDecision>) => ({
  owner,
  leaseUntil: Date.now() + 60_000,
  now: Date.now(),
  decide,
})

/**
 * Registers the study-store conformance tests under `describe(label)`.
 *
 * @example
 * describeStudyStoreContract('sqlite', async () => {
 *   const home = await createTempHome('studies')
 *   const path = join(home.path, 'studies.db')
 *   return { store: await openSqliteStudyStore({ path }), openAnother: () => openSqliteStudyStore({ path }), dispose: () => home.remove() }
 * })
 */
export function describeStudyStoreContract(label: string, create: () => Promise<StudyStoreFixture>): void {
  describe(`${label} (study store contract)`, () => {
    let fixture: StudyStoreFixture
    let store: StudyStore
    const others: StudyStore[] = []
    beforeEach(async () => {
      fixture = await create()
      store = fixture.store
    })
    afterEach(async () => {
      for (const other of others.splice(0)) await other.close()
      await store.close()
      await fixture.dispose()
    })

    it('starts empty', async () => {
      expect(await store.listStudies()).toEqual([])
      expect(await store.readStudy('nope')).toBeUndefined()
      expect(typeof store.description).toBe('string')
    })

    it('creates a study once, refuses to create it again, and returns the stored definition on resume', async () => {
      expect(await store.openStudy(definition('s1'), { resume: false })).toEqual({
        created: true,
        definition: definition('s1'),
      })
      const again = await store.openStudy(definition('s1'), { resume: false }).catch((e: unknown) => e)
      expect(isScalemlError(again, 'INVALID_ARGUMENT')).toBe(true)
      expect((again as Error).message).toContain("The study 's1' already exists in")
      expect((again as Error).message).toContain('pass --resume')
      const changed = { ...definition('s1'), metric: 'logLoss' }
      expect(await store.openStudy(changed, { resume: true })).toEqual({ created: false, definition: definition('s1') })
      await store.openStudy(definition('a0'), { resume: true })
      expect(await store.listStudies()).toEqual(['a0', 's1'])
      const snapshot = await store.readStudy('s1')
      expect(snapshot?.definition).toEqual(definition('s1'))
      expect(snapshot?.trials).toEqual([])
      expect(snapshot!.createdAt).toBeGreaterThan(Date.now() - 60_000)
    })

    it('stores trials with their params, per-rung scores, durations and states', async () => {
      await store.openStudy(definition('s'), { resume: false })
      const params = { learningRate: 0.05, maxLeaves: 31, maxDepth: null, flag: true, name: 'x' }
      const claimed = await store.claim('s', claimRequest('w1', createAndRun(params)))
      expect(claimed.status).toBe('run')
      expect(claimed.trial).toMatchObject({ number: 0, params, state: 'running', owner: 'w1', rung: 0, resource: 100 })
      expect(claimed.trial!.leaseUntil).toBeGreaterThan(Date.now())
      expect(claimed.trial!.startedAt).toBeGreaterThan(0)
      const accepted = await store.report('s', {
        number: 0,
        owner: 'w1',
        now: Date.now(),
        outcome: { kind: 'rung', rung: 0, resource: 100, value: 0.71, seconds: 1.5, state: 'paused' },
      })
      expect(accepted).toBe(true)
      // Promote it and run the next rung; a NaN score round-trips as NaN.
      const promoted = await store.claim(
        's',
        claimRequest('w2', () =>
          runDecision(0, { transitions: [{ number: 0, state: 'waiting', rung: 1, resource: 300 }] }),
        ),
      )
      expect(promoted.trial).toMatchObject({ number: 0, state: 'running', owner: 'w2', rung: 1, resource: 300 })
      await store.report('s', {
        number: 0,
        owner: 'w2',
        now: Date.now(),
        outcome: { kind: 'rung', rung: 1, resource: 300, value: Number.NaN, seconds: 2.25, state: 'complete' },
      })
      const trial = (await store.readStudy('s'))!.trials[0]!
      expect(trial).toMatchObject({ number: 0, state: 'complete', rung: 1, resource: 300, params })
      expect(trial.owner).toBeUndefined()
      expect(trial.leaseUntil).toBeUndefined()
      expect(trial.finishedAt).toBeGreaterThan(0)
      expect(trial.rungs).toEqual([
        { rung: 0, resource: 100, value: 0.71, seconds: 1.5 },
        { rung: 1, resource: 300, value: Number.NaN, seconds: 2.25 },
      ])
    })

    it('records failures with their error', async () => {
      await store.openStudy(definition('s'), { resume: false })
      await store.claim('s', claimRequest('w', createAndRun({ a: 1 })))
      await store.report('s', {
        number: 0,
        owner: 'w',
        now: Date.now(),
        outcome: { kind: 'failed', error: 'INVALID_PARAM: bad', seconds: 0.1 },
      })
      const trial = (await store.readStudy('s'))!.trials[0]!
      expect(trial).toMatchObject({ state: 'failed', error: 'INVALID_PARAM: bad', rungs: [] })
    })

    it('applies every change of a decision, also when nothing is to run', async () => {
      await store.openStudy(definition('s'), { resume: false })
      const decision = idleDecision('done', {
        create: [0, 1, 2].map((number) => ({ number, params: { n: number }, bracket: 2, rung: 0, resource: 10 })),
      })
      expect(
        await store.claim(
          's',
          claimRequest('w', () => decision as ReturnType<typeof runDecision>),
        ),
      ).toEqual({
        status: 'done',
      })
      await store.claim('s', {
        ...claimRequest('w', () => idleDecision('wait', { transitions: [{ number: 1, state: 'pruned' }] }) as never),
      })
      const trials = (await store.readStudy('s'))!.trials
      expect(trials.map((t) => [t.number, t.state, t.bracket])).toEqual([
        [0, 'waiting', 2],
        [1, 'pruned', 2],
        [2, 'waiting', 2],
      ])
      // The scheduler sees the trials as stored, in number order, with their rungs.
      let seen: readonly TrialRecord[] = []
      await store.claim('s', {
        ...claimRequest('w', (trials) => {
          seen = trials
          return runDecision(2)
        }),
      })
      expect(seen.map((t) => t.number)).toEqual([0, 1, 2])
      expect((await store.readStudy('s'))!.trials[2]!.state).toBe('running')
    })

    it('refuses a report from a worker that no longer holds the trial, and renews only its own leases', async () => {
      await store.openStudy(definition('s'), { resume: false })
      await store.claim('s', claimRequest('w1', createAndRun({ a: 1 })))
      // The lease ran out: another worker requeues and takes the trial.
      await store.claim(
        's',
        claimRequest('w2', () => runDecision(0, { transitions: [{ number: 0, state: 'waiting' }] })),
      )
      const late = await store.report('s', {
        number: 0,
        owner: 'w1',
        now: Date.now(),
        outcome: { kind: 'rung', rung: 0, resource: 100, value: 1, seconds: 1, state: 'complete' },
      })
      expect(late).toBe(false)
      let trial = (await store.readStudy('s'))!.trials[0]!
      expect(trial).toMatchObject({ state: 'running', owner: 'w2', rungs: [] })
      const until = Date.now() + 3_600_000
      await store.renewLeases('s', 'w1', until)
      expect((await store.readStudy('s'))!.trials[0]!.leaseUntil).not.toBe(until)
      await store.renewLeases('s', 'w2', until)
      trial = (await store.readStudy('s'))!.trials[0]!
      expect(trial.leaseUntil).toBe(until)
    })

    it('never hands one trial to two concurrent claims, on one connection or two', async () => {
      await store.openStudy(definition('s'), { resume: false })
      const second = await fixture.openAnother()
      others.push(second)
      const claims = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          (i % 2 === 0 ? store : second).claim('s', claimRequest(`w${i}`, createAndRun({ i }))),
        ),
      )
      const numbers = claims.map((c) => c.trial!.number).sort((a, b) => a - b)
      expect(numbers).toEqual(Array.from({ length: 24 }, (_, i) => i))
      const trials = (await store.readStudy('s'))!.trials
      expect(trials.length).toBe(24)
      expect(new Set(trials.map((t) => t.owner)).size).toBe(24)
    })

    it('rolls a claim back when the decision cannot be applied', async () => {
      await store.openStudy(definition('s'), { resume: false })
      const failing = await store
        .claim('s', {
          ...claimRequest('w', () =>
            runDecision(5, { create: [{ number: 0, params: {}, bracket: 0, rung: 0, resource: 1 }] }),
          ),
        })
        .catch((e: unknown) => e)
      expect(failing).toBeInstanceOf(Error)
      expect((await store.readStudy('s'))!.trials).toEqual([])
    })
  })
}
