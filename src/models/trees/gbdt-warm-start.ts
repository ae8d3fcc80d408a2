/**
 * Warm start of gradient boosting: the state a boosting run leaves behind (its trees, the margins of its training
 * and eval rows, the random generator, the per-round importance and validation loss), so that a later `fitBinned`
 * on the same binned rows with a larger `nEstimators` continues boosting from there instead of starting over. The
 * continued model is exactly the one a single fit to the larger `nEstimators` grows: boosting round `t` depends only
 * on the margins after round `t − 1` and on the generator's draws, and both are carried over bit for bit.
 *
 * Used by `scaleml tune`, whose successive-halving survivors continue to the next rung's boosting rounds. The state
 * is plain data (typed arrays, numbers), so it survives a structured clone to another worker thread. Its size is
 * dominated by the margins: 8 bytes × outputs × (training rows + eval rows).
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { Random } from '../../core/random.js'
import type { TreeEnsemble, TreeEnsembleBuilder, TreeSpec } from './tree-ensemble.js'

/** What a boosting run leaves for a later one to continue from (see the module notes). */
export interface GbdtWarmStart {
  /** Boosting rounds done. */
  readonly rounds: number
  /** Training rows of the run (the continuation must use the same rows, binned alike). */
  readonly nRows: number
  /** Margins per row: 1, or the class count of a multi-class classifier. */
  readonly nOutputs: number
  /** The trees so far (`rounds × nOutputs`), with the base margin. */
  readonly ensemble: TreeEnsemble
  /** Training margins after the last round, column-major (`k × nRows + r`). */
  readonly margin: Float64Array
  /** Eval rows' margins after the last round, column-major; empty without an eval set. */
  readonly evalMargin: Float64Array
  /** State of the generator of row and feature sampling. */
  readonly randomState: readonly number[]
  /** Per round: total split gain per feature. */
  readonly roundGain: readonly Float64Array[]
  /** Per round: split count per feature. */
  readonly roundSplit: readonly Float64Array[]
  /** Validation loss per round (with an eval set). */
  readonly validLoss: readonly number[]
  /** Best round so far by validation loss (−1 without an eval set). */
  readonly bestIteration: number
  readonly bestLoss: number
}

/** The boosting loop's state a warm start restores into (its freshly allocated arrays and objects). */
export interface BoostingLoopState {
  readonly random: Random
  readonly builder: TreeEnsembleBuilder
  readonly baseMargin: Float64Array
  readonly margin: Float64Array
  readonly evalMargin: Float64Array
  readonly roundGain: Float64Array[]
  readonly roundSplit: Float64Array[]
  readonly validLoss: number[]
  readonly nRows: number
  readonly nOutputs: number
  readonly nFeatures: number
  readonly nEstimators: number
  readonly earlyStoppingRounds: number | null
}

function refuse(why: string): never {
  throw new ScalemlError('INVALID_ARGUMENT', `Cannot continue boosting from this warm start: ${why}`, [
    { code: 'invalid_value', path: ['warmStart'], message: why },
  ])
}

/**
 * Checks that `warm` continues the run described by `loop` (same rows, outputs, eval rows, base margin; no more
 * rounds than asked), then restores it: the generator's state, the trees into the builder, the margins, the
 * per-round importance and losses. Returns the next round and the best round/loss so far.
 * @throws ScalemlError INVALID_ARGUMENT naming what differs.
 */
export function resumeBoosting(
  warm: GbdtWarmStart,
  loop: BoostingLoopState,
): { round: number; bestIteration: number; bestLoss: number } {
  if (loop.earlyStoppingRounds !== null) {
    refuse('early stopping (earlyStoppingRounds) cannot be combined with a warm start; set it to null.')
  }
  if (warm.nRows !== loop.nRows) refuse(`it was left by a fit on ${warm.nRows} rows; this fit has ${loop.nRows}.`)
  if (warm.nOutputs !== loop.nOutputs || warm.ensemble.nFeatures !== loop.nFeatures) {
    refuse(
      `it has ${warm.nOutputs} outputs over ${warm.ensemble.nFeatures} features; this fit has ${loop.nOutputs} over ${loop.nFeatures}.`,
    )
  }
  if (warm.evalMargin.length !== loop.evalMargin.length) {
    refuse(
      `it was left with ${warm.evalMargin.length / warm.nOutputs} eval rows; this fit has ${loop.evalMargin.length / loop.nOutputs} (pass the same evalSet, or none both times).`,
    )
  }
  if (warm.rounds > loop.nEstimators) {
    refuse(`it has ${warm.rounds} rounds already; nEstimators = ${loop.nEstimators} cannot continue it.`)
  }
  for (let k = 0; k < loop.nOutputs; k++) {
    if (warm.ensemble.baseMargin[k] !== loop.baseMargin[k]) {
      refuse('its base margin differs from this fit’s (other labels, weights or baseScore).')
    }
  }
  loop.random.setState(warm.randomState)
  const nTrees = warm.ensemble.treeOffsets.length - 1
  for (let t = 0; t < nTrees; t++) loop.builder.addTree(treeSpecOf(warm.ensemble, t), warm.ensemble.treeGroup[t]!)
  loop.margin.set(warm.margin)
  loop.evalMargin.set(warm.evalMargin)
  loop.roundGain.push(...warm.roundGain.map((g) => g.slice()))
  loop.roundSplit.push(...warm.roundSplit.map((s) => s.slice()))
  loop.validLoss.push(...warm.validLoss)
  return { round: warm.rounds, bestIteration: warm.bestIteration, bestLoss: warm.bestLoss }
}

/**
 * The warm start of a finished run: its arrays are taken over as they are (the loop is done with them), the
 * per-round arrays are copied.
 */
export function captureBoosting(
  loop: Pick<BoostingLoopState, 'random' | 'margin' | 'evalMargin' | 'roundGain' | 'roundSplit' | 'validLoss'> & {
    readonly ensemble: TreeEnsemble
  },
  at: {
    readonly rounds: number
    readonly nRows: number
    readonly nOutputs: number
    readonly bestIteration: number
    readonly bestLoss: number
  },
): GbdtWarmStart {
  return {
    ...at,
    ensemble: loop.ensemble,
    margin: loop.margin,
    evalMargin: loop.evalMargin,
    randomState: loop.random.getState(),
    roundGain: [...loop.roundGain],
    roundSplit: [...loop.roundSplit],
    validLoss: [...loop.validLoss],
  }
}

/** Tree `t` of `ensemble` as a {@link TreeSpec} (tree-local node indices), to append it to another builder. */
export function treeSpecOf(ensemble: TreeEnsemble, t: number): TreeSpec {
  const from = ensemble.treeOffsets[t]!
  const to = ensemble.treeOffsets[t + 1]!
  const n = to - from
  const local = (i: number) => (i < 0 ? i : i - from)
  const left = new Int32Array(n)
  const right = new Int32Array(n)
  const categories: (Int32Array | null)[] = new Array(n).fill(null)
  let anyCategorical = false
  for (let i = 0; i < n; i++) {
    left[i] = local(ensemble.left[from + i]!)
    right[i] = local(ensemble.right[from + i]!)
    if (ensemble.categorical[from + i] === 1) {
      anyCategorical = true
      categories[i] = ensemble.categories.slice(
        ensemble.categoryOffsets[from + i]!,
        ensemble.categoryOffsets[from + i + 1]!,
      )
    }
  }
  return {
    feature: ensemble.feature.subarray(from, to),
    threshold: ensemble.threshold.subarray(from, to),
    left,
    right,
    defaultLeft: ensemble.defaultLeft.subarray(from, to),
    value: ensemble.value.subarray(from, to),
    cover: ensemble.cover.subarray(from, to),
    ...(anyCategorical ? { categories } : {}),
  }
}
