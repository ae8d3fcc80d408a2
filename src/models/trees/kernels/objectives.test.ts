import { describe, expect, it } from 'vitest'
import { Random } from '../../../core/random.js'
import { addPendingLeafValues, type BoostBuffers, boostGradients, fastExp, OBJECTIVE } from './objectives.js'

describe('fastExp', () => {
  it('is within 2 ulp of Math.exp over [−700, 700] and clamps outside', () => {
    const rng = new Random(1)
    let worst = 0
    for (let i = 0; i < 200_000; i++) {
      const x = i < 100_000 ? (rng.next() - 0.5) * 40 : (rng.next() - 0.5) * 1400
      const exact = Math.exp(x)
      worst = Math.max(worst, Math.abs(fastExp(x) - exact) / exact)
    }
    expect(worst).toBeLessThan(4.5e-16)
    expect(fastExp(0)).toBe(1)
    expect(fastExp(1)).toBeCloseTo(Math.E, 15)
    expect(fastExp(800)).toBe(fastExp(700))
    expect(Number.isFinite(fastExp(800))).toBe(true)
    expect(fastExp(-800)).toBeLessThan(1e-300)
    expect(fastExp(-800)).toBeGreaterThanOrEqual(0)
  })
})

/** Buffers for `n` rows and `k` outputs with random margins, labels and weights. */
function buffers(n: number, k: number, label: (rng: Random) => number, weighted: boolean): BoostBuffers {
  const rng = new Random(7)
  return {
    margin: Float64Array.from({ length: n * k }, () => (rng.next() - 0.5) * 6),
    label: Float64Array.from({ length: n }, () => label(rng)),
    weight: weighted ? Float64Array.from({ length: n }, () => rng.next() * 2) : new Float64Array(0),
    leafOf: Uint16Array.from({ length: n * k }, () => rng.nextInt(5)),
    leafValues: Float64Array.from({ length: k * 8 }, () => rng.next() - 0.5),
    valueStride: 8,
    apply: new Uint8Array(k).fill(1),
    gradHess: new Float32Array(2 * n * k),
    expScratch: new Float64Array(k),
  }
}

describe('boostGradients', () => {
  it('adds the pending leaf values once, then writes XGBoost’s gradients and hessians, interleaved per output', () => {
    const n = 500
    const sigmoid = (m: number) => 1 / (1 + Math.exp(-m))
    for (const weighted of [false, true]) {
      // Binary log-loss.
      const b = buffers(n, 1, (rng) => rng.nextInt(2), weighted)
      const before = b.margin.slice()
      boostGradients(OBJECTIVE.logistic, 1, n, 1, b, 0, n)
      for (let r = 0; r < n; r++) {
        const m = before[r]! + b.leafValues[b.leafOf[r]!]!
        expect(b.margin[r]).toBe(m)
        const w = weighted ? b.weight[r]! : 1
        const p = sigmoid(m)
        expect(b.gradHess[2 * r]).toBeCloseTo((p - b.label[r]!) * w, 6)
        expect(b.gradHess[2 * r + 1]).toBeCloseTo(Math.max(p * (1 - p), 1e-16) * w, 6)
      }
      // Softmax over 3 classes, column-major margins; output 1 has no pending tree.
      const s = buffers(n, 3, (rng) => rng.nextInt(3), weighted)
      s.apply[1] = 0
      const m0 = s.margin.slice()
      boostGradients(OBJECTIVE.softmax, 3, n, 1, s, 0, n)
      for (let r = 0; r < n; r++) {
        const m = [0, 1, 2].map((c) => m0[c * n + r]! + (c === 1 ? 0 : s.leafValues[c * 8 + s.leafOf[c * n + r]!]!))
        const z = m.map((v) => Math.exp(v - Math.max(...m)))
        const sum = z.reduce((a, v) => a + v, 0)
        const w = weighted ? s.weight[r]! : 1
        for (let c = 0; c < 3; c++) {
          expect(s.margin[c * n + r]).toBe(m[c])
          const p = z[c]! / sum
          expect(s.gradHess[2 * (c * n + r)]).toBeCloseTo((p - (s.label[r] === c ? 1 : 0)) * w, 6)
          expect(s.gradHess[2 * (c * n + r) + 1]).toBeCloseTo(Math.max(2 * p * (1 - p), 1e-16) * w, 6)
        }
      }
      // Squared error and pseudo-Huber (δ = 2), on the rows [100, 300) only.
      for (const objective of [OBJECTIVE.squaredError, OBJECTIVE.pseudoHuber]) {
        const q = buffers(n, 1, (rng) => rng.next() * 4 - 2, weighted)
        const q0 = q.margin.slice()
        boostGradients(objective, 1, n, 2, q, 100, 300)
        for (let r = 0; r < n; r++) {
          if (r < 100 || r >= 300) {
            expect(q.margin[r]).toBe(q0[r])
            expect(q.gradHess[2 * r]).toBe(0)
            continue
          }
          const d = q.margin[r]! - q.label[r]!
          const w = weighted ? q.weight[r]! : 1
          const t = 1 + (d / 2) ** 2
          const g = objective === OBJECTIVE.squaredError ? d * w : (d / Math.sqrt(t)) * w
          const h = objective === OBJECTIVE.squaredError ? w : w / (t * Math.sqrt(t))
          expect(q.gradHess[2 * r]).toBeCloseTo(g, 5)
          expect(q.gradHess[2 * r + 1]).toBeCloseTo(h, 5)
        }
      }
    }
    expect(() =>
      boostGradients(
        42,
        1,
        n,
        1,
        buffers(n, 1, () => 0, false),
        0,
        n,
      ),
    ).toThrow(/unknown objective 42/)
  })

  it('addPendingLeafValues adds each pending tree’s values alone (what a fit does after its last round)', () => {
    const b = buffers(50, 2, () => 0, false)
    b.apply[0] = 0
    const before = b.margin.slice()
    addPendingLeafValues(b, 2, 50, 10, 40)
    for (let r = 0; r < 50; r++) {
      expect(b.margin[r]).toBe(before[r])
      const inside = r >= 10 && r < 40
      expect(b.margin[50 + r]).toBe(before[50 + r]! + (inside ? b.leafValues[8 + b.leafOf[50 + r]!]! : 0))
    }
  })
})
