import { describe, expect, it } from 'vitest'
import { denseToSparse } from '../../../core/matrix.js'
import { Random } from '../../../core/random.js'
import { linearScores, linearScoresSparse } from './linear-predict.js'
import { LOSS_NAMES, LossKind, lossSpec } from './losses.js'
import { PenaltyKind } from './penalties.js'
import { ScheduleKind } from './schedules.js'
import { createSgdScratch, type SgdSettings, sgdEpoch } from './sgd-epoch.js'
import { sgdEpochSparse } from './sgd-epoch-sparse.js'

const N_ROWS = 300
const N_FEATURES = 45

/** One-hot-like rows: a numeric column (with exact 0 and -0), three indicator groups, some all-zero groups. */
function data(seed: number): { x: Float32Array; y: Float64Array; regression: Float64Array } {
  const rng = new Random(seed)
  const x = new Float32Array(N_ROWS * N_FEATURES)
  const y = new Float64Array(N_ROWS)
  const regression = new Float64Array(N_ROWS)
  for (let r = 0; r < N_ROWS; r++) {
    const u = rng.next()
    x[r * N_FEATURES] = u < 0.1 ? 0 : u < 0.15 ? -0 : (rng.next() - 0.5) * 3
    for (let g = 0; g < 3; g++) {
      if (rng.next() < 0.9) x[r * N_FEATURES + 1 + g * 14 + rng.nextInt(14)] = g === 2 ? -1 : 1
    }
    const margin = x[r * N_FEATURES]! + (x[r * N_FEATURES + 1]! + x[r * N_FEATURES + 2]! > 0 ? 1 : -0.5)
    y[r] = margin + rng.next() - 0.5 > 0 ? 1 : -1
    regression[r] = 2 * margin + rng.next()
  }
  return { x, y, regression }
}

const base: SgdSettings = {
  loss: 0,
  lossParam: 0,
  penalty: PenaltyKind.L2,
  alpha: 0.01,
  l1Ratio: 0.3,
  schedule: ScheduleKind.InvScaling,
  eta0: 0.1,
  powerT: 0.5,
  optimalInit: 0,
  paC: 0.3,
  fitIntercept: true,
  average: 0,
}

function variants(): [string, SgdSettings][] {
  const out: [string, SgdSettings][] = []
  for (const name of LOSS_NAMES) {
    const { kind, param } = lossSpec(name, 0.1)
    for (const penalty of [PenaltyKind.L2, PenaltyKind.L1, PenaltyKind.ElasticNet, PenaltyKind.None]) {
      for (const average of [0, 20]) {
        out.push([
          `${name} penalty ${penalty} average ${average}`,
          { ...base, loss: kind, lossParam: param, penalty, average },
        ])
      }
    }
  }
  for (const schedule of [ScheduleKind.Pa1, ScheduleKind.Pa2]) {
    const hinge = lossSpec('hinge', 0.1)
    const epsilon = lossSpec('epsilon_insensitive', 0.1)
    out.push([
      `pa ${schedule} classification`,
      { ...base, loss: hinge.kind, lossParam: hinge.param, penalty: PenaltyKind.None, schedule },
    ])
    out.push([
      `pa ${schedule} regression`,
      { ...base, loss: epsilon.kind, lossParam: epsilon.param, penalty: PenaltyKind.None, schedule, average: 7 },
    ])
  }
  // eta · alpha ≥ 1 clamps the weight scale to 0, which leaves -0 weights: the sign of zero must agree too.
  out.push([
    'clamped weight scale',
    { ...base, loss: lossSpec('log_loss', 0).kind, schedule: ScheduleKind.Constant, eta0: 1, alpha: 1 },
  ])
  return out
}

/** Every result of one epoch: weights, averages, scalars and the return value. */
function epoch(
  layout: 'dense' | 'dense-nonzero-loops' | 'sparse',
  s: SgdSettings,
  seed: number,
): { result: Float64Array; returned: number } {
  const { x, y, regression } = data(seed)
  // Squared, Huber and the epsilon-insensitive losses are the regression losses.
  const targets = s.loss >= LossKind.Squared ? regression : y
  const order = new Random(seed + 1).permutation(N_ROWS)
  const sampleWeight = new Float64Array(N_ROWS).map((_, i) => 0.5 + (i % 3) * 0.5)
  const w = new Float64Array(N_FEATURES)
  const avg = s.average > 0 ? new Float64Array(N_FEATURES) : null
  const scalars = new Float64Array([0.1, 3, 0])
  const scratch = createSgdScratch(N_FEATURES)
  let returned: number
  if (layout === 'sparse') {
    const X = denseToSparse({ data: x, rows: N_ROWS, cols: N_FEATURES })
    returned = sgdEpochSparse(
      X.indices,
      X.values,
      X.nnzPerRow,
      N_FEATURES,
      order,
      N_ROWS,
      targets,
      sampleWeight,
      1.5,
      0.7,
      s,
      w,
      avg,
      scalars,
      scratch,
    )
  } else {
    const loops = layout === 'dense-nonzero-loops'
    returned = sgdEpoch(
      x,
      N_FEATURES,
      order,
      N_ROWS,
      targets,
      sampleWeight,
      1.5,
      0.7,
      s,
      w,
      avg,
      scalars,
      scratch,
      loops,
    )
  }
  return { result: Float64Array.from([...w, ...(avg ?? []), ...scalars]), returned }
}

function expectSameBits(actual: Float64Array, expected: Float64Array, label: string): void {
  const a = new BigUint64Array(actual.buffer)
  const b = new BigUint64Array(expected.buffer)
  const first = a.findIndex((v, i) => v !== b[i])
  if (first >= 0) expect.fail(`${label}: value ${first} is ${actual[first]} vs ${expected[first]}`)
}

describe('sgdEpochSparse', () => {
  for (const [name, s] of variants()) {
    it(`is bit-identical to sgdEpoch's nonzero loops (and here its dense loops): ${name}`, () => {
      for (const seed of [1, 2]) {
        const sparse = epoch('sparse', s, seed)
        const nonzero = epoch('dense-nonzero-loops', s, seed)
        expect(sparse.returned).toBe(-1)
        expect(nonzero.returned).toBe(-1)
        expect(sparse.result.some((v, i) => i < N_FEATURES && v !== 0)).toBe(true)
        expectSameBits(sparse.result, nonzero.result, `seed ${seed} vs nonzero loops`)
        expectSameBits(sparse.result, epoch('dense', s, seed).result, `seed ${seed} vs dense loops`)
      }
    })
  }

  it('stops at the row whose margin is not finite, as sgdEpoch does', () => {
    const x = new Float32Array([1, 0, 0, 0, Number.NaN, 0, 0, 0, 1])
    const X = denseToSparse({ data: x, rows: 3, cols: 3 })
    const y = new Float64Array([1, -1, 1])
    const run = (order: Uint32Array | null) =>
      sgdEpochSparse(
        X.indices,
        X.values,
        X.nnzPerRow,
        3,
        order,
        3,
        y,
        null,
        1,
        1,
        base,
        new Float64Array(3),
        null,
        new Float64Array([0, 1, 0]),
        createSgdScratch(3),
      )
    expect(run(null)).toBe(1)
    expect(run(new Uint32Array([2, 1, 0]))).toBe(1)
    expect(
      sgdEpoch(
        x,
        3,
        null,
        3,
        y,
        null,
        1,
        1,
        base,
        new Float64Array(3),
        null,
        new Float64Array([0, 1, 0]),
        createSgdScratch(3),
        true,
      ),
    ).toBe(1)
  })
})

describe('linearScoresSparse', () => {
  it('gives the bits of linearScores on the dense expansion, for several outputs, explicit zeros and -0 included', () => {
    const { x } = data(5)
    const X = denseToSparse({ data: x, rows: N_ROWS, cols: N_FEATURES })
    expect(X.values.some((v) => v === 0)).toBe(true)
    const rng = new Random(9)
    const coef = Float64Array.from({ length: 3 * N_FEATURES }, () => (rng.next() - 0.5) * 1e3)
    const intercept = new Float64Array([0.1, -7, 1e-9])
    const dense = new Float64Array(N_ROWS * 3)
    const sparse = new Float64Array(N_ROWS * 3)
    linearScores(x, N_FEATURES, coef, intercept, 3, dense, 0, N_ROWS)
    linearScoresSparse(X.indices, X.values, X.nnzPerRow, N_FEATURES, coef, intercept, 3, sparse, 0, N_ROWS)
    expectSameBits(sparse, dense, 'scores')
  })
})
