/**
 * `/metrics` for a server of several worker processes (`scaleml serve --workers N`): each worker records into its
 * own registry, so the worker answering a scrape asks the primary, which collects every worker's snapshot over IPC
 * and answers with their merge (`mergeSnapshots`: counters and histograms summed, gauges summed or per worker).
 *
 * Protocol (messages carry `scaleml: '<kind>'` and the scrape's `id`):
 * 1. worker → primary `metrics:request`, with the asking worker's own fresh snapshot;
 * 2. primary → every other serving worker `metrics:collect`; each answers `metrics:snapshot`;
 * 3. primary → asking worker `metrics:aggregate` once all have answered or the time limit passed.
 *
 * A worker that does not answer in time never holds the scrape up: its last snapshot stands in for it (so totals do
 * not dip) and it is counted in `scaleml_cluster_workers_unanswered`. The counters and histograms of a worker that
 * exited are kept from its last snapshot, so totals stay monotonic across restarts (what it counted after its last
 * snapshot is lost). Should the primary itself not answer, the worker serves its own metrics, with both cluster
 * gauges NaN.
 * @module
 */
import {
  type FamilySnapshot,
  type MetricsRegistry,
  type MetricsSnapshot,
  mergeSnapshots,
  retireSnapshot,
  type WorkerSnapshot,
} from '../metrics.js'

/** How long the primary waits for the workers' snapshots, in ms. */
export const METRICS_COLLECT_MS = 1000

/** The messages of the protocol above. */
export type ClusterMetricsMessage =
  | { readonly scaleml: 'metrics:request'; readonly id: number; readonly snapshot: MetricsSnapshot }
  | { readonly scaleml: 'metrics:collect'; readonly id: number }
  | { readonly scaleml: 'metrics:snapshot'; readonly id: number; readonly snapshot: MetricsSnapshot }
  | { readonly scaleml: 'metrics:aggregate'; readonly id: number; readonly snapshot: MetricsSnapshot }

/** A send that reports a closed channel to its callback instead of as an `error` event nobody listens to. */
type Send = (message: ClusterMetricsMessage, callback: (error: Error | null) => void) => unknown

/** What the relay needs of a worker process (a `cluster.Worker` fits). */
export interface RelayWorker {
  readonly id: number
  send: Send
}

/** Options of {@link createMetricsRelay}. */
export interface MetricsRelayOptions {
  /** Longest wait for the workers' snapshots, in ms (default {@link METRICS_COLLECT_MS}). */
  readonly collectMs?: number
}

/** The primary's side: answers scrape requests from the workers with the merged snapshot of all of them. */
export interface MetricsRelay {
  /** A worker can be asked for metrics (it serves: its registry is up). */
  add(worker: RelayWorker): void
  /** The worker exited: its counters and histograms are kept, its gauges dropped, and no scrape waits for it. */
  remove(worker: RelayWorker): void
  /** Handles a message from `worker`; false when it is not part of this protocol. */
  handle(worker: RelayWorker, message: unknown): boolean
}

interface Collection {
  readonly requester: RelayWorker
  /** The asking worker's number for its request (collections are keyed by {@link collectionKey}). */
  readonly requestId: number
  /** Worker ids still to answer. */
  readonly waiting: Set<number>
  /** Snapshots received in this scrape, by worker id. */
  readonly fresh: Map<number, MetricsSnapshot>
  readonly timer: ReturnType<typeof setTimeout>
}

/**
 * The primary's relay; wire `add`/`remove` to the workers' `listening`/`exit` events and `handle` to their
 * `message` events.
 *
 * @example
 * const relay = createMetricsRelay()
 * worker.on('listening', () => relay.add(worker))
 * worker.on('message', (message) => relay.handle(worker, message))
 * worker.on('exit', () => relay.remove(worker))
 */
export function createMetricsRelay(options: MetricsRelayOptions = {}): MetricsRelay {
  const collectMs = options.collectMs ?? METRICS_COLLECT_MS
  const workers = new Map<number, RelayWorker>()
  /** Each serving worker's most recent snapshot. */
  const last = new Map<number, MetricsSnapshot>()
  const collections = new Map<number, Collection>()
  let retired: MetricsSnapshot | undefined

  const finish = (id: number) => {
    const collection = collections.get(id)
    if (collection === undefined) return
    collections.delete(id)
    clearTimeout(collection.timer)
    const parts: WorkerSnapshot[] = []
    let unanswered = 0
    for (const workerId of workers.keys()) {
      const snapshot = collection.fresh.get(workerId) ?? last.get(workerId)
      if (!collection.fresh.has(workerId)) unanswered++
      if (snapshot !== undefined) parts.push({ worker: String(workerId), snapshot })
    }
    const merged = mergeSnapshots(parts, retired)
    const snapshot: MetricsSnapshot = {
      families: [...merged.families, ...clusterGauges(workers.size, unanswered)],
    }
    if (workers.has(collection.requester.id)) {
      send(collection.requester, { scaleml: 'metrics:aggregate', id: collection.requestId, snapshot })
    }
  }

  const received = (worker: RelayWorker, id: number, snapshot: MetricsSnapshot) => {
    if (workers.has(worker.id)) last.set(worker.id, snapshot)
    const collection = collections.get(id)
    if (collection === undefined || !collection.waiting.delete(worker.id)) return
    collection.fresh.set(worker.id, snapshot)
    if (collection.waiting.size === 0) finish(id)
  }

  return {
    add(worker) {
      workers.set(worker.id, worker)
    },

    remove(worker) {
      if (!workers.delete(worker.id)) return
      const snapshot = last.get(worker.id)
      last.delete(worker.id)
      if (snapshot !== undefined) retired = retireSnapshot(retired, snapshot)
      for (const [id, collection] of collections) {
        if (collection.waiting.delete(worker.id) && collection.waiting.size === 0) finish(id)
      }
    },

    handle(worker, message) {
      if (!isMetricsMessage(message)) return false
      if (message.scaleml === 'metrics:snapshot') received(worker, message.id, message.snapshot)
      else if (message.scaleml === 'metrics:request') {
        // The asking worker may not be registered yet (a scrape racing its `listening` event): serve it anyway.
        if (!workers.has(worker.id)) workers.set(worker.id, worker)
        // Request numbers are per asking worker: the relay keys a scrape by both.
        const key = collectionKey(worker.id, message.id)
        const others = [...workers.keys()].filter((workerId) => workerId !== worker.id)
        const collection: Collection = {
          requester: worker,
          requestId: message.id,
          waiting: new Set(others),
          fresh: new Map([[worker.id, message.snapshot]]),
          timer: setTimeout(() => finish(key), collectMs),
        }
        collection.timer.unref?.()
        collections.set(key, collection)
        last.set(worker.id, message.snapshot)
        if (others.length === 0) {
          finish(key)
          return true
        }
        for (const workerId of others) send(workers.get(workerId)!, { scaleml: 'metrics:collect', id: key })
      }
      return true
    },
  }

  function send(worker: RelayWorker, message: ClusterMetricsMessage): void {
    try {
      // A worker exiting: its `exit` event removes it; the scrape goes on without it.
      worker.send(message, ignore)
    } catch {
      // As above.
    }
  }
}

/** The key of one scrape in the relay: the asking worker's id and its own request number. */
function collectionKey(workerId: number, id: number): number {
  return workerId * 2 ** 32 + (id % 2 ** 32)
}

/** `scaleml_cluster_workers` and `scaleml_cluster_workers_unanswered` for one scrape. */
function clusterGauges(workers: number, unanswered: number): FamilySnapshot[] {
  return [
    {
      name: 'scaleml_cluster_workers',
      help: 'Worker processes serving (their metrics are summed here).',
      type: 'gauge',
      labelNames: [],
      cluster: 'sum',
      series: [{ labels: [], value: workers }],
    },
    {
      name: 'scaleml_cluster_workers_unanswered',
      help: 'Workers that did not send their metrics in time for this scrape (their previous ones are used).',
      type: 'gauge',
      labelNames: [],
      cluster: 'sum',
      series: [{ labels: [], value: unanswered }],
    },
  ]
}

function isMetricsMessage(message: unknown): message is ClusterMetricsMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { scaleml?: unknown }).scaleml === 'string' &&
    (message as { scaleml: string }).scaleml.startsWith('metrics:') &&
    typeof (message as { id?: unknown }).id === 'number'
  )
}

function ignore(): void {}

/** The IPC channel of a worker process (`process` in a cluster worker). */
export interface WorkerChannel {
  send?: Send
  on(event: 'message', listener: (message: unknown) => void): unknown
  off(event: 'message', listener: (message: unknown) => void): unknown
}

/** Options of {@link connectClusterMetrics}. */
export interface ClusterMetricsClientOptions {
  /** Default `process`. */
  readonly channel?: WorkerChannel
  /** Longest wait for the primary's answer, in ms (default twice {@link METRICS_COLLECT_MS}). */
  readonly waitMs?: number
}

/** A worker's side. */
export interface ClusterMetricsClient {
  /** The merged snapshot of every worker (this one's fresh); this worker's own, marked, if the primary is silent. */
  collect(): Promise<MetricsSnapshot>
  /** Stops answering the primary (idempotent). */
  close(): void
}

/**
 * Connects `registry` to the primary: answers its `metrics:collect` messages with `registry.snapshot()`, and
 * gathers everyone's on {@link ClusterMetricsClient.collect}.
 *
 * @example
 * const client = connectClusterMetrics(registry)
 * app.get('/metrics', async () => renderSnapshot(await client.collect()))
 */
export function connectClusterMetrics(
  registry: MetricsRegistry,
  options: ClusterMetricsClientOptions = {},
): ClusterMetricsClient {
  const channel: WorkerChannel = options.channel ?? (process as unknown as WorkerChannel)
  const waitMs = options.waitMs ?? 2 * METRICS_COLLECT_MS
  const pending = new Map<number, (snapshot: MetricsSnapshot) => void>()
  let next = 0
  let closed = false
  const listener = (message: unknown) => {
    if (!isMetricsMessage(message)) return
    if (message.scaleml === 'metrics:collect') {
      trySend({ scaleml: 'metrics:snapshot', id: message.id, snapshot: registry.snapshot() })
    } else if (message.scaleml === 'metrics:aggregate') {
      const resolve = pending.get(message.id)
      if (resolve !== undefined) {
        pending.delete(message.id)
        resolve(message.snapshot)
      }
    }
  }
  /** False when the channel is closed (the worker is leaving); never throws or emits an unhandled `error`. */
  const trySend = (message: ClusterMetricsMessage): boolean => {
    if (channel.send === undefined) return false
    try {
      channel.send(message, ignore)
      return true
    } catch {
      return false
    }
  }
  channel.on('message', listener)
  return {
    collect() {
      const own = registry.snapshot()
      if (closed || channel.send === undefined) return Promise.resolve(alone(own))
      const id = next++ % 2 ** 32
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(id)
          resolve(alone(own))
        }, waitMs)
        timer.unref?.()
        pending.set(id, (snapshot) => {
          clearTimeout(timer)
          resolve(snapshot)
        })
        if (!trySend({ scaleml: 'metrics:request', id, snapshot: own })) {
          clearTimeout(timer)
          pending.delete(id)
          resolve(alone(own))
        }
      })
    },
    close() {
      if (closed) return
      closed = true
      channel.off('message', listener)
    },
  }
}

/** This worker's snapshot alone: the cluster gauges are NaN (unknown), saying the merge did not happen. */
function alone(own: MetricsSnapshot): MetricsSnapshot {
  return { families: [...own.families, ...clusterGauges(Number.NaN, Number.NaN)] }
}
