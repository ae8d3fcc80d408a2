/**
 * Finding the tree ensemble inside any estimator: GBDT and random forests expose theirs as `ensemble`, as do
 * imported XGBoost models. Used by whatever needs the trees themselves (TreeSHAP explanations, export).
 * @module
 */
import type { AnyEstimator } from '../estimator.js'
import type { TreeEnsemble } from './tree-ensemble.js'

/** The tree ensemble of a fitted tree model, or undefined for any other model. */
export function treeEnsembleOf(model: AnyEstimator): TreeEnsemble | undefined {
  if (!('ensemble' in model)) return undefined
  const ensemble = (model as { readonly ensemble?: unknown }).ensemble
  const looksLikeEnsemble =
    typeof ensemble === 'object' &&
    ensemble !== null &&
    (ensemble as Partial<TreeEnsemble>).treeOffsets instanceof Int32Array &&
    typeof (ensemble as Partial<TreeEnsemble>).nFeatures === 'number'
  return looksLikeEnsemble ? (ensemble as TreeEnsemble) : undefined
}
