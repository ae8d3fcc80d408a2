import { describe, expect, it } from 'vitest'
import { isScalemlError, type ScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'
import { parseParamAssignments } from '../../core/params.js'
import { Random } from '../../core/random.js'
import {
  balancedClassWeights,
  outputWeights,
  resolveClassWeights,
  validateParamsWithClassWeight,
} from './class-weight.js'
import { PassiveAggressiveClassifier } from './passive-aggressive.js'
import { Perceptron } from './perceptron.js'
import { SGD_CLASSIFIER_CONSTRAINTS, SGD_CLASSIFIER_DEFAULTS, SgdClassifier } from './sgd-classifier.js'
import { SGD_REGRESSOR_CONSTRAINTS, SGD_REGRESSOR_DEFAULTS } from './sgd-regressor.js'

function catchError(fn: () => unknown): ScalemlError {
  try {
    fn()
  } catch (error) {
    if (isScalemlError(error)) return error
    throw error
  }
  throw new Error('expected a ScalemlError')
}

/** An imbalanced binary problem: about 1 row in 5 is positive. */
function imbalanced(rows: number): { X: DenseMatrix; y: Float64Array; counts: Map<number, number> } {
  const rng = new Random(8)
  const data = new Float32Array(rows * 2)
  const y = new Float64Array(rows)
  const counts = new Map<number, number>([
    [0, 0],
    [1, 0],
  ])
  for (let r = 0; r < rows; r++) {
    data[2 * r] = rng.next() * 2 - 1
    data[2 * r + 1] = rng.next() * 2 - 1
    y[r] = data[2 * r]! + 0.3 * data[2 * r + 1]! > 0.6 ? 1 : 0
    counts.set(y[r]!, counts.get(y[r]!)! + 1)
  }
  return { X: { data, rows, cols: 2 }, y, counts }
}

describe('balanced class weights', () => {
  it("equal scikit-learn's n_rows / (n_classes × bincount), from a Map or a record", () => {
    const expected = Float64Array.of(100 / (3 * 50), 100 / (3 * 30), 100 / (3 * 20))
    expect(
      balancedClassWeights(
        [0, 1, 2],
        new Map([
          [0, 50],
          [1, 30],
          [2, 20],
        ]),
      ),
    ).toEqual(expected)
    expect(balancedClassWeights([0, 1, 2], { 0: 50, 1: 30, 2: 20 })).toEqual(expected)
    expect(balancedClassWeights([-1, 0.5], { '-1': 3, '0.5': 1 })).toEqual(Float64Array.of(4 / 6, 4 / 2))
  })

  it('need every class to have rows and every counted label to be a class (INVALID_ARGUMENT naming it)', () => {
    const missing = catchError(() => balancedClassWeights([0, 1, 2], { 0: 5, 1: 5 }))
    expect(missing.code).toBe('INVALID_ARGUMENT')
    expect(missing.message).toMatch(/^classCounts has no rows of class 2;/)
    expect(missing.issues[0]?.path).toEqual(['classCounts', 2])
    const stranger = catchError(() => balancedClassWeights([0, 1], { 0: 5, 1: 5, 4: 1 }))
    expect(stranger.message).toBe('classCounts counts rows of label 4, which is not one of the classes [0, 1].')
    expect(catchError(() => balancedClassWeights([0, 1], { 0: 5, 1: -1 })).message).toMatch(
      /gives class 1 the count -1; expected a finite number >= 0/,
    )
    expect(catchError(() => balancedClassWeights([0, 1], { 0: 5, abc: 1 } as never)).message).toMatch(/key abc/)
  })
})

describe('resolveClassWeights', () => {
  it('gives 1 to every class for null or an empty map, and the listed weights otherwise', () => {
    expect(resolveClassWeights('M', null, [0, 1], undefined)).toEqual(Float64Array.of(1, 1))
    expect(resolveClassWeights('M', {}, [0, 1], undefined)).toEqual(Float64Array.of(1, 1))
    expect(resolveClassWeights('M', { 1: 4 }, [0, 1, 2], undefined)).toEqual(Float64Array.of(1, 4, 1))
    // A map naming every class may also name other labels (scikit-learn ignores them).
    expect(resolveClassWeights('M', { 0: 2, 1: 3, 9: 5 }, [0, 1], undefined)).toEqual(Float64Array.of(2, 3))
  })

  it("rejects a partial map naming labels that are not classes (scikit-learn's 'not in class_weight')", () => {
    const error = catchError(() => resolveClassWeights('Perceptron', { 1: 2, 5: 3 }, [0, 1, 2], undefined))
    expect(error.code).toBe('INVALID_PARAM')
    expect(error.message).toBe(
      'The classes, [0, 2], are not in classWeight, and classWeight names labels [5] that are not classes of Perceptron ([0, 1, 2]).',
    )
  })

  it("requires classCounts for 'balanced', saying where they come from", () => {
    const error = catchError(() => resolveClassWeights('SgdClassifier', 'balanced', [0, 1], undefined))
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toMatch(
      /^SgdClassifier with classWeight 'balanced' needs options.classCounts .* on the first partialFit call/,
    )
    expect(resolveClassWeights('M', 'balanced', [0, 1], { 0: 3, 1: 1 })).toEqual(Float64Array.of(4 / 6, 4 / 2))
  })

  it('turns class weights into per-output (positive, negative) pairs: binary uses both, one-vs-rest 1 for the rest', () => {
    expect(outputWeights(Float64Array.of(0.5, 2))).toEqual(Float64Array.of(2, 0.5))
    expect(outputWeights(Float64Array.of(0.5, 2, 3))).toEqual(Float64Array.of(0.5, 1, 2, 1, 3, 1))
  })
})

describe('validateParamsWithClassWeight', () => {
  const validate = (classWeight: unknown) => () =>
    validateParamsWithClassWeight('SgdClassifier', SGD_CLASSIFIER_CONSTRAINTS, {
      ...SGD_CLASSIFIER_DEFAULTS,
      classWeight,
    })

  it("accepts null, 'balanced' and maps of finite weights >= 0 keyed by label", () => {
    expect(validate(null)).not.toThrow()
    expect(validate('balanced')).not.toThrow()
    expect(validate({ 0: 1, 1: 2.5, '-3': 0 })).not.toThrow()
  })

  it('rejects anything else with INVALID_PARAM in the constraint message shape, listing every problem', () => {
    expect(catchError(validate('auto')).message).toBe(
      'The \'classWeight\' parameter of SgdClassifier must be null, "balanced" or an object mapping class labels to finite weights >= 0. Got "auto" instead.',
    )
    const negative = catchError(validate({ 0: 1, 1: -2 }))
    expect(negative.code).toBe('INVALID_PARAM')
    expect(negative.message).toMatch(
      /^The 'classWeight' parameter of SgdClassifier must be null, "balanced" or an object mapping class labels to finite weights >= 0; the weight of class 1 must be a finite number >= 0\./,
    )
    expect(negative.issues[0]?.path).toEqual(['classWeight', '1'])
    expect(catchError(validate({ x: 1 })).message).toMatch(/key 'x' is not a class label/)
    expect(catchError(validate({ 1: Number.NaN })).message).toMatch(/weight of class 1/)
    expect(catchError(validate(new Map([[0, 1]]))).message).toMatch(/must be null, "balanced" or an object mapping/)
    const both = catchError(() =>
      validateParamsWithClassWeight('SgdClassifier', SGD_CLASSIFIER_CONSTRAINTS, {
        ...SGD_CLASSIFIER_DEFAULTS,
        alpha: -1,
        classWeight: { 1: -1 },
      }),
    )
    expect(both.issues.map((i) => i.path[0])).toEqual(['alpha', 'classWeight'])
  })

  it('still rejects classWeight on a model without it', () => {
    const error = catchError(() =>
      validateParamsWithClassWeight('SgdRegressor', SGD_REGRESSOR_CONSTRAINTS, {
        ...SGD_REGRESSOR_DEFAULTS,
        classWeight: { 0: 1 },
      } as typeof SGD_REGRESSOR_DEFAULTS),
    )
    expect(error.message).toMatch(/SgdRegressor has no parameter 'classWeight'/)
  })

  it("parses classWeight=balanced from the CLI's --param", () => {
    expect(parseParamAssignments('SgdClassifier', SGD_CLASSIFIER_CONSTRAINTS, ['class_weight=balanced'])).toEqual({
      classWeight: 'balanced',
    })
  })
})

describe('classifiers with classWeight', () => {
  it("'balanced' needs classCounts on the first call, resolves them once, and ignores them otherwise", () => {
    const { X, y, counts } = imbalanced(400)
    const model = new Perceptron({ classWeight: 'balanced', shuffle: false })
    expect(catchError(() => model.partialFit(X, y, { classes: [0, 1] })).code).toBe('INVALID_ARGUMENT')
    expect(model.isFitted).toBe(false)
    model.partialFit(X, y, { classes: [0, 1], classCounts: counts })
    const n = counts.get(0)! + counts.get(1)!
    expect(Array.from(model.classWeights)).toEqual([n / (2 * counts.get(0)!), n / (2 * counts.get(1)!)])
    model.partialFit(X, y)
    model.partialFit(X, y, { classCounts: counts })
    const changed = catchError(() => model.partialFit(X, y, { classCounts: { 0: 1, 1: 1 } }))
    expect(changed.message).toMatch(/^classCounts give the balanced class weights \[1, 1\], which differ/)
    const unweighted = new Perceptron({ shuffle: false })
    unweighted.partialFit(X, y, { classes: [0, 1], classCounts: { 0: 1, 1: 1, 7: 3 } })
    expect(Array.from(unweighted.classWeights)).toEqual([1, 1])
  })

  it("'balanced' equals the explicit weights it resolves to, and raises recall of the rare class", () => {
    const { X, y, counts } = imbalanced(600)
    const balanced = new SgdClassifier({ classWeight: 'balanced', shuffle: false })
    balanced.partialFit(X, y, { classes: [0, 1], classCounts: counts })
    const [w0, w1] = balanced.classWeights
    const explicit = new SgdClassifier({ classWeight: { 0: w0!, 1: w1! }, shuffle: false })
    explicit.partialFit(X, y, { classes: [0, 1] })
    expect(explicit.coef).toEqual(balanced.coef)
    expect(explicit.intercept).toEqual(balanced.intercept)
    const plain = new SgdClassifier({ shuffle: false })
    plain.partialFit(X, y, { classes: [0, 1] })
    const recall = (pred: Float64Array) => {
      let hit = 0
      let positives = 0
      for (let i = 0; i < y.length; i++) {
        if (y[i] !== 1) continue
        positives++
        hit += pred[i] === 1 ? 1 : 0
      }
      return hit / positives
    }
    expect(recall(balanced.predict(X))).toBeGreaterThan(recall(plain.predict(X)))
  })

  it('keeps resolved weights through toJSON/fromJSON, so training continues without the counts', () => {
    const { X, y, counts } = imbalanced(300)
    const a = new PassiveAggressiveClassifier({ classWeight: 'balanced', shuffle: false })
    a.partialFit(X, y, { classes: [0, 1], classCounts: counts })
    const json = a.toJSON()
    expect(json.state.classWeights).toEqual(Array.from(a.classWeights))
    const b = PassiveAggressiveClassifier.fromJSON(
      JSON.parse(
        JSON.stringify({
          ...json,
          state: { ...json.state, coef: Array.from(json.state.coef), intercept: Array.from(json.state.intercept) },
        }),
      ),
    )
    a.partialFit(X, y)
    b.partialFit(X, y)
    expect(b.coef).toEqual(a.coef)
    expect(b.classWeights).toEqual(a.classWeights)
    const bad = { ...json, state: { ...json.state, classWeights: [1, -1] } }
    expect(catchError(() => PassiveAggressiveClassifier.fromJSON(bad)).code).toBe('ARTIFACT_INVALID')
  })

  it('copies a classWeight map into toJSON, and reads documents written before class weights as all 1', () => {
    const { X, y } = imbalanced(50)
    const weights = { 0: 1, 1: 3 }
    const model = new SgdClassifier({ classWeight: weights })
    model.partialFit(X, y, { classes: [0, 1] })
    const json = model.toJSON()
    expect(json.params.classWeight).toEqual(weights)
    expect(json.params.classWeight).not.toBe(weights)
    const { classWeight: _cw, ...oldParams } = json.params
    const { classWeights: _w, ...oldState } = json.state
    const old = SgdClassifier.fromJSON({ kind: 'sgd-classifier', params: oldParams, state: oldState })
    expect(Array.from(old.classWeights)).toEqual([1, 1])
    expect(old.params.classWeight).toBeNull()
    expect(old.predict(X)).toEqual(model.predict(X))
  })
})
