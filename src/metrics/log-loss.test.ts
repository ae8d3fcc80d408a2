import { describe, expect, it } from 'vitest'
import { LogLoss } from './log-loss.js'
import { describeMetricContract, syntheticBinary, syntheticMulticlass } from './metric.contract.js'

const f64 = (values: number[]): Float64Array => Float64Array.from(values)

describeMetricContract('LogLoss binary', {
  create: () => new LogLoss(),
  fromJSON: LogLoss.fromJSON,
  data: syntheticBinary({ rows: 2000, seed: 21 }),
  mergeTolerance: 1e-15,
})
describeMetricContract('LogLoss multiclass, weighted', {
  create: () => new LogLoss({ nClasses: 4 }),
  fromJSON: LogLoss.fromJSON,
  data: syntheticMulticlass({ rows: 2000, seed: 22, classes: 4, weighted: true }),
  mergeTolerance: 1e-14,
})

describe('LogLoss', () => {
  it('averages −log p(true class) (documented example)', () => {
    const loss = new LogLoss()
    loss.update(f64([1, 0]), f64([0.9, 0.2]))
    expect(loss.value()).toBeCloseTo((-Math.log(0.9) - Math.log(0.8)) / 2, 15)
  })

  it('gives the same value for a probability column and the [1 − p, p] matrix', () => {
    const column = new LogLoss()
    const matrix = new LogLoss()
    column.update(f64([1, 0, 1]), f64([0.7, 0.4, 0.05]))
    matrix.update(f64([1, 0, 1]), f64([0.3, 0.7, 0.6, 0.4, 0.95, 0.05]))
    expect(Math.abs(column.value() - matrix.value())).toBeLessThan(1e-15)
  })

  it('clips 0 and 1 to eps: a confidently wrong row costs −log(eps)', () => {
    const loss = new LogLoss()
    loss.update(f64([1, 0]), f64([0, 1]))
    // Row 2 clips 1 to 1 − 1e-15 and then takes 1 − that, which is 9.992e-16 in binary, as scikit-learn does.
    expect(loss.value()).toBeCloseTo((-Math.log(1e-15) - Math.log(1 - (1 - 1e-15))) / 2, 12)
    const machine = new LogLoss({ eps: 2.220446049250313e-16 })
    machine.update(f64([1]), f64([0]))
    expect(machine.value()).toBeCloseTo(-Math.log(2.220446049250313e-16), 12)
    const right = new LogLoss()
    right.update(f64([1, 0]), f64([1, 0]))
    expect(right.value()).toBeGreaterThan(0)
    expect(right.value()).toBeLessThan(1e-14)
  })

  it('renormalizes a multiclass row by its clipped sum', () => {
    const loss = new LogLoss({ nClasses: 3 })
    loss.update(f64([2]), f64([0.2, 0.2, 0.2]))
    expect(loss.value()).toBeCloseTo(Math.log(3), 15)
  })

  it('weights rows: Σ w·loss / Σ w', () => {
    const loss = new LogLoss()
    loss.update(f64([1, 1]), f64([0.5, 0.25]), f64([3, 1]))
    expect(loss.value()).toBeCloseTo((3 * Math.log(2) + Math.log(4)) / 4, 15)
    expect(loss.totalWeight).toBe(4)
  })

  it('is NaN before any weight', () => {
    expect(new LogLoss().value()).toBeNaN()
  })

  it('rejects bad labels and NaN probabilities with INVALID_DATA naming the row', () => {
    expect(() => new LogLoss().update(f64([0, 2]), f64([0.5, 0.5]))).toThrowError(
      expect.objectContaining({
        code: 'INVALID_DATA',
        message: 'LogLoss.update: the label of row 1 is 2; expected a class index in [0, 1].',
      }),
    )
    expect(() => new LogLoss({ nClasses: 3 }).update(f64([0]), f64([0.5, Number.NaN, 0.5]))).toThrowError(
      'LogLoss.update: a probability of row 0 is NaN.',
    )
    expect(() => new LogLoss({ nClasses: 3 }).update(f64([0, 1]), f64([0.5, 0.5]))).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('6 (2 rows × 3)') }),
    )
  })

  it('validates options and refuses to merge unlike accumulators', () => {
    expect(() => new LogLoss({ nClasses: 1 })).toThrowError(expect.objectContaining({ code: 'INVALID_PARAM' }))
    expect(() => new LogLoss({ eps: 0 })).toThrowError(expect.objectContaining({ code: 'INVALID_PARAM' }))
    expect(() => new LogLoss().merge(new LogLoss({ eps: 1e-7 }))).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
  })
})
