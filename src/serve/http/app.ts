/**
 * The HTTP composition root: Fastify routes over the serving runtime. Thin: parsing, headers and status codes only.
 *
 * Routes: `GET /healthz` (alive), `GET /readyz` (every served model loaded and warmed), `GET /metrics` (Prometheus
 * text, when metrics are on), `GET /v1/models`, `GET /v1/models/:ref`, `POST /v1/models/:ref/predict`,
 * `POST /v1/models/:ref/explain`. Every answer carries `x-request-id` (the client's, or a new one); predict and
 * explain answers carry `x-model-version`, the version that answered.
 * @module
 */
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { ScalemlError } from '../../core/errors.js'
import {
  defaultServingMetrics,
  type HistogramChild,
  type MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
  type ServingMetrics,
} from '../metrics.js'
import type { ServableModel } from '../predictor.js'
import { createServingRuntime, type ModelId, type ServingRuntime } from '../runtime/runtime.js'
import { observeRuntimeMetrics } from '../runtime/runtime-metrics.js'
import { createErrorHandler } from './error-handler.js'

/** Options of {@link createApp}. */
export interface AppOptions {
  /** The runtime to serve (started by the caller, who also closes it after the app). */
  readonly runtime?: ServingRuntime
  /**
   * Or: models served as they are, by name (no hot swap). The app makes, starts and closes a runtime for them.
   */
  readonly models?: ReadonlyMap<string, ServableModel>
  /** Largest request body in bytes (default 8 MiB); larger is a 413 naming the limit. */
  readonly bodyLimit?: number
  /** Log requests (default false). */
  readonly logger?: boolean
  /** Record metrics here and serve them at `GET /metrics` (default: no metrics route). */
  readonly metrics?: MetricsRegistry
}

/** Default {@link AppOptions.bodyLimit}. */
export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024

/** A client's request id is kept when it is this short and printable; otherwise a new one is made. */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/

/** What a request answered for, for metrics: kept on the request (declared with `decorateRequest`). */
interface Outcome {
  /** The version that answered. */
  scalemlModel: ModelId | null
  /** The error code it was answered with. */
  scalemlError: string | null
}

const outcomeOf = (request: FastifyRequest): Outcome => request as unknown as Outcome

/**
 * Builds the Fastify app; call `listen` on it, or `inject` in tests.
 *
 * @example
 * const runtime = createServingRuntime({ registry, refs: ['flights@stable'] })
 * await runtime.start()
 * const app = createApp({ runtime, metrics: new MetricsRegistry() })
 * await app.listen({ port: 8080 })
 */
export function createApp(options: AppOptions): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT
  const ownRuntime = options.runtime === undefined
  const runtime = options.runtime ?? createServingRuntime({ models: options.models?.values() ?? [] })
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    genReqId: (request) => {
      const given = request.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
    },
  })
  const metrics = options.metrics === undefined ? undefined : defaultServingMetrics(options.metrics)
  // Declared up front so every request object has the same shape (V8 keeps property access fast).
  app.decorateRequest('scalemlModel', null)
  app.decorateRequest('scalemlError', null)
  app.setErrorHandler(
    createErrorHandler({
      bodyLimit,
      onError: (request, code) => {
        outcomeOf(request).scalemlError = code
      },
    }),
  )
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send({ error: `No route ${request.method} ${request.url}.`, code: 'ROUTE_NOT_FOUND', details: [] })
  })
  const inFlight = metrics?.inFlight.labels({})
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    inFlight?.inc()
    done()
  })
  if (ownRuntime) {
    runtime.start().catch((error: unknown) => app.log.error({ err: error }, 'a served model failed to warm up'))
    app.addHook('onClose', async () => {
      await runtime.close()
    })
  }
  if (metrics !== undefined && options.metrics !== undefined) recordMetrics(app, runtime, metrics, options.metrics)

  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/readyz', async (_request, reply) => {
    const readiness = runtime.readiness()
    void reply.status(readiness.ready ? 200 : 503)
    return { status: readiness.ready ? 'ready' : 'not ready', reasons: readiness.reasons, models: readiness.models }
  })

  app.get('/v1/models', async () => ({ models: runtime.list() }))

  app.get<{ Params: { ref: string } }>('/v1/models/:ref', async (request) => runtime.describe(request.params.ref))

  app.post<{ Params: { ref: string } }>('/v1/models/:ref/predict', async (request, reply) => {
    const answer = await runtime.predictJson(request.params.ref, request.body, { version: pinnedVersion(request) })
    outcomeOf(request).scalemlModel = answer.model
    void reply.header('x-model-version', String(answer.model.version)).type('application/json; charset=utf-8')
    return answer.json
  })

  app.post<{ Params: { ref: string } }>('/v1/models/:ref/explain', async (request, reply) => {
    const answer = await runtime.explain(request.params.ref, request.body, { version: pinnedVersion(request) })
    outcomeOf(request).scalemlModel = answer.model
    void reply.header('x-model-version', String(answer.model.version))
    return answer
  })

  return app
}

/** The model a failed request named, for its metric labels (looked up on the error path only). */
function modelNamed(runtime: ServingRuntime, request: FastifyRequest): ModelId | undefined {
  const ref = (request.params as { ref?: unknown } | undefined)?.ref
  if (typeof ref !== 'string') return undefined
  try {
    const { slot } = runtime.lookup(ref)
    const version = slot.current?.version
    return version === undefined ? undefined : { name: slot.name, version }
  } catch {
    // An unknown reference: the metrics say 'unknown'.
    return undefined
  }
}

/** The `x-model-version` request header, if one was sent. */
function pinnedVersion(request: FastifyRequest): string | undefined {
  const header = request.headers['x-model-version']
  if (header === undefined) return undefined
  if (Array.isArray(header)) {
    throw new ScalemlError('INVALID_ARGUMENT', 'Send the x-model-version header once.', [
      { code: 'invalid_value', path: ['x-model-version'], message: 'Expected one version number.' },
    ])
  }
  return header
}

/** Request metrics (latency, in flight, errors by code) and the runtime's own, plus `GET /metrics`. */
function recordMetrics(
  app: FastifyInstance,
  runtime: ServingRuntime,
  metrics: ServingMetrics,
  registry: MetricsRegistry,
): void {
  const unsubscribe = observeRuntimeMetrics(runtime, metrics, registry)
  const inFlight = metrics.inFlight.labels({})
  // Resolved children by label values, so that a request costs one Map lookup rather than a label check.
  const durations = new Map<string, HistogramChild>()
  app.addHook('onResponse', (request, reply, done) => {
    inFlight.dec()
    const route = request.routeOptions.url
    // Only model routes and unknown routes are labelled; probes and scrapes would drown the histogram.
    if (route !== undefined && !route.startsWith('/v1/')) {
      done()
      return
    }
    const outcome = outcomeOf(request)
    const answered = outcome.scalemlModel ?? (outcome.scalemlError === null ? undefined : modelNamed(runtime, request))
    // Unknown references get no label of their own: label values must stay a small set.
    const model = answered?.name ?? (route === undefined ? 'none' : 'unknown')
    const version = answered?.version ?? ''
    const status = reply.statusCode
    const key = `${model}\u0000${version}\u0000${route}\u0000${status}`
    let child = durations.get(key)
    if (child === undefined) {
      child = metrics.requestDuration.labels({ model, version, route: route ?? 'none', status })
      durations.set(key, child)
    }
    child.observe(reply.elapsedTime / 1000)
    if (outcome.scalemlError !== null) metrics.errors.inc({ model, version, kind: outcome.scalemlError })
    done()
  })
  app.get('/metrics', async (_request, reply) => {
    void reply.type(PROMETHEUS_CONTENT_TYPE)
    return registry.render()
  })
  app.addHook('onClose', async () => {
    unsubscribe()
    metrics.close()
  })
}
