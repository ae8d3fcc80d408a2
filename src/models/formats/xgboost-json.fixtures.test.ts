import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { predictLeavesInto, predictMarginsInto } from '../trees/predict/traverse.js'
import { TreeEnsembleClassifier, TreeEnsembleRegressor } from '../trees/tree-ensemble-model.js'
import { treeShap } from '../trees/tree-shap.js'
import { importXgboostJson, parseXgboostJson } from './xgboost-json.js'

const DIR = fileURLToPath(new URL('../../../test/fixtures/xgboost/', import.meta.url))

interface Expected {
  readonly objective: string
  readonly rows: number
  readonly cols: number
  readonly X: (number | null)[]
  readonly margin: number[]
  readonly pred: number[]
  readonly contribs: number[]
  readonly leaves: number[]
}

function load(name: string) {
  const text = readFileSync(`${DIR}${name}.model.json`, 'utf8')
  const expected = JSON.parse(readFileSync(`${DIR}${name}.expected.json`, 'utf8')) as Expected
  const data = Float32Array.from(expected.X, (x) => (x === null ? Number.NaN : x))
  return { text, expected, X: { data, rows: expected.rows, cols: expected.cols } }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
  return worst
}

const CASES = [
  'binary-logistic-categorical',
  'multi-softprob',
  'reg-squarederror-categorical',
  'reg-pseudohubererror',
] as const

describe.each(CASES)('XGBoost 1.7.4 fixture %s', (name) => {
  const { text, expected, X } = load(name)
  const { ensemble } = parseXgboostJson(text)

  it('has missing values (and categories where named) in its inputs', () => {
    expect(expected.X.some((x) => x === null)).toBe(true)
    expect(ensemble.objective).toBe(expected.objective)
    if (name.includes('categorical')) expect(ensemble.categorical.some((c) => c === 1)).toBe(true)
  })

  it('reaches the same leaves as pred_leaf', () => {
    const nTrees = ensemble.treeGroup.length
    const leaves = new Int32Array(X.rows * nTrees)
    predictLeavesInto(ensemble, X.data, X.rows, leaves)
    // Our ids are preorder-renumbered; compare leaf values instead of ids, and the count of distinct leaves.
    const model = JSON.parse(text.replaceAll('NaN', 'null')) as {
      learner: { gradient_booster: { model: { trees: { split_conditions: number[] }[] } } }
    }
    const trees = model.learner.gradient_booster.model.trees
    for (let r = 0; r < X.rows; r++) {
      for (let t = 0; t < nTrees; t++) {
        const theirs = trees[t]!.split_conditions[expected.leaves[r * nTrees + t]!]!
        expect(ensemble.value[leaves[r * nTrees + t]!]).toBe(Math.fround(theirs))
      }
    }
  })

  it('reproduces output_margin bit for bit with float32 sums, and within 1e-6 with float64 sums', () => {
    const out = new Float64Array(expected.margin.length)
    predictMarginsInto(ensemble, X.data, X.rows, out, { float32: true })
    expect(maxAbsDiff(out, expected.margin)).toBe(0)
    predictMarginsInto(ensemble, X.data, X.rows, out)
    expect(maxAbsDiff(out, expected.margin)).toBeLessThan(1e-6)
  })

  it('reproduces predict() within 1e-6 through the estimator', () => {
    const model = importXgboostJson(text)
    if (model instanceof TreeEnsembleClassifier) {
      const proba = model.predictProba(X)
      if (expected.objective === 'binary:logistic') {
        const p1 = proba.filter((_, i) => i % 2 === 1)
        expect(maxAbsDiff(p1, expected.pred)).toBeLessThan(1e-6)
        const labels = model.predict(X)
        labels.forEach((label, r) => {
          expect(label).toBe(expected.pred[r]! > 0.5 ? 1 : 0)
        })
      } else {
        expect(maxAbsDiff(proba, expected.pred)).toBeLessThan(1e-6)
      }
      expect(maxAbsDiff(model.decisionFunction(X), expected.margin)).toBe(0)
    } else {
      expect(model).toBeInstanceOf(TreeEnsembleRegressor)
      expect(maxAbsDiff(model.predict(X), expected.pred)).toBeLessThan(1e-6)
    }
  })

  it('reproduces pred_contribs within 1e-5, and contributions sum to the margin', () => {
    const phi = treeShap(ensemble, X)
    expect(maxAbsDiff(phi, expected.contribs)).toBeLessThan(1e-5)
    const width = ensemble.nFeatures + 1
    const margins = new Float64Array(X.rows * ensemble.nOutputs)
    predictMarginsInto(ensemble, X.data, X.rows, margins)
    for (let g = 0; g < margins.length; g++) {
      let sum = 0
      for (let j = 0; j < width; j++) sum += phi[g * width + j]!
      expect(Math.abs(sum - margins[g]!)).toBeLessThan(1e-9)
    }
  })
})
