/**
 * One epoch of plain stochastic gradient descent for one linear output (a binary classifier, one class of a
 * one-vs-rest classifier, or a regressor), reproducing scikit-learn's `_plain_sgd` update by update: the weight
 * vector is kept as `wscale * w` so an L2 shrink costs O(1) instead of O(features), the learning rate follows
 * `t` (rows learned so far, carried across calls), and averaged SGD uses Bottou's lazy averaging trick. The same
 * loop runs the perceptron (hinge with threshold 0, constant rate) and the passive-aggressive algorithms (the
 * 'pa1' / 'pa2' schedules), and weights each update by its row's class weight times its sample weight.
 *
 * Rows are read from a row-major `Float32Array`; weights, accumulators and scratch buffers are `Float64Array`s the
 * caller owns. Nothing is allocated per row. On sparse batches (mostly zeros, as one-hot encodings produce) the
 * loops run over each row's nonzero features only, which is exact: adding `w * 0` or `0 * k` changes nothing
 * (save the sign of a weight that is exactly zero, which only the all-feature loops can flip). Rows that arrive as
 * sparse entries go through `sgdEpochSparse` (`sgd-epoch-sparse.ts`), which replays these nonzero loops.
 * @module
 */
import { LossKind, lossGradient, lossValue } from './losses.js'
import { applyL1, PenaltyKind } from './penalties.js'
import { learningRate, ScheduleKind } from './schedules.js'

/** Everything about the optimisation that is fixed for an epoch. */
export interface SgdSettings {
  readonly loss: LossKind
  /** Hinge threshold or epsilon (see `lossSpec`). */
  readonly lossParam: number
  readonly penalty: PenaltyKind
  readonly alpha: number
  /** The L1 share after `effectiveL1Ratio`. */
  readonly l1Ratio: number
  readonly schedule: ScheduleKind
  readonly eta0: number
  readonly powerT: number
  /** `optimalInit(...)` for the 'optimal' schedule; ignored otherwise. */
  readonly optimalInit: number
  /** The passive-aggressive `C` (the largest PA-I step, the PA-II slack cost); ignored by the other schedules. */
  readonly paC: number
  readonly fitIntercept: boolean
  /** 0: no averaging; otherwise averaging starts once `t >= average`. */
  readonly average: number
}

/** Scratch space reused across rows and calls; each array needs at least `nFeatures` entries. */
export interface SgdScratch {
  /** Indices of the nonzero features of the current row. */
  readonly nonzero: Int32Array
  /** Cumulative L1 penalty each weight received (only used with 'l1' and 'elasticnet'). */
  readonly q: Float64Array
}

/** Index of the intercept in the `scalars` in/out array of `sgdEpoch`. */
export const SCALAR_INTERCEPT = 0
/** Index of `t` (1-based count of rows learned from) in `scalars`. */
export const SCALAR_T = 1
/** Index of the averaged intercept in `scalars`. */
export const SCALAR_AVERAGE_INTERCEPT = 2

/** Below this weight scale the scale is folded into the weights, as scikit-learn does, to avoid underflow. */
export const WSCALE_RESET_THRESHOLD = 1e-9
/** Bound on |d loss / d p| that keeps one huge gradient from producing infinities (scikit-learn's MAX_DLOSS). */
export const MAX_DLOSS = 1e12

/** Allocates scratch buffers for `nFeatures` features. */
export function createSgdScratch(nFeatures: number): SgdScratch {
  return { nonzero: new Int32Array(nFeatures), q: new Float64Array(nFeatures) }
}

/**
 * Runs one SGD pass over `nRows` rows of `x` (row `order[r]` at step `r`, or row `r` when `order` is null).
 *
 * `y[row]` is the target (±1 for classification). Each update is multiplied by `positiveWeight` (rows with
 * `y > 0`) or `negativeWeight` (the others) times `sampleWeight[row]` (1 when null), as scikit-learn's
 * `update *= class_weight * sample_weight`; regressors pass 1 and 1. `w` holds this output's `nFeatures` weights
 * and is updated in place; `average` (or null) the averaged weights. `scalars` carries
 * `[intercept, t, averageIntercept]` in and out. `sparse` picks the loops over each row's nonzeros (see
 * `preferSparseLoops`); the result is the same either way.
 *
 * With the 'pa1' schedule a row whose features are all zero is skipped entirely, `t` included (scikit-learn's
 * `continue`), so `scalars[SCALAR_T]` can end below `t + nRows`; callers advance their own `t` by `nRows`.
 *
 * Returns -1 after a full pass, or the index of the row whose margin was not finite (a NaN or infinite feature,
 * or overflowed weights), stopping there with `w` and `scalars` partly updated: the caller must discard them.
 * Features are not checked beforehand, which saves a pass over the batch: any non-finite feature makes the
 * margin non-finite. Weights that overflow on the last update are the caller's to check.
 */
export function sgdEpoch(
  x: Float32Array,
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
  sparse: boolean,
): number {
  const { loss, lossParam, penalty, alpha, l1Ratio, schedule, eta0, powerT, optimalInit, fitIntercept, paC } = settings
  const averageStart = average === null ? 0 : settings.average
  const nonzero = scratch.nonzero
  const q = scratch.q
  const shrinks = penalty === PenaltyKind.L2 || penalty === PenaltyKind.ElasticNet
  const usesL1 = penalty === PenaltyKind.L1 || penalty === PenaltyKind.ElasticNet
  if (usesL1) q.fill(0, 0, nFeatures)
  const passiveAggressive = schedule === ScheduleKind.Pa1 || schedule === ScheduleKind.Pa2
  // scikit-learn flips the passive-aggressive step by the label for the hinge (classification) and by the sign of
  // the residual otherwise (regression).
  const classification = loss === LossKind.Hinge

  let intercept = scalars[SCALAR_INTERCEPT]!
  let t = scalars[SCALAR_T]!
  let averageIntercept = scalars[SCALAR_AVERAGE_INTERCEPT]!
  let wscale = 1
  // Lazy averaging (Bottou, "Stochastic gradient tricks", 2012): the running average is (avg + avgA * w) / avgB.
  let avgA = 0
  let avgB = 1
  let u = 0

  for (let r = 0; r < nRows; r++) {
    const row = order === null ? r : order[r]!
    const base = row * nFeatures

    let nnz = nFeatures
    let dot = 0
    if (sparse) {
      // Gathering the nonzero indices in the dot-product pass (a branch, well predicted on one-hot rows) is
      // faster on V8 than a branch-free gather followed by a separate pass.
      nnz = 0
      for (let j = 0; j < nFeatures; j++) {
        const v = x[base + j]!
        if (v !== 0) {
          dot += w[j]! * v
          nonzero[nnz++] = j
        }
      }
    } else {
      // One accumulator, in feature order: the same sum, rounding for rounding, as scikit-learn's loop.
      for (let j = 0; j < nFeatures; j++) dot += w[j]! * x[base + j]!
    }
    const p = dot * wscale + intercept
    // A non-finite margin means a NaN/Infinity feature in this row or weights that overflowed; either way the
    // pass is void, and the caller (which restores its snapshot) finds out which. Finite - finite is 0; else NaN.
    if (p - p !== 0) return row
    const target = y[row]!
    const eta = learningRate(schedule, eta0, alpha, powerT, optimalInit, t)
    let update: number
    if (passiveAggressive) {
      let sqnorm = 0
      if (sparse) {
        for (let k = 0; k < nnz; k++) {
          const v = x[base + nonzero[k]!]!
          sqnorm += v * v
        }
      } else {
        for (let j = 0; j < nFeatures; j++) {
          const v = x[base + j]!
          sqnorm += v * v
        }
      }
      const rowLoss = lossValue(loss, lossParam, p, target)
      if (schedule === ScheduleKind.Pa1) {
        // The step loss / 0 is undefined; scikit-learn skips the row outright (no averaging step, no t += 1).
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
      // Clamped at zero so that a too-large eta * alpha zeroes the weights instead of flipping their sign.
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
      if (sparse) {
        for (let k = 0; k < nnz; k++) {
          const j = nonzero[k]!
          w[j]! += x[base + j]! * step
        }
      } else {
        for (let j = 0; j < nFeatures; j++) w[j]! += x[base + j]! * step
      }
      if (fitIntercept) intercept += update
    }

    if (average !== null && averageStart <= t) {
      const nIter = t - averageStart + 1
      const mu = 1 / nIter
      if (update !== 0) {
        const negStep = -update / wscale
        if (sparse) {
          for (let k = 0; k < nnz; k++) {
            const j = nonzero[k]!
            average[j]! += avgA * x[base + j]! * negStep
          }
        } else {
          for (let j = 0; j < nFeatures; j++) average[j]! += avgA * x[base + j]! * negStep
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

/** Rows sampled to decide between the dense loops and the nonzero-index loops. */
const DENSITY_SAMPLE_ROWS = 64
/**
 * Below this share of nonzeros, gathering the nonzero indices first pays for itself (measured on V8: the index
 * pass costs about as much as one dense multiply-add loop, and saves two of them on one-hot-heavy rows).
 */
const SPARSE_DENSITY = 0.25

/**
 * Whether `sgdEpoch` should run its nonzero-index loops on this batch (judged on its first rows). Both paths give
 * identical results; this only picks the faster one.
 */
export function preferSparseLoops(
  x: Float32Array,
  nFeatures: number,
  order: Uint32Array | null,
  nRows: number,
): boolean {
  const sample = Math.min(nRows, DENSITY_SAMPLE_ROWS)
  let nonzeros = 0
  for (let r = 0; r < sample; r++) {
    const base = (order === null ? r : order[r]!) * nFeatures
    for (let j = 0; j < nFeatures; j++) nonzeros += x[base + j] !== 0 ? 1 : 0
  }
  return nonzeros < SPARSE_DENSITY * sample * nFeatures
}

/** Materialises the lazily kept average: `average = (average + avgA * w) / avgB`, with `w` still unscaled. */
export function foldAverage(w: Float64Array, average: Float64Array, n: number, avgA: number, avgB: number): void {
  const inv = 1 / avgB
  for (let j = 0; j < n; j++) average[j] = (average[j]! + avgA * w[j]!) * inv
}
