/**
 * The Fastify floor of the serving benchmark: the same route and body as `scaleml serve`, parsed by Fastify's JSON
 * parser, answered with a constant pre-serialized JSON of as many predictions as instances. No validation, no
 * model: what any Fastify server pays per request, the ceiling a model server on Fastify can reach.
 *
 *   node --import tsx bench/serving/fastify-floor.ts --port 8080 [--workers 1]
 *
 * With `--workers N > 1` it forks N processes sharing the port (node:cluster), as a multi-worker server would.
 */
import cluster from 'node:cluster'
import Fastify from 'fastify'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name)
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback
}
const port = Number(arg('--port', '8080'))
const workers = Number(arg('--workers', '1'))

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork()
  const stop = () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM')
    process.exit(0)
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
} else {
  const prediction = { probability: 0.2, label: false }
  const answers = new Map<number, string>()
  const answer = (rows: number): string => {
    let body = answers.get(rows)
    if (body === undefined) {
      body = JSON.stringify({
        model: { name: 'floor', version: 1 },
        predictions: Array.from({ length: rows }, () => prediction),
      })
      answers.set(rows, body)
    }
    return body
  }
  const app = Fastify({ logger: false, bodyLimit: 8 * 1024 * 1024 })
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.post<{ Params: { name: string }; Body: { instances?: unknown[] } }>(
    '/v1/models/:name/predict',
    async (request, reply) => {
      const rows = Array.isArray(request.body?.instances) ? request.body.instances.length : 1
      void reply.type('application/json; charset=utf-8')
      return answer(rows)
    },
  )
  await app.listen({ port, host: '127.0.0.1' })
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)))
}
