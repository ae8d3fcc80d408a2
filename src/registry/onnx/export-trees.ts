/**
 * A scaleml {@link TreeEnsemble} (GBDT, random forest, imported XGBoost) as `ai.onnx.ml.TreeEnsembleClassifier` /
 * `TreeEnsembleRegressor` (ML opset 3), node for node:
 * - numerical split `x < threshold` (float32) → `BRANCH_LT` with the same float32 threshold; its true branch is
 *   scaleml's left child, and `nodes_missing_value_tracks_true` is scaleml's `defaultLeft`, so NaN goes the same way;
 * - categorical split "category in S goes right" → a chain of `BRANCH_EQ` nodes, one per category of S, whose true
 *   branches all point at scaleml's right child and whose last false branch is the left child (the set-membership
 *   encoding onnxruntime accepts, as used for LightGBM models). scaleml truncates the value before the membership
 *   test, so categorical features are read from a floored copy appended to the features. A missing value goes right
 *   through the first node when scaleml's default is right, else falls through the chain to the left child.
 * - leaves: `target_weights`/`class_weights` = leaf values (float32); `base_values` = the ensemble's base margins.
 * Links: 'binary:logistic' → LOGISTIC, 'multi:softprob' → SOFTMAX (TreeEnsembleClassifier); regressions → NONE
 * (TreeEnsembleRegressor). A random-forest classifier averages class frequencies, so its margins come from
 * TreeEnsembleRegressor and are clipped (and normalized) with standard operators, as scaleml's `predictProba`.
 * Precision: by default thresholds, leaf values and base values are written as float64 tensors (the
 * `*_as_tensor` attributes of ML opset 3) and the features cast to float64, so the runtime sums leaves in float64
 * as scaleml does; with precision 'float32' they are the classic float attributes and the runtime sums in float32
 * (margins within ~1e-7 relative of scaleml's, which is ~1e-5 absolute for margins near 60).
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { SupervisedEstimator } from '../../models/estimator.js'
import { RandomForestClassifier } from '../../models/trees/random-forest.js'
import type { TreeEnsemble } from '../../models/trees/tree-ensemble.js'
import { probabilityOutputs, regressionOutput } from './export-outputs.js'
import { BATCH } from './export-pipeline.js'
import { type GraphBuilder, ML_DOMAIN } from './graph-builder.js'
import { attr, type OnnxAttribute } from './onnx-proto.js'

/** True for the models {@link exportTrees} handles: anything that carries a {@link TreeEnsemble}. */
export function isTreeModel(model: SupervisedEstimator): boolean {
  const ensemble = (model as { ensemble?: unknown }).ensemble
  return typeof ensemble === 'object' && ensemble !== null && 'treeOffsets' in ensemble
}

/** The ONNX node arrays of an ensemble (parallel arrays, one entry per ONNX node / per leaf). */
interface OnnxTrees {
  readonly treeIds: number[]
  readonly nodeIds: number[]
  readonly featureIds: number[]
  readonly modes: string[]
  readonly values: number[]
  readonly trueIds: number[]
  readonly falseIds: number[]
  readonly missingTrue: number[]
  readonly leafTree: number[]
  readonly leafNode: number[]
  readonly leafTarget: number[]
  readonly leafWeight: number[]
}

/**
 * Adds the ensemble's nodes on the float `[N, F]` `features` and declares the outputs; returns a one-line
 * description of the mapping for the export notes.
 */
export function exportTrees(
  g: GraphBuilder,
  features: string,
  width: number,
  model: SupervisedEstimator,
  precision: 'float64' | 'float32' = 'float64',
): string {
  const ensemble = (model as unknown as { ensemble: TreeEnsemble }).ensemble
  if (ensemble.nFeatures !== width) {
    throw new ScalemlError(
      'ARTIFACT_INVALID',
      `Cannot export to ONNX: the ${model.kind} ensemble reads ${ensemble.nFeatures} features but the pipeline writes ${width}.`,
    )
  }
  const { input: floatInput, categoricalColumn } = treeInput(g, features, ensemble)
  const trees = onnxTrees(ensemble, categoricalColumn)
  const double = precision === 'float64'
  // float64: the runtime sums leaf values in float64, as scaleml; thresholds are float32 values either way, and a
  // float32 feature compares with them the same in either precision.
  const input = double ? g.op('Cast', [floatInput], { to: attr.int(11) }, { hint: 'tree_input_d' }) : floatInput
  const numbers = (name: string, values: ArrayLike<number>): Record<string, OnnxAttribute> =>
    double
      ? {
          [`${name}_as_tensor`]: attr.tensor({
            type: 'double',
            dims: [values.length],
            data: Float64Array.from(values),
          }),
        }
      : { [name]: attr.floats(values) }
  const nodeAttributes: Record<string, OnnxAttribute> = {
    nodes_treeids: attr.ints(trees.treeIds),
    nodes_nodeids: attr.ints(trees.nodeIds),
    nodes_featureids: attr.ints(trees.featureIds),
    nodes_modes: attr.strings(trees.modes),
    ...numbers('nodes_values', trees.values),
    nodes_truenodeids: attr.ints(trees.trueIds),
    nodes_falsenodeids: attr.ints(trees.falseIds),
    nodes_missing_value_tracks_true: attr.ints(trees.missingTrue),
    ...numbers('base_values', ensemble.baseMargin),
  }
  const regressor = (): string => {
    const out = g.op(
      'TreeEnsembleRegressor',
      [input],
      {
        ...nodeAttributes,
        n_targets: attr.int(ensemble.nOutputs),
        aggregate_function: attr.string('SUM'),
        post_transform: attr.string('NONE'),
        target_treeids: attr.ints(trees.leafTree),
        target_nodeids: attr.ints(trees.leafNode),
        target_ids: attr.ints(trees.leafTarget),
        ...numbers('target_weights', trees.leafWeight),
      },
      { domain: ML_DOMAIN, hint: 'margins' },
    )
    return g.annotate(out, 'float', [BATCH, ensemble.nOutputs])
  }
  const categorical =
    (categoricalColumn.size > 0 ? ' (categorical splits as BRANCH_EQ chains)' : '') +
    (double ? ', float64 attributes' : ', float32 attributes')
  if (model.task === 'regression') {
    regressionOutput(g, regressor(), 'float', ensemble.nOutputs)
    return `${model.kind} → ai.onnx.ml.TreeEnsembleRegressor${categorical}`
  }
  const classes = model.classes
  const k = classes.length
  if (model instanceof RandomForestClassifier) {
    const margins = regressor()
    let probabilities: string
    if (k === 2) {
      const p = g.op('Clip', [margins, g.floats('zero_scalar_f', [0], []), g.floats('one_scalar_f', [1], [])])
      probabilities = g.op('Concat', [g.op('Sub', [g.floats('one_f', [1]), p]), p], { axis: attr.int(1) })
    } else {
      const positive = g.op('Relu', [margins])
      const sum = g.op('ReduceSum', [positive, g.int64s('axis_1', [1])], { keepdims: attr.int(1) })
      probabilities = g.op('Where', [
        g.op('Greater', [sum, g.floats('zero_f', [0])]),
        g.op('Div', [positive, sum]),
        g.floats('uniform', [1 / k]),
      ])
    }
    probabilityOutputs(g, probabilities, 'float', classes)
    return `${model.kind} → ai.onnx.ml.TreeEnsembleRegressor + clip${k === 2 ? '' : ' and normalization'}${categorical}`
  }
  const objective = ensemble.objective
  if (objective !== 'binary:logistic' && objective !== 'multi:softprob') {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Cannot export to ONNX: the classifier ${model.kind} has objective '${objective}', which has no classification link.`,
    )
  }
  const [label, probabilities] = g.node('TreeEnsembleClassifier', [input], {
    domain: ML_DOMAIN,
    outputs: 2,
    hint: 'trees',
    attributes: {
      ...nodeAttributes,
      classlabels_int64s: attr.ints(classes.map((_, i) => i)),
      class_treeids: attr.ints(trees.leafTree),
      class_nodeids: attr.ints(trees.leafNode),
      class_ids: attr.ints(trees.leafTarget),
      ...numbers('class_weights', trees.leafWeight),
      post_transform: attr.string(objective === 'binary:logistic' ? 'LOGISTIC' : 'SOFTMAX'),
    },
  })
  g.annotate(label!, 'int64', [BATCH])
  g.annotate(probabilities!, 'float', [BATCH, k])
  probabilityOutputs(g, probabilities!, 'float', classes)
  return `${model.kind} (${objective}) → ai.onnx.ml.TreeEnsembleClassifier post_transform=${objective === 'binary:logistic' ? 'LOGISTIC' : 'SOFTMAX'}${categorical}`
}

/**
 * The trees' input: the features, plus a floored copy of every feature a categorical split reads (scaleml tests
 * membership on the truncated value; for non-negative values that is the floor, and negative values are never
 * members either way). Returns the input and, per categorical feature, its column in the input.
 */
function treeInput(
  g: GraphBuilder,
  features: string,
  ensemble: TreeEnsemble,
): { input: string; categoricalColumn: Map<number, number> } {
  const used = new Set<number>()
  for (let i = 0; i < ensemble.feature.length; i++) {
    if (ensemble.feature[i]! >= 0 && ensemble.categorical[i] === 1) used.add(ensemble.feature[i]!)
  }
  const categoricalColumn = new Map<number, number>()
  if (used.size === 0) return { input: features, categoricalColumn }
  const list = [...used].sort((a, b) => a - b)
  for (const [j, f] of list.entries()) categoricalColumn.set(f, ensemble.nFeatures + j)
  const picked = g.op('Gather', [features, g.int64s('categorical_features', list)], { axis: attr.int(1) })
  const floored = g.op('Floor', [picked], undefined, { hint: 'categories' })
  return {
    input: g.op('Concat', [features, floored], { axis: attr.int(1) }, { hint: 'tree_input' }),
    categoricalColumn,
  }
}

/** Flattens the ensemble into ONNX's parallel node arrays (node ids local to each tree; chain nodes appended). */
function onnxTrees(e: TreeEnsemble, categoricalColumn: ReadonlyMap<number, number>): OnnxTrees {
  const out: OnnxTrees = {
    treeIds: [],
    nodeIds: [],
    featureIds: [],
    modes: [],
    values: [],
    trueIds: [],
    falseIds: [],
    missingTrue: [],
    leafTree: [],
    leafNode: [],
    leafTarget: [],
    leafWeight: [],
  }
  const add = (
    tree: number,
    id: number,
    feature: number,
    mode: string,
    value: number,
    yes: number,
    no: number,
    missingYes: number,
  ): void => {
    out.treeIds.push(tree)
    out.nodeIds.push(id)
    out.featureIds.push(feature)
    out.modes.push(mode)
    out.values.push(value)
    out.trueIds.push(yes)
    out.falseIds.push(no)
    out.missingTrue.push(missingYes)
  }
  const nTrees = e.treeOffsets.length - 1
  for (let t = 0; t < nTrees; t++) {
    const start = e.treeOffsets[t]!
    const end = e.treeOffsets[t + 1]!
    let nextId = end - start
    for (let i = start; i < end; i++) {
      const id = i - start
      const f = e.feature[i]!
      if (f < 0) {
        add(t, id, 0, 'LEAF', 0, 0, 0, 0)
        out.leafTree.push(t)
        out.leafNode.push(id)
        out.leafTarget.push(e.treeGroup[t]!)
        out.leafWeight.push(e.value[i]!)
        continue
      }
      const left = e.left[i]! - start
      const right = e.right[i]! - start
      const defaultLeft = e.defaultLeft[i]!
      if (e.categorical[i] === 0) {
        add(t, id, f, 'BRANCH_LT', e.threshold[i]!, left, right, defaultLeft)
        continue
      }
      const column = categoricalColumn.get(f)!
      const members = e.categories.subarray(e.categoryOffsets[i]!, e.categoryOffsets[i + 1]!)
      // An empty set sends every value left: compare with NaN, which nothing equals.
      const values = members.length === 0 ? [Number.NaN] : Array.from(members)
      for (let m = 0; m < values.length; m++) {
        const nodeId = m === 0 ? id : nextId++
        const last = m === values.length - 1
        const no = last ? left : nextId
        // Only the first node sees a missing value: default right → its true branch (right); else fall through.
        add(t, nodeId, column, 'BRANCH_EQ', values[m]!, right, no, m === 0 && defaultLeft === 0 ? 1 : 0)
      }
    }
  }
  return out
}
