/**
 * Runs trial jobs on a pool of worker threads (`--parallel N`). Each worker builds its own objective once, from a
 * module URL and a payload (structured-cloneable: a loaded dataset travels as SharedArrayBuffer-backed arrays, so N
 * workers share one copy), then runs one job at a time. A worker that dies fails its job and is replaced.
 * @module
 */
import type { Worker } from 'node:worker_threads'
import { siblingModule, startModuleWorker } from '../../infra/worker.js'
import type { Executor, TrialJob, TrialJobResult } from '../executor.js'

/** Options of {@link threadExecutor}. */
export interface ThreadExecutorOptions {
  /** Worker threads (≥ 1). */
  readonly workers: number
  /**
   * A module exporting `createObjective(payload): Objective | Promise<Objective>`, imported by every worker (a
   * `.ts` module works from sources, as `startModuleWorker` runs it through tsx).
   */
  readonly module: URL
  /** Handed to `createObjective` in every worker (structured clone; SharedArrayBuffers are shared). */
  readonly payload: unknown
}

/** Messages between the pool and a worker. */
export type WorkerRequest = { readonly id: number; readonly job: TrialJob }
export type WorkerResponse =
  | { readonly id: number; readonly ok: true; readonly result: TrialJobResult }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly code?: string }

/** An error a worker reported for a job (its code kept, so a ScalemlError's code reaches the trial's record). */
export class TrialJobError extends Error {
  override readonly name = 'TrialJobError'
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message)
  }
}

interface Slot {
  worker: Worker
  busy?: { id: number; resolve: (r: TrialJobResult) => void; reject: (e: Error) => void }
}

/**
 * A pool of `workers` threads.
 * @example
 * const executor = threadExecutor({ workers: 2, module: new URL('./tabular-objective.js', import.meta.url), payload })
 */
export function threadExecutor(options: ThreadExecutorOptions): Executor {
  if (!Number.isInteger(options.workers) || options.workers < 1) {
    throw new RangeError(`threadExecutor: workers must be a whole number ≥ 1, got ${options.workers}`)
  }
  const entry = siblingModule(import.meta.url, 'trial-worker')
  const queue: { job: TrialJob; resolve: (r: TrialJobResult) => void; reject: (e: Error) => void }[] = []
  const slots: Slot[] = []
  let nextId = 0
  let closed = false

  const start = (): Slot => {
    const slot: Slot = {
      worker: startModuleWorker(entry, { workerData: { module: options.module.href, payload: options.payload } }),
    }
    slot.worker.on('message', (message: WorkerResponse) => {
      const busy = slot.busy
      if (busy === undefined || busy.id !== message.id) return
      slot.busy = undefined
      if (message.ok) busy.resolve(message.result)
      else busy.reject(new TrialJobError(message.message, message.code))
      dispatch()
    })
    const fail = (why: string) => {
      const busy = slot.busy
      slot.busy = undefined
      const i = slots.indexOf(slot)
      if (i >= 0) slots.splice(i, 1)
      busy?.reject(new TrialJobError(why))
      if (!closed) {
        slots.push(start())
        dispatch()
      }
    }
    slot.worker.on('error', (error) => fail(`worker thread failed: ${error.message}`))
    slot.worker.on('exit', (code) => {
      if (slots.includes(slot)) fail(`worker thread exited with code ${code}`)
    })
    return slot
  }

  const dispatch = () => {
    for (const slot of slots) {
      if (slot.busy !== undefined) continue
      const next = queue.shift()
      if (next === undefined) return
      const id = nextId++
      slot.busy = { id, resolve: next.resolve, reject: next.reject }
      slot.worker.postMessage({ id, job: next.job } satisfies WorkerRequest)
    }
  }

  for (let i = 0; i < options.workers; i++) slots.push(start())
  return {
    concurrency: options.workers,
    run(job) {
      if (closed) return Promise.reject(new Error('threadExecutor: closed'))
      return new Promise<TrialJobResult>((resolve, reject) => {
        queue.push({ job, resolve, reject })
        dispatch()
      })
    },
    async close() {
      if (closed) return
      closed = true
      const all = slots.splice(0)
      for (const pending of queue.splice(0)) pending.reject(new Error('threadExecutor: closed'))
      await Promise.all(all.map((s) => s.worker.terminate()))
    },
  }
}
