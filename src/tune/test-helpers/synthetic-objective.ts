/**
 * An objective for runner and executor tests: scores a configuration by a known formula of its params and budget,
 * optionally after sleeping, and appends `pid number rung` to a log file for every job it runs, so a test can tell
 * which process ran what. Loaded in worker threads through `createObjective`. Test-only.
 * @module
 */
import { appendFileSync } from 'node:fs'
import { threadId } from 'node:worker_threads'
import type { Objective, TrialJob } from '../executor.js'

/** Settings of the synthetic objective. */
export interface SyntheticPayload {
  /** Milliseconds each job takes. */
  readonly delayMs?: number
  /** File to append one line per job to. */
  readonly logFile?: string
  /** Configurations (by param `x`) whose jobs throw. */
  readonly failX?: number
}

/** Higher is better: the closer `x` to 0.3 and the larger the budget, the higher. */
export function syntheticValue(params: TrialJob['params'], resource: number): number {
  const x = Number(params['x'] ?? 0)
  return 1 - (x - 0.3) ** 2 - 1 / (1 + resource)
}

/** Builds the objective (the thread executor calls this in each worker). */
export function createObjective(payload: SyntheticPayload = {}): Objective {
  return {
    async evaluate(job) {
      if (payload.logFile !== undefined) appendFileSync(payload.logFile, `${process.pid} ${job.number} ${job.rung}\n`)
      if (payload.delayMs) await new Promise((resolve) => setTimeout(resolve, payload.delayMs))
      if (payload.failX !== undefined && job.params['x'] === payload.failX) throw new Error('synthetic failure')
      const warm = job.warmStart as { resource: number } | undefined
      return {
        value: syntheticValue(job.params, job.resource),
        seconds: (payload.delayMs ?? 0) / 1000,
        warmStart: { resource: job.resource },
        details: { threadId, continuedFrom: warm?.resource ?? -1 },
      }
    },
  }
}
