import { describe, expect, it } from 'vitest'
import { isScalemlError } from '../../core/errors.js'
import { parseParamAssignments } from '../../core/params.js'
import { TREE_CATALOG_ENTRIES } from './catalog-entries.js'

describe('TREE_CATALOG_ENTRIES', () => {
  it('creates, validates and reloads every tree model', () => {
    const X = { data: Float32Array.from({ length: 80 }, (_, i) => (i * 7) % 11), rows: 40, cols: 2 }
    const y = Float64Array.from({ length: 40 }, (_, r) => (X.data[2 * r]! > 5 ? 1 : 0))
    for (const [name, entry] of Object.entries(TREE_CATALOG_ENTRIES)) {
      expect(entry.training).toBe('fit')
      const model = entry.create({ nEstimators: 3 })
      expect(model.kind).toBe(name)
      expect(model.task).toBe(entry.task)
      model.fit(X, y)
      const again = entry.fromJSON(model.toJSON())
      expect(again.predict(X)).toEqual(model.predict(X))
      expect(() => entry.validate({ nEstimators: 0 })).toThrow(/nEstimators/)
      let code: string | undefined
      try {
        entry.validate({ noSuchParam: 1 })
      } catch (error) {
        code = isScalemlError(error) ? error.code : undefined
      }
      expect(code).toBe('INVALID_PARAM')
      // Every default is valid, and the table parses CLI assignments.
      entry.validate({})
      expect(parseParamAssignments(name, entry.constraints, ['n_estimators=7'])).toEqual({ nEstimators: 7 })
    }
  })
})
