import { afterEach, describe, expect, it } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import {
  defaultServingMetrics,
  MetricsRegistry,
  mergeSnapshots,
  PREDICT_ROUTE,
  renderSnapshot,
  retireSnapshot,
  type ServingMetrics,
} from './metrics.js'
import { parseExposition, value } from './runtime/test-helpers/prometheus.js'

// ---------------------------------------------------------------------------------------------------------------

describe('the strict exposition reader (the test of the test)', () => {
  it.each([
    ['no final line feed', '# TYPE a counter\na 1'],
    ['bad escape in a label value', 'a{x="\\t"} 1\n'],
    ['a second TYPE', '# TYPE a counter\n# TYPE a counter\na 1\n'],
    ['a non-contiguous family', 'a 1\nb 1\na{x="1"} 2\n'],
    ['a duplicate series', 'a{x="1"} 1\na{x="1"} 2\n'],
    ['non-cumulative buckets', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ['a bad number', 'a 1,5\n'],
  ])('rejects %s', (_, text) => {
    expect(() => parseExposition(text)).toThrow()
  })
})

describe('MetricsRegistry', () => {
  it('renders counters with HELP and TYPE and their values', () => {
    const registry = new MetricsRegistry()
    const requests = registry.counter('scaleml_requests_total', 'Requests.', ['model', 'status'])
    requests.inc({ model: 'flights', status: 200 })
    requests.inc({ model: 'flights', status: 200 }, 4)
    requests.labels({ model: 'flights', status: 400 }).inc()
    const plain = registry.counter('scaleml_plain_total', 'An unlabelled counter.')
    const text = registry.render()
    const families = parseExposition(text)
    expect(families.get('scaleml_requests_total')).toMatchObject({ type: 'counter', help: 'Requests.' })
    expect(value(families, 'scaleml_requests_total', { model: 'flights', status: '200' })).toBe(5)
    expect(value(families, 'scaleml_requests_total', { model: 'flights', status: '400' })).toBe(1)
    // An unlabelled metric exists (as 0) before anything is recorded.
    expect(value(families, 'scaleml_plain_total')).toBe(0)
    plain.inc()
    expect(value(parseExposition(registry.render()), 'scaleml_plain_total')).toBe(1)
    expect(text).toContain('# HELP scaleml_requests_total Requests.\n# TYPE scaleml_requests_total counter\n')
  })

  it('counts histogram observations into cumulative buckets with inclusive upper bounds, plus _sum and _count', () => {
    const registry = new MetricsRegistry()
    const latency = registry.histogram('scaleml_latency_seconds', 'Latency.', ['model'], [0.001, 0.01, 0.1])
    const child = latency.labels({ model: 'm' })
    for (const v of [0.0005, 0.001, 0.002, 0.01, 0.05, 0.5, 3]) child.observe(v)
    latency.observe({ model: 'other' }, 0.02)
    const families = parseExposition(registry.render())
    const bucket = (le: string, model = 'm') => value(families, 'scaleml_latency_seconds_bucket', { model, le })
    expect(bucket('0.001')).toBe(2) // 0.0005 and 0.001 (le is ≤)
    expect(bucket('0.01')).toBe(4)
    expect(bucket('0.1')).toBe(5)
    expect(bucket('+Inf')).toBe(7)
    expect(value(families, 'scaleml_latency_seconds_count', { model: 'm' })).toBe(7)
    expect(value(families, 'scaleml_latency_seconds_sum', { model: 'm' })).toBeCloseTo(3.5635, 12)
    expect(bucket('0.01', 'other')).toBe(0)
    expect(bucket('0.1', 'other')).toBe(1)
    expect(child).toMatchObject({ count: 7 })
  })

  it('sets, increments and decrements gauges, including negative and fractional values', () => {
    const registry = new MetricsRegistry()
    const depth = registry.gauge('scaleml_queue_depth', 'Depth.', ['model'])
    depth.set({ model: 'a' }, 10)
    depth.inc({ model: 'a' })
    depth.dec({ model: 'a' }, 3)
    depth.dec({ model: 'b' }, 0.5)
    const families = parseExposition(registry.render())
    expect(families.get('scaleml_queue_depth')?.type).toBe('gauge')
    expect(value(families, 'scaleml_queue_depth', { model: 'a' })).toBe(8)
    expect(value(families, 'scaleml_queue_depth', { model: 'b' })).toBe(-0.5)
  })

  it('escapes label values and HELP text so that they read back unchanged', () => {
    const registry = new MetricsRegistry()
    const tricky = 'a "quoted" \\ back\nslash'
    registry.counter('scaleml_x_total', 'Help with \\ and\na line feed.', ['v']).inc({ v: tricky })
    const text = registry.render()
    expect(text).toContain('scaleml_x_total{v="a \\"quoted\\" \\\\ back\\nslash"} 1')
    const families = parseExposition(text)
    expect(families.get('scaleml_x_total')?.help).toBe('Help with \\ and\na line feed.')
    expect(families.get('scaleml_x_total')?.samples[0]?.labels['v']).toBe(tricky)
  })

  it('writes +Inf, -Inf and NaN gauge values in the format Prometheus reads', () => {
    const registry = new MetricsRegistry()
    const g = registry.gauge('scaleml_g', 'G.', ['k'])
    g.set({ k: 'pos' }, Number.POSITIVE_INFINITY)
    g.set({ k: 'neg' }, Number.NEGATIVE_INFINITY)
    g.set({ k: 'nan' }, Number.NaN)
    g.set({ k: 'tiny' }, 1e-9)
    const text = registry.render()
    expect(text).toContain('scaleml_g{k="pos"} +Inf\n')
    expect(text).toContain('scaleml_g{k="neg"} -Inf\n')
    expect(text).toContain('scaleml_g{k="nan"} NaN\n')
    expect(value(parseExposition(text), 'scaleml_g', { k: 'tiny' })).toBe(1e-9)
  })

  it('resolves a label set once: the same child object every time, and recording through it allocates no series', () => {
    const registry = new MetricsRegistry()
    const h = registry.histogram('scaleml_h_seconds', 'H.', ['model', 'version'])
    const a = h.labels({ model: 'm', version: 1 })
    expect(h.labels({ version: 1, model: 'm' })).toBe(a) // label order does not matter
    expect(h.labels({ model: 'm', version: '1' })).toBe(a) // 1 and '1' are the same label value
    expect(h.labels({ model: 'm', version: 2 })).not.toBe(a)
    for (let i = 0; i < 1000; i++) a.observe(0.01)
    const families = parseExposition(registry.render())
    expect(families.get('scaleml_h_seconds')?.samples.filter((s) => s.name.endsWith('_count'))).toHaveLength(2)
  })

  it('returns the existing family for an identical registration and refuses a conflicting one', () => {
    const registry = new MetricsRegistry()
    const c = registry.counter('scaleml_c_total', 'C.', ['a'])
    expect(registry.counter('scaleml_c_total', 'C.', ['a'])).toBe(c)
    expect(() => registry.gauge('scaleml_c_total', 'C.', ['a'])).toThrow(/already registered as a counter/)
    expect(() => registry.counter('scaleml_c_total', 'C.', ['b'])).toThrow(/already registered/)
    registry.histogram('scaleml_h', 'H.', [], [1, 2])
    expect(() => registry.histogram('scaleml_h', 'H.', [], [1, 3])).toThrow(/buckets 1, 2/)
  })

  it('refuses bad names, reserved labels, bad buckets, missing and unknown labels, decreasing counters and NaN', () => {
    const registry = new MetricsRegistry()
    const expectCode = (f: () => unknown, message: RegExp) => {
      let error: unknown
      try {
        f()
      } catch (e) {
        error = e
      }
      expect(isScalemlError(error, 'INVALID_ARGUMENT'), String(error)).toBe(true)
      expect((error as Error).message).toMatch(message)
    }
    expectCode(() => registry.counter('9lives', 'x'), /Metric name '9lives' is not valid/)
    expectCode(() => registry.counter('ok_total', 'x', ['__reserved']), /Label name '__reserved'/)
    expectCode(() => registry.counter('ok2_total', 'x', ['a', 'a']), /label 'a' twice/)
    expectCode(() => registry.histogram('h1', 'x', ['le']), /cannot have a label 'le'/)
    expectCode(() => registry.histogram('h2', 'x', [], [1, 1]), /strictly increasing/)
    expectCode(() => registry.histogram('h3', 'x', [], [Number.NaN]), /finite/)
    const c = registry.counter('c_total', 'x', ['model'])
    expectCode(() => c.inc({}), /needs the label 'model'/)
    expectCode(() => c.inc({ model: 'm', extra: 1 }), /has no label 'extra'/)
    expectCode(() => c.inc({ model: 'm' }, -1), /only go up/)
    expectCode(() => registry.histogram('h4', 'x').observe(undefined, Number.NaN), /NaN/)
  })

  it('runs collectors before rendering, and reset zeroes series in place while remove forgets one', () => {
    const registry = new MetricsRegistry()
    const g = registry.gauge('scaleml_cache_entries', 'Entries.', ['tier'])
    let entries = 3
    registry.addCollector(() => g.set({ tier: 'local' }, entries))
    expect(value(parseExposition(registry.render()), 'scaleml_cache_entries', { tier: 'local' })).toBe(3)
    entries = 5
    expect(value(parseExposition(registry.render()), 'scaleml_cache_entries', { tier: 'local' })).toBe(5)

    const c = registry.counter('scaleml_p_total', 'P.', ['version'])
    const v1 = c.labels({ version: 1 })
    v1.inc(7)
    c.inc({ version: 2 })
    c.reset()
    v1.inc()
    let families = parseExposition(registry.render())
    expect(value(families, 'scaleml_p_total', { version: '1' })).toBe(1) // the held child still reports
    expect(value(families, 'scaleml_p_total', { version: '2' })).toBe(0)
    c.remove({ version: 2 })
    families = parseExposition(registry.render())
    expect(value(families, 'scaleml_p_total', { version: '2' })).toBeUndefined()
  })
})

describe('defaultServingMetrics', () => {
  let metrics: ServingMetrics | undefined
  afterEach(() => metrics?.close())

  it('registers the serving metric set, and a server-like run renders as valid exposition with the right values', () => {
    const registry = new MetricsRegistry()
    metrics = defaultServingMetrics(registry)
    const labels = { model: 'flights', version: 3 }
    const latency = metrics.requestDuration.labels({ ...labels, route: PREDICT_ROUTE, status: 200 })
    const predictions = metrics.predictions.labels(labels)
    const batch = metrics.batchSize.labels(labels)
    const queue = metrics.queueTime.labels(labels)
    const hits = metrics.cacheHits.labels(labels)
    const misses = metrics.cacheMisses.labels(labels)
    for (let i = 0; i < 10; i++) {
      latency.observe(0.0004)
      predictions.inc()
      if (i < 4) hits.inc()
      else misses.inc()
    }
    batch.observe(8)
    batch.observe(2)
    queue.observe(0.0007)
    metrics.requestDuration.observe({ ...labels, route: PREDICT_ROUTE, status: 400 }, 0.0002)
    metrics.errors.inc({ ...labels, kind: 'INVALID_INPUT' })
    metrics.fallbacks.inc({ ...labels, reason: 'timeout' })
    metrics.swaps.inc({ model: 'flights' })
    metrics.swapFailures.inc({ model: 'flights', version: 4, stage: 'warm' })
    metrics.modelLoadSeconds.set(labels, 0.25)
    metrics.servedVersion.set({ model: 'flights' }, 3)
    metrics.queueDepth.set({ model: 'flights' }, 2)
    metrics.inFlight.inc()
    metrics.cacheErrors.inc({ tier: 'redis' })

    const families = parseExposition(registry.render())
    const l = { model: 'flights', version: '3' }
    for (const name of [
      'scaleml_http_request_duration_seconds',
      'scaleml_batch_size_rows',
      'scaleml_batch_queue_seconds',
    ]) {
      expect(families.get(name)?.type, name).toBe('histogram')
    }
    const ok = { ...l, route: PREDICT_ROUTE, status: '200' }
    expect(value(families, 'scaleml_http_request_duration_seconds_count', ok)).toBe(10)
    expect(value(families, 'scaleml_http_request_duration_seconds_bucket', { ...ok, le: '0.00025' })).toBe(0)
    expect(value(families, 'scaleml_http_request_duration_seconds_bucket', { ...ok, le: '0.0005' })).toBe(10)
    expect(value(families, 'scaleml_predictions_total', l)).toBe(10)
    expect(value(families, 'scaleml_batch_size_rows_sum', l)).toBe(10)
    expect(value(families, 'scaleml_batch_size_rows_bucket', { ...l, le: '4' })).toBe(1)
    const hitCount = value(families, 'scaleml_prediction_cache_hits_total', l)!
    const missCount = value(families, 'scaleml_prediction_cache_misses_total', l)!
    expect(hitCount / (hitCount + missCount)).toBe(0.4)
    expect(value(families, 'scaleml_errors_total', { ...l, kind: 'INVALID_INPUT' })).toBe(1)
    expect(value(families, 'scaleml_fallbacks_total', { ...l, reason: 'timeout' })).toBe(1)
    expect(value(families, 'scaleml_model_swaps_total', { model: 'flights' })).toBe(1)
    expect(
      value(families, 'scaleml_model_swap_failures_total', { model: 'flights', version: '4', stage: 'warm' }),
    ).toBe(1)
    expect(value(families, 'scaleml_model_version', { model: 'flights' })).toBe(3)
    expect(value(families, 'scaleml_queue_depth', { model: 'flights' })).toBe(2)
    expect(value(families, 'scaleml_http_requests_in_flight')).toBe(1)
    expect(value(families, 'scaleml_prediction_cache_errors_total', { tier: 'redis' })).toBe(1)
    expect(value(families, 'scaleml_process_resident_memory_bytes')).toBeGreaterThan(1e6)
    // Every name follows scaleml_<noun>_<unit> and counters end in _total.
    for (const f of families.values()) {
      expect(f.name).toMatch(/^scaleml_[a-z0-9_]+$/)
      if (f.type === 'counter') expect(f.name).toMatch(/_total$/)
    }
  })

  it('reports event-loop delay: a 60 ms block shows up in the max, and each scrape starts a new interval', async () => {
    const registry = new MetricsRegistry()
    metrics = defaultServingMetrics(registry)
    await new Promise((resolve) => setTimeout(resolve, 50))
    registry.render() // starts a fresh interval
    await new Promise((resolve) => setTimeout(resolve, 30))
    const until = performance.now() + 60
    while (performance.now() < until) {
      // blocks the event loop on purpose
    }
    await new Promise((resolve) => setTimeout(resolve, 30))
    const families = parseExposition(registry.render())
    // A lower bound only: a busier machine can only add delay.
    expect(value(families, 'scaleml_event_loop_delay_max_seconds')).toBeGreaterThanOrEqual(0.04)
    const p50 = value(families, 'scaleml_event_loop_delay_p50_seconds')!
    expect(p50).toBeGreaterThanOrEqual(0)
    expect(p50).toBeLessThanOrEqual(value(families, 'scaleml_event_loop_delay_max_seconds')!)
  })
})

describe('snapshots across worker processes', () => {
  /** One worker's registry with a counter, a histogram and a gauge of each cluster kind. */
  const worker = (requests: number, latencies: readonly number[], inFlight: number, rss: number) => {
    const registry = new MetricsRegistry()
    registry.counter('app_requests_total', 'Requests.', ['route']).inc({ route: '/a' }, requests)
    const latency = registry.histogram('app_latency_seconds', 'Latency.', ['route'], [0.1, 1])
    for (const l of latencies) latency.observe({ route: '/a' }, l)
    registry.gauge('app_in_flight', 'In flight.', [], { cluster: 'sum' }).set(undefined, inFlight)
    registry.gauge('app_rss_bytes', 'Memory.').set(undefined, rss)
    return registry
  }

  it('renders a registry exactly as its snapshot renders', () => {
    const registry = worker(3, [0.05, 2], 1, 100)
    expect(renderSnapshot(registry.snapshot())).toBe(registry.render())
  })

  it('sums counters, histogram buckets, sums and counts, and sum-gauges; keeps per-worker gauges per worker', () => {
    const a = worker(3, [0.05, 2], 1, 100).snapshot()
    const b = worker(4, [0.5, 0.5, 0.05], 2, 200).snapshot()
    const families = parseExposition(
      renderSnapshot(
        mergeSnapshots([
          { worker: '1', snapshot: a },
          { worker: '2', snapshot: b },
        ]),
      ),
    )
    expect(value(families, 'app_requests_total', { route: '/a' })).toBe(7)
    expect(value(families, 'app_latency_seconds_bucket', { route: '/a', le: '0.1' })).toBe(2)
    expect(value(families, 'app_latency_seconds_bucket', { route: '/a', le: '1' })).toBe(4)
    expect(value(families, 'app_latency_seconds_bucket', { route: '/a', le: '+Inf' })).toBe(5)
    expect(value(families, 'app_latency_seconds_count', { route: '/a' })).toBe(5)
    expect(value(families, 'app_latency_seconds_sum', { route: '/a' })).toBeCloseTo(3.1, 12)
    expect(value(families, 'app_in_flight')).toBe(3)
    expect(value(families, 'app_rss_bytes', { worker: '1' })).toBe(100)
    expect(value(families, 'app_rss_bytes', { worker: '2' })).toBe(200)
    expect(families.get('app_rss_bytes')!.samples).toHaveLength(2)
  })

  it('keeps the counters and histograms of an exited worker, so totals never go down, and drops its gauges', () => {
    const a = worker(3, [0.05], 1, 100).snapshot()
    const b = worker(4, [0.5], 2, 200).snapshot()
    const retired = retireSnapshot(undefined, b)
    const families = parseExposition(renderSnapshot(mergeSnapshots([{ worker: '1', snapshot: a }], retired)))
    expect(value(families, 'app_requests_total', { route: '/a' })).toBe(7)
    expect(value(families, 'app_latency_seconds_count', { route: '/a' })).toBe(2)
    expect(value(families, 'app_in_flight')).toBe(1)
    expect(families.get('app_rss_bytes')!.samples.map((s) => s.labels)).toEqual([{ worker: '1' }])
    // A second exit adds to what was retired.
    const twice = retireSnapshot(retired, a)
    const after = parseExposition(renderSnapshot(mergeSnapshots([], twice)))
    expect(value(after, 'app_requests_total', { route: '/a' })).toBe(7)
  })

  it('refuses a gauge label named worker and a conflicting cluster aggregation', () => {
    const registry = new MetricsRegistry()
    expect(() => registry.gauge('g', 'G.', ['worker'])).toThrow(/label 'worker'/)
    registry.gauge('h', 'H.', [], { cluster: 'sum' })
    expect(() => registry.gauge('h', 'H.', [], { cluster: 'worker' })).toThrow(/cluster aggregation 'sum'/)
  })
})
