import { describe, expect, it } from 'vitest'
import { decodePayload, encodePayload } from '../../core/codec.js'
import { ScalemlError } from '../../core/errors.js'
import { randomEnsemble, randomRows } from './predict/test-helpers.js'
import {
  TREE_ENSEMBLE_CATALOG_ENTRIES,
  TreeEnsembleClassifier,
  TreeEnsembleModel,
  TreeEnsembleRegressor,
} from './tree-ensemble-model.js'

const nFeatures = 5
const rows = 40
const X = { data: randomRows(nFeatures, rows, 4), rows, cols: nFeatures }
const binary = randomEnsemble({ nFeatures, nTrees: 10, depth: 4, objective: 'binary:logistic', seed: 1 })
const multi = randomEnsemble({ nFeatures, nTrees: 12, depth: 4, nOutputs: 3, seed: 2 })
const regression = randomEnsemble({ nFeatures, nTrees: 10, depth: 4, seed: 3 })

function codecRoundTrip(json: unknown): unknown {
  const { json: encoded, files } = encodePayload(json, { prefix: 'model' })
  const byName = new Map(files.map((f) => [f.name, f.bytes]))
  return decodePayload(JSON.parse(JSON.stringify(encoded)), (n) => byName.get(n))
}

describe('TreeEnsembleClassifier', () => {
  it('binary: probabilities are the sigmoid of the margins, labels follow them', () => {
    const model = TreeEnsembleClassifier.fromEnsemble(binary)
    expect(model.classes).toEqual([0, 1])
    expect(model.nFeaturesIn).toBe(nFeatures)
    const m = model.decisionFunction(X)
    const p = model.predictProba(X)
    const y = model.predict(X)
    expect(m.length).toBe(rows)
    for (let r = 0; r < rows; r++) {
      expect(p[2 * r + 1]).toBeCloseTo(1 / (1 + Math.exp(-m[r]!)), 14)
      expect(p[2 * r]! + p[2 * r + 1]!).toBeCloseTo(1, 14)
      expect(y[r]).toBe(m[r]! > 0 ? 1 : 0)
    }
  })

  it('multiclass: softmax rows sum to 1 and argmax is the label', () => {
    const model = TreeEnsembleClassifier.fromEnsemble(multi)
    expect(model.classes).toEqual([0, 1, 2])
    const p = model.predictProba(X)
    const y = model.predict(X)
    for (let r = 0; r < rows; r++) {
      const row = [...p.subarray(3 * r, 3 * r + 3)]
      expect(row.reduce((a, b) => a + b)).toBeCloseTo(1, 14)
      expect(y[r]).toBe(row.indexOf(Math.max(...row)))
    }
  })

  it('round-trips through toJSON, the registry codec and the catalog entry', () => {
    const model = TreeEnsembleClassifier.fromEnsemble(multi, { accumulate: 'float32' })
    const back = TREE_ENSEMBLE_CATALOG_ENTRIES['tree-ensemble-classifier'].fromJSON(
      codecRoundTrip(model.toJSON()) as ReturnType<typeof model.toJSON>,
    )
    expect(back.params).toEqual({ accumulate: 'float32' })
    expect(back.predictProba(X)).toEqual(model.predictProba(X))
    expect(TreeEnsembleModel.fromJSON(model.toJSON())).toBeInstanceOf(TreeEnsembleClassifier)
  })

  it('rejects a regression ensemble and a wrong kind', () => {
    expect(() => TreeEnsembleClassifier.fromEnsemble(regression)).toThrow(/regression; use TreeEnsembleRegressor/)
    const json = TreeEnsembleRegressor.fromEnsemble(regression).toJSON()
    expect(() => TreeEnsembleClassifier.fromJSON(json)).toThrow(/Expected kind 'tree-ensemble-classifier'/)
    expect(() =>
      TreeEnsembleClassifier.fromJSON({ ...json, kind: 'tree-ensemble-classifier', params: { accumulate: 'x' } }),
    ).toThrow(/params/)
  })
})

describe('TreeEnsembleRegressor', () => {
  it('predict equals decisionFunction (identity link) and the single-row path', () => {
    const model = TreeEnsembleModel.fromEnsemble(regression)
    expect(model).toBeInstanceOf(TreeEnsembleRegressor)
    const y = model.predict(X)
    expect(y).toEqual(model.decisionFunction(X))
    const out = new Float64Array(1)
    for (let r = 0; r < rows; r++) {
      model.decisionFunctionOne(X.data.subarray(r * nFeatures, (r + 1) * nFeatures), out)
      expect(out[0]).toBe(y[r])
    }
  })

  it('contributions sum to the prediction', () => {
    const model = TreeEnsembleRegressor.fromEnsemble(regression)
    const phi = model.contributions(X)
    const y = model.predict(X)
    for (let r = 0; r < rows; r++) {
      const sum = phi.subarray(r * (nFeatures + 1), (r + 1) * (nFeatures + 1)).reduce((a, b) => a + b)
      expect(sum).toBeCloseTo(y[r]!, 10)
    }
  })

  it('refuses to train, and checks the feature count', () => {
    const model = TreeEnsembleRegressor.fromEnsemble(regression)
    expect(() => model.partialFit()).toThrow(ScalemlError)
    expect(() => model.partialFit()).toThrow(/not incrementally trainable/)
    const shell = TREE_ENSEMBLE_CATALOG_ENTRIES['tree-ensemble-regressor'].create()
    expect(shell.isFitted).toBe(false)
    expect(() => shell.predict(X)).toThrow(/no ensemble/)
    const bad = { data: new Float32Array(rows * 4), rows, cols: 4 }
    try {
      model.predict(bad)
      expect.unreachable()
    } catch (error) {
      expect((error as ScalemlError).code).toBe('INVALID_INPUT')
      expect((error as ScalemlError).message).toMatch(/X has 4 features; the ensemble expects 5/)
    }
  })
})
