import { describe, expect, it } from 'vitest'
import { Random } from '../../core/random.js'
import { erfcx, logNdtr, logNdtrDiff, ndtriExp, truncatedNormalDraw } from './normal.js'

// Reference values printed by scipy 1.10 (scipy.special.log_ndtr, erfcx, ndtri_exp) under /usr/bin/python3.11.
const LOG_NDTR: [number, number][] = [
  [-100, -5005.524208694205],
  [-40, -804.6084420137539],
  [-10, -53.23128515051248],
  [-5, -15.064998393988727],
  [-1, -1.841021645009264],
  [-0.1, -0.7761545927302731],
  [0, -Math.LN2],
  [0.5, -0.3689464152886563],
  [1.96, -0.02531564916428212],
  [5, -2.8665161296376305e-7],
  [10, -7.619853024160473e-24],
]
const ERFCX: [number, number][] = [
  [0, 1],
  [0.3, 0.7345993345676554],
  [1, 0.427583576155807],
  [2.4, 0.21849873453703333],
  [2.6, 0.20361324735670924],
  [5, 0.11070463773306861],
  [30, 0.018795888861416754],
]
const NDTRI_EXP: [number, number][] = [
  [-800, -39.88469483825668],
  [-50, -9.674825283612355],
  [-3.5, -1.877900581420045],
  [-1, -0.33747496376420244],
  [-0.1, 1.309617799458493],
  [-1e-10, 6.361340902411735],
]

const close = (got: number, want: number, rel: number) =>
  expect(Math.abs(got - want)).toBeLessThanOrEqual(rel * Math.max(Math.abs(want), 1e-300))

describe('normal distribution helpers (against scipy, 1e-12 relative)', () => {
  it.each(LOG_NDTR)('log Φ(%d)', (z, want) => close(logNdtr(z), want, 1e-12))
  it.each(ERFCX)('erfcx(%d)', (x, want) => close(erfcx(x), want, 1e-12))
  it.each(NDTRI_EXP)('inverse of log Φ at %d', (lp, want) => close(ndtriExp(lp), want, 1e-10))

  it('computes log(Φ(b) − Φ(a)) in both tails and across 0', () => {
    close(logNdtrDiff(-2, 1.5) - logNdtrDiff(-2, 1.5), 0, 1)
    // truncnorm(-2, 1.5).cdf(0.3) = (Φ(0.3) − Φ(−2)) / (Φ(1.5) − Φ(−2)); scipy: log = −0.42509848340207385
    close(logNdtrDiff(-2, 0.3) - logNdtrDiff(-2, 1.5), -0.42509848340207385, 1e-12)
    // Far upper tail equals the mirrored lower tail.
    close(logNdtrDiff(40, 41), logNdtrDiff(-41, -40), 1e-14)
    expect(Number.isFinite(logNdtrDiff(60, 61))).toBe(true)
    expect(logNdtrDiff(1, 1)).toBe(Number.NEGATIVE_INFINITY)
  })

  it('draws truncated normals inside the bounds, with the right mean, even deep in a tail', () => {
    const random = new Random(1)
    let sum = 0
    const n = 20_000
    for (let i = 0; i < n; i++) {
      const z = truncatedNormalDraw(-1, 2, random.next())
      expect(z).toBeGreaterThanOrEqual(-1)
      expect(z).toBeLessThanOrEqual(2)
      sum += z
    }
    // E[Z | −1 ≤ Z ≤ 2] = (φ(−1) − φ(2)) / (Φ(2) − Φ(−1)) = 0.22964; the standard error of the mean is ≈ 0.005.
    expect(Math.abs(sum / n - 0.22964)).toBeLessThan(0.015)
    for (let i = 0; i < 100; i++) {
      const z = truncatedNormalDraw(50, 52, random.next())
      expect(z).toBeGreaterThanOrEqual(50)
      expect(z).toBeLessThan(50.2)
    }
  })
})
