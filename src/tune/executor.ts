/**
 * How trials run: the `Executor` interface, and the in-process executor. A job is plain data (the trial's number,
 * configuration, rung and budget, and optionally the state its previous rung left), so an executor can run it here,
 * on a worker thread (`executors/threads.ts`), or hand it to a queue whose workers on other machines run the same
 * objective (BullMQ on Redis: a later executor, which plugs in unchanged because the runner only calls `run`).
 * The executor knows nothing about studies or stores: the runner claims, the executor runs, the runner reports.
 * @module
 */
import type { ParamValues } from './space.js'

/** One run of one rung of one trial. */
export interface TrialJob {
  readonly study: string
  readonly number: number
  readonly params: ParamValues
  readonly rung: number
  /** The budget of the rung (rows, epochs or boosting rounds, by the objective's resource). */
  readonly resource: number
  /**
   * What the trial's previous rung left for this one to continue from (an objective's own data: a model's JSON);
   * absent on a trial's first rung, after a resume, or when the objective keeps nothing.
   */
  readonly warmStart?: unknown
}

/** What a job produced. */
export interface TrialJobResult {
  /** The objective's value (the metric, e.g. mean AUC over the folds). */
  readonly value: number
  /** Wall seconds of the job. */
  readonly seconds: number
  /** State for the next rung of this trial to continue from. */
  readonly warmStart?: unknown
  /** Side figures for reports (per-fold scores, rows trained). */
  readonly details?: Readonly<Record<string, number>>
}

/** Scores configurations: what every executor eventually calls. */
export interface Objective {
  evaluate(job: TrialJob): Promise<TrialJobResult>
  /** Releases what the objective holds (worker-side caches); optional. */
  close?(): Promise<void>
}

/** Runs trial jobs. A rejected `run` is a failed trial; its message is stored with it. */
export interface Executor {
  /** Jobs it runs at once: the runner keeps that many claimed. */
  readonly concurrency: number
  run(job: TrialJob): Promise<TrialJobResult>
  /** Stops its workers; idempotent. */
  close(): Promise<void>
}

/**
 * Runs jobs one at a time in this thread.
 * @example
 * const executor = inlineExecutor(objective)
 * const result = await executor.run({ study: 's', number: 0, params: { alpha: 1e-4 }, rung: 0, resource: 3 })
 */
export function inlineExecutor(objective: Objective): Executor {
  return {
    concurrency: 1,
    run: (job) => objective.evaluate(job),
    close: async () => {
      await objective.close?.()
    },
  }
}
