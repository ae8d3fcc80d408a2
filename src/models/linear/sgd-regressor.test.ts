import { describe, expect, it } from 'vitest'
import { isScalemlError, type ScalemlError } from '../../core/errors.js'
import { type DenseMatrix, fromRows } from '../../core/matrix.js'
import { Random } from '../../core/random.js'
import { SgdRegressor } from './sgd-regressor.js'

/** y = 2 x0 - x1 + 0.5 x2 + 3 with small noise. */
function problem(rows: number, seed = 1): { X: DenseMatrix; y: Float64Array } {
  const rng = new Random(seed)
  const data = new Float32Array(rows * 3)
  const y = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < 3; j++) data[r * 3 + j] = rng.next() * 2 - 1
    y[r] = 2 * data[r * 3]! - data[r * 3 + 1]! + 0.5 * data[r * 3 + 2]! + 3 + (rng.next() - 0.5) * 0.01
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

describe('SgdRegressor', () => {
  it('recovers the coefficients of a linear target (within 0.05 after 20 passes)', () => {
    const { X, y } = problem(1000)
    const model = new SgdRegressor({ alpha: 1e-6, seed: 2 })
    for (let e = 0; e < 20; e++) model.partialFit(X, y)
    const coef = model.coef
    expect(coef[0]).toBeCloseTo(2, 1)
    expect(coef[1]).toBeCloseTo(-1, 1)
    expect(coef[2]).toBeCloseTo(0.5, 1)
    expect(model.intercept[0]).toBeCloseTo(3, 1)
    expect(model.t).toBe(20001)
  })

  it('predicts X · coef + intercept', () => {
    const { X, y } = problem(50)
    const model = new SgdRegressor()
    model.partialFit(X, y)
    const coef = model.coef
    const b = model.intercept[0]!
    const pred = model.predict(fromRows([[1, 2, 3]]))
    expect(pred[0]).toBeCloseTo(coef[0]! + 2 * coef[1]! + 3 * coef[2]! + b, 12)
  })

  it('validates params on the first partialFit only; regression losses only', () => {
    const { X, y } = problem(10)
    const error = catchError(() => new SgdRegressor({ loss: 'hinge' as never }).partialFit(X, y))
    expect(error.code).toBe('INVALID_PARAM')
    expect(error.message).toMatch(/^The 'loss' parameter of SgdRegressor must be one of "squared_error", "huber"/)
    expect(catchError(() => new SgdRegressor({ eta0: 0 }).partialFit(X, y)).message).toMatch(
      /'eta0' parameter of SgdRegressor must be > 0 when learningRate is 'invscaling'/,
    )
    expect(catchError(() => new SgdRegressor({ l1Ratio: 2 }).partialFit(X, y)).message).toMatch(
      /'l1Ratio' parameter of SgdRegressor must be a float in the range \[0, 1\]. Got 2 instead./,
    )
  })

  it('rejects non-finite targets and features with INVALID_DATA naming the row', () => {
    const { X, y } = problem(10)
    const bad = y.slice()
    bad[6] = Number.POSITIVE_INFINITY
    const model = new SgdRegressor()
    const error = catchError(() => model.partialFit(X, bad))
    expect(error.code).toBe('INVALID_DATA')
    expect(error.message).toBe('y contains Infinity at row 6; expected a finite number.')
    const badX = { ...X, data: X.data.slice() }
    badX.data[3 * 7 + 2] = Number.NaN
    expect(catchError(() => model.partialFit(badX, y)).message).toMatch(/^X contains NaN at row 7, feature 2/)
    expect(model.isFitted).toBe(false)
  })

  it('rejects a different feature count after fitting (INVALID_INPUT)', () => {
    const { X, y } = problem(10)
    const model = new SgdRegressor()
    model.partialFit(X, y)
    const error = catchError(() => model.partialFit(fromRows([[1, 2, 3, 4]]), new Float64Array([1])))
    expect(error.code).toBe('INVALID_INPUT')
    expect(error.message).toBe('X has 4 features, but SgdRegressor was fitted with 3 features.')
  })

  it('round-trips through toJSON/fromJSON with averaging, and keeps training identically', () => {
    const { X, y } = problem(200)
    const a = new SgdRegressor({ average: 50, seed: 4 })
    a.partialFit(X, y)
    const json = a.toJSON()
    expect(json.state.sgdCoef).toBeInstanceOf(Float64Array)
    expect(json.state.averageCoef).toEqual(json.state.coef)
    const b = SgdRegressor.fromJSON(json)
    expect(b.predict(X)).toEqual(a.predict(X))
    a.partialFit(X, y)
    b.partialFit(X, y)
    expect(b.coef).toEqual(a.coef)
    expect(b.intercept).toEqual(a.intercept)
    expect(catchError(() => SgdRegressor.fromJSON({ ...json, state: { ...json.state, t: 0 } })).code).toBe(
      'ARTIFACT_INVALID',
    )
  })

  it('averaging uses the SGD iterate until `average` rows were seen, the average afterwards', () => {
    const { X, y } = problem(100)
    const plain = new SgdRegressor({ shuffle: false })
    const averaged = new SgdRegressor({ shuffle: false, average: 150 })
    plain.partialFit(X, y)
    averaged.partialFit(X, y)
    expect(averaged.coef).toEqual(plain.coef)
    plain.partialFit(X, y)
    averaged.partialFit(X, y)
    expect(averaged.coef).not.toEqual(plain.coef)
  })

  it('weights rows: weight 2 on a row equals that row seen with a doubled step (constant schedule, no penalty)', () => {
    const X = fromRows([[1, 0]])
    const once = new SgdRegressor({ learningRate: 'constant', eta0: 0.1, penalty: 'none', shuffle: false })
    once.partialFit(X, new Float64Array([1]), { sampleWeight: new Float64Array([2]) })
    const doubled = new SgdRegressor({ learningRate: 'constant', eta0: 0.2, penalty: 'none', shuffle: false })
    doubled.partialFit(X, new Float64Array([1]))
    expect(once.coef).toEqual(doubled.coef)
    expect(once.intercept).toEqual(doubled.intercept)
  })
})
