/**
 * What batch scoring (`scaleml predict`) computes for one batch: the prediction fields of the
 * {@link createBatchPredictor} the HTTP predictor uses and, when asked, TreeSHAP contributions. Row by row, with
 * nothing carried from one batch to the next, so any split of a batch between threads gives the same values.
 * No I/O here: batch-score.ts writes, scoring-threads.ts runs this on worker threads.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import { isSparseRows, sparseToDense } from '../core/matrix.js'
import type { Batch } from '../data/batch.js'
import { treeEnsembleOf } from '../models/trees/ensemble-of.js'
import { type TreeShapWorkspace, treeShapInto, treeShapWorkspace } from '../models/trees/tree-shap.js'
import { createBatchPredictor, type PredictionField, type ServableModel } from './predictor.js'

/** The scores of one batch. */
export interface ScoredBatch {
  readonly rows: number
  /** One array per prediction field, `rows` values each (fresh arrays). */
  readonly values: readonly Float64Array[]
  /** Row-major contributions, `rows × contributionNames.length` (fresh), when asked for. */
  readonly contributions: Float64Array | undefined
}

/** Scores batches for one model. */
export interface BatchScorer {
  readonly fields: readonly PredictionField[]
  /** Names of the contribution columns, in the layout of {@link ScoredBatch.contributions}; empty without. */
  readonly contributionNames: readonly string[]
  score(batch: Batch): ScoredBatch
}

/**
 * A scorer for `servable`. Contributions (`contributions: true`) need a tree model: `UNSUPPORTED_OPERATION`
 * otherwise. Their names are `contrib_<feature>` per model feature plus `contrib_bias`, or with more than two
 * classes `contrib_<class>_<feature>` and `contrib_<class>_bias` per class.
 */
export function createBatchScorer(servable: ServableModel, options: { readonly contributions: boolean }): BatchScorer {
  const predictor = createBatchPredictor(servable)
  const explainer = options.contributions ? createExplainer(servable) : undefined
  return {
    fields: predictor.fields,
    contributionNames: explainer?.names ?? [],
    score(batch) {
      const predicted = predictor.predict(batch)
      let contributions: Float64Array | undefined
      if (explainer !== undefined) {
        const X = isSparseRows(predicted.features) ? sparseToDense(predicted.features) : predicted.features
        contributions = explainer.explain(X.data, X.rows)
      }
      return { rows: batch.length, values: predicted.values, contributions }
    },
  }
}

interface Explainer {
  readonly names: readonly string[]
  /** Row-major contributions of `rows` rows of `X`, `names.length` values per row (a fresh array). */
  explain(X: Float32Array, rows: number): Float64Array
}

function createExplainer(servable: ServableModel): Explainer {
  const { model, pipeline } = servable
  const ensemble = treeEnsembleOf(model)
  if (ensemble === undefined) {
    throw new ScalemlError(
      'UNSUPPORTED_OPERATION',
      `Contributions (TreeSHAP) need a tree model (gbdt, random-forest, an imported XGBoost model); ` +
        `${servable.name}:${servable.version} is a '${model.kind}'.`,
      [{ code: 'invalid_value', path: ['contributions'], message: `not a tree model: '${model.kind}'` }],
    )
  }
  const outputs = pipeline.outputNames()
  const features = outputs.length === ensemble.nFeatures ? outputs : ensemble.featureNames
  const groups = ensemble.nOutputs
  const classes = model.task === 'classification' ? model.classes : []
  const names: string[] = []
  for (let k = 0; k < groups; k++) {
    const prefix = groups === 1 ? 'contrib_' : `contrib_${classes[k] ?? k}_`
    for (const feature of features) names.push(`${prefix}${feature}`)
    names.push(`${prefix}bias`)
  }
  const workspace: TreeShapWorkspace = treeShapWorkspace(ensemble)
  return {
    names,
    explain(X, rows) {
      const out = new Float64Array(rows * names.length)
      // treeShapInto's layout, rows × outputs × (features + 1), is exactly the column order of `names`.
      treeShapInto(ensemble, X, rows, out, workspace)
      return out
    },
  }
}
