/**
 * One load run with autocannon's programmatic API: `connections` keep-alive connections send POST bodies in turn for
 * `durationS` seconds. Latency percentiles come from every 2xx response time autocannon reports (its own histogram
 * rounds to whole milliseconds, too coarse for a p99 target of 10 ms).
 */
import autocannon from 'autocannon'

/** What one run measured. */
export interface LoadResult {
  readonly seconds: number
  /** 2xx responses. */
  readonly ok: number
  readonly non2xx: number
  /** Connection errors, timeouts included. */
  readonly errors: number
  /** Requests with no answer within autocannon's 10 s timeout. */
  readonly timeouts: number
  readonly requestsPerSecond: number
  readonly predictionsPerSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  /** Counts per non-2xx status, if any. */
  readonly statuses: Readonly<Record<string, number>>
}

/** Options of {@link runLoad}. */
export interface LoadOptions {
  readonly url: string
  readonly path: string
  readonly bodies: readonly string[]
  readonly rowsPerRequest: number
  readonly connections: number
  readonly durationS: number
}

/** Runs one load test; resolves with the measured figures. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  let latencies = new Float64Array(1 << 16)
  let n = 0
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationS,
        timeout: 10,
        // Bodies are pre-built: autocannon serializes each request once and cycles through them.
        requests: options.bodies.map((body) => ({
          method: 'POST',
          path: options.path,
          headers: { 'content-type': 'application/json' },
          body,
        })),
      },
      (error, result) => {
        if (error) {
          reject(error)
          return
        }
        const sorted = latencies.subarray(0, n).sort()
        const quantile = (q: number) => (n === 0 ? Number.NaN : sorted[Math.min(n - 1, Math.ceil(q * n) - 1)]!)
        const seconds = result.duration
        const statuses: Record<string, number> = {}
        for (const [status, { count }] of Object.entries(result.statusCodeStats)) {
          if (!status.startsWith('2')) statuses[status] = count
        }
        resolve({
          seconds,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          requestsPerSecond: result['2xx'] / seconds,
          predictionsPerSecond: (result['2xx'] * options.rowsPerRequest) / seconds,
          p50Ms: quantile(0.5),
          p99Ms: quantile(0.99),
          maxMs: n === 0 ? Number.NaN : sorted[n - 1]!,
          statuses,
        })
      },
    )
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode < 200 || statusCode > 299) return
      if (n === latencies.length) {
        const grown = new Float64Array(latencies.length * 2)
        grown.set(latencies)
        latencies = grown
      }
      latencies[n++] = responseTime
    })
  })
}
