import { describe, expect, it } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import { fromRows } from '../core/matrix.js'
import { parseParamAssignments } from '../core/params.js'
import {
  createModel,
  MODEL_CATALOG,
  MODEL_FAMILIES,
  MODEL_NAMES,
  modelEntry,
  modelFromJSON,
  resolveModelName,
} from './catalog.js'

describe('model catalog', () => {
  it('lists every model with its task', () => {
    expect(MODEL_NAMES).toEqual([
      'sgd-classifier',
      'sgd-regressor',
      'perceptron',
      'passive-aggressive-classifier',
      'passive-aggressive-regressor',
      'gaussian-nb',
      'multinomial-nb',
      'bernoulli-nb',
      'minibatch-kmeans',
      'tree-ensemble-classifier',
      'tree-ensemble-regressor',
      'gbdt-classifier',
      'gbdt-regressor',
      'random-forest-classifier',
      'random-forest-regressor',
      'onnx-classifier',
      'onnx-regressor',
    ])
    expect(MODEL_CATALOG['gbdt-classifier'].training).toBe('fit')
    expect(MODEL_CATALOG['minibatch-kmeans'].task).toBe('clustering')
    expect(MODEL_CATALOG['gaussian-nb'].task).toBe('classification')
    expect(MODEL_CATALOG['sgd-classifier'].task).toBe('classification')
    expect(MODEL_CATALOG['sgd-regressor'].task).toBe('regression')
  })

  it('resolves family names by the task and keeps every other name', () => {
    expect(resolveModelName('gbdt', 'classification')).toBe('gbdt-classifier')
    expect(resolveModelName('gbdt', 'regression')).toBe('gbdt-regressor')
    expect(resolveModelName('random-forest', 'regression')).toBe('random-forest-regressor')
    expect(resolveModelName('perceptron', 'regression')).toBe('perceptron')
    for (const family of Object.values(MODEL_FAMILIES)) {
      expect(MODEL_NAMES).toContain(family.classification)
      expect(MODEL_NAMES).toContain(family.regression)
    }
  })

  it('creates models by name and rebuilds them from JSON by kind', () => {
    const model = createModel('sgd-classifier', { alpha: 0.001, shuffle: false })
    expect(model.kind).toBe('sgd-classifier')
    expect(model.params['alpha']).toBe(0.001)
    if (model.task !== 'classification') throw new Error('expected a classifier')
    const X = fromRows([
      [0, 1],
      [1, 0],
    ])
    model.partialFit(X, new Float64Array([0, 1]), { classes: [0, 1] })
    const again = modelFromJSON(model.toJSON())
    expect(again.kind).toBe('sgd-classifier')
    expect(again.predict(X)).toEqual(model.predict(X))
  })

  it('throws INVALID_ARGUMENT listing known names for an unknown model', () => {
    try {
      createModel('xgboost', {})
      expect.unreachable()
    } catch (error) {
      expect(isScalemlError(error, 'INVALID_ARGUMENT')).toBe(true)
      expect((error as Error).message).toBe(
        `Unknown model 'xgboost'. Known models: ${MODEL_NAMES.join(', ')} (and the families gbdt, random-forest, sgd, passive-aggressive, which train the classifier or the regressor by the target).`,
      )
    }
    expect(() => modelEntry('toString')).toThrow(/Unknown model 'toString'/)
  })

  it('parses CLI --param assignments with the constraint table, and validate() applies the cross-parameter rules', () => {
    const entry = MODEL_CATALOG['sgd-regressor']
    expect(
      parseParamAssignments('sgd-regressor', entry.constraints, [
        'learning_rate=constant',
        'eta0=0.5',
        'fit_intercept=false',
      ]),
    ).toEqual({
      learningRate: 'constant',
      eta0: 0.5,
      fitIntercept: false,
    })
    expect(() => entry.validate({ learningRate: 'constant', eta0: 0 })).toThrow(
      /'eta0' parameter of SgdRegressor must be > 0/,
    )
    expect(() => entry.validate({ learningRate: 'constant', eta0: 0.1 })).not.toThrow()
  })

  it('every constraint rejects an invalid value (C2)', () => {
    const invalid: Record<string, unknown> = {}
    for (const [name, entry] of Object.entries(MODEL_CATALOG)) {
      for (const [key, c] of Object.entries(entry.constraints)) {
        invalid[key] = c.kind === 'oneOf' ? '__nope__' : c.kind === 'bool' ? 'yes' : c.kind === 'int' ? 1.5 : Number.NaN
        expect(() => entry.validate({ [key]: invalid[key] }), `${name}.${key}`).toThrow(
          new RegExp(`'${key}' parameter`),
        )
      }
    }
  })
})
