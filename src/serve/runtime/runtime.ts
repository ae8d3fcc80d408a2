/**
 * The serving runtime: the model references a server answers for, each in a {@link ModelSlot} (hot swap, pinned
 * versions), a poller that notices when a reference resolves to another version (and, when the registry can notify
 * changes, a watch that refreshes the named model at once, the poller then being a slower fallback), and the
 * predict and explain paths
 * (validation, prediction cache, micro-batching, time limit, fallback). No HTTP here: `serve/http/app.ts` maps
 * routes onto {@link ServingRuntime}.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { Field } from '../../data/batch.js'
import { isOnnxModel } from '../../models/formats/onnx-model.js'
import { parseModelRef, type Registry } from '../../registry/registry.js'
import { loadServableModel } from '../model-loader.js'
import { type PredictionCache, predictionCacheKey } from '../prediction-cache.js'
import type { PredictionField, ServableModel } from '../predictor.js'
import type { Explanation } from './explain.js'
import { canExplain } from './explain.js'
import { type PredictionObject, predictionObjects } from './format.js'
import { type BatchingOptions, LoadedModel, loadModel } from './loaded-model.js'
import {
  type BatchReport,
  type BatchSlice,
  type MicroBatcherStats,
  type SubmitOptions,
  sliceColumns,
} from './micro-batcher.js'
import { ModelSlot, type SlotStatus } from './model-slot.js'
import { createPredictThreadPool, type PredictThreadPool } from './predict-threads.js'
import type { RequestReaderOptions } from './request-reader.js'
import { BatcherClosedError, OverloadedError, PredictTimeoutError } from './runtime-errors.js'

/** A fallback prediction per model name; the key `*` applies to every model without its own. */
export type FallbackConfig = ReadonlyMap<string, Readonly<PredictionObject>>

/** Options of {@link createServingRuntime}. */
export interface ServingRuntimeOptions {
  /** Registry to resolve and load `refs` from (and pinned versions). */
  readonly registry?: Registry
  /** References to serve (`flights`, `flights@stable`, `flights:3`); each must resolve at start-up. */
  readonly refs?: readonly string[]
  /** Models served as they are (no registry, no hot swap), e.g. from `loadServableModels`. */
  readonly models?: Iterable<ServableModel>
  /** Loads a version; default `loadServableModel(registry, 'name:version')`. Tests wrap it to inject failures. */
  readonly load?: (name: string, version: number) => Promise<ServableModel>
  /** Micro-batching per model version. Defaults: 256 rows, adaptive, 1024 waiting requests. */
  readonly batching?: Partial<BatchingOptions>
  /** Input validation (unknown fields, unknown categories, rows per request). */
  readonly input?: RequestReaderOptions
  /** Most rows per explain request (default 100: TreeSHAP costs far more than a prediction). */
  readonly maxExplainInstances?: number
  /** Time limit per predict request in ms, from its arrival at the runtime (default: none). */
  readonly timeoutMs?: number
  /** Time limits per model name, over {@link timeoutMs}. */
  readonly timeouts?: ReadonlyMap<string, number>
  /** Fallback predictions, per model name or `*`; without one, a timeout or model failure is a 503. */
  readonly fallback?: FallbackConfig
  /**
   * How often references are resolved again, in ms (default 1000; 0 turns hot swap off). While the registry's
   * change notifications flow (PostgreSQL), polling is only the fallback and runs every
   * `max(pollMs, RUNTIME_DEFAULTS.watchedPollMs)`.
   */
  readonly pollMs?: number
  /** Refresh a model as soon as the registry says it changed, when the registry can (default true). */
  readonly watch?: boolean
  /** Most pinned (`x-model-version`) versions kept per reference (default 4). */
  readonly pinnedVersions?: number
  /** Model names (or `*` for all) whose batches run on worker threads. */
  readonly heavy?: readonly string[]
  /** Worker threads for heavy models (default 1). */
  readonly threads?: number
  /** Prediction cache (keys by model version and canonical input); default none. */
  readonly cache?: PredictionCache
  /** Where the runtime reports what it does (logs). */
  readonly log?: RuntimeLog
  /** Clock in ms (default `performance.now`). */
  readonly now?: () => number
}

/** A minimal structured logger (pino's argument order, so Fastify's logger fits). */
export interface RuntimeLog {
  info(fields: Readonly<Record<string, unknown>>, message: string): void
  warn(fields: Readonly<Record<string, unknown>>, message: string): void
}

/** What the runtime tells observers (metrics, tests). Every method is optional. */
export interface RuntimeObserver {
  /** A batch ran for `model`. */
  batch?(model: ModelId, report: BatchReport): void
  /** A version was loaded and warmed (`ok`), or failed at `stage`. */
  load?(event: LoadEvent): void
  /** The reference `ref` switched to version `to` at `at` (runtime clock). */
  swap?(event: SwapEvent): void
  /** An answer was replaced by the fallback. */
  fallback?(model: ModelId, reason: 'timeout' | 'error'): void
  /** Rows looked up in the prediction cache. */
  cache?(model: ModelId, hits: number, misses: number): void
  /** Rows predicted by the model (not from the cache or the fallback). */
  predicted?(model: ModelId, rows: number): void
}

/** A model version. */
export interface ModelId {
  readonly name: string
  readonly version: number
}

/** See {@link RuntimeObserver.load}. */
export interface LoadEvent extends ModelId {
  readonly ok: boolean
  readonly stage?: 'load' | 'warm'
  readonly seconds: number
  readonly error?: string
}

/** See {@link RuntimeObserver.swap}. */
export interface SwapEvent {
  readonly ref: string
  readonly name: string
  readonly from?: number
  readonly to: number
  readonly at: number
}

/** The answer to a predict request. */
export interface PredictAnswer {
  readonly model: ModelId
  readonly predictions: readonly Readonly<PredictionObject>[]
  /** Present when the configured fallback answered instead of the model. */
  readonly fallback?: true
  /** Why the fallback answered. */
  readonly reason?: string
}

/** Predictions computed now, as the request's rows of its batch, before they become JSON or row objects. */
interface Predicted {
  readonly loaded: LoadedModel
  readonly slice: BatchSlice
}

/** A predict answer as JSON text (see {@link ServingRuntime.predictJson}). */
export interface PredictJson {
  /** The version that answered. */
  readonly model: ModelId
  /** The JSON text of the {@link PredictAnswer}. */
  readonly json: string
}

/** The answer to an explain request. */
export interface ExplainAnswer {
  readonly model: ModelId
  readonly predictions: readonly Readonly<PredictionObject>[]
  readonly explanations: readonly Explanation[]
}

/** Options of one predict or explain call. */
export interface CallOptions {
  /** Pins a version of the model (`x-model-version`), as text from a header. */
  readonly version?: string
}

/** A served model, described. */
export interface ModelDescription {
  readonly ref: string
  readonly name: string
  readonly version?: number
  readonly state: SlotStatus['state']
  readonly reason?: string
  readonly task?: string
  readonly modelKind?: string
  readonly created?: string
  /** The input schema, in the column order of `{"inputs": [[…]]}`. */
  readonly inputs?: readonly Field[]
  readonly target?: unknown
  readonly features?: readonly string[]
  /** The prediction fields each row's answer holds. */
  readonly outputs?: readonly PredictionField[]
  /** Holdout metrics recorded at registration. */
  readonly metrics?: Readonly<Record<string, number>>
  readonly explain?: boolean
  readonly heavy?: boolean
  readonly batching: BatchingOptions
  readonly queue?: MicroBatcherStats
  readonly swaps: number
  readonly failures: number
  readonly pinned: readonly number[]
  readonly loading?: number
}

/** Readiness: every served reference loaded and warmed. */
export interface Readiness {
  readonly ready: boolean
  readonly reasons: readonly string[]
  readonly models: readonly { readonly ref: string; readonly version?: number; readonly state: string }[]
}

/** Defaults of the runtime options. */
export const RUNTIME_DEFAULTS = {
  maxBatchSize: 256,
  maxQueue: 1024,
  pollMs: 1000,
  /** The fallback polling interval while change notifications flow, ms. */
  watchedPollMs: 10_000,
  pinnedVersions: 4,
  maxExplainInstances: 100,
  threads: 1,
} as const

const VERSION_HEADER = /^[1-9][0-9]{0,15}$/

/** See the module comment. Create with {@link createServingRuntime}, then `await start()`. */
export class ServingRuntime {
  readonly batching: BatchingOptions
  readonly #options: ServingRuntimeOptions
  readonly #slots = new Map<string, ModelSlot>()
  readonly #observers = new Set<RuntimeObserver>()
  readonly #now: () => number
  readonly #heavy: ReadonlySet<string>
  /** Per model name, the queue options of its requests (its time limit). */
  readonly #submitOptions = new Map<string, SubmitOptions | undefined>()
  #pool: PredictThreadPool | undefined
  #poller: ReturnType<typeof setTimeout> | undefined
  /** Stops the registry watch, while one runs. */
  #stopWatch: (() => Promise<void>) | undefined
  #closing = false
  #started = false

  constructor(options: ServingRuntimeOptions) {
    this.#options = options
    this.#now = options.now ?? (() => performance.now())
    this.#heavy = new Set(options.heavy ?? [])
    this.batching = {
      maxBatchSize: options.batching?.maxBatchSize ?? RUNTIME_DEFAULTS.maxBatchSize,
      maxDelayMs: options.batching?.maxDelayMs ?? 0,
      maxQueue: options.batching?.maxQueue ?? RUNTIME_DEFAULTS.maxQueue,
    }
    checkPositive('maxBatchSize', this.batching.maxBatchSize)
    checkPositive('maxQueue', this.batching.maxQueue)
    if (!(this.batching.maxDelayMs! >= 0)) {
      throw new ScalemlError('INVALID_ARGUMENT', `maxDelayMs must be ≥ 0 ms; got ${this.batching.maxDelayMs}.`)
    }
    for (const [name, ms] of [['*', options.timeoutMs] as const, ...(options.timeouts ?? [])]) {
      if (ms !== undefined && !(ms > 0)) {
        throw new ScalemlError('INVALID_ARGUMENT', `The time limit of ${name} must be > 0 ms; got ${ms}.`)
      }
    }
    const observer = this.#slotObserver()
    for (const servable of options.models ?? []) {
      const slot = new ModelSlot({
        ref: servable.name,
        name: servable.name,
        load: () => Promise.reject(new Error('a fixed model has no other version')),
        observer,
        now: this.#now,
      })
      this.#slots.set(slot.ref, slot)
      slot.install(new LoadedModel(this.#modelOptions(servable, undefined)))
    }
    for (const ref of options.refs ?? []) {
      const registry = options.registry
      if (registry === undefined) {
        throw new ScalemlError('INVALID_ARGUMENT', `Serving the reference '${ref}' needs a registry.`)
      }
      const parsed = parseModelRef(ref)
      if (this.#slots.has(ref)) throw new ScalemlError('INVALID_ARGUMENT', `The reference '${ref}' is listed twice.`)
      const slot = new ModelSlot({
        ref,
        name: parsed.name,
        resolve: async () => (await registry.resolve(ref)).version,
        load: (name, version) => this.#loadVersion(name, version),
        pinnedVersions: options.pinnedVersions ?? RUNTIME_DEFAULTS.pinnedVersions,
        observer,
        now: this.#now,
      })
      this.#slots.set(ref, slot)
    }
  }

  /**
   * Loads and warms every reference (throwing the first failure: a reference that does not resolve at start-up is
   * a mistake to report, not to serve around), warms fixed models, then starts polling.
   */
  async start(): Promise<void> {
    if (this.#started) return
    this.#started = true
    await Promise.all(
      [...this.#slots.values()].map(async (slot) => {
        if (slot.swappable) await slot.refresh({ throwOnFailure: true })
        else await this.#warmFixed(slot)
      }),
    )
    await this.#startWatch()
    this.#schedulePoll()
  }

  /** Adds an observer; returns the function that removes it. */
  observe(observer: RuntimeObserver): () => void {
    this.#observers.add(observer)
    return () => this.#observers.delete(observer)
  }

  /** The served references, in the order given. */
  get refs(): string[] {
    return [...this.#slots.keys()]
  }

  /** The slot of each served reference (read-only use: status, current version). */
  slots(): ModelSlot[] {
    return [...this.#slots.values()]
  }

  /**
   * The slot answering for `ref`: the reference as served, else the only served reference of that model name
   * (`flights` finds `flights@stable`). A `name:version` that is not served pins that version of a served model.
   * Throws `MODEL_NOT_FOUND` listing what is served.
   */
  lookup(ref: string): { readonly slot: ModelSlot; readonly version?: number } {
    const exact = this.#slots.get(ref)
    if (exact !== undefined) return { slot: exact }
    let parsed: ReturnType<typeof parseModelRef> | undefined
    try {
      parsed = parseModelRef(ref)
    } catch {
      parsed = undefined
    }
    if (parsed !== undefined && parsed.alias === undefined) {
      const candidates = [...this.#slots.values()].filter((slot) => slot.name === parsed.name)
      const slot =
        candidates.find((s) => s.ref === parsed.name) ?? (candidates.length === 1 ? candidates[0] : undefined)
      if (slot !== undefined) return parsed.version === undefined ? { slot } : { slot, version: parsed.version }
      if (candidates.length > 1) {
        throw new ScalemlError(
          'MODEL_NOT_FOUND',
          `'${ref}' is ambiguous: this server serves ${candidates.map((s) => `'${s.ref}'`).join(', ')}; name one.`,
        )
      }
    }
    const served = this.refs
    throw new ScalemlError(
      'MODEL_NOT_FOUND',
      `No model '${ref}' is served here.${served.length ? ` Served: ${served.join(', ')}.` : ' No model is served.'}`,
    )
  }

  /**
   * Predicts the rows of `body` (`{"instances": […]}` or `{"inputs": […]}`) with the version `ref` answers with now
   * (or the pinned one). Throws `INVALID_INPUT`, `PAYLOAD_TOO_LARGE`, `OVERLOADED`, `MODEL_NOT_FOUND`, or
   * `MODEL_UNAVAILABLE` when the model fails or times out and no fallback is configured.
   */
  async predict(ref: string, body: unknown, options: CallOptions = {}): Promise<PredictAnswer> {
    const result = await this.#predict(ref, body, options)
    if (!('slice' in result)) return result
    const { loaded, slice } = result
    return { model: loaded.id, predictions: predictionObjects(loaded.fields, sliceColumns(slice), slice.rows) }
  }

  /**
   * {@link predict}, answered as the JSON text of its {@link PredictAnswer}: what the HTTP route sends. The text is
   * written straight from the batch's prediction columns, without a row object per prediction.
   */
  async predictJson(ref: string, body: unknown, options?: CallOptions): Promise<PredictJson> {
    const result = await this.#predict(ref, body, options)
    if (!('slice' in result)) return { model: result.model, json: JSON.stringify(result) }
    const { loaded, slice } = result
    return { model: loaded.id, json: loaded.writer.answer(slice.values, slice.offset, slice.rows) }
  }

  /** The answer as the request's rows of its batch (computed now), or as objects (from the cache or the fallback). */
  async #predict(ref: string, body: unknown, options: CallOptions | undefined): Promise<PredictAnswer | Predicted> {
    const leased = this.#lease(ref, options)
    // The current version is leased synchronously: no extra turn for the common case.
    const model = leased instanceof Promise ? await leased : leased
    try {
      const id = model.id
      const read = model.reader.readRows(body)
      const rows = read.length
      const cache = this.#options.cache
      const keys = cache === undefined ? undefined : cacheKeys(model, read.rows)
      if (cache !== undefined && keys !== undefined) {
        const cached = await Promise.all(keys.map((key) => cache.get(key)))
        const misses = cached.filter((c) => c === undefined).length
        this.#emit('cache', id, cached.length - misses, misses)
        if (misses === 0) return { model: id, predictions: cached as PredictionObject[] }
      }
      let slice: BatchSlice
      try {
        slice = await model.batcher.submitSlice(read, this.#submitOptionsFor(model.name))
      } catch (error) {
        // A full queue is the client's signal to back off (429), not a model failure.
        if (error instanceof OverloadedError) throw error
        return this.#fallback(model, rows, error)
      }
      this.#emitPredicted(id, rows)
      if (cache !== undefined && keys !== undefined) {
        const predictions = predictionObjects(model.fields, sliceColumns(slice), rows)
        for (let r = 0; r < keys.length; r++) void cache.set(keys[r]!, predictions[r])
      }
      return { loaded: model, slice }
    } finally {
      model.release()
    }
  }

  /**
   * Predictions and per-feature contributions (TreeSHAP) of the rows of `body`; `UNSUPPORTED_OPERATION` for a
   * model without contributions. Runs at once, outside the micro-batcher.
   */
  async explain(ref: string, body: unknown, options: CallOptions = {}): Promise<ExplainAnswer> {
    const model = await this.#lease(ref, options)
    try {
      const explainer = model.explainer()
      const read = model.explainReader.read(body)
      const { values, explanations } = explainer.explain(read.batch)
      return {
        model: { name: model.name, version: model.version },
        predictions: predictionObjects(model.fields, values, read.batch.length),
        explanations,
      }
    } finally {
      model.release()
    }
  }

  /** Describes the model `ref` answers with (schema, version, metrics, queue). */
  describe(ref: string): ModelDescription {
    const { slot } = this.lookup(ref)
    return this.#describe(slot)
  }

  /** Every served reference, described. */
  list(): ModelDescription[] {
    return this.slots().map((slot) => this.#describe(slot))
  }

  /** Ready when every reference has a loaded, warmed version and the runtime is not shutting down. */
  readiness(): Readiness {
    const reasons: string[] = []
    const models = this.slots().map((slot) => {
      const status = slot.status()
      if (status.state !== 'ready') reasons.push(status.reason ?? `${slot.ref}: ${status.state}`)
      return {
        ref: slot.ref,
        state: status.state,
        ...(status.version === undefined ? {} : { version: status.version }),
      }
    })
    if (this.#closing) reasons.unshift('shutting down')
    if (this.#slots.size === 0) reasons.push('no model is served')
    return { ready: reasons.length === 0, reasons, models }
  }

  /** Resolves every reference now and swaps where the version changed (what the poller does). */
  async refresh(): Promise<void> {
    await Promise.all(this.slots().map((slot) => slot.refresh()))
  }

  /**
   * Stops polling, waits for queued and running batches, and releases every version and the threads. Call after
   * the HTTP server stopped taking requests. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closing) return
    this.#closing = true
    if (this.#poller !== undefined) clearTimeout(this.#poller)
    this.#poller = undefined
    const stopWatch = this.#stopWatch
    this.#stopWatch = undefined
    await stopWatch?.().catch(() => {})
    const current = this.slots().flatMap((slot) => (slot.current === undefined ? [] : [slot.current]))
    await Promise.all(current.map((model) => model.batcher.drain()))
    for (const slot of this.slots()) slot.close()
    await this.#pool?.close()
    await this.#options.cache?.close()
  }

  /** True once {@link close} was called. */
  get closing(): boolean {
    return this.#closing
  }

  /** The version answering `ref` (or the pinned one), leased; synchronous unless a pinned version must load. */
  #lease(ref: string, options: CallOptions | undefined): LoadedModel | Promise<LoadedModel> {
    if (this.#closing) throw new ScalemlError('MODEL_UNAVAILABLE', 'The server is shutting down.')
    const exact = this.#slots.get(ref)
    if (exact !== undefined && options?.version === undefined) return exact.leaseCurrent()
    const { slot, version } = this.lookup(ref)
    const pinned = options?.version === undefined ? version : parseVersionHeader(options.version)
    return pinned === undefined ? slot.leaseCurrent() : slot.leaseVersion(pinned)
  }

  #submitOptionsFor(name: string): SubmitOptions | undefined {
    if (this.#submitOptions.has(name)) return this.#submitOptions.get(name)
    const timeoutMs = this.#options.timeouts?.get(name) ?? this.#options.timeoutMs
    const options = timeoutMs === undefined ? undefined : Object.freeze({ timeoutMs })
    this.#submitOptions.set(name, options)
    return options
  }

  #fallback(model: LoadedModel, rows: number, error: unknown): PredictAnswer {
    const reason: 'timeout' | 'error' = error instanceof PredictTimeoutError ? 'timeout' : 'error'
    const message =
      error instanceof PredictTimeoutError
        ? `${model.key} did not answer in time: ${error.message} (--timeout-ms ${error.timeoutMs})`
        : error instanceof BatcherClosedError
          ? `${model.key} was released before answering`
          : `${model.key} failed: ${(error as Error)?.message ?? String(error)}`
    const fallback = this.#options.fallback?.get(model.name) ?? this.#options.fallback?.get('*')
    if (reason === 'error') this.#options.log?.warn({ model: model.key, err: error }, 'model failed')
    if (fallback === undefined) {
      throw new ScalemlError('MODEL_UNAVAILABLE', `${message}; no fallback is configured.`, [], { cause: error })
    }
    const id = model.id
    this.#emit('fallback', id, reason)
    const prediction = { ...fallback, fallback: true }
    return { model: id, predictions: new Array(rows).fill(prediction), fallback: true, reason: message }
  }

  async #loadVersion(name: string, version: number): Promise<LoadedModel> {
    const started = this.#now()
    let stage: 'load' | 'warm' = 'load'
    let model: LoadedModel | undefined
    try {
      const load = this.#options.load ?? ((n, v) => loadServableModel(this.#options.registry!, `${n}:${v}`))
      const servable = await load(name, version)
      model = await loadModel(this.#modelOptions(servable, this.#poolFor(servable)))
      stage = 'warm'
      await model.warm()
      const seconds = (this.#now() - started) / 1000
      model.loadSeconds = seconds
      this.#emit('load', { name, version, ok: true, seconds })
      this.#options.log?.info({ model: `${name}:${version}`, seconds }, 'model loaded and warmed')
      return model
    } catch (error) {
      model?.retire()
      const seconds = (this.#now() - started) / 1000
      const message = (error as Error)?.message ?? String(error)
      this.#emit('load', { name, version, ok: false, stage, seconds, error: message })
      throw new ScalemlError(
        isCode(error, 'MODEL_NOT_FOUND') ? 'MODEL_NOT_FOUND' : 'MODEL_UNAVAILABLE',
        `${name}:${version} failed to ${stage === 'load' ? 'load' : 'warm up'}: ${message}`,
        [],
        { cause: error },
      )
    }
  }

  async #warmFixed(slot: ModelSlot): Promise<void> {
    const model = slot.current!
    const started = this.#now()
    try {
      await model.warm()
      model.loadSeconds = (this.#now() - started) / 1000
      this.#emit('load', { name: model.name, version: model.version, ok: true, seconds: model.loadSeconds })
    } catch (error) {
      const message = (error as Error)?.message ?? String(error)
      this.#emit('load', {
        name: model.name,
        version: model.version,
        ok: false,
        stage: 'warm',
        seconds: (this.#now() - started) / 1000,
        error: message,
      })
      throw new ScalemlError('MODEL_UNAVAILABLE', `${model.key} failed to warm up: ${message}`, [], { cause: error })
    }
  }

  #modelOptions(servable: ServableModel, pool: PredictThreadPool | undefined) {
    return {
      servable,
      input: this.#options.input ?? {},
      maxExplainInstances: this.#options.maxExplainInstances ?? RUNTIME_DEFAULTS.maxExplainInstances,
      batching: this.batching,
      pool,
      now: this.#now,
      onBatch: (model: LoadedModel, report: BatchReport) => this.#emit('batch', model.id, report),
    }
  }

  #poolFor(servable: ServableModel): PredictThreadPool | undefined {
    // onnxruntime's run is synchronous under its Promise: an ONNX model always runs on a thread.
    const heavy = this.#heavy.has('*') || this.#heavy.has(servable.name) || isOnnxModel(servable.model)
    if (!heavy) return undefined
    this.#pool ??= createPredictThreadPool({ threads: this.#options.threads ?? RUNTIME_DEFAULTS.threads })
    return this.#pool
  }

  /**
   * Watches the registry when it can notify changes (and hot swap is on): a change to a model refreshes its slots;
   * `undefined` (notifications may have been lost) refreshes all. A watch that cannot start is logged, and polling
   * alone carries on at `pollMs`.
   */
  async #startWatch(): Promise<void> {
    const registry = this.#options.registry
    const pollMs = this.#options.pollMs ?? RUNTIME_DEFAULTS.pollMs
    if (registry === undefined || this.#options.watch === false || pollMs <= 0) return
    if (!this.slots().some((slot) => slot.swappable)) return
    try {
      const stop = await registry.watch((name) => {
        if (this.#closing) return
        for (const slot of this.slots()) {
          if (slot.swappable && (name === undefined || slot.name === name)) void slot.refresh({ afterChange: true })
        }
      })
      if (stop !== undefined && this.#closing) await stop()
      else this.#stopWatch = stop
    } catch (error) {
      this.#options.log?.warn({ error: (error as Error).message }, 'registry watch failed; polling only')
    }
  }

  /** True while the registry's change notifications drive hot swap. */
  get watching(): boolean {
    return this.#stopWatch !== undefined
  }

  #schedulePoll(): void {
    const basePollMs = this.#options.pollMs ?? RUNTIME_DEFAULTS.pollMs
    const pollMs = this.#stopWatch === undefined ? basePollMs : Math.max(basePollMs, RUNTIME_DEFAULTS.watchedPollMs)
    if (basePollMs <= 0 || this.#closing || !this.slots().some((slot) => slot.swappable)) return
    this.#poller = setTimeout(() => {
      this.refresh().finally(() => this.#schedulePoll())
    }, pollMs)
    // The HTTP server keeps the process alive; the poller alone must not.
    this.#poller.unref()
  }

  #slotObserver() {
    return {
      swapped: (slot: ModelSlot, from: number | undefined, to: number, at: number) => {
        this.#emit('swap', { ref: slot.ref, name: slot.name, ...(from === undefined ? {} : { from }), to, at })
        if (from !== undefined) this.#options.log?.info({ ref: slot.ref, from, to }, 'model version swapped')
      },
      failed: (slot: ModelSlot, version: number | undefined, error: unknown) => {
        this.#options.log?.warn(
          {
            ref: slot.ref,
            version,
            serving: slot.current?.version,
            reason: (error as Error)?.message ?? String(error),
          },
          version === undefined
            ? 'could not resolve the model reference; the current version keeps serving'
            : 'new model version failed to load or warm; the current version keeps serving',
        )
      },
    }
  }

  #describe(slot: ModelSlot): ModelDescription {
    const status = slot.status()
    const model = slot.current
    const common = {
      ref: slot.ref,
      name: slot.name,
      state: status.state,
      ...(status.reason === undefined ? {} : { reason: status.reason }),
      batching: this.batching,
      swaps: status.swaps,
      failures: status.failures,
      pinned: status.pinned,
      ...(status.loading === undefined ? {} : { loading: status.loading }),
    }
    if (model === undefined) return common
    const { manifest } = model.servable
    return {
      ...common,
      version: model.version,
      task: manifest.task,
      modelKind: manifest.modelKind,
      created: manifest.created,
      inputs: model.reader.fields,
      ...(manifest.target === undefined ? {} : { target: manifest.target }),
      features: manifest.features,
      outputs: model.fields,
      metrics: manifest.metrics,
      explain: canExplain(model.servable),
      heavy: model.heavy,
      queue: model.batcher.stats(),
    }
  }

  /** {@link RuntimeObserver.predicted}, once per request: without the generic path's argument array. */
  #emitPredicted(model: ModelId, rows: number): void {
    for (const observer of this.#observers) {
      if (observer.predicted === undefined) continue
      try {
        observer.predicted(model, rows)
      } catch (error) {
        this.#options.log?.warn({ err: error, event: 'predicted' }, 'runtime observer failed')
      }
    }
  }

  #emit<K extends keyof RuntimeObserver>(kind: K, ...args: Parameters<NonNullable<RuntimeObserver[K]>>): void {
    for (const observer of this.#observers) {
      const method = observer[kind] as ((...a: unknown[]) => void) | undefined
      if (method !== undefined) {
        try {
          method.apply(observer, args)
        } catch (error) {
          // An observer (metrics, a test) must never fail a request.
          this.#options.log?.warn({ err: error, event: kind }, 'runtime observer failed')
        }
      }
    }
  }
}

/**
 * A runtime over `options` (not started: call `start()`).
 *
 * @example
 * const runtime = createServingRuntime({ registry, refs: ['flights@stable'], batching: { maxBatchSize: 128 } })
 * await runtime.start()
 * const answer = await runtime.predict('flights', { instances: [record] })
 */
export function createServingRuntime(options: ServingRuntimeOptions): ServingRuntime {
  return new ServingRuntime(options)
}

/** The `x-model-version` header as a version; `INVALID_ARGUMENT` unless a whole number ≥ 1. */
export function parseVersionHeader(text: string): number {
  if (!VERSION_HEADER.test(text)) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `The x-model-version header must be a version number like 3; got ${JSON.stringify(text.slice(0, 40))}.`,
      [{ code: 'invalid_value', path: ['x-model-version'], message: 'Expected a whole number ≥ 1.' }],
    )
  }
  return Number(text)
}

/** One cache key per row: the model version and the row's schema fields only (unknown fields do not split keys). */
function cacheKeys(model: LoadedModel, rows: readonly unknown[]): string[] {
  const fields = model.reader.fields
  return rows.map((row) => {
    const canonical: Record<string, unknown> = {}
    const array = Array.isArray(row)
    for (let j = 0; j < fields.length; j++) {
      const name = fields[j]!.name
      canonical[name] = array ? (row as unknown[])[j] : (row as Record<string, unknown>)[name]
    }
    return predictionCacheKey(model.name, model.version, canonical)
  })
}

function checkPositive(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new ScalemlError('INVALID_ARGUMENT', `${name} must be a whole number ≥ 1; got ${value}.`)
  }
}

function isCode(error: unknown, code: string): boolean {
  return error instanceof ScalemlError && error.code === code
}
