/**
 * Catalog entries of the clustering models, shaped like `MODEL_CATALOG`'s entries (task, description, constraint
 * table, defaults, factory, validation, deserializer) so the model catalog can list them beside the supervised
 * models.
 * @module
 */
import type { Constraints } from '../../core/params.js'
import type { Clusterer, EstimatorJSON } from '../estimator.js'
import {
  MINIBATCH_KMEANS_CONSTRAINTS,
  MINIBATCH_KMEANS_DEFAULTS,
  MiniBatchKMeans,
  type MiniBatchKMeansParams,
  validateMiniBatchKMeansParams,
} from './minibatch-kmeans.js'

/** One catalog entry of a clustering model (the clustering counterpart of `ModelEntry`). */
export interface ClusterEntry<M extends Clusterer = Clusterer> {
  readonly task: 'clustering'
  /** One line for `scaleml models` and `--help`. */
  readonly description: string
  readonly constraints: Constraints<Record<string, unknown>>
  /** Default hyperparameters. */
  readonly defaults: Readonly<Record<string, unknown>>
  /** A new unfitted model; params are stored as given and validated on the first `partialFit` (or by `validate`). */
  create(params?: Readonly<Record<string, unknown>>): M
  /** Full validation of params merged over the defaults; throws `INVALID_PARAM`. */
  validate(params: Readonly<Record<string, unknown>>): void
  /** Rebuilds a fitted model from its `toJSON()`; throws `ARTIFACT_INVALID` when malformed. */
  fromJSON(json: EstimatorJSON): M
}

/** Every clustering model by name. */
export const CLUSTER_CATALOG_ENTRIES = {
  'minibatch-kmeans': {
    task: 'clustering',
    description:
      'Mini-batch k-means clustering (k-means++ init, per-center learning rates); scikit-learn MiniBatchKMeans',
    constraints: MINIBATCH_KMEANS_CONSTRAINTS,
    defaults: MINIBATCH_KMEANS_DEFAULTS,
    create: (params = {}) => new MiniBatchKMeans(params as Partial<MiniBatchKMeansParams>),
    validate: (params) =>
      validateMiniBatchKMeansParams({ ...MINIBATCH_KMEANS_DEFAULTS, ...params } as MiniBatchKMeansParams),
    fromJSON: (json) => MiniBatchKMeans.fromJSON(json),
  } satisfies ClusterEntry<MiniBatchKMeans>,
} as const
