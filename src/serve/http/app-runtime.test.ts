/**
 * The HTTP app over a registry-backed serving runtime: headers, readiness, model descriptions, limits (413, 429),
 * explain, fallbacks and `/metrics`.
 */
import type { FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openRegistry, type Registry } from '../../registry/registry.js'
import { createTempHome, type TempHome } from '../../testing/temp-home.js'
import { MetricsRegistry } from '../metrics.js'
import { loadServableModel } from '../model-loader.js'
import { createServingRuntime, type ServingRuntime, type ServingRuntimeOptions } from '../runtime/runtime.js'
import {
  busyWait,
  constantRegressor,
  FLIGHT,
  flightsData,
  trainedContent,
  withPredict,
} from '../runtime/test-helpers/models.js'
import { createApp } from './app.js'

let home: TempHome
let registry: Registry
const cleanups: (() => Promise<unknown>)[] = []

beforeAll(async () => {
  home = await createTempHome('serve-http')
  registry = await openRegistry({ home: home.path })
  const data = await flightsData(home.path)
  await registry.register('flights', await trainedContent(data, 'sgd-classifier'))
  await registry.register('trees', await trainedContent(data, 'gbdt', { nEstimators: 5 }))
  await registry.register('tiny', constantRegressor(1))
  await registry.register('tiny', constantRegressor(2))
  await registry.alias('tiny', 'stable', 1)
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

afterAll(async () => {
  await registry?.close()
  await home?.remove()
})

interface Served {
  readonly app: FastifyInstance
  readonly runtime: ServingRuntime
  readonly metrics: MetricsRegistry
}

async function serve(
  options: Partial<ServingRuntimeOptions> = {},
  app: { bodyLimit?: number; start?: boolean } = {},
): Promise<Served> {
  const runtime = createServingRuntime({ registry, refs: ['tiny', 'flights', 'trees'], pollMs: 0, ...options })
  cleanups.push(() => runtime.close())
  if (app.start !== false) await runtime.start()
  const metrics = new MetricsRegistry()
  const fastify = createApp({ runtime, metrics, ...(app.bodyLimit === undefined ? {} : { bodyLimit: app.bodyLimit }) })
  cleanups.push(() => fastify.close())
  return { app: fastify, runtime, metrics }
}

const post = (app: FastifyInstance, url: string, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(payload),
  })

describe('headers', () => {
  it('echoes x-request-id, or makes one, and names the answering version in x-model-version', async () => {
    const { app } = await serve()
    const given = await post(app, '/v1/models/tiny/predict', { instances: [{ x: 1 }] }, { 'x-request-id': 'abc-123' })
    expect(given.headers['x-request-id']).toBe('abc-123')
    expect(given.headers['x-model-version']).toBe('2')
    expect(given.json()).toEqual({ model: { name: 'tiny', version: 2 }, predictions: [{ value: 2 }] })
    const made = await app.inject({ method: 'GET', url: '/nope' })
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    const tooLong = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'x'.repeat(500) } })
    expect(tooLong.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('answers an alias, and a pinned version from the x-model-version header or a name:version path', async () => {
    const { app } = await serve()
    const header = await post(app, '/v1/models/tiny/predict', { instances: [{ x: 1 }] }, { 'x-model-version': '1' })
    expect(header.headers['x-model-version']).toBe('1')
    expect(header.json().predictions).toEqual([{ value: 1 }])
    const path = await post(app, '/v1/models/tiny:1/predict', { instances: [{ x: 1 }] })
    expect(path.json().model).toEqual({ name: 'tiny', version: 1 })
    const aliased = await serve({ refs: ['tiny@stable'] })
    const alias = await post(aliased.app, '/v1/models/tiny@stable/predict', { instances: [{ x: 1 }] })
    expect(alias.json()).toEqual({ model: { name: 'tiny', version: 1 }, predictions: [{ value: 1 }] })
    const byName = await post(aliased.app, '/v1/models/tiny/predict', { instances: [{ x: 1 }] })
    expect(byName.json().model).toEqual({ name: 'tiny', version: 1 })
    const bad = await post(app, '/v1/models/tiny/predict', { instances: [{ x: 1 }] }, { 'x-model-version': 'one' })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().code).toBe('INVALID_ARGUMENT')
  })
})

describe('models and readiness', () => {
  it('GET /v1/models/:ref describes the schema, version and metrics; 404 for what is not served', async () => {
    const { app } = await serve()
    const response = await app.inject({ method: 'GET', url: '/v1/models/flights' })
    expect(response.statusCode).toBe(200)
    const body = response.json()
    expect(body).toMatchObject({ ref: 'flights', name: 'flights', version: 1, state: 'ready', task: 'classification' })
    expect(body.inputs.map((f: { name: string }) => f.name)).toEqual(['date', 'distance', 'origin', 'destination'])
    expect(body.metrics.auc).toBeGreaterThan(0.5)
    const missing = await app.inject({ method: 'GET', url: '/v1/models/nope' })
    expect(missing.statusCode).toBe(404)
    expect(missing.json().error).toContain('Served: tiny, flights, trees')
    const all = await app.inject({ method: 'GET', url: '/v1/models' })
    expect(all.json().models.map((m: { ref: string }) => m.ref)).toEqual(['tiny', 'flights', 'trees'])
  })

  it('GET /readyz is 503 with reasons until every model is loaded and warmed, then 200', async () => {
    let release = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const { app, runtime } = await serve(
      {
        refs: ['tiny', 'flights'],
        load: async (name, version) => {
          if (name === 'flights') await gate
          return loadServableModel(registry, `${name}:${version}`)
        },
      },
      { start: false },
    )
    // The app answers probes while the runtime starts, as in `scaleml serve`.
    const starting = runtime.start()
    const notReady = await app.inject({ method: 'GET', url: '/readyz' })
    expect(notReady.statusCode).toBe(503)
    expect(notReady.json().status).toBe('not ready')
    expect(notReady.json().reasons).toContain('flights: loading')
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
    release()
    await starting
    const ready = await app.inject({ method: 'GET', url: '/readyz' })
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toMatchObject({
      status: 'ready',
      reasons: [],
      models: [
        { ref: 'tiny', version: 2 },
        { ref: 'flights', version: 1 },
      ],
    })
  })
})

describe('limits', () => {
  it('413s a body over the limit, naming the limit', async () => {
    const { app } = await serve({}, { bodyLimit: 1024 })
    const response = await post(app, '/v1/models/tiny/predict', {
      instances: Array.from({ length: 200 }, () => ({ x: 1 })),
    })
    expect(response.statusCode).toBe(413)
    expect(response.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
    expect(response.json().error).toMatch(/limit is 1024 bytes \(1 KiB\)/)
  })

  it('413s more rows than maxInstances, naming the limit', async () => {
    const { app } = await serve({ input: { maxInstances: 3 } })
    const response = await post(app, '/v1/models/tiny/predict', { instances: [{ x: 1 }, { x: 2 }, { x: 3 }, { x: 4 }] })
    expect(response.statusCode).toBe(413)
    expect(response.json().error).toMatch(/At most 3 rows per request/)
  })

  it('400s unknown fields, listing each with its path', async () => {
    const { app } = await serve()
    const response = await post(app, '/v1/models/tiny/predict', { instances: [{ x: 1, y: 2 }, { x: 'a' }] })
    expect(response.statusCode).toBe(400)
    expect(response.json().details).toEqual([
      { path: 'instances[0].y', message: 'Unknown field "y": the model\'s inputs are x.' },
      { path: 'instances[1].x', message: 'Expected number, received string "a".' },
    ])
  })

  it('429s with Retry-After past the queue limit and answers every request it accepted', async () => {
    const { app } = await serve({
      refs: ['tiny'],
      batching: { maxBatchSize: 1, maxQueue: 2 },
      load: async (name, version) =>
        withPredict(await loadServableModel(registry, `${name}:${version}`), (predict, X) => {
          busyWait(20)
          return predict(X)
        }),
    })
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => post(app, '/v1/models/tiny/predict', { instances: [{ x: i }] })),
    )
    const statuses = responses.map((r) => r.statusCode)
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([])
    const rejected = responses.filter((r) => r.statusCode === 429)
    expect(rejected.length).toBeGreaterThan(0)
    for (const r of rejected) {
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1)
      expect(r.json().code).toBe('OVERLOADED')
      expect(r.json().error).toMatch(/tiny:2 is overloaded: its queue holds the maximum of 2 waiting requests/)
    }
    for (const r of responses.filter((x) => x.statusCode === 200)) expect(r.json().predictions).toEqual([{ value: 2 }])
  })

  it('answers the fallback marked "fallback": true when the model fails, and 503 without one', async () => {
    const load = async (name: string, version: number) =>
      withPredict(await loadServableModel(registry, `${name}:${version}`), (predict, X) => {
        const values =
          (X as { data?: Float32Array; values?: Float32Array }).data ?? (X as { values: Float32Array }).values
        if (values.some((v) => v > 100)) throw new Error('overflow in layer 3')
        return predict(X)
      })
    const { app } = await serve({ refs: ['tiny'], load, fallback: new Map([['*', { value: 0 }]]) })
    const fallback = await post(app, '/v1/models/tiny/predict', { instances: [{ x: 1e6 }] })
    expect(fallback.statusCode).toBe(200)
    expect(fallback.json()).toMatchObject({ fallback: true, predictions: [{ value: 0, fallback: true }] })
    const plain = await serve({ refs: ['tiny'], load })
    const unavailable = await post(plain.app, '/v1/models/tiny/predict', { instances: [{ x: 1e6 }] })
    expect(unavailable.statusCode).toBe(503)
    expect(unavailable.json()).toMatchObject({ code: 'MODEL_UNAVAILABLE' })
    expect(unavailable.json().error).toMatch(/overflow in layer 3; no fallback is configured/)
  })
})

describe('POST /v1/models/:ref/explain', () => {
  it('answers contributions for a tree model and 422 for a linear one', async () => {
    const { app } = await serve()
    const trees = await post(app, '/v1/models/trees/explain', { instances: [FLIGHT] })
    expect(trees.statusCode).toBe(200)
    const body = trees.json()
    expect(body.model).toEqual({ name: 'trees', version: 1 })
    expect(body.explanations[0].bias).toEqual(expect.any(Number))
    expect(Object.keys(body.explanations[0].contributions).length).toBeGreaterThan(3)
    const linear = await post(app, '/v1/models/flights/explain', { instances: [FLIGHT] })
    expect(linear.statusCode).toBe(422)
    expect(linear.json().code).toBe('UNSUPPORTED_OPERATION')
  })
})

describe('GET /metrics', () => {
  it('renders Prometheus text with latency, batch size, queue time and errors per model version', async () => {
    const { app } = await serve()
    await Promise.all(Array.from({ length: 5 }, () => post(app, '/v1/models/tiny/predict', { instances: [{ x: 1 }] })))
    await post(app, '/v1/models/tiny/predict', { instances: [{ x: 'a' }] })
    await post(app, '/v1/models/nope/predict', { instances: [{ x: 1 }] })
    const response = await app.inject({ method: 'GET', url: '/metrics' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    const samples = parsePrometheus(response.body)
    const value = (name: string, labels: Record<string, string>) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value
    expect(value('scaleml_predictions_total', { model: 'tiny', version: '2' })).toBe(5)
    expect(value('scaleml_batch_size_rows_count', { model: 'tiny', version: '2' })).toBeGreaterThanOrEqual(1)
    expect(value('scaleml_batch_queue_seconds_count', { model: 'tiny', version: '2' })).toBe(5)
    expect(
      value('scaleml_http_request_duration_seconds_count', {
        model: 'tiny',
        version: '2',
        route: '/v1/models/:ref/predict',
        status: '200',
      }),
    ).toBe(5)
    expect(value('scaleml_errors_total', { model: 'tiny', version: '2', kind: 'INVALID_INPUT' })).toBe(1)
    expect(value('scaleml_errors_total', { model: 'unknown', kind: 'MODEL_NOT_FOUND' })).toBe(1)
    expect(value('scaleml_model_version', { model: 'tiny' })).toBe(2)
    expect(value('scaleml_model_load_seconds', { model: 'trees', version: '1' })).toBeGreaterThan(0)
  })
})

interface Sample {
  readonly name: string
  readonly labels: Record<string, string>
  readonly value: number
}

/**
 * Reads the Prometheus text format 0.0.4 strictly enough to fail on what a Prometheus server rejects: every sample
 * belongs to a family announced by `# TYPE` (histograms by their `_bucket`/`_sum`/`_count` samples), names and
 * label names are valid, label values are quoted with only `\\`, `\"`, `\n` escapes, values are Go floats, and a
 * histogram's buckets are cumulative and end with `le="+Inf"` equal to its count.
 */
function parsePrometheus(text: string): Sample[] {
  expect(text.endsWith('\n')).toBe(true)
  const types = new Map<string, string>()
  const samples: Sample[] = []
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line)
    if (meta !== null) {
      if (meta[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(meta[3])
        expect(types.has(meta[2]!), `TYPE twice for ${meta[2]}`).toBe(false)
        types.set(meta[2]!, meta[3]!)
      }
      continue
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line)
    if (sample === null) throw new Error(`not a Prometheus line: ${line}`)
    const [, name, rawLabels, rawValue] = sample
    const family = [name!, name!.replace(/_(bucket|sum|count)$/, '')].find((n) => types.has(n))
    if (family === undefined) throw new Error(`sample ${name} has no # TYPE`)
    if (family !== name) expect(types.get(family)).toBe('histogram')
    const labels: Record<string, string> = {}
    if (rawLabels !== undefined) {
      const body = rawLabels.slice(1, -1)
      const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y
      let at = 0
      while (at < body.length) {
        label.lastIndex = at
        const m = label.exec(body)
        if (m === null) throw new Error(`bad labels in: ${line}`)
        labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
        at = label.lastIndex
      }
    }
    if (!/^([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[+-]Inf|NaN)$/.test(rawValue!)) throw new Error(`bad value: ${line}`)
    samples.push({ name: name!, labels, value: rawValue === '+Inf' ? Number.POSITIVE_INFINITY : Number(rawValue) })
  }
  for (const [name, type] of types) {
    if (type !== 'histogram') continue
    const groups = new Map<string, Sample[]>()
    for (const s of samples.filter((x) => x.name === `${name}_bucket`)) {
      const { le: _le, ...rest } = s.labels
      const key = JSON.stringify(rest)
      groups.set(key, [...(groups.get(key) ?? []), s])
    }
    for (const [key, buckets] of groups) {
      const counts = buckets.map((b) => b.value)
      expect(counts).toEqual([...counts].sort((a, b) => a - b))
      expect(buckets.at(-1)!.labels['le']).toBe('+Inf')
      const count = samples.find((s) => s.name === `${name}_count` && JSON.stringify(s.labels) === key)
      expect(count?.value).toBe(counts.at(-1))
    }
  }
  return samples
}
