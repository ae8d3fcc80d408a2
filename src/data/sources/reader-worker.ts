/**
 * The reader thread of a {@link WorkerReader}: its own DuckDB instance runs the queries the main thread sends and
 * {@link streamBatches} assembles their batches here, so that the main thread only learns. Batches are filled into
 * arrays the main thread sent with each credit and posted back with their buffers transferred; each stream may run
 * `readAhead` batches ahead of its consumer (see reader-protocol.ts), so memory stays a few batches per stream.
 *
 * Entry module of a worker thread: it does nothing when imported on the main thread.
 * @module
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import { type DuckDb, openDuckDb } from '../../infra/duckdb.js'
import { type BatchAllocator, streamBatches } from './chunk-reader.js'
import {
  type BatchArrays,
  batchTransferList,
  type FromReader,
  type ReaderWorkerData,
  type ToReader,
  toWireError,
} from './reader-protocol.js'

/** One running stream: its credits, the arrays they came with, and how to stop or wake it. */
interface StreamState {
  credits: number
  /** Takes received: a `parked` message carries it so that the main thread can tell it is current. */
  takes: number
  /** The last fetch from DuckDB; the stream parks only once it has settled. */
  fetch: Promise<unknown> | undefined
  /** Arrays the main thread sent for the batches still to produce. */
  readonly float64: Float64Array[]
  readonly int32: Int32Array[]
  readonly abort: AbortController
  /** Resolves the wait for a credit (or the cancel). */
  wake: (() => void) | undefined
  readonly done: Promise<void>
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort
  const post = (message: FromReader, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer)
  const streams = new Map<number, StreamState>()
  const data = (workerData ?? {}) as ReaderWorkerData
  let db: DuckDb | undefined
  // Messages that arrive while DuckDB opens wait for it; a close then closes what opened.
  const opened = openDuckDb(data.threads === undefined ? {} : { threads: data.threads }).then(
    (handle) => {
      db = handle
      post({ type: 'ready' })
      return handle
    },
    (error: unknown) => {
      post({ type: 'failed', error: toWireError(error) })
      port.close()
      return undefined
    },
  )

  const run = async (handle: DuckDb, message: Extract<ToReader, { type: 'open' }>, state: StreamState) => {
    const { id } = message
    let connection: Awaited<ReturnType<DuckDb['connect']>> | undefined
    try {
      connection = await handle.connect()
      const batchSize = message.batchSize
      // Credits come with arrays, so the pool is empty only for arrays a credit did not cover (never, in order).
      const allocate: BatchAllocator = {
        float64: (length) => (length === batchSize ? state.float64.pop() : undefined) ?? new Float64Array(length),
        int32: (length) => (length === batchSize ? state.int32.pop() : undefined) ?? new Int32Array(length),
      }
      const batches = streamBatches(connection, message.sql, message.columns, batchSize, {
        signal: state.abort.signal,
        allocate,
        onFetch: (fetch) => {
          state.fetch = fetch
        },
      })
      try {
        for (;;) {
          while (state.credits === 0 && !state.abort.signal.aborted) {
            // The prefetched chunk must land before the main thread may let the process exit under this thread.
            await state.fetch?.catch(() => undefined)
            if (state.credits > 0 || state.abort.signal.aborted) break
            post({ type: 'parked', id, takes: state.takes })
            await new Promise<void>((resolve) => {
              state.wake = resolve
            })
            state.wake = undefined
          }
          if (state.abort.signal.aborted) break
          const next = await batches.next()
          if (state.abort.signal.aborted) break
          if (next.done === true) {
            post({ type: 'end', id })
            return
          }
          state.credits--
          post({ type: 'batch', id, batch: next.value }, batchTransferList(next.value))
        }
      } finally {
        // Waits for the fetch in flight, so that the connection closes idle.
        await batches.return(undefined)
      }
    } catch (error) {
      if (!state.abort.signal.aborted) post({ type: 'error', id, error: toWireError(error) })
    } finally {
      if (connection !== undefined) handle.disconnect(connection)
      streams.delete(id)
      if (state.abort.signal.aborted) post({ type: 'cancelled', id })
    }
  }

  const stop = (state: StreamState): void => {
    state.abort.abort()
    state.wake?.()
  }

  port.on('message', (message: ToReader) => {
    switch (message.type) {
      case 'open': {
        let finish: () => void = () => undefined
        const state: StreamState = {
          credits: message.arrays.length,
          takes: 0,
          fetch: undefined,
          float64: [],
          int32: [],
          abort: new AbortController(),
          wake: undefined,
          done: new Promise<void>((resolve) => {
            finish = resolve
          }),
        }
        for (const arrays of message.arrays) addArrays(state, arrays)
        streams.set(message.id, state)
        void opened.then(async (handle) => {
          // The main thread never opens a stream before `ready`; a failed open has closed the port already.
          if (handle !== undefined) await run(handle, message, state)
          finish()
        })
        return
      }
      case 'take': {
        const state = streams.get(message.id)
        if (state === undefined) return
        state.credits++
        state.takes++
        addArrays(state, message.arrays)
        state.wake?.()
        return
      }
      case 'cancel': {
        const state = streams.get(message.id)
        // Unknown: the stream already ended (its `end` or `error` crossed the cancel); nothing holds resources.
        if (state === undefined) post({ type: 'cancelled', id: message.id })
        else stop(state)
        return
      }
      case 'close': {
        const running = [...streams.values()]
        for (const state of running) stop(state)
        void Promise.all(running.map((s) => s.done))
          .then(() => opened)
          .then(async () => {
            await db?.close()
            // Nothing is left to keep the thread alive once the port closes: it exits.
            port.close()
          })
        return
      }
    }
  })
}

function addArrays(state: StreamState, arrays: BatchArrays): void {
  state.float64.push(...arrays.float64)
  state.int32.push(...arrays.int32)
}
