/**
 * Model-catalog entries of the naive Bayes classifiers, shaped like the entries of `MODEL_CATALOG` in
 * `../catalog.ts` (task, description, constraint table, defaults, factory, validation, deserializer), for the
 * catalog to spread in. Kept here so the bayes folder does not import the catalog (which will import this file).
 * The constraint tables cover the scalar params; the list-valued `priors` / `classPrior` are validated by
 * `validate` (and on the first `partialFit`) but cannot be set with `--param key=value`.
 * @module
 */
import type { Constraints } from '../../core/params.js'
import type { EstimatorJSON } from '../estimator.js'
import {
  BERNOULLI_NB_CONSTRAINTS,
  BERNOULLI_NB_DEFAULTS,
  BernoulliNB,
  type BernoulliNBParams,
  validateBernoulliParams,
} from './bernoulli-nb.js'
import {
  GAUSSIAN_NB_CONSTRAINTS,
  GAUSSIAN_NB_DEFAULTS,
  GaussianNB,
  type GaussianNBParams,
  validateGaussianParams,
} from './gaussian-nb.js'
import {
  MULTINOMIAL_NB_CONSTRAINTS,
  MULTINOMIAL_NB_DEFAULTS,
  MultinomialNB,
  type MultinomialNBParams,
  validateMultinomialParams,
} from './multinomial-nb.js'

type Params = Readonly<Record<string, unknown>>
type AnyConstraints = Constraints<Record<string, unknown>>

/**
 * The three naive Bayes entries by catalog name.
 * @example
 * const model = BAYES_CATALOG_ENTRIES['multinomial-nb'].create({ alpha: 0.5 })
 */
export const BAYES_CATALOG_ENTRIES = {
  'gaussian-nb': {
    task: 'classification' as const,
    description: 'Gaussian naive Bayes: per-class feature means and variances; scikit-learn GaussianNB',
    constraints: GAUSSIAN_NB_CONSTRAINTS as AnyConstraints,
    defaults: GAUSSIAN_NB_DEFAULTS,
    create: (params: Params = {}): GaussianNB => new GaussianNB(params as Partial<GaussianNBParams>),
    validate: (params: Params): void =>
      validateGaussianParams({ ...GAUSSIAN_NB_DEFAULTS, ...(params as Partial<GaussianNBParams>) }),
    fromJSON: (json: EstimatorJSON): GaussianNB => GaussianNB.fromJSON(json),
  },
  'multinomial-nb': {
    task: 'classification' as const,
    description: 'Multinomial naive Bayes for non-negative counts (word or event counts); scikit-learn MultinomialNB',
    constraints: MULTINOMIAL_NB_CONSTRAINTS as AnyConstraints,
    defaults: MULTINOMIAL_NB_DEFAULTS,
    create: (params: Params = {}): MultinomialNB => new MultinomialNB(params as Partial<MultinomialNBParams>),
    validate: (params: Params): void =>
      validateMultinomialParams({ ...MULTINOMIAL_NB_DEFAULTS, ...(params as Partial<MultinomialNBParams>) }),
    fromJSON: (json: EstimatorJSON): MultinomialNB => MultinomialNB.fromJSON(json),
  },
  'bernoulli-nb': {
    task: 'classification' as const,
    description: 'Bernoulli naive Bayes for binary (or thresholded) features; scikit-learn BernoulliNB',
    constraints: BERNOULLI_NB_CONSTRAINTS as AnyConstraints,
    defaults: BERNOULLI_NB_DEFAULTS,
    create: (params: Params = {}): BernoulliNB => new BernoulliNB(params as Partial<BernoulliNBParams>),
    validate: (params: Params): void =>
      validateBernoulliParams({ ...BERNOULLI_NB_DEFAULTS, ...(params as Partial<BernoulliNBParams>) }),
    fromJSON: (json: EstimatorJSON): BernoulliNB => BernoulliNB.fromJSON(json),
  },
} as const
