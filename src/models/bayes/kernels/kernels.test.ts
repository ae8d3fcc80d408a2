import { describe, expect, it } from 'vitest'
import { addBinarizedCounts, addCounts, bernoulliLinearForm, firstNegative, firstOutsideUnit } from './discrete.js'
import { classMoments, combineMoments, featureMoments } from './gaussian.js'
import { argmax, softmaxRowsInPlace } from './log-proba.js'

describe('naive Bayes kernels', () => {
  it('softmaxRowsInPlace normalizes each row; −Infinity classes get 0; an all −Infinity row gives NaN (as scipy)', () => {
    const jll = new Float64Array([0, Math.log(3), -1000, -1001, Number.NEGATIVE_INFINITY, 2, -Infinity, -Infinity])
    softmaxRowsInPlace(jll, 4, 2)
    expect(jll[0]).toBeCloseTo(0.25, 15)
    expect(jll[1]).toBeCloseTo(0.75, 15)
    // Far from 0 the shifted log normalizer rounds at ~1e-13 (scikit-learn's arithmetic does the same).
    expect(jll[2]! + jll[3]!).toBeCloseTo(1, 12)
    expect(jll[2]).toBeCloseTo(1 / (1 + Math.exp(-1)), 12)
    expect([jll[4], jll[5]]).toEqual([0, 1])
    expect(Number.isNaN(jll[6]!) && Number.isNaN(jll[7]!)).toBe(true)
  })

  it('argmax returns the first of equal maxima (numpy)', () => {
    expect(argmax(new Float64Array([9, 1, 3, 3, 2]), 1, 4)).toBe(1)
    expect(argmax(new Float64Array([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]), 0, 2)).toBe(0)
  })

  it('classMoments computes weighted per-class means and population variances; classes without rows stay 0', () => {
    const x = new Float32Array([1, 10, 3, 30, 5, 50])
    const classIndex = new Int32Array([0, 0, 2])
    const rowsOf = new Float64Array(3)
    const weightOf = new Float64Array(3)
    const mean = new Float64Array(6)
    const variance = new Float64Array(6)
    classMoments(x, 2, 3, classIndex, new Float64Array([1, 3, 2]), 3, rowsOf, weightOf, mean, variance)
    expect(Array.from(rowsOf)).toEqual([2, 0, 1])
    expect(Array.from(weightOf)).toEqual([4, 0, 2])
    expect(Array.from(mean)).toEqual([2.5, 25, 0, 0, 5, 50])
    expect(Array.from(variance)).toEqual([0.75, 75, 0, 0, 0, 0])
    classMoments(x, 2, 3, classIndex, null, 3, rowsOf, weightOf, mean, variance)
    expect(Array.from(weightOf)).toEqual([2, 0, 1])
    expect(Array.from(variance)).toEqual([1, 100, 0, 0, 0, 0])
  })

  it('combineMoments equals the moments of the union and is symmetric bit for bit', () => {
    const a = new Float32Array([1, 2, 4, 7])
    const b = new Float32Array([-3, 0.5, 11])
    const all = new Float32Array([...a, ...b])
    const m = (x: Float32Array) => {
      const mean = new Float64Array(1)
      const variance = new Float64Array(1)
      featureMoments(x, 1, x.length, mean, variance)
      return { mean, variance }
    }
    const [ma, mb, mall] = [m(a), m(b), m(all)]
    const ab = { mean: ma.mean.slice(), variance: ma.variance.slice() }
    combineMoments(4, ab.mean, ab.variance, 0, 3, mb.mean, mb.variance, 0, 1)
    const ba = { mean: mb.mean.slice(), variance: mb.variance.slice() }
    combineMoments(3, ba.mean, ba.variance, 0, 4, ma.mean, ma.variance, 0, 1)
    expect(ab).toEqual(ba)
    expect(ab.mean[0]).toBeCloseTo(mall.mean[0]!, 14)
    expect(ab.variance[0]).toBeCloseTo(mall.variance[0]!, 13)
    const untouched = { mean: ma.mean.slice(), variance: ma.variance.slice() }
    combineMoments(4, untouched.mean, untouched.variance, 0, 0, mb.mean, mb.variance, 0, 1)
    expect(untouched).toEqual(ma)
  })

  it('count kernels add (binarized) features per class', () => {
    const x = new Float32Array([0, 2, 0.5, 0, 1, 1])
    const classCount = new Float64Array(2)
    const featureCount = new Float64Array(4)
    addCounts(x, 2, 3, new Int32Array([1, 0, 1]), null, classCount, featureCount)
    expect(Array.from(classCount)).toEqual([1, 2])
    expect(Array.from(featureCount)).toEqual([0.5, 0, 1, 3])
    classCount.fill(0)
    featureCount.fill(0)
    addBinarizedCounts(x, 2, 3, 0.5, new Int32Array([1, 0, 1]), new Float64Array([2, 3, 4]), classCount, featureCount)
    expect(Array.from(classCount)).toEqual([3, 6])
    expect(Array.from(featureCount)).toEqual([0, 0, 4, 6])
  })

  it('bernoulliLinearForm folds log(1 − p) into weights and bias', () => {
    const logP = new Float64Array([Math.log(0.25), Math.log(0.5)])
    const weights = new Float64Array(2)
    const bias = new Float64Array(1)
    bernoulliLinearForm(logP, new Float64Array([Math.log(0.5)]), 1, 2, weights, bias)
    expect(weights[0]).toBeCloseTo(Math.log(0.25 / 0.75), 15)
    expect(weights[1]).toBeCloseTo(0, 15)
    expect(bias[0]).toBeCloseTo(Math.log(0.5) + Math.log(0.75) + Math.log(0.5), 15)
  })

  it('firstNegative and firstOutsideUnit locate the first offending value', () => {
    expect(firstNegative(new Float32Array([0, 1, -0, -2, -3]), 5)).toBe(3)
    expect(firstNegative(new Float32Array([0, 1]), 2)).toBe(-1)
    expect(firstOutsideUnit(new Float32Array([0, 1, 0.5, 1.5]), 4)).toBe(3)
    expect(firstOutsideUnit(new Float32Array([0, 1, -0.1]), 3)).toBe(2)
  })
})
