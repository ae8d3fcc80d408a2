/**
 * Runs a study to the end: claims work from the store (the scheduler decides inside the claim), hands each claimed
 * rung to the executor, reports the result, and repeats while the executor has room, until the scheduler says the
 * study is done. Any number of runners in any number of processes can work on one study at once; a runner that
 * starts on an interrupted study simply continues it (finished trials stay finished; a trial whose worker died is
 * run again, from the start of its rung).
 *
 * Trials held by a dead worker are found at claim time: a lease that ran out (the worker stopped renewing it), or
 * a worker on this host whose process no longer exists (a SIGKILLed run, seen at once rather than after the lease).
 *
 * What a paused trial's rung left for its next rung (the objective's warm start: models, boosting margins) is held
 * here, in memory, until the trial is promoted, pruned or completed, within a byte budget: a warm start that would
 * exceed it is dropped, and that trial's next rung trains from scratch (same result for the learners whose
 * continuation is exact, only slower).
 * @module
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { Executor, TrialJob, TrialJobResult } from './executor.js'
import type { Sampler } from './samplers/sampler.js'
import type { Decision, Scheduler, TrialTransition } from './schedulers/scheduler.js'
import type { SearchSpace } from './space.js'
import type { StudyStore } from './storage/study-store.js'
import { type Direction, observations, type TrialRecord } from './study.js'

/** What a runner reports as it goes. */
export type StudyEvent =
  | { readonly kind: 'start'; readonly number: number; readonly rung: number; readonly resource: number }
  | {
      readonly kind: 'finish'
      readonly number: number
      readonly rung: number
      readonly resource: number
      readonly value: number
      readonly seconds: number
      readonly final: boolean
    }
  | { readonly kind: 'fail'; readonly number: number; readonly rung: number; readonly error: string }
  | { readonly kind: 'requeue'; readonly number: number; readonly owner: string }
  | { readonly kind: 'prune'; readonly number: number }
  | { readonly kind: 'lost'; readonly number: number }

/** Options of {@link runStudy}. */
export interface RunStudyOptions {
  readonly store: StudyStore
  readonly study: string
  readonly space: SearchSpace
  readonly direction: Direction
  readonly scheduler: Scheduler
  readonly sampler: Sampler
  readonly executor: Executor
  /** This runner's id (default `host:pid:random`). */
  readonly owner?: string
  /** How long a claimed trial is held without renewal (default 60 s); renewed every third of it. */
  readonly leaseMs?: number
  /** Pause before claiming again when the scheduler waits for other processes' trials (default 250 ms). */
  readonly pollMs?: number
  /** Bytes of typed arrays the paused trials' warm starts may hold at once (default {@link WARM_START_BYTES}). */
  readonly warmStartBytes?: number
  readonly onEvent?: (event: StudyEvent) => void
}

/** What one runner did. */
export interface RunSummary {
  /** Rungs this runner ran to a result. */
  readonly ran: number
  readonly failed: number
  /** Trials of dead workers this runner put back in the queue. */
  readonly requeued: number
  /** Rungs that continued from their trial's previous rung. */
  readonly continued: number
  /** Warm starts dropped because they did not fit in the budget. */
  readonly warmStartsDropped: number
  /** Most bytes the warm starts held at once. */
  readonly warmStartPeakBytes: number
}

/** Default budget of the warm starts held between rungs: 1 GiB. */
export const WARM_START_BYTES = 2 ** 30

/** Bytes of the typed arrays and array buffers reachable from `value` (what holding it keeps alive). */
export function heldBytes(value: unknown, seen: Set<unknown> = new Set()): number {
  if (typeof value !== 'object' || value === null || seen.has(value)) return 0
  seen.add(value)
  if (ArrayBuffer.isView(value)) return value.byteLength
  if (value instanceof ArrayBuffer) return value.byteLength
  let total = 0
  for (const v of Array.isArray(value) ? value : Object.values(value)) total += heldBytes(v, seen)
  return total
}

/** A worker id that says where the worker runs: `host:pid:random`. */
export function workerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
}

/** True when the process `pid` exists (on this host). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * The running trials whose worker is gone: a lease that ran out, or an owner on this host whose process is dead.
 * Returned as transitions back to 'waiting'.
 */
export function staleTrials(trials: readonly TrialRecord[], now: number, self: string): TrialTransition[] {
  const host = hostname()
  const out: TrialTransition[] = []
  for (const t of trials) {
    if (t.state !== 'running' || t.owner === self) continue
    const expired = t.leaseUntil === undefined || t.leaseUntil < now
    const [ownerHost, ownerPid] = (t.owner ?? '').split(':')
    const dead =
      ownerHost === host &&
      ownerPid !== undefined &&
      ownerPid !== String(process.pid) &&
      !processAlive(Number(ownerPid))
    if (expired || dead) out.push({ number: t.number, state: 'waiting' })
  }
  return out
}

function withTransitions(trials: readonly TrialRecord[], transitions: readonly TrialTransition[]): TrialRecord[] {
  if (transitions.length === 0) return [...trials]
  const byNumber = new Map(transitions.map((t) => [t.number, t]))
  return trials.map((t) => {
    const change = byNumber.get(t.number)
    if (change === undefined) return t
    const { owner: _owner, leaseUntil: _lease, ...rest } = t
    return { ...rest, state: change.state, rung: change.rung ?? t.rung, resource: change.resource ?? t.resource }
  })
}

/**
 * Runs the study until its scheduler says it is done.
 * @example
 * await runStudy({ store, study: 'flights', space, direction: 'maximize', scheduler, sampler, executor })
 */
export async function runStudy(options: RunStudyOptions): Promise<RunSummary> {
  const { store, study, executor, scheduler, sampler, space, direction } = options
  const owner = options.owner ?? workerId()
  const leaseMs = options.leaseMs ?? 60_000
  const pollMs = options.pollMs ?? 250
  const emit = options.onEvent ?? (() => {})
  const inflight = new Map<number, Promise<void>>()
  // The state a trial's last rung left, for its next rung to continue from (kept in this process only).
  const warm = new Map<number, { readonly state: unknown; readonly bytes: number }>()
  const budget = options.warmStartBytes ?? WARM_START_BYTES
  let held = 0
  let peak = 0
  let dropped = 0
  let continued = 0
  const release = (number: number) => {
    held -= warm.get(number)?.bytes ?? 0
    warm.delete(number)
  }
  let ran = 0
  let failed = 0
  let requeued = 0

  const decide = (trials: readonly TrialRecord[]): Decision => {
    const stale = staleTrials(trials, Date.now(), owner)
    for (const s of stale) {
      requeued++
      release(s.number)
      emit({ kind: 'requeue', number: s.number, owner: trials.find((t) => t.number === s.number)?.owner ?? '' })
    }
    const current = withTransitions(trials, stale)
    let history: ReturnType<typeof observations> | undefined
    const decision = scheduler.decide(current, {
      direction,
      propose: (number) => {
        history ??= observations(current, direction)
        return sampler.sample({ space, number, history })
      },
    })
    for (const t of decision.transitions) {
      if (t.state !== 'pruned' && t.state !== 'complete') continue
      release(t.number)
      if (t.state === 'pruned') emit({ kind: 'prune', number: t.number })
    }
    return stale.length === 0 ? decision : { ...decision, transitions: [...stale, ...decision.transitions] }
  }

  const runOne = async (trial: TrialRecord): Promise<void> => {
    const job: TrialJob = {
      study,
      number: trial.number,
      params: trial.params,
      rung: trial.rung,
      resource: trial.resource,
      ...(warm.has(trial.number) ? { warmStart: warm.get(trial.number)!.state } : {}),
    }
    if (warm.has(trial.number)) continued++
    release(trial.number)
    emit({ kind: 'start', number: trial.number, rung: trial.rung, resource: trial.resource })
    const started = performance.now()
    let result: TrialJobResult
    try {
      result = await executor.run(job)
    } catch (error) {
      const seconds = (performance.now() - started) / 1000
      const code = (error as { code?: unknown }).code
      const message = `${typeof code === 'string' ? `${code}: ` : ''}${error instanceof Error ? error.message : String(error)}`
      failed++
      emit({ kind: 'fail', number: trial.number, rung: trial.rung, error: message })
      await store.report(study, {
        number: trial.number,
        owner,
        now: Date.now(),
        outcome: { kind: 'failed', error: message, seconds },
      })
      return
    }
    const final = scheduler.isFinalRung(trial.bracket, trial.rung)
    const accepted = await store.report(study, {
      number: trial.number,
      owner,
      now: Date.now(),
      outcome: {
        kind: 'rung',
        rung: trial.rung,
        resource: trial.resource,
        value: result.value,
        seconds: result.seconds,
        state: final ? 'complete' : 'paused',
      },
    })
    if (!accepted) {
      emit({ kind: 'lost', number: trial.number })
      return
    }
    ran++
    if (!final && result.warmStart !== undefined) {
      const bytes = heldBytes(result.warmStart)
      if (held + bytes <= budget) {
        warm.set(trial.number, { state: result.warmStart, bytes })
        held += bytes
        peak = Math.max(peak, held)
      } else dropped++
    }
    emit({
      kind: 'finish',
      number: trial.number,
      rung: trial.rung,
      resource: trial.resource,
      value: result.value,
      seconds: result.seconds,
      final,
    })
  }

  const heartbeat = setInterval(
    () => {
      if (inflight.size > 0) void store.renewLeases(study, owner, Date.now() + leaseMs).catch(() => undefined)
    },
    Math.max(50, Math.floor(leaseMs / 3)),
  )
  heartbeat.unref()
  try {
    for (;;) {
      let status: 'wait' | 'done' | undefined
      while (inflight.size < executor.concurrency) {
        const now = Date.now()
        const claim = await store.claim(study, { owner, leaseUntil: now + leaseMs, now, decide })
        if (claim.status !== 'run') {
          status = claim.status
          break
        }
        const number = claim.trial.number
        inflight.set(
          number,
          runOne(claim.trial).finally(() => inflight.delete(number)),
        )
      }
      if (inflight.size > 0) {
        await Promise.race(inflight.values())
        continue
      }
      if (status === 'done') break
      await new Promise((resolve) => setTimeout(resolve, pollMs))
    }
  } finally {
    clearInterval(heartbeat)
    await Promise.allSettled(inflight.values())
  }
  return { ran, failed, requeued, continued, warmStartsDropped: dropped, warmStartPeakBytes: peak }
}
