/**
 * Adaptive micro-batching for one model version: requests queue and run together as one vectorized predict.
 *
 * Two policies:
 * - **adaptive** (default, no `maxDelayMs`): a request that finds the model idle runs at the next turn of the event
 *   loop (`setImmediate`, so requests parsed in the same turn already share a batch) — no added latency under light
 *   load. While a batch runs, arrivals accumulate and form the next batch (natural batching), up to `maxBatchSize`
 *   rows, so the batch size follows the load without a timer to tune.
 * - **window** (`maxDelayMs > 0`): a batch runs when it reaches `maxBatchSize` rows or its oldest request has waited
 *   `maxDelayMs` (Triton's dynamic batcher, BentoML's adaptive batching window).
 *
 * Requests hold their rows in any form; `merge` writes a batch's requests into one columnar batch (the serving
 * runtime passes checked records, written straight into the batch's columns). Each request is answered in place, as
 * its rows of the batch's result ({@link BatchSlice}, which is the request's queue entry itself), so settling a
 * batch of many requests allocates nothing per request.
 *
 * A request is never split: one larger than `maxBatchSize` rows runs alone. The queue is bounded (`maxQueue`
 * requests); past it {@link MicroBatcher.submit} throws `OVERLOADED` with a `Retry-After` estimate. Each request can
 * have a time limit; a request still queued when it expires leaves the queue (no work is spent on it). When a batch
 * of several requests fails, each request is re-run alone so one bad request cannot fail its neighbours.
 * @module
 */
import type { Batch } from '../../data/batch.js'
import { concatBatches } from './concat-batches.js'
import { BatcherClosedError, OverloadedError, PredictTimeoutError } from './runtime-errors.js'

/** Runs one batch: one `Float64Array` per output column, `batch.length` values each. */
export type RunBatch = (batch: Batch) => readonly Float64Array[] | Promise<readonly Float64Array[]>

/** What one batch did (for metrics). */
export interface BatchReport {
  /** Rows in the batch. */
  readonly rows: number
  /** Requests in the batch. */
  readonly requests: number
  /** Per request, milliseconds between submit and the batch start. */
  readonly queueMs: readonly number[]
  /** Milliseconds the run took. */
  readonly runMs: number
  /** False when the batch failed (its requests were then retried one by one). */
  readonly ok: boolean
}

/** A request's input: anything that knows its row count (a `Batch`, or rows still to be made columnar). */
export interface BatchInput {
  readonly length: number
}

/** Options of {@link createMicroBatcher}. */
export interface MicroBatcherOptions<I extends BatchInput = Batch> {
  readonly run: RunBatch
  /**
   * Joins the inputs of the requests of one batch (in queue order, `rows` rows in all) into the batch `run` takes.
   * Default: {@link concatBatches}, for `Batch` inputs.
   */
  readonly merge?: (inputs: readonly I[], rows: number) => Batch
  /** Most rows in one batch (a request with more runs alone). */
  readonly maxBatchSize: number
  /** Window policy when > 0: the longest a request waits for companions, in ms. Default: adaptive (no window). */
  readonly maxDelayMs?: number
  /** Most requests waiting (not yet running); past it `submit` throws `OVERLOADED`. */
  readonly maxQueue: number
  /** Batches running at once (default 1; the number of threads when `run` hands batches to worker threads). */
  readonly concurrency?: number
  /** Names the model in messages (`flights:3`). */
  readonly label?: string
  /** Clock in ms (default `performance.now`); tests pass a fake one. */
  readonly now?: () => number
  /** Called after every batch. */
  readonly onBatch?: (report: BatchReport) => void
}

/** Options of one {@link MicroBatcher.submit}. */
export interface SubmitOptions {
  /** Reject with {@link PredictTimeoutError} after this many ms (from submit). Default: no limit. */
  readonly timeoutMs?: number
}

/** Counters of a {@link MicroBatcher}. */
export interface MicroBatcherStats {
  /** Requests waiting. */
  readonly queued: number
  /** Rows waiting. */
  readonly queuedRows: number
  /** Batches running. */
  readonly running: number
  /** Batches run so far, and their rows and requests. */
  readonly batches: number
  readonly rows: number
  readonly requests: number
}

/**
 * One request's predictions inside its batch's result: rows `offset … offset + rows - 1` of every column. Reading
 * them in place spares a view per column per request.
 */
export interface BatchSlice {
  /** The whole batch's columns, one per output. */
  readonly values: readonly Float64Array[]
  /** The request's first row in `values`. */
  readonly offset: number
  /** The request's row count. */
  readonly rows: number
}

/** A queue of requests for one model version that runs them in batches. */
export interface MicroBatcher<I extends BatchInput = Batch> {
  /**
   * Queues `input` (one request's rows) and resolves with its predictions: one column per output, `input.length`
   * values each (views into the batch's result). Throws `OVERLOADED` synchronously when the queue is full.
   */
  submit(input: I, options?: SubmitOptions): Promise<readonly Float64Array[]>
  /** {@link submit}, answered as the request's place in its batch's result (no view per column). */
  submitSlice(input: I, options?: SubmitOptions): Promise<BatchSlice>
  stats(): MicroBatcherStats
  /** Resolves once nothing is queued or running. */
  drain(): Promise<void>
  /** Refuses new requests; queued ones are rejected with {@link BatcherClosedError}. Idempotent. */
  close(): void
}

const QUEUED = 0
const RUNNING = 1
const SETTLED = 2

/** A queued request; it is also the {@link BatchSlice} it resolves with, so answering allocates nothing more. */
interface Job<I> extends BatchSlice {
  readonly input: I
  readonly submittedAt: number
  state: number
  timer: ReturnType<typeof setTimeout> | undefined
  values: readonly Float64Array[]
  offset: number
  resolve: (slice: BatchSlice) => void
  reject: (error: unknown) => void
}

const NO_VALUES: readonly Float64Array[] = []

/** The columns of `slice` as views of its own rows. */
export function sliceColumns(slice: BatchSlice): readonly Float64Array[] {
  const { values, offset, rows } = slice
  if (offset === 0 && values.length > 0 && values[0]!.length === rows) return values
  return values.map((column) => column.subarray(offset, offset + rows))
}

/**
 * A micro-batcher over `options.run`.
 *
 * @example
 * const batcher = createMicroBatcher({ run: (b) => predictor.predict(b).values, maxBatchSize: 256, maxQueue: 1024 })
 * const [probability, label] = await batcher.submit(oneRowBatch, { timeoutMs: 100 })
 */
export function createMicroBatcher<I extends BatchInput = Batch>(options: MicroBatcherOptions<I>): MicroBatcher<I> {
  const { run, maxBatchSize, maxQueue } = options
  const merge = options.merge ?? (concatBatches as unknown as (inputs: readonly I[], rows: number) => Batch)
  const maxDelayMs = options.maxDelayMs ?? 0
  const concurrency = Math.max(1, options.concurrency ?? 1)
  const now = options.now ?? (() => performance.now())
  const label = options.label ?? 'this model'

  // A FIFO with lazy removal: an expired job stays in the array as SETTLED and is skipped when taken. Slots are
  // cleared as jobs leave, so the queue never keeps an answered request (and everything it holds) alive.
  let queue: (Job<I> | undefined)[] = []
  let head = 0
  let queued = 0
  let queuedRows = 0
  let running = 0
  let closed = false
  let immediate: ReturnType<typeof setImmediate> | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  /** Moving average of a batch's run time (ms), for `Retry-After`. */
  let averageRunMs = 0
  let batches = 0
  let rowsRun = 0
  let requestsRun = 0
  let drainWaiters: (() => void)[] = []

  const settle = (job: Job<I>): boolean => {
    if (job.state === SETTLED) return false
    if (job.state === QUEUED) {
      queued--
      queuedRows -= job.rows
    }
    job.state = SETTLED
    if (job.timer !== undefined) clearTimeout(job.timer)
    return true
  }

  const checkDrained = () => {
    if (queued > 0 || running > 0 || drainWaiters.length === 0) return
    const waiters = drainWaiters
    drainWaiters = []
    for (const w of waiters) w()
  }

  const oldest = (): Job<I> | undefined => {
    while (head < queue.length && queue[head]!.state !== QUEUED) queue[head++] = undefined
    if (head === queue.length) {
      if (head > 0) {
        queue.length = 0
        head = 0
      }
    } else if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head)
      head = 0
    }
    return queue[head]
  }

  /** The next jobs for one batch: at least one, then as many as fit in `maxBatchSize` rows. */
  const take = (): Job<I>[] => {
    const jobs: Job<I>[] = []
    let rows = 0
    for (let job = oldest(); job !== undefined; job = oldest()) {
      if (jobs.length > 0 && rows + job.rows > maxBatchSize) break
      queue[head++] = undefined
      queued--
      queuedRows -= job.rows
      job.state = RUNNING
      jobs.push(job)
      rows += job.rows
      if (rows >= maxBatchSize) break
    }
    return jobs
  }

  const ready = (): boolean => {
    if (queued === 0 || running >= concurrency) return false
    if (maxDelayMs <= 0 || queuedRows >= maxBatchSize) return true
    return now() - oldest()!.submittedAt >= maxDelayMs
  }

  const schedule = () => {
    if (queued === 0 || running >= concurrency || immediate !== undefined) return
    if (maxDelayMs <= 0 || queuedRows >= maxBatchSize) {
      if (timer !== undefined) {
        clearTimeout(timer)
        timer = undefined
      }
      immediate = setImmediate(flush)
      return
    }
    if (timer !== undefined) return
    const wait = Math.max(0, oldest()!.submittedAt + maxDelayMs - now())
    timer = setTimeout(flush, wait)
  }

  function flush(): void {
    immediate = undefined
    if (timer !== undefined) {
      clearTimeout(timer)
      timer = undefined
    }
    // After a batch that ran in this thread, yield (the next batch starts from `setImmediate`): requests, timers
    // and probes that arrived meanwhile get their turn, and queued requests past their time limit leave the queue
    // instead of running. Batches handed to threads start back to back, up to `concurrency`.
    while (ready()) if (start(take())) break
    schedule()
  }

  const deliver = (jobs: readonly Job<I>[], values: readonly Float64Array[]) => {
    let at = 0
    for (let j = 0; j < jobs.length; j++) {
      const job = jobs[j]!
      if (settle(job)) {
        job.values = values
        job.offset = at
        job.resolve(job)
      }
      at += job.rows
    }
  }

  const finish = (
    jobs: readonly Job<I>[],
    startedAt: number,
    values: readonly Float64Array[] | undefined,
    error: unknown,
  ) => {
    running--
    const runMs = now() - startedAt
    averageRunMs = batches === 0 ? runMs : averageRunMs * 0.8 + runMs * 0.2
    batches++
    let rows = 0
    for (const job of jobs) rows += job.rows
    rowsRun += rows
    requestsRun += jobs.length
    options.onBatch?.({
      rows,
      requests: jobs.length,
      queueMs: jobs.map((job) => startedAt - job.submittedAt),
      runMs,
      ok: values !== undefined,
    })
    if (values !== undefined) deliver(jobs, values)
    else if (jobs.length === 1) {
      if (settle(jobs[0]!)) jobs[0]!.reject(error)
    } else {
      // One bad request must not fail the others: run each alone (they are no longer counted as queued).
      for (const job of jobs) if (job.state === RUNNING) start([job])
    }
    if (!closed) schedule()
    checkDrained()
  }

  /** Runs one batch; true when it ran synchronously (in this thread). */
  function start(jobs: Job<I>[]): boolean {
    running++
    const startedAt = now()
    let result: readonly Float64Array[] | Promise<readonly Float64Array[]>
    try {
      let rows = 0
      const inputs: I[] = new Array(jobs.length)
      for (let j = 0; j < jobs.length; j++) {
        inputs[j] = jobs[j]!.input
        rows += jobs[j]!.rows
      }
      result = run(merge(inputs, rows))
    } catch (error) {
      finish(jobs, startedAt, undefined, error)
      return true
    }
    if (result instanceof Promise) {
      result.then(
        (values) => finish(jobs, startedAt, values, undefined),
        (error: unknown) => finish(jobs, startedAt, undefined, error),
      )
      return false
    }
    finish(jobs, startedAt, result, undefined)
    return true
  }

  const expire = (job: Job<I>, timeoutMs: number) => {
    const stage = job.state === QUEUED ? 'queued' : 'running'
    if (settle(job)) job.reject(new PredictTimeoutError(timeoutMs, stage))
    checkDrained()
  }

  const submitSlice = (input: I, submitOptions?: SubmitOptions): Promise<BatchSlice> => {
    if (closed) return Promise.reject(new BatcherClosedError(`${label} is no longer served`))
    if (queued >= maxQueue) {
      const batchesAhead = Math.ceil(queuedRows / maxBatchSize) / concurrency
      const retryAfter = Math.max(1, Math.ceil((averageRunMs * batchesAhead) / 1000))
      throw new OverloadedError(
        `${label} is overloaded: its queue holds the maximum of ${maxQueue} waiting requests (--max-queue). Retry after ${retryAfter} s.`,
        retryAfter,
      )
    }
    return new Promise<BatchSlice>((resolve, reject) => {
      const job: Job<I> = {
        input,
        rows: input.length,
        submittedAt: now(),
        state: QUEUED,
        timer: undefined,
        values: NO_VALUES,
        offset: 0,
        resolve,
        reject,
      }
      const timeoutMs = submitOptions?.timeoutMs
      if (timeoutMs !== undefined && timeoutMs > 0) job.timer = setTimeout(expire, timeoutMs, job, timeoutMs)
      queue.push(job)
      queued++
      queuedRows += job.rows
      schedule()
    })
  }

  return {
    submit: (input, submitOptions) => submitSlice(input, submitOptions).then(sliceColumns),

    submitSlice,

    stats: () => ({ queued, queuedRows, running, batches, rows: rowsRun, requests: requestsRun }),

    drain() {
      if (queued === 0 && running === 0) return Promise.resolve()
      return new Promise<void>((resolve) => drainWaiters.push(resolve))
    },

    close() {
      if (closed) return
      closed = true
      if (immediate !== undefined) clearImmediate(immediate)
      if (timer !== undefined) clearTimeout(timer)
      immediate = undefined
      timer = undefined
      for (let job = oldest(); job !== undefined; job = oldest()) {
        queue[head++] = undefined
        if (settle(job)) job.reject(new BatcherClosedError(`${label} is no longer served`))
      }
      checkDrained()
    },
  }
}
