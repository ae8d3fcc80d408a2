import { describe, expect, it } from 'vitest'
import { Random } from '../core/random.js'
import { Accuracy } from './accuracy.js'
import { describeMetricContract } from './metric.contract.js'

const f64 = (values: number[]): Float64Array => Float64Array.from(values)

function labels(
  seed: number,
  weighted: boolean,
): { yTrue: Float64Array; yPred: Float64Array; sampleWeight?: Float64Array } {
  const rng = new Random(seed)
  const n = 1500
  const yTrue = new Float64Array(n)
  const yPred = new Float64Array(n)
  const w = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    yTrue[i] = rng.nextInt(3) - 1
    yPred[i] = rng.next() < 0.7 ? yTrue[i]! : rng.nextInt(3) - 1
    w[i] = rng.next() * 2
  }
  return weighted ? { yTrue, yPred, sampleWeight: w } : { yTrue, yPred }
}

describeMetricContract('Accuracy', {
  create: () => new Accuracy(),
  fromJSON: Accuracy.fromJSON,
  data: labels(31, false),
})
describeMetricContract('Accuracy weighted', {
  create: () => new Accuracy(),
  fromJSON: Accuracy.fromJSON,
  data: labels(32, true),
  mergeTolerance: 1e-15,
})

describe('Accuracy', () => {
  it('counts equal labels (documented example) and weights them', () => {
    const accuracy = new Accuracy()
    accuracy.update(f64([1, 0, 2]), f64([1, 1, 2]))
    expect(accuracy.value()).toBe(2 / 3)
    const weighted = new Accuracy()
    weighted.update(f64([1, 0, 2]), f64([1, 1, 2]), f64([1, 2, 1]))
    expect(weighted.value()).toBe(0.5)
  })

  it('reads any typed array and is NaN before any weight', () => {
    const accuracy = new Accuracy()
    expect(accuracy.value()).toBeNaN()
    accuracy.update(Int32Array.from([3, 4]), Uint8Array.from([3, 5]))
    expect(accuracy.value()).toBe(0.5)
  })

  it('rejects NaN labels with INVALID_DATA naming the row', () => {
    expect(() => new Accuracy().update(f64([1, Number.NaN]), f64([1, 1]))).toThrowError(
      expect.objectContaining({ code: 'INVALID_DATA', message: 'Accuracy.update: row 1 has a NaN label.' }),
    )
  })
})
