/**
 * One model version ready to serve: its request reader, its micro-batcher (predicting in this thread, or on the
 * worker-thread pool when the model is heavy), its explainer, and a reference count. A version that is replaced or
 * evicted is *retired*: it takes no new requests, the requests holding it finish, and the last release disposes it
 * (closes its batcher, unloads it from the threads).
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { PredictionField, ServableModel } from '../predictor.js'
import { createExplainer, type Explainer } from './explain.js'
import { createPredictionWriter, type PredictionWriter } from './format.js'
import { type BatchReport, createMicroBatcher, type MicroBatcher, type RunBatch } from './micro-batcher.js'
import type { PredictThreadPool } from './predict-threads.js'
import {
  createRequestReader,
  type RequestReader,
  type RequestReaderOptions,
  type RowsRequest,
  syntheticRecord,
} from './request-reader.js'
import type { ModelId } from './runtime.js'
import { createRuntimePredictor, type RuntimePredictor } from './runtime-predictor.js'

/** How requests are batched for one model version. */
export interface BatchingOptions {
  /** Most rows per batch. */
  readonly maxBatchSize: number
  /** Window in ms; absent or 0 means adaptive (see `micro-batcher.ts`). */
  readonly maxDelayMs?: number
  /** Most requests waiting per model version; past it, 429. */
  readonly maxQueue: number
}

/** Options of {@link loadModel}. */
export interface LoadedModelOptions {
  readonly servable: ServableModel
  readonly input: RequestReaderOptions
  /** Most rows per explain request. */
  readonly maxExplainInstances: number
  readonly batching: BatchingOptions
  /** When given, batches run on these threads (the model is heavy). */
  readonly pool?: PredictThreadPool
  readonly onBatch?: (model: LoadedModel, report: BatchReport) => void
  readonly now?: () => number
}

/** A served model version (see the module comment for its life cycle). */
export class LoadedModel {
  readonly servable: ServableModel
  /** `name:version`. */
  readonly key: string
  readonly reader: RequestReader
  readonly explainReader: RequestReader
  readonly fields: readonly PredictionField[]
  /** Writes predict answers of this version as JSON text. */
  readonly writer: PredictionWriter
  /** `{ name, version }`, one object for the life of the version (answers and metrics share it). */
  readonly id: ModelId
  /** Queues checked request rows; a batch's rows are written into one columnar batch (`reader.merge`). */
  readonly batcher: MicroBatcher<RowsRequest>
  /** True when batches run on worker threads. */
  readonly heavy: boolean
  /** True once a synthetic request went through the whole path. */
  warmed = false
  /** Seconds it took to load and warm (set by the runtime once warmed). */
  loadSeconds: number | undefined
  /** When it was loaded (`Date.now()`). */
  readonly loadedAt = Date.now()
  #refs = 0
  #retired = false
  #disposed = false
  #explainer: Explainer | ScalemlError | undefined
  readonly #pool: PredictThreadPool | undefined
  readonly #run: RunBatch
  readonly #predictor: RuntimePredictor

  /** Use {@link loadModel}, which also loads a heavy model into the threads. */
  constructor(options: LoadedModelOptions) {
    const { servable, pool } = options
    this.servable = servable
    this.key = `${servable.name}:${servable.version}`
    this.id = Object.freeze({ name: servable.name, version: servable.version })
    this.reader = createRequestReader(servable.pipeline, options.input)
    this.explainReader = createRequestReader(servable.pipeline, {
      ...options.input,
      maxInstances: options.maxExplainInstances,
    })
    // On threads the model runs there; here it only names the prediction fields (and is never asked to predict).
    const predictor = createRuntimePredictor(servable)
    this.#predictor = predictor
    this.fields = predictor.fields
    this.writer = createPredictionWriter(this.id, this.fields)
    this.heavy = pool !== undefined
    this.#pool = pool
    const onBatch = options.onBatch
    const run: RunBatch =
      pool === undefined ? (batch) => predictor.predict(batch) : (batch) => pool.predict(this.key, batch)
    this.#run = run
    const reader = this.reader
    this.batcher = createMicroBatcher<RowsRequest>({
      run,
      merge: (requests, rows) => reader.merge(requests, rows),
      maxBatchSize: options.batching.maxBatchSize,
      maxDelayMs: options.batching.maxDelayMs,
      maxQueue: options.batching.maxQueue,
      concurrency: pool?.threads ?? 1,
      label: this.key,
      now: options.now,
      onBatch: onBatch === undefined ? undefined : (report) => onBatch(this, report),
    })
  }

  get name(): string {
    return this.servable.name
  }

  get version(): number {
    return this.servable.version
  }

  /** Requests holding this version now. */
  get inUse(): number {
    return this.#refs
  }

  /** True once released for good. */
  get disposed(): boolean {
    return this.#disposed
  }

  /** Takes a reference; false when the version is retired (the caller must look the model up again). */
  tryAcquire(): boolean {
    if (this.#retired) return false
    this.#refs++
    return true
  }

  /** Returns a reference taken with {@link tryAcquire}. */
  release(): void {
    this.#refs--
    if (this.#retired && this.#refs === 0) this.#dispose()
  }

  /** No new requests; disposed once the requests holding it have finished. Idempotent. */
  retire(): void {
    if (this.#retired) return
    this.#retired = true
    if (this.#refs === 0) this.#dispose()
  }

  /**
   * Sends a made-up valid record through the reader and the model (on the threads, for a heavy model), not through
   * the queue, so a batching window does not delay a swap; throws when the model fails or answers something that
   * is not a finite number.
   */
  async warm(): Promise<void> {
    const { batch } = this.reader.read({ instances: [syntheticRecord(this.servable.pipeline)] })
    const values = await this.#run(batch)
    values.forEach((column, f) => {
      if (!Number.isFinite(column[0])) {
        throw new Error(`the warm-up prediction's "${this.fields[f]?.name}" is ${column[0]}, not a finite number`)
      }
    })
    this.warmed = true
  }

  /** The explainer, built on first use; throws `UNSUPPORTED_OPERATION` for a model without contributions. */
  explainer(): Explainer {
    if (this.#explainer === undefined) {
      try {
        this.#explainer = createExplainer(this.servable)
      } catch (error) {
        if (!(error instanceof ScalemlError)) throw error
        this.#explainer = error
      }
    }
    if (this.#explainer instanceof ScalemlError) throw this.#explainer
    return this.#explainer
  }

  #dispose(): void {
    if (this.#disposed) return
    this.#disposed = true
    this.batcher.close()
    this.#pool?.unload(this.key)
    void this.#predictor.release().catch(() => {})
  }
}

/**
 * A {@link LoadedModel} for `options.servable`, loaded into the thread pool first when one is given. Not warmed:
 * call {@link LoadedModel.warm}.
 */
export async function loadModel(options: LoadedModelOptions): Promise<LoadedModel> {
  if (options.pool !== undefined) {
    await options.pool.load(`${options.servable.name}:${options.servable.version}`, options.servable)
  }
  return new LoadedModel(options)
}
