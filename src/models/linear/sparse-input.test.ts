import { describe, expect, it } from 'vitest'
import type { DenseMatrix, SparseRows } from '../../core/matrix.js'
import { sparseRows, sparseToDense } from '../../core/matrix.js'
import { Random } from '../../core/random.js'
import { GaussianNB } from '../bayes/gaussian-nb.js'
import { MiniBatchKMeans } from '../cluster/minibatch-kmeans.js'
import type { SupervisedEstimator } from '../estimator.js'
import { acceptsSparse } from '../estimator.js'
import { PassiveAggressiveClassifier, PassiveAggressiveRegressor } from './passive-aggressive.js'
import { Perceptron } from './perceptron.js'
import { SgdClassifier } from './sgd-classifier.js'
import { SgdWorkspace } from './sgd-core.js'
import { SgdRegressor } from './sgd-regressor.js'

/** Numeric columns, then one-hot groups, as a pipeline lays them out. */
const N_NUMERIC = 3
const GROUPS = [24, 7, 12, 40] as const
const N_FEATURES = N_NUMERIC + GROUPS.reduce((a, b) => a + b, 0)
const NNZ = N_NUMERIC + GROUPS.length

/**
 * `rows` one-hot-like rows in ELLPACK form with labels: scaled-looking numbers (some exactly 0, some -0, some
 * tiny), then one indicator per group, where a "null" row stores an explicit 0 at the group's first column (as
 * DatetimeParts does). Labels depend on the features so the models learn something; `classes` > 2 gives labels
 * 0 … classes − 1, 0 gives a regression target.
 */
function oneHotRows(seed: number, rows: number, classes: number): { X: SparseRows; y: Float64Array } {
  const random = new Random(seed)
  const indices = new Int32Array(rows * NNZ)
  const values = new Float32Array(rows * NNZ)
  const y = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    let e = r * NNZ
    let margin = 0
    for (let j = 0; j < N_NUMERIC; j++, e++) {
      const u = random.next()
      const v = u < 0.05 ? 0 : u < 0.08 ? -0 : u < 0.1 ? -1e-41 : (random.next() - 0.5) * 4
      indices[e] = j
      values[e] = v
      margin += j === 0 ? v : 0
    }
    let first = N_NUMERIC
    for (const width of GROUPS) {
      const missing = random.next() < 0.05
      const level = random.nextInt(width)
      indices[e] = missing ? first : first + level
      values[e] = missing ? 0 : 1
      margin += !missing && level < width / 3 ? 0.8 : 0
      first += width
      e++
    }
    const noisy = margin + (random.next() - 0.5) * 2
    y[r] =
      classes === 0
        ? noisy
        : classes === 2
          ? noisy > 1
            ? 1
            : 0
          : Math.min(classes - 1, Math.floor(Math.max(0, noisy)))
  }
  return { X: sparseRows(indices, values, { rows, cols: N_FEATURES, nnzPerRow: NNZ }), y }
}

/** Fully dense rows stored sparsely (every column an entry), so the dense kernel runs its all-feature loops. */
function denseRows(seed: number, rows: number, cols: number): { X: SparseRows; y: Float64Array } {
  const random = new Random(seed)
  const indices = new Int32Array(rows * cols)
  const values = new Float32Array(rows * cols)
  const y = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    let margin = 0
    for (let j = 0; j < cols; j++) {
      const v = random.next() * 2 - 1
      indices[r * cols + j] = j
      values[r * cols + j] = v
      margin += j % 3 === 0 ? v : 0
    }
    y[r] = margin > 0 ? 1 : 0
  }
  return { X: sparseRows(indices, values, { rows, cols, nnzPerRow: cols }), y }
}

function bits(a: Float64Array): string[] {
  return Array.from(new BigUint64Array(a.buffer, a.byteOffset, a.length), (b) => b.toString(16))
}

function expectSameBits64(actual: Float64Array, expected: Float64Array, label: string): void {
  expect(actual.length, label).toBe(expected.length)
  const x = bits(actual)
  const y = bits(expected)
  const first = x.findIndex((b, i) => b !== y[i])
  if (first >= 0) expect.fail(`${label}: value ${first} is ${actual[first]} (sparse) vs ${expected[first]} (dense)`)
}

type Make = () => SupervisedEstimator

const CLASSIFIERS: readonly (readonly [string, Make])[] = [
  ['SgdClassifier log_loss l2 (defaults, shuffled)', () => new SgdClassifier()],
  ['SgdClassifier hinge l1, unshuffled', () => new SgdClassifier({ loss: 'hinge', penalty: 'l1', shuffle: false })],
  [
    'SgdClassifier modified_huber elasticnet, averaged from row 50, invscaling',
    () =>
      new SgdClassifier({
        loss: 'modified_huber',
        penalty: 'elasticnet',
        l1Ratio: 0.3,
        average: 50,
        learningRate: 'invscaling',
        eta0: 0.05,
      }),
  ],
  [
    'SgdClassifier squared_hinge, balanced class weights, no intercept',
    () => new SgdClassifier({ loss: 'squared_hinge', classWeight: 'balanced', fitIntercept: false, seed: 7 }),
  ],
  [
    'SgdClassifier log_loss, constant eta0·alpha = 1 (the weight scale clamps to 0 and leaves -0 weights)',
    () => new SgdClassifier({ learningRate: 'constant', eta0: 1, alpha: 1, shuffle: false }),
  ],
  ['Perceptron (l2 penalty)', () => new Perceptron({ penalty: 'l2', alpha: 1e-3 })],
  ['PassiveAggressiveClassifier PA-I, averaged', () => new PassiveAggressiveClassifier({ C: 0.5, average: 1 })],
  ['PassiveAggressiveClassifier PA-II', () => new PassiveAggressiveClassifier({ loss: 'squared_hinge', C: 0.1 })],
]

const REGRESSORS: readonly (readonly [string, Make])[] = [
  ['SgdRegressor squared_error (defaults)', () => new SgdRegressor()],
  ['SgdRegressor huber l1, averaged', () => new SgdRegressor({ loss: 'huber', penalty: 'l1', average: 1 })],
  [
    'SgdRegressor epsilon_insensitive elasticnet, adaptive',
    () =>
      new SgdRegressor({ loss: 'epsilon_insensitive', penalty: 'elasticnet', learningRate: 'adaptive', eta0: 0.01 }),
  ],
  ['PassiveAggressiveRegressor PA-I', () => new PassiveAggressiveRegressor({ C: 0.3 })],
  [
    'PassiveAggressiveRegressor PA-II, averaged',
    () => new PassiveAggressiveRegressor({ loss: 'squared_epsilon_insensitive', average: 10 }),
  ],
]

interface LinearModel {
  readonly coef: Float64Array
  readonly intercept: Float64Array
  readonly t: number
}

/** Trains one model on the dense expansions and one on the sparse rows, batch by batch, comparing the bits. */
function trainBoth(
  make: Make,
  batches: readonly { X: SparseRows; y: Float64Array }[],
  classes: number,
): [SupervisedEstimator, SupervisedEstimator] {
  const dense = make()
  const sparse = make()
  if (!acceptsSparse(sparse)) throw new Error('expected the sparse capability')
  const labels = Array.from({ length: classes }, (_, k) => k)
  batches.forEach(({ X, y }, b) => {
    const weights = new Float64Array(X.rows).map((_, i) => 0.5 + ((i * 7) % 5) / 4)
    const options = b === 2 ? { sampleWeight: weights } : {}
    const counts = new Map(labels.map((c) => [c, 1 + c * 3]))
    if (dense.task === 'classification' && sparse.task === 'classification') {
      dense.partialFit(sparseToDense(X), y, { ...options, classes: labels, classCounts: counts })
      sparse.partialFitSparse(X, y, { ...options, classes: labels, classCounts: counts })
    } else if (dense.task === 'regression' && sparse.task === 'regression') {
      dense.partialFit(sparseToDense(X), y, options)
      sparse.partialFitSparse(X, y, options)
    }
    const d = dense as unknown as LinearModel
    const s = sparse as unknown as LinearModel
    expectSameBits64(s.coef, d.coef, `coef after batch ${b}`)
    expectSameBits64(s.intercept, d.intercept, `intercept after batch ${b}`)
    expect(s.t, `t after batch ${b}`).toBe(d.t)
  })
  expect(sparse.toJSON()).toEqual(dense.toJSON())
  return [dense, sparse]
}

/** Every prediction method, dense vs sparse, bit for bit. */
function comparePredictions(dense: SupervisedEstimator, sparse: SupervisedEstimator, X: SparseRows): void {
  const D = sparseToDense(X)
  if (!acceptsSparse(sparse)) throw new Error('expected the sparse capability')
  if (sparse.task === 'classification' && dense.task === 'classification') {
    expectSameBits64(sparse.decisionFunctionSparse(X), dense.decisionFunction(D), 'decisionFunction')
    expectSameBits64(sparse.predictSparse(X), dense.predict(D), 'predict')
    if (dense.hasProbabilities) expectSameBits64(sparse.predictProbaSparse(X), dense.predictProba(D), 'predictProba')
    else expect(() => sparse.predictProbaSparse(X)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    // The dense model scoring sparse rows and vice versa: the layout is not part of the model.
    expectSameBits64(dense.decisionFunction(D), (dense as SgdClassifier).decisionFunctionSparse(X), 'cross-layout')
  } else if (sparse.task === 'regression') {
    expectSameBits64(sparse.predictSparse(X), dense.predict(D), 'predict')
  }
}

describe('sparse input of the linear models: bit-identical to the dense methods', () => {
  for (const classes of [2, 3]) {
    for (const [name, make] of CLASSIFIERS) {
      it(`${name}, ${classes} classes: weights after each of 4 partialFit calls, then every prediction`, () => {
        const batches = [1, 2, 3, 4].map((seed) => oneHotRows(seed * 10 + classes, 150 + seed * 37, classes))
        const [dense, sparse] = trainBoth(make, batches, classes)
        comparePredictions(dense, sparse, oneHotRows(99, 400, classes).X)
      })
    }
  }

  for (const [name, make] of REGRESSORS) {
    it(`${name}: weights after each of 4 partialFit calls, then predict`, () => {
      const batches = [1, 2, 3, 4].map((seed) => oneHotRows(seed * 10, 150 + seed * 37, 0))
      const [dense, sparse] = trainBoth(make, batches, 0)
      comparePredictions(dense, sparse, oneHotRows(98, 400, 0).X)
    })
  }

  it('on fully dense rows (the dense kernel then runs its all-feature loops) too', () => {
    for (const [name, make] of [CLASSIFIERS[0]!, CLASSIFIERS[2]!, CLASSIFIERS[6]!]) {
      const batches = [1, 2, 3].map((seed) => denseRows(seed, 120, 9))
      const [dense, sparse] = trainBoth(make, batches, 2)
      comparePredictions(dense, sparse, denseRows(50, 100, 9).X)
      expect(name).toBeTruthy()
    }
  })

  it('the weights actually moved, and the -0 case happened (so the comparisons above can fail)', () => {
    const [, sparse] = trainBoth(CLASSIFIERS[4]![1], [oneHotRows(1, 300, 2)], 2)
    const coef = (sparse as SgdClassifier).coef
    expect(coef.some((w) => w !== 0)).toBe(true)
    expect(coef.some((w) => Object.is(w, -0))).toBe(true)
  })
})

describe('sparse input checks', () => {
  const { X, y } = oneHotRows(5, 20, 2)
  const fitted = (): SgdClassifier => {
    const model = new SgdClassifier()
    model.partialFitSparse(X, y, { classes: [0, 1] })
    return model
  }
  const withIndex = (row: number, entry: number, index: number): SparseRows => {
    const indices = X.indices.slice()
    indices[row * X.nnzPerRow + entry] = index
    return { ...X, indices }
  }

  it('rejects indices out of range, repeated or out of order, naming row and entry, and leaves the model unchanged', () => {
    const model = fitted()
    const before = model.toJSON()
    expect(() => model.partialFitSparse(withIndex(3, 2, N_FEATURES), y)).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: Sparse X row 3, entry 2: feature index 86 is outside [0, 86).]`,
    )
    expect(() => model.partialFitSparse(withIndex(0, 0, -1), y)).toThrowError(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    )
    expect(() => model.partialFitSparse(withIndex(4, 1, 0), y)).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: Sparse X row 4, entry 1: feature index 0 does not exceed the previous index 0 (indices must ascend strictly within a row).]`,
    )
    expect(() => model.decisionFunctionSparse(withIndex(7, 4, 1))).toThrowError(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    )
    expect(model.toJSON()).toEqual(before)
  })

  it('rejects a wrong width, mismatched arrays and a NaN value (INVALID_DATA naming row and feature)', () => {
    const model = fitted()
    const before = model.toJSON()
    expect(() => model.partialFitSparse({ ...X, cols: N_FEATURES + 1 }, y)).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: X has 87 features, but SgdClassifier was fitted with 86 features.]`,
    )
    expect(() => model.partialFitSparse({ ...X, rows: X.rows + 1 }, y)).toThrowError(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    )
    const values = X.values.slice()
    values[6 * X.nnzPerRow + 4] = Number.NaN
    expect(() => model.partialFitSparse({ ...X, values }, y)).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: X contains NaN at row 6, feature ${X.indices[6 * X.nnzPerRow + 4]}; SgdClassifier needs finite features (impute or drop missing values first).]`,
    )
    expect(() => model.predictProbaSparse({ ...X, values })).toThrowError(
      expect.objectContaining({ code: 'INVALID_DATA' }),
    )
    expect(model.toJSON()).toEqual(before)
    expect(() => new SgdClassifier().predictSparse(X)).toThrowError(expect.objectContaining({ code: 'NOT_FITTED' }))
  })

  it('zero rows change nothing; a model fitted on dense rows takes sparse rows', () => {
    const model = new SgdClassifier({ shuffle: false })
    const empty: SparseRows = sparseRows(new Int32Array(0), new Float32Array(0), {
      rows: 0,
      cols: N_FEATURES,
      nnzPerRow: NNZ,
    })
    model.partialFitSparse(empty, new Float64Array(0), { classes: [0, 1] })
    expect(model.isFitted).toBe(false)
    const dense: DenseMatrix = sparseToDense(X)
    model.partialFit(dense, y, { classes: [0, 1] })
    model.partialFitSparse(X, y)
    const reference = new SgdClassifier({ shuffle: false })
    reference.partialFit(dense, y, { classes: [0, 1] })
    reference.partialFit(dense, y)
    expectSameBits64(model.coef, reference.coef, 'coef')
  })
})

describe('acceptsSparse', () => {
  it('is true for the linear SGD models and false for models without sparse methods', () => {
    for (const [, make] of [...CLASSIFIERS, ...REGRESSORS]) expect(acceptsSparse(make())).toBe(true)
    expect(acceptsSparse(new GaussianNB())).toBe(false)
    expect(acceptsSparse(new MiniBatchKMeans())).toBe(false)
  })

  it('narrows a supervised estimator so the sparse methods of its kind type-check', () => {
    const model: SupervisedEstimator = new SgdClassifier({ shuffle: false })
    const { X, y } = oneHotRows(3, 50, 2)
    if (!acceptsSparse(model)) throw new Error('expected the sparse capability')
    if (model.task !== 'classification') throw new Error('expected a classifier')
    model.partialFitSparse(X, y, { classes: model.classes.length > 0 ? model.classes : [0, 1] })
    expect(model.predictProbaSparse(X)).toHaveLength(2 * X.rows)
    expect(model.decisionFunctionSparse(X)).toHaveLength(X.rows)
  })
})

describe('SgdWorkspace.permutation', () => {
  it('draws the permutation Random.permutation draws, leaving the generator in the same state', () => {
    const workspace = new SgdWorkspace()
    for (const rows of [1, 2, 17, 1000, 5]) {
      const a = new Random(rows)
      const b = new Random(rows)
      expect(Array.from(workspace.permutation(a, rows))).toEqual(Array.from(b.permutation(rows)))
      expect(a.getState()).toEqual(b.getState())
    }
  })
})
