import { describe, expect, it } from 'vitest'
import { isScalemlError, type ScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'
import { parseParamAssignments } from '../../core/params.js'
import { Random } from '../../core/random.js'
import { BinMapper } from './binning.js'
import { GBDT_CLASSIFIER_CONSTRAINTS, GbdtClassifier, GbdtRegressor } from './gbdt.js'
import { treeCount } from './tree-ensemble.js'

function catchError(fn: () => unknown): ScalemlError {
  try {
    fn()
  } catch (error) {
    if (isScalemlError(error)) return error
    throw error
  }
  throw new Error('expected a ScalemlError')
}

/** Rows of `cols` features from `fill(row, feature)`. */
function matrix(rows: number, cols: number, fill: (r: number, f: number) => number): DenseMatrix {
  const data = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let f = 0; f < cols; f++) data[r * cols + f] = fill(r, f)
  return { data, rows, cols }
}

function accuracy(predicted: Float64Array, y: Float64Array): number {
  let ok = 0
  for (let i = 0; i < y.length; i++) if (predicted[i] === y[i]) ok++
  return ok / y.length
}

function meanLogLoss(proba: Float64Array, y: Float64Array, k: number): number {
  let s = 0
  for (let r = 0; r < y.length; r++) s -= Math.log(Math.max(proba[r * k + y[r]!]!, 1e-15))
  return s / y.length
}

/** A noisy binary problem: x0 and x1 interact, x2 is noise, x3 a 12-level categorical. */
function binaryProblem(rows: number, seed: number) {
  const rng = new Random(seed)
  const X = matrix(rows, 4, (_, f) => (f === 3 ? rng.nextInt(12) : rng.next() * 4 - 2))
  const y = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    const x = X.data.subarray(r * 4, r * 4 + 4)
    const z = 1.5 * x[0]! * (x[1]! > 0 ? 1 : -1) + ([2, 5, 7].includes(x[3]!) ? 1.5 : -0.5)
    y[r] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0
  }
  return { X, y }
}

describe('GbdtRegressor', () => {
  it('fits one stump exactly: leaf = −G/(H+λ), learning rate applied, base = mean', () => {
    const X = matrix(8, 1, (r) => r)
    const y = Float64Array.from([1, 1, 1, 1, 5, 5, 5, 9])
    const model = new GbdtRegressor({ nEstimators: 1, learningRate: 0.5, lambda: 1, maxDepth: 1, minChildWeight: 0 })
    model.fit(X, y)
    const mean = 28 / 8
    // The best stump separates the four 1s (residuals −2.5): left G = 4·(3.5 − 1) = 10, H = 4.
    const left = -(4 * (mean - 1)) / (4 + 1)
    const right = -(3 * (mean - 5) + (mean - 9)) / (4 + 1)
    const p = model.predict(X)
    expect(p[0]).toBeCloseTo(mean + 0.5 * left, 12)
    expect(p[7]).toBeCloseTo(mean + 0.5 * right, 12)
    const e = model.ensemble
    expect(treeCount(e)).toBe(1)
    expect(e.threshold[0]).toBe(3.5)
    expect(e.cover[0]).toBe(8)
    expect(e.baseMargin[0]).toBe(mean)
    expect(model.featureImportance('split')[0]).toBe(1)
  })

  it('fits a smooth function closely (squared error) and resists outliers with pseudo-Huber', () => {
    const rng = new Random(3)
    const X = matrix(3000, 2, () => rng.next() * 6)
    const clean = new Float64Array(3000)
    const y = new Float64Array(3000)
    for (let r = 0; r < 3000; r++) {
      clean[r] = Math.sin(X.data[2 * r]!) * 3 + X.data[2 * r + 1]!
      y[r] = clean[r]! + (r % 50 === 0 ? 200 : 0)
    }
    const mae = (p: Float64Array) => p.reduce((s, v, r) => s + Math.abs(v - clean[r]!), 0) / p.length
    const squared = new GbdtRegressor({ nEstimators: 200 })
    squared.fit(X, clean)
    expect(mae(squared.predict(X))).toBeLessThan(0.1)
    const robust = new GbdtRegressor({ objective: 'pseudo_huber', huberSlope: 1, nEstimators: 300, learningRate: 0.3 })
    robust.fit(X, y)
    const plain = new GbdtRegressor({ nEstimators: 300, learningRate: 0.3 })
    plain.fit(X, y)
    expect(robust.ensemble.objective).toBe('reg:pseudohubererror')
    expect(mae(robust.predict(X))).toBeLessThan(0.5 * mae(plain.predict(X)))
  })

  it('ignores rows of weight 0: same model as training on the other rows alone', () => {
    const rng = new Random(8)
    const X = matrix(400, 2, () => rng.nextInt(20))
    const y = Float64Array.from({ length: 400 }, (_, r) => X.data[2 * r]! * 2 - X.data[2 * r + 1]! + rng.next())
    const weight = Float64Array.from({ length: 400 }, (_, r) => (r % 2 === 0 ? 1 : 0))
    const half = matrix(200, 2, (r, f) => X.data[4 * r + f]!)
    const yHalf = Float64Array.from({ length: 200 }, (_, r) => y[2 * r]!)
    // Bins from the half only, so both fits see the same cuts (the weighted fit's sketch sees every row).
    const mapper = BinMapper.fit(half)
    const weighted = new GbdtRegressor({ nEstimators: 20 })
    weighted.fitBinned(mapper.transform(X), y, { sampleWeight: weight })
    const alone = new GbdtRegressor({ nEstimators: 20 })
    alone.fitBinned(mapper.transform(half), yHalf)
    const a = weighted.predict(half)
    const b = alone.predict(half)
    for (let r = 0; r < 200; r++) expect(a[r]).toBeCloseTo(b[r]!, 9)
  })
})

describe('GbdtClassifier', () => {
  it('learns an interaction and a categorical effect; probabilities are calibrated enough to beat the prior', () => {
    const train = binaryProblem(6000, 1)
    const test = binaryProblem(3000, 2)
    const model = new GbdtClassifier({ nEstimators: 80, maxLeaves: 15 })
    model.fit(train.X, train.y, { categoricalFeatures: [3] })
    expect(model.classes).toEqual([0, 1])
    expect(model.ensemble.objective).toBe('binary:logistic')
    const proba = model.predictProba(test.X)
    for (let r = 0; r < 10; r++) expect(proba[2 * r]! + proba[2 * r + 1]!).toBeCloseTo(1, 12)
    const rate = train.y.reduce((s, v) => s + v, 0) / train.y.length
    const prior = -(rate * Math.log(rate) + (1 - rate) * Math.log(1 - rate))
    expect(meanLogLoss(proba, test.y, 2)).toBeLessThan(prior - 0.1)
    const gain = model.featureImportance('gain')
    expect(gain[2]).toBeLessThan(gain[0]!)
    expect(gain[2]).toBeLessThan(gain[3]!)
  })

  it('finds a native categorical split: the rows of three categories out of 20 are the positives', () => {
    const rng = new Random(4)
    const X = matrix(2000, 1, () => rng.nextInt(20))
    const y = Float64Array.from({ length: 2000 }, (_, r) => ([3, 8, 12].includes(X.data[r]!) ? 1 : 0))
    const model = new GbdtClassifier({ nEstimators: 5, maxDepth: 1, maxLeaves: null, learningRate: 1 })
    model.fit(X, y, { categoricalFeatures: [0] })
    const e = model.ensemble
    expect(e.categorical[0]).toBe(1)
    const listed = Array.from(e.categories.subarray(e.categoryOffsets[0]!, e.categoryOffsets[1]!))
    const complement = Array.from({ length: 20 }, (_, c) => c).filter((c) => !listed.includes(c))
    expect([listed.join(','), complement.join(',')]).toContain('3,8,12')
    expect(accuracy(model.predict(X), y)).toBe(1)
    // Unseen and negative codes take the "other" path at every node: the same prediction.
    const other = model.predictProba({ data: Float32Array.from([99, 5000, -1]), rows: 3, cols: 1 })
    expect(other[3]).toBe(other[1])
    expect(other[5]).toBe(other[1])
    expect(other[1]).toBeLessThan(0.5)
  })

  it('learns where missing values go: NaN rows behave like large values, and inference routes them there', () => {
    const rng = new Random(5)
    const n = 3000
    const X = matrix(n, 1, () => rng.next() * 10)
    const y = new Float64Array(n)
    for (let r = 0; r < n; r++) {
      if (r % 5 === 0) {
        X.data[r] = Number.NaN
        y[r] = 1
      } else y[r] = X.data[r]! > 6 ? 1 : 0
    }
    const model = new GbdtClassifier({ nEstimators: 20, maxDepth: 2, maxLeaves: null })
    model.fit(X, y)
    const e = model.ensemble
    expect(e.threshold[0]).toBeGreaterThan(5.5)
    expect(e.threshold[0]).toBeLessThan(6.5)
    expect(e.defaultLeft[0]).toBe(0)
    const p = model.predictProba({ data: Float32Array.from([Number.NaN, 9, 1]), rows: 3, cols: 1 })
    expect(p[1]).toBeGreaterThan(0.9)
    expect(p[1]).toBeCloseTo(p[3]!, 6)
    expect(p[5]).toBeLessThan(0.1)
  })

  it('trains softmax with one tree per class per round', () => {
    const rng = new Random(6)
    const X = matrix(3000, 2, () => rng.next() * 3)
    const y = Float64Array.from({ length: 3000 }, (_, r) => (Math.floor(X.data[2 * r]!) + 7) * 10)
    const model = new GbdtClassifier({ nEstimators: 10 })
    model.fit(X, y)
    expect(model.classes).toEqual([70, 80, 90])
    const e = model.ensemble
    expect(e.objective).toBe('multi:softprob')
    expect(treeCount(e)).toBe(30)
    expect(Array.from(e.treeGroup.subarray(0, 6))).toEqual([0, 1, 2, 0, 1, 2])
    expect(accuracy(model.predict(X), y)).toBeGreaterThan(0.99)
    const p = model.predictProba(X)
    expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 12)
  })

  it('stops early: keeps the best round by validation loss and drops the later trees', () => {
    const train = binaryProblem(2000, 7)
    const valid = binaryProblem(2000, 8)
    // Deep trees on little data overfit fast, so the validation loss turns up within a few dozen rounds.
    const model = new GbdtClassifier({ nEstimators: 500, maxLeaves: 63, learningRate: 0.3, earlyStoppingRounds: 5 })
    const seen: number[] = []
    model.fit(train.X, train.y, {
      categoricalFeatures: [3],
      evalSet: { X: valid.X, y: valid.y },
      onIteration: (event) => seen.push(event.iteration),
    })
    const loss = model.validLoss
    expect(model.nRounds).toBeLessThan(500)
    expect(model.nRounds).toBe(model.bestIteration + 6)
    expect(seen.length).toBe(model.nRounds)
    expect(loss.length).toBe(model.nRounds)
    expect(Math.min(...loss)).toBe(loss[model.bestIteration])
    expect(treeCount(model.ensemble)).toBe(model.bestIteration + 1)
    // The internal validation loss (bins walked through the trees) equals log-loss of the float predictions.
    expect(meanLogLoss(model.predictProba(valid.X), valid.y, 2)).toBeCloseTo(loss[model.bestIteration]!, 9)
  })

  it('is deterministic for a seed with row and feature subsampling, and the seed matters', () => {
    const { X, y } = binaryProblem(1500, 9)
    const fit = (seed: number) => {
      const m = new GbdtClassifier({ nEstimators: 15, subsample: 0.7, colsampleBytree: 0.5, seed })
      m.fit(X, y, { categoricalFeatures: [3] })
      return m
    }
    const a = fit(1)
    const b = fit(1)
    const c = fit(2)
    expect(a.ensemble).toEqual(b.ensemble)
    expect(a.predictProba(X)).toEqual(b.predictProba(X))
    expect(c.ensemble.threshold).not.toEqual(a.ensemble.threshold)
  })

  it('grows depth-wise trees within maxDepth', () => {
    const { X, y } = binaryProblem(2000, 10)
    const model = new GbdtClassifier({ nEstimators: 5, growPolicy: 'depthwise', maxDepth: 2, maxLeaves: null })
    model.fit(X, y, { categoricalFeatures: [3] })
    const e = model.ensemble
    for (let t = 0; t < treeCount(e); t++) expect(e.treeOffsets[t + 1]! - e.treeOffsets[t]!).toBeLessThanOrEqual(7)
  })

  it('round-trips through toJSON / fromJSON (also as JSON text) with identical predictions', () => {
    const { X, y } = binaryProblem(1000, 11)
    const model = new GbdtClassifier({ nEstimators: 10 })
    model.fit(X, y, { categoricalFeatures: [3] })
    const again = GbdtClassifier.fromJSON(model.toJSON())
    expect(again.predictProba(X)).toEqual(model.predictProba(X))
    // As text, typed arrays become plain number arrays (the registry stores them as binary files instead).
    const plain = (_key: string, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v)
    const text = GbdtClassifier.fromJSON(JSON.parse(JSON.stringify(model.toJSON(), plain)))
    expect(text.predict(X)).toEqual(model.predict(X))
    expect(text.featureImportance()).toEqual(model.featureImportance())
    const wrongKind = { ...model.toJSON(), kind: 'gbdt-regressor' }
    expect(catchError(() => GbdtClassifier.fromJSON(wrongKind)).code).toBe('ARTIFACT_INVALID')
    expect(catchError(() => GbdtRegressor.fromJSON({ ...model.toJSON(), kind: 'gbdt-regressor' })).code).toBe(
      'ARTIFACT_INVALID',
    )
  })
})

describe('GBDT bad input', () => {
  it('accepts an all-missing feature and never splits on it (documented: it gets one empty value bin)', () => {
    const { X, y } = binaryProblem(1000, 12)
    const withNaN = matrix(1000, 5, (r, f) => (f === 4 ? Number.NaN : X.data[r * 4 + f]!))
    const model = new GbdtClassifier({ nEstimators: 10 })
    model.fit(withNaN, y, { categoricalFeatures: [3] })
    expect(model.featureImportance('split')[4]).toBe(0)
    expect(model.ensemble.feature.includes(4)).toBe(false)
  })

  it('rejects labels of a single class with INVALID_DATA saying so', () => {
    const X = matrix(10, 1, (r) => r)
    const error = catchError(() => new GbdtClassifier().fit(X, new Float64Array(10).fill(1)))
    expect(error.code).toBe('INVALID_DATA')
    expect(error.message).toContain('needs at least two classes; y holds only [1]')
  })

  it('rejects a NaN label with INVALID_DATA naming the row', () => {
    const X = matrix(10, 1, (r) => r)
    const y = Float64Array.from({ length: 10 }, (_, r) => r % 2)
    y[7] = Number.NaN
    for (const model of [new GbdtClassifier(), new GbdtRegressor()]) {
      const error = catchError(() => model.fit(X, y))
      expect(error.code).toBe('INVALID_DATA')
      expect(error.message).toContain('y[7] is NaN')
      expect(error.issues[0]?.path).toEqual(['y', 7])
    }
  })

  it('trains on a 100,000-level categorical: the 254 most frequent categories are kept, the rest share "other"', () => {
    const rng = new Random(13)
    const n = 120_000
    const X = matrix(n, 1, (r) => (r < 20_000 ? r % 10 : 10 + rng.nextInt(100_000)))
    const y = Float64Array.from({ length: n }, (_, r) => (r < 20_000 ? (r % 10 < 3 ? 1 : 0) : rng.next() < 0.1 ? 1 : 0))
    const model = new GbdtClassifier({ nEstimators: 3, maxLeaves: 4 })
    model.fit(X, y, { categoricalFeatures: [0] })
    const e = model.ensemble
    const p = model.predictProba({ data: Float32Array.from([0, 5, 123_456]), rows: 3, cols: 1 })
    expect(p[1]).toBeGreaterThan(p[3]!)
    expect(e.categories.every((c) => c < 100_010)).toBe(true)
    expect(
      catchError(() =>
        model.fit(
          matrix(2, 1, (r) => r + 0.5),
          Float64Array.from([0, 1]),
          { categoricalFeatures: [0] },
        ),
      ).code,
    ).toBe('INVALID_DATA')
  })

  it('rejects early stopping without an eval set, invalid params, mismatched shapes, and use before fit', () => {
    const X = matrix(10, 2, (r, f) => r + f)
    const y = Float64Array.from({ length: 10 }, (_, r) => r % 2)
    expect(catchError(() => new GbdtClassifier({ earlyStoppingRounds: 3 }).fit(X, y)).code).toBe('INVALID_ARGUMENT')
    const bad = catchError(() => new GbdtClassifier({ learningRate: 0, maxBins: 300 }).fit(X, y))
    expect(bad.code).toBe('INVALID_PARAM')
    expect(bad.issues.map((i) => i.path[0])).toEqual(['learningRate', 'maxBins'])
    expect(catchError(() => new GbdtClassifier().fit(X, new Float64Array(3))).code).toBe('INVALID_INPUT')
    expect(catchError(() => new GbdtClassifier().predict(X)).code).toBe('NOT_FITTED')
    const model = new GbdtClassifier({ nEstimators: 2 })
    model.fit(X, y)
    expect(catchError(() => model.predict(matrix(2, 3, () => 0))).code).toBe('INVALID_INPUT')
    expect(catchError(() => model.fit(X, y, { sampleWeight: new Float64Array(10).fill(-1) })).code).toBe('INVALID_DATA')
  })

  it('parses CLI-style params through its constraint table', () => {
    const params = parseParamAssignments('GbdtClassifier', GBDT_CLASSIFIER_CONSTRAINTS, [
      'learning_rate=0.05',
      'max_leaves=null',
      'max_depth=6',
      'grow_policy=depthwise',
    ])
    expect(params).toEqual({ learningRate: 0.05, maxLeaves: null, maxDepth: 6, growPolicy: 'depthwise' })
  })
})
