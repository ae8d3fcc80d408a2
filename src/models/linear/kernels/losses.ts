/**
 * Loss functions of stochastic gradient descent on a margin `p = w·x + b` against a target `y` (±1 for
 * classification, the real target for regression), with the exact branches of scikit-learn's `_sgd_fast`
 * so that trajectories agree to rounding. Pure scalar functions; no allocation, no model knowledge.
 * @module
 */

/** Numeric loss identifiers, so the SGD loop dispatches on a small integer rather than a string. */
export const LossKind = {
  Hinge: 0,
  SquaredHinge: 1,
  Log: 2,
  ModifiedHuber: 3,
  Squared: 4,
  Huber: 5,
  EpsilonInsensitive: 6,
  SquaredEpsilonInsensitive: 7,
} as const

/** One of the `LossKind` values. */
export type LossKind = (typeof LossKind)[keyof typeof LossKind]

/** A loss and its one parameter: the hinge threshold, or epsilon for the Huber and epsilon-insensitive losses. */
export interface LossSpec {
  readonly kind: LossKind
  readonly param: number
}

/** Every loss name scaleml accepts (scikit-learn's spelling) with how it resolves given the model's `epsilon`. */
export const LOSS_NAMES = [
  'hinge',
  'log_loss',
  'modified_huber',
  'squared_hinge',
  'perceptron',
  'squared_error',
  'huber',
  'epsilon_insensitive',
  'squared_epsilon_insensitive',
] as const

/** A loss name. */
export type LossName = (typeof LOSS_NAMES)[number]

/** Resolves a loss name to its kernel spec; `epsilon` is used only by the losses that take it. */
export function lossSpec(name: LossName, epsilon: number): LossSpec {
  switch (name) {
    case 'hinge':
      return { kind: LossKind.Hinge, param: 1 }
    case 'perceptron':
      // The perceptron is the hinge loss with a zero margin threshold (scikit-learn's `Hinge(0.0)`).
      return { kind: LossKind.Hinge, param: 0 }
    case 'squared_hinge':
      return { kind: LossKind.SquaredHinge, param: 1 }
    case 'log_loss':
      return { kind: LossKind.Log, param: 0 }
    case 'modified_huber':
      return { kind: LossKind.ModifiedHuber, param: 0 }
    case 'squared_error':
      return { kind: LossKind.Squared, param: 0 }
    case 'huber':
      return { kind: LossKind.Huber, param: epsilon }
    case 'epsilon_insensitive':
      return { kind: LossKind.EpsilonInsensitive, param: epsilon }
    case 'squared_epsilon_insensitive':
      return { kind: LossKind.SquaredEpsilonInsensitive, param: epsilon }
  }
}

/** The loss at margin `p` for target `y`. */
export function lossValue(kind: LossKind, param: number, p: number, y: number): number {
  switch (kind) {
    case LossKind.Hinge: {
      const z = p * y
      return z <= param ? param - z : 0
    }
    case LossKind.SquaredHinge: {
      const z = param - p * y
      return z > 0 ? z * z : 0
    }
    case LossKind.Log: {
      const z = p * y
      // Beyond |z| = 18 the log term equals its asymptote to double precision; the shortcut avoids overflow.
      if (z > 18) return Math.exp(-z)
      if (z < -18) return -z
      return Math.log(1 + Math.exp(-z))
    }
    case LossKind.ModifiedHuber: {
      const z = p * y
      if (z >= 1) return 0
      if (z >= -1) return (1 - z) * (1 - z)
      return -4 * z
    }
    case LossKind.Squared:
      return 0.5 * (p - y) * (p - y)
    case LossKind.Huber: {
      const r = p - y
      const a = Math.abs(r)
      return a <= param ? 0.5 * r * r : param * a - 0.5 * param * param
    }
    case LossKind.EpsilonInsensitive: {
      const r = Math.abs(y - p) - param
      return Math.max(r, 0)
    }
    case LossKind.SquaredEpsilonInsensitive: {
      const r = Math.abs(y - p) - param
      return r > 0 ? r * r : 0
    }
  }
}

/** d(loss)/dp at margin `p` for target `y`. */
export function lossGradient(kind: LossKind, param: number, p: number, y: number): number {
  switch (kind) {
    case LossKind.Hinge:
      return p * y <= param ? -y : 0
    case LossKind.SquaredHinge: {
      const z = param - p * y
      return z > 0 ? -2 * y * z : 0
    }
    case LossKind.Log: {
      const z = p * y
      if (z > 18) return Math.exp(-z) * -y
      if (z < -18) return -y
      return -y / (Math.exp(z) + 1)
    }
    case LossKind.ModifiedHuber: {
      const z = p * y
      if (z >= 1) return 0
      if (z >= -1) return 2 * (1 - z) * -y
      return -4 * y
    }
    case LossKind.Squared:
      return p - y
    case LossKind.Huber: {
      const r = p - y
      if (Math.abs(r) <= param) return r
      return r > 0 ? param : -param
    }
    case LossKind.EpsilonInsensitive:
      if (y - p > param) return -1
      if (p - y > param) return 1
      return 0
    case LossKind.SquaredEpsilonInsensitive: {
      const z = y - p
      if (z > param) return -2 * (z - param)
      if (z < -param) return 2 * (-z - param)
      return 0
    }
  }
}
