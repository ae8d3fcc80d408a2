/**
 * Learning-rate schedules of stochastic gradient descent, as scikit-learn's `_sgd_fast` computes them, where `t`
 * is the 1-based count of rows the model has learned from (carried across `partialFit` calls). The two
 * passive-aggressive schedules are step rules rather than rates: the SGD kernel computes their step from the loss
 * and the row's squared norm (see `sgdEpoch`); here they only need a (constant) `eta` for the parts of the update
 * that read it.
 * @module
 */
import { type LossKind, lossGradient } from './losses.js'

/**
 * Numeric schedule identifiers (scikit-learn's `LEARNING_RATE_TYPES` values). `Pa1` and `Pa2` are the
 * passive-aggressive steps `min(C, loss / ||x||²)` and `loss / (||x||² + 1 / (2C))` (Crammer et al., 2006); they
 * are chosen by the passive-aggressive models, never by name, so `SCHEDULE_NAMES` leaves them out.
 */
export const ScheduleKind = { Constant: 1, Optimal: 2, InvScaling: 3, Adaptive: 4, Pa1: 5, Pa2: 6 } as const

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
 * The passive-aggressive schedules return `eta0`, as scikit-learn leaves `eta` there for them.
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
    case ScheduleKind.Pa1:
    case ScheduleKind.Pa2:
      return eta0
  }
}
