/**
 * What the naive Bayes classifiers share: class bookkeeping (sorted classes fixed by the first `partialFit`, labels
 * mapped to class indices with errors naming the row), input checks, the list-valued prior parameters (which the
 * scalar constraint DSL cannot express), the alpha floor of scikit-learn 1.2, merge compatibility, prediction from
 * joint log likelihoods without per-call allocation, and the readers that rebuild state from JSON.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import { describeValue, type Issue } from '../../core/issues.js'
import type { DenseMatrix } from '../../core/matrix.js'
import { type Constraints, validateParams } from '../../core/params.js'
import { firstNonFiniteF64 } from '../linear/kernels/finite.js'
import { checkFinite, checkLength, checkShape } from '../linear/sgd-core.js'
import { argmax, softmaxRowsInPlace } from './kernels/log-proba.js'

// The generic input checks live in linear/sgd-core.ts until core/checks.ts exists (CONVENTIONS §4); re-exported
// so that this folder depends on that location in one place.
export { checkFinite, checkLength, checkShape }

/** Something that writes joint log likelihoods `log P(c) + log P(x | c)` of rows `[start, end)` of X. */
export interface JointLogLikelihood {
  /** Writes `out[(r − start)·nClasses + k]` for rows `[start, end)`; allocates nothing. */
  write(X: DenseMatrix, out: Float64Array, start: number, end: number): void
}

/** Sorted distinct values. */
export function uniqueSorted(values: readonly number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b)
}

/**
 * The classes of a `partialFit` call: on the first call the sorted distinct `given` classes (required, finite,
 * at least one, as scikit-learn's naive Bayes accepts a single class); later calls may omit them or repeat the
 * same set. Throws `INVALID_ARGUMENT`.
 */
export function resolveClasses(
  owner: string,
  fitted: readonly number[] | undefined,
  given: readonly number[] | undefined,
): readonly number[] {
  if (fitted !== undefined) {
    if (given !== undefined && !sameNumbers(uniqueSorted(given), fitted)) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `classes [${given.join(', ')}] differ from the classes [${fitted.join(', ')}] of the first partialFit call.`,
      )
    }
    return fitted
  }
  if (given === undefined) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${owner}.partialFit needs options.classes (every label y can take) on the first call.`,
    )
  }
  const classes = uniqueSorted(given)
  if (classes.length === 0 || classes.some((c) => !Number.isFinite(c))) {
    throw new ScalemlError('INVALID_ARGUMENT', `classes must be one or more finite numbers, got [${given.join(', ')}].`)
  }
  return classes
}

/** A label → class index lookup for sorted classes. */
export function classLookup(classes: readonly number[]): Map<number, number> {
  const index = new Map<number, number>()
  classes.forEach((c, i) => {
    index.set(c, i)
  })
  return index
}

/** Writes each label's class index into `out`; throws `INVALID_DATA` naming the first label outside the classes. */
export function labelIndices(
  y: Float64Array,
  lookup: Map<number, number>,
  classes: readonly number[],
  out: Int32Array,
): void {
  for (let i = 0; i < y.length; i++) {
    const k = lookup.get(y[i]!)
    if (k === undefined) {
      throw new ScalemlError(
        'INVALID_DATA',
        `y[${i}] = ${y[i]} is not one of the classes [${classes.join(', ')}] given on the first partialFit call.`,
        [
          {
            code: 'invalid_value',
            path: ['y', i],
            message: `label ${y[i]} is not a known class`,
            received: String(y[i]),
          },
        ],
      )
    }
    out[i] = k
  }
}

/**
 * Checks per-row sample weights: one per row (`INVALID_INPUT`), finite and non-negative (`INVALID_DATA` naming the
 * row). scikit-learn 1.2 accepts negative weights; here they are refused because they can make counts and
 * variances negative, which has no probabilistic meaning.
 */
export function checkSampleWeight(weights: Float64Array, rows: number): void {
  checkLength('sampleWeight', weights, rows)
  const bad = firstNonFiniteF64(weights, 0, rows)
  if (bad >= 0) {
    throw new ScalemlError(
      'INVALID_DATA',
      `sampleWeight contains ${weights[bad]} at row ${bad}; expected a finite number.`,
      [{ code: 'not_finite', path: ['sampleWeight', bad], message: `${weights[bad]} is not finite` }],
    )
  }
  for (let i = 0; i < rows; i++) {
    if (weights[i]! < 0) {
      throw new ScalemlError(
        'INVALID_DATA',
        `sampleWeight contains ${weights[i]} at row ${i}; naive Bayes needs non-negative weights.`,
        [{ code: 'out_of_range', path: ['sampleWeight', i], message: `${weights[i]} is negative` }],
      )
    }
  }
}

/** The `INVALID_DATA` error for the value at flat index `at` of X, naming its row and feature. */
export function badFeatureValue(owner: string, X: DenseMatrix, at: number, expected: string): ScalemlError {
  const row = Math.floor(at / X.cols)
  const feature = at - row * X.cols
  const value = X.data[at]!
  return new ScalemlError(
    'INVALID_DATA',
    `X contains ${value} at row ${row}, feature ${feature}; ${owner} needs ${expected}.`,
    [
      {
        code: 'out_of_range',
        path: ['X', row, feature],
        message: `${value} is not ${expected}`,
        received: String(value),
      },
    ],
  )
}

/** Options of {@link validateNbParams}. */
export interface PriorRule {
  /** Name of the list-valued prior parameter (`priors`, `classPrior`). */
  readonly key: string
  /** Class count, once known (first `partialFit`, `fromJSON`); the length is checked only then. */
  readonly nClasses?: number
  /** GaussianNB's priors must sum to 1 (numpy's `isclose`: within 1e-8 + 1e-5). */
  readonly sumToOne: boolean
}

/**
 * Validates naive Bayes params: the scalar ones against the constraint table (scikit-learn's message shape, one
 * `INVALID_PARAM` listing every problem), then the list-valued prior, which must be `null` or an array of finite,
 * non-negative numbers, one per class. The prior rules follow scikit-learn ("Number of priors must match number
 * of classes.", "The sum of the priors should be 1.", "Priors must be non-negative.").
 */
export function validateNbParams<P extends object>(
  owner: string,
  constraints: Constraints<Record<string, unknown>>,
  params: P,
  rule: PriorRule,
): void {
  const { [rule.key]: prior, ...scalars } = params as Record<string, unknown>
  validateParams(owner, constraints, scalars)
  if (prior === null || prior === undefined) return
  const fail = (detail: string, issueCode: Issue['code'] = 'invalid_value'): never => {
    throw new ScalemlError('INVALID_PARAM', `The '${rule.key}' parameter of ${owner} ${detail}`, [
      { code: issueCode, path: [rule.key], message: detail, received: describeValue(prior) },
    ])
  }
  if (!Array.isArray(prior) || prior.length === 0 || !prior.every((p) => typeof p === 'number' && Number.isFinite(p))) {
    fail(
      `must be null or a non-empty array of finite numbers, one per class. Got ${JSON.stringify(prior) ?? String(prior)} instead.`,
    )
  }
  const values = prior as number[]
  if (values.some((p) => p < 0)) fail(`must be non-negative. Got [${values.join(', ')}] instead.`, 'out_of_range')
  if (rule.sumToOne) {
    const sum = values.reduce((a, b) => a + b, 0)
    if (!(Math.abs(sum - 1) <= 1e-8 + 1e-5)) fail(`must sum to 1. Got [${values.join(', ')}] (sum ${sum}) instead.`)
  }
  if (rule.nClasses !== undefined && values.length !== rule.nClasses) {
    fail(`must have one value per class: ${rule.nClasses} classes but ${values.length} priors.`)
  }
}

/** scikit-learn 1.2's floor on the smoothing parameter (`force_alpha=False`). */
export const ALPHA_FLOOR = 1e-10

/**
 * The smoothing actually used: `alpha`, or 1e-10 when it is smaller (scikit-learn 1.2 with `force_alpha=False`),
 * which keeps every log probability finite. `onClip` runs when the floor applies (the models emit a process
 * warning once, as scikit-learn warns).
 */
export function effectiveAlpha(alpha: number, onClip: () => void): number {
  if (alpha < ALPHA_FLOOR) {
    onClip()
    return ALPHA_FLOOR
  }
  return alpha
}

/**
 * Emits a Node process warning (type `ScalemlWarning`, code `SCALEML_<key>`) unless `seen` already holds `key`:
 * a warning, not an error, because the model still fits.
 */
export function warnOnce(seen: Set<string>, key: string, message: string): void {
  if (seen.has(key)) return
  seen.add(key)
  process.emitWarning(message, { type: 'ScalemlWarning', code: `SCALEML_${key}` })
}

/** Throws `INVALID_ARGUMENT` unless two models of `owner` can merge: same params, classes and feature count. */
export function checkMergeable(
  owner: string,
  mine: { params: object; classes: readonly number[]; nFeatures: number | undefined },
  theirs: { params: object; classes: readonly number[]; nFeatures: number | undefined },
): void {
  if (!sameValue(mine.params, theirs.params)) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${owner}.merge needs models with the same params; got ${JSON.stringify(theirs.params)}, expected ${JSON.stringify(mine.params)}.`,
    )
  }
  if (mine.nFeatures === undefined || theirs.nFeatures === undefined) return
  if (!sameNumbers(mine.classes, theirs.classes)) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${owner}.merge needs models with the same classes; got [${theirs.classes.join(', ')}], expected [${mine.classes.join(', ')}].`,
    )
  }
  if (mine.nFeatures !== theirs.nFeatures) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${owner}.merge needs models with the same feature count; got ${theirs.nFeatures}, expected ${mine.nFeatures}.`,
    )
  }
}

/** Deep equality of plain JSON-like values (params), ignoring key order. */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameValue(v, b[i]))
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined)
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined)
  return (
    ka.length === kb.length &&
    ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  )
}

/** Element-wise equality of two number lists. */
export function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

/**
 * Predicted labels: per row, the class with the largest joint log likelihood (the first on ties). The row's
 * likelihoods go through `scratch` (`nClasses` long), so nothing but the output is allocated.
 */
export function predictLabels(
  jll: JointLogLikelihood,
  X: DenseMatrix,
  classes: readonly number[],
  scratch: Float64Array,
): Float64Array {
  const out = new Float64Array(X.rows)
  const n = classes.length
  for (let r = 0; r < X.rows; r++) {
    jll.write(X, scratch, r, r + 1)
    out[r] = classes[argmax(scratch, 0, n)]!
  }
  return out
}

/** Joint log likelihoods, `rows × classes` row-major. */
export function jointLogProba(jll: JointLogLikelihood, X: DenseMatrix, nClasses: number): Float64Array {
  const out = new Float64Array(X.rows * nClasses)
  jll.write(X, out, 0, X.rows)
  return out
}

/** Posterior probabilities, `rows × classes` row-major: the joint log likelihoods normalized by log-sum-exp. */
export function posteriorProba(jll: JointLogLikelihood, X: DenseMatrix, nClasses: number): Float64Array {
  const out = jointLogProba(jll, X, nClasses)
  softmaxRowsInPlace(out, X.rows, nClasses)
  return out
}

/**
 * The Classifier contract's margins: for two classes one value per row, the log posterior odds
 * `jll[1] − jll[0]` (positive means `classes[1]`); otherwise the joint log likelihoods, `rows × classes`.
 */
export function decisionValues(
  jll: JointLogLikelihood,
  X: DenseMatrix,
  nClasses: number,
  scratch: Float64Array,
): Float64Array {
  if (nClasses !== 2) return jointLogProba(jll, X, nClasses)
  const out = new Float64Array(X.rows)
  for (let r = 0; r < X.rows; r++) {
    jll.write(X, scratch, r, r + 1)
    out[r] = scratch[1]! - scratch[0]!
  }
  return out
}

/** The `ARTIFACT_INVALID` error for a malformed field of a serialized model. */
export function invalidState(kind: string, path: string, expected: string, received: unknown): ScalemlError {
  const got = typeof received === 'string' ? received : Array.isArray(received) ? 'an array' : typeof received
  return new ScalemlError('ARTIFACT_INVALID', `Invalid ${kind} state: ${path} must be ${expected}, got ${got}.`, [
    { code: 'invalid_value', path: path.split('.'), message: `expected ${expected}`, expected, received: got },
  ])
}

/** Reads the sorted, distinct, finite `state.classes` of a serialized model. */
export function readClasses(kind: string, raw: Readonly<Record<string, unknown>>): number[] {
  const classes = raw['classes']
  if (
    !Array.isArray(classes) ||
    classes.length === 0 ||
    !classes.every((c, i) => typeof c === 'number' && Number.isFinite(c) && (i === 0 || c > classes[i - 1]))
  ) {
    throw invalidState(kind, 'state.classes', 'a non-empty array of increasing finite numbers', classes)
  }
  return [...(classes as number[])]
}

/** Reads `state.nFeatures`, a positive integer. */
export function readFeatureCount(kind: string, raw: Readonly<Record<string, unknown>>): number {
  const n = raw['nFeatures']
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw invalidState(kind, 'state.nFeatures', 'a positive integer', n)
  }
  return n
}

/** Reads a numeric array field (a Float64Array or a plain array) of the given length: finite, optionally ≥ 0. */
export function readVector(
  kind: string,
  raw: Readonly<Record<string, unknown>>,
  field: string,
  length: number,
  nonNegative: boolean,
): Float64Array {
  const v = raw[field]
  let out: Float64Array
  if (v instanceof Float64Array) out = v.slice()
  else if (Array.isArray(v) && v.every((x) => typeof x === 'number')) out = Float64Array.from(v as number[])
  else throw invalidState(kind, `state.${field}`, `a Float64Array of ${length} values`, v)
  if (out.length !== length) throw invalidState(kind, `state.${field}`, `${length} values`, `${out.length} values`)
  if (firstNonFiniteF64(out, 0, length) >= 0)
    throw invalidState(kind, `state.${field}`, 'finite values', 'a non-finite value')
  if (nonNegative && out.some((x) => x < 0)) {
    throw invalidState(kind, `state.${field}`, 'non-negative values', 'a negative value')
  }
  return out
}

/** Validates params while loading: any `INVALID_PARAM` becomes `ARTIFACT_INVALID`. */
export function validateLoadedParams(kind: string, check: () => void): void {
  try {
    check()
  } catch (error) {
    throw new ScalemlError('ARTIFACT_INVALID', `Invalid ${kind} params: ${(error as Error).message}`, [], {
      cause: error,
    })
  }
}

/** The `NOT_FITTED` error. */
export function notFitted(owner: string): ScalemlError {
  return new ScalemlError('NOT_FITTED', `This ${owner} is not fitted yet; call partialFit first.`)
}
