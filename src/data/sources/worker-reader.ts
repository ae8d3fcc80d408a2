/**
 * Reading DuckDB queries on a worker thread, so that producing batches overlaps with consuming them: the thread runs
 * the query on its own DuckDB instance and assembles batches ({@link streamBatches}) while the main thread learns on
 * the previous ones. A pass then costs about max(read, learn) instead of read + learn.
 *
 * Batches arrive as the in-thread reader would yield them (same columns, order, values, nulls and dictionaries);
 * their typed arrays are transferred, not copied. Each stream runs at most `readAhead` batches ahead of its consumer.
 * One reader serves any number of streams at once (each on its own connection of the thread's instance).
 *
 * The thread keeps the process alive only while the main thread awaits it, while it starts, and while a stream has
 * work in progress on it (a DuckDB call in flight): a worker torn down in the middle of a `@duckdb/node-api` fetch
 * aborts the process ("terminate called after throwing an instance of 'Napi::Error'"). A stream left unfinished
 * stops on the thread once its read-ahead is full, with nothing in flight, and the process may then exit.
 * @module
 */
import type { Worker } from 'node:worker_threads'
import { ScalemlError } from '../../core/errors.js'
import { siblingModule, startModuleWorker } from '../../infra/worker.js'
import type { Batch } from '../batch.js'
import type { ReadColumn } from './chunk-reader.js'
import {
  type FromReader,
  fromWireError,
  newBatchArrays,
  type ReaderWorkerData,
  type ToReader,
} from './reader-protocol.js'

/** Options of {@link WorkerReader.start}. */
export interface WorkerReaderOptions {
  /** DuckDB threads of the reader's instance (default: DuckDB's, the number of cores). */
  readonly threads?: number
}

/** Options of {@link WorkerReader.stream}. */
export interface WorkerStreamOptions {
  /** Finished batches that may wait for the consumer (default {@link DEFAULT_READ_AHEAD}; at least 1). */
  readonly readAhead?: number
}

/** Default batches a stream may run ahead of its consumer: one to cover the consumer's wait, one to absorb jitter. */
export const DEFAULT_READ_AHEAD = 2

/** Where a reader is in its life. */
export type WorkerReaderState = 'starting' | 'ready' | 'failed' | 'closed'

/**
 * Young generation of the reader thread's heap, in MiB. Every DuckDB chunk holds ~100 KB of native memory that V8
 * does not see, behind a few hundred bytes of JS wrappers freed only by a scavenge; the thread allocates little else
 * (batch arrays come from the main thread), so with V8's default young generation a whole pass of chunks waited for
 * one (+60–90 MB peak RSS reading flights-3m). A small one scavenges every few hundred chunks at no measurable cost.
 */
const READER_YOUNG_GENERATION_MB = 1

/** How long {@link WorkerReader.close} lets the thread close DuckDB before terminating it. */
const CLOSE_GRACE_MS = 5_000

type StreamEvent =
  | { readonly type: 'batch'; readonly batch: Batch }
  | { readonly type: 'end' }
  | { readonly type: 'error'; readonly error: Error }
  | { readonly type: 'cancelled' }

/** The main-thread side of one stream: events in arrival order and the one waiter, if any. */
class StreamQueue {
  readonly #events: StreamEvent[] = []
  #waiter: ((event: StreamEvent) => void) | undefined
  /** Takes posted to the thread (a `parked` message is current only when it has seen them all). */
  takes = 0
  /** True while the thread may have work in progress for this stream (from `open` or a `take` until it parks). */
  busy = true
  /** Finished batches waiting for the consumer (for tests of the read-ahead bound). */
  get queuedBatches(): number {
    let n = 0
    for (const event of this.#events) if (event.type === 'batch') n++
    return n
  }

  push(event: StreamEvent): void {
    const waiter = this.#waiter
    if (waiter !== undefined) {
      this.#waiter = undefined
      waiter(event)
    } else this.#events.push(event)
  }

  next(): Promise<StreamEvent> {
    const event = this.#events.shift()
    if (event !== undefined) return Promise.resolve(event)
    return new Promise((resolve) => {
      this.#waiter = resolve
    })
  }

  /** Drops queued events until `cancelled` (or the thread's end); their batches are garbage. */
  async drainUntilCancelled(): Promise<void> {
    for (;;) {
      const event = await this.next()
      if (event.type === 'cancelled' || event.type === 'error') return
    }
  }
}

/**
 * A reader thread with its own DuckDB instance.
 *
 * @example
 * const reader = WorkerReader.start()
 * try {
 *   await reader.ready()
 *   for await (const batch of reader.stream(sql, columns, 65_536)) learn(batch)
 * } finally { await reader.close() }
 */
export class WorkerReader {
  readonly #worker: Worker
  readonly #streams = new Map<number, StreamQueue>()
  readonly #ready: Promise<void>
  readonly #exited: Promise<void>
  #state: WorkerReaderState = 'starting'
  #nextId = 1
  /** Awaits in progress on the thread; the thread is referenced while there are any. */
  #waiting = 0
  /** Why the thread stopped, for streams still open then. */
  #stopped: Error | undefined

  private constructor(options: WorkerReaderOptions) {
    const workerData: ReaderWorkerData = options.threads === undefined ? {} : { threads: options.threads }
    this.#worker = startModuleWorker(siblingModule(import.meta.url, 'reader-worker'), {
      workerData,
      resourceLimits: { maxYoungGenerationSizeMb: READER_YOUNG_GENERATION_MB },
    })
    let settle: { resolve: () => void; reject: (error: Error) => void } | undefined
    this.#ready = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject }
    })
    // Nobody may await readiness (an 'auto' source only looks at `state`); a failure is still reported by state.
    this.#ready.catch(() => undefined)
    this.#worker.on('message', (message: FromReader) => {
      switch (message.type) {
        case 'ready':
          // A reader closed while it started stays closed; its `ready()` rejects when the thread exits.
          if (this.#state === 'starting') {
            this.#state = 'ready'
            settle?.resolve()
          }
          this.#updateRef()
          return
        case 'failed': {
          const error = fromWireError(message.error)
          this.#state = 'failed'
          this.#stopped = error
          settle?.reject(error)
          this.#updateRef()
          return
        }
        case 'parked': {
          const queue = this.#streams.get(message.id)
          if (queue !== undefined && message.takes === queue.takes) {
            queue.busy = false
            this.#updateRef()
          }
          return
        }
        case 'batch':
          this.#streams.get(message.id)?.push({ type: 'batch', batch: message.batch })
          return
        case 'end':
          this.#settleStream(message.id, { type: 'end' })
          return
        case 'error':
          this.#settleStream(message.id, { type: 'error', error: fromWireError(message.error) })
          return
        case 'cancelled':
          this.#settleStream(message.id, { type: 'cancelled' })
          return
      }
    })
    this.#worker.on('error', (error) => {
      this.#stopped ??= error
    })
    this.#exited = new Promise<void>((resolve) => {
      this.#worker.once('exit', (code) => {
        const stopped =
          this.#stopped ??
          (this.#state === 'closed'
            ? this.#closedError()
            : new ScalemlError('SOURCE_READ_FAILED', `the reader thread stopped unexpectedly (exit code ${code})`))
        // A no-op once ready: only a thread that never got ready leaves `ready()` waiting.
        settle?.reject(stopped)
        if (this.#state !== 'closed') this.#state = 'failed'
        this.#stopped = stopped
        for (const queue of this.#streams.values()) {
          queue.busy = false
          queue.push({ type: 'error', error: stopped })
        }
        resolve()
      })
    })
  }

  /** Starts a reader thread; it loads DuckDB in the background (see {@link WorkerReader.ready}). */
  static start(options: WorkerReaderOptions = {}): WorkerReader {
    return new WorkerReader(options)
  }

  /** 'ready' once the thread's DuckDB is open; 'failed' when it could not open or the thread died. */
  get state(): WorkerReaderState {
    return this.#state
  }

  /** Open streams (started and not yet finished or cancelled). */
  get activeStreams(): number {
    return this.#streams.size
  }

  /** Batches received and not yet taken, over all streams (bounded by each stream's `readAhead`). */
  get queuedBatches(): number {
    let n = 0
    for (const queue of this.#streams.values()) n += queue.queuedBatches
    return n
  }

  /** Resolves once the thread's DuckDB is open; rejects with why it could not start. */
  ready(): Promise<void> {
    return this.#await(this.#ready)
  }

  /**
   * Runs `sql` on the thread and yields its batches exactly as {@link streamBatches} would on this thread. DuckDB's
   * errors are rethrown as `Error`s with DuckDB's message. Leaving the loop early (break, return, a throw) cancels
   * the query on the thread and waits for it to stop (within one DuckDB chunk) and release its connection.
   */
  async *stream(
    sql: string,
    columns: readonly ReadColumn[],
    batchSize: number,
    options: WorkerStreamOptions = {},
  ): AsyncGenerator<Batch> {
    const readAhead = Math.max(1, Math.floor(options.readAhead ?? DEFAULT_READ_AHEAD))
    await this.ready()
    if (this.#state === 'closed') throw this.#closedError()
    if (this.#state !== 'ready') throw this.#stopped ?? this.#closedError()
    const id = this.#nextId++
    const queue = new StreamQueue()
    this.#streams.set(id, queue)
    this.#updateRef()
    const initial = Array.from({ length: readAhead }, () => newBatchArrays(columns, batchSize))
    this.#post(
      { type: 'open', id, sql, columns, batchSize, arrays: initial.map((a) => a.arrays) },
      initial.flatMap((a) => a.transfer),
    )
    let finished = false
    try {
      for (;;) {
        const event = await this.#await(queue.next())
        if (this.#isClosed()) {
          // Batches that arrived before close() are not handed out: the stream ends where close() found it.
          finished = true
          throw this.#closedError()
        }
        if (event.type === 'end') {
          finished = true
          return
        }
        if (event.type === 'error') {
          finished = true
          throw event.error
        }
        if (event.type === 'cancelled') throw new ScalemlError('INTERNAL', `reader stream ${id} cancelled unasked`)
        const next = newBatchArrays(columns, batchSize)
        queue.takes++
        queue.busy = true
        this.#updateRef()
        this.#post({ type: 'take', id, arrays: next.arrays }, next.transfer)
        yield event.batch
      }
    } finally {
      if (!finished && this.#state === 'ready') {
        queue.busy = true
        this.#post({ type: 'cancel', id })
        await this.#await(queue.drainUntilCancelled())
      }
      this.#streams.delete(id)
      this.#updateRef()
    }
  }

  /**
   * Stops every stream, lets the thread close its DuckDB instance and waits for it to exit (terminating it if it
   * does not within a few seconds). Streams still being read end with a `SOURCE_READ_FAILED` error. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#state !== 'closed') {
      const running = this.#state === 'ready' || this.#state === 'starting'
      this.#state = 'closed'
      if (running) this.#post({ type: 'close' })
      else void this.#worker.terminate()
    }
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        void this.#worker.terminate()
        resolve()
      }, CLOSE_GRACE_MS)
    })
    try {
      await this.#await(Promise.race([this.#exited, grace]))
      await this.#await(this.#exited)
    } finally {
      clearTimeout(timer)
    }
  }

  /** Read through a method so that TypeScript does not keep a narrowing of the state across awaits. */
  #isClosed(): boolean {
    return this.#state === 'closed'
  }

  #closedError(): ScalemlError {
    return new ScalemlError('SOURCE_READ_FAILED', 'the reader thread was closed')
  }

  #post(message: ToReader, transfer: ArrayBuffer[] = []): void {
    this.#worker.postMessage(message, transfer)
  }

  /** A stream's last event: the thread has nothing more in progress for it. */
  #settleStream(id: number, event: StreamEvent): void {
    const queue = this.#streams.get(id)
    if (queue === undefined) return
    queue.busy = false
    queue.push(event)
    this.#updateRef()
  }

  /** Awaits `promise` with the thread referenced, so that the process stays alive for what it waits for. */
  async #await<T>(promise: Promise<T>): Promise<T> {
    this.#waiting++
    this.#updateRef()
    try {
      return await promise
    } finally {
      this.#waiting--
      this.#updateRef()
    }
  }

  /** References the thread while anything needs it to run (see the module comment), else lets the process exit. */
  #updateRef(): void {
    let needed = this.#waiting > 0 || this.#state === 'starting'
    for (const queue of this.#streams.values()) needed ||= queue.busy
    if (needed) this.#worker.ref()
    else this.#worker.unref()
  }
}
