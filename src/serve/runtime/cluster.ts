/**
 * Process-level parallelism for `scaleml serve --workers N`: the primary process forks N workers (node:cluster),
 * each a full server (its own runtime, models, poller) sharing the listening port. The primary only supervises: it
 * restarts a worker that dies while serving, forwards SIGTERM/SIGINT so every worker drains, exits 0 once all
 * have exited cleanly after a shutdown signal, and relays `/metrics` scrapes so that they answer for every worker
 * (`cluster-metrics.ts`).
 * @module
 */
import cluster, { type Worker } from 'node:cluster'
import { createMetricsRelay } from './cluster-metrics.js'

/** Options of {@link runClusterPrimary}. */
export interface ClusterOptions {
  /** Worker processes (≥ 2; with 1 the server runs in the process itself). */
  readonly workers: number
  /** Called once, when the first worker listens (address as `host:port`). */
  readonly onListening?: (address: string, port: number) => void
  /** Where to report worker deaths and restarts. */
  readonly log?: (message: string) => void
  /** Longest wait for the workers' metrics on a scrape, in ms (default 1000). */
  readonly metricsCollectMs?: number
}

/** Least time between two restarts of workers that died, so a crash loop does not spin. */
const RESTART_DELAY_MS = 1000

/** True in a process that was forked by {@link runClusterPrimary}. */
export function isClusterWorker(): boolean {
  return cluster.isWorker
}

/**
 * Forks the workers (each re-runs this program with the same arguments) and resolves with the exit code once they
 * have all exited after SIGTERM/SIGINT: 0 when every worker exited 0.
 */
export function runClusterPrimary(options: ClusterOptions): Promise<number> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`))
  let stopping = false
  let failedExit = false
  let announced = false
  let firstFailure: number | undefined
  const live = new Set<Worker>()
  const metrics = createMetricsRelay(
    options.metricsCollectMs === undefined ? {} : { collectMs: options.metricsCollectMs },
  )
  // Structured clone rather than JSON: metric values may be NaN or ±Infinity.
  cluster.setupPrimary({ serialization: 'advanced' })

  return new Promise((resolve) => {
    const fork = () => {
      const worker = cluster.fork()
      let listened = false
      live.add(worker)
      worker.on('message', (message) => metrics.handle(worker, message))
      worker.on('listening', (address) => {
        listened = true
        metrics.add(worker)
        if (announced) return
        announced = true
        options.onListening?.(`${address.address ?? '127.0.0.1'}:${address.port}`, address.port)
      })
      worker.on('exit', (code, signal) => {
        live.delete(worker)
        metrics.remove(worker)
        if (stopping) {
          // A worker still starting when the signal came dies of it, having served nothing: that is clean too.
          if (code !== 0 && signal !== 'SIGTERM') failedExit = true
          if (live.size === 0) resolve(firstFailure ?? (failedExit ? 1 : 0))
          return
        }
        if (!listened) {
          // It failed before serving (a reference that does not resolve, a port in use): restarting would fail the
          // same way, every second. The worker printed why; stop the others and exit with its code.
          stopping = true
          failedExit = true
          for (const other of live) other.process.kill('SIGTERM')
          if (live.size === 0) resolve(code !== null && code !== 0 ? code : 1)
          else firstFailure = code !== null && code !== 0 ? code : 1
          return
        }
        log(`worker ${worker.process.pid} died (${signal ?? `exit code ${code}`}); starting another`)
        setTimeout(() => {
          if (!stopping) fork()
        }, RESTART_DELAY_MS)
      })
    }
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return
      stopping = true
      log(`shutting down ${live.size} workers: finishing in-flight requests`)
      if (live.size === 0) resolve(0)
      for (const worker of live) worker.process.kill(signal)
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGTERM'))
    for (let i = 0; i < options.workers; i++) fork()
  })
}
