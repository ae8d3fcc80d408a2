/**
 * scaleml's linear models as ONNX, with the probability link of each loss reproduced. Two forms:
 *
 * 'float64' (default): standard `ai.onnx` operators in float64 — the float32 features cast to float64, `MatMul` with
 * the float64 weights, `Add` the intercepts (scaleml's own arithmetic), then the link, and a final Cast to float32.
 * Probabilities and values agree with scaleml to float32 rounding (~1e-7 relative). These operators exist in every
 * runtime and on every execution provider.
 *
 * 'float32': the `ai.onnx.ml` operators — `LinearClassifier` (`post_transform=LOGISTIC` for log-loss) and
 * `LinearRegressor` (raw margins) — whose weights are float32 and whose dot products run in float32: for margins of
 * magnitude ~50 over ~60 features the probabilities drift by up to ~3e-5 from scaleml's (float64) ones.
 *
 * Links, as scaleml's `predictProba`:
 * - log-loss SgdClassifier: binary `[1 − σ(m), σ(m)]`; one-vs-rest: the K sigmoids divided by their sum (scikit-learn's
 *   `_predict_proba_lr`) — in 'float32' form, `LinearClassifier` LOGISTIC (onnxruntime writes `[1 − σ, σ]` for binary);
 * - modified-Huber SgdClassifier: `(clip(m, −1, 1) + 1) / 2` (binary `[1 − p, p]`; one-vs-rest normalized, a row of
 *   zeros becoming uniform);
 * - margin classifiers (hinge, perceptron, passive-aggressive…): no probabilities; the margins are the `scores` output;
 * - regressors: the value.
 * Raw margins in 'float32' form come from `LinearRegressor` (one target per output), not `LinearClassifier` with
 * `post_transform=NONE`, whose binary score layout the ONNX specification leaves open (onnxruntime writes `[1 − m, m]`).
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { SupervisedEstimator } from '../../models/estimator.js'
import { BaseLinearClassifier } from '../../models/linear/base-linear-classifier.js'
import { BaseLinearRegressor } from '../../models/linear/base-linear-regressor.js'
import { marginOutputs, probabilityOutputs, regressionOutput } from './export-outputs.js'
import { BATCH } from './export-pipeline.js'
import { type GraphBuilder, ML_DOMAIN } from './graph-builder.js'
import { attr } from './onnx-proto.js'

/** Float64 standard operators (default) or the float32 ai.onnx.ml ones. */
export type ExportPrecision = 'float64' | 'float32'

/** True for the models {@link exportLinear} handles. */
export function isLinearModel(model: SupervisedEstimator): boolean {
  return model instanceof BaseLinearClassifier || model instanceof BaseLinearRegressor
}

/** Element type of the tensors the link works on. */
type Precision = 'float' | 'double'

/**
 * Adds the model's nodes on the float `[N, F]` `features` and declares the outputs (see `export-outputs.ts`);
 * returns a one-line description of the mapping for the export notes.
 */
export function exportLinear(
  g: GraphBuilder,
  features: string,
  width: number,
  model: SupervisedEstimator,
  precision: ExportPrecision = 'float64',
): string {
  if (!isLinearModel(model)) throw new ScalemlError('INTERNAL', `exportLinear: ${model.kind} is not a linear model.`)
  const linear = model as unknown as { coef: Float64Array; intercept: Float64Array }
  const coef = linear.coef
  const intercept = linear.intercept
  const nOutputs = intercept.length
  if (coef.length !== nOutputs * width) {
    throw new ScalemlError(
      'ARTIFACT_INVALID',
      `Cannot export to ONNX: ${model.kind} has ${coef.length / nOutputs} weights per output but the pipeline writes ${width} features.`,
    )
  }
  const type: Precision = precision === 'float64' ? 'double' : 'float'
  const c = (hint: string, value: number): string =>
    type === 'double' ? g.doubles(`${hint}_d`, [value]) : g.floats(`${hint}_f`, [value])
  const scalar = (hint: string, value: number): string =>
    type === 'double' ? g.doubles(`${hint}_sd`, [value], []) : g.floats(`${hint}_sf`, [value], [])
  /** Margins `[N, nOutputs]`: X·Wᵀ + b. */
  const margins = (): string => {
    if (precision === 'float32') {
      const out = g.op(
        'LinearRegressor',
        [features],
        { coefficients: attr.floats(coef), intercepts: attr.floats(intercept), targets: attr.int(nOutputs) },
        { domain: ML_DOMAIN, hint: 'margins' },
      )
      return g.annotate(out, 'float', [BATCH, nOutputs])
    }
    const weights = new Float64Array(width * nOutputs)
    for (let k = 0; k < nOutputs; k++) for (let j = 0; j < width; j++) weights[j * nOutputs + k] = coef[k * width + j]!
    const x = g.op('Cast', [features], { to: attr.int(11) }, { hint: 'features_d' })
    const product = g.op('MatMul', [x, g.doubles('weights', weights, [width, nOutputs])])
    return g.op('Add', [product, g.doubles('intercepts', intercept, [1, nOutputs])], undefined, { hint: 'margins' })
  }
  const opName = precision === 'float64' ? 'MatMul + Add (float64)' : 'ai.onnx.ml.LinearRegressor'
  if (model.task === 'regression') {
    regressionOutput(g, margins(), type, nOutputs)
    return `${model.kind} → ${opName}`
  }
  const classes = model.classes
  const k = classes.length
  const loss = (model.params as { loss?: unknown }).loss
  if (!model.hasProbabilities) {
    marginOutputs(g, margins(), type, classes)
    return `${model.kind} → ${opName} (margins; the model has no probabilities)`
  }
  if (loss === 'log_loss') {
    if (precision === 'float32') {
      const [label, scores] = g.node('LinearClassifier', [features], {
        domain: ML_DOMAIN,
        outputs: 2,
        hint: 'linear',
        attributes: {
          coefficients: attr.floats(coef),
          intercepts: attr.floats(intercept),
          classlabels_ints: attr.ints(classes.map((_, i) => i)),
          post_transform: attr.string('LOGISTIC'),
        },
      })
      g.annotate(label!, 'int64', [BATCH])
      g.annotate(scores!, 'float', [BATCH, k])
      // Binary: onnxruntime's LOGISTIC output is already [1 − σ, σ]. One-vs-rest: normalize the K sigmoids.
      probabilityOutputs(g, k === 2 ? scores! : normalizeRows(g, scores!), 'float', classes)
      return `${model.kind} (log_loss) → ai.onnx.ml.LinearClassifier post_transform=LOGISTIC${k === 2 ? '' : ' + row normalization'}`
    }
    const sigmoid = g.op('Sigmoid', [margins()])
    const probabilities = k === 2 ? complement(g, sigmoid, c('one', 1)) : normalizeRows(g, sigmoid)
    probabilityOutputs(g, probabilities, type, classes)
    return `${model.kind} (log_loss) → ${opName} + Sigmoid${k === 2 ? '' : ' + row normalization'}`
  }
  if (loss === 'modified_huber') {
    const clipped = g.op('Clip', [margins(), scalar('minus_one', -1), scalar('one', 1)])
    const p = g.op('Div', [g.op('Add', [clipped, c('one', 1)]), c('two', 2)])
    let probabilities: string
    if (k === 2) probabilities = complement(g, p, c('one', 1))
    else {
      const sum = g.op('ReduceSum', [p, g.int64s('axis_1', [1])], { keepdims: attr.int(1) })
      probabilities = g.op('Where', [
        g.op('Equal', [sum, c('zero', 0)]),
        c(`uniform_${k}`, 1 / k),
        g.op('Div', [p, sum]),
      ])
    }
    probabilityOutputs(g, probabilities, type, classes)
    return `${model.kind} (modified_huber) → ${opName} + (clip(m, −1, 1) + 1) / 2`
  }
  throw new ScalemlError(
    'INVALID_ARGUMENT',
    `Cannot export to ONNX: ${model.kind} with loss '${String(loss)}' has probabilities scaleml does not know how to export.`,
  )
}

/** `[1 − p, p]` from `[N, 1]` `p`. */
function complement(g: GraphBuilder, p: string, one: string): string {
  return g.op('Concat', [g.op('Sub', [one, p]), p], { axis: attr.int(1) })
}

/** Each row of a positive `[N, K]` matrix divided by its sum. */
export function normalizeRows(g: GraphBuilder, x: string): string {
  const sum = g.op('ReduceSum', [x, g.int64s('axis_1', [1])], { keepdims: attr.int(1) })
  return g.op('Div', [x, sum], undefined, { hint: 'probabilities' })
}
