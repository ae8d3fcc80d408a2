/**
 * A served reference (`flights`, `flights@stable`, `flights:3`) and the model version answering for it, swapped
 * without failing a request: when the reference resolves to another version, the new version is loaded and warmed
 * aside, then becomes current in one assignment; requests that already hold the old version finish on it, and the
 * last one to finish releases it. A version that fails to load or warm leaves the current one serving, is counted,
 * and is retried only after a growing back-off.
 *
 * A request may pin a version of the same model (`x-model-version`): pinned versions are loaded on demand and kept
 * in a small least-recently-used set.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { LoadedModel } from './loaded-model.js'

/** Loads and warms version `version` of `name`; throws when either fails. */
export type LoadVersion = (name: string, version: number) => Promise<LoadedModel>

/** What a slot reports to the runtime. */
export interface SlotObserver {
  /** The current version changed (at `at`, in the runtime's clock). */
  swapped?(slot: ModelSlot, from: number | undefined, to: number, at: number): void
  /** A version failed to load or warm, or the reference failed to resolve. */
  failed?(slot: ModelSlot, version: number | undefined, error: unknown): void
}

/** Options of {@link ModelSlot}. */
export interface ModelSlotOptions {
  /** The reference as served (`flights@stable`). */
  readonly ref: string
  /** The model name the reference names. */
  readonly name: string
  /** Resolves the reference to a version now; absent for a fixed model (no hot swap). */
  readonly resolve?: () => Promise<number>
  readonly load: LoadVersion
  /** Most pinned versions kept loaded (default 4). */
  readonly pinnedVersions?: number
  readonly observer?: SlotObserver
  readonly now?: () => number
}

/** Slot state for readiness and the model description. */
export interface SlotStatus {
  readonly ref: string
  readonly name: string
  /** The version answering, if any. */
  readonly version?: number
  readonly state: 'loading' | 'ready' | 'failed'
  /** Why it is not ready, or why the last swap failed. */
  readonly reason?: string
  /** The version being loaded now, if any. */
  readonly loading?: number
  readonly swaps: number
  readonly failures: number
  readonly pinned: readonly number[]
}

const FIRST_RETRY_MS = 1_000
const MAX_RETRY_MS = 60_000

/** See the module comment. */
export class ModelSlot {
  readonly ref: string
  readonly name: string
  /** Swaps done (the first load counts as one). */
  swaps = 0
  /** Versions that failed to load or warm. */
  failures = 0
  #current: LoadedModel | undefined
  #loadingVersion: number | undefined
  #refreshing: Promise<void> | undefined
  /** A refresh queued behind the running one (see `afterChange`). */
  #queued: Promise<void> | undefined
  #lastError: string | undefined
  /** version → when it may be tried again and the back-off that set it. */
  readonly #failed = new Map<number, { retryAt: number; backoffMs: number }>()
  readonly #pinned = new Map<number, Promise<LoadedModel>>()
  readonly #options: ModelSlotOptions
  readonly #now: () => number
  #closed = false

  constructor(options: ModelSlotOptions) {
    this.ref = options.ref
    this.name = options.name
    this.#options = options
    this.#now = options.now ?? (() => performance.now())
  }

  /** The version answering now, or undefined before the first successful load. */
  get current(): LoadedModel | undefined {
    return this.#current
  }

  /** True when the reference can change version (it is resolved through the registry). */
  get swappable(): boolean {
    return this.#options.resolve !== undefined
  }

  /**
   * Installs `model` as the current version (a fixed model, or the first load done by the caller), retiring the
   * previous one.
   */
  install(model: LoadedModel): void {
    const previous = this.#current
    this.#current = model
    this.swaps++
    this.#lastError = undefined
    this.#options.observer?.swapped?.(this, previous?.version, model.version, this.#now())
    if (previous !== undefined && previous !== model) previous.retire()
  }

  /**
   * Resolves the reference and swaps to its version when it changed. With `throwOnFailure` (the first load at
   * start-up) a failure is thrown; otherwise it is recorded, reported to the observer, and the current version keeps
   * serving. Concurrent calls share one refresh, except with `afterChange` (the registry just said the model
   * changed): a refresh already running may have resolved before the change, so one more runs after it.
   */
  refresh(options: { readonly throwOnFailure?: boolean; readonly afterChange?: boolean } = {}): Promise<void> {
    if (this.#refreshing !== undefined) {
      if (options.afterChange !== true) return this.#refreshing
      this.#queued ??= this.#refreshing
        .catch(() => {})
        .then(() => {
          this.#queued = undefined
          return this.refresh()
        })
      return this.#queued
    }
    const run = this.#refresh(options.throwOnFailure === true).finally(() => {
      this.#refreshing = undefined
    })
    this.#refreshing = run
    return run
  }

  async #refresh(throwOnFailure: boolean): Promise<void> {
    const resolve = this.#options.resolve
    if (resolve === undefined || this.#closed) return
    let version: number
    try {
      version = await resolve()
    } catch (error) {
      this.#recordFailure(undefined, error, !throwOnFailure)
      if (throwOnFailure) throw error
      return
    }
    if (version === this.#current?.version || this.#closed) return
    const failed = this.#failed.get(version)
    if (failed !== undefined && this.#now() < failed.retryAt && !throwOnFailure) return
    this.#loadingVersion = version
    try {
      const next = (await this.#takePinned(version)) ?? (await this.#options.load(this.name, version))
      if (this.#closed) {
        next.retire()
        return
      }
      this.#failed.delete(version)
      this.install(next)
    } catch (error) {
      const backoffMs = Math.min(MAX_RETRY_MS, failed === undefined ? FIRST_RETRY_MS : failed.backoffMs * 2)
      this.#failed.set(version, { retryAt: this.#now() + backoffMs, backoffMs })
      this.failures++
      this.#recordFailure(version, error, !throwOnFailure)
      if (throwOnFailure) throw error
    } finally {
      this.#loadingVersion = undefined
    }
  }

  /**
   * The current version, with a reference taken (release it with `release()`). Throws `MODEL_UNAVAILABLE` before
   * the first load.
   */
  leaseCurrent(): LoadedModel {
    const current = this.#current
    if (current === undefined || !current.tryAcquire()) {
      const why = this.#lastError === undefined ? 'it is still loading' : `loading failed: ${this.#lastError}`
      throw new ScalemlError('MODEL_UNAVAILABLE', `${this.ref} has no version ready yet (${why}).`)
    }
    return current
  }

  /**
   * Version `version` of this slot's model with a reference taken: the current one when it matches, else a pinned
   * version, loaded on first use (`MODEL_NOT_FOUND` when the model has no such version).
   */
  async leaseVersion(version: number): Promise<LoadedModel> {
    // A pinned version can be evicted between its load and our acquire; look it up again then.
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = this.#current
      if (current?.version === version && current.tryAcquire()) return current
      if (!this.swappable) {
        throw new ScalemlError(
          'MODEL_NOT_FOUND',
          `${this.ref} serves version ${current?.version ?? 'none'} only; version ${version} cannot be pinned.`,
        )
      }
      const model = await this.#pinnedVersion(version)
      if (model.tryAcquire()) return model
    }
    throw new ScalemlError('MODEL_UNAVAILABLE', `Version ${version} of ${this.name} keeps being evicted; retry.`)
  }

  #pinnedVersion(version: number): Promise<LoadedModel> {
    const found = this.#pinned.get(version)
    if (found !== undefined) {
      // Most recently used last.
      this.#pinned.delete(version)
      this.#pinned.set(version, found)
      return found
    }
    const loading = this.#options.load(this.name, version)
    this.#pinned.set(version, loading)
    loading.catch(() => {
      if (this.#pinned.get(version) === loading) this.#pinned.delete(version)
    })
    const limit = this.#options.pinnedVersions ?? 4
    while (this.#pinned.size > limit) {
      const [oldest, evicted] = this.#pinned.entries().next().value as [number, Promise<LoadedModel>]
      this.#pinned.delete(oldest)
      evicted.then(
        (model) => model.retire(),
        () => {},
      )
    }
    return loading
  }

  /** A pinned, loaded copy of `version` (moved out of the pinned set), or undefined. */
  async #takePinned(version: number): Promise<LoadedModel | undefined> {
    const pinned = this.#pinned.get(version)
    if (pinned === undefined) return undefined
    this.#pinned.delete(version)
    try {
      return await pinned
    } catch {
      return undefined
    }
  }

  /** Remembers why; tells the observer unless the caller reports the error itself (`report` false). */
  #recordFailure(version: number | undefined, error: unknown, report: boolean): void {
    this.#lastError = (error as Error)?.message ?? String(error)
    if (report) this.#options.observer?.failed?.(this, version, error)
  }

  /** Readiness and counters. */
  status(): SlotStatus {
    const current = this.#current
    const pinned = [...this.#pinned.keys()]
    const base = {
      ref: this.ref,
      name: this.name,
      swaps: this.swaps,
      failures: this.failures,
      pinned,
      ...(this.#loadingVersion === undefined ? {} : { loading: this.#loadingVersion }),
    }
    if (current === undefined) {
      return this.#lastError === undefined
        ? { ...base, state: 'loading', reason: `${this.ref}: loading` }
        : { ...base, state: 'failed', reason: `${this.ref}: loading failed: ${this.#lastError}` }
    }
    if (!current.warmed)
      return { ...base, version: current.version, state: 'loading', reason: `${this.ref}: warming up` }
    return {
      ...base,
      version: current.version,
      state: 'ready',
      ...(this.#lastError === undefined ? {} : { reason: `last swap failed: ${this.#lastError}` }),
    }
  }

  /** Stops swapping and retires every version (each is released when its last request finishes). */
  close(): void {
    this.#closed = true
    this.#current?.retire()
    for (const pinned of this.#pinned.values()) {
      pinned.then(
        (model) => model.retire(),
        () => {},
      )
    }
    this.#pinned.clear()
  }
}
