import { describe, expect, it } from 'vitest'
import { categorical, integer, loguniform, uniform } from '../space.js'
import { gridPoint, gridSampler, gridSize, gridValues } from './grid.js'
import { randomSampler } from './random.js'

describe('grid sampler', () => {
  it('takes every choice, short int ranges whole, and evenly spaced (log) points of longer ranges', () => {
    expect(gridValues(categorical(['a', null]))).toEqual(['a', null])
    expect(gridValues(integer(1, 4))).toEqual([1, 2, 3, 4])
    expect(gridValues(integer(0, 100, { step: 25 }))).toEqual([0, 25, 50, 75, 100])
    expect(gridValues(integer(0, 100))).toEqual([0, 25, 50, 75, 100])
    expect(gridValues(integer(1, 1000, { log: true }), 4)).toEqual([1, 10, 100, 1000])
    expect(gridValues(uniform(0, 1), 3)).toEqual([0, 0.5, 1])
    const lr = gridValues(loguniform(1e-4, 1), 5) as number[]
    expect(lr[0]).toBe(1e-4)
    expect(lr[4]).toBe(1)
    lr.slice(1, 4).forEach((v, i) => {
      expect(v).toBeCloseTo(10 ** (-3 + i), 12)
    })
  })

  it("enumerates configurations in scikit-learn's ParameterGrid order (sorted names, last fastest)", () => {
    const space = { b: categorical(['x', 'y', 'z']), a: integer(1, 2) }
    expect(gridSize(space)).toBe(6)
    const all = Array.from({ length: 6 }, (_, i) => gridPoint(space, i))
    expect(all).toEqual([
      { a: 1, b: 'x' },
      { a: 1, b: 'y' },
      { a: 1, b: 'z' },
      { a: 2, b: 'x' },
      { a: 2, b: 'y' },
      { a: 2, b: 'z' },
    ])
    const sampler = gridSampler()
    expect(sampler.size?.(space)).toBe(6)
    expect(sampler.sample({ space, number: 4, history: [] })).toEqual({ a: 2, b: 'y' })
    expect(() => sampler.sample({ space, number: 6, history: [] })).toThrow(/The grid has 6 configurations/)
  })
})

describe('random sampler', () => {
  it('gives trial n the same configuration whatever ran before it', () => {
    const space = { a: uniform(0, 1), b: categorical([1, 2, 3]) }
    const sampler = randomSampler({ seed: 5 })
    const alone = sampler.sample({ space, number: 7, history: [] })
    expect(alone).toEqual(randomSampler({ seed: 5 }).sample({ space, number: 7, history: [] }))
    expect(alone).not.toEqual(sampler.sample({ space, number: 8, history: [] }))
    expect(alone).not.toEqual(randomSampler({ seed: 6 }).sample({ space, number: 7, history: [] }))
  })
})
