/**
 * `scaleml_http_requests_in_flight` over real sockets: a client that hangs up before its answer must not leave the
 * gauge raised (Fastify runs no `onResponse` hook for it), and a request must count down exactly once.
 */
import { request as httpRequest } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { openRegistry, type Registry } from '../../registry/registry.js'
import { createTempHome, type TempHome } from '../../testing/temp-home.js'
import { MetricsRegistry } from '../metrics.js'
import type { PredictionCache } from '../prediction-cache.js'
import { createServingRuntime, type ServingRuntime } from '../runtime/runtime.js'
import { constantRegressor } from '../runtime/test-helpers/models.js'
import { createApp } from './app.js'

let home: TempHome
let registry: Registry
let runtime: ServingRuntime | undefined
let app: FastifyInstance | undefined

beforeAll(async () => {
  home = await createTempHome('serve-in-flight')
  registry = await openRegistry({ home: home.path })
  await registry.register('tiny', constantRegressor(1))
})

afterEach(async () => {
  await app?.close()
  await runtime?.close()
  app = undefined
  runtime = undefined
})

afterAll(async () => {
  await registry?.close()
  await home?.remove()
})

/**
 * A cache whose lookups wait until `open()`: a request parks, asynchronously, inside the handler. `entered`
 * resolves at the first lookup.
 */
function gatedCache() {
  let open: () => void = () => {}
  const gate = new Promise<void>((resolve) => {
    open = resolve
  })
  let entered: () => void = () => {}
  const lookedUp = new Promise<void>((resolve) => {
    entered = resolve
  })
  const cache: PredictionCache = {
    get: async () => {
      entered()
      await gate
      return undefined
    },
    set: async () => {},
    stats: () => ({ hits: 0, misses: 0, entries: 0, bytes: 0 }),
    close: async () => {},
  }
  return { cache, open, lookedUp }
}

function inFlight(metrics: MetricsRegistry): number {
  const line = /^scaleml_http_requests_in_flight(?:\{\})? (\S+)$/m.exec(metrics.render())
  if (line === null) throw new Error('no scaleml_http_requests_in_flight sample')
  return Number(line[1])
}

describe('scaleml_http_requests_in_flight', () => {
  it('returns to 0 when a client hangs up before its answer, and counts answered requests down once', async () => {
    const { cache, open, lookedUp } = gatedCache()
    runtime = createServingRuntime({ registry, refs: ['tiny'], pollMs: 0, cache })
    await runtime.start()
    const metrics = new MetricsRegistry()
    app = createApp({ runtime, metrics })
    const base = new URL(await app.listen({ port: 0, host: '127.0.0.1' }))

    const body = JSON.stringify({ instances: [{ x: 1 }] })
    const client = httpRequest({
      host: base.hostname,
      port: base.port,
      method: 'POST',
      path: '/v1/models/tiny/predict',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    })
    const hungUp = new Promise<void>((resolve) => client.on('close', resolve))
    client.on('error', () => {})
    client.end(body)
    await lookedUp
    expect(inFlight(metrics)).toBe(1)
    client.destroy()
    await hungUp
    // The server notices the closed socket, then the handler finishes and writes to nobody.
    await new Promise((resolve) => setTimeout(resolve, 50))
    open()
    await vi.waitFor(() => expect(inFlight(metrics)).toBe(0), { timeout: 3000, interval: 20 })

    // Answered requests (the cache now lets them through) count up and down once each: never below 0.
    for (let i = 0; i < 3; i++) {
      const response = await fetch(new URL('/v1/models/tiny/predict', base), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
      expect(response.status).toBe(200)
      await response.text()
    }
    // Injected requests (tests, light-my-request) also close their response.
    const injected = await app.inject({ method: 'GET', url: '/healthz' })
    expect(injected.statusCode).toBe(200)
    await vi.waitFor(() => expect(inFlight(metrics)).toBe(0), { timeout: 3000, interval: 20 })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(inFlight(metrics)).toBe(0)
  })
})
