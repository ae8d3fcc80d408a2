/**
 * Penalties of stochastic gradient descent. L2 is applied in the SGD loop as a multiplicative shrink of the
 * weight scale; L1 (and the L1 part of elastic net) uses the cumulative truncated gradient of Tsuruoka, Tsujii
 * and Ananiadou (2009), as scikit-learn does.
 * @module
 */

/** Numeric penalty identifiers (scikit-learn's `PENALTY_TYPES`). */
export const PenaltyKind = { None: 0, L1: 1, L2: 2, ElasticNet: 3 } as const

/** One of the `PenaltyKind` values. */
export type PenaltyKind = (typeof PenaltyKind)[keyof typeof PenaltyKind]

/** Penalty names; 'none' is scaleml's spelling of scikit-learn's `penalty=None`. */
export const PENALTY_NAMES = ['l2', 'l1', 'elasticnet', 'none'] as const

/** A penalty name. */
export type PenaltyName = (typeof PENALTY_NAMES)[number]

/** Maps a penalty name to its kernel identifier. */
export function penaltyKind(name: PenaltyName): PenaltyKind {
  switch (name) {
    case 'l2':
      return PenaltyKind.L2
    case 'l1':
      return PenaltyKind.L1
    case 'elasticnet':
      return PenaltyKind.ElasticNet
    case 'none':
      return PenaltyKind.None
  }
}

/** The L1 share of the penalty: pure L2 ignores `l1Ratio` (0), pure L1 forces it to 1, as scikit-learn does. */
export function effectiveL1Ratio(kind: PenaltyKind, l1Ratio: number): number {
  if (kind === PenaltyKind.L2) return 0
  if (kind === PenaltyKind.L1) return 1
  return l1Ratio
}

/**
 * Applies the cumulative L1 penalty to weights `w[offset .. offset + n)` stored as `wscale * w`.
 * `u` is the total L1 penalty every weight could have received so far in this pass; `q[j]` the penalty weight `j`
 * actually received. A weight is pulled toward zero by the difference and clipped at zero, never crossing it.
 * Every feature is visited: for dense rows scikit-learn treats every column (zeros included) as present.
 */
export function applyL1(w: Float64Array, offset: number, n: number, wscale: number, q: Float64Array, u: number): void {
  for (let j = 0; j < n; j++) {
    const z = w[offset + j]!
    const scaled = wscale * z
    if (scaled > 0) {
      w[offset + j] = Math.max(0, z - (u + q[j]!) / wscale)
    } else if (scaled < 0) {
      w[offset + j] = Math.min(0, z + (u - q[j]!) / wscale)
    }
    q[j]! += wscale * (w[offset + j]! - z)
  }
}
