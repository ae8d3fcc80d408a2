import { describe, expect, it } from 'vitest'
import type { PredictionField } from '../predictor.js'
import { predictionObjects, predictionsJson } from './format.js'

describe('predictionsJson', () => {
  it('writes exactly what JSON.stringify writes for the row objects, odd numbers included', () => {
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
    const objects = predictionObjects(fields, values, 6)
    expect(objects[0]).toEqual({ probability: 0.30000000000000004, label: true, cluster: 3 })
    expect(predictionsJson(fields, values, 6)).toBe(JSON.stringify(objects))
    expect(predictionsJson(fields, values, 1)).toBe('[{"probability":0.30000000000000004,"label":true,"cluster":3}]')
  })
})
