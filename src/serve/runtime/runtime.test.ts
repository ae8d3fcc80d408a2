import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isScalemlError, type ScalemlError } from '../../core/errors.js'
import { openRegistry, type Registry } from '../../registry/registry.js'
import { SYNTHETIC_AIRPORTS } from '../../testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../../testing/temp-home.js'
import { loadServableModel } from '../model-loader.js'
import { createLruCache } from '../prediction-cache.js'
import { predictBody, type ServableModel } from '../predictor.js'
import type { BatchReport } from './micro-batcher.js'
import { createServingRuntime, type LoadEvent, type ServingRuntime, type SwapEvent } from './runtime.js'
import { busyWait, constantRegressor, FLIGHT, flightsData, trainedContent, withPredict } from './test-helpers/models.js'

let home: TempHome
let registry: Registry
let runtimes: ServingRuntime[] = []

beforeAll(async () => {
  home = await createTempHome('serve-runtime')
  registry = await openRegistry({ home: home.path })
  const data = await flightsData(home.path)
  await registry.register('flights', await trainedContent(data, 'sgd-classifier'))
  await registry.register('trees', await trainedContent(data, 'gbdt', { nEstimators: 10 }))
})

afterEach(async () => {
  await Promise.all(runtimes.map((r) => r.close()))
  runtimes = []
})

afterAll(async () => {
  await registry?.close()
  await home?.remove()
})

async function started(options: Parameters<typeof createServingRuntime>[0]): Promise<ServingRuntime> {
  const runtime = createServingRuntime({ registry, pollMs: 0, ...options })
  runtimes.push(runtime)
  await runtime.start()
  return runtime
}

/** `n` distinct valid flights records. */
function flights(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    date: `2001-0${1 + (i % 6)}-${String(1 + (i % 28)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:15:00`,
    distance: 100 + ((i * 37) % 2500),
    origin: SYNTHETIC_AIRPORTS[i % SYNTHETIC_AIRPORTS.length]!,
    destination: SYNTHETIC_AIRPORTS[(i * 7 + 3) % SYNTHETIC_AIRPORTS.length]!,
  }))
}

async function caught(promise: Promise<unknown>): Promise<ScalemlError> {
  try {
    await promise
  } catch (error) {
    if (isScalemlError(error)) return error
    throw error
  }
  throw new Error('expected a ScalemlError')
}

describe('predict through micro-batches', () => {
  for (const name of ['flights', 'trees']) {
    it(`${name}: concurrent requests batched together get exactly their unbatched predictions`, async () => {
      const runtime = await started({ refs: [name] })
      const reports: BatchReport[] = []
      runtime.observe({ batch: (_model, report) => reports.push(report) })
      const servable = await loadServableModel(registry, name)
      const records = flights(120)
      // Single rows and a few multi-row requests, all in flight at once.
      const bodies = [
        ...records.map((r) => ({ instances: [r] })),
        { instances: records.slice(0, 7) },
        { instances: records.slice(50, 53) },
      ]
      const answers = await Promise.all(bodies.map((body) => runtime.predict(name, body)))
      expect(Math.max(...reports.map((r) => r.rows))).toBeGreaterThan(1)
      answers.forEach((answer, i) => {
        expect(answer.model).toEqual({ name, version: 1 })
        expect(answer.predictions).toEqual(predictBody(servable, bodies[i]).predictions)
      })
    })
  }

  it('reads {"inputs": [[…]]} in the input schema order with the same answers as records', async () => {
    const runtime = await started({ refs: ['flights'] })
    const { inputs } = runtime.describe('flights')
    const records = flights(5)
    const arrays = records.map((r) => inputs!.map((f) => r[f.name]))
    const fromArrays = await runtime.predict('flights', { inputs: arrays })
    const fromRecords = await runtime.predict('flights', { instances: records })
    expect(fromArrays.predictions).toEqual(fromRecords.predictions)
  })

  it('describes the served version: input schema, outputs, holdout metrics', async () => {
    const runtime = await started({ refs: ['flights', 'trees'] })
    const description = runtime.describe('trees')
    expect(description).toMatchObject({ ref: 'trees', name: 'trees', version: 1, state: 'ready', explain: true })
    expect(description.inputs!.map((f) => f.name)).toEqual(['date', 'distance', 'origin', 'destination'])
    expect(description.outputs).toEqual([
      { name: 'probability', type: 'float' },
      { name: 'label', type: 'bool' },
    ])
    expect(description.metrics!['auc']).toBeGreaterThan(0.5)
    expect(runtime.describe('flights').explain).toBe(false)
  })

  it('finds a served model by name, pins name:version, and 404s listing what is served', async () => {
    const runtime = await started({ refs: ['flights'] })
    expect(runtime.lookup('flights').slot.ref).toBe('flights')
    expect(runtime.lookup('flights:1').version).toBe(1)
    const error = await caught(runtime.predict('nope', { instances: [FLIGHT] }))
    expect(error.code).toBe('MODEL_NOT_FOUND')
    expect(error.message).toContain('Served: flights')
  })
})

describe('explain', () => {
  it('gives TreeSHAP contributions that add up to each row margin', async () => {
    const runtime = await started({ refs: ['trees'] })
    const answer = await runtime.explain('trees', { instances: flights(4) })
    expect(answer.explanations).toHaveLength(4)
    answer.explanations.forEach((explanation, r) => {
      if (!('contributions' in explanation)) throw new Error('expected one output')
      const margin = Object.values(explanation.contributions).reduce((a, b) => a + b, explanation.bias)
      const p = answer.predictions[r]!['probability'] as number
      expect(margin).toBeCloseTo(Math.log(p / (1 - p)), 6)
      expect(Object.keys(explanation.contributions).length).toBeGreaterThan(3)
    })
  })

  it('refuses a model without contributions with UNSUPPORTED_OPERATION naming its kind', async () => {
    const runtime = await started({ refs: ['flights'] })
    const error = await caught(runtime.explain('flights', { instances: [FLIGHT] }))
    expect(error.code).toBe('UNSUPPORTED_OPERATION')
    expect(error.message).toMatch(/'sgd-classifier'.*tree model/)
  })
})

describe('hot swap', () => {
  it('swaps to a new version when the reference moves, and an alias follows its moves', async () => {
    await registry.register('swap-a', constantRegressor(1))
    await registry.alias('swap-a', 'stable', 1)
    const runtime = await started({ refs: ['swap-a', 'swap-a@stable'] })
    const swaps: SwapEvent[] = []
    runtime.observe({ swap: (e) => swaps.push(e) })
    expect((await runtime.predict('swap-a@stable', { instances: [{ x: 3 }] })).predictions).toEqual([{ value: 1 }])
    await registry.register('swap-a', constantRegressor(2))
    await runtime.refresh()
    expect(await runtime.predict('swap-a', { instances: [{ x: 3 }] })).toEqual({
      model: { name: 'swap-a', version: 2 },
      predictions: [{ value: 2 }],
    })
    expect((await runtime.predict('swap-a@stable', { instances: [{ x: 3 }] })).model.version).toBe(1)
    await registry.alias('swap-a', 'stable', 2)
    await runtime.refresh()
    expect((await runtime.predict('swap-a@stable', { instances: [{ x: 3 }] })).model.version).toBe(2)
    expect(swaps.map((s) => [s.ref, s.from, s.to])).toEqual([
      ['swap-a', 1, 2],
      ['swap-a@stable', 1, 2],
    ])
  })

  it('notices a new version by polling', async () => {
    await registry.register('swap-poll', constantRegressor(1))
    const runtime = await started({ refs: ['swap-poll'], pollMs: 10 })
    const swapped = new Promise<SwapEvent>((resolve) => runtime.observe({ swap: resolve }))
    await registry.register('swap-poll', constantRegressor(2))
    expect(await swapped).toMatchObject({ ref: 'swap-poll', from: 1, to: 2 })
    expect((await runtime.predict('swap-poll', { instances: [{ x: 0 }] })).predictions).toEqual([{ value: 2 }])
  })

  it('finishes in-flight requests on the old version and releases it afterwards', async () => {
    await registry.register('swap-drain', constantRegressor(1))
    // A 1 s window keeps the first request queued on version 1 while the swap happens.
    const runtime = await started({ refs: ['swap-drain'], batching: { maxDelayMs: 1000 } })
    const old = runtime.slots()[0]!.current!
    const inFlight = runtime.predict('swap-drain', { instances: [{ x: 0 }] })
    await registry.register('swap-drain', constantRegressor(2))
    await runtime.refresh()
    expect(runtime.slots()[0]!.current!.version).toBe(2)
    expect(old.disposed).toBe(false)
    expect(await inFlight).toEqual({ model: { name: 'swap-drain', version: 1 }, predictions: [{ value: 1 }] })
    expect(old.disposed).toBe(true)
  })

  it('keeps the current version serving when a new one fails to load or to warm, and says why', async () => {
    await registry.register('swap-bad', constantRegressor(1))
    const loads: LoadEvent[] = []
    const warnings: string[] = []
    const runtime = await started({
      refs: ['swap-bad'],
      load: async (name, version) => {
        if (version === 2) throw new Error('disk on fire')
        const servable = await loadServableModel(registry, `${name}:${version}`)
        if (version === 3) return withPredict(servable, () => Float64Array.of(Number.NaN))
        return servable
      },
      log: { info: () => {}, warn: (fields, message) => warnings.push(`${message} ${JSON.stringify(fields)}`) },
    })
    runtime.observe({ load: (e) => loads.push(e) })
    await registry.register('swap-bad', constantRegressor(2))
    await runtime.refresh()
    await registry.register('swap-bad', constantRegressor(3))
    await runtime.refresh()
    expect((await runtime.predict('swap-bad', { instances: [{ x: 0 }] })).model.version).toBe(1)
    expect(loads.map((e) => [e.version, e.ok, e.stage])).toEqual([
      [2, false, 'load'],
      [3, false, 'warm'],
    ])
    expect(loads[1]!.error).toMatch(/not a finite number/)
    expect(warnings.join('\n')).toMatch(/disk on fire/)
    expect(runtime.slots()[0]!.failures).toBe(2)
    expect(runtime.readiness().ready).toBe(true)
    // A failed version is not retried at every poll (back-off), but a newer one is tried at once.
    await runtime.refresh()
    expect(loads).toHaveLength(2)
    await registry.register('swap-bad', constantRegressor(4))
    await runtime.refresh()
    expect((await runtime.predict('swap-bad', { instances: [{ x: 0 }] })).predictions).toEqual([{ value: 4 }])
  })

  it('answers a pinned version (x-model-version), loading it on demand', async () => {
    await registry.register('swap-pin', constantRegressor(1))
    await registry.register('swap-pin', constantRegressor(2))
    const runtime = await started({ refs: ['swap-pin'], pinnedVersions: 1 })
    expect((await runtime.predict('swap-pin', { instances: [{ x: 0 }] })).model.version).toBe(2)
    const pinned = await runtime.predict('swap-pin', { instances: [{ x: 0 }] }, { version: '1' })
    expect(pinned).toEqual({ model: { name: 'swap-pin', version: 1 }, predictions: [{ value: 1 }] })
    expect(runtime.describe('swap-pin').pinned).toEqual([1])
    expect((await caught(runtime.predict('swap-pin', { instances: [{ x: 0 }] }, { version: 'v1' }))).code).toBe(
      'INVALID_ARGUMENT',
    )
    expect((await caught(runtime.predict('swap-pin', { instances: [{ x: 0 }] }, { version: '9' }))).code).toBe(
      'MODEL_NOT_FOUND',
    )
  })

  it('is not ready until every reference is loaded and warmed, and says which is not', async () => {
    await registry.register('swap-ready', constantRegressor(1))
    let release = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const runtime = createServingRuntime({
      registry,
      refs: ['swap-ready'],
      pollMs: 0,
      load: async (name, version) => {
        await gate
        return loadServableModel(registry, `${name}:${version}`)
      },
    })
    runtimes.push(runtime)
    const starting = runtime.start()
    expect(runtime.readiness()).toMatchObject({ ready: false, reasons: ['swap-ready: loading'] })
    expect((await caught(runtime.predict('swap-ready', { instances: [{ x: 0 }] }))).code).toBe('MODEL_UNAVAILABLE')
    release()
    await starting
    expect(runtime.readiness()).toMatchObject({ ready: true, reasons: [] })
  })

  it('fails start-up on a reference that does not resolve', async () => {
    const runtime = createServingRuntime({ registry, refs: ['no-such-model'], pollMs: 0 })
    runtimes.push(runtime)
    expect((await caught(runtime.start())).code).toBe('MODEL_NOT_FOUND')
  })
})

describe('time limits and fallbacks', () => {
  /**
   * `slow:1`, whose every batch takes 300 ms (against a 100 ms limit: margins wide enough for a busy machine) and
   * whose rows with x = 13 make the model throw.
   */
  const slowOrBroken = (servable: ServableModel) =>
    withPredict(servable, (predict, X) => {
      // Dense rows hold `data`, sparse rows `values`; the scaler maps x = 13 to about 14.7 (mean 1, scale ~0.82).
      const features = X as { data?: Float32Array; values?: Float32Array }
      busyWait(300)
      if ((features.data ?? features.values)!.some((v) => v > 10)) throw new Error('the model broke on this row')
      return predict(X)
    })

  beforeAll(async () => {
    await registry.register('slow', constantRegressor(5))
  })

  const slowRuntime = (fallback?: boolean) =>
    started({
      refs: ['slow'],
      // The model's own limit wins over the default for every model.
      timeoutMs: 60_000,
      timeouts: new Map([['slow', 100]]),
      batching: { maxBatchSize: 1 },
      load: async (name, version) => slowOrBroken(await loadServableModel(registry, `${name}:${version}`)),
      ...(fallback ? { fallback: new Map([['slow', { value: -1 }]]) } : {}),
    })

  it('answers the configured fallback, marked, when a request runs out of time', async () => {
    const runtime = await slowRuntime(true)
    const fallbacks: string[] = []
    runtime.observe({ fallback: (_m, reason) => fallbacks.push(reason) })
    const [first, second] = await Promise.all([
      runtime.predict('slow', { instances: [{ x: 0 }] }),
      runtime.predict('slow', { instances: [{ x: 1 }] }),
    ])
    expect(first.predictions).toEqual([{ value: 5 }])
    expect(second).toMatchObject({ model: { name: 'slow', version: 1 }, fallback: true })
    expect(second.predictions).toEqual([{ value: -1, fallback: true }])
    expect(second.reason).toMatch(/did not answer in time.*100/)
    expect(fallbacks).toEqual(['timeout'])
  })

  it('answers the fallback when the model fails, and 503 naming the reason without one', async () => {
    const withFallback = await slowRuntime(true)
    const answer = await withFallback.predict('slow', { instances: [{ x: 13 }] })
    expect(answer).toMatchObject({ fallback: true, predictions: [{ value: -1, fallback: true }] })
    expect(answer.reason).toMatch(/the model broke on this row/)
    const without = await slowRuntime(false)
    const error = await caught(without.predict('slow', { instances: [{ x: 13 }] }))
    expect(error.code).toBe('MODEL_UNAVAILABLE')
    expect(error.message).toMatch(/slow:1 failed: the model broke on this row; no fallback is configured/)
  })
})

describe('prediction cache', () => {
  it('answers repeated inputs from the cache and never across versions', async () => {
    await registry.register('cached', constantRegressor(1))
    const runtime = await started({ refs: ['cached'], cache: createLruCache({ maxEntries: 100 }) })
    const counts = { hits: 0, misses: 0, predicted: 0 }
    runtime.observe({
      cache: (_m, hits, misses) => {
        counts.hits += hits
        counts.misses += misses
      },
      predicted: (_m, rows) => (counts.predicted += rows),
    })
    const ask = () => runtime.predict('cached', { instances: [{ x: 42 }] })
    expect((await ask()).predictions).toEqual([{ value: 1 }])
    expect((await ask()).predictions).toEqual([{ value: 1 }])
    expect(counts).toEqual({ hits: 1, misses: 1, predicted: 1 })
    await registry.register('cached', constantRegressor(2))
    await runtime.refresh()
    expect(await ask()).toEqual({ model: { name: 'cached', version: 2 }, predictions: [{ value: 2 }] })
    expect(counts).toEqual({ hits: 1, misses: 2, predicted: 2 })
  })
})
