/**
 * Learning-rate schedules of stochastic gradient descent, as scikit-learn's `_sgd_fast` computes them, where `t`
 * is the 1-based count of rows the model has learned from (carried across `partialFit` calls).
 * @module
 */
import { LossKind, lossGradient } from './losses.js'

/** Numeric schedule identifiers (scikit-learn's `LEARNING_RATE_TYPES` values). */
export const ScheduleKind = { Constant: 1, Optimal: 2, InvScaling: 3, Adaptive: 4 } as const

/** One of the `ScheduleKind` values. */
export type ScheduleKind = (typeof ScheduleKind)[keyof typeof ScheduleKind]

/** Schedule names (scikit-learn's spelling). */
export const SCHEDULE_NAMES = ['optimal', 'constant', 'invscaling', 'adaptive'] as const

/** A schedule name. */
export type ScheduleName = (typeof SCHEDULE_NAMES)[number]

/** Maps a schedule name to its kernel identifier. */
export function scheduleKind(name: ScheduleName): ScheduleKind {
  switch (name) {
    case 'optimal':
      return ScheduleKind.Optimal
    case 'constant':
      return ScheduleKind.Constant
    case 'invscaling':
      return ScheduleKind.InvScaling
    case 'adaptive':
      return ScheduleKind.Adaptive
  }
}

/**
 * The offset `t0` of the 'optimal' schedule `eta = 1 / (alpha (t0 + t - 1))`, chosen (Bottou's heuristic) so
 * that the first step equals `typw / max(1, dloss(-typw, 1))` with `typw = sqrt(1 / sqrt(alpha))`, the step
 * suited to a weight of typical size.
 */
export function optimalInit(alpha: number, loss: LossKind, lossParam: number): number {
  const typw = Math.sqrt(1 / Math.sqrt(alpha))
  const initialEta = typw / Math.max(1, lossGradient(loss, lossParam, -typw, 1))
  return 1 / (initialEta * alpha)
}

/**
 * The step size for the row counted `t`. 'adaptive' is constant within one pass: scikit-learn divides it by 5
 * only after `n_iter_no_change` epochs without improvement, which a single `partial_fit` epoch never reaches.
 */
export function learningRate(
  kind: ScheduleKind,
  eta0: number,
  alpha: number,
  powerT: number,
  t0: number,
  t: number,
): number {
  switch (kind) {
    case ScheduleKind.Optimal:
      return 1 / (alpha * (t0 + t - 1))
    case ScheduleKind.InvScaling:
      return eta0 / t ** powerT
    case ScheduleKind.Constant:
    case ScheduleKind.Adaptive:
      return eta0
  }
}
