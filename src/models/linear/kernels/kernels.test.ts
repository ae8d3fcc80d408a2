import { describe, expect, it } from 'vitest'
import { Random } from '../../../core/random.js'
import { firstNonFiniteF32, firstNonFiniteF64 } from './finite.js'
import { linearScores, logisticProba, modifiedHuberProba, sigmoid } from './linear-predict.js'
import { LOSS_NAMES, LossKind, lossGradient, lossSpec, lossValue } from './losses.js'
import { applyL1, effectiveL1Ratio, PenaltyKind } from './penalties.js'
import { learningRate, optimalInit, ScheduleKind } from './schedules.js'
import {
  createSgdScratch,
  preferSparseLoops,
  SCALAR_INTERCEPT,
  SCALAR_T,
  type SgdSettings,
  sgdEpoch,
} from './sgd-epoch.js'

describe('losses', () => {
  it('gradients match central finite differences of the loss for every loss, away from kinks', () => {
    for (const name of LOSS_NAMES) {
      const { kind, param } = lossSpec(name, 0.3)
      for (const y of [-1, 1, 0.7]) {
        for (const p of [-2.37, -0.61, 0.13, 0.77, 1.91, 25]) {
          const h = 1e-6
          const numeric = (lossValue(kind, param, p + h, y) - lossValue(kind, param, p - h, y)) / (2 * h)
          expect(lossGradient(kind, param, p, y), `${name} p=${p} y=${y}`).toBeCloseTo(numeric, 4)
        }
      }
    }
  })

  it('perceptron is the hinge with threshold 0; log loss uses its asymptotes beyond |z| = 18', () => {
    expect(lossSpec('perceptron', 0.1)).toEqual({ kind: LossKind.Hinge, param: 0 })
    expect(lossGradient(LossKind.Hinge, 0, 0.5, 1)).toBe(0)
    expect(lossGradient(LossKind.Hinge, 1, 0.5, 1)).toBe(-1)
    expect(lossValue(LossKind.Log, 0, -40, 1)).toBe(40)
    expect(lossGradient(LossKind.Log, 0, -40, 1)).toBe(-1)
    expect(lossGradient(LossKind.Log, 0, 0, 1)).toBe(-0.5)
  })
})

describe('schedules', () => {
  it('the passive-aggressive schedules leave eta at eta0', () => {
    expect(learningRate(ScheduleKind.Pa1, 1, 1, 0.5, 0, 7)).toBe(1)
    expect(learningRate(ScheduleKind.Pa2, 1, 1, 0.5, 0, 7)).toBe(1)
  })

  it('optimal: first step equals typw / max(1, dloss(-typw, 1)) and then decays as 1 / (alpha (t0 + t - 1))', () => {
    const alpha = 1e-4
    const t0 = optimalInit(alpha, LossKind.Log, 0)
    const typw = Math.sqrt(1 / Math.sqrt(alpha))
    expect(learningRate(ScheduleKind.Optimal, 0, alpha, 0, t0, 1)).toBeCloseTo(typw, 10)
    expect(learningRate(ScheduleKind.Optimal, 0, alpha, 0, t0, 11)).toBeCloseTo(1 / (alpha * (t0 + 10)), 15)
  })

  it('invscaling is eta0 / t^powerT; constant and adaptive are eta0', () => {
    expect(learningRate(ScheduleKind.InvScaling, 0.01, 0, 0.25, 0, 16)).toBeCloseTo(0.005, 15)
    expect(learningRate(ScheduleKind.Constant, 0.3, 1, 1, 1, 99)).toBe(0.3)
    expect(learningRate(ScheduleKind.Adaptive, 0.3, 1, 1, 1, 99)).toBe(0.3)
  })
})

describe('penalties', () => {
  it('L1 pulls weights toward zero by the outstanding penalty and clips at zero', () => {
    const w = new Float64Array([0.5, -0.05, 0])
    const q = new Float64Array(3)
    applyL1(w, 0, 3, 1, q, 0.1)
    expect(Array.from(w)).toEqual([0.4, 0, 0])
    expect(q[0]).toBeCloseTo(-0.1, 15)
    expect(q[1]).toBeCloseTo(0.05, 15)
    expect(effectiveL1Ratio(PenaltyKind.L2, 0.5)).toBe(0)
    expect(effectiveL1Ratio(PenaltyKind.L1, 0.5)).toBe(1)
    expect(effectiveL1Ratio(PenaltyKind.ElasticNet, 0.5)).toBe(0.5)
  })
})

describe('sgdEpoch', () => {
  const settings: SgdSettings = {
    loss: LossKind.Squared,
    lossParam: 0,
    penalty: PenaltyKind.L2,
    alpha: 0.1,
    l1Ratio: 0,
    schedule: ScheduleKind.Constant,
    eta0: 0.5,
    powerT: 0,
    optimalInit: 0,
    paC: 0,
    fitIntercept: true,
    average: 0,
  }

  it('does one hand-computed step: shrink by (1 - eta alpha), then w += -eta dloss x', () => {
    const w = new Float64Array([1, 2])
    const scalars = new Float64Array([0.5, 1, 0])
    sgdEpoch(
      new Float32Array([2, 0]),
      2,
      null,
      1,
      new Float64Array([1]),
      null,
      1,
      1,
      settings,
      w,
      null,
      scalars,
      createSgdScratch(2),
      false,
    )
    // p = 1*2 + 0.5 = 2.5; dloss = 1.5; update = -0.75; wscale = 0.95; w = 0.95 * w + update * x
    expect(w[0]).toBeCloseTo(0.95 * 1 - 0.75 * 2, 15)
    expect(w[1]).toBeCloseTo(0.95 * 2, 15)
    expect(scalars[SCALAR_INTERCEPT]).toBeCloseTo(-0.25, 15)
    expect(scalars[SCALAR_T]).toBe(2)
  })

  it('visits rows in the given order', () => {
    const x = new Float32Array([1, 0, 0, 1])
    const y = new Float64Array([1, -1])
    const run = (order: Uint32Array | null) => {
      const w = new Float64Array(2)
      sgdEpoch(
        x,
        2,
        order,
        2,
        y,
        null,
        1,
        1,
        settings,
        w,
        null,
        new Float64Array([0, 1, 0]),
        createSgdScratch(2),
        false,
      )
      return Array.from(w)
    }
    expect(run(new Uint32Array([0, 1]))).toEqual(run(null))
    expect(run(new Uint32Array([1, 0]))).not.toEqual(run(null))
  })

  it('gives bit-identical results with the dense and the nonzero-index loops, for every penalty and averaging', () => {
    const nRows = 200
    const nFeatures = 40
    const rng = new Random(3)
    const x = new Float32Array(nRows * nFeatures)
    const y = new Float64Array(nRows)
    for (let r = 0; r < nRows; r++) {
      x[r * nFeatures] = rng.next() - 0.5
      for (let g = 0; g < 3; g++) x[r * nFeatures + 1 + g * 13 + rng.nextInt(13)] = 1
      y[r] = x[r * nFeatures]! + (x[r * nFeatures + 1]! > 0 ? 1 : 0) > 0.2 ? 1 : -1
    }
    expect(preferSparseLoops(x, nFeatures, null, nRows)).toBe(true)
    expect(preferSparseLoops(new Float32Array(40).fill(1), 4, null, 10)).toBe(false)
    const variants: SgdSettings[] = [PenaltyKind.L2, PenaltyKind.L1, PenaltyKind.ElasticNet, PenaltyKind.None].map(
      (penalty) => ({ ...settings, loss: LossKind.Log, penalty, l1Ratio: 0.3, alpha: 0.01, eta0: 0.1, average: 5 }),
    )
    for (const schedule of [ScheduleKind.Pa1, ScheduleKind.Pa2]) {
      variants.push({ ...settings, loss: LossKind.Hinge, lossParam: 1, penalty: PenaltyKind.None, schedule, paC: 0.3 })
    }
    for (const s of variants) {
      const run = (sparse: boolean) => {
        const w = new Float64Array(nFeatures)
        const avg = new Float64Array(nFeatures)
        const scalars = new Float64Array([0, 1, 0])
        sgdEpoch(x, nFeatures, null, nRows, y, null, 1.5, 0.5, s, w, avg, scalars, createSgdScratch(nFeatures), sparse)
        return [...w, ...avg, ...scalars]
      }
      const sparse = run(true)
      expect(sparse.some((v) => v !== 0)).toBe(true)
      expect(sparse).toEqual(run(false))
    }
  })

  /** One step on one row from zero weights; returns [w..., intercept, t]. */
  function step(s: SgdSettings, row: number[], target: number, weights: [number, number] = [1, 1]): number[] {
    const w = new Float64Array(row.length)
    const scalars = new Float64Array([0, 1, 0])
    const x = Float32Array.from(row)
    const y = new Float64Array([target])
    sgdEpoch(
      x,
      row.length,
      null,
      1,
      y,
      null,
      weights[0],
      weights[1],
      s,
      w,
      null,
      scalars,
      createSgdScratch(row.length),
      false,
    )
    return [...w, scalars[SCALAR_INTERCEPT]!, scalars[SCALAR_T]!]
  }
  const pa: SgdSettings = {
    ...settings,
    loss: LossKind.Hinge,
    lossParam: 1,
    penalty: PenaltyKind.None,
    schedule: ScheduleKind.Pa1,
    paC: 1,
  }

  it('PA-I steps tau = min(C, loss / ||x||²) along y·x, and the intercept by tau·y', () => {
    // p = 0, hinge loss 1, ||x||² = 25: tau = 1 / 25 below C = 1; with C = 0.01 the cap binds.
    expect(step(pa, [3, 4], 1)).toEqual([3 * 0.04, 4 * 0.04, 0.04, 2])
    expect(step({ ...pa, paC: 0.01 }, [3, 4], -1)).toEqual([-0.03, -0.04, -0.01, 2])
  })

  it('PA-II steps tau = loss / (||x||² + 1 / (2C))', () => {
    const tau = 1 / (25 + 0.5 / 0.2)
    const [w0, w1, b] = step({ ...pa, schedule: ScheduleKind.Pa2, paC: 0.2 }, [3, 4], 1)
    expect(w0).toBe(3 * tau)
    expect(w1).toBe(4 * tau)
    expect(b).toBe(tau)
  })

  it('PA regression steps against the sign of the residual, by the epsilon-insensitive loss', () => {
    const reg: SgdSettings = { ...pa, loss: LossKind.EpsilonInsensitive, lossParam: 0.5 }
    // p = 0, y = -2: loss = 2 - 0.5 = 1.5, tau = min(1, 1.5 / 4) = 0.375, moving p down.
    expect(step(reg, [2, 0], -2)).toEqual([-0.75, 0, -0.375, 2])
    expect(step(reg, [2, 0], 0.4)).toEqual([0, 0, 0, 2])
  })

  it('PA-I skips an all-zero row entirely (t too), PA-II moves only the intercept on it', () => {
    expect(step(pa, [0, 0], 1)).toEqual([0, 0, 0, 1])
    expect(step({ ...pa, schedule: ScheduleKind.Pa2, paC: 0.2 }, [0, 0], 1)).toEqual([0, 0, 1 / (0.5 / 0.2), 2])
  })

  it('scales each update by the class weight of its row: positive weight for y > 0, negative weight otherwise', () => {
    const plain = step(pa, [3, 4], 1)
    expect(step(pa, [3, 4], 1, [2, 7])).toEqual(plain.map((v, i) => (i < 3 ? 2 * v : v)))
    const negative = step(pa, [3, 4], -1)
    expect(step(pa, [3, 4], -1, [2, 0.5])).toEqual(negative.map((v, i) => (i < 3 ? 0.5 * v : v)))
  })
})

describe('prediction kernels', () => {
  it('scores rows × outputs and turns margins into probabilities', () => {
    const out = new Float64Array(4)
    linearScores(
      new Float32Array([1, 2, 3, 4]),
      2,
      new Float64Array([1, -1, 0.5, 0.5]),
      new Float64Array([0, 1]),
      2,
      out,
      0,
      2,
    )
    expect(Array.from(out)).toEqual([-1, 2.5, -1, 4.5])
    const p = new Float64Array(4)
    logisticProba(new Float64Array([0, 2]), 2, 1, p)
    expect(Array.from(p)).toEqual([0.5, 0.5, 1 - sigmoid(2), sigmoid(2)])
    expect(sigmoid(-1000)).toBe(0)
    const mh = new Float64Array(4)
    modifiedHuberProba(new Float64Array([-1, -3]), 1, 2, mh)
    expect(Array.from(mh.subarray(0, 2))).toEqual([0.5, 0.5])
  })

  it('firstNonFinite finds NaN and ±Infinity and nothing else', () => {
    expect(firstNonFiniteF32(new Float32Array([1, -0, 3e38, 1, 2, 3]), 0, 6)).toBe(-1)
    expect(firstNonFiniteF32(new Float32Array([1, 2, 3, 4, 5, Number.NaN, Number.POSITIVE_INFINITY]), 0, 7)).toBe(5)
    expect(firstNonFiniteF32(new Float32Array([Number.NaN, 1]), 1, 2)).toBe(-1)
    expect(firstNonFiniteF64(new Float64Array([1, Number.NEGATIVE_INFINITY]), 0, 2)).toBe(1)
  })
})
