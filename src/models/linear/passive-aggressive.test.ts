import { describe, expect, it } from 'vitest'
import { isScalemlError, type ScalemlError } from '../../core/errors.js'
import { type DenseMatrix, fromRows } from '../../core/matrix.js'
import { Random } from '../../core/random.js'
import { PassiveAggressiveClassifier, PassiveAggressiveRegressor } from './passive-aggressive.js'

function catchError(fn: () => unknown): ScalemlError {
  try {
    fn()
  } catch (error) {
    if (isScalemlError(error)) return error
    throw error
  }
  throw new Error('expected a ScalemlError')
}

/** Rows uniform in [-1, 1]³ with a binary label (x0 + x1 > 0) and a linear target (1 + 2 x0 - 3 x2 + noise). */
function problem(rows: number, seed = 1): { X: DenseMatrix; label: Float64Array; target: Float64Array } {
  const rng = new Random(seed)
  const data = new Float32Array(rows * 3)
  const label = new Float64Array(rows)
  const target = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < 3; j++) data[r * 3 + j] = rng.next() * 2 - 1
    label[r] = data[r * 3]! + data[r * 3 + 1]! > 0 ? 1 : 0
    target[r] = 1 + 2 * data[r * 3]! - 3 * data[r * 3 + 2]! + 0.01 * (rng.next() - 0.5)
  }
  return { X: { data, rows, cols: 3 }, label, target }
}

describe('PassiveAggressiveClassifier', () => {
  it('learns a linearly separable problem with PA-I and PA-II (accuracy > 0.97 after 5 passes)', () => {
    const { X, label } = problem(2000)
    for (const loss of ['hinge', 'squared_hinge'] as const) {
      const model = new PassiveAggressiveClassifier({ loss, C: 0.5, seed: 4 })
      for (let e = 0; e < 5; e++) model.partialFit(X, label, { classes: [0, 1] })
      const pred = model.predict(X)
      let correct = 0
      for (let i = 0; i < label.length; i++) correct += pred[i] === label[i] ? 1 : 0
      expect(correct / label.length, loss).toBeGreaterThan(0.97)
    }
  })

  it('fixes a mistake exactly when C allows (PA-I), and moves at most C otherwise', () => {
    const X = fromRows([[3, 4]])
    const free = new PassiveAggressiveClassifier({ shuffle: false })
    free.partialFit(X, new Float64Array([1]), { classes: [0, 1] })
    // tau = min(1, 1 / (25)) = 0.04 brings the margin from 0 to 25 · 0.04 + 0.04 = 1.04 ≥ 1 (the hinge threshold).
    expect(Array.from(free.coef)).toEqual([3 * 0.04, 4 * 0.04])
    expect(free.decisionFunction(X)[0]).toBeCloseTo(1.04, 12)
    const capped = new PassiveAggressiveClassifier({ C: 0.001, shuffle: false })
    capped.partialFit(X, new Float64Array([1]), { classes: [0, 1] })
    expect(Array.from(capped.intercept)).toEqual([0.001])
  })

  it('scales steps by sample weight (weight 2 doubles an uncapped PA-I step)', () => {
    const X = fromRows([[3, 4]])
    const weighted = new PassiveAggressiveClassifier({ shuffle: false })
    weighted.partialFit(X, new Float64Array([1]), { classes: [0, 1], sampleWeight: new Float64Array([2]) })
    expect(Array.from(weighted.coef)).toEqual([2 * 3 * 0.04, 2 * 4 * 0.04])
  })

  it('validates params on the first partialFit (C > 0, the PA losses only)', () => {
    const { X, label } = problem(10)
    const train = (params: object) => () =>
      new PassiveAggressiveClassifier(params as Record<string, never>).partialFit(X, label, { classes: [0, 1] })
    expect(catchError(train({ C: 0 })).message).toBe(
      "The 'C' parameter of PassiveAggressiveClassifier must be a float in the range (0, inf). Got 0 instead.",
    )
    expect(catchError(train({ loss: 'log_loss' })).message).toMatch(
      /'loss' parameter of PassiveAggressiveClassifier must be one of "hinge", "squared_hinge"/,
    )
    expect(catchError(train({ classWeight: { 1: -1 } })).code).toBe('INVALID_PARAM')
  })

  it('has no predictProba, and round-trips through toJSON/fromJSON with averaging', () => {
    const { X, label } = problem(300)
    const a = new PassiveAggressiveClassifier({ average: 10, seed: 3 })
    a.partialFit(X, label, { classes: [0, 1] })
    expect(catchError(() => a.predictProba(X)).message).toMatch(/^PassiveAggressiveClassifier has no predictProba/)
    const b = PassiveAggressiveClassifier.fromJSON(a.toJSON())
    expect(b.predict(X)).toEqual(a.predict(X))
    a.partialFit(X, label)
    b.partialFit(X, label)
    expect(b.coef).toEqual(a.coef)
    expect(b.intercept).toEqual(a.intercept)
    expect(b.kind).toBe('passive-aggressive-classifier')
  })
})

describe('PassiveAggressiveRegressor', () => {
  it('recovers the coefficients of a linear target (within 0.05 after 10 passes)', () => {
    const { X, target } = problem(2000)
    for (const loss of ['epsilon_insensitive', 'squared_epsilon_insensitive'] as const) {
      const model = new PassiveAggressiveRegressor({ loss, epsilon: 0.01, C: 0.1, seed: 2 })
      for (let e = 0; e < 10; e++) model.partialFit(X, target)
      const coef = model.coef
      expect(Math.abs(coef[0]! - 2), loss).toBeLessThan(0.05)
      expect(Math.abs(coef[1]!), loss).toBeLessThan(0.05)
      expect(Math.abs(coef[2]! + 3), loss).toBeLessThan(0.05)
      expect(Math.abs(model.intercept[0]! - 1), loss).toBeLessThan(0.05)
    }
  })

  it('does not move inside the epsilon tube, and steps against the residual outside it', () => {
    const X = fromRows([[2, 0]])
    const model = new PassiveAggressiveRegressor({ epsilon: 0.5, shuffle: false })
    model.partialFit(X, new Float64Array([0.4]))
    expect(Array.from(model.coef)).toEqual([0, 0])
    model.partialFit(X, new Float64Array([-2]))
    // loss = 2 - 0.5, tau = min(1, 1.5 / 4) = 0.375 downwards.
    expect(Array.from(model.coef)).toEqual([-0.75, 0])
    expect(Array.from(model.intercept)).toEqual([-0.375])
    expect(model.t).toBe(3)
  })

  it('validates params on the first partialFit, rejects non-finite targets, and round-trips through JSON', () => {
    const { X, target } = problem(100)
    expect(catchError(() => new PassiveAggressiveRegressor({ epsilon: -1 }).partialFit(X, target)).message).toBe(
      "The 'epsilon' parameter of PassiveAggressiveRegressor must be a float in the range [0, inf). Got -1 instead.",
    )
    const model = new PassiveAggressiveRegressor({ average: 1 })
    const bad = target.slice()
    bad[7] = Number.NaN
    expect(catchError(() => model.partialFit(X, bad)).issues[0]?.path).toEqual(['y', 7])
    model.partialFit(X, target)
    const again = PassiveAggressiveRegressor.fromJSON(model.toJSON())
    expect(again.predict(X)).toEqual(model.predict(X))
    expect(
      catchError(() => PassiveAggressiveRegressor.fromJSON({ ...model.toJSON(), kind: 'sgd-regressor' })).code,
    ).toBe('ARTIFACT_INVALID')
    expect(catchError(() => new PassiveAggressiveRegressor().predict(X)).message).toBe(
      'This PassiveAggressiveRegressor is not fitted yet; call partialFit first.',
    )
  })
})
