import { describe, expect, it } from 'vitest'
import { Random } from '../core/random.js'
import { ConfusionMatrix } from './confusion-matrix.js'
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
    yTrue[i] = rng.nextInt(4)
    yPred[i] = rng.next() < 0.6 ? yTrue[i]! : rng.nextInt(4)
    w[i] = rng.next() * 2
  }
  return weighted ? { yTrue, yPred, sampleWeight: w } : { yTrue, yPred }
}

describeMetricContract('ConfusionMatrix', {
  create: () => new ConfusionMatrix({ nClasses: 4 }),
  fromJSON: ConfusionMatrix.fromJSON,
  data: labels(41, false),
})
describeMetricContract('ConfusionMatrix weighted', {
  create: () => new ConfusionMatrix({ nClasses: 4 }),
  fromJSON: ConfusionMatrix.fromJSON,
  data: labels(42, true),
  mergeTolerance: 1e-13,
})

describe('ConfusionMatrix', () => {
  it('puts true classes in rows and predictions in columns (documented example)', () => {
    const cm = new ConfusionMatrix({ nClasses: 2 })
    cm.update(f64([0, 1, 1]), f64([0, 0, 1]))
    expect(Array.from(cm.value())).toEqual([1, 0, 1, 1])
    expect(cm.count(1, 0)).toBe(1)
    expect(cm.count(0, 1)).toBe(0)
    expect(cm.count(5, 0)).toBe(0)
  })

  it('returns a copy, not its state', () => {
    const cm = new ConfusionMatrix()
    cm.update(f64([0]), f64([0]))
    cm.value()[0] = 99
    expect(cm.count(0, 0)).toBe(1)
  })

  it('rejects out-of-range classes with INVALID_DATA and unlike merges with INVALID_ARGUMENT', () => {
    expect(() => new ConfusionMatrix({ nClasses: 3 }).update(f64([0, 3]), f64([0, 1]))).toThrowError(
      expect.objectContaining({
        code: 'INVALID_DATA',
        message: 'ConfusionMatrix.update: row 1 has label 3 and prediction 1; expected class indices in [0, 2].',
      }),
    )
    expect(() => new ConfusionMatrix().merge(new ConfusionMatrix({ nClasses: 3 }))).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
  })
})
