import { describe, expect, it } from 'vitest'
import { isScalemlError, type ScalemlError } from '../../core/errors.js'
import { type DenseMatrix, fromRows } from '../../core/matrix.js'
import { Random } from '../../core/random.js'
import { SgdClassifier } from './sgd-classifier.js'

/** A separable-ish binary problem: label 1 when x0 + x1 > 0. */
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

describe('SgdClassifier', () => {
  it('learns a linearly separable problem (accuracy > 0.95 after 5 passes)', () => {
    const { X, y } = problem(2000)
    const model = new SgdClassifier({ seed: 3 })
    for (let epoch = 0; epoch < 5; epoch++) model.partialFit(X, y, { classes: [0, 1] })
    const pred = model.predict(X)
    let correct = 0
    for (let i = 0; i < y.length; i++) correct += pred[i] === y[i] ? 1 : 0
    expect(correct / y.length).toBeGreaterThan(0.95)
    const proba = model.predictProba(X)
    expect(proba.length).toBe(2 * X.rows)
    for (let r = 0; r < X.rows; r++) expect(proba[2 * r]! + proba[2 * r + 1]!).toBeCloseTo(1, 12)
  })

  it('does not validate params in the constructor, only on the first partialFit (INVALID_PARAM, sklearn message)', () => {
    const model = new SgdClassifier({ alpha: -1 })
    expect(model.params.alpha).toBe(-1)
    const { X, y } = problem(10)
    const error = catchError(() => model.partialFit(X, y, { classes: [0, 1] }))
    expect(error.code).toBe('INVALID_PARAM')
    expect(error.message).toBe(
      "The 'alpha' parameter of SgdClassifier must be a float in the range [0, inf). Got -1 instead.",
    )
    expect(model.isFitted).toBe(false)
  })

  it('rejects unknown losses, eta0 = 0 with a non-optimal schedule, and alpha = 0 with optimal', () => {
    const { X, y } = problem(10)
    const fitWith = (params: object) => () =>
      new SgdClassifier(params as Record<string, never>).partialFit(X, y, { classes: [0, 1] })
    expect(catchError(fitWith({ loss: 'logistic' })).message).toMatch(
      /'loss' parameter of SgdClassifier must be one of/,
    )
    const eta = catchError(fitWith({ learningRate: 'constant' }))
    expect(eta.code).toBe('INVALID_PARAM')
    expect(eta.message).toMatch(/'eta0' parameter of SgdClassifier must be > 0 when learningRate is 'constant'/)
    expect(catchError(fitWith({ alpha: 0 })).message).toMatch(
      /'alpha' parameter .* must be > 0 when learningRate is 'optimal'/,
    )
    expect(catchError(fitWith({ bogus: 1 })).message).toMatch(/SgdClassifier has no parameter 'bogus'/)
  })

  it('needs classes on the first call, at least two, and the same ones later', () => {
    const { X, y } = problem(10)
    const model = new SgdClassifier()
    expect(catchError(() => model.partialFit(X, y)).code).toBe('INVALID_ARGUMENT')
    expect(catchError(() => model.partialFit(X, y, { classes: [1] })).message).toMatch(/greater than one; got 1 class/)
    model.partialFit(X, y, { classes: [1, 0, 1] })
    expect(model.classes).toEqual([0, 1])
    model.partialFit(X, y, { classes: [0, 1] })
    expect(catchError(() => model.partialFit(X, y, { classes: [0, 2] })).message).toMatch(
      /differ from the classes \[0, 1\]/,
    )
  })

  it('rejects labels outside the classes with INVALID_DATA naming the row, and leaves the model unchanged', () => {
    const { X, y } = problem(10)
    const model = new SgdClassifier({ shuffle: false })
    model.partialFit(X, y, { classes: [0, 1] })
    const before = model.coef
    const bad = y.slice()
    bad[4] = 2
    const error = catchError(() => model.partialFit(X, bad))
    expect(error.code).toBe('INVALID_DATA')
    expect(error.message).toBe('y[4] = 2 is not one of the classes [0, 1] given on the first partialFit call.')
    expect(error.issues[0]?.path).toEqual(['y', 4])
    expect(model.coef).toEqual(before)
    expect(model.t).toBe(11)
  })

  it('rejects a different feature count with INVALID_INPUT naming both counts', () => {
    const { X, y } = problem(10)
    const model = new SgdClassifier()
    model.partialFit(X, y, { classes: [0, 1] })
    const narrow = fromRows([[1, 2]])
    const error = catchError(() => model.predict(narrow))
    expect(error.code).toBe('INVALID_INPUT')
    expect(error.message).toBe('X has 2 features, but SgdClassifier was fitted with 3 features.')
    expect(catchError(() => model.partialFit(narrow, new Float64Array([0]))).code).toBe('INVALID_INPUT')
  })

  it('rejects NaN and Infinity in X with INVALID_DATA naming row and feature', () => {
    const X = fromRows([
      [0, 1],
      [1, 0],
      [0.5, Number.NaN],
    ])
    const model = new SgdClassifier()
    const error = catchError(() => model.partialFit(X, new Float64Array([0, 1, 0]), { classes: [0, 1] }))
    expect(error.code).toBe('INVALID_DATA')
    expect(error.message).toMatch(/^X contains NaN at row 2, feature 1;/)
    expect(error.issues[0]?.path).toEqual(['X', 2, 1])
    const inf = fromRows([[Number.NEGATIVE_INFINITY, 1]])
    expect(catchError(() => model.partialFit(inf, new Float64Array([0]), { classes: [0, 1] })).message).toMatch(
      /^X contains -Infinity at row 0, feature 0;/,
    )
    expect(model.isFitted).toBe(false)
  })

  it('on a NaN mid-batch of a fitted, shuffling model: names the first bad row and leaves model and shuffle state unchanged', () => {
    const { X, y } = problem(300)
    const model = new SgdClassifier({ seed: 4 })
    const twin = new SgdClassifier({ seed: 4 })
    model.partialFit(X, y, { classes: [0, 1] })
    twin.partialFit(X, y, { classes: [0, 1] })
    const bad = { ...X, data: X.data.slice() }
    bad.data[3 * 250 + 1] = Number.POSITIVE_INFINITY
    bad.data[3 * 120 + 2] = Number.NaN
    const error = catchError(() => model.partialFit(bad, y))
    expect(error.message).toMatch(/^X contains NaN at row 120, feature 2;/)
    expect(model.coef).toEqual(twin.coef)
    expect(model.t).toBe(twin.t)
    model.partialFit(X, y)
    twin.partialFit(X, y)
    expect(model.coef).toEqual(twin.coef)
  })

  it('rejects y and sampleWeight of the wrong length (INVALID_INPUT) and non-finite weights (INVALID_DATA)', () => {
    const { X, y } = problem(10)
    const model = new SgdClassifier()
    expect(catchError(() => model.partialFit(X, y.subarray(0, 9), { classes: [0, 1] })).message).toBe(
      'y has 9 values but X has 10 rows.',
    )
    const w = new Float64Array(10).fill(1)
    w[3] = Number.NaN
    expect(catchError(() => model.partialFit(X, y, { classes: [0, 1], sampleWeight: w })).code).toBe('INVALID_DATA')
  })

  it('throws NOT_FITTED before the first partialFit', () => {
    const model = new SgdClassifier()
    expect(catchError(() => model.predict(fromRows([[1]]))).code).toBe('NOT_FITTED')
    expect(catchError(() => model.toJSON()).code).toBe('NOT_FITTED')
    expect(model.nFeaturesIn).toBeUndefined()
  })

  it('offers predictProba only for log_loss and modified_huber', () => {
    const { X, y } = problem(20)
    const hinge = new SgdClassifier({ loss: 'hinge' })
    hinge.partialFit(X, y, { classes: [0, 1] })
    const error = catchError(() => hinge.predictProba(X))
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toMatch(/only for loss 'log_loss' or 'modified_huber'; this SgdClassifier uses 'hinge'/)
    const mh = new SgdClassifier({ loss: 'modified_huber' })
    mh.partialFit(X, y, { classes: [0, 1] })
    const p = mh.predictProba(X)
    const margins = mh.decisionFunction(X)
    for (let r = 0; r < X.rows; r++) {
      expect(p[2 * r + 1]).toBeCloseTo((Math.min(1, Math.max(-1, margins[r]!)) + 1) / 2, 15)
    }
  })

  it('maps arbitrary binary labels: the positive class is classes[1]', () => {
    const { X, y } = problem(500)
    const labels = y.map((v) => (v === 1 ? 7 : -3))
    const model = new SgdClassifier({ shuffle: false })
    model.partialFit(X, labels, { classes: [7, -3] })
    expect(model.classes).toEqual([-3, 7])
    const pred = model.predict(X)
    const margins = model.decisionFunction(X)
    for (let r = 0; r < X.rows; r++) expect(pred[r]).toBe(margins[r]! > 0 ? 7 : -3)
    const reference = new SgdClassifier({ shuffle: false })
    reference.partialFit(X, y, { classes: [0, 1] })
    expect(model.coef).toEqual(reference.coef)
  })

  it('learns one-vs-rest outputs for three classes (coef is classes × features)', () => {
    const { X } = problem(600)
    const y = new Float64Array(X.rows)
    for (let r = 0; r < X.rows; r++) y[r] = X.data[r * 3]! < -0.33 ? 0 : X.data[r * 3]! < 0.33 ? 1 : 2
    const model = new SgdClassifier({ seed: 5 })
    for (let e = 0; e < 3; e++) model.partialFit(X, y, { classes: [0, 1, 2] })
    expect(model.coef.length).toBe(9)
    expect(model.decisionFunction(X).length).toBe(3 * X.rows)
    const p = model.predictProba(X)
    for (let r = 0; r < X.rows; r++) expect(p[3 * r]! + p[3 * r + 1]! + p[3 * r + 2]!).toBeCloseTo(1, 12)
    expect(model.predict(fromRows([[-0.9, 0, 0]]))[0]).toBe(0)
    expect(model.predict(fromRows([[0.9, 0, 0]]))[0]).toBe(2)
  })

  it('shuffles deterministically from the seed, and differently for another seed', () => {
    const { X, y } = problem(200)
    const fitWithSeed = (seed: number) => {
      const m = new SgdClassifier({ seed })
      m.partialFit(X, y, { classes: [0, 1] })
      m.partialFit(X, y)
      return m.coef
    }
    expect(fitWithSeed(11)).toEqual(fitWithSeed(11))
    expect(fitWithSeed(11)).not.toEqual(fitWithSeed(12))
    const unshuffled = new SgdClassifier({ shuffle: false })
    unshuffled.partialFit(X, y, { classes: [0, 1] })
    unshuffled.partialFit(X, y)
    expect(unshuffled.coef).not.toEqual(fitWithSeed(11))
  })

  it('round-trips through toJSON/fromJSON: same predictions, and training continues identically (shuffle state too)', () => {
    const { X, y } = problem(300)
    const a = new SgdClassifier({ seed: 9, average: 10 })
    a.partialFit(X, y, { classes: [0, 1] })
    const json = a.toJSON()
    expect(json.kind).toBe('sgd-classifier')
    expect(json.state.coef).toBeInstanceOf(Float64Array)
    expect(json.state.classes).toEqual([0, 1])
    const b = SgdClassifier.fromJSON(json)
    expect(b.predictProba(X)).toEqual(a.predictProba(X))
    a.partialFit(X, y)
    b.partialFit(X, y)
    expect(b.coef).toEqual(a.coef)
    expect(b.intercept).toEqual(a.intercept)
    expect(b.t).toBe(a.t)
    // The JSON is a snapshot: training after toJSON does not change it.
    expect(SgdClassifier.fromJSON(json).t).toBe(301)
  })

  it('fromJSON rejects a malformed document with ARTIFACT_INVALID naming the field', () => {
    const { X, y } = problem(20)
    const m = new SgdClassifier()
    m.partialFit(X, y, { classes: [0, 1] })
    const json = m.toJSON()
    const short = { ...json, state: { ...json.state, coef: new Float64Array(2) } }
    const error = catchError(() => SgdClassifier.fromJSON(short))
    expect(error.code).toBe('ARTIFACT_INVALID')
    expect(error.message).toMatch(/state\.coef must be 3 values, got 2 values/)
    expect(catchError(() => SgdClassifier.fromJSON({ ...json, kind: 'sgd-regressor' })).code).toBe('ARTIFACT_INVALID')
    expect(catchError(() => SgdClassifier.fromJSON({ ...json, params: { ...json.params, alpha: -2 } })).code).toBe(
      'ARTIFACT_INVALID',
    )
    // Plain arrays (a JSON round trip without the artifact layer's binary files) are accepted.
    const plain = JSON.parse(
      JSON.stringify({
        ...json,
        state: { ...json.state, coef: Array.from(json.state.coef), intercept: Array.from(json.state.intercept) },
      }),
    )
    expect(SgdClassifier.fromJSON(plain).predict(X)).toEqual(m.predict(X))
  })

  it('leaves the model unchanged when an update overflows, and says how to fix it', () => {
    const X = fromRows([
      [1e30, -1e30],
      [-1e30, 1e30],
    ])
    const model = new SgdClassifier({ penalty: 'none', learningRate: 'constant', eta0: 1e300, shuffle: false })
    model.partialFit(
      fromRows([
        [1, 0],
        [0, 1],
      ]),
      new Float64Array([0, 1]),
      { classes: [0, 1] },
    )
    const coef = model.coef
    const t = model.t
    const error = catchError(() => model.partialFit(X, new Float64Array([1, 0])))
    expect(error.code).toBe('INVALID_DATA')
    expect(error.message).toMatch(/weights or margins became non-finite.*left unchanged.*Scale the features/)
    expect(model.coef).toEqual(coef)
    expect(model.t).toBe(t)
  })

  it('treats a call with zero rows as a no-op', () => {
    const model = new SgdClassifier()
    model.partialFit({ data: new Float32Array(0), rows: 0, cols: 3 }, new Float64Array(0), { classes: [0, 1] })
    expect(model.isFitted).toBe(false)
  })

  it('withParams returns a new unfitted model with the patch applied', () => {
    const { X, y } = problem(20)
    const m = new SgdClassifier({ alpha: 0.01 })
    m.partialFit(X, y, { classes: [0, 1] })
    const n = m.withParams({ loss: 'hinge' })
    expect(n.isFitted).toBe(false)
    expect(n.params).toMatchObject({ alpha: 0.01, loss: 'hinge' })
  })
})
