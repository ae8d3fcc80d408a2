/**
 * A pool of worker threads that predict for models flagged heavy (big tree ensembles, big batches), so that their
 * CPU time is spent off the event loop and the server keeps accepting, validating and answering other requests.
 * Each model version is loaded into every thread (its JSON is copied once, at load); a batch goes to the thread
 * with the fewest batches in progress. A thread that dies is replaced and its models reloaded; the batches it held
 * fail (the micro-batcher then retries them one by one).
 * @module
 */
import type { Worker } from 'node:worker_threads'
import { ERROR_CODES, type ErrorCode, ScalemlError } from '../../core/errors.js'
import type { Batch } from '../../data/batch.js'
import { siblingModule, startModuleWorker } from '../../infra/worker.js'
import type { ServableModel } from '../predictor.js'
import type { ThreadReply, ThreadRequest } from './predict-thread.js'

/** Options of {@link createPredictThreadPool}. */
export interface PredictThreadPoolOptions {
  /** Number of threads (≥ 1). */
  readonly threads: number
}

/** Worker threads that predict batches for loaded model versions. */
export interface PredictThreadPool {
  readonly threads: number
  /** Loads `servable` into every thread under `key` (e.g. `flights:3`); resolves when all threads have it. */
  load(key: string, servable: ServableModel): Promise<void>
  /** Predicts `batch` with the model loaded under `key` on the least busy thread. */
  predict(key: string, batch: Batch): Promise<readonly Float64Array[]>
  /** Forgets `key` in every thread. */
  unload(key: string): void
  /** Batches sent so far (for tests and stats). */
  readonly dispatched: number
  /** Terminates the threads; pending predictions are rejected. Idempotent. */
  close(): Promise<void>
}

interface Pending {
  readonly resolve: (values: readonly Float64Array[]) => void
  readonly reject: (error: unknown) => void
}

interface Thread {
  worker: Worker
  readonly pending: Map<number, Pending>
}

interface LoadMessage {
  readonly manifest: ServableModel['manifest']
  readonly pipeline: unknown
  readonly model: unknown
}

const THREAD_MODULE = siblingModule(import.meta.url, 'predict-thread')

/**
 * Starts `threads` worker threads.
 *
 * @example
 * const pool = createPredictThreadPool({ threads: 2 })
 * await pool.load('flights:3', servable)
 * const [probability, label] = await pool.predict('flights:3', batch)
 */
export function createPredictThreadPool(options: PredictThreadPoolOptions): PredictThreadPool {
  if (!Number.isInteger(options.threads) || options.threads < 1) {
    throw new ScalemlError('INVALID_ARGUMENT', `threads must be a whole number ≥ 1; got ${options.threads}.`)
  }
  let nextId = 1
  let closed = false
  let dispatched = 0
  const loaded = new Map<string, LoadMessage>()
  const threads: Thread[] = []

  const send = (thread: Thread, request: Extract<ThreadRequest, { id: number }>): Promise<readonly Float64Array[]> =>
    new Promise((resolve, reject) => {
      thread.pending.set(request.id, { resolve, reject })
      thread.worker.postMessage(request)
    })

  const start = (index: number): Thread => {
    const thread: Thread = { worker: startModuleWorker(THREAD_MODULE), pending: new Map() }
    thread.worker.unref()
    thread.worker.on('message', (reply: ThreadReply) => {
      const pending = thread.pending.get(reply.id)
      if (pending === undefined) return
      thread.pending.delete(reply.id)
      if ('values' in reply) pending.resolve(reply.values)
      else pending.reject(replyError(reply.error))
    })
    const fail = (error: Error) => {
      for (const pending of thread.pending.values()) pending.reject(error)
      thread.pending.clear()
      if (closed || threads[index] !== thread) return
      // Replace the thread and give it every model the others hold.
      const replacement = start(index)
      threads[index] = replacement
      for (const [key, load] of loaded) {
        send(replacement, { op: 'load', id: nextId++, key, ...load }).catch(() => {})
      }
    }
    thread.worker.on('error', fail)
    thread.worker.on('exit', (code) => fail(new Error(`a prediction thread stopped (exit code ${code})`)))
    return thread
  }

  for (let i = 0; i < options.threads; i++) threads.push(start(i))

  return {
    threads: options.threads,
    get dispatched() {
      return dispatched
    },

    async load(key, servable) {
      if (closed) throw new Error('the prediction thread pool is closed')
      const load: LoadMessage = {
        manifest: servable.manifest,
        pipeline: servable.pipeline.toJSON(),
        model: servable.model.toJSON(),
      }
      loaded.set(key, load)
      await Promise.all(threads.map((thread) => send(thread, { op: 'load', id: nextId++, key, ...load })))
    },

    predict(key, batch) {
      if (closed) return Promise.reject(new Error('the prediction thread pool is closed'))
      let best = threads[0]!
      for (const thread of threads) if (thread.pending.size < best.pending.size) best = thread
      dispatched++
      return send(best, { op: 'predict', id: nextId++, key, batch })
    },

    unload(key) {
      loaded.delete(key)
      for (const thread of threads) thread.worker.postMessage({ op: 'unload', key } satisfies ThreadRequest)
    },

    async close() {
      if (closed) return
      closed = true
      await Promise.all(threads.map((thread) => thread.worker.terminate()))
    },
  }
}

function replyError(error: { readonly message: string; readonly code?: string }): Error {
  const code = error.code as ErrorCode | undefined
  if (code !== undefined && ERROR_CODES.includes(code)) return new ScalemlError(code, error.message)
  return new Error(error.message)
}
