import { describe, expect, it } from 'vitest'
import { fromRows } from '../../core/matrix.js'
import { GaussianNB } from './gaussian-nb.js'
import {
  bits,
  catchError,
  classesOf,
  type Problem,
  problem,
  relErr,
  slice,
  throughJsonText,
} from './test-helpers/data.js'

function fitted(
  p: Problem,
  options: { nClasses: number; weighted?: boolean; params?: ConstructorParameters<typeof GaussianNB>[0] },
): GaussianNB {
  const model = new GaussianNB(options.params)
  model.partialFit(p.X, p.y, {
    classes: classesOf(options.nClasses),
    ...(options.weighted ? { sampleWeight: p.w } : {}),
  })
  return model
}

function statistics(model: GaussianNB) {
  return { theta: model.theta, variance: model.variance, classCount: model.classCount, epsilon: [model.epsilon] }
}

describe('GaussianNB', () => {
  it('learns class-dependent means (accuracy > 0.7 on a 3-class problem) and probabilities sum to 1', () => {
    const p = problem(3000, { nClasses: 3, kind: 'gaussian', seed: 1 })
    const model = fitted(p, { nClasses: 3 })
    const pred = model.predict(p.X)
    let correct = 0
    for (let i = 0; i < p.y.length; i++) correct += pred[i] === p.y[i] ? 1 : 0
    expect(correct / p.y.length).toBeGreaterThan(0.7)
    const proba = model.predictProba(p.X)
    for (let r = 0; r < p.X.rows; r++) expect(proba[3 * r]! + proba[3 * r + 1]! + proba[3 * r + 2]!).toBeCloseTo(1, 12)
    expect(model.nFeaturesIn).toBe(4)
    expect(model.classes).toEqual([10, 11, 12])
  })

  it("keeps scikit-learn's epsilon bookkeeping: a later call subtracts the new epsilon, not the previous one", () => {
    // varSmoothing 0.5 makes epsilon visible. Batch A = [0, 2]: mean 1, var 1, epsilon 0.5 → var_ 1.5.
    // Batch B = [4, 4, 4, 8]: mean 5, var 3, epsilon 1.5. scikit-learn: var_ − 1.5 = 0 is combined with B:
    // ssd = 2·0 + 4·3 + (4·2/6)·(1 − 5)² = 100/3, var = 50/9, plus 1.5.
    const model = new GaussianNB({ varSmoothing: 0.5 })
    model.partialFit(fromRows([[0], [2]]), new Float64Array([1, 1]), { classes: [1] })
    expect(Array.from(model.variance)).toEqual([1.5])
    expect(model.epsilon).toBe(0.5)
    model.partialFit(fromRows([[4], [4], [4], [8]]), new Float64Array([1, 1, 1, 1]))
    expect(model.epsilon).toBe(1.5)
    expect(model.theta[0]).toBeCloseTo(22 / 6, 14)
    expect(model.variance[0]).toBeCloseTo(50 / 9 + 1.5, 14)
    expect(model.classPrior[0]).toBe(1)
  })

  it('uses the sample weights for means, variances and class counts but not for epsilon', () => {
    const X = fromRows([[0], [2], [10], [20]])
    const y = new Float64Array([0, 0, 1, 1])
    const model = new GaussianNB({ varSmoothing: 0 })
    model.partialFit(X, y, { classes: [0, 1], sampleWeight: new Float64Array([3, 1, 1, 1]) })
    expect(Array.from(model.classCount)).toEqual([4, 2])
    expect(model.theta[0]).toBe(0.5) // (3·0 + 1·2) / 4
    expect(model.variance[0]).toBe(0.75) // (3·0.25 + 1·2.25) / 4
    expect(Array.from(model.classPrior)).toEqual([4 / 6, 2 / 6])
    const smoothed = new GaussianNB({ varSmoothing: 1 })
    smoothed.partialFit(X, y, { classes: [0, 1], sampleWeight: new Float64Array([3, 1, 1, 1]) })
    expect(smoothed.epsilon).toBe(62) // unweighted population variance of [0, 2, 10, 20]
  })

  it('uses given priors instead of class frequencies', () => {
    const p = problem(200, { nClasses: 2, kind: 'gaussian', seed: 2 })
    const model = fitted(p, { nClasses: 2, params: { priors: [0.9, 0.1] } })
    expect(Array.from(model.classPrior)).toEqual([0.9, 0.1])
    const free = fitted(p, { nClasses: 2 })
    const jllDelta = model.predictJointLogProba(p.X)[0]! - free.predictJointLogProba(p.X)[0]!
    expect(jllDelta).toBeCloseTo(Math.log(0.9) - Math.log(free.classPrior[0]!), 12)
  })

  it('decisionFunction gives the log posterior odds for two classes and agrees with predict', () => {
    const p = problem(300, { nClasses: 2, kind: 'gaussian', seed: 3 })
    const model = fitted(p, { nClasses: 2 })
    const margins = model.decisionFunction(p.X)
    const jll = model.predictJointLogProba(p.X)
    const pred = model.predict(p.X)
    expect(margins.length).toBe(p.X.rows)
    for (let r = 0; r < p.X.rows; r++) {
      expect(margins[r]).toBe(jll[2 * r + 1]! - jll[2 * r]!)
      expect(pred[r]).toBe(margins[r]! > 0 ? 11 : 10)
    }
    const three = fitted(problem(300, { nClasses: 3, kind: 'gaussian', seed: 3 }), { nClasses: 3 })
    expect(three.decisionFunction(p.X)).toEqual(three.predictJointLogProba(p.X))
  })

  it('predicts one row at a time exactly as in a batch', () => {
    const p = problem(50, { nClasses: 3, kind: 'gaussian', seed: 4 })
    const model = fitted(p, { nClasses: 3 })
    const batch = model.predict(p.X)
    for (let r = 0; r < p.X.rows; r++) expect(model.predict(slice(p, r, r + 1).X)[0]).toBe(batch[r])
  })

  it('accepts a single class (as scikit-learn does): probability 1 everywhere', () => {
    const model = new GaussianNB()
    const X = fromRows([[1], [2], [4]])
    model.partialFit(X, new Float64Array([5, 5, 5]), { classes: [5] })
    expect(Array.from(model.predict(X))).toEqual([5, 5, 5])
    expect(Array.from(model.predictProba(X))).toEqual([1, 1, 1])
    expect(model.decisionFunction(X).length).toBe(3)
  })

  it('a call with zero rows changes nothing (the first leaves the model unfitted)', () => {
    const empty = { data: new Float32Array(0), rows: 0, cols: 3 }
    const model = new GaussianNB()
    model.partialFit(empty, new Float64Array(0), { classes: [0, 1] })
    expect(model.isFitted).toBe(false)
    const p = problem(30, { nClasses: 2, kind: 'gaussian', seed: 5, cols: 3 })
    const m = fitted(p, { nClasses: 2 })
    const before = m.toJSON()
    m.partialFit(empty, new Float64Array(0))
    expect(m.toJSON()).toEqual(before)
  })
})

describe('GaussianNB errors', () => {
  const p = problem(20, { nClasses: 2, kind: 'gaussian', seed: 6, cols: 3 })

  it('validates params on the first partialFit, not in the constructor (INVALID_PARAM, scikit-learn message)', () => {
    const model = new GaussianNB({ varSmoothing: -1 })
    expect(model.params.varSmoothing).toBe(-1)
    const error = catchError(() => model.partialFit(p.X, p.y, { classes: [10, 11] }))
    expect(error.code).toBe('INVALID_PARAM')
    expect(error.message).toBe(
      "The 'varSmoothing' parameter of GaussianNB must be a float in the range [0, inf). Got -1 instead.",
    )
    expect(model.isFitted).toBe(false)
    const unknown = catchError(() => new GaussianNB({ alpha: 1 } as never).partialFit(p.X, p.y, { classes: [10, 11] }))
    expect(unknown.message).toMatch(/GaussianNB has no parameter 'alpha'/)
  })

  it('checks priors: non-negative, summing to 1, one per class', () => {
    const fitWith = (priors: unknown) => () =>
      new GaussianNB({ priors: priors as number[] }).partialFit(p.X, p.y, { classes: [10, 11] })
    expect(catchError(fitWith([0.5, 0.6])).message).toBe(
      "The 'priors' parameter of GaussianNB must sum to 1. Got [0.5, 0.6] (sum 1.1) instead.",
    )
    expect(catchError(fitWith([1.5, -0.5])).message).toBe(
      "The 'priors' parameter of GaussianNB must be non-negative. Got [1.5, -0.5] instead.",
    )
    const length = catchError(fitWith([0.2, 0.3, 0.5]))
    expect(length.code).toBe('INVALID_PARAM')
    expect(length.message).toBe(
      "The 'priors' parameter of GaussianNB must have one value per class: 2 classes but 3 priors.",
    )
    expect(catchError(fitWith('uniform')).message).toMatch(
      /'priors' parameter of GaussianNB must be null or a non-empty array/,
    )
    expect(() => fitWith([0.25, 0.75])()).not.toThrow()
  })

  it('needs classes on the first call and the same ones later (INVALID_ARGUMENT)', () => {
    const model = new GaussianNB()
    expect(catchError(() => model.partialFit(p.X, p.y)).message).toBe(
      'GaussianNB.partialFit needs options.classes (every label y can take) on the first call.',
    )
    model.partialFit(p.X, p.y, { classes: [11, 10] })
    expect(model.classes).toEqual([10, 11])
    model.partialFit(p.X, p.y, { classes: [10, 11] })
    const error = catchError(() => model.partialFit(p.X, p.y, { classes: [10, 12] }))
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toMatch(/differ from the classes \[10, 11\]/)
  })

  it('rejects labels outside the classes with INVALID_DATA naming the row, leaving the model unchanged', () => {
    const model = fitted(p, { nClasses: 2 })
    const before = model.toJSON()
    const bad = p.y.slice()
    bad[7] = 3
    const error = catchError(() => model.partialFit(p.X, bad))
    expect(error.code).toBe('INVALID_DATA')
    expect(error.message).toBe('y[7] = 3 is not one of the classes [10, 11] given on the first partialFit call.')
    expect(error.issues[0]?.path).toEqual(['y', 7])
    expect(model.toJSON()).toEqual(before)
  })

  it('rejects NaN and ±Infinity in X with INVALID_DATA naming row and feature, in partialFit and predict', () => {
    const X = { ...p.X, data: p.X.data.slice() }
    X.data[2 * 3 + 1] = Number.NaN
    const model = new GaussianNB()
    const error = catchError(() => model.partialFit(X, p.y, { classes: [10, 11] }))
    expect(error.code).toBe('INVALID_DATA')
    expect(error.message).toMatch(/^X contains NaN at row 2, feature 1; GaussianNB needs finite features/)
    expect(error.issues[0]?.path).toEqual(['X', 2, 1])
    expect(model.isFitted).toBe(false)
    model.partialFit(p.X, p.y, { classes: [10, 11] })
    X.data[2 * 3 + 1] = 0
    X.data[5 * 3 + 2] = Number.NEGATIVE_INFINITY
    expect(catchError(() => model.predictProba(X)).message).toMatch(/^X contains -Infinity at row 5, feature 2;/)
  })

  it('rejects a different feature count with INVALID_INPUT naming both counts', () => {
    const model = fitted(p, { nClasses: 2 })
    const narrow = fromRows([[1, 2]])
    const error = catchError(() => model.predict(narrow))
    expect(error.code).toBe('INVALID_INPUT')
    expect(error.message).toBe('X has 2 features, but GaussianNB was fitted with 3 features.')
    expect(catchError(() => model.partialFit(narrow, new Float64Array([10]))).code).toBe('INVALID_INPUT')
  })

  it('rejects y and sampleWeight of the wrong length (INVALID_INPUT) and negative or NaN weights (INVALID_DATA)', () => {
    const model = new GaussianNB()
    expect(catchError(() => model.partialFit(p.X, p.y.subarray(0, 19), { classes: [10, 11] })).message).toBe(
      'y has 19 values but X has 20 rows.',
    )
    const w = new Float64Array(20).fill(1)
    w[4] = -0.5
    const negative = catchError(() => model.partialFit(p.X, p.y, { classes: [10, 11], sampleWeight: w }))
    expect(negative.code).toBe('INVALID_DATA')
    expect(negative.message).toBe('sampleWeight contains -0.5 at row 4; naive Bayes needs non-negative weights.')
    w[4] = Number.NaN
    expect(catchError(() => model.partialFit(p.X, p.y, { classes: [10, 11], sampleWeight: w })).code).toBe(
      'INVALID_DATA',
    )
    expect(
      catchError(() => model.partialFit(p.X, p.y, { classes: [10, 11], sampleWeight: w.subarray(0, 3) })).code,
    ).toBe('INVALID_INPUT')
    expect(model.isFitted).toBe(false)
  })

  it('throws NOT_FITTED before the first partialFit', () => {
    const model = new GaussianNB()
    expect(catchError(() => model.predict(p.X)).code).toBe('NOT_FITTED')
    expect(catchError(() => model.toJSON()).code).toBe('NOT_FITTED')
    expect(catchError(() => model.theta).code).toBe('NOT_FITTED')
    expect(model.nFeaturesIn).toBeUndefined()
  })
})

describe('GaussianNB merge (Chan et al.): merge(fit A, fit B) equals fit(A ∪ B) within 1e-12 relative', () => {
  for (const weighted of [false, true]) {
    it(`holds over 20 seeds, 2–4 classes, ${weighted ? 'with' : 'without'} sample weights`, () => {
      for (let seed = 1; seed <= 20; seed++) {
        const nClasses = 2 + (seed % 3)
        const p = problem(120 + seed * 7, { nClasses, kind: 'gaussian', seed })
        const cut = 10 + ((seed * 37) % (p.X.rows - 20))
        const a = slice(p, 0, cut)
        const b = slice(p, cut, p.X.rows)
        const merged = fitted(a, { nClasses, weighted })
        merged.merge(fitted(b, { nClasses, weighted }))
        const whole = fitted(p, { nClasses, weighted })
        const got = statistics(merged)
        const want = statistics(whole)
        for (const key of Object.keys(want) as (keyof typeof want)[]) {
          expect(relErr(got[key], want[key]), `seed ${seed} ${key}`).toBeLessThan(1e-12)
        }
        expect(relErr(merged.predictProba(p.X), whole.predictProba(p.X)), `seed ${seed} proba`).toBeLessThan(1e-9)
      }
    })
  }

  it('holds when a class is missing from one shard', () => {
    const p = problem(200, { nClasses: 3, kind: 'gaussian', seed: 9 })
    const onlyFirstTwo = p.y.map((v) => (v === 12 ? 10 : v))
    const a = { ...slice(p, 0, 100), y: onlyFirstTwo.slice(0, 100) }
    const b = slice(p, 100, 200)
    const merged = fitted(a, { nClasses: 3 })
    merged.merge(fitted(b, { nClasses: 3 }))
    const whole = new GaussianNB()
    const y = Float64Array.from([...a.y, ...b.y])
    whole.partialFit(p.X, y, { classes: [10, 11, 12] })
    expect(relErr(merged.theta, whole.theta)).toBeLessThan(1e-12)
    expect(relErr(merged.variance, whole.variance)).toBeLessThan(1e-12)
    expect(Array.from(merged.classCount)).toEqual(Array.from(whole.classCount))
  })

  it('is commutative bit for bit and associative within 1e-12', () => {
    const p = problem(300, { nClasses: 3, kind: 'gaussian', seed: 11 })
    const [a, b, c] = [slice(p, 0, 90), slice(p, 90, 200), slice(p, 200, 300)]
    const ab = fitted(a, { nClasses: 3, weighted: true })
    ab.merge(fitted(b, { nClasses: 3, weighted: true }))
    const ba = fitted(b, { nClasses: 3, weighted: true })
    ba.merge(fitted(a, { nClasses: 3, weighted: true }))
    expect(ab.toJSON().state).toEqual(ba.toJSON().state)
    expect(bits(ab.predictProba(p.X))).toEqual(bits(ba.predictProba(p.X)))
    ab.merge(fitted(c, { nClasses: 3, weighted: true }))
    const bc = fitted(b, { nClasses: 3, weighted: true })
    bc.merge(fitted(c, { nClasses: 3, weighted: true }))
    const aBc = fitted(a, { nClasses: 3, weighted: true })
    aBc.merge(bc)
    expect(relErr(ab.theta, aBc.theta)).toBeLessThan(1e-12)
    expect(relErr(ab.variance, aBc.variance)).toBeLessThan(1e-12)
    expect(ab.epsilon).toBeCloseTo(aBc.epsilon, 20)
  })

  it('an unfitted model is the identity: merging it changes nothing, and it takes over an independent copy', () => {
    const p = problem(100, { nClasses: 2, kind: 'gaussian', seed: 12 })
    const model = fitted(p, { nClasses: 2 })
    const before = model.toJSON()
    model.merge(new GaussianNB())
    expect(model.toJSON()).toEqual(before)
    const empty = new GaussianNB()
    empty.merge(model)
    expect(empty.toJSON()).toEqual(before)
    model.partialFit(p.X, p.y)
    expect(empty.toJSON()).toEqual(before)
    empty.partialFit(p.X, p.y)
    expect(empty.toJSON()).toEqual(model.toJSON())
  })

  it('merging a model into itself equals fitting its rows twice in one call', () => {
    const p = problem(80, { nClasses: 2, kind: 'gaussian', seed: 15 })
    const model = fitted(p, { nClasses: 2, weighted: true })
    model.merge(model)
    const twice = new GaussianNB()
    const X = { data: Float32Array.from([...p.X.data, ...p.X.data]), rows: 160, cols: p.X.cols }
    twice.partialFit(X, Float64Array.from([...p.y, ...p.y]), {
      classes: [10, 11],
      sampleWeight: Float64Array.from([...p.w, ...p.w]),
    })
    const got = statistics(model)
    const want = statistics(twice)
    for (const key of Object.keys(want) as (keyof typeof want)[])
      expect(relErr(got[key], want[key]), key).toBeLessThan(1e-12)
  })

  it('refuses models with other params, classes or feature counts (INVALID_ARGUMENT)', () => {
    const p = problem(40, { nClasses: 2, kind: 'gaussian', seed: 13 })
    const model = fitted(p, { nClasses: 2 })
    const smoothing = fitted(p, { nClasses: 2, params: { varSmoothing: 1e-3 } })
    expect(catchError(() => model.merge(smoothing)).message).toMatch(
      /^GaussianNB.merge needs models with the same params/,
    )
    const other = new GaussianNB()
    other.partialFit(
      p.X,
      p.y.map((v) => v + 1),
      { classes: [11, 12] },
    )
    expect(catchError(() => model.merge(other)).message).toBe(
      'GaussianNB.merge needs models with the same classes; got [11, 12], expected [10, 11].',
    )
    const wide = fitted(problem(40, { nClasses: 2, kind: 'gaussian', seed: 13, cols: 5 }), { nClasses: 2 })
    expect(catchError(() => model.merge(wide)).code).toBe('INVALID_ARGUMENT')
  })
})

describe('GaussianNB JSON', () => {
  const p = problem(200, { nClasses: 3, kind: 'gaussian', seed: 14 })
  const model = new GaussianNB({ varSmoothing: 1e-6 })
  model.partialFit(slice(p, 0, 120).X, slice(p, 0, 120).y, { classes: [10, 11, 12] })
  model.partialFit(slice(p, 120, 200).X, slice(p, 120, 200).y)

  it('round-trips through structuredClone and JSON text with bit-identical predictions and statistics', () => {
    for (const json of [structuredClone(model.toJSON()), throughJsonText(model.toJSON())]) {
      const again = GaussianNB.fromJSON(json)
      expect(bits(again.predictProba(p.X))).toEqual(bits(model.predictProba(p.X)))
      expect(bits(again.decisionFunction(p.X))).toEqual(bits(model.decisionFunction(p.X)))
      expect(Array.from(again.predict(p.X))).toEqual(Array.from(model.predict(p.X)))
      expect(again.epsilon).toBe(model.epsilon)
      expect(again.params).toEqual(model.params)
    }
  })

  it('a reloaded model keeps learning and merging exactly like the original', () => {
    const again = GaussianNB.fromJSON(model.toJSON())
    const extra = slice(p, 0, 50)
    const original = GaussianNB.fromJSON(model.toJSON())
    original.partialFit(extra.X, extra.y)
    again.partialFit(extra.X, extra.y)
    expect(again.toJSON()).toEqual(original.toJSON())
    again.merge(model)
    original.merge(model)
    expect(again.toJSON()).toEqual(original.toJSON())
  })

  it('rejects malformed documents with ARTIFACT_INVALID naming the field', () => {
    const json = model.toJSON()
    expect(catchError(() => GaussianNB.fromJSON({ ...json, kind: 'bernoulli-nb' })).message).toBe(
      "Expected kind 'gaussian-nb', got 'bernoulli-nb'.",
    )
    const short = catchError(() =>
      GaussianNB.fromJSON({ ...json, state: { ...json.state, theta: new Float64Array(3) } }),
    )
    expect(short.code).toBe('ARTIFACT_INVALID')
    expect(short.message).toBe('Invalid gaussian-nb state: state.theta must be 12 values, got 3 values.')
    const unsorted = catchError(() => GaussianNB.fromJSON({ ...json, state: { ...json.state, classes: [11, 10, 12] } }))
    expect(unsorted.message).toMatch(/state.classes must be a non-empty array of increasing finite numbers/)
    const counts = Float64Array.from([1, -1, 1])
    expect(
      catchError(() => GaussianNB.fromJSON({ ...json, state: { ...json.state, classCount: counts } })).message,
    ).toMatch(/state.classCount must be non-negative values/)
    const params = catchError(() => GaussianNB.fromJSON({ ...json, params: { ...json.params, priors: [1, 0] } }))
    expect(params.code).toBe('ARTIFACT_INVALID')
    expect(params.message).toMatch(
      /^Invalid gaussian-nb params: The 'priors' parameter of GaussianNB must have one value per class/,
    )
  })
})
