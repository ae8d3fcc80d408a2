import { describe, expect, it } from 'vitest'
import { ScalemlError } from './errors.js'
import {
  bool,
  type Constraints,
  int,
  oneOf,
  parseParamAssignments,
  real,
  toCamelCase,
  validateParams,
} from './params.js'

interface P {
  alpha: number
  maxIter: number
  learningRate: string
  fitIntercept: boolean
}
const C: Constraints<P> = {
  alpha: real({ min: 0, closed: 'left' }),
  maxIter: int({ min: 1 }),
  learningRate: oneOf('optimal', 'constant'),
  fitIntercept: bool(),
}

function messageOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ScalemlError)
    return (error as ScalemlError).message
  }
  throw new Error('expected a throw')
}

describe('validateParams', () => {
  it('accepts valid params', () => {
    expect(() =>
      validateParams('M', C, { alpha: 0, maxIter: 3, learningRate: 'optimal', fitIntercept: true }),
    ).not.toThrow()
  })

  it("uses scikit-learn's message shape", () => {
    expect(messageOf(() => validateParams('SgdClassifier', C, { alpha: -1 } as P))).toBe(
      "The 'alpha' parameter of SgdClassifier must be a float in the range [0, inf). Got -1 instead.",
    )
    expect(messageOf(() => validateParams('M', C, { maxIter: 1.5 } as P))).toContain(
      'must be an int in the range [1, inf)',
    )
    expect(messageOf(() => validateParams('M', C, { learningRate: 'fast' } as P))).toContain(
      'one of "optimal", "constant"',
    )
  })

  it('generates a failing value for every constraint kind', () => {
    const bad: Record<keyof P, unknown> = { alpha: -0.1, maxIter: 0, learningRate: 'x', fitIntercept: 'yes' }
    for (const [key, value] of Object.entries(bad)) {
      expect(() => validateParams('M', C, { [key]: value } as unknown as P), key).toThrow(ScalemlError)
    }
  })

  it('rejects unknown names and lists every problem', () => {
    try {
      validateParams('M', C, { alpha: -1, nope: 1 } as unknown as P)
      expect.unreachable()
    } catch (error) {
      expect((error as ScalemlError).issues.map((i) => i.path[0])).toEqual(['alpha', 'nope'])
    }
  })
})

describe('parseParamAssignments', () => {
  it('reads snake_case and camelCase keys with typed values', () => {
    expect(
      parseParamAssignments('M', C, ['alpha=0.001', 'max_iter=5', 'learning_rate=constant', 'fit_intercept=false']),
    ).toEqual({
      alpha: 0.001,
      maxIter: 5,
      learningRate: 'constant',
      fitIntercept: false,
    })
  })

  it('names the unknown key and the malformed assignment', () => {
    expect(messageOf(() => parseParamAssignments('M', C, ['gamma=1']))).toContain("no parameter 'gamma'")
    expect(messageOf(() => parseParamAssignments('M', C, ['alpha']))).toContain("key=value, got 'alpha'")
    expect(messageOf(() => parseParamAssignments('M', C, ['alpha=abc']))).toContain("'alpha' parameter")
  })

  it('converts snake_case', () => {
    expect(toCamelCase('n_iter_no_change')).toBe('nIterNoChange')
  })
})
