import { describe, expect, it } from 'vitest'
import { int, oneOf, real } from '../core/params.js'
import { MODEL_CATALOG, MODEL_NAMES, modelEntry } from '../models/catalog.js'
import { defaultSearchSpace, distributionFromConstraint, MODELS_WITH_DEFAULT_SPACE } from './default-spaces.js'
import { categorical, checkSpaceForModel, uniform } from './space.js'

describe('default search spaces', () => {
  it('exist for every trainable supervised model in the catalog', () => {
    const supervised = MODEL_NAMES.filter((name) => {
      const entry = MODEL_CATALOG[name] as { task: string; trainable?: boolean }
      return entry.task !== 'clustering' && entry.trainable !== false
    })
    expect([...MODELS_WITH_DEFAULT_SPACE].sort()).toEqual([...supervised].sort())
  })

  it.each(MODELS_WITH_DEFAULT_SPACE)('fit the constraint table of %s', (model) => {
    const entry = modelEntry(model)
    const space = defaultSearchSpace(model, entry.constraints)
    expect(Object.keys(space).length).toBeGreaterThan(0)
    expect(() => checkSpaceForModel(space, { owner: model, constraints: entry.constraints })).not.toThrow()
  })

  it('searches GBDT over learning rate, leaves, min samples per leaf and L2', () => {
    expect(Object.keys(defaultSearchSpace('gbdt-classifier', modelEntry('gbdt-classifier').constraints))).toEqual([
      'learningRate',
      'maxLeaves',
      'minSamplesLeaf',
      'lambda',
    ])
  })

  it('derives closed sets and closed ranges from the constraint table', () => {
    const sgd = defaultSearchSpace('sgd-classifier', modelEntry('sgd-classifier').constraints)
    expect(sgd['penalty']).toEqual(categorical(['l2', 'l1', 'elasticnet', 'none']))
    expect(sgd['l1Ratio']).toEqual(uniform(0, 1))
    expect(distributionFromConstraint(oneOf('a', 'b'))).toEqual(categorical(['a', 'b']))
    expect(distributionFromConstraint(real({ min: 0, closed: 'left' }))).toBeUndefined()
    expect(distributionFromConstraint(real({ min: 0, max: 1, closed: 'right' }))).toBeUndefined()
    expect(distributionFromConstraint(int({ min: 1, max: 3 }))).toMatchObject({ type: 'int', low: 1, high: 3 })
  })

  it('refuses a model without one, saying to pass --space', () => {
    expect(() => defaultSearchSpace('minibatch-kmeans', {})).toThrow(
      /has no default search space; pass one with --space/,
    )
  })
})
