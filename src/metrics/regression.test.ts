import { describe, expect, it } from 'vitest'
import { describeMetricContract, syntheticRegression } from './metric.contract.js'
import { Mae, R2, Rmse } from './regression.js'

const f64 = (values: number[]): Float64Array => Float64Array.from(values)

for (const weighted of [false, true]) {
  const data = syntheticRegression({ rows: 2000, seed: weighted ? 52 : 51, weighted })
  const tol = weighted ? 1e-14 : 1e-15
  const label = weighted ? ' weighted' : ''
  describeMetricContract(`Rmse${label}`, {
    create: () => new Rmse(),
    fromJSON: Rmse.fromJSON,
    data,
    mergeTolerance: tol,
  })
  describeMetricContract(`Mae${label}`, { create: () => new Mae(), fromJSON: Mae.fromJSON, data, mergeTolerance: tol })
  describeMetricContract(`R2${label}`, { create: () => new R2(), fromJSON: R2.fromJSON, data, mergeTolerance: 1e-13 })
}
describeMetricContract('R2 with a 1e9 offset', {
  create: () => new R2(),
  fromJSON: R2.fromJSON,
  data: syntheticRegression({ rows: 2000, seed: 53, offset: 1e9, weighted: true }),
  mergeTolerance: 1e-12,
})

/** Two-pass reference: mean first, then squared deviations (what scikit-learn does). */
function twoPassR2(y: Float64Array, p: Float64Array): number {
  let mean = 0
  for (const v of y) mean += v
  mean /= y.length
  let sst = 0
  let sse = 0
  for (let i = 0; i < y.length; i++) {
    sst += (y[i]! - mean) ** 2
    sse += (y[i]! - p[i]!) ** 2
  }
  return 1 - sse / sst
}

describe('regression metrics', () => {
  it('compute the documented examples', () => {
    const rmse = new Rmse()
    rmse.update(f64([1, 2]), f64([1, 4]))
    expect(rmse.value()).toBe(Math.SQRT2)
    expect(rmse.mse()).toBe(2)
    const mae = new Mae()
    mae.update(f64([1, 2]), f64([1, 4]))
    expect(mae.value()).toBe(1)
    const r2 = new R2()
    r2.update(f64([1, 2, 3]), f64([1, 2, 4]))
    expect(r2.value()).toBe(0.5)
    expect(r2.targetMean()).toBe(2)
    expect(r2.totalSumOfSquares()).toBe(2)
  })

  it('R2 keeps its digits when the mean dwarfs the spread (y = 1e12 + N(0, 10))', () => {
    const data = syntheticRegression({ rows: 5000, seed: 54, offset: 1e12 })
    const centred = syntheticRegression({ rows: 5000, seed: 54 })
    const r2 = new R2()
    r2.update(data.yTrue, data.yPred)
    // Same residuals and deviations up to the rounding of y near 1e12 (ulp 1.2e-4 against a spread of 10).
    expect(Math.abs(r2.value() - twoPassR2(centred.yTrue as Float64Array, centred.yPred as Float64Array))).toBeLessThan(
      1e-5,
    )
    // The textbook one-pass formula Σy² − (Σy)²/n cancels catastrophically here.
    let s = 0
    let s2 = 0
    for (const v of data.yTrue) {
      s += v
      s2 += v * v
    }
    const naiveSst = s2 - (s * s) / data.yTrue.length
    expect(Math.abs(naiveSst - r2.totalSumOfSquares()) / r2.totalSumOfSquares()).toBeGreaterThan(1e-3)
  })

  it('R2 follows scikit-learn on degenerate data: < 2 rows → NaN; constant y → 0, or 1 if perfect', () => {
    const one = new R2()
    one.update(f64([1]), f64([2]))
    expect(one.value()).toBeNaN()
    const constant = new R2()
    // 4.2 is inexact in binary: scikit-learn's np.average gives a mean off by an ulp and returns r2 = −9.7e27 here;
    // Welford's shifted mean is exactly 4.2, so SST is exactly 0 and the documented convention (0) applies.
    constant.update(new Float64Array(50).fill(4.2), new Float64Array(50).fill(4.3))
    expect(constant.totalSumOfSquares()).toBe(0)
    expect(constant.value()).toBe(0)
    const perfect = new R2()
    perfect.update(f64([3, 3, 3]), f64([3, 3, 3]))
    expect(perfect.value()).toBe(1)
    const weightless = new R2()
    weightless.update(f64([1, 2, 3]), f64([1, 2, 4]), f64([0, 0, 0]))
    expect(weightless.value()).toBeNaN()
  })

  it('rows of weight 0 do not move the mean of y', () => {
    const r2 = new R2()
    r2.update(f64([100, 1, 3]), f64([0, 1, 4]), f64([0, 1, 1]))
    expect(r2.targetMean()).toBe(2)
  })

  it('reject non-finite targets and predictions with INVALID_DATA naming the row', () => {
    for (const metric of [new Rmse(), new Mae(), new R2()]) {
      expect(() => metric.update(f64([1, Number.NaN]), f64([1, 1]))).toThrowError(
        expect.objectContaining({ code: 'INVALID_DATA', message: expect.stringMatching(/row 1 has target NaN/) }),
      )
      expect(() => metric.update(f64([1, 1]), f64([1, Number.POSITIVE_INFINITY]))).toThrowError(
        /row 1 has prediction Infinity; expected a finite number/,
      )
    }
  })
})
