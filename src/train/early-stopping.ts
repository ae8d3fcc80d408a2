/**
 * scikit-learn's SGD stopping rule as plain, serializable state: after each epoch a score is compared with the best
 * so far; `nIterNoChange` epochs in a row without an improvement of at least `tol` stop training. The state is data
 * so that a checkpoint carries it and a resumed run stops at the same epoch as an uninterrupted one.
 * @module
 */

/** How scores are compared. */
export interface EarlyStoppingRule {
  /** Epochs without improvement that stop training (scikit-learn `n_iter_no_change`, default 5). */
  readonly nIterNoChange: number
  /** Least improvement that counts (scikit-learn `tol`, default 1e-3). */
  readonly tol: number
  /** True for a validation score (AUC, R²), false for a loss. */
  readonly higherIsBetter: boolean
}

/** Where the rule stands after some epochs. */
export interface EarlyStoppingState {
  /** Best score so far (−∞ / +∞ before the first epoch). */
  readonly best: number
  /** Consecutive epochs that did not improve on `best` by `tol`. */
  readonly epochsWithoutImprovement: number
  /** The score of every epoch so far, in order. */
  readonly scores: readonly number[]
}

/** The state before any epoch. */
export function initialEarlyStopping(rule: EarlyStoppingRule): EarlyStoppingState {
  return { best: rule.higherIsBetter ? -Infinity : Infinity, epochsWithoutImprovement: 0, scores: [] }
}

/**
 * Folds in one epoch's score, as scikit-learn 1.2's `_plain_sgd` does: with a validation score, no improvement
 * means `score < best + tol`; with a training loss, `loss > best − tol`. `best` keeps the best score even when the
 * gain is below `tol`. A NaN score (a validation set missing a class) counts as no improvement. scikit-learn's
 * 'adaptive' learning rate divides eta by 5 instead of stopping; the models here own their learning rate, so this
 * rule always stops.
 *
 * @example
 * let state = initialEarlyStopping(rule)
 * const { state: next, stop } = updateEarlyStopping(rule, state, 0.71)
 */
export function updateEarlyStopping(
  rule: EarlyStoppingRule,
  state: EarlyStoppingState,
  score: number,
): { readonly state: EarlyStoppingState; readonly stop: boolean } {
  const improved = rule.higherIsBetter ? score >= state.best + rule.tol : score <= state.best - rule.tol
  const epochsWithoutImprovement = improved ? 0 : state.epochsWithoutImprovement + 1
  const better = rule.higherIsBetter ? score > state.best : score < state.best
  const next: EarlyStoppingState = {
    best: better ? score : state.best,
    epochsWithoutImprovement,
    scores: [...state.scores, score],
  }
  return { state: next, stop: epochsWithoutImprovement >= rule.nIterNoChange }
}
