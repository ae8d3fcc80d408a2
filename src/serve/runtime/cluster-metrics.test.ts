/**
 * The `/metrics` relay of a multi-process server, with the workers' IPC channels simulated in this process (messages
 * are structured-cloned and delivered on a later turn, as over IPC). The real processes are in test/e2e/serve.test.ts.
 */
import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { type Counter, MetricsRegistry, renderSnapshot } from '../metrics.js'
import {
  type ClusterMetricsClient,
  type ClusterMetricsMessage,
  connectClusterMetrics,
  createMetricsRelay,
  type MetricsRelay,
  type RelayWorker,
  type WorkerChannel,
} from './cluster-metrics.js'
import { parseExposition, value } from './test-helpers/prometheus.js'

interface SimulatedWorker {
  readonly worker: RelayWorker
  readonly registry: MetricsRegistry
  readonly requests: Counter
  readonly client: ClusterMetricsClient
  /** While true the worker ignores the primary (a worker stuck in a long batch). */
  silent: boolean
}

const later = (deliver: () => void) => setImmediate(deliver)

function simulate(relay: MetricsRelay, id: number, options: { waitMs?: number; primaryDown?: () => boolean } = {}) {
  const events = new EventEmitter()
  const registry = new MetricsRegistry()
  const requests = registry.counter('app_requests_total', 'Requests.')
  registry.gauge('app_rss_bytes', 'Memory.').set(undefined, id * 100)
  const simulated = { silent: false } as SimulatedWorker
  const worker: RelayWorker = {
    id,
    send(message: ClusterMetricsMessage, callback) {
      if (simulated.silent && message.scaleml === 'metrics:collect') return
      const copy = structuredClone(message)
      later(() => events.emit('message', copy))
      callback(null)
    },
  }
  const channel: WorkerChannel = {
    send(message, callback) {
      if (options.primaryDown?.()) return
      const copy = structuredClone(message)
      later(() => relay.handle(worker, copy))
      callback(null)
    },
    on: (event, listener) => events.on(event, listener),
    off: (event, listener) => events.off(event, listener),
  }
  const client = connectClusterMetrics(registry, {
    channel,
    ...(options.waitMs === undefined ? {} : { waitMs: options.waitMs }),
  })
  Object.assign(simulated, { worker, registry, requests, client })
  relay.add(worker)
  return simulated
}

const scrape = async (from: SimulatedWorker) => parseExposition(renderSnapshot(await from.client.collect()))

describe('the cluster metrics relay', () => {
  it('answers a scrape on any worker with the sum over every worker', async () => {
    const relay = createMetricsRelay({ collectMs: 5_000 })
    const [a, b, c] = [1, 2, 3].map((id) => simulate(relay, id))
    a!.requests.inc(undefined, 5)
    b!.requests.inc(undefined, 7)
    for (const from of [a!, b!, c!]) {
      const families = await scrape(from)
      expect(value(families, 'app_requests_total')).toBe(12)
      expect(value(families, 'app_rss_bytes', { worker: '2' })).toBe(200)
      expect(value(families, 'scaleml_cluster_workers')).toBe(3)
      expect(value(families, 'scaleml_cluster_workers_unanswered')).toBe(0)
    }
  })

  it('does not wait past its time limit for a silent worker: its last snapshot stands in, and it is counted', async () => {
    const relay = createMetricsRelay({ collectMs: 50 })
    const a = simulate(relay, 1)
    const b = simulate(relay, 2)
    a.requests.inc(undefined, 1)
    b.requests.inc(undefined, 10)
    expect(value(await scrape(a), 'app_requests_total')).toBe(11)
    b.silent = true
    b.requests.inc(undefined, 100) // counted after its last snapshot: not seen while it is silent
    a.requests.inc(undefined, 1)
    // Waiting for the silent worker would hang this test past its time limit.
    const families = await scrape(a)
    expect(value(families, 'app_requests_total')).toBe(12)
    expect(value(families, 'scaleml_cluster_workers_unanswered')).toBe(1)
    b.silent = false
    expect(value(await scrape(a), 'app_requests_total')).toBe(112)
  })

  it('keeps the counts of a worker that exited and forgets its gauges', async () => {
    const relay = createMetricsRelay({ collectMs: 5_000 })
    const a = simulate(relay, 1)
    const b = simulate(relay, 2)
    a.requests.inc(undefined, 3)
    b.requests.inc(undefined, 4)
    expect(value(await scrape(a), 'app_requests_total')).toBe(7)
    relay.remove(b.worker)
    b.client.close()
    const c = simulate(relay, 3)
    c.requests.inc(undefined, 1)
    const families = await scrape(c)
    expect(value(families, 'app_requests_total')).toBe(8)
    expect(families.get('app_rss_bytes')!.samples.map((s) => s.labels['worker'])).toEqual(['1', '3'])
    expect(value(families, 'scaleml_cluster_workers')).toBe(2)
  })

  it('serves the worker its own metrics, cluster gauges NaN, when the primary does not answer', async () => {
    const relay = createMetricsRelay()
    const a = simulate(relay, 1, { waitMs: 30, primaryDown: () => true })
    a.requests.inc(undefined, 2)
    const families = await scrape(a)
    expect(value(families, 'app_requests_total')).toBe(2)
    expect(value(families, 'scaleml_cluster_workers')).toBeNaN()
  })
})
