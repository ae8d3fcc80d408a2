import { describe, expect, it } from 'vitest'
import { fromRows } from '../../core/matrix.js'
import { parseParamAssignments } from '../../core/params.js'
import type { ModelEntry } from '../catalog.js'
import type { Classifier } from '../estimator.js'
import { BAYES_CATALOG_ENTRIES } from './catalog-entries.js'
import { catchError } from './test-helpers/data.js'

// Type-level check: each entry fits MODEL_CATALOG's entry shape, so the catalog can spread them in as they are.
const asCatalogEntries: Record<keyof typeof BAYES_CATALOG_ENTRIES, ModelEntry<Classifier>> = BAYES_CATALOG_ENTRIES

describe('BAYES_CATALOG_ENTRIES', () => {
  it('lists the three classifiers by kind', () => {
    expect(Object.keys(asCatalogEntries)).toEqual(['gaussian-nb', 'multinomial-nb', 'bernoulli-nb'])
    for (const [name, entry] of Object.entries(asCatalogEntries)) {
      expect(entry.task).toBe('classification')
      const model = entry.create()
      expect(model.kind).toBe(name)
      expect(model.params).toEqual(entry.defaults)
    }
  })

  it('creates, trains and rebuilds each model from JSON with the same predictions', () => {
    const X = fromRows([
      [0, 1, 2],
      [1, 0, 0],
      [3, 1, 0],
      [0, 2, 1],
    ])
    const y = new Float64Array([0, 1, 1, 0])
    for (const entry of Object.values(asCatalogEntries)) {
      const model = entry.create()
      model.partialFit(X, y, { classes: [0, 1] })
      const again = entry.fromJSON(model.toJSON())
      expect(again.predictProba(X)).toEqual(model.predictProba(X))
    }
  })

  it('every constraint rejects an invalid value through validate (C2), and valid params pass', () => {
    for (const [name, entry] of Object.entries(asCatalogEntries)) {
      for (const [key, c] of Object.entries(entry.constraints)) {
        const invalid =
          c.kind === 'oneOf' ? '__nope__' : c.kind === 'bool' ? 'yes' : c.kind === 'int' ? 1.5 : Number.NaN
        expect(() => entry.validate({ [key]: invalid }), `${name}.${key}`).toThrow(new RegExp(`'${key}' parameter`))
      }
      expect(() => entry.validate({}), name).not.toThrow()
    }
  })

  it('validates the list-valued priors too', () => {
    expect(catchError(() => asCatalogEntries['gaussian-nb'].validate({ priors: [0.3, 0.3] })).code).toBe(
      'INVALID_PARAM',
    )
    expect(() => asCatalogEntries['gaussian-nb'].validate({ priors: [0.3, 0.7] })).not.toThrow()
    expect(catchError(() => asCatalogEntries['multinomial-nb'].validate({ classPrior: 'x' })).message).toMatch(
      /'classPrior' parameter of MultinomialNB must be null or a non-empty array/,
    )
    expect(() => asCatalogEntries['bernoulli-nb'].validate({ classPrior: [0.5, 0.5] })).not.toThrow()
  })

  it('parses CLI --param assignments with the constraint tables', () => {
    expect(
      parseParamAssignments('gaussian-nb', asCatalogEntries['gaussian-nb'].constraints, ['var_smoothing=1e-6']),
    ).toEqual({ varSmoothing: 1e-6 })
    expect(
      parseParamAssignments('bernoulli-nb', asCatalogEntries['bernoulli-nb'].constraints, [
        'binarize=None',
        'fit_prior=false',
        'alpha=0.5',
      ]),
    ).toEqual({ binarize: null, fitPrior: false, alpha: 0.5 })
  })
})
