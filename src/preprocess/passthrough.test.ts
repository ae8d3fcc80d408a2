import { describe, expect, it } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import { batchFromRecords } from '../data/batch.js'
import { Passthrough } from './passthrough.js'
import { describeTransformerContract } from './transformer.contract.js'

describe('Passthrough', () => {
  describeTransformerContract({
    create: () => new Passthrough({ columns: ['amount', 'count'] }),
    fromJSON: Passthrough.fromJSON,
    incompatible: () => new Passthrough({ columns: ['count'] }),
    keepsMissingAsNaN: true,
  })

  it('writes values as float32 and keeps missing values as NaN', () => {
    const schema = {
      fields: [
        { name: 'a', type: 'float' as const, nullable: true },
        { name: 'b', type: 'int' as const, nullable: true },
      ],
    }
    const batch = batchFromRecords(schema, [
      { a: 1.1, b: 3 },
      { a: null, b: -2 },
    ])
    const step = new Passthrough({ columns: ['b', 'a'] })
    const out = new Float32Array(4)
    step.transform(batch, out, 2, 0)
    expect([...out.slice(0, 3)]).toEqual([3, Math.fround(1.1), -2])
    expect(out[3]).toBeNaN()
    expect(step.outputNames()).toEqual(['b', 'a'])
  })

  it('refuses an empty column list and a string column', () => {
    expect(() => new Passthrough({ columns: [] })).toThrow(/non-empty list/)
    const strings = batchFromRecords({ fields: [{ name: 's', type: 'string', nullable: false }] }, [{ s: 'x' }])
    try {
      new Passthrough({ columns: ['s'] }).partialFit(strings)
      expect.unreachable()
    } catch (error) {
      expect(isScalemlError(error, 'INVALID_DATA')).toBe(true)
    }
  })
})
