import { describe, expect, it } from 'vitest'
import { isScalemlError, type ScalemlError } from '../../core/errors.js'
import { type DenseMatrix, fromRows } from '../../core/matrix.js'
import { Random } from '../../core/random.js'
import { Perceptron } from './perceptron.js'
import { SgdClassifier } from './sgd-classifier.js'

/** A separable binary problem: label 1 when x0 + x1 > 0. */
function problem(rows: number, seed = 1): { X: DenseMatrix; y: Float64Array } {
  const rng = new Random(seed)
  const data = new Float32Array(rows * 3)
  const y = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < 3; j++) data[r * 3 + j] = rng.next() * 2 - 1
    y[r] = data[r * 3]! + data[r * 3 + 1]! > 0 ? 1 : 0
  }
  return { X: { data, rows, cols: 3 }, y }
}

function catchError(fn: () => unknown): ScalemlError {
  try {
    fn()
  } catch (error) {
    if (isScalemlError(error)) return error
    throw error
  }
  throw new Error('expected a ScalemlError')
}

function accuracy(pred: Float64Array, y: Float64Array): number {
  let correct = 0
  for (let i = 0; i < y.length; i++) correct += pred[i] === y[i] ? 1 : 0
  return correct / y.length
}

describe('Perceptron', () => {
  it('learns a linearly separable problem (accuracy > 0.97 after 5 passes)', () => {
    const { X, y } = problem(2000)
    const model = new Perceptron({ seed: 2 })
    for (let e = 0; e < 5; e++) model.partialFit(X, y, { classes: [0, 1] })
    expect(accuracy(model.predict(X), y)).toBeGreaterThan(0.97)
  })

  it("is SgdClassifier with loss 'perceptron', a constant rate eta0 and no penalty, bit for bit", () => {
    const { X, y } = problem(500)
    const p = new Perceptron({ eta0: 0.3, penalty: 'l2', alpha: 0.01, shuffle: false })
    const s = new SgdClassifier({
      loss: 'perceptron',
      learningRate: 'constant',
      eta0: 0.3,
      penalty: 'l2',
      alpha: 0.01,
      shuffle: false,
    })
    p.partialFit(X, y, { classes: [0, 1] })
    s.partialFit(X, y, { classes: [0, 1] })
    expect(p.coef).toEqual(s.coef)
    expect(p.intercept).toEqual(s.intercept)
    expect(p.t).toBe(s.t)
  })

  it('defaults to scikit-learn: no penalty, eta0 1, an update only on mistakes', () => {
    const model = new Perceptron({ shuffle: false })
    expect(model.params).toMatchObject({ penalty: 'none', eta0: 1, alpha: 0.0001, classWeight: null })
    // Row 1 is classified correctly by the weights row 0 produced, so it changes nothing.
    model.partialFit(
      fromRows([
        [1, 0],
        [2, 0],
      ]),
      new Float64Array([1, 1]),
      { classes: [0, 1] },
    )
    expect(Array.from(model.coef)).toEqual([1, 0])
    expect(Array.from(model.intercept)).toEqual([1])
  })

  it('validates params on the first partialFit only (INVALID_PARAM, message naming the param)', () => {
    const { X, y } = problem(10)
    const model = new Perceptron({ eta0: 0 })
    expect(model.params.eta0).toBe(0)
    const error = catchError(() => model.partialFit(X, y, { classes: [0, 1] }))
    expect(error.code).toBe('INVALID_PARAM')
    expect(error.message).toBe(
      "The 'eta0' parameter of Perceptron must be a float in the range (0, inf). Got 0 instead.",
    )
    expect(
      catchError(() => new Perceptron({ loss: 'hinge' } as never).partialFit(X, y, { classes: [0, 1] })).message,
    ).toMatch(/Perceptron has no parameter 'loss'/)
  })

  it('has no predictProba (INVALID_ARGUMENT pointing to decisionFunction)', () => {
    const { X, y } = problem(20)
    const model = new Perceptron()
    model.partialFit(X, y, { classes: [0, 1] })
    const error = catchError(() => model.predictProba(X))
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toMatch(/^Perceptron has no predictProba .* Use decisionFunction or predict/)
  })

  it('names itself in NOT_FITTED, classes and label errors', () => {
    const { X, y } = problem(10)
    const model = new Perceptron()
    expect(catchError(() => model.predict(X)).message).toBe('This Perceptron is not fitted yet; call partialFit first.')
    expect(catchError(() => model.partialFit(X, y)).message).toMatch(/^Perceptron.partialFit needs options.classes/)
    const bad = y.slice()
    bad[2] = 5
    expect(catchError(() => model.partialFit(X, bad, { classes: [0, 1] })).issues[0]?.path).toEqual(['y', 2])
    expect(model.isFitted).toBe(false)
  })

  it('learns one-vs-rest outputs for three classes', () => {
    const { X } = problem(900)
    const y = new Float64Array(X.rows)
    for (let r = 0; r < X.rows; r++) y[r] = X.data[r * 3]! < -0.33 ? 0 : X.data[r * 3]! < 0.33 ? 1 : 2
    const model = new Perceptron({ seed: 1 })
    for (let e = 0; e < 5; e++) model.partialFit(X, y, { classes: [0, 1, 2] })
    expect(model.coef.length).toBe(9)
    expect(model.predict(fromRows([[-0.9, 0, 0]]))[0]).toBe(0)
    expect(model.predict(fromRows([[0.9, 0, 0]]))[0]).toBe(2)
  })

  it('round-trips through toJSON/fromJSON and keeps training identically (shuffle state too)', () => {
    const { X, y } = problem(300)
    const a = new Perceptron({ seed: 9, classWeight: { 0: 2 } })
    a.partialFit(X, y, { classes: [0, 1] })
    const json = a.toJSON()
    expect(json.kind).toBe('perceptron')
    expect(json.state.classWeights).toEqual([2, 1])
    const b = Perceptron.fromJSON(json)
    expect(b.decisionFunction(X)).toEqual(a.decisionFunction(X))
    a.partialFit(X, y)
    b.partialFit(X, y)
    expect(b.coef).toEqual(a.coef)
    expect(b.t).toBe(a.t)
    expect(catchError(() => Perceptron.fromJSON({ ...json, kind: 'sgd-classifier' })).code).toBe('ARTIFACT_INVALID')
    expect(catchError(() => Perceptron.fromJSON({ ...json, params: { ...json.params, eta0: -1 } })).message).toMatch(
      /^Invalid perceptron params: The 'eta0' parameter/,
    )
  })

  it('withParams returns a new unfitted perceptron with the patch applied', () => {
    const { X, y } = problem(20)
    const m = new Perceptron({ eta0: 0.5 })
    m.partialFit(X, y, { classes: [0, 1] })
    const n = m.withParams({ penalty: 'l1' })
    expect(n.isFitted).toBe(false)
    expect(n.params).toMatchObject({ eta0: 0.5, penalty: 'l1' })
  })
})
