import { describe, expect, it } from 'vitest'
import type { PredictionField } from '../predictor.js'
import { createPredictionWriter, predictionObjects } from './format.js'

describe('createPredictionWriter', () => {
  const fields: PredictionField[] = [
    { name: 'probability', type: 'float' },
    { name: 'label', type: 'bool' },
    { name: 'cluster', type: 'int' },
  ]
  const values = [
    Float64Array.of(0.1 + 0.2, -0, Number.NaN, Number.POSITIVE_INFINITY, 1e-300, 123456789.125),
    Float64Array.of(1, 0, 1, 0, 1, 0),
    Float64Array.of(3, 0, -1, 2 ** 53, 7, 1e21),
  ]
  const model = { name: 'flights "x"', version: 12 }

  it('writes exactly what JSON.stringify writes for the answer object, odd numbers included', () => {
    const writer = createPredictionWriter(model, fields)
    const objects = predictionObjects(fields, values, 6)
    expect(objects[0]).toEqual({ probability: 0.30000000000000004, label: true, cluster: 3 })
    expect(writer.answer(values, 0, 6)).toBe(JSON.stringify({ model, predictions: objects }))
    expect(writer.answer(values, 0, 1)).toBe(
      '{"model":{"name":"flights \\"x\\"","version":12},"predictions":[{"probability":0.30000000000000004,"label":true,"cluster":3}]}',
    )
  })

  it('writes the rows of one request inside a larger batch', () => {
    const writer = createPredictionWriter(model, fields)
    const objects = predictionObjects(fields, values, 6)
    expect(writer.answer(values, 2, 3)).toBe(JSON.stringify({ model, predictions: objects.slice(2, 5) }))
    expect(writer.answer(values, 5, 1)).toBe(JSON.stringify({ model, predictions: objects.slice(5) }))
  })
})
