/**
 * The prediction cache: answers already computed for an input, keyed by model version and canonical input, so a
 * repeated request skips the model. Two tiers: an in-process LRU with entry, size and TTL bounds
 * ({@link createLruCache}), and an optional shared Redis tier that every replica reads and fills
 * ({@link createTieredCache}). A cache is an optimisation only: the Redis tier never fails a prediction — its
 * errors are counted and the lookup falls back to the local tier.
 *
 * Keys come from {@link predictionCacheKey}; they start with `name:version:`, so an answer cached for one version is
 * never returned for another. This module knows nothing about HTTP or models.
 * @module
 */
import { hash as oneShotHash } from 'node:crypto'
import { Redis } from 'ioredis'
import { ScalemlError } from '../core/errors.js'

/** What a cache has done since it was created. */
export interface PredictionCacheStats {
  /** Lookups answered (from any tier). */
  readonly hits: number
  /** Lookups that found nothing. */
  readonly misses: number
  /** Entries held in process. */
  readonly entries: number
  /** Size of the entries held in process: key length plus JSON length of the value, in characters. */
  readonly bytes: number
}

/** A cache of predictions by key. Values are stored by reference: treat them as immutable once cached. */
export interface PredictionCache {
  /** The value cached under `key`, or `undefined`. Never rejects. */
  get(key: string): Promise<unknown | undefined>
  /**
   * Caches `value` (anything `JSON.stringify` can write) under `key`. Never rejects; a caller on the hot path need
   * not await it.
   */
  set(key: string, value: unknown): Promise<void>
  stats(): PredictionCacheStats
  /** Frees the cache (and closes its connections). Idempotent. */
  close(): Promise<void>
}

/** Options of {@link createLruCache}. */
export interface LruCacheOptions {
  /** Most entries held; the least recently used goes first. */
  readonly maxEntries: number
  /** Most {@link PredictionCacheStats.bytes} held (default: no bound). A single larger entry is not cached. */
  readonly maxBytes?: number
  /** Time to live of an entry in milliseconds from when it was set (default: none). */
  readonly ttlMs?: number
  /** Clock in milliseconds (default `performance.now`, which never goes back); for tests. */
  readonly now?: () => number
}

/** The in-process tier: {@link PredictionCache} plus synchronous access for callers that can skip a Promise. */
export interface LruPredictionCache extends PredictionCache {
  getSync(key: string): unknown | undefined
  setSync(key: string, value: unknown): void
}

const NONE = -1

/**
 * An LRU cache with O(1) `get` and `set`: a `Map` from key to slot, and a doubly linked recency list kept in typed
 * arrays over the slots (no node object per entry). Entries are sized by the length of their JSON.
 */
export function createLruCache(options: LruCacheOptions): LruPredictionCache {
  const { maxEntries, maxBytes = Number.POSITIVE_INFINITY, ttlMs } = options
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new ScalemlError('INVALID_ARGUMENT', `Cache option maxEntries must be an integer ≥ 1; got ${maxEntries}.`)
  }
  if (!(maxBytes > 0)) {
    throw new ScalemlError('INVALID_ARGUMENT', `Cache option maxBytes must be a number > 0; got ${maxBytes}.`)
  }
  if (ttlMs !== undefined && !(ttlMs > 0)) {
    throw new ScalemlError('INVALID_ARGUMENT', `Cache option ttlMs must be a number of milliseconds > 0; got ${ttlMs}.`)
  }
  const now = options.now ?? (() => performance.now())

  const index = new Map<string, number>()
  const initialCapacity = Math.min(maxEntries, 1024)
  let capacity = initialCapacity
  let keys: (string | undefined)[] = new Array(capacity)
  let values: unknown[] = new Array(capacity)
  let prev = new Int32Array(capacity)
  let next = new Int32Array(capacity)
  let sizes = new Float64Array(capacity)
  let expires = new Float64Array(capacity)
  /** Most and least recently used slots. */
  let head = NONE
  let tail = NONE
  /** Slots never used yet start at `used`; freed slots are chained through `next` from `free`. */
  let used = 0
  let free = NONE
  let bytes = 0
  let hits = 0
  let misses = 0

  const clear = () => {
    index.clear()
    capacity = initialCapacity
    keys = new Array(capacity)
    values = new Array(capacity)
    prev = new Int32Array(capacity)
    next = new Int32Array(capacity)
    sizes = new Float64Array(capacity)
    expires = new Float64Array(capacity)
    head = NONE
    tail = NONE
    used = 0
    free = NONE
    bytes = 0
  }
  const grow = () => {
    const size = Math.min(maxEntries, capacity * 2)
    const copy = <T extends Int32Array | Float64Array>(a: T, b: T): T => {
      b.set(a)
      return b
    }
    prev = copy(prev, new Int32Array(size))
    next = copy(next, new Int32Array(size))
    sizes = copy(sizes, new Float64Array(size))
    expires = copy(expires, new Float64Array(size))
    keys.length = size
    values.length = size
    capacity = size
  }
  const unlink = (slot: number) => {
    const p = prev[slot]!
    const n = next[slot]!
    if (p === NONE) head = n
    else next[p] = n
    if (n === NONE) tail = p
    else prev[n] = p
  }
  const pushFront = (slot: number) => {
    prev[slot] = NONE
    next[slot] = head
    if (head !== NONE) prev[head] = slot
    head = slot
    if (tail === NONE) tail = slot
  }
  const remove = (slot: number) => {
    unlink(slot)
    index.delete(keys[slot]!)
    bytes -= sizes[slot]!
    keys[slot] = undefined
    values[slot] = undefined
    next[slot] = free
    free = slot
  }
  const allocate = (): number => {
    if (free !== NONE) {
      const slot = free
      free = next[slot]!
      return slot
    }
    if (used === capacity && capacity < maxEntries) grow()
    if (used < capacity) return used++
    // Full: reuse the least recently used entry's slot.
    const slot = tail
    remove(slot)
    free = next[slot]!
    return slot
  }

  const getSync = (key: string): unknown | undefined => {
    const slot = index.get(key)
    if (slot === undefined) {
      misses++
      return undefined
    }
    if (ttlMs !== undefined && expires[slot]! <= now()) {
      remove(slot)
      misses++
      return undefined
    }
    if (slot !== head) {
      unlink(slot)
      pushFront(slot)
    }
    hits++
    return values[slot]
  }

  const setSync = (key: string, value: unknown): void => {
    const json = JSON.stringify(value) as string | undefined
    const existing = index.get(key)
    if (existing !== undefined) remove(existing)
    // `undefined` (or a function) has no JSON: it could not be told from a miss, so it is not cached.
    if (json === undefined) return
    const size = key.length + json.length
    if (size > maxBytes) return
    const slot = allocate()
    keys[slot] = key
    values[slot] = value
    sizes[slot] = size
    expires[slot] = ttlMs === undefined ? 0 : now() + ttlMs
    index.set(key, slot)
    pushFront(slot)
    bytes += size
    while (bytes > maxBytes && tail !== slot) remove(tail)
  }

  return {
    getSync,
    setSync,
    get: (key) => Promise.resolve(getSync(key)),
    set: (key, value) => {
      setSync(key, value)
      return Promise.resolve()
    },
    stats: () => ({ hits, misses, entries: index.size, bytes }),
    close: () => {
      clear()
      return Promise.resolve()
    },
  }
}

/** Options of {@link createTieredCache}. */
export interface TieredCacheOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`. */
  readonly url: string
  /** Time to live of the entries written to Redis, in milliseconds. Required: a shared cache must not grow forever. */
  readonly ttlMs: number
  /** Prefix of every Redis key (default `scaleml:predictions`); replicas that share entries use the same one. */
  readonly namespace?: string
  /**
   * Longest wait for one Redis command in milliseconds (default 250); past it the lookup counts a Redis error and
   * answers from the local tier.
   */
  readonly timeoutMs?: number
  /**
   * Told once per outage (for logs): the first failed command or connection error after Redis last worked. Every
   * failure is counted in {@link TieredCacheStats.remoteErrors}; read it at scrape time for metrics.
   */
  readonly onError?: (error: Error) => void
}

/** Statistics of a tiered cache: {@link PredictionCacheStats} over both tiers, and each tier's share. */
export interface TieredCacheStats extends PredictionCacheStats {
  readonly localHits: number
  readonly remoteHits: number
  /** Redis commands that failed or timed out (each one degraded to local-only). */
  readonly remoteErrors: number
  /** Operations that skipped Redis because it was not connected. */
  readonly remoteSkipped: number
  /** Whether the Redis connection is up now. */
  readonly remoteConnected: boolean
}

/** A two-tier cache; {@link createTieredCache}. */
export interface TieredPredictionCache extends PredictionCache {
  stats(): TieredCacheStats
}

const DEFAULT_NAMESPACE = 'scaleml:predictions'

/**
 * Adds a shared Redis tier behind `local`: `get` asks `local` first, then Redis, and fills `local` on a Redis hit;
 * `set` writes both (Redis with `PX ttlMs`). While Redis is down or slow, operations skip it or time out after
 * `timeoutMs`, count it in {@link TieredCacheStats}, and carry on with `local`; the client reconnects in the
 * background. `close()` also closes `local`.
 */
export function createTieredCache(local: PredictionCache, options: TieredCacheOptions): TieredPredictionCache {
  const { ttlMs, timeoutMs = 250, onError } = options
  let url: URL
  try {
    url = new URL(options.url)
  } catch {
    url = new URL('invalid:')
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      // Credentials in a mistyped URL stay out of the message (and the logs it ends up in).
      `The prediction cache URL must look like redis://host:6379; got '${options.url.replace(/\/\/[^@/]*@/, '//***@')}'.`,
    )
  }
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) {
    throw new ScalemlError('INVALID_ARGUMENT', `Cache option ttlMs must be an integer ≥ 1 (ms); got ${ttlMs}.`)
  }
  if (!(timeoutMs > 0)) {
    throw new ScalemlError('INVALID_ARGUMENT', `Cache option timeoutMs must be > 0; got ${timeoutMs}.`)
  }
  const prefix = `${options.namespace ?? DEFAULT_NAMESPACE}:`

  const client = new Redis(options.url, {
    // Fail fast instead of queueing commands while disconnected, and never retry a command: a cache lookup that
    // waits is worse than a miss.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(1000, timeoutMs),
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
    // The lookups of one request's rows (issued in the same tick) go out as one pipeline.
    enableAutoPipelining: true,
  })
  /** Whether the current outage was reported: a stalled Redis must not log once per request. */
  let reported = false
  const report = (error: unknown) => {
    if (reported) return
    reported = true
    onError?.(error instanceof Error ? error : new Error(String(error)))
  }
  client.on('ready', () => {
    reported = false
  })
  // Without a listener, ioredis prints every connection error.
  client.on('error', report)

  let hits = 0
  let misses = 0
  let localHits = 0
  let remoteHits = 0
  let remoteErrors = 0
  let remoteSkipped = 0
  let closed = false
  const pending = new Set<Promise<unknown>>()
  const failed = (error: unknown) => {
    remoteErrors++
    report(error)
  }
  const track = <T>(promise: Promise<T>): Promise<T> => {
    pending.add(promise)
    void promise.finally(() => pending.delete(promise)).catch(() => {})
    return promise
  }
  const ready = () => {
    if (!closed && client.status === 'ready') return true
    remoteSkipped++
    return false
  }

  return {
    async get(key) {
      const value = await local.get(key)
      if (value !== undefined) {
        hits++
        localHits++
        return value
      }
      if (ready()) {
        try {
          const raw = await track(client.get(prefix + key))
          reported = false
          if (raw !== null) {
            const remote: unknown = JSON.parse(raw)
            await local.set(key, remote)
            hits++
            remoteHits++
            return remote
          }
        } catch (error) {
          failed(error)
        }
      }
      misses++
      return undefined
    },
    async set(key, value) {
      await local.set(key, value)
      const json = JSON.stringify(value) as string | undefined
      if (json === undefined || !ready()) return
      try {
        await track(client.set(prefix + key, json, 'PX', ttlMs))
        reported = false
      } catch (error) {
        failed(error)
      }
    },
    stats() {
      const { entries, bytes } = local.stats()
      return {
        hits,
        misses,
        entries,
        bytes,
        localHits,
        remoteHits,
        remoteErrors,
        remoteSkipped,
        remoteConnected: !closed && client.status === 'ready',
      }
    },
    async close() {
      if (closed) return
      closed = true
      await Promise.allSettled([...pending])
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect())
      else client.disconnect()
      await local.close()
    },
  }
}

/**
 * The cache key of `input` for one model version: `name:version:` and a SHA-256 (base64url) of the input's
 * canonical JSON. Inputs that mean the same give the same key: object keys are sorted, `-0` is written as `0`, and
 * what `JSON.stringify` drops or turns into `null` (`undefined` fields, functions) is treated the same way. Inputs
 * that differ give different keys: `NaN`, `Infinity` and `-Infinity` are written as those bare words (which JSON
 * cannot contain, so they never collide with `null` or with the strings `"NaN"`, `"Infinity"`). A `bigint` or a
 * cycle is refused with `INVALID_INPUT`.
 *
 * @example
 * predictionCacheKey('flights', 3, { distance: 900, origin: 'SFO' }) === predictionCacheKey('flights', 3, { origin: 'SFO', distance: 900 })
 */
export function predictionCacheKey(model: string, version: number, input: unknown): string {
  if (typeof model !== 'string' || model === '') {
    throw new ScalemlError('INVALID_ARGUMENT', `A cache key needs a model name; got ${JSON.stringify(model)}.`)
  }
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new ScalemlError('INVALID_ARGUMENT', `A cache key needs an integer version ≥ 0; got ${version}.`)
  }
  // The hash has no ':' and the version is digits, so the key reads back unambiguously from the right even when
  // the model name contains ':'.
  return `${model}:${version}:${oneShotHash('sha256', canonicalJson(input), 'base64url')}`
}

/** The canonical JSON of {@link predictionCacheKey} (exported for tests and for documentation by example). */
export function canonicalJson(value: unknown): string {
  const out: string[] = []
  write(value, out, new Set())
  return out.join('')
}

function write(value: unknown, out: string[], ancestors: Set<object>): void {
  switch (typeof value) {
    case 'number':
      // String() is JSON's form for finite numbers and already writes -0 as 0; NaN and ±Infinity become bare words.
      out.push(String(value))
      return
    case 'string':
      out.push(JSON.stringify(value))
      return
    case 'boolean':
      out.push(value ? 'true' : 'false')
      return
    case 'bigint':
      throw new ScalemlError('INVALID_INPUT', 'A prediction input cannot contain a bigint (JSON has no such type).')
    case 'undefined':
    case 'function':
    case 'symbol':
      // Only reached inside arrays (object fields holding these are skipped) and at the top: JSON writes null.
      out.push('null')
      return
  }
  if (value === null) {
    out.push('null')
    return
  }
  const object = value as object
  const toJSON = (object as { toJSON?: unknown }).toJSON
  if (typeof toJSON === 'function') {
    write(toJSON.call(object), out, ancestors)
    return
  }
  if (ancestors.has(object)) {
    throw new ScalemlError('INVALID_INPUT', 'A prediction input cannot contain a cycle (it has no JSON).')
  }
  ancestors.add(object)
  if (Array.isArray(object)) {
    out.push('[')
    for (let i = 0; i < object.length; i++) {
      if (i > 0) out.push(',')
      write(object[i], out, ancestors)
    }
    out.push(']')
  } else {
    const record = object as Record<string, unknown>
    out.push('{')
    let first = true
    for (const key of Object.keys(record).sort()) {
      const field = record[key]
      if (field === undefined || typeof field === 'function' || typeof field === 'symbol') continue
      if (!first) out.push(',')
      first = false
      out.push(JSON.stringify(key), ':')
      write(field, out, ancestors)
    }
    out.push('}')
  }
  ancestors.delete(object)
}
