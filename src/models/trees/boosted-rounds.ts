/**
 * What in-memory (gbdt.ts) and external-memory (external/external-boost.ts) boosting share, so that both grow the
 * same trees from the same draws, keep the same rounds and report the same importance. Type-only imports of gbdt.ts:
 * no runtime cycle.
 */
import type { Random } from '../../core/random.js'
import type { GbdtCommonParams } from './gbdt.js'
import { type TreeEnsemble, type TreeEnsembleBuilder, truncateEnsemble } from './tree-ensemble.js'
import type { GrowerSettings, GrownTree } from './tree-grower.js'

/** Splits whose gain is not above this are noise (XGBoost's `kRtEps`). */
const XGBOOST_MIN_GAIN = 1e-6

/** The grower settings of a GBDT's params (every feature at every split; column sampling is per tree). */
export function gbdtGrowerSettings(params: GbdtCommonParams): GrowerSettings {
  return {
    lambda: params.lambda,
    gamma: params.gamma,
    minChildWeight: params.minChildWeight,
    minSamplesLeaf: params.minSamplesLeaf,
    maxCatToOnehot: params.maxCatToOnehot,
    maxCatThreshold: params.maxCatThreshold,
    maxLeaves: params.maxLeaves,
    maxDepth: params.maxDepth,
    growPolicy: params.growPolicy,
    featuresPerSplit: null,
    minSplitGain: XGBOOST_MIN_GAIN,
    nThreads: params.nThreads,
  }
}

/** A sorted uniform sample of `k` of the `n` features into `out[0, k)`; returns `k`. */
export function sampleFeatures(random: Random, k: number, n: number, out: Int32Array): number {
  for (let f = 0; f < n; f++) out[f] = f
  if (k >= n) return n
  for (let i = 0; i < k; i++) {
    const j = i + random.nextInt(n - i)
    const t = out[i]!
    out[i] = out[j]!
    out[j] = t
  }
  out.subarray(0, k).sort()
  return k
}

/** Adds a tree's split gains and split counts per feature. */
export function accumulateImportance(tree: GrownTree, gain: Float64Array, split: Float64Array): void {
  for (let i = 0; i < tree.nNodes; i++) {
    const f = tree.feature[i]!
    if (f < 0) continue
    gain[f] = gain[f]! + tree.gain[i]!
    split[f] = split[f]! + 1
  }
}

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
