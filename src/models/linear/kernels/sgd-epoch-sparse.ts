/**
 * The SGD epoch of `sgd-epoch.ts` over sparse rows (ELLPACK: `nnzPerRow` stored entries per row, indices ascending),
 * update for update the pass `sgdEpoch` makes with its nonzero-index loops: each row's nonzero entries are visited
 * in ascending feature order for the margin, the squared norm and the weight and average updates, and stored
 * entries whose value is exactly 0 (±0) are skipped as `sgdEpoch` skips zero features, so the weights come out
 * bit-identical to `sgdEpoch` on the dense expansion. Everything that is not per-row work stays dense, as in
 * `sgdEpoch` and in scikit-learn's dense path: the L1 penalty visits every weight after every row, the weight
 * scale is folded into all weights, and the intercept moves by the full update (scikit-learn's sparse input would
 * decay it by 0.01 and penalise only the row's features; scaleml keeps one semantics for both layouts).
 *
 * The per-row update here must stay in step with `sgdEpoch`; the differential tests in `kernels.test.ts` and the
 * models' sparse tests compare the two bit for bit.
 * @module
 */
import { LossKind, lossGradient, lossValue } from './losses.js'
import { applyL1, PenaltyKind } from './penalties.js'
import { learningRate, ScheduleKind } from './schedules.js'
import {
  foldAverage,
  MAX_DLOSS,
  SCALAR_AVERAGE_INTERCEPT,
  SCALAR_INTERCEPT,
  SCALAR_T,
  type SgdScratch,
  type SgdSettings,
  WSCALE_RESET_THRESHOLD,
} from './sgd-epoch.js'

/**
 * `sgdEpoch` over sparse rows: row `row` is the entries `[row * nnzPerRow, (row + 1) * nnzPerRow)` of `indices`
 * and `values`; every index must be in `[0, nFeatures)` and ascend within its row (the caller checks). The other
 * arguments, the in/out `scalars`, the 'pa1' skip of all-zero rows and the return value are those of `sgdEpoch`:
 * -1 after a full pass, or the row whose margin was not finite (then `w` and `scalars` are partly updated and must
 * be discarded).
 */
export function sgdEpochSparse(
  indices: Int32Array,
  values: Float32Array,
  nnzPerRow: number,
  nFeatures: number,
  order: Uint32Array | null,
  nRows: number,
  y: Float64Array,
  sampleWeight: Float64Array | null,
  positiveWeight: number,
  negativeWeight: number,
  settings: SgdSettings,
  w: Float64Array,
  average: Float64Array | null,
  scalars: Float64Array,
  scratch: SgdScratch,
): number {
  const { loss, lossParam, penalty, alpha, l1Ratio, schedule, eta0, powerT, optimalInit, fitIntercept, paC } = settings
  const averageStart = average === null ? 0 : settings.average
  const q = scratch.q
  const shrinks = penalty === PenaltyKind.L2 || penalty === PenaltyKind.ElasticNet
  const usesL1 = penalty === PenaltyKind.L1 || penalty === PenaltyKind.ElasticNet
  if (usesL1) q.fill(0, 0, nFeatures)
  const passiveAggressive = schedule === ScheduleKind.Pa1 || schedule === ScheduleKind.Pa2
  const classification = loss === LossKind.Hinge

  let intercept = scalars[SCALAR_INTERCEPT]!
  let t = scalars[SCALAR_T]!
  let averageIntercept = scalars[SCALAR_AVERAGE_INTERCEPT]!
  let wscale = 1
  let avgA = 0
  let avgB = 1
  let u = 0

  for (let r = 0; r < nRows; r++) {
    const row = order === null ? r : order[r]!
    const start = row * nnzPerRow
    const end = start + nnzPerRow

    // Zero entries are skipped everywhere, as `sgdEpoch` skips zero features: adding w * 0 would not change the
    // margin, but adding 0 * step to a weight can turn a -0 weight into +0.
    let dot = 0
    for (let e = start; e < end; e++) {
      const v = values[e]!
      if (v !== 0) dot += w[indices[e]!]! * v
    }
    const p = dot * wscale + intercept
    if (p - p !== 0) return row
    const target = y[row]!
    const eta = learningRate(schedule, eta0, alpha, powerT, optimalInit, t)
    let update: number
    if (passiveAggressive) {
      let sqnorm = 0
      for (let e = start; e < end; e++) {
        const v = values[e]!
        if (v !== 0) sqnorm += v * v
      }
      const rowLoss = lossValue(loss, lossParam, p, target)
      if (schedule === ScheduleKind.Pa1) {
        if (sqnorm === 0) continue
        update = Math.min(paC, rowLoss / sqnorm)
      } else {
        update = rowLoss / (sqnorm + 0.5 / paC)
      }
      if (classification) update *= target
      else if (target - p < 0) update = -update
    } else {
      let dloss = lossGradient(loss, lossParam, p, target)
      if (dloss < -MAX_DLOSS) dloss = -MAX_DLOSS
      else if (dloss > MAX_DLOSS) dloss = MAX_DLOSS
      update = -eta * dloss
    }
    const classWeight = target > 0 ? positiveWeight : negativeWeight
    update *= sampleWeight === null ? classWeight : classWeight * sampleWeight[row]!

    if (shrinks) {
      wscale *= Math.max(0, 1 - (1 - l1Ratio) * eta * alpha)
      if (wscale < WSCALE_RESET_THRESHOLD) {
        if (average !== null) {
          foldAverage(w, average, nFeatures, avgA, avgB)
          avgA = 0
          avgB = 1
        }
        for (let j = 0; j < nFeatures; j++) w[j]! *= wscale
        wscale = 1
      }
    }
    if (update !== 0) {
      const step = update / wscale
      for (let e = start; e < end; e++) {
        const v = values[e]!
        if (v !== 0) w[indices[e]!]! += v * step
      }
      if (fitIntercept) intercept += update
    }

    if (average !== null && averageStart <= t) {
      const nIter = t - averageStart + 1
      const mu = 1 / nIter
      if (update !== 0) {
        const negStep = -update / wscale
        for (let e = start; e < end; e++) {
          const v = values[e]!
          if (v !== 0) average[indices[e]!]! += avgA * v * negStep
        }
      }
      if (nIter > 1) avgB /= 1 - mu
      avgA += mu * avgB * wscale
      averageIntercept += (intercept - averageIntercept) / nIter
    }

    if (usesL1) {
      u += l1Ratio * eta * alpha
      applyL1(w, 0, nFeatures, wscale, q, u)
    }
    t += 1
  }

  if (average !== null) foldAverage(w, average, nFeatures, avgA, avgB)
  if (wscale !== 1) for (let j = 0; j < nFeatures; j++) w[j]! *= wscale
  scalars[SCALAR_INTERCEPT] = intercept
  scalars[SCALAR_T] = t
  scalars[SCALAR_AVERAGE_INTERCEPT] = averageIntercept
  return -1
}
