/**
 * `scaleml serve`: serve model references over HTTP with micro-batching, hot swaps, backpressure, time limits and
 * fallbacks, metrics and an optional prediction cache, on one or several processes. Flags are parsed here; the
 * work is the serving runtime's (`serve/runtime/`) and the HTTP app's.
 * @module
 */
import { availableParallelism } from 'node:os'
import type { Command } from 'commander'
import { ScalemlError } from '../../core/errors.js'
import { openRegistry } from '../../registry/registry.js'
import { createApp, DEFAULT_BODY_LIMIT } from '../../serve/http/app.js'
import { MetricsRegistry } from '../../serve/metrics.js'
import { createLruCache, createTieredCache, type PredictionCache } from '../../serve/prediction-cache.js'
import type { ServableModel } from '../../serve/predictor.js'
import { isClusterWorker, runClusterPrimary } from '../../serve/runtime/cluster.js'
import { DEFAULT_MAX_INSTANCES } from '../../serve/runtime/request-reader.js'
import {
  createServingRuntime,
  type FallbackConfig,
  RUNTIME_DEFAULTS,
  type RuntimeLog,
  type ServingRuntime,
  type ServingRuntimeOptions,
} from '../../serve/runtime/runtime.js'
import { reportError } from '../exit.js'
import { addRegistryOptions, collect, parseInteger, type RegistryFlags, registryOptionsFrom } from './shared.js'

interface ServeFlags extends RegistryFlags {
  model: string[]
  port: string
  host: string
  log?: boolean
  maxBatchSize: string
  maxDelayMs?: string
  maxQueue: string
  maxInstances: string
  bodyLimit: string
  timeoutMs: string[]
  fallback: string[]
  workers?: string
  threads: string
  heavy: string[]
  pollMs: string
  cache: string
  cacheEntries: string
  cacheTtlMs: string
  unknownFields: string
  unknownCategories: string
  drainMs: string
}

/** Adds `serve` to the program. */
export function registerServeCommand(program: Command): void {
  addRegistryOptions(
    program
      .command('serve')
      .description(
        'Serve registered models over HTTP: micro-batching, hot swaps when a reference moves, backpressure, metrics.',
      ),
  )
    .option(
      '--model <ref>',
      'reference to serve: name, name@alias or name:version (repeatable; default: every model)',
      collect,
      [],
    )
    .option('--port <n>', 'port to listen on (0: any free port)', process.env.PORT ?? '8080')
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--max-batch-size <rows>', 'most rows per micro-batch', String(RUNTIME_DEFAULTS.maxBatchSize))
    .option('--max-delay-ms <ms>', 'wait up to this long to fill a batch (default: adaptive, no added wait)')
    .option('--max-queue <n>', 'most requests waiting per model before 429', String(RUNTIME_DEFAULTS.maxQueue))
    .option('--max-instances <n>', 'most rows per request before 413', String(DEFAULT_MAX_INSTANCES))
    .option('--body-limit <bytes>', 'largest request body before 413', String(DEFAULT_BODY_LIMIT))
    .option(
      '--timeout-ms <ms>',
      "time limit per predict request; 'name=<ms>' for one model (repeatable; default: none)",
      collect,
      [],
    )
    .option(
      '--fallback <json>',
      'answer this prediction on a timeout or model failure, e.g. \'{"probability":0.2,"label":false}\'; ' +
        "'name=<json>' for one model (repeatable; default: 503)",
      collect,
      [],
    )
    .option(
      '--workers <n>',
      `server processes sharing the port (default: the number of cores, ${availableParallelism()})`,
    )
    .option('--threads <n>', 'worker threads per process for --heavy models', String(RUNTIME_DEFAULTS.threads))
    .option('--heavy <name>', "run this model's batches on worker threads ('*': every model; repeatable)", collect, [])
    .option(
      '--poll-ms <ms>',
      'how often references are resolved again for hot swaps (0: never)',
      String(RUNTIME_DEFAULTS.pollMs),
    )
    .option(
      '--cache <kind>',
      "prediction cache: 'off', 'lru', or 'redis://host:port' (an LRU plus a shared Redis tier)",
      'off',
    )
    .option('--cache-entries <n>', 'most entries in the in-process cache', '100000')
    .option('--cache-ttl-ms <ms>', 'time to live of cached predictions', '300000')
    .option('--unknown-fields <policy>', "fields outside the input schema: 'reject' or 'ignore'", 'reject')
    .option('--unknown-categories <policy>', "categories a model never kept: 'other' or 'reject'", 'other')
    .option('--drain-ms <ms>', 'on SIGTERM, longest wait for in-flight requests before closing connections', '30000')
    .option('--log', 'log every request as JSON lines')
    .action(async (flags: ServeFlags) => {
      const config = parseServeFlags(flags)
      if (config.workers > 1 && !isClusterWorker()) {
        const code = await runClusterPrimary({
          workers: config.workers,
          onListening: (_address, port) =>
            process.stderr.write(`serving on http://${config.host}:${port} with ${config.workers} worker processes\n`),
        })
        process.exitCode = code
        return
      }
      if (!isClusterWorker()) {
        await serveFromRegistry(flags, config)
        return
      }
      try {
        await serveFromRegistry(flags, config)
      } catch (error) {
        // A worker's IPC channel to the primary would keep it alive: report and leave, so the primary sees it.
        process.exit(reportError(error))
      }
    })
}

/** Everything `serve` needs, checked. */
interface ServeConfig {
  readonly port: number
  readonly host: string
  readonly log: boolean
  readonly workers: number
  readonly bodyLimit: number
  readonly drainMs: number
  readonly cache: string
  readonly cacheEntries: number
  readonly cacheTtlMs: number
  readonly runtime: Omit<ServingRuntimeOptions, 'registry' | 'refs' | 'models' | 'cache' | 'log'>
}

function parseServeFlags(flags: ServeFlags): ServeConfig {
  const positive = (flag: string, raw: string, min = 1) => {
    const value = parseInteger(flag, raw)
    if (value < min) throw new ScalemlError('INVALID_ARGUMENT', `${flag} must be ≥ ${min}; got ${value}.`)
    return value
  }
  const oneOf = <T extends string>(flag: string, raw: string, allowed: readonly T[]): T => {
    if ((allowed as readonly string[]).includes(raw)) return raw as T
    throw new ScalemlError('INVALID_ARGUMENT', `${flag} must be one of ${allowed.join(', ')}; got '${raw}'.`)
  }
  const cache = flags.cache
  if (cache !== 'off' && cache !== 'lru' && !/^rediss?:\/\//.test(cache)) {
    throw new ScalemlError('INVALID_ARGUMENT', `--cache must be 'off', 'lru' or a redis:// URL; got '${cache}'.`)
  }
  return {
    port: positive('--port', flags.port, 0),
    host: flags.host,
    log: flags.log === true,
    workers: flags.workers === undefined ? availableParallelism() : positive('--workers', flags.workers),
    bodyLimit: positive('--body-limit', flags.bodyLimit),
    drainMs: positive('--drain-ms', flags.drainMs, 0),
    cache,
    cacheEntries: positive('--cache-entries', flags.cacheEntries),
    cacheTtlMs: positive('--cache-ttl-ms', flags.cacheTtlMs),
    runtime: {
      batching: {
        maxBatchSize: positive('--max-batch-size', flags.maxBatchSize),
        maxDelayMs: flags.maxDelayMs === undefined ? 0 : positive('--max-delay-ms', flags.maxDelayMs, 0),
        maxQueue: positive('--max-queue', flags.maxQueue),
      },
      input: {
        maxInstances: positive('--max-instances', flags.maxInstances),
        unknownFields: oneOf('--unknown-fields', flags.unknownFields, ['reject', 'ignore'] as const),
        unknownCategories: oneOf('--unknown-categories', flags.unknownCategories, ['other', 'reject'] as const),
      },
      ...parseTimeouts(flags.timeoutMs, (raw) => positive('--timeout-ms', raw)),
      fallback: parseFallbacks(flags.fallback),
      pollMs: positive('--poll-ms', flags.pollMs, 0),
      threads: positive('--threads', flags.threads),
      heavy: flags.heavy,
    },
  }
}

/** `--timeout-ms` values: `<ms>` for every model, `<name>=<ms>` for one. */
function parseTimeouts(
  values: readonly string[],
  parse: (raw: string) => number,
): Pick<ServingRuntimeOptions, 'timeoutMs' | 'timeouts'> {
  let timeoutMs: number | undefined
  const timeouts = new Map<string, number>()
  for (const value of values) {
    const match = /^([a-z0-9][a-z0-9._-]*)=(.*)$/s.exec(value)
    if (match === null) timeoutMs = parse(value)
    else timeouts.set(match[1]!, parse(match[2]!))
  }
  return { ...(timeoutMs === undefined ? {} : { timeoutMs }), timeouts }
}

/**
 * `--fallback` values: `<json>` for every model or `<name>=<json>` for one; the JSON is one row's answer, an object
 * of numbers and booleans.
 */
export function parseFallbacks(values: readonly string[]): FallbackConfig {
  const out = new Map<string, Record<string, number | boolean>>()
  for (const value of values) {
    const match = /^([a-z0-9][a-z0-9._-]*)=(.*)$/s.exec(value)
    const name = match?.[1] ?? '*'
    const text = match?.[2] ?? value
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
    const valid =
      typeof parsed === 'object' &&
      parsed !== null &&
      !Array.isArray(parsed) &&
      Object.values(parsed).every((v) => typeof v === 'number' || typeof v === 'boolean')
    if (!valid) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `--fallback expects a JSON object of numbers and booleans (one row's answer), optionally after 'name=', like '{"probability":0.2,"label":false}'; got '${value}'.`,
      )
    }
    out.set(name, parsed as Record<string, number | boolean>)
  }
  return out
}

/** Opens the registry, starts the runtime and the server, and waits for SIGTERM/SIGINT to drain and stop. */
async function serveFromRegistry(flags: ServeFlags, config: ServeConfig): Promise<void> {
  const registry = await openRegistry(registryOptionsFrom(flags))
  let runtime: ServingRuntime | undefined
  try {
    const refs = flags.model.length > 0 ? flags.model : (await registry.list()).map((m) => m.name)
    if (refs.length === 0) {
      throw new ScalemlError(
        'MODEL_NOT_FOUND',
        'The registry has no model to serve: train or import one first (scaleml train … --name <name>).',
      )
    }
    runtime = createServingRuntime({
      ...config.runtime,
      registry,
      refs,
      cache: openCache(config),
      log: stderrLog(),
    })
    await runtime.start()
    const server = await startServer({
      runtime,
      port: config.port,
      host: config.host,
      log: config.log,
      bodyLimit: config.bodyLimit,
      drainMs: config.drainMs,
      metrics: new MetricsRegistry(),
    })
    const served = runtime
      .slots()
      .map((slot) => `${slot.ref} (version ${slot.current?.version})`)
      .join(', ')
    if (!isClusterWorker()) process.stderr.write(`serving ${served} on ${server.url}\n`)
    await server.closed
  } finally {
    await runtime?.close()
    await registry.close()
  }
  // In a cluster worker the IPC channel to the primary keeps the process alive; leave once everything is closed.
  if (isClusterWorker()) process.exit(0)
}

function openCache(config: ServeConfig): PredictionCache | undefined {
  if (config.cache === 'off') return undefined
  const local = createLruCache({
    maxEntries: config.cacheEntries,
    maxBytes: 256 * 1024 * 1024,
    ttlMs: config.cacheTtlMs,
  })
  if (config.cache === 'lru') return local
  return createTieredCache(local, {
    url: config.cache,
    ttlMs: config.cacheTtlMs,
    onError: (error) => process.stderr.write(`warn: prediction cache (Redis) unavailable: ${error.message}\n`),
  })
}

/** Runtime logs (loads, swaps, failed swaps) as one line each on stderr. */
function stderrLog(): RuntimeLog {
  const write = (level: string) => (fields: Readonly<Record<string, unknown>>, message: string) => {
    const shown = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v instanceof Error ? JSON.stringify(v.message) : JSON.stringify(v)}`)
      .join(' ')
    process.stderr.write(`${new Date().toISOString()} ${level} ${message}${shown ? ` ${shown}` : ''}\n`)
  }
  return { info: write('info'), warn: write('warn') }
}

/** A running server. */
export interface RunningServer {
  readonly url: string
  /** Resolves once the server has shut down after SIGTERM/SIGINT and in-flight requests were answered. */
  readonly closed: Promise<void>
}

/** Options of {@link startServer}: a runtime (or models served as they are) and where to listen. */
export interface StartServerOptions {
  /** The runtime to serve; the caller closes it after `closed`. */
  readonly runtime?: ServingRuntime
  /** Or models served as they are, by name (the app owns their runtime). */
  readonly models?: ReadonlyMap<string, ServableModel>
  readonly port: number
  readonly host: string
  readonly log: boolean
  readonly bodyLimit?: number
  readonly metrics?: MetricsRegistry
  /** On SIGTERM, the longest wait (ms) for in-flight requests before connections are closed (default 30 s). */
  readonly drainMs?: number
}

/**
 * Starts the HTTP app; on SIGTERM/SIGINT it stops accepting connections, answers the requests in flight (up to
 * `drainMs`), and resolves `closed`.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const app = createApp({
    ...(options.runtime === undefined ? {} : { runtime: options.runtime }),
    ...(options.models === undefined ? {} : { models: options.models }),
    logger: options.log,
    bodyLimit: options.bodyLimit,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  })
  const address = await app.listen({ port: options.port, host: options.host })
  const closed = new Promise<void>((resolve) => {
    const shutdown = () => {
      process.stderr.write('shutting down: finishing in-flight requests\n')
      // While draining, each answer closes its connection, so keep-alive clients move to another server. (A
      // listener added now costs the requests before shutdown nothing, unlike a hook.)
      app.server.on('request', (_request, response) => {
        if (!response.headersSent) response.setHeader('connection', 'close')
      })
      // `close` ends the connections idle at that moment; those busy then become idle once answered.
      const idle = setInterval(() => app.server.closeIdleConnections(), 50)
      const force = setTimeout(() => app.server.closeAllConnections(), options.drainMs ?? 30_000)
      force.unref()
      const done = () => {
        clearInterval(idle)
        clearTimeout(force)
        resolve()
      }
      app.close().then(done, done)
    }
    process.once('SIGTERM', shutdown)
    process.once('SIGINT', shutdown)
  })
  return { url: address.replace('[::1]', 'localhost'), closed }
}
