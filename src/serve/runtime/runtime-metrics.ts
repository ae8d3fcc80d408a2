/**
 * Records what the serving runtime does into the Prometheus serving metrics (`serve/metrics.ts`): batch sizes and
 * queue times per model version, rows predicted, cache hits and misses, fallbacks, swaps and failed swaps, load
 * times, and — read at scrape time — queue depth and the version each reference answers with.
 * @module
 */
import type { CounterChild, HistogramChild, MetricsRegistry, ServingMetrics } from '../metrics.js'
import type { ModelId, ServingRuntime } from './runtime.js'

/** Per model version, the metric children resolved once (the metrics module's hot-path form). */
interface VersionSeries {
  readonly batchSize: HistogramChild
  readonly queueTime: HistogramChild
  readonly predictions: CounterChild
  readonly cacheHits: CounterChild
  readonly cacheMisses: CounterChild
}

/**
 * Subscribes `metrics` to `runtime`; returns the function that unsubscribes.
 *
 * @example
 * const metrics = defaultServingMetrics(registry)
 * observeRuntimeMetrics(runtime, metrics, registry)
 */
export function observeRuntimeMetrics(
  runtime: ServingRuntime,
  metrics: ServingMetrics,
  registry: MetricsRegistry,
): () => void {
  const series = new Map<string, VersionSeries>()
  // The runtime passes one id object per loaded version: finding its series by identity spares building a key.
  const byId = new WeakMap<ModelId, VersionSeries>()
  const of = (model: ModelId): VersionSeries => {
    let found = byId.get(model)
    if (found !== undefined) return found
    const key = `${model.name}:${model.version}`
    found = series.get(key)
    if (found === undefined) {
      const labels = { model: model.name, version: model.version }
      found = {
        batchSize: metrics.batchSize.labels(labels),
        queueTime: metrics.queueTime.labels(labels),
        predictions: metrics.predictions.labels(labels),
        cacheHits: metrics.cacheHits.labels(labels),
        cacheMisses: metrics.cacheMisses.labels(labels),
      }
      series.set(key, found)
    }
    byId.set(model, found)
    return found
  }
  // Versions loaded before this subscription (the runtime starts before the app) still get their load time.
  for (const slot of runtime.slots()) {
    const current = slot.current
    if (current?.loadSeconds !== undefined) {
      metrics.modelLoadSeconds.set({ model: current.name, version: current.version }, current.loadSeconds)
    }
  }
  let active = true
  registry.addCollector(() => {
    if (!active) return
    for (const slot of runtime.slots()) {
      const current = slot.current
      if (current === undefined) continue
      metrics.servedVersion.set({ model: slot.ref }, current.version)
      metrics.queueDepth.set({ model: slot.ref }, current.batcher.stats().queued)
    }
  })
  const unsubscribe = runtime.observe({
    batch(model, report) {
      const s = of(model)
      s.batchSize.observe(report.rows)
      for (const ms of report.queueMs) s.queueTime.observe(ms / 1000)
    },
    predicted(model, rows) {
      of(model).predictions.inc(rows)
    },
    cache(model, hits, misses) {
      const s = of(model)
      if (hits > 0) s.cacheHits.inc(hits)
      if (misses > 0) s.cacheMisses.inc(misses)
    },
    fallback(model, reason) {
      metrics.fallbacks.inc({ model: model.name, version: model.version, reason })
    },
    load(event) {
      const labels = { model: event.name, version: event.version }
      if (event.ok) metrics.modelLoadSeconds.set(labels, event.seconds)
      else metrics.swapFailures.inc({ ...labels, stage: event.stage ?? 'load' })
    },
    swap(event) {
      if (event.from !== undefined) metrics.swaps.inc({ model: event.ref })
    },
  })
  return () => {
    active = false
    unsubscribe()
  }
}
