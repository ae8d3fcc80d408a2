import { describe, expect, it } from 'vitest'
import { fromRows } from '../../core/matrix.js'
import { MultinomialNB } from './multinomial-nb.js'
import { catchError, problem } from './test-helpers/data.js'

describe('MultinomialNB', () => {
  it('counts features per class and smooths them: log((N_cj + α) / (N_c + α·d))', () => {
    const X = fromRows([
      [2, 0, 1],
      [1, 1, 0],
      [0, 3, 3],
    ])
    const model = new MultinomialNB({ alpha: 0.5 })
    model.partialFit(X, new Float64Array([0, 0, 1]), { classes: [0, 1] })
    expect(Array.from(model.featureCount)).toEqual([3, 1, 1, 0, 3, 3])
    expect(Array.from(model.classCount)).toEqual([2, 1])
    const lp = model.featureLogProb
    expect(lp[0]).toBeCloseTo(Math.log(3.5 / 6.5), 15)
    expect(lp[3]).toBeCloseTo(Math.log(0.5 / 7.5), 15)
    expect(Array.from(model.classLogPrior)).toEqual([Math.log(2) - Math.log(3), Math.log(1) - Math.log(3)])
  })

  it('weights rows by sampleWeight in both counts', () => {
    const X = fromRows([
      [1, 2],
      [3, 0],
    ])
    const model = new MultinomialNB()
    model.partialFit(X, new Float64Array([1, 1]), { classes: [0, 1], sampleWeight: new Float64Array([2, 0.5]) })
    expect(Array.from(model.featureCount)).toEqual([0, 0, 3.5, 4])
    expect(Array.from(model.classCount)).toEqual([0, 2.5])
  })

  it('learns a count problem (accuracy > 0.6 on 3 classes)', () => {
    const p = problem(3000, { nClasses: 3, kind: 'counts', seed: 1, cols: 8 })
    const model = new MultinomialNB()
    model.partialFit(p.X, p.y, { classes: [10, 11, 12] })
    const pred = model.predict(p.X)
    let correct = 0
    for (let i = 0; i < p.y.length; i++) correct += pred[i] === p.y[i] ? 1 : 0
    expect(correct / p.y.length).toBeGreaterThan(0.6)
  })

  it('rejects negative features at training with INVALID_DATA naming row and feature, leaving the model unchanged', () => {
    const model = new MultinomialNB()
    const good = fromRows([
      [1, 2, 0],
      [0, 1, 1],
    ])
    model.partialFit(good, new Float64Array([0, 1]), { classes: [0, 1] })
    const before = model.toJSON()
    const bad = fromRows([
      [1, 2, 0],
      [0, 1, -1],
    ])
    const error = catchError(() => model.partialFit(bad, new Float64Array([0, 1])))
    expect(error.code).toBe('INVALID_DATA')
    expect(error.message).toBe(
      'X contains -1 at row 1, feature 2; MultinomialNB needs non-negative feature values (counts or frequencies).',
    )
    expect(error.issues[0]?.path).toEqual(['X', 1, 2])
    expect(model.toJSON()).toEqual(before)
    expect(
      catchError(() => new MultinomialNB().partialFit(bad, new Float64Array([0, 1]), { classes: [0, 1] })).code,
    ).toBe('INVALID_DATA')
  })

  it('scores negative values at prediction time as scikit-learn does (the linear form), without rejecting them', () => {
    const model = new MultinomialNB()
    model.partialFit(
      fromRows([
        [1, 2],
        [2, 1],
      ]),
      new Float64Array([0, 1]),
      { classes: [0, 1] },
    )
    const jll = model.predictJointLogProba(fromRows([[-1, 0]]))
    const lp = model.featureLogProb
    const prior = model.classLogPrior
    expect(Array.from(jll)).toEqual([-1 * lp[0]! + 0 * lp[1]! + prior[0]!, -1 * lp[2]! + 0 * lp[3]! + prior[1]!])
  })
})
