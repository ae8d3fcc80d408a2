/**
 * The HTTP composition root: Fastify routes over the serving runtime. Thin: parsing, headers and status codes only.
 *
 * Routes: `GET /healthz` (alive), `GET /readyz` (every served model loaded and warmed), `GET /metrics` (Prometheus
 * text, when metrics are on; with several worker processes, every worker's, merged), `GET /v1/models`,
 * `GET /v1/models/:ref`, `POST /v1/models/:ref/predict`, `POST /v1/models/:ref/explain`. Every answer carries
 * `x-request-id` (the client's, or a new one); predict and explain answers carry `x-model-version`, the version that
 * answered. A predict answer is written in one piece past Fastify's reply pipeline (see `sendAnswer`).
 * @module
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { ScalemlError } from '../../core/errors.js'
import {
  defaultServingMetrics,
  type HistogramChild,
  type MetricsRegistry,
  PREDICT_ROUTE,
  PROMETHEUS_CONTENT_TYPE,
  renderSnapshot,
  type ServingMetrics,
} from '../metrics.js'
import type { ServableModel } from '../predictor.js'
import { isClusterWorker } from '../runtime/cluster.js'
import { type ClusterMetricsClient, connectClusterMetrics } from '../runtime/cluster-metrics.js'
import {
  type CallOptions,
  createServingRuntime,
  type ModelId,
  type PredictJson,
  type ServingRuntime,
} from '../runtime/runtime.js'
import { observeRuntimeMetrics } from '../runtime/runtime-metrics.js'
import { createErrorHandler } from './error-handler.js'
import { createRequestIds } from './request-id.js'

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
  /**
   * Answer `GET /metrics` for every worker process of the server, merged by the cluster primary (default: when
   * this process is a worker of `scaleml serve --workers N`).
   */
  readonly clusterMetrics?: boolean
}

/** Default {@link AppOptions.bodyLimit}. */
export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024

/** A client's request id is kept when it is this short and printable; otherwise a new one is made. */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'
const EXPLAIN_ROUTE = '/v1/models/:ref/explain'

/** What a request answered for, for metrics: kept on the request (declared with `decorateRequest`). */
interface Outcome {
  /** The version that answered. */
  scalemlModel: ModelId | null
  /** The error code it was answered with. */
  scalemlError: string | null
  /** The route pattern, set by the model routes' handlers (`request.routeOptions` builds an object per read). */
  scalemlRoute: string | null
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
  const nextRequestId = createRequestIds()
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    genReqId: (request) => {
      const given = request.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : nextRequestId()
    },
  })
  const metrics = options.metrics === undefined ? undefined : defaultServingMetrics(options.metrics)
  // Declared up front so every request object has the same shape (V8 keeps property access fast).
  app.decorateRequest('scalemlModel', null)
  app.decorateRequest('scalemlError', null)
  app.decorateRequest('scalemlRoute', null)
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
  // Counted down on the raw response's 'close', which Node emits exactly once per response, answered or not:
  // Fastify runs no `onResponse` for a client that hung up first, so that hook would leak the gauge.
  const countDown = inFlight === undefined ? undefined : () => inFlight.dec()
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    if (countDown !== undefined) {
      inFlight!.inc()
      reply.raw.on('close', countDown)
    }
    done()
  })
  if (ownRuntime) {
    runtime.start().catch((error: unknown) => app.log.error({ err: error }, 'a served model failed to warm up'))
    app.addHook('onClose', async () => {
      await runtime.close()
    })
  }
  if (metrics !== undefined && options.metrics !== undefined) {
    const cluster = options.clusterMetrics ?? isClusterWorker()
    recordMetrics(app, runtime, metrics, options.metrics, cluster ? connectClusterMetrics(options.metrics) : undefined)
  }

  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/readyz', async (_request, reply) => {
    const readiness = runtime.readiness()
    void reply.status(readiness.ready ? 200 : 503)
    return { status: readiness.ready ? 'ready' : 'not ready', reasons: readiness.reasons, models: readiness.models }
  })

  app.get('/v1/models', async () => ({ models: runtime.list() }))

  app.get<{ Params: { ref: string } }>('/v1/models/:ref', async (request) => runtime.describe(request.params.ref))

  app.post<{ Params: { ref: string } }>(PREDICT_ROUTE, async (request, reply) => {
    const answer = await runtime.predictJson(request.params.ref, request.body, callOptions(request))
    const outcome = outcomeOf(request)
    outcome.scalemlModel = answer.model
    outcome.scalemlRoute = PREDICT_ROUTE
    sendAnswer(reply, request.id, answer)
  })

  app.post<{ Params: { ref: string } }>(EXPLAIN_ROUTE, async (request, reply) => {
    const answer = await runtime.explain(request.params.ref, request.body, callOptions(request))
    const outcome = outcomeOf(request)
    outcome.scalemlModel = answer.model
    outcome.scalemlRoute = EXPLAIN_ROUTE
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

/**
 * Writes a predict answer in one piece: status line, headers (from an array, with the length, so no chunked
 * encoding) and body go to the socket in one system call, past Fastify's reply pipeline (serialization, header
 * merging and `onSend` hooks, of which the app has none; the body is JSON text already). The `onResponse` hooks
 * still run once the answer is sent.
 */
function sendAnswer(reply: FastifyReply, requestId: string, answer: PredictJson): void {
  reply.hijack()
  const response = reply.raw
  try {
    response.writeHead(200, [
      'content-type',
      JSON_CONTENT_TYPE,
      'content-length',
      String(Buffer.byteLength(answer.json)),
      'x-model-version',
      String(answer.model.version),
      'x-request-id',
      requestId,
    ])
    response.end(answer.json)
  } catch (error) {
    // Hijacked: Fastify no longer answers for us, so a failure here must not leave the client waiting.
    reply.log.error({ err: error }, 'could not write a predict answer')
    response.destroy()
  }
}

/** The options of a predict or explain call: the pinned version, when the `x-model-version` header is sent. */
function callOptions(request: FastifyRequest): CallOptions | undefined {
  return request.headers['x-model-version'] === undefined ? undefined : { version: pinnedVersion(request) }
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

/**
 * Request metrics (latency, in flight, errors by code) and the runtime's own, plus `GET /metrics` (this process's
 * registry, or with `cluster` every worker's, merged).
 */
function recordMetrics(
  app: FastifyInstance,
  runtime: ServingRuntime,
  metrics: ServingMetrics,
  registry: MetricsRegistry,
  cluster: ClusterMetricsClient | undefined,
): void {
  const unsubscribe = observeRuntimeMetrics(runtime, metrics, registry)
  // Resolved children by label values, so that a request costs one Map lookup rather than a label check.
  const durations = new Map<string, HistogramChild>()
  const duration = (model: string, version: number | '', route: string | undefined, status: number) => {
    const key = `${model}\u0000${version}\u0000${route}\u0000${status}`
    let child = durations.get(key)
    if (child === undefined) {
      child = metrics.requestDuration.labels({ model, version, route: route ?? 'none', status })
      durations.set(key, child)
    }
    return child
  }
  // The common answer, a 200 to a predict request, finds its series by the answering version's id object.
  const predicted = new WeakMap<ModelId, HistogramChild>()
  app.addHook('onResponse', (request, reply, done) => {
    const outcome = outcomeOf(request)
    const status = reply.statusCode
    if (outcome.scalemlRoute === PREDICT_ROUTE && outcome.scalemlError === null && status === 200) {
      const model = outcome.scalemlModel!
      let child = predicted.get(model)
      if (child === undefined) {
        child = duration(model.name, model.version, PREDICT_ROUTE, 200)
        predicted.set(model, child)
      }
      child.observe(reply.elapsedTime / 1000)
      done()
      return
    }
    const route = outcome.scalemlRoute ?? request.routeOptions.url
    // Only model routes and unknown routes are labelled; probes and scrapes would drown the histogram.
    if (route !== undefined && !route.startsWith('/v1/')) {
      done()
      return
    }
    const answered = outcome.scalemlModel ?? (outcome.scalemlError === null ? undefined : modelNamed(runtime, request))
    // Unknown references get no label of their own: label values must stay a small set.
    const model = answered?.name ?? (route === undefined ? 'none' : 'unknown')
    const version = answered?.version ?? ''
    duration(model, version, route, status).observe(reply.elapsedTime / 1000)
    if (outcome.scalemlError !== null) metrics.errors.inc({ model, version, kind: outcome.scalemlError })
    done()
  })
  app.get('/metrics', async (_request, reply) => {
    void reply.type(PROMETHEUS_CONTENT_TYPE)
    return cluster === undefined ? registry.render() : renderSnapshot(await cluster.collect())
  })
  app.addHook('onClose', async () => {
    unsubscribe()
    cluster?.close()
    metrics.close()
  })
}
