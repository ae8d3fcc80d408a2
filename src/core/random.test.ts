import { describe, expect, it } from 'vitest'
import { hashToUnit, Random } from './random.js'

describe('Random', () => {
  it('is reproducible from a seed and differs across seeds', () => {
    const a = new Random(42)
    const b = new Random(42)
    const c = new Random(43)
    const xs = Array.from({ length: 5 }, () => a.next())
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs)
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs)
  })

  it('draws uniform floats in [0, 1)', () => {
    const r = new Random(1)
    let sum = 0
    let min = 1
    let max = 0
    const n = 100_000
    for (let i = 0; i < n; i++) {
      const x = r.next()
      sum += x
      min = Math.min(min, x)
      max = Math.max(max, x)
    }
    expect(min).toBeGreaterThanOrEqual(0)
    expect(max).toBeLessThan(1)
    // mean of n uniforms has sd 0.289/sqrt(n) ≈ 0.0009; 5 sd
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.0046)
  })

  it('shuffles into a permutation and restores state', () => {
    const r = new Random(7)
    const p = r.permutation(1000)
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i))
    expect([...p]).not.toEqual(Array.from({ length: 1000 }, (_, i) => i))
    const state = r.getState()
    const next = r.next()
    r.setState(state)
    expect(r.next()).toBe(next)
  })

  it('hashes (seed, index) deterministically into [0, 1) with about the right frequency', () => {
    expect(hashToUnit(3, 10)).toBe(hashToUnit(3, 10))
    expect(hashToUnit(3, 10)).not.toBe(hashToUnit(4, 10))
    expect(hashToUnit(0, 5)).not.toBe(hashToUnit(0, 5 + 2 ** 32))
    let below = 0
    const n = 200_000
    for (let i = 0; i < n; i++) if (hashToUnit(9, i) < 0.1) below++
    expect(Math.abs(below / n - 0.1)).toBeLessThan(0.004)
  })
})
