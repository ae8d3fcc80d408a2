/**
 * A {@link TreeEnsemble} written as an XGBoost 1.7 `save_model` JSON, so that XGBoost can load the very model scaleml
 * predicts with and the bench compares like with like (the inverse of src/models/formats/xgboost-json.ts, for the
 * bench only: numbers become float32 as XGBoost stores them, so margins agree to float32 rounding, not bit for bit).
 * Categorical splits become XGBoost partition splits (`split_type` 1, the listed categories go right — the same rule).
 */
import type { TreeEnsemble } from '../../src/models/trees/tree-ensemble.js'

const OBJECTIVES: Readonly<Record<TreeEnsemble['objective'], string>> = {
  'binary:logistic': 'binary:logistic',
  'multi:softprob': 'multi:softprob',
  'reg:squarederror': 'reg:squarederror',
  'reg:pseudohubererror': 'reg:pseudohubererror',
}

/** XGBoost's `base_score` for a base margin: the probability for 'binary:logistic', else the margin itself. */
function baseScore(e: TreeEnsemble): number {
  const m = e.baseMargin[0]!
  if (e.baseMargin.some((b) => b !== m)) throw new Error('XGBoost has one base_score: base margins must be equal')
  return e.objective === 'binary:logistic' ? 1 / (1 + Math.exp(-m)) : m
}

/** The JSON text (with XGBoost's bare `NaN` tokens) of `e`; `categorical` lists the features typed 'c'. */
export function ensembleToXgboostJson(e: TreeEnsemble, categorical: readonly number[]): string {
  const nTrees = e.treeOffsets.length - 1
  const NAN = '__NaN__'
  // XGBoost's JSON reader types `0` as an integer and refuses it where a float is due: floats are written as
  // marked strings and unmarked to `0.0`, `1.5`, `1e-7` at the end.
  const float = (v: number): string => `__f:${Number.isInteger(v) ? v.toFixed(1) : String(v)}`
  const trees = []
  for (let t = 0; t < nTrees; t++) {
    const start = e.treeOffsets[t]!
    const end = e.treeOffsets[t + 1]!
    const n = end - start
    const local = (i: number) => (i < 0 ? -1 : i - start)
    const parents = new Array<number>(n).fill(2147483647)
    const categories: number[] = []
    const categoriesNodes: number[] = []
    const categoriesSegments: number[] = []
    const categoriesSizes: number[] = []
    const splitConditions: string[] = []
    for (let i = start; i < end; i++) {
      const leaf = e.feature[i]! < 0
      if (!leaf) {
        parents[local(e.left[i]!)] = i - start
        parents[local(e.right[i]!)] = i - start
      }
      if (leaf) splitConditions.push(float(Math.fround(e.value[i]!)))
      else if (e.categorical[i] === 1) {
        splitConditions.push(NAN)
        categoriesNodes.push(i - start)
        categoriesSegments.push(categories.length)
        const list = [...e.categories.subarray(e.categoryOffsets[i]!, e.categoryOffsets[i + 1]!)]
        categoriesSizes.push(list.length)
        categories.push(...list)
      } else splitConditions.push(float(e.threshold[i]!))
    }
    trees.push({
      base_weights: Array.from(e.value.subarray(start, end), (v) => float(Math.fround(v))),
      categories,
      categories_nodes: categoriesNodes,
      categories_segments: categoriesSegments,
      categories_sizes: categoriesSizes,
      default_left: Array.from(e.defaultLeft.subarray(start, end)),
      id: t,
      left_children: Array.from(e.left.subarray(start, end), local),
      loss_changes: new Array<string>(n).fill(float(0)),
      parents,
      right_children: Array.from(e.right.subarray(start, end), local),
      split_conditions: splitConditions,
      split_indices: Array.from(e.feature.subarray(start, end), (f) => Math.max(0, f)),
      split_type: Array.from(e.categorical.subarray(start, end)),
      sum_hessian: Array.from(e.cover.subarray(start, end), (c) => float(Math.fround(c))),
      tree_param: {
        num_deleted: '0',
        num_feature: String(e.nFeatures),
        num_nodes: String(n),
        size_leaf_vector: '0',
      },
    })
  }
  const cats = new Set(categorical)
  const model = {
    learner: {
      attributes: {},
      feature_names: [...e.featureNames],
      feature_types: Array.from({ length: e.nFeatures }, (_, f) => (cats.has(f) ? 'c' : 'float')),
      gradient_booster: {
        model: {
          gbtree_model_param: { num_parallel_tree: '1', num_trees: String(nTrees), size_leaf_vector: '0' },
          tree_info: Array.from(e.treeGroup),
          trees,
        },
        name: 'gbtree',
      },
      learner_model_param: {
        // XGBoost parses its own float format (`3E-1`); a 17-digit decimal is silently ignored (base_score stays 0.5).
        base_score: Math.fround(baseScore(e)).toExponential(8).toUpperCase(),
        boost_from_average: '0',
        num_class: String(e.objective === 'multi:softprob' ? e.nOutputs : 0),
        num_feature: String(e.nFeatures),
        num_target: '1',
      },
      objective: { name: OBJECTIVES[e.objective], reg_loss_param: { scale_pos_weight: '1' } },
    },
    version: [1, 7, 4],
  }
  return JSON.stringify(model)
    .replaceAll(`"${NAN}"`, 'NaN')
    .replace(/"__f:([^"]+)"/g, '$1')
}
