/**
 * The outputs every exported model ends with, whatever operator computed its scores, so that a client reads every
 * scaleml model the same way:
 * - classifiers with probabilities: `label` `[N]` (the class with the largest probability, the first on a tie — what
 *   scaleml's predictor answers) and `probabilities` `[N, K]` (one column per class, in `classes` order; binary
 *   models have two columns, the second is the positive class);
 * - margin classifiers (hinge, perceptron, passive-aggressive): `label` `[N]` and `scores` `[N, 1]` (binary: the
 *   margin of the positive class) or `[N, K]` (one-vs-rest margins);
 * - regressors: `variable` `[N, 1]` (`[N, T]` for T targets).
 * Labels are int64 when every class is a whole number (a boolean target gives 0/1), else float64.
 * @module
 */

import { BATCH } from './export-pipeline.js'
import type { GraphBuilder } from './graph-builder.js'
import { attr, type OnnxType } from './onnx-proto.js'

/** Names of the exported model's outputs. */
export const OUTPUT_NAMES = {
  label: 'label',
  probabilities: 'probabilities',
  scores: 'scores',
  variable: 'variable',
} as const

/** The classes as a constant of the label type; returns the constant and its type. */
function classesConstant(g: GraphBuilder, classes: readonly number[]): { name: string; type: OnnxType } {
  if (classes.every((c) => Number.isSafeInteger(c))) {
    return { name: g.int64s('classes', [...classes]), type: 'int64' }
  }
  return { name: g.doubles('classes', classes), type: 'double' }
}

/** `label` = the class of each row's largest value of `scores` (`[N, K]`; the first on a tie). */
function argmaxLabel(g: GraphBuilder, scores: string, classes: readonly number[]): { label: string; type: OnnxType } {
  const { name, type } = classesConstant(g, classes)
  const index = g.op('ArgMax', [scores], { axis: attr.int(1), keepdims: attr.int(0), select_last_index: attr.int(0) })
  return { label: g.op('Gather', [name, index], { axis: attr.int(0) }), type }
}

/** `x` as float32 (a Cast when `type` is double). */
function toFloat(g: GraphBuilder, x: string, type: 'float' | 'double'): string {
  return type === 'float' ? x : g.op('Cast', [x], { to: attr.int(1) })
}

/**
 * Declares `label` and `probabilities` from an `[N, K]` probability matrix of element type `type`; the label is
 * taken before any rounding to float32.
 */
export function probabilityOutputs(
  g: GraphBuilder,
  values: string,
  type: 'float' | 'double',
  classes: readonly number[],
): void {
  const { label, type: labelType } = argmaxLabel(g, values, classes)
  const probabilities = toFloat(g, values, type)
  g.output({ name: OUTPUT_NAMES.label, type: labelType, shape: [BATCH], docString: 'predicted class' }, label)
  g.output(
    {
      name: OUTPUT_NAMES.probabilities,
      type: 'float',
      shape: [BATCH, classes.length],
      docString: `class probabilities, columns in class order [${classes.join(', ')}]`,
    },
    probabilities,
  )
}

/**
 * Declares `label` and `scores` from margins of element type `marginType`: `[N, 1]` for a binary model (positive
 * class when > 0, as scaleml), `[N, K]` one-vs-rest otherwise (largest margin, first on a tie).
 */
export function marginOutputs(
  g: GraphBuilder,
  margins: string,
  marginType: 'float' | 'double',
  classes: readonly number[],
): void {
  let label: string
  let type: OnnxType
  if (classes.length === 2) {
    const constant = classesConstant(g, classes)
    const zero = marginType === 'float' ? g.floats('zero_f', [0]) : g.doubles('zero_d', [0])
    const positive = g.op('Cast', [g.op('Greater', [margins, zero])], { to: attr.int(7) })
    const index = g.op('Reshape', [positive, g.int64s('flat', [-1])])
    label = g.op('Gather', [constant.name, index], { axis: attr.int(0) })
    type = constant.type
  } else ({ label, type } = argmaxLabel(g, margins, classes))
  g.output({ name: OUTPUT_NAMES.label, type, shape: [BATCH], docString: 'predicted class' }, label)
  g.output(
    {
      name: OUTPUT_NAMES.scores,
      type: 'float',
      shape: [BATCH, classes.length === 2 ? 1 : classes.length],
      docString:
        classes.length === 2
          ? `margin of class ${classes[1]} (positive when predicted)`
          : `one-vs-rest margins, columns in class order [${classes.join(', ')}]`,
    },
    toFloat(g, margins, marginType),
  )
}

/** Declares `variable` from an `[N, T]` prediction of element type `type` (output as float32). */
export function regressionOutput(g: GraphBuilder, value: string, type: 'float' | 'double', targets: number): void {
  g.output(
    { name: OUTPUT_NAMES.variable, type: 'float', shape: [BATCH, targets], docString: 'prediction' },
    toFloat(g, value, type),
  )
}
