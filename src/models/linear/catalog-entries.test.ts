import { describe, expect, it } from 'vitest'
import { fromRows } from '../../core/matrix.js'
import { parseParamAssignments } from '../../core/params.js'
import type { ModelEntry } from '../catalog.js'
import type { Classifier, Regressor } from '../estimator.js'
import { LINEAR_EXTRA_CATALOG_ENTRIES } from './catalog-entries.js'

// Compile-time proof that the entries have MODEL_CATALOG's entry shape.
const typed = {
  perceptron: LINEAR_EXTRA_CATALOG_ENTRIES.perceptron satisfies ModelEntry<Classifier>,
  'passive-aggressive-classifier': LINEAR_EXTRA_CATALOG_ENTRIES[
    'passive-aggressive-classifier'
  ] satisfies ModelEntry<Classifier>,
  'passive-aggressive-regressor': LINEAR_EXTRA_CATALOG_ENTRIES[
    'passive-aggressive-regressor'
  ] satisfies ModelEntry<Regressor>,
}

const X = fromRows([
  [0, 1],
  [1, 0],
  [1, 1],
])

describe('LINEAR_EXTRA_CATALOG_ENTRIES', () => {
  it('lists the perceptron and the passive-aggressive models with their task', () => {
    expect(Object.keys(LINEAR_EXTRA_CATALOG_ENTRIES)).toEqual([
      'perceptron',
      'passive-aggressive-classifier',
      'passive-aggressive-regressor',
    ])
    expect(typed.perceptron.task).toBe('classification')
    expect(typed['passive-aggressive-classifier'].task).toBe('classification')
    expect(typed['passive-aggressive-regressor'].task).toBe('regression')
  })

  it('creates models whose kind is their catalog name, and rebuilds them from JSON', () => {
    for (const [name, entry] of Object.entries(typed)) {
      const model = entry.create({ shuffle: false })
      expect(model.kind).toBe(name)
      expect(model.params['shuffle']).toBe(false)
      if (model.task === 'classification') model.partialFit(X, new Float64Array([0, 1, 1]), { classes: [0, 1] })
      else model.partialFit(X, new Float64Array([0.5, 1, 2]))
      const again = entry.fromJSON(model.toJSON())
      expect(again.kind).toBe(name)
      expect(again.predict(X)).toEqual(model.predict(X))
    }
  })

  it('defaults satisfy validate(); every constraint rejects an invalid value (C2)', () => {
    for (const [name, entry] of Object.entries(typed)) {
      expect(() => entry.validate({}), name).not.toThrow()
      expect(() => entry.validate(entry.defaults), name).not.toThrow()
      for (const [key, c] of Object.entries(entry.constraints)) {
        const invalid =
          c.kind === 'oneOf' ? '__nope__' : c.kind === 'bool' ? 'yes' : c.kind === 'int' ? 1.5 : Number.NaN
        expect(() => entry.validate({ [key]: invalid }), `${name}.${key}`).toThrow(new RegExp(`'${key}' parameter`))
      }
    }
  })

  it('parses CLI --param assignments with the constraint tables', () => {
    expect(
      parseParamAssignments('passive-aggressive-classifier', typed['passive-aggressive-classifier'].constraints, [
        'C=0.1',
        'loss=squared_hinge',
        'class_weight=balanced',
      ]),
    ).toEqual({ C: 0.1, loss: 'squared_hinge', classWeight: 'balanced' })
    expect(() => typed.perceptron.validate({ classWeight: { 0: 1, 1: 5 } })).not.toThrow()
    expect(() => typed['passive-aggressive-regressor'].validate({ C: -1 })).toThrow(
      /'C' parameter of PassiveAggressiveRegressor must be a float in the range \(0, inf\)/,
    )
  })
})
