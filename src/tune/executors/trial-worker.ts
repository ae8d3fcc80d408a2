/**
 * The entry of a trial worker thread: imports the objective module named in `workerData`, builds the objective
 * from the payload once, then answers each job message with its result or its error. Started by `threads.ts`.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { Objective } from '../executor.js'
import type { WorkerRequest, WorkerResponse } from './threads.js'

const { module, payload } = workerData as { module: string; payload: unknown }
const objective: Promise<Objective> = import(module).then(
  (m: { createObjective(payload: unknown): Objective | Promise<Objective> }) => m.createObjective(payload),
)
// A module that fails to load fails each job with its error; it must not kill the thread (the pool would restart it
// in a loop).
objective.catch(() => undefined)

parentPort?.on('message', async ({ id, job }: WorkerRequest) => {
  let response: WorkerResponse
  try {
    response = { id, ok: true, result: await (await objective).evaluate(job) }
  } catch (error) {
    const code = (error as { code?: unknown }).code
    response = {
      id,
      ok: false,
      message: error instanceof Error ? error.message : String(error),
      ...(typeof code === 'string' ? { code } : {}),
    }
  }
  parentPort?.postMessage(response)
})
