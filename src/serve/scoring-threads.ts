/**
 * Helper threads for batch scoring: each holds the model (its JSON copied once, when the thread starts) and scores
 * the batch slices it is given with the same {@link createBatchScorer} as the main thread. Batch scoring splits a
 * batch by rows between the main thread and the helpers; scores are row by row, so the output does not depend on
 * the split. A helper that fails rejects its slices, and so the scoring run.
 * @module
 */
import type { Worker } from 'node:worker_threads'
import { ERROR_CODES, type ErrorCode, ScalemlError } from '../core/errors.js'
import type { Batch } from '../data/batch.js'
import { siblingModule, startModuleWorker } from '../infra/worker.js'
import type { ScoredBatch } from './batch-scorer.js'
import type { ServableModel } from './predictor.js'

/** What a scoring thread starts with (`workerData`). */
export interface ScoringThreadData {
  readonly manifest: ServableModel['manifest']
  readonly pipeline: unknown
  readonly model: unknown
  readonly contributions: boolean
}

/** Main → thread: score this batch (its buffers are transferred). */
export interface ScoringRequest {
  readonly id: number
  readonly batch: Batch
}

/** Thread → main: loaded (id 0), the scores of request `id`, or an error. */
export type ScoringReply =
  | { readonly id: number; readonly ready: true }
  | { readonly id: number; readonly values: readonly Float64Array[]; readonly contributions: Float64Array | undefined }
  | { readonly id: number; readonly error: { readonly message: string; readonly code?: string } }

/** Started helper threads. */
export interface ScoringThreads {
  /** Number of helper threads. */
  readonly threads: number
  /** True once every thread holds the model (scoring before that waits). */
  readonly ready: boolean
  /** Scores `batch` on helper `index` (its buffers are transferred: the caller must not use them after). */
  score(index: number, batch: Batch): Promise<ScoredBatch>
  /** Stops the threads; pending scores are rejected. Idempotent. */
  close(): Promise<void>
}

const THREAD_MODULE = siblingModule(import.meta.url, 'scoring-thread')

interface Helper {
  readonly worker: Worker
  readonly pending: Map<
    number,
    { resolve: (scored: Omit<ScoredBatch, 'rows'>) => void; reject: (error: unknown) => void }
  >
  readonly loaded: Promise<void>
  ready: boolean
  failure: Error | undefined
}

/** Request ids (0 is the thread's 'loaded' reply). */
let nextRequestId = 1

/** Sends `batch` to `helper` (transferring its buffers) and resolves with its scores. */
function post(helper: Helper, batch: Batch): Promise<ScoredBatch> {
  const id = nextRequestId++
  if (helper.failure !== undefined) return Promise.reject(helper.failure)
  const rows = batch.length
  const scored = new Promise<Omit<ScoredBatch, 'rows'>>((resolve, reject) =>
    helper.pending.set(id, { resolve, reject }),
  )
  helper.worker.postMessage({ id, batch } satisfies ScoringRequest, transferables(batch))
  return scored.then((s) => ({ rows, ...s }))
}

/**
 * Starts `threads` helper threads for `servable`, each loading the model in the background.
 *
 * @example
 * const helpers = startScoringThreads(servable, { threads: 1, contributions: false })
 * const scored = await helpers.score(0, sliceBatch(batch, half, batch.length))
 * await helpers.close()
 */
export function startScoringThreads(
  servable: ServableModel,
  options: { readonly threads: number; readonly contributions: boolean },
): ScoringThreads {
  const data: ScoringThreadData = {
    manifest: servable.manifest,
    pipeline: servable.pipeline.toJSON(),
    model: servable.model.toJSON(),
    contributions: options.contributions,
  }
  let closed = false
  let loadedCount = 0
  const helpers: Helper[] = []
  for (let i = 0; i < options.threads; i++) {
    const worker = startModuleWorker(THREAD_MODULE, { workerData: data })
    const pending: Helper['pending'] = new Map()
    let markLoaded: () => void = () => {}
    let failLoad: (error: Error) => void = () => {}
    const loaded = new Promise<void>((resolve, reject) => {
      markLoaded = resolve
      failLoad = reject
    })
    // A load failure surfaces through score(), not as an unhandled rejection.
    loaded.catch(() => {})
    const helper: Helper = { worker, pending, loaded, ready: false, failure: undefined }
    const fail = (error: Error) => {
      helper.failure ??= error
      failLoad(error)
      for (const p of pending.values()) p.reject(error)
      pending.clear()
    }
    worker.on('message', (reply: ScoringReply) => {
      if ('ready' in reply) {
        helper.ready = true
        loadedCount++
        markLoaded()
        return
      }
      if ('error' in reply && reply.id === 0) {
        fail(replyError(reply.error))
        return
      }
      const p = pending.get(reply.id)
      if (p === undefined) return
      pending.delete(reply.id)
      if ('values' in reply) p.resolve({ values: reply.values, contributions: reply.contributions })
      else p.reject(replyError(reply.error))
    })
    worker.on('error', fail)
    worker.on('exit', (code) => {
      if (!closed) fail(new Error(`a scoring thread stopped (exit code ${code})`))
    })
    helpers.push(helper)
  }

  return {
    threads: options.threads,
    get ready() {
      return loadedCount === helpers.length
    },
    score(index, batch) {
      const helper = helpers[index]
      if (helper === undefined || closed) return Promise.reject(new Error('no such scoring thread, or it is closed'))
      // Posted now when the thread holds the model: the caller scores its own piece meanwhile.
      if (helper.ready) return post(helper, batch)
      return helper.loaded.then(() => post(helper, batch))
    },
    async close() {
      if (closed) return
      closed = true
      await Promise.all(helpers.map((helper) => helper.worker.terminate()))
    },
  }
}

/** The buffers of a batch's columns (each once). */
function transferables(batch: Batch): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>()
  for (const column of batch.columns.values()) {
    const arrays = column.type === 'string' ? [column.codes] : [column.values, column.nulls]
    for (const a of arrays) if (a !== undefined && a.buffer instanceof ArrayBuffer) buffers.add(a.buffer)
  }
  return [...buffers]
}

function replyError(error: { readonly message: string; readonly code?: string }): Error {
  const code = error.code as ErrorCode | undefined
  if (code !== undefined && ERROR_CODES.includes(code)) return new ScalemlError(code, error.message)
  return new Error(error.message)
}
