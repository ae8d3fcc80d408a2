import { describe, expect, it } from 'vitest'
import { CompensatedSum } from './compensated-sum.js'
import { decodeNumber, encodeNumber, MetricJSONReader } from './metric.js'

describe('CompensatedSum', () => {
  it('keeps the digits a naive sum loses (1 + 1e-16 × 1e6)', () => {
    const sum = new CompensatedSum()
    let naive = 1
    sum.add(1)
    for (let i = 0; i < 1_000_000; i++) {
      sum.add(1e-16)
      naive += 1e-16
    }
    expect(naive).toBe(1)
    expect(Math.abs(sum.value - (1 + 1e-10))).toBeLessThan(1e-15)
  })

  it('merges shards to the same total', () => {
    const a = new CompensatedSum()
    const b = new CompensatedSum()
    const all = new CompensatedSum()
    for (let i = 0; i < 1000; i++) {
      const x = Math.sin(i) * 10 ** (i % 7)
      ;(i % 2 ? a : b).add(x)
      all.add(x)
    }
    a.addSum(b)
    expect(Math.abs(a.value - all.value)).toBeLessThanOrEqual(Math.abs(all.value) * 1e-15)
    expect(CompensatedSum.from(a.toJSON()).value).toBe(a.value)
  })
})

describe('JSON helpers', () => {
  it('encode non-finite numbers as strings and decode them back', () => {
    for (const x of [1.5, -0.25, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(decodeNumber(JSON.parse(JSON.stringify(encodeNumber(x))))).toBe(x)
    }
    expect(decodeNumber(encodeNumber(Number.NaN))).toBeNaN()
    expect(decodeNumber('1')).toBeUndefined()
  })

  it('MetricJSONReader names the bad field in an INVALID_INPUT error with an issue path', () => {
    const json = { kind: 'x', version: 1, params: {}, state: { values: [1, 'oops'] } }
    const reader = new MetricJSONReader('X', 'x', json)
    expect(() => reader.numbers('values')).toThrowError(
      expect.objectContaining({
        code: 'INVALID_INPUT',
        message: 'X.fromJSON: state.values.1 must be a number; got "oops".',
        issues: [expect.objectContaining({ path: ['state', 'values', 1] })],
      }),
    )
    expect(() => new MetricJSONReader('X', 'x', { ...json, version: 2 })).toThrowError(/version must be 1; got 2/)
    expect(() => new MetricJSONReader('X', 'x', null)).toThrowError(/the value must be an object/)
    expect(reader.optionalNumbers('missing')).toBeUndefined()
  })
})
