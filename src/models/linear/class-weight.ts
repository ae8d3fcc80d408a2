/**
 * Class weights of the linear classifiers (scikit-learn's `class_weight` and `compute_class_weight`): the
 * `classWeight` hyperparameter (`null`, an explicit `{ label: weight }` map, or 'balanced'), its validation, and
 * its resolution into one weight per class. scikit-learn's `partial_fit` refuses 'balanced' because one batch does
 * not show the class frequencies; scaleml resolves it from `classCounts`, the rows per class over the whole
 * training set, which the training loop counts in its first streaming pass and hands to the first `partialFit`.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { Issue } from '../../core/issues.js'
import { describeValue } from '../../core/issues.js'
import type { Constraint, Constraints } from '../../core/params.js'
import { nullable, oneOf, validateParams } from '../../core/params.js'

/**
 * Per-class weights of the updates: `null` weighs every class 1; a map `{ [label]: weight }` sets the listed
 * classes (the others stay 1); 'balanced' gives class `c` the weight `nRows / (nClasses × count(c))` from the
 * class counts of the whole training set (see `ClassCounts`). Keys of a map are class labels (JSON makes them
 * strings: `{ "0": 1, "1": 4.5 }`).
 */
export type ClassWeight = null | 'balanced' | Readonly<Record<number, number>>

/** Rows per class label over the whole training set: a `Map`, or an object keyed by label. */
export type ClassCounts = ReadonlyMap<number, number> | Readonly<Record<number, number>>

/**
 * The `classWeight` row of a constraint table. The constraint language has no "map of numbers", so the table
 * holds what it can express (null or 'balanced': what `--param` can set and tuning can search) and
 * `validateParamsWithClassWeight` checks a map itself.
 */
export const CLASS_WEIGHT_CONSTRAINT: Constraint = nullable(oneOf('balanced'))

const EXPECTED = 'null, "balanced" or an object mapping class labels to finite weights >= 0'

/** True for a plain object (a candidate weight map), false for null, strings, arrays, Maps and class instances. */
function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Parses a map key as a class label; NaN when it is not a finite number. */
function labelOf(key: string): number {
  const label = key.trim() === '' ? Number.NaN : Number(key)
  return Number.isFinite(label) ? label : Number.NaN
}

function classWeightMapIssue(owner: string, map: Readonly<Record<string, unknown>>): Issue | undefined {
  const seen = new Set<number>()
  for (const [key, weight] of Object.entries(map)) {
    const label = labelOf(key)
    const bad = Number.isNaN(label)
      ? `key '${key}' is not a class label`
      : seen.has(label)
        ? `class ${label} appears twice`
        : typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0
          ? `the weight of class ${key} must be a finite number >= 0`
          : undefined
    if (bad !== undefined) {
      return {
        code: 'invalid_value',
        path: ['classWeight', key],
        message: `The 'classWeight' parameter of ${owner} must be ${EXPECTED}; ${bad}. Got ${JSON.stringify(map)} instead.`,
        expected: EXPECTED,
        received: describeValue(weight),
      }
    }
    seen.add(label)
  }
  return undefined
}

/**
 * `validateParams`, except that a `classWeight` map (which the constraint table cannot express) is checked here:
 * every key a finite class label, every weight finite and >= 0. Throws one `INVALID_PARAM` listing every problem.
 */
export function validateParamsWithClassWeight<P extends object>(
  owner: string,
  constraints: Constraints<P>,
  params: P,
): void {
  const classWeight = (params as { readonly classWeight?: unknown }).classWeight
  const checkMap = Object.hasOwn(constraints, 'classWeight') && isPlainObject(classWeight)
  const issues: Issue[] = []
  try {
    validateParams(owner, constraints, checkMap ? { ...params, classWeight: null } : params)
  } catch (error) {
    if (!(error instanceof ScalemlError) || error.code !== 'INVALID_PARAM') throw error
    // The table's row describes only null and 'balanced'; the message should name every accepted form.
    for (const issue of error.issues) {
      issues.push(
        issue.path[0] === 'classWeight' && issue.code === 'invalid_value'
          ? {
              ...issue,
              message: `The 'classWeight' parameter of ${owner} must be ${EXPECTED}. Got ${JSON.stringify(classWeight) ?? String(classWeight)} instead.`,
              expected: EXPECTED,
            }
          : issue,
      )
    }
  }
  if (checkMap) {
    const issue = classWeightMapIssue(owner, classWeight)
    if (issue !== undefined) issues.push(issue)
  }
  if (issues.length > 0) throw new ScalemlError('INVALID_PARAM', issues.map((i) => i.message).join('\n'), issues)
}

/** Reads class counts into a Map, checking every label and count; throws `INVALID_ARGUMENT` naming the bad entry. */
function readClassCounts(counts: ClassCounts): Map<number, number> {
  const entries: [string | number, unknown][] =
    counts instanceof Map ? [...counts.entries()] : Object.entries(counts as Readonly<Record<string, unknown>>)
  const out = new Map<number, number>()
  for (const [key, count] of entries) {
    const label = typeof key === 'number' ? key : labelOf(key)
    if (!Number.isFinite(label)) {
      throw new ScalemlError('INVALID_ARGUMENT', `classCounts has key ${String(key)}, which is not a class label.`, [
        { code: 'invalid_value', path: ['classCounts', String(key)], message: 'not a finite class label' },
      ])
    }
    if (typeof count !== 'number' || !Number.isFinite(count) || count < 0) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `classCounts gives class ${label} the count ${String(count)}; expected a finite number >= 0.`,
        [{ code: 'invalid_value', path: ['classCounts', label], message: 'count must be finite and >= 0' }],
      )
    }
    out.set(label, (out.get(label) ?? 0) + count)
  }
  return out
}

/**
 * scikit-learn's `compute_class_weight('balanced', ...)`: `nRows / (nClasses × count(c))` for each class of the
 * sorted `classes`, where `nRows` is the total count. Every class must have rows, and every counted label must be
 * a class; throws `INVALID_ARGUMENT` otherwise.
 * @example
 * balancedClassWeights([0, 1], new Map([[0, 90], [1, 10]])) // Float64Array [100 / 180, 100 / 20]
 */
export function balancedClassWeights(classes: readonly number[], counts: ClassCounts): Float64Array {
  const byLabel = readClassCounts(counts)
  const known = new Set(classes)
  let total = 0
  for (const [label, count] of byLabel) {
    if (count > 0 && !known.has(label)) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `classCounts counts rows of label ${label}, which is not one of the classes [${classes.join(', ')}].`,
        [{ code: 'invalid_value', path: ['classCounts', label], message: `label ${label} is not a class` }],
      )
    }
  }
  for (const c of classes) total += byLabel.get(c) ?? 0
  const weights = new Float64Array(classes.length)
  classes.forEach((c, i) => {
    const count = byLabel.get(c) ?? 0
    if (!(count > 0)) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `classCounts has no rows of class ${c}; 'balanced' class weights need every class of [${classes.join(', ')}] to occur (n_rows / (n_classes × count) is infinite otherwise).`,
        [{ code: 'invalid_value', path: ['classCounts', c], message: `class ${c} has no rows` }],
      )
    }
    weights[i] = total / (classes.length * count)
  })
  return weights
}

/**
 * One weight per class of the sorted `classes`, as scikit-learn's `compute_class_weight` gives it: all 1 for
 * `null` (or an empty map); a map's weights for the classes it lists and 1 for the others (a map that misses some
 * classes must not name labels that are not classes: `INVALID_PARAM`, scikit-learn's "The classes, [...], are not
 * in class_weight"); 'balanced' from `classCounts`, which it then requires (`INVALID_ARGUMENT`).
 */
export function resolveClassWeights(
  owner: string,
  classWeight: ClassWeight,
  classes: readonly number[],
  classCounts: ClassCounts | undefined,
): Float64Array {
  const weights = new Float64Array(classes.length).fill(1)
  if (classWeight === null) return weights
  if (classWeight === 'balanced') {
    if (classCounts === undefined) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${owner} with classWeight 'balanced' needs options.classCounts (rows per class label over the whole training set) on the first partialFit call; scaleml's training loop counts them in its first pass. scikit-learn's partial_fit rejects 'balanced' for the same reason: one batch does not show the class frequencies.`,
        [{ code: 'invalid_value', path: ['classCounts'], message: "required with classWeight 'balanced'" }],
      )
    }
    return balancedClassWeights(classes, classCounts)
  }
  const byLabel = new Map<number, number>()
  for (const [key, weight] of Object.entries(classWeight as Readonly<Record<string, number>>)) {
    byLabel.set(labelOf(key), weight)
  }
  const unweighted: number[] = []
  classes.forEach((c, i) => {
    const w = byLabel.get(c)
    if (w === undefined) unweighted.push(c)
    else weights[i] = w
  })
  if (unweighted.length > 0 && classes.length - unweighted.length !== byLabel.size) {
    const strangers = [...byLabel.keys()].filter((label) => !classes.includes(label))
    throw new ScalemlError(
      'INVALID_PARAM',
      `The classes, [${unweighted.join(', ')}], are not in classWeight, and classWeight names labels [${strangers.join(', ')}] that are not classes of ${owner} ([${classes.join(', ')}]).`,
      [{ code: 'invalid_value', path: ['classWeight'], message: `labels [${strangers.join(', ')}] are not classes` }],
    )
  }
  return weights
}

/**
 * The kernel's per-output weights from per-class weights: a binary model's one output weighs its positive rows by
 * `classes[1]`'s weight and the others by `classes[0]`'s; one-vs-rest output `k` weighs its positive rows by class
 * `k`'s weight and the rest by 1 (scikit-learn's `fit_binary(..., pos_weight, neg_weight)` calls).
 */
export function outputWeights(classWeights: Float64Array): Float64Array {
  const nClasses = classWeights.length
  if (nClasses === 2) return Float64Array.of(classWeights[1]!, classWeights[0]!)
  const out = new Float64Array(2 * nClasses)
  for (let k = 0; k < nClasses; k++) {
    out[2 * k] = classWeights[k]!
    out[2 * k + 1] = 1
  }
  return out
}
