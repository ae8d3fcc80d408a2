import { describe, expect, it } from 'vitest'
import { type EarlyStoppingRule, initialEarlyStopping, updateEarlyStopping } from './early-stopping.js'

function run(rule: EarlyStoppingRule, scores: readonly number[]): number {
  let state = initialEarlyStopping(rule)
  for (const [i, score] of scores.entries()) {
    const next = updateEarlyStopping(rule, state, score)
    state = next.state
    if (next.stop) return i + 1
  }
  return -1
}

describe('early stopping (scikit-learn rule)', () => {
  const rule: EarlyStoppingRule = { nIterNoChange: 3, tol: 1e-3, higherIsBetter: true }

  it('stops after nIterNoChange epochs on a plateau, and not one epoch before', () => {
    // Epoch 1 improves on -inf; epochs 2-4 stay on the plateau: stop after epoch 4.
    expect(run(rule, [0.7, 0.7, 0.7, 0.7, 0.7])).toBe(4)
    expect(run(rule, [0.7, 0.7, 0.7])).toBe(-1)
  })

  it('an improvement smaller than tol counts as none, but still raises the best score', () => {
    let state = initialEarlyStopping(rule)
    state = updateEarlyStopping(rule, state, 0.7).state
    const small = updateEarlyStopping(rule, state, 0.7005)
    expect(small.state.epochsWithoutImprovement).toBe(1)
    expect(small.state.best).toBe(0.7005)
    // 0.7014 beats the best (0.7005) by less than tol, though it beats 0.7 by more: no improvement.
    expect(updateEarlyStopping(rule, small.state, 0.7014).state.epochsWithoutImprovement).toBe(2)
    expect(run(rule, [0.7, 0.7005, 0.701, 0.7015])).toBe(4)
  })

  it('a real improvement resets the count', () => {
    expect(run(rule, [0.7, 0.7, 0.7, 0.75, 0.75, 0.75, 0.75])).toBe(7)
    expect(run(rule, [0.7, 0.7, 0.71, 0.71, 0.72, 0.72])).toBe(-1)
  })

  it('losses improve downwards; NaN never improves', () => {
    const loss: EarlyStoppingRule = { nIterNoChange: 2, tol: 0.01, higherIsBetter: false }
    expect(run(loss, [0.5, 0.45, 0.4, 0.395, 0.39])).toBe(5)
    expect(run(loss, [0.5, 0.6, 0.7])).toBe(3)
    expect(run(rule, [Number.NaN, Number.NaN, Number.NaN])).toBe(3)
    const state = updateEarlyStopping(rule, initialEarlyStopping(rule), 0.6).state
    expect(state.scores).toEqual([0.6])
  })
})
