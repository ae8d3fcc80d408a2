import { randomUUID } from 'node:crypto'
import { connect, createServer, type Socket } from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import {
  canonicalJson,
  createLruCache,
  createTieredCache,
  type PredictionCache,
  predictionCacheKey,
} from './prediction-cache.js'

const REDIS_URL = process.env.SCALEML_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

describe('createLruCache', () => {
  it('evicts the least recently used entry, where a get counts as a use', async () => {
    const cache = createLruCache({ maxEntries: 3 })
    await cache.set('a', 1)
    await cache.set('b', 2)
    await cache.set('c', 3)
    expect(await cache.get('a')).toBe(1) // a is now the most recent; b the least
    await cache.set('d', 4)
    expect(await cache.get('b')).toBeUndefined()
    expect(await cache.get('a')).toBe(1)
    expect(await cache.get('c')).toBe(3)
    expect(await cache.get('d')).toBe(4)
    expect(cache.stats()).toEqual({ hits: 4, misses: 1, entries: 3, bytes: 3 * 2 })
  })

  it('sizes entries by key plus JSON length, evicts to stay under maxBytes, and skips an entry larger than it', () => {
    const cache = createLruCache({ maxEntries: 100, maxBytes: 40 })
    const value = { p: 0.25 } // {"p":0.25} is 10 characters
    cache.setSync('k1', value)
    expect(cache.stats().bytes).toBe(12)
    cache.setSync('k2', value)
    cache.setSync('k3', value)
    expect(cache.stats()).toMatchObject({ entries: 3, bytes: 36 })
    cache.setSync('k4', value) // 48 > 40: k1 goes
    expect(cache.stats()).toMatchObject({ entries: 3, bytes: 36 })
    expect(cache.getSync('k1')).toBeUndefined()
    cache.setSync('big', 'x'.repeat(100))
    expect(cache.getSync('big')).toBeUndefined()
    expect(cache.stats()).toMatchObject({ entries: 3, bytes: 36 }) // nothing evicted for it
    // Replacing a value under a key re-sizes it: k3 (12) + k4 (2 + 22) = 36 after evicting k2.
    cache.setSync('k4', { p: 0.5, label: true })
    expect(cache.getSync('k4')).toEqual({ p: 0.5, label: true })
    expect(cache.stats()).toMatchObject({ entries: 2, bytes: 12 + 2 + JSON.stringify({ p: 0.5, label: true }).length })
    expect(cache.getSync('k2')).toBeUndefined()
    expect(cache.getSync('k3')).toEqual(value)
  })

  it('expires entries ttlMs after they were set (and a set starts a new TTL)', () => {
    let clock = 1000
    const cache = createLruCache({ maxEntries: 10, ttlMs: 500, now: () => clock })
    cache.setSync('a', 'A')
    cache.setSync('b', 'B')
    clock = 1499
    expect(cache.getSync('a')).toBe('A')
    cache.setSync('b', 'B2')
    clock = 1500
    expect(cache.getSync('a')).toBeUndefined()
    expect(cache.stats().entries).toBe(1) // the expired entry is gone, not just hidden
    clock = 1998
    expect(cache.getSync('b')).toBe('B2')
    clock = 1999
    expect(cache.getSync('b')).toBeUndefined()
  })

  it('does not cache undefined (it could not be told from a miss), and close empties a cache that stays usable', async () => {
    const cache = createLruCache({ maxEntries: 10 })
    await cache.set('u', undefined)
    expect(cache.stats().entries).toBe(0)
    await cache.set('a', { x: 1 })
    await cache.close()
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 })
    expect(await cache.get('a')).toBeUndefined()
    await cache.set('a', 2)
    expect(await cache.get('a')).toBe(2)
  })

  it('agrees with a simple reference LRU over 20,000 random operations, across growth beyond 1,024 slots', () => {
    // Reference: a Map in recency order (delete + set moves a key to the end), the obvious correct LRU.
    const maxEntries = 3000
    const maxBytes = 40_000
    const cache = createLruCache({ maxEntries, maxBytes })
    const reference = new Map<string, { value: number[]; size: number }>()
    let referenceBytes = 0
    let seed = 12345
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    for (let op = 0; op < 20_000; op++) {
      const key = `key-${Math.floor(random() * 5000)}`
      if (random() < 0.5) {
        const entry = reference.get(key)
        if (entry) {
          reference.delete(key)
          reference.set(key, entry)
        }
        expect(cache.getSync(key)).toEqual(entry?.value)
      } else {
        const value = Array.from({ length: Math.floor(random() * 5) }, (_, i) => i)
        const size = key.length + JSON.stringify(value).length
        const old = reference.get(key)
        if (old) {
          reference.delete(key)
          referenceBytes -= old.size
        }
        reference.set(key, { value, size })
        referenceBytes += size
        while (reference.size > maxEntries || referenceBytes > maxBytes) {
          const [oldest, entry] = reference.entries().next().value as [string, { size: number }]
          reference.delete(oldest)
          referenceBytes -= entry.size
        }
        cache.setSync(key, value)
      }
      expect(cache.stats().entries).toBe(reference.size)
    }
    expect(cache.stats().bytes).toBe(referenceBytes)
    expect(reference.size).toBeGreaterThan(1024)
  })

  it('refuses bad options with INVALID_ARGUMENT naming the option', () => {
    for (const [options, name] of [
      [{ maxEntries: 0 }, 'maxEntries'],
      [{ maxEntries: 1.5 }, 'maxEntries'],
      [{ maxEntries: 10, maxBytes: 0 }, 'maxBytes'],
      [{ maxEntries: 10, ttlMs: -1 }, 'ttlMs'],
    ] as const) {
      expect(() => createLruCache(options)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
      expect(() => createLruCache(options)).toThrow(name)
    }
  })
})

describe('predictionCacheKey', () => {
  const record = { date: '2001-04-01T06:30:00Z', distance: 900, origin: 'SFO', destination: 'LAX' }

  it('is name:version: and a SHA-256 of the canonical input', () => {
    const key = predictionCacheKey('flights', 3, record)
    expect(key).toMatch(/^flights:3:[A-Za-z0-9_-]{43}$/)
  })

  it('never gives one key to two versions or two models of the same input', () => {
    const keys = new Set([
      predictionCacheKey('flights', 1, record),
      predictionCacheKey('flights', 2, record),
      predictionCacheKey('flights', 12, record),
      predictionCacheKey('flights-gbdt', 1, record),
      predictionCacheKey('flights:1', 2, record),
    ])
    expect(keys.size).toBe(5)
  })

  it('gives inputs that mean the same one key: field order, -0, undefined fields', () => {
    const reordered = { origin: 'SFO', destination: 'LAX', distance: 900, date: '2001-04-01T06:30:00Z' }
    expect(predictionCacheKey('m', 1, reordered)).toBe(predictionCacheKey('m', 1, record))
    expect(predictionCacheKey('m', 1, { x: -0 })).toBe(predictionCacheKey('m', 1, { x: 0 }))
    expect(predictionCacheKey('m', 1, { x: 1, y: undefined })).toBe(predictionCacheKey('m', 1, { x: 1 }))
    expect(predictionCacheKey('m', 1, { d: new Date(Date.UTC(2001, 3, 1)) })).toBe(
      predictionCacheKey('m', 1, { d: '2001-04-01T00:00:00.000Z' }),
    )
  })

  it('gives inputs that differ different keys: NaN vs null vs "NaN", Infinity, array order, nesting', () => {
    const inputs: unknown[] = [
      { x: null },
      { x: Number.NaN },
      { x: 'NaN' },
      { x: Number.POSITIVE_INFINITY },
      { x: Number.NEGATIVE_INFINITY },
      { x: 'Infinity' },
      { x: 0 },
      { x: '0' },
      { x: [1, 2] },
      { x: [2, 1] },
      { x: { y: 1 } },
      [{ x: 1 }],
      { x: 1 },
    ]
    expect(new Set(inputs.map((input) => predictionCacheKey('m', 1, input))).size).toBe(inputs.length)
  })

  it('writes the canonical JSON with sorted keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: [-0, Number.NaN, { d: null, c: 'x"y' }], e: undefined })).toBe(
      '{"a":[0,NaN,{"c":"x\\"y","d":null}],"b":1}',
    )
  })

  it('refuses a bigint, a cycle, an empty model name and a non-integer version', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic['self'] = cyclic
    expect(() => predictionCacheKey('m', 1, { n: 1n })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }))
    expect(() => predictionCacheKey('m', 1, cyclic)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }))
    expect(() => predictionCacheKey('', 1, {})).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => predictionCacheKey('m', 1.5, {})).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    // Shared objects that are not cycles are fine.
    const shared = { a: 1 }
    expect(canonicalJson({ x: shared, y: shared })).toBe('{"x":{"a":1},"y":{"a":1}}')
  })
})

describe('createTieredCache (real Redis)', () => {
  let admin: Redis
  let namespace: string
  const open: PredictionCache[] = []
  const tiered = (options: { url?: string; ttlMs?: number; timeoutMs?: number; onError?: (e: Error) => void } = {}) => {
    const cache = createTieredCache(createLruCache({ maxEntries: 1000 }), {
      url: options.url ?? REDIS_URL,
      ttlMs: options.ttlMs ?? 60_000,
      namespace,
      // Generous: the machine is shared; the timeout test sets its own.
      timeoutMs: options.timeoutMs ?? 5000,
      ...(options.onError ? { onError: options.onError } : {}),
    })
    open.push(cache)
    return cache
  }
  const connected = async (cache: ReturnType<typeof tiered>) => {
    for (let i = 0; i < 200 && !cache.stats().remoteConnected; i++) await new Promise((r) => setTimeout(r, 10))
    expect(cache.stats().remoteConnected).toBe(true)
  }

  beforeAll(() => {
    admin = new Redis(REDIS_URL)
  })
  afterAll(async () => {
    await admin.quit()
  })
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()))
    const keys = await admin.keys(`${namespace}:*`)
    if (keys.length > 0) await admin.del(...keys)
  })
  // A fresh namespace per test, so tests (and other runs on the same Redis) never see each other's entries.
  const fresh = () => {
    namespace = `scaleml-test:prediction-cache:${randomUUID()}`
  }

  it('shares entries between two replicas: one computes, the other reads Redis and then answers locally', async () => {
    fresh()
    const a = tiered()
    const b = tiered()
    await Promise.all([connected(a), connected(b)])
    const key = predictionCacheKey('flights', 1, { distance: 900 })
    const answer = { probability: 0.31, label: false }
    await a.set(key, answer)
    expect(JSON.parse((await admin.get(`${namespace}:${key}`))!)).toEqual(answer)
    expect(await b.get(key)).toEqual(answer)
    expect(b.stats()).toMatchObject({ hits: 1, misses: 0, remoteHits: 1, localHits: 0, entries: 1 })
    expect(await b.get(key)).toEqual(answer) // filled locally on the Redis hit
    expect(b.stats()).toMatchObject({ hits: 2, remoteHits: 1, localHits: 1 })
    expect(await b.get(predictionCacheKey('flights', 1, { distance: 901 }))).toBeUndefined()
    expect(b.stats()).toMatchObject({ misses: 1, remoteErrors: 0 })
  })

  it('answers the rows of a 100-row request looked up at once (pipelined) each with its own entry', async () => {
    fresh()
    const a = tiered()
    const b = tiered()
    await Promise.all([connected(a), connected(b)])
    const keys = Array.from({ length: 100 }, (_, i) => predictionCacheKey('flights', 1, { distance: i }))
    await Promise.all(keys.map((key, i) => a.set(key, { probability: i / 100 })))
    const answers = await Promise.all([...keys, 'absent'].map((key) => b.get(key)))
    expect(answers).toEqual([...keys.map((_, i) => ({ probability: i / 100 })), undefined])
    expect(b.stats()).toMatchObject({ remoteHits: 100, misses: 1, entries: 100, remoteErrors: 0 })
  })

  it('never answers one version with an entry another version cached, in either tier', async () => {
    fresh()
    const a = tiered()
    const b = tiered()
    await Promise.all([connected(a), connected(b)])
    const input = { date: '2001-04-01T06:30:00Z', distance: 900, origin: 'SFO', destination: 'LAX' }
    await a.set(predictionCacheKey('flights', 1, input), { probability: 0.1 })
    expect(await a.get(predictionCacheKey('flights', 2, input))).toBeUndefined()
    expect(await b.get(predictionCacheKey('flights', 2, input))).toBeUndefined()
    expect(await b.get(predictionCacheKey('flights', 1, input))).toEqual({ probability: 0.1 })
    await b.set(predictionCacheKey('flights', 2, input), { probability: 0.2 })
    expect(await a.get(predictionCacheKey('flights', 2, input))).toEqual({ probability: 0.2 })
    expect(await a.get(predictionCacheKey('flights', 1, input))).toEqual({ probability: 0.1 })
  })

  it('writes Redis entries with the TTL, and they expire there', async () => {
    fresh()
    const a = tiered({ ttlMs: 1000 })
    await connected(a)
    await a.set('k', { v: 1 })
    const pttl = await admin.pttl(`${namespace}:k`)
    expect(pttl).toBeGreaterThan(0)
    expect(pttl).toBeLessThanOrEqual(1000)
    await new Promise((r) => setTimeout(r, 1300))
    expect(await admin.exists(`${namespace}:k`)).toBe(0)
    const b = tiered({ ttlMs: 1000 }) // a replica with an empty local tier
    await connected(b)
    expect(await b.get('k')).toBeUndefined()
  })

  it('keeps working on its local tier when Redis is not there (wrong port), counting the skipped Redis calls', async () => {
    fresh()
    const errors: Error[] = []
    const cache = tiered({ url: 'redis://127.0.0.1:1', onError: (e) => errors.push(e) })
    await cache.set('k', { v: 1 })
    expect(await cache.get('k')).toEqual({ v: 1 })
    expect(await cache.get('other')).toBeUndefined()
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, remoteConnected: false, remoteHits: 0 })
    expect(cache.stats().remoteSkipped).toBeGreaterThanOrEqual(2)
    for (let i = 0; i < 200 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    expect(errors[0]?.message).toMatch(/ECONNREFUSED/)
    // Reconnection attempts go on (50, 100, 200 ms apart), but the outage is reported once.
    await new Promise((r) => setTimeout(r, 500))
    expect(errors).toHaveLength(1)
  })

  it('degrades to local-only when Redis stalls mid-flight (timeouts counted) and when the connection drops', async () => {
    fresh()
    const proxy = await startProxy(Number(new URL(REDIS_URL).port || 6379))
    const errors: Error[] = []
    const cache = tiered({ url: `redis://127.0.0.1:${proxy.port}`, timeoutMs: 200, onError: (e) => errors.push(e) })
    await connected(cache)
    await cache.set('kept', { v: 1 })
    expect(await admin.exists(`${namespace}:kept`)).toBe(1)

    proxy.stall()
    expect(await cache.get('kept')).toEqual({ v: 1 }) // local tier: no Redis call
    expect(await cache.get('missing')).toBeUndefined() // Redis times out: a miss, not an error
    await cache.set('during-stall', { v: 2 }) // resolves, Redis write timed out
    expect(cache.stats()).toMatchObject({ remoteErrors: 2, hits: 1, misses: 1 })
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/timed out/i)]) // once per outage
    expect(await cache.get('during-stall')).toEqual({ v: 2 })

    await proxy.close()
    for (let i = 0; i < 200 && cache.stats().remoteConnected; i++) await new Promise((r) => setTimeout(r, 10))
    const skipped = cache.stats().remoteSkipped
    expect(await cache.get('missing-2')).toBeUndefined()
    expect(cache.stats()).toMatchObject({ remoteConnected: false, remoteSkipped: skipped + 1 })
  })

  it('refuses a URL that is not redis:// and a TTL that is not a positive integer', () => {
    const local = createLruCache({ maxEntries: 1 })
    let error: unknown
    try {
      createTieredCache(local, { url: 'http://user:secret@127.0.0.1:6379', ttlMs: 1000 })
    } catch (e) {
      error = e
    }
    expect(isScalemlError(error, 'INVALID_ARGUMENT')).toBe(true)
    expect(String(error)).toContain('redis://host:6379')
    expect(String(error)).toContain("got 'http://***@127.0.0.1:6379'")
    expect(String(error)).not.toContain('secret')
    expect(() => createTieredCache(local, { url: REDIS_URL, ttlMs: 0 })).toThrow(/ttlMs/)
  })
})

/** A TCP proxy to a real Redis that the test can stall (stop forwarding) or close: Redis going away, for real. */
async function startProxy(
  targetPort: number,
): Promise<{ port: number; stall: () => void; close: () => Promise<void> }> {
  const sockets: Socket[] = []
  let stalled = false
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1')
    sockets.push(client, upstream)
    client.on('data', (chunk) => {
      if (!stalled) upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      if (!stalled) client.write(chunk)
    })
    for (const s of [client, upstream]) {
      s.on('error', () => {})
      s.on('close', () => {
        client.destroy()
        upstream.destroy()
      })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return {
    port: address.port,
    stall: () => {
      stalled = true
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
