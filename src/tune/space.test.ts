import { describe, expect, it } from 'vitest'
import { isScalemlError, type ScalemlError } from '../core/errors.js'
import { Random } from '../core/random.js'
import { modelEntry } from '../models/catalog.js'
import {
  canonicalSpace,
  categorical,
  checkSpaceForModel,
  contains,
  fromInternal,
  integer,
  internalBounds,
  loguniform,
  parseSearchSpace,
  sampleSpace,
  spaceDifferences,
  toInternal,
  uniform,
} from './space.js'

function thrown(fn: () => unknown): ScalemlError {
  try {
    fn()
  } catch (error) {
    if (isScalemlError(error)) return error
    throw error
  }
  throw new Error('expected a ScalemlError')
}

const gbdt = { owner: 'gbdt-classifier', constraints: modelEntry('gbdt-classifier').constraints }

describe('parseSearchSpace', () => {
  it('reads the four distribution types, snake_case names as camelCase, defaults spelled out', () => {
    const space = parseSearchSpace({
      learning_rate: { type: 'loguniform', low: 0.01, high: 0.3 },
      maxLeaves: { type: 'int', low: 8, high: 256, log: true },
      subsample: { type: 'uniform', low: 0.5, high: 1 },
      growPolicy: { type: 'categorical', choices: ['leafwise', 'depthwise'] },
      minSamplesLeaf: { type: 'int', low: 1, high: 9 },
    })
    expect(space).toEqual({
      learningRate: loguniform(0.01, 0.3),
      maxLeaves: integer(8, 256, { log: true }),
      subsample: uniform(0.5, 1),
      growPolicy: categorical(['leafwise', 'depthwise']),
      minSamplesLeaf: integer(1, 9),
    })
  })

  it('refuses an empty space', () => {
    const error = thrown(() => parseSearchSpace({}, 'space.json'))
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toMatch(/^space\.json is empty: name at least one hyperparameter/)
  })

  it('refuses a space that is not an object', () => {
    const error = thrown(() => parseSearchSpace([1, 2], 'space.json'))
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toContain('must be a JSON object')
  })

  it('collects every problem, each naming the parameter and the field', () => {
    const error = thrown(() =>
      parseSearchSpace({
        alpha: { type: 'loguniform', low: 0, high: 1 },
        beta: { type: 'normal', low: 0, high: 1 },
        gamma: { type: 'uniform', low: 2, high: 1 },
        delta: { type: 'int', low: 1.5, high: 4 },
        eps: { type: 'categorical', choices: [] },
        zeta: { type: 'uniform', low: 0 },
        eta: { type: 'int', low: 0, high: 10, log: true },
        theta: { type: 'uniform', low: 0, high: 1, stpe: 2 },
        l1_ratio: { type: 'uniform', low: 0, high: 1 },
        l1Ratio: { type: 'uniform', low: 0, high: 1 },
      }),
    )
    expect(error.code).toBe('INVALID_ARGUMENT')
    const paths = error.issues.map((i) => i.path.join('.'))
    expect(paths).toEqual([
      'alpha.low',
      'beta.type',
      'gamma.low',
      'delta.low',
      'eps.choices',
      'zeta.high',
      'eta.low',
      'theta.stpe',
      'l1Ratio',
    ])
    expect(error.message).toContain("'alpha' is loguniform, so low must be > 0; got 0.")
    expect(error.message).toContain(
      `'beta' has type "normal"; expected one of "uniform", "loguniform", "int", "categorical".`,
    )
    expect(error.message).toContain("'l1Ratio' and 'l1_ratio' name the same hyperparameter 'l1Ratio'")
  })

  it('refuses duplicate and non-scalar choices', () => {
    expect(thrown(() => parseSearchSpace({ a: { type: 'categorical', choices: ['x', 'x'] } })).message).toContain(
      'lists the choice "x" twice',
    )
    expect(thrown(() => parseSearchSpace({ a: { type: 'categorical', choices: [{}] } })).message).toContain(
      'must be a string, finite number, boolean or null',
    )
  })
})

describe('checkSpaceForModel', () => {
  it('accepts a space the model fits', () => {
    expect(() =>
      checkSpaceForModel(
        { learningRate: loguniform(0.01, 0.3), maxLeaves: integer(8, 64), maxDepth: categorical([null, 4, 8]) },
        gbdt,
      ),
    ).not.toThrow()
  })

  it('names a parameter the model does not have, and lists the known ones', () => {
    const error = thrown(() => checkSpaceForModel({ learningRat: loguniform(0.01, 0.3) }, gbdt))
    expect(error.code).toBe('INVALID_PARAM')
    expect(error.issues[0]!.path).toEqual(['learningRat'])
    expect(error.message).toContain(
      "The search space names 'learningRat', which gbdt-classifier does not have. Known parameters: learningRate,",
    )
  })

  it('refuses values outside the constraint, naming the parameter and the end', () => {
    const error = thrown(() =>
      checkSpaceForModel(
        { subsample: uniform(0.5, 1.5), growPolicy: categorical(['leafwise', 'sideways']), maxLeaves: integer(1, 8) },
        gbdt,
      ),
    )
    expect(error.issues.map((i) => i.path.join('.'))).toEqual([
      'subsample.high',
      'growPolicy.choice 1',
      'maxLeaves.low',
    ])
    expect(error.message).toContain(
      "search space 'subsample' high: The 'subsample' parameter of gbdt-classifier must be a float in the range (0, 1]. Got 1.5 instead.",
    )
  })

  it('refuses continuous distributions for integer parameters and ranges for categorical ones', () => {
    const error = thrown(() => checkSpaceForModel({ maxLeaves: uniform(8, 64), growPolicy: uniform(0, 1) }, gbdt))
    expect(error.message).toContain(`'maxLeaves' of gbdt-classifier takes whole numbers; use { "type": "int", … }`)
    expect(error.message).toContain(`'growPolicy' of gbdt-classifier takes one of "leafwise", "depthwise"`)
  })
})

describe('sampling and the internal domain', () => {
  const space = {
    lr: loguniform(1e-4, 1),
    n: integer(1, 1000, { log: true }),
    k: integer(0, 10, { step: 2 }),
    x: uniform(-1, 1),
    c: categorical(['a', 'b', 'c']),
  }

  it('draws the same configurations from the same seed, all inside the space', () => {
    const a = Array.from({ length: 200 }, (_, i) => sampleSpace(space, new Random(i)))
    const b = Array.from({ length: 200 }, (_, i) => sampleSpace(space, new Random(i)))
    expect(a).toEqual(b)
    for (const params of a) for (const [name, d] of Object.entries(space)) expect(contains(d, params[name]!)).toBe(true)
  })

  it('is uniform on the log scale for loguniform (as many draws per decade)', () => {
    const random = new Random(3)
    const decades = new Array(4).fill(0)
    for (let i = 0; i < 20_000; i++) {
      const v = sampleSpace({ lr: space.lr }, random).lr as number
      decades[Math.min(3, Math.floor(-Math.log10(v)))]++
    }
    for (const count of decades) expect(count / 20_000).toBeCloseTo(0.25, 1)
  })

  it('hits every value of an int grid and every choice', () => {
    const random = new Random(5)
    const ks = new Set<number>()
    const cs = new Set<string>()
    for (let i = 0; i < 500; i++) {
      const p = sampleSpace(space, random)
      ks.add(p.k as number)
      cs.add(p.c as string)
    }
    expect([...ks].sort((a, b) => a - b)).toEqual([0, 2, 4, 6, 8, 10])
    expect([...cs].sort()).toEqual(['a', 'b', 'c'])
  })

  it('maps values to the internal domain and back', () => {
    expect(toInternal(space.lr, 0.01)).toBeCloseTo(Math.log(0.01), 12)
    expect(fromInternal(space.lr, Math.log(0.01))).toBeCloseTo(0.01, 12)
    expect(internalBounds(space.n)).toEqual({ low: Math.log(0.5), high: Math.log(1000.5) })
    expect(fromInternal(space.n, Math.log(37.4))).toBe(37)
    expect(fromInternal(space.k, 4.9)).toBe(4)
    expect(fromInternal(space.k, 11)).toBe(10)
    expect(toInternal(space.c, 'b')).toBe(1)
    expect(fromInternal(space.c, 2.7)).toBe('c')
  })
})

describe('comparing spaces', () => {
  it('gives equal canonical forms for spaces that differ only in spelling or order', () => {
    const a = parseSearchSpace({
      max_leaves: { type: 'int', low: 8, high: 64 },
      alpha: { type: 'uniform', low: 0, high: 1 },
    })
    const b = { alpha: uniform(0, 1), maxLeaves: integer(8, 64, { log: false, step: 1 }) }
    expect(JSON.stringify(canonicalSpace(a))).toBe(JSON.stringify(canonicalSpace(b)))
    expect(spaceDifferences(a, b)).toEqual([])
  })

  it('names each parameter that changed, appeared or disappeared', () => {
    const stored = { alpha: uniform(0, 1), beta: integer(1, 4) }
    const given = { alpha: uniform(0, 2), gamma: categorical(['x']) }
    expect(spaceDifferences(stored, given)).toEqual([
      `'alpha' changed from {"type":"uniform","low":0,"high":1} to {"type":"uniform","low":0,"high":2}`,
      `'beta' is missing (stored: {"type":"int","low":1,"high":4,"log":false,"step":1})`,
      `'gamma' is new ({"type":"categorical","choices":["x"]})`,
    ])
  })
})
