import { describe, expect, test } from 'vitest'
import { isScalemlError } from '../../core/errors.js'
import { Random } from '../../core/random.js'
import { HyperLogLog } from './hyperloglog.js'

function withinSE(sketch: HyperLogLog, exact: number, k = 3): void {
  const relative = Math.abs(sketch.estimate() - exact) / exact
  expect(relative).toBeLessThanOrEqual(k * sketch.standardError)
}

describe('HyperLogLog', () => {
  test('standard error is 1.04 / sqrt(m)', () => {
    expect(HyperLogLog.standardError(14)).toBeCloseTo(1.04 / 128, 12)
    expect(new HyperLogLog(10).standardError).toBeCloseTo(1.04 / 32, 12)
  })

  test('an empty sketch estimates 0 and tiny sets are nearly exact', () => {
    const sketch = new HyperLogLog()
    expect(sketch.estimate()).toBe(0)
    for (let i = 0; i < 10; i++) sketch.addNumber(i)
    expect(Math.round(sketch.estimate())).toBe(10)
  })

  test('100k distinct integers (each added 3 times) within 3 standard errors', () => {
    const sketch = new HyperLogLog()
    for (let rep = 0; rep < 3; rep++) for (let i = 0; i < 100_000; i++) sketch.addNumber(i)
    withinSE(sketch, 100_000)
  })

  test('100k random doubles and 100k strings within 3 standard errors of the exact count', () => {
    const random = new Random(42)
    const numbers = new HyperLogLog()
    const strings = new HyperLogLog()
    const exactNumbers = new Set<number>()
    const exactStrings = new Set<string>()
    for (let i = 0; i < 100_000; i++) {
      const v = Math.round(random.next() * 1e6) / 10 // duplicates happen
      numbers.addNumber(v)
      exactNumbers.add(v)
      const s = `user-${random.nextInt(150_000)}`
      strings.addString(s)
      exactStrings.add(s)
    }
    withinSE(numbers, exactNumbers.size)
    withinSE(strings, exactStrings.size)
  })

  test('accurate across the range: 1k, 20k, 60k (the classic bias zone), 1M', () => {
    for (const n of [1_000, 20_000, 60_000, 1_000_000]) {
      const sketch = new HyperLogLog()
      for (let i = 0; i < n; i++) sketch.addString(`k${i * 7919}`)
      withinSE(sketch, n)
    }
  })

  test('0 and -0 are one value, NaNs are one value', () => {
    const sketch = new HyperLogLog()
    sketch.addNumber(0)
    sketch.addNumber(-0)
    sketch.addNumber(Number.NaN)
    sketch.addNumber(Number.NaN)
    expect(Math.round(sketch.estimate())).toBe(2)
  })

  test('merge equals the sketch of the union, register for register', () => {
    const a = new HyperLogLog(12)
    const b = new HyperLogLog(12)
    const union = new HyperLogLog(12)
    for (let i = 0; i < 50_000; i++) {
      a.addNumber(i)
      union.addNumber(i)
    }
    for (let i = 30_000; i < 90_000; i++) {
      b.addNumber(i)
      union.addNumber(i)
    }
    const merged = new HyperLogLog(12).merge(a).merge(b)
    expect(merged.registers()).toEqual(union.registers())
    expect(merged.estimate()).toBe(union.estimate())
    withinSE(merged, 90_000)
  })

  test('merge refuses another precision; constructor refuses bad precision', () => {
    const error = (() => {
      try {
        new HyperLogLog(12).merge(new HyperLogLog(14))
      } catch (e) {
        return e
      }
    })()
    expect(isScalemlError(error, 'INVALID_ARGUMENT')).toBe(true)
    expect(() => new HyperLogLog(3)).toThrow(/precision must be an integer in \[4, 18\], got 3/)
  })

  test('JSON round trip keeps the estimate; corrupt registers are refused', () => {
    const sketch = new HyperLogLog(10)
    for (let i = 0; i < 5_000; i++) sketch.addString(String(i))
    const restored = HyperLogLog.fromJSON(JSON.parse(JSON.stringify(sketch.toJSON())))
    expect(restored.estimate()).toBe(sketch.estimate())
    expect(() => HyperLogLog.fromJSON({ precision: 12, registers: sketch.toJSON().registers })).toThrow(
      /do not match precision 12/,
    )
  })
})
