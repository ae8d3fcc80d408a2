import { describe, expect, it } from 'vitest'
import { fromRows } from '../../core/matrix.js'
import { BernoulliNB } from './bernoulli-nb.js'
import { catchError } from './test-helpers/data.js'

describe('BernoulliNB', () => {
  it('binarizes at the threshold (x > binarize) and smooths: (N_cj + α) / (N_c + 2α)', () => {
    const X = fromRows([
      [0.5, 0, 2],
      [0.6, -1, 0.5],
      [0.4, 3, 0.51],
    ])
    const model = new BernoulliNB({ binarize: 0.5 })
    model.partialFit(X, new Float64Array([0, 0, 1]), { classes: [0, 1] })
    expect(Array.from(model.featureCount)).toEqual([1, 0, 1, 0, 1, 1])
    expect(Array.from(model.classCount)).toEqual([2, 1])
    expect(model.featureLogProb[0]).toBeCloseTo(Math.log(2 / 4), 15)
    expect(model.featureLogProb[3]).toBeCloseTo(Math.log(1 / 3), 15)
  })

  it('scores absent features too: jll = Σ x·log p + (1 − x)·log(1 − p) + log prior', () => {
    const model = new BernoulliNB()
    model.partialFit(
      fromRows([
        [1, 0],
        [1, 1],
        [0, 0],
      ]),
      new Float64Array([0, 0, 1]),
      { classes: [0, 1] },
    )
    const lp = model.featureLogProb
    const prior = model.classLogPrior
    const jll = model.predictJointLogProba(fromRows([[1, 0]]))
    for (let k = 0; k < 2; k++) {
      const p0 = Math.exp(lp[2 * k]!)
      const p1 = Math.exp(lp[2 * k + 1]!)
      expect(jll[k]).toBeCloseTo(prior[k]! + Math.log(p0) + Math.log(1 - p1), 12)
    }
  })

  it('binarizes at prediction with the same threshold (values at the threshold are absent)', () => {
    const model = new BernoulliNB({ binarize: 1 })
    model.partialFit(
      fromRows([
        [2, 0],
        [0, 2],
        [3, 0],
      ]),
      new Float64Array([0, 1, 0]),
      { classes: [0, 1] },
    )
    const raw = model.predictJointLogProba(
      fromRows([
        [1, 1.5],
        [1.0001, -5],
      ]),
    )
    const binary = model.predictJointLogProba(
      fromRows([
        [0, 2],
        [2, 0],
      ]),
    )
    expect(Array.from(raw)).toEqual(Array.from(binary))
  })

  it('with binarize null uses features as given and rejects values outside [0, 1] at training (INVALID_DATA)', () => {
    const model = new BernoulliNB({ binarize: null })
    model.partialFit(
      fromRows([
        [1, 0],
        [0.5, 1],
      ]),
      new Float64Array([0, 1]),
      { classes: [0, 1] },
    )
    expect(Array.from(model.featureCount)).toEqual([1, 0, 0.5, 1])
    const error = catchError(() =>
      model.partialFit(
        fromRows([
          [1, 0],
          [0, 2],
        ]),
        new Float64Array([0, 1]),
      ),
    )
    expect(error.code).toBe('INVALID_DATA')
    expect(error.message).toBe(
      'X contains 2 at row 1, feature 1; BernoulliNB needs feature values in [0, 1] when binarize is null (set binarize to a threshold to binarize other values).',
    )
    expect(error.issues[0]?.path).toEqual(['X', 1, 1])
    expect(Array.from(model.featureCount)).toEqual([1, 0, 0.5, 1])
  })

  it("validates binarize: null or a float ≥ 0 (scikit-learn's constraint)", () => {
    const X = fromRows([[1, 0]])
    const error = catchError(() =>
      new BernoulliNB({ binarize: -1 }).partialFit(X, new Float64Array([0]), { classes: [0, 1] }),
    )
    expect(error.code).toBe('INVALID_PARAM')
    expect(error.message).toBe(
      "The 'binarize' parameter of BernoulliNB must be a float in the range [0, inf) or null. Got -1 instead.",
    )
  })
})
