/**
 * The HTTP composition root: Fastify routes over the predictor. Thin: parsing and status codes only.
 * @module
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { ScalemlError } from '../../core/errors.js'
import { predictBody, type ServableModel } from '../predictor.js'
import { handleError } from './error-handler.js'

/** Options of {@link createApp}. */
export interface AppOptions {
  /** Served models by name. */
  readonly models: ReadonlyMap<string, ServableModel>
  /** Largest request body in bytes (default 8 MiB). */
  readonly bodyLimit?: number
  /** Log requests (default false). */
  readonly logger?: boolean
}

/** Builds the Fastify app; call `listen` on it, or `inject` in tests. */
export function createApp(options: AppOptions): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: options.bodyLimit ?? 8 * 1024 * 1024 })
  app.setErrorHandler(handleError)
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send({ error: `No route ${request.method} ${request.url}.`, code: 'ROUTE_NOT_FOUND', details: [] })
  })

  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/v1/models', async () => ({
    models: [...options.models.values()].map((m) => ({
      name: m.name,
      version: m.version,
      task: m.manifest.task,
      modelKind: m.manifest.modelKind,
      features: m.manifest.features,
      metrics: m.manifest.metrics,
    })),
  }))

  app.post<{ Params: { name: string } }>('/v1/models/:name/predict', async (request) => {
    const servable = options.models.get(request.params.name)
    if (!servable) {
      const known = [...options.models.keys()]
      throw new ScalemlError(
        'MODEL_NOT_FOUND',
        `No model '${request.params.name}' is served here.${known.length ? ` Served: ${known.join(', ')}.` : ' No model is served.'}`,
      )
    }
    return predictBody(servable, request.body)
  })

  return app
}
