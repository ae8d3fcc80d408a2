/**
 * The scikit-learn 1.2.1 fixtures of `sgd-sklearn-fixtures.test.ts` and `linear-sklearn-fixtures.test.ts`, replayed
 * through the sparse methods: every case trains one model on the dense rows and one on the same rows as
 * `SparseRows`, call by call. The sparse model's coefficients, intercepts and `t` must be bit-identical to the
 * dense model's after every call (and so hold the fixtures' 1e-6 tolerance, checked too), and its decision values,
 * predictions and probabilities bit-identical on the held-out rows.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { DenseMatrix } from '../../core/matrix.js'
import { denseToSparse } from '../../core/matrix.js'
import type { BaseLinearClassifier } from './base-linear-classifier.js'
import type { BaseLinearRegressor } from './base-linear-regressor.js'
import type { ClassWeight } from './class-weight.js'
import { PassiveAggressiveClassifier, PassiveAggressiveRegressor } from './passive-aggressive.js'
import { Perceptron } from './perceptron.js'
import { SgdClassifier } from './sgd-classifier.js'
import { SgdRegressor } from './sgd-regressor.js'

interface Call {
  rows: [number, number]
  coef: number[]
  intercept: number[]
  t: number
}
interface Case {
  name: string
  params: Record<string, unknown>
  /** sklearn-sgd fixtures say `sparse`; sklearn-linear ones say `dataset`. */
  sparse?: boolean
  dataset?: 'dense' | 'sparse' | 'zeroRows'
  sampleWeight: boolean
  multiclass?: boolean
  classes?: number[]
  classCounts?: Record<string, number>
  calls: Call[]
  predict: number[]
}

const root = new URL('../../../test/fixtures/', import.meta.url)
const read = (path: string) => JSON.parse(readFileSync(new URL(path, root), 'utf8'))
const data = read('sklearn-sgd/data.json') as {
  nTrain: number
  nTest: number
  nFeatures: number
  xFloat32Base64: string
  yBinary: number[]
  yMulticlass: number[]
  yRegression: number[]
  sampleWeight: number[]
  sparse: { nFeatures: number; xFloat32Base64: string; yBinary: number[]; yRegression: number[] }
}
const zeroRows = (read('sklearn-linear/perceptron.json') as { zeroRows: number[] }).zeroRows

function float32s(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64')
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
}
const denseX = float32s(data.xFloat32Base64)
const sparseX = float32s(data.sparse.xFloat32Base64)
const zeroedX = denseX.slice()
for (const r of zeroRows) zeroedX.fill(0, r * data.nFeatures, (r + 1) * data.nFeatures)
const sampleWeights = Float64Array.from(data.sampleWeight)

function datasetOf(c: Case): 'dense' | 'sparse' | 'zeroRows' {
  return c.dataset ?? (c.sparse ? 'sparse' : 'dense')
}

function rowsOf(c: Case, a: number, b: number): DenseMatrix {
  const name = datasetOf(c)
  const all = name === 'sparse' ? sparseX : name === 'zeroRows' ? zeroedX : denseX
  const d = name === 'sparse' ? data.sparse.nFeatures : data.nFeatures
  return { data: all.slice(a * d, b * d), rows: b - a, cols: d }
}

function labels(c: Case, regression: boolean): Float64Array {
  const sparse = datasetOf(c) === 'sparse'
  if (regression) return Float64Array.from(sparse ? data.sparse.yRegression : data.yRegression)
  return Float64Array.from(sparse ? data.sparse.yBinary : c.multiclass ? data.yMulticlass : data.yBinary)
}

function expectSameBits(actual: Float64Array, expected: Float64Array, label: string): void {
  const a = new BigUint64Array(actual.buffer, actual.byteOffset, actual.length)
  const b = new BigUint64Array(expected.buffer, expected.byteOffset, expected.length)
  expect(a.length, label).toBe(b.length)
  const first = a.findIndex((x, i) => x !== b[i])
  if (first >= 0) expect.fail(`${label}: value ${first} is ${actual[first]} (sparse) vs ${expected[first]} (dense)`)
}

/** Largest |actual - expected| relative to max(|expected|, 1e-6 · max|expected|), as the dense fixture tests. */
function relErr(actual: ArrayLike<number>, expected: readonly number[]): number {
  const scale = Math.max(...expected.map(Math.abs))
  let worst = 0
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!
    worst = Math.max(worst, Math.abs(actual[i]! - e) / Math.max(Math.abs(e), 1e-6 * scale, Number.MIN_VALUE))
  }
  return worst
}

const TOL = 1e-6

type AnyLinearClassifier = BaseLinearClassifier<{ readonly classWeight: ClassWeight }, string>

function replayClassifier(c: Case, make: () => AnyLinearClassifier): void {
  const dense = make()
  const sparse = make()
  const y = labels(c, false)
  c.calls.forEach((call, i) => {
    const [a, b] = call.rows
    const options = {
      ...(i === 0 ? { classes: c.classes! } : {}),
      ...(c.classCounts ? { classCounts: c.classCounts } : {}),
      ...(c.sampleWeight ? { sampleWeight: sampleWeights.slice(a, b) } : {}),
    }
    const X = rowsOf(c, a, b)
    dense.partialFit(X, y.slice(a, b), options)
    sparse.partialFitSparse(denseToSparse(X), y.slice(a, b), options)
    expectSameBits(sparse.coef, dense.coef, `coef after call ${i + 1}`)
    expectSameBits(sparse.intercept, dense.intercept, `intercept after call ${i + 1}`)
    expect(sparse.t).toBe(dense.t)
    expect(relErr(sparse.coef, call.coef), `coef vs scikit-learn after call ${i + 1}`).toBeLessThan(TOL)
  })
  const test = rowsOf(c, data.nTrain, data.nTrain + data.nTest)
  const testSparse = denseToSparse(test)
  expectSameBits(sparse.decisionFunctionSparse(testSparse), dense.decisionFunction(test), 'decisionFunction')
  expect(Array.from(sparse.predictSparse(testSparse))).toEqual(c.predict)
  if (dense.hasProbabilities) {
    expectSameBits(sparse.predictProbaSparse(testSparse), dense.predictProba(test), 'predictProba')
  }
}

function replayRegressor(c: Case, make: () => BaseLinearRegressor<object, string>): void {
  const dense = make()
  const sparse = make()
  const y = labels(c, true)
  c.calls.forEach((call, i) => {
    const [a, b] = call.rows
    const options = c.sampleWeight ? { sampleWeight: sampleWeights.slice(a, b) } : {}
    const X = rowsOf(c, a, b)
    dense.partialFit(X, y.slice(a, b), options)
    sparse.partialFitSparse(denseToSparse(X), y.slice(a, b), options)
    expectSameBits(sparse.coef, dense.coef, `coef after call ${i + 1}`)
    expectSameBits(sparse.intercept, dense.intercept, `intercept after call ${i + 1}`)
    expect(relErr(sparse.coef, call.coef), `coef vs scikit-learn after call ${i + 1}`).toBeLessThan(TOL)
  })
  const test = rowsOf(c, data.nTrain, data.nTrain + data.nTest)
  expectSameBits(sparse.predictSparse(denseToSparse(test)), dense.predict(test), 'predict')
}

const classifierSuites: readonly [string, string, (params: Record<string, unknown>) => AnyLinearClassifier][] = [
  ['sklearn-sgd/classifier.json', 'SgdClassifier', (p) => new SgdClassifier({ ...p, shuffle: false })],
  ['sklearn-linear/perceptron.json', 'Perceptron', (p) => new Perceptron({ ...p, shuffle: false })],
  [
    'sklearn-linear/passive-aggressive-classifier.json',
    'PassiveAggressiveClassifier',
    (p) => new PassiveAggressiveClassifier({ ...p, shuffle: false }),
  ],
  [
    'sklearn-linear/sgd-class-weight.json',
    'SgdClassifier (class weights)',
    (p) => new SgdClassifier({ ...p, shuffle: false }),
  ],
]

const regressorSuites: readonly [
  string,
  string,
  (params: Record<string, unknown>) => BaseLinearRegressor<object, string>,
][] = [
  ['sklearn-sgd/regressor.json', 'SgdRegressor', (p) => new SgdRegressor({ ...p, shuffle: false })],
  [
    'sklearn-linear/passive-aggressive-regressor.json',
    'PassiveAggressiveRegressor',
    (p) => new PassiveAggressiveRegressor({ ...p, shuffle: false }),
  ],
]

for (const [file, name, make] of classifierSuites) {
  describe(`${name} on sparse rows: bit-identical to dense on the scikit-learn 1.2.1 fixtures (${file})`, () => {
    for (const c of (read(file) as { cases: Case[] }).cases) {
      it(c.name, () => replayClassifier(c, () => make(c.params)))
    }
  })
}

for (const [file, name, make] of regressorSuites) {
  describe(`${name} on sparse rows: bit-identical to dense on the scikit-learn 1.2.1 fixtures (${file})`, () => {
    for (const c of (read(file) as { cases: Case[] }).cases) {
      it(c.name, () => replayRegressor(c, () => make(c.params)))
    }
  })
}
