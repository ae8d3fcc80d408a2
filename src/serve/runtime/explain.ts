/**
 * Per-feature contributions for the explain route: exact path-dependent TreeSHAP for tree models (GBDT, random
 * forest, imported XGBoost ensembles), in margin space (log-odds for a logistic classifier), each row's values
 * adding up to its margin. Models without contributions get `UNSUPPORTED_OPERATION` naming what can.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import { isSparseRows } from '../../core/matrix.js'
import type { Batch } from '../../data/batch.js'
import { treeEnsembleOf } from '../../models/trees/ensemble-of.js'
import { type TreeShapWorkspace, treeShapInto, treeShapWorkspace } from '../../models/trees/tree-shap.js'
import { type BatchPredictor, createBatchPredictor, type ServableModel } from '../predictor.js'

/** Contributions of one output (the model's one margin, or one class of a multi-class model). */
export interface OutputContributions {
  /** The expected margin with every feature absent (base margin plus each tree's mean leaf value). */
  readonly bias: number
  /** Feature name → contribution; with the bias, they add up to the row's margin. */
  readonly contributions: Readonly<Record<string, number>>
}

/** One row's explanation: one output, or one entry per class (multi-class models). */
export type Explanation =
  | OutputContributions
  | { readonly classes: readonly (OutputContributions & { class: number })[] }

/** Explains batches for one model version. */
export interface Explainer {
  /** Feature names, in the model's feature order. */
  readonly features: readonly string[]
  /** Predictions (columns, as {@link BatchPredictor.predict}) and one explanation per row. */
  explain(batch: Batch): { readonly values: readonly Float64Array[]; readonly explanations: Explanation[] }
}

/** True when {@link createExplainer} works for `servable`. */
export function canExplain(servable: ServableModel): boolean {
  return treeEnsembleOf(servable.model) !== undefined
}

/**
 * An explainer for `servable`; throws `UNSUPPORTED_OPERATION` when the model has no contributions.
 *
 * @example
 * const { explanations } = createExplainer(servable).explain(batch)
 * explanations[0] // { bias: -1.2, contributions: { distance: 0.31, origin: -0.05, … } }
 */
export function createExplainer(servable: ServableModel): Explainer {
  const { model, pipeline } = servable
  const ensemble = treeEnsembleOf(model)
  if (ensemble === undefined) {
    throw new ScalemlError(
      'UNSUPPORTED_OPERATION',
      `${servable.name}:${servable.version} is a '${model.kind}', which has no per-feature contributions: ` +
        'explain needs a tree model (gbdt, random-forest, an imported XGBoost model). Use /predict for predictions.',
    )
  }
  const outputs = pipeline.outputNames()
  const features = outputs.length === ensemble.nFeatures ? outputs : [...ensemble.featureNames]
  const nOutputs = ensemble.nOutputs
  const classes = model.task === 'classification' ? model.classes : []
  const predictor: BatchPredictor = createBatchPredictor(servable)
  const workspace: TreeShapWorkspace = treeShapWorkspace(ensemble)
  const width = ensemble.nFeatures + 1

  const group = (out: Float64Array, at: number): OutputContributions => {
    const contributions: Record<string, number> = {}
    for (let f = 0; f < features.length; f++) contributions[features[f]!] = out[at + f]!
    return { bias: out[at + ensemble.nFeatures]!, contributions }
  }

  return {
    features,
    explain(batch) {
      const { values, features: X } = predictor.predict(batch)
      // Tree models read dense rows; the predictor's rows are the very rows the trees saw.
      if (isSparseRows(X)) throw new Error('tree models take dense rows')
      const out = new Float64Array(X.rows * nOutputs * width)
      treeShapInto(ensemble, X.data, X.rows, out, workspace)
      const explanations: Explanation[] = new Array(X.rows)
      for (let r = 0; r < X.rows; r++) {
        const at = r * nOutputs * width
        explanations[r] =
          nOutputs === 1
            ? group(out, at)
            : {
                classes: Array.from({ length: nOutputs }, (_, k) => ({
                  class: classes[k] ?? k,
                  ...group(out, at + k * width),
                })),
              }
      }
      return { values, explanations }
    },
  }
}
