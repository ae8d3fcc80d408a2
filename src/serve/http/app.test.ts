import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { supervisedModelFromJSON } from '../../models/catalog.js'
import type { EstimatorJSON } from '../../models/estimator.js'
import { Pipeline } from '../../preprocess/pipeline.js'
import { writeSyntheticFlights } from '../../testing/synthetic-flights.js'
import { createTempHome, type TempHome } from '../../testing/temp-home.js'
import { trainJob } from '../../train/job.js'
import { MAX_INSTANCES, type ServableModel } from '../predictor.js'
import { createApp } from './app.js'

let home: TempHome
let app: FastifyInstance
let servable: ServableModel

const record = { date: '2001-03-04T17:30:00', distance: 900, origin: 'ORD', destination: 'LAX' }

beforeAll(async () => {
  home = await createTempHome('serve-app')
  const data = join(home.path, 'flights.parquet')
  await writeSyntheticFlights(data, { rows: 20_000, seed: 3 })
  const result = await trainJob({
    data,
    target: 'delay > 15',
    features: ['date', 'distance', 'origin', 'destination'],
    holdout: 'time:date:0.1',
  })
  // Serve what a registry load gives back: the JSON forms, not the training objects.
  const pipeline = Pipeline.fromJSON(JSON.parse(JSON.stringify(result.pipeline.toJSON())))
  const model = supervisedModelFromJSON(result.model.toJSON() as EstimatorJSON)
  servable = {
    name: 'flights',
    version: 7,
    manifest: {
      formatVersion: 1,
      name: 'flights',
      version: 7,
      created: new Date().toISOString(),
      task: result.task,
      modelKind: result.modelKind,
      inputSchema: result.inputSchema,
      target: result.target,
      features: result.features,
      pipeline: null,
      model: null,
      params: {},
      metrics: result.metrics,
      lineage: { packageVersion: 'test' },
      files: [],
    },
    pipeline,
    model,
  }
  app = createApp({ models: new Map([['flights', servable]]), bodyLimit: 64 * 1024 })
})

afterAll(async () => {
  await app?.close()
  await home?.remove()
})

const predict = (payload: unknown, name = 'flights') =>
  app.inject({
    method: 'POST',
    url: `/v1/models/${name}/predict`,
    headers: { 'content-type': 'application/json' },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  })

describe('POST /v1/models/:name/predict', () => {
  it('answers a probability in [0, 1] and a boolean label, naming the version', async () => {
    const response = await predict({ instances: [record, { ...record, date: 983727000000 }] })
    expect(response.statusCode).toBe(200)
    const body = response.json()
    expect(body.model).toEqual({ name: 'flights', version: 7 })
    expect(body.predictions).toHaveLength(2)
    for (const p of body.predictions) {
      expect(p.probability).toBeGreaterThanOrEqual(0)
      expect(p.probability).toBeLessThanOrEqual(1)
      expect(p.label).toBe(p.probability > 0.5)
    }
  })

  it('gives the same answer as the pipeline + model called directly', async () => {
    const response = await predict({ instances: [record] })
    const X = servable.pipeline.transformRecords([record])
    const expected = servable.model.task === 'classification' ? servable.model.predictProba(X)[1] : Number.NaN
    expect(response.json().predictions[0].probability).toBe(expected)
  })

  it('reads an ISO timestamp without offset as UTC, equal to its epoch milliseconds', async () => {
    const iso = await predict({ instances: [record] })
    const epoch = await predict({ instances: [{ ...record, date: Date.UTC(2001, 2, 4, 17, 30) }] })
    expect(iso.json().predictions).toEqual(epoch.json().predictions)
  })

  it('400s on a body that is not JSON', async () => {
    const response = await predict('{"instances": [')
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ code: 'INVALID_INPUT', error: 'The request body is not valid JSON.' })
  })

  it('400s listing every missing field and wrong type with its path', async () => {
    const response = await predict({
      instances: [record, { date: 'yesterday', distance: '900', origin: 'ORD' }],
    })
    expect(response.statusCode).toBe(400)
    const body = response.json()
    expect(body.code).toBe('INVALID_INPUT')
    const paths = body.details.map((d: { path: string }) => d.path)
    expect(paths).toEqual(
      expect.arrayContaining(['instances[1].date', 'instances[1].distance', 'instances[1].destination']),
    )
    const distance = body.details.find((d: { path: string }) => d.path === 'instances[1].distance')
    expect(distance.message).toMatch(/received string "900"/)
  })

  it('400s on a body without instances, or with none', async () => {
    for (const payload of [{ records: [record] }, { instances: [] }, [record], { instances: 'x' }]) {
      const response = await predict(payload)
      expect(response.statusCode, JSON.stringify(payload)).toBe(400)
      expect(response.json().code).toBe('INVALID_INPUT')
    }
  })

  it('413s past the body limit and the instances limit, stating the limit', async () => {
    const big = await predict({ instances: Array.from({ length: 2000 }, () => record) })
    expect(big.statusCode).toBe(413)
    const bigApp = createApp({ models: new Map([['flights', servable]]) })
    const many = await bigApp.inject({
      method: 'POST',
      url: '/v1/models/flights/predict',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ instances: Array.from({ length: MAX_INSTANCES + 1 }, () => record) }),
    })
    await bigApp.close()
    expect(many.statusCode).toBe(413)
    expect(many.json().error).toContain(String(MAX_INSTANCES))
  })

  it('404s on an unknown model, naming the served ones', async () => {
    const response = await predict({ instances: [record] }, 'nope')
    expect(response.statusCode).toBe(404)
    expect(response.json()).toMatchObject({ code: 'MODEL_NOT_FOUND' })
    expect(response.json().error).toContain('flights')
  })
})

describe('other routes', () => {
  it('GET /healthz', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ status: 'ok' })
  })

  it('GET /v1/models lists the served versions', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/models' })
    expect(response.json().models).toEqual([
      expect.objectContaining({ name: 'flights', version: 7, task: 'classification', modelKind: 'sgd-classifier' }),
    ])
  })

  it('404s on unknown routes with the error body', async () => {
    const response = await app.inject({ method: 'GET', url: '/nope' })
    expect(response.statusCode).toBe(404)
    expect(response.json().code).toBe('ROUTE_NOT_FOUND')
  })
})
