/**
 * The end of a boosting run, shared by in-memory (gbdt.ts) and external-memory (external/external-boost.ts)
 * training so that both keep the same trees and report the same importance.
 */
import { type TreeEnsemble, type TreeEnsembleBuilder, truncateEnsemble } from './tree-ensemble.js'

/** The kept ensemble and its feature importance. */
export interface KeptRounds {
  readonly ensemble: TreeEnsemble
  /** Total split gain per feature over the kept rounds. */
  readonly importanceGain: Float64Array
  /** Split count per feature over the kept rounds. */
  readonly importanceSplit: Float64Array
}

/**
 * Builds the ensemble, drops the rounds after `kept` (early stopping keeps the best round and those before it), and
 * sums the per-round gain and split counts of the kept rounds in round order.
 */
export function keepRounds(
  builder: TreeEnsembleBuilder,
  rounds: { readonly grown: number; readonly kept: number; readonly treesPerRound: number },
  roundGain: readonly Float64Array[],
  roundSplit: readonly Float64Array[],
  nFeatures: number,
): KeptRounds {
  let ensemble = builder.build()
  if (rounds.kept < rounds.grown) ensemble = truncateEnsemble(ensemble, rounds.kept * rounds.treesPerRound)
  const importanceGain = new Float64Array(nFeatures)
  const importanceSplit = new Float64Array(nFeatures)
  for (let t = 0; t < rounds.kept; t++) {
    const gain = roundGain[t]!
    const split = roundSplit[t]!
    for (let f = 0; f < nFeatures; f++) {
      importanceGain[f] = importanceGain[f]! + gain[f]!
      importanceSplit[f] = importanceSplit[f]! + split[f]!
    }
  }
  return { ensemble, importanceGain, importanceSplit }
}
