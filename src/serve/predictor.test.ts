import { describe, expect, it } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import { batchFromRecords, type Schema } from '../data/batch.js'
import { createModel } from '../models/catalog.js'
import type { AnyEstimator } from '../models/estimator.js'
import { autoPipeline } from '../preprocess/auto-pipeline.js'
import type { Manifest } from '../registry/manifest.js'
import { createBatchPredictor, predictBody, type ServableModel } from './predictor.js'

const schema: Schema = {
  fields: [
    { name: 'x', type: 'float', nullable: false },
    { name: 'color', type: 'string', nullable: false },
  ],
}
const records = Array.from({ length: 200 }, (_, i) => ({ x: (i % 20) - 10, color: i % 3 === 0 ? 'red' : 'blue' }))
const labels = new Float64Array(records.map((r) => (r.x > 0 ? 1 : 0)))

function servable(model: AnyEstimator, targetKind: 'boolean' | 'numeric' = 'boolean'): ServableModel {
  const pipeline = autoPipeline(schema, ['x', 'color'])
  pipeline.partialFit(batchFromRecords(schema, records))
  const X = pipeline.transform(batchFromRecords(schema, records))
  if (model.task === 'clustering') model.partialFit(X)
  else if (model.task === 'classification') model.partialFit(X, labels, { classes: [0, 1] })
  else model.partialFit(X, labels)
  const manifest = { task: model.task, target: { expression: 'x > 0', kind: targetKind } } as unknown as Manifest
  return { name: 'm', version: 3, manifest, pipeline, model }
}

describe('predictBody', () => {
  it('answers labels and margins for a classifier without probabilities', () => {
    const s = servable(createModel('perceptron', { shuffle: false }))
    const { predictions, model } = predictBody(s, {
      instances: [
        { x: 9, color: 'red' },
        { x: -9, color: 'blue' },
      ],
    })
    expect(model).toEqual({ name: 'm', version: 3 })
    expect(predictions).toEqual([
      { score: expect.any(Number), label: true },
      { score: expect.any(Number), label: false },
    ])
    const [a, b] = predictions as readonly { score: number }[]
    expect(a!.score).toBeGreaterThan(0)
    expect(b!.score).toBeLessThan(0)
  })

  it('answers the probability of the positive class and the numeric class when the target is numeric', () => {
    const s = servable(createModel('gaussian-nb'), 'numeric')
    const { predictions } = predictBody(s, { instances: [{ x: 9, color: 'red' }] })
    const [p] = predictions as readonly { probability: number; label: number }[]
    expect(p!.probability).toBeGreaterThan(0.5)
    expect(p!.label).toBe(1)
  })

  it('answers the nearest cluster and its distance for a clustering model', () => {
    const s = servable(createModel('minibatch-kmeans', { nClusters: 2, seed: 1 }))
    const { predictions } = predictBody(s, {
      instances: [
        { x: 9, color: 'red' },
        { x: 9, color: 'red' },
      ],
    })
    const [a, b] = predictions as readonly { cluster: number; distance: number }[]
    expect([0, 1]).toContain(a!.cluster)
    expect(b).toEqual(a)
    expect(a!.distance).toBeGreaterThanOrEqual(0)
  })

  it('answers a value for a regressor', () => {
    const s = servable(createModel('sgd-regressor', { shuffle: false }))
    const { predictions } = predictBody(s, { instances: [{ x: 9, color: 'red' }] })
    expect(Number.isFinite((predictions[0] as { value: number }).value)).toBe(true)
  })

  it('collects every problem of every record with its path', () => {
    const s = servable(createModel('perceptron', { shuffle: false }))
    try {
      predictBody(s, { instances: [{ x: 'a', color: 'red' }, { color: 1 }] })
      expect.unreachable()
    } catch (error) {
      expect(isScalemlError(error, 'INVALID_INPUT')).toBe(true)
      const paths = (error as { issues: { path: (string | number)[] }[] }).issues.map((i) => i.path.join('.'))
      expect(paths).toEqual(['instances.0.x', 'instances.1.x', 'instances.1.color'])
    }
  })
})

describe('createBatchPredictor', () => {
  it('names and types the prediction columns per model kind and target', () => {
    const cases = [
      [servable(createModel('sgd-classifier', { shuffle: false })), 'probability:float label:bool'],
      [servable(createModel('gaussian-nb'), 'numeric'), 'probability:float label:int'],
      [servable(createModel('perceptron', { shuffle: false })), 'score:float label:bool'],
      [servable(createModel('sgd-regressor', { shuffle: false })), 'value:float'],
      [servable(createModel('minibatch-kmeans', { nClusters: 2, seed: 1 })), 'cluster:int distance:float'],
    ] as const
    for (const [s, fields] of cases) {
      expect(
        createBatchPredictor(s)
          .fields.map((f) => `${f.name}:${f.type}`)
          .join(' '),
      ).toBe(fields)
    }
  })

  it('predicts a batch column by column, as predictBody answers record by record', () => {
    const s = servable(createModel('sgd-classifier', { shuffle: false }))
    const predictor = createBatchPredictor(s)
    const batch = batchFromRecords(schema, records)
    const { rows, values, features } = predictor.predict(batch)
    expect(rows).toBe(records.length)
    expect(features.rows).toBe(records.length)
    const { predictions } = predictBody(s, { instances: records })
    expect(predictions).toEqual(
      Array.from({ length: rows }, (_, r) => ({ probability: values[0]![r], label: values[1]![r] === 1 })),
    )
    // Fresh arrays per call: the first batch's answers survive the next call.
    const first = values[0]!.slice()
    predictor.predict(batchFromRecords(schema, records.slice(0, 3)))
    expect(values[0]).toEqual(first)
  })
})
