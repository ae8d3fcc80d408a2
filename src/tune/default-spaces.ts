/**
 * The search space `scaleml tune` uses when none is given, per trainable model. Ranges come from each model's
 * constraint table where the table bounds them (a closed real range → uniform over it; a closed set of values or a
 * boolean → every value); unbounded parameters (regularization strengths, learning rates, counts) get the ranges
 * practitioners search, on a log scale. Pure data: no training.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Constraint } from '../core/params.js'
import { categorical, type Distribution, integer, loguniform, type SearchSpace, uniform } from './space.js'

/** A curated distribution, or `'derive'`: take it from the constraint table. */
type Rule = Distribution | 'derive'

const GBDT: Record<string, Rule> = {
  learningRate: loguniform(0.01, 0.3),
  maxLeaves: integer(8, 256, { log: true }),
  minSamplesLeaf: integer(1, 200, { log: true }),
  lambda: loguniform(1e-3, 10),
}

const RANDOM_FOREST: Record<string, Rule> = {
  maxFeatures: 'derive',
  minSamplesLeaf: integer(1, 100, { log: true }),
  maxSamples: uniform(0.3, 1),
}

const SGD_COMMON: Record<string, Rule> = {
  alpha: loguniform(1e-6, 1e-1),
  penalty: 'derive',
  l1Ratio: 'derive',
}

/** Parameters searched by default, per catalog model. */
const DEFAULT_RULES: Readonly<Record<string, Record<string, Rule>>> = {
  'gbdt-classifier': GBDT,
  'gbdt-regressor': GBDT,
  'random-forest-classifier': RANDOM_FOREST,
  'random-forest-regressor': RANDOM_FOREST,
  'sgd-classifier': { ...SGD_COMMON, loss: categorical(['log_loss', 'modified_huber', 'hinge']) },
  'sgd-regressor': { ...SGD_COMMON, loss: categorical(['squared_error', 'huber', 'epsilon_insensitive']) },
  perceptron: { ...SGD_COMMON, eta0: loguniform(1e-3, 10) },
  'passive-aggressive-classifier': { C: loguniform(1e-3, 10), loss: 'derive' },
  'passive-aggressive-regressor': { C: loguniform(1e-3, 10), epsilon: loguniform(1e-3, 1), loss: 'derive' },
  'gaussian-nb': { varSmoothing: loguniform(1e-12, 1e-3) },
  'multinomial-nb': { alpha: loguniform(1e-3, 10), fitPrior: 'derive' },
  'bernoulli-nb': { alpha: loguniform(1e-3, 10), fitPrior: 'derive' },
}

/** Models that have a default space. */
export const MODELS_WITH_DEFAULT_SPACE: readonly string[] = Object.keys(DEFAULT_RULES)

/**
 * The distribution a constraint bounds on its own: every value of a closed set, both booleans, or the whole of a
 * real range closed at both ends; `undefined` when the constraint leaves the range open.
 */
export function distributionFromConstraint(c: Constraint): Distribution | undefined {
  switch (c.kind) {
    case 'oneOf':
      return categorical(c.values)
    case 'bool':
      return categorical([true, false])
    case 'real':
      if (c.min === undefined || c.max === undefined || (c.closed ?? 'both') !== 'both') return undefined
      return uniform(c.min, c.max)
    case 'int':
      if (c.min === undefined || c.max === undefined || c.max - c.min > 64) return undefined
      return integer(c.min, c.max)
  }
}

/**
 * The default search space of catalog model `model` (resolved name, e.g. `gbdt-classifier`) with its constraint
 * table; throws `INVALID_ARGUMENT` for a model without one, saying to pass `--space`.
 *
 * @example
 * const space = defaultSearchSpace('gbdt-classifier', modelEntry('gbdt-classifier').constraints)
 * // { learningRate: loguniform(0.01, 0.3), maxLeaves: int 8..256 log, minSamplesLeaf: int 1..200 log, lambda: … }
 */
export function defaultSearchSpace(model: string, constraints: Readonly<Record<string, Constraint>>): SearchSpace {
  const rules = DEFAULT_RULES[model]
  if (rules === undefined) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${model} has no default search space; pass one with --space space.json. Models with a default: ${MODELS_WITH_DEFAULT_SPACE.join(', ')}.`,
    )
  }
  const space: Record<string, Distribution> = {}
  for (const [name, rule] of Object.entries(rules)) {
    if (rule !== 'derive') {
      space[name] = rule
      continue
    }
    const constraint = constraints[name]
    const derived = constraint === undefined ? undefined : distributionFromConstraint(constraint)
    // A rule table out of step with the model is our bug, not the user's.
    if (derived === undefined) throw new Error(`default space of ${model}: cannot derive '${name}' from its constraint`)
    space[name] = derived
  }
  return space
}
