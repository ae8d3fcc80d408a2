/**
 * Mini-batch k-means, one `partialFit` call per batch, reproducing scikit-learn 1.2.1's
 * `MiniBatchKMeans.partial_fit` step for step: centers initialized on the first batch, then per batch the rows
 * are assigned to their nearest center and each center moves to the running weighted mean of every row it has
 * absorbed (per-center weight sums as the learning rate), and starved centers are randomly reassigned.
 * With explicit initial centers and `reassignmentRatio: 0` no random number is drawn and results agree with
 * scikit-learn to float64 rounding; k-means++, 'random' and reassignment draw from scaleml's seeded generator,
 * not NumPy's. Training only: no I/O.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { Issue } from '../../core/issues.js'
import type { DenseMatrix } from '../../core/matrix.js'
import type { Constraints } from '../../core/params.js'
import { int, nullable, oneOf, real, validateParams } from '../../core/params.js'
import { Random } from '../../core/random.js'
import type { Clusterer, ClusterPartialFitOptions, EstimatorJSON } from '../estimator.js'
import { firstNonFiniteF32, firstNonFiniteF64 } from '../linear/kernels/finite.js'
import { assignNearest, centerSquaredNorms, euclideanDistances, nearestInertia } from './kernels/distances.js'
import { createKmeansPlusPlusScratch, kmeansPlusPlus, randomRows } from './kernels/init.js'
import { minibatchUpdate } from './kernels/minibatch-update.js'
import { createReassignScratch, type ReassignScratch, reassignStarvedCenters } from './kernels/reassign.js'

/** How the first batch seeds the centers: a method name, or the centers themselves (`nClusters` rows). */
export type KMeansInit = 'k-means++' | 'random' | readonly (readonly number[])[]

/** Hyperparameters of `MiniBatchKMeans` (scikit-learn's names in camelCase). */
export type MiniBatchKMeansParams = {
  /** Number of clusters (default 8). */
  readonly nClusters: number
  /**
   * 'k-means++' (default: greedy k-means++ on the first batch), 'random' (distinct uniform rows of the first batch),
   * or explicit initial centers, `nClusters` arrays of `nFeatures` numbers.
   */
  readonly init: KMeansInit
  /** Seed of the generator behind initialization and reassignment (default 0). */
  readonly seed: number
  /**
   * A center whose weight sum falls below this fraction of the largest one is moved to a random row of the batch
   * (default 0.01; 0 turns reassignment off). At most 1, so that the largest center is never moved.
   */
  readonly reassignmentRatio: number
  /**
   * Rows of the first batch that initialization looks at: when the batch is larger, this many rows are drawn from
   * it with replacement (as scikit-learn). Default null: `max(3 × 1024, 3 × nClusters)`, scikit-learn's
   * `3 × batch_size` at its default batch size. Must be ≥ nClusters.
   */
  readonly initSize: number | null
}

/** Defaults: scikit-learn's, with `seed` 0 in place of an unseeded generator. */
export const MINIBATCH_KMEANS_DEFAULTS: MiniBatchKMeansParams = {
  nClusters: 8,
  init: 'k-means++',
  seed: 0,
  reassignmentRatio: 0.01,
  initSize: null,
}

/**
 * Constraint table of `MiniBatchKMeansParams`. `init` also accepts explicit centers, which the table cannot
 * express; {@link validateMiniBatchKMeansParams} checks those.
 */
export const MINIBATCH_KMEANS_CONSTRAINTS: Constraints<MiniBatchKMeansParams> = {
  nClusters: int({ min: 1 }),
  init: oneOf('k-means++', 'random'),
  seed: int({ min: 0, max: 4294967295 }),
  reassignmentRatio: real({ min: 0, max: 1 }),
  initSize: nullable(int({ min: 1 })),
}

const OWNER = 'MiniBatchKMeans'
const KIND = 'minibatch-kmeans'

/** scikit-learn's default `batch_size`, which sets its default `init_size` (3 × batch size). */
const SKLEARN_BATCH_SIZE = 1024

/** Rows per block when scoring large inputs, so scratch stays small however many rows come in. */
const BLOCK_ROWS = 4096

/**
 * Validates params against the table, explicit initial centers (`nClusters` rows of one width ≥ 1, finite numbers)
 * and `initSize ≥ nClusters`; throws `INVALID_PARAM` listing every problem.
 */
export function validateMiniBatchKMeansParams(params: MiniBatchKMeansParams): void {
  const explicit = Array.isArray(params.init)
  validateParams(OWNER, MINIBATCH_KMEANS_CONSTRAINTS, explicit ? { ...params, init: 'k-means++' } : params)
  const issues: Issue[] = []
  if (explicit) issues.push(...initCenterIssues(params.init as readonly unknown[], params.nClusters))
  if (params.initSize !== null && params.initSize < params.nClusters) {
    issues.push({
      code: 'out_of_range',
      path: ['initSize'],
      message: `The 'initSize' parameter of ${OWNER} must be >= nClusters (${params.nClusters}). Got ${params.initSize} instead.`,
    })
  }
  if (issues.length > 0) throw new ScalemlError('INVALID_PARAM', issues.map((i) => i.message).join('\n'), issues)
}

function initCenterIssues(init: readonly unknown[], nClusters: number): Issue[] {
  const issues: Issue[] = []
  if (init.length !== nClusters) {
    issues.push({
      code: 'invalid_value',
      path: ['init'],
      message: `The 'init' parameter of ${OWNER} holds ${init.length} centers, but nClusters is ${nClusters}.`,
      expected: `${nClusters} centers`,
      received: `${init.length} centers`,
    })
  }
  const width = Array.isArray(init[0]) ? (init[0] as unknown[]).length : -1
  init.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== width || width < 1) {
      issues.push({
        code: 'invalid_value',
        path: ['init', i],
        message: `The 'init' parameter of ${OWNER}: center ${i} must be an array of ${width < 1 ? 'at least one number' : `${width} numbers like center 0`}.`,
      })
      return
    }
    const bad = row.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v))
    if (bad >= 0) {
      issues.push({
        code: 'not_finite',
        path: ['init', i, bad],
        message: `The 'init' parameter of ${OWNER}: center ${i}, feature ${bad} must be a finite number. Got ${String(row[bad])} instead.`,
      })
    }
  })
  return issues
}

/** Learned state. */
interface KMeansState {
  readonly nFeatures: number
  readonly nClusters: number
  /** `nClusters × nFeatures` row-major. */
  readonly centers: Float64Array
  /** Weight absorbed by each center (scikit-learn's `_counts`). */
  readonly counts: Float64Array
  /** `partialFit` calls that learned (scikit-learn's `n_steps_`). */
  nSteps: number
  /** Rows seen since the last reassignment check. */
  rowsSinceReassign: number
  readonly random: Random
}

/** Serialized state. */
export type MiniBatchKMeansStateJSON = {
  readonly nFeatures: number
  readonly centers: Float64Array
  readonly counts: Float64Array
  readonly nSteps: number
  readonly rowsSinceReassign: number
  /** Generator state, so a reloaded model reassigns as the original would have. */
  readonly randomState: number[]
}

/** Serialized `MiniBatchKMeans`. */
export type MiniBatchKMeansJSON = EstimatorJSON & {
  readonly kind: 'minibatch-kmeans'
  readonly params: MiniBatchKMeansParams
  readonly state: MiniBatchKMeansStateJSON
}

/** Per-instance scratch that survives across calls but is never serialized. */
class Workspace {
  labels = new Int32Array(0)
  norms = new Float64Array(0)
  batchWeights = new Float64Array(0)
  reassign: ReassignScratch | undefined

  ensure(rows: number, nClusters: number): void {
    if (this.labels.length < rows) this.labels = new Int32Array(Math.max(rows, 2 * this.labels.length))
    if (this.norms.length < nClusters) {
      this.norms = new Float64Array(nClusters)
      this.batchWeights = new Float64Array(nClusters)
      this.reassign = createReassignScratch(nClusters)
    }
  }
}

/**
 * Mini-batch k-means clustering.
 * @example
 * const model = new MiniBatchKMeans({ nClusters: 3, seed: 7 })
 * for (const X of batches) model.partialFit(X)
 * const labels = model.predict(X)     // cluster ids 0 … 2
 * const distances = model.transform(X) // rows × 3
 */
export class MiniBatchKMeans implements Clusterer {
  readonly kind = KIND
  readonly task = 'clustering'
  readonly params: Readonly<MiniBatchKMeansParams>
  #state: KMeansState | undefined
  readonly #workspace = new Workspace()

  constructor(params: Partial<MiniBatchKMeansParams> = {}) {
    this.params = { ...MINIBATCH_KMEANS_DEFAULTS, ...params }
  }

  /** True once `partialFit` has learned from a batch (or after `fromJSON`). */
  get isFitted(): boolean {
    return this.#state !== undefined
  }

  /** Feature count fixed by the first `partialFit`. */
  get nFeaturesIn(): number | undefined {
    return this.#state?.nFeatures
  }

  /** Number of clusters (the `nClusters` param). */
  get nClusters(): number {
    return this.params.nClusters
  }

  /** Cluster centers, `nClusters × nFeatures` row-major (scikit-learn's `cluster_centers_`); a copy. */
  get centers(): Float64Array {
    return this.#fitted().centers.slice()
  }

  /** Weight each center has absorbed (scikit-learn's `_counts`); a copy. */
  get counts(): Float64Array {
    return this.#fitted().counts.slice()
  }

  /** Batches learned from (scikit-learn's `n_steps_`). */
  get nSteps(): number {
    return this.#fitted().nSteps
  }

  /** A new unfitted model with some parameters changed (scikit-learn's `clone` + `set_params`). */
  withParams(patch: Partial<MiniBatchKMeansParams>): MiniBatchKMeans {
    return new MiniBatchKMeans({ ...this.params, ...patch })
  }

  /**
   * Learns from one batch. The first call validates the parameters, needs at least `nClusters` rows and
   * initializes the centers from them; every call assigns the rows to their nearest center, moves each center to
   * the weighted mean of all rows it has absorbed, and — on the first call, whenever a center has absorbed nothing,
   * and otherwise once `10 × nClusters` rows have passed since the last time — reassigns starved centers
   * (`reassignmentRatio`). Non-finite features, negative or non-finite weights and a changed feature count throw,
   * and a failed call leaves the model unchanged. A later call with zero rows changes nothing.
   */
  partialFit(X: DenseMatrix, options: ClusterPartialFitOptions = {}): void {
    const first = this.#state === undefined
    if (first) validateMiniBatchKMeansParams(this.params)
    checkFeatures(X, this.#state?.nFeatures)
    const sampleWeight = options.sampleWeight ?? null
    if (sampleWeight !== null) checkSampleWeight(sampleWeight, X.rows)
    const { nClusters, reassignmentRatio } = this.params
    if (first && X.rows < nClusters) {
      throw new ScalemlError(
        'INVALID_DATA',
        `${OWNER} needs at least nClusters = ${nClusters} rows in its first batch to initialize the centers; got ${X.rows}.`,
        [
          {
            code: 'out_of_range',
            path: ['X'],
            message: `expected at least ${nClusters} rows`,
            received: String(X.rows),
          },
        ],
      )
    }
    if (X.rows === 0) return
    const state = this.#state ?? this.#initialize(X)
    const workspace = this.#workspace
    workspace.ensure(X.rows, nClusters)
    // scikit-learn's `_random_reassign`, decided before the step on the counts as they were. scikit-learn adds its
    // fixed `batch_size` per call whatever the call's size; counting the rows actually seen keeps "every 10 × k rows"
    // true for callers whose batches vary (the same thing at scikit-learn's usual, equal-sized calls).
    state.rowsSinceReassign += X.rows
    let reassign = false
    if (state.counts.includes(0) || state.rowsSinceReassign >= 10 * nClusters) {
      state.rowsSinceReassign = 0
      reassign = true
    }
    const { centers, counts, nFeatures } = state
    centerSquaredNorms(centers, nFeatures, nClusters, workspace.norms)
    assignNearest(X.data, nFeatures, centers, workspace.norms, nClusters, workspace.labels, 0, X.rows)
    minibatchUpdate(
      X.data,
      nFeatures,
      X.rows,
      sampleWeight,
      workspace.labels,
      centers,
      counts,
      nClusters,
      workspace.batchWeights,
    )
    if (reassign && reassignmentRatio > 0) {
      reassignStarvedCenters(
        X.data,
        nFeatures,
        X.rows,
        centers,
        counts,
        nClusters,
        reassignmentRatio,
        state.random,
        workspace.reassign!,
      )
    }
    state.nSteps++
    this.#state = state
  }

  /** The nearest center of each row (cluster ids as numbers). */
  predict(X: DenseMatrix): Float64Array {
    const state = this.#checked(X)
    const workspace = this.#workspace
    const out = new Float64Array(X.rows)
    const block = Math.min(X.rows, BLOCK_ROWS)
    workspace.ensure(block, state.nClusters)
    centerSquaredNorms(state.centers, state.nFeatures, state.nClusters, workspace.norms)
    // Blocks keep the label scratch at BLOCK_ROWS however large X is.
    for (let start = 0; start < X.rows; start += BLOCK_ROWS) {
      const end = Math.min(X.rows, start + BLOCK_ROWS)
      const sub = X.data.subarray(start * state.nFeatures, end * state.nFeatures)
      assignNearest(
        sub,
        state.nFeatures,
        state.centers,
        workspace.norms,
        state.nClusters,
        workspace.labels,
        0,
        end - start,
      )
      for (let r = start; r < end; r++) out[r] = workspace.labels[r - start]!
    }
    return out
  }

  /** Euclidean distance from each row to each center, row-major `rows × nClusters`. */
  transform(X: DenseMatrix): Float64Array {
    const state = this.#checked(X)
    const out = new Float64Array(X.rows * state.nClusters)
    euclideanDistances(X.data, state.nFeatures, state.centers, state.nClusters, out, 0, X.rows)
    return out
  }

  /** Σ weight × squared distance of each row to its nearest center (scikit-learn's inertia on X). */
  inertia(X: DenseMatrix, options: ClusterPartialFitOptions = {}): number {
    const state = this.#checked(X)
    const sampleWeight = options.sampleWeight ?? null
    if (sampleWeight !== null) checkSampleWeight(sampleWeight, X.rows)
    const workspace = this.#workspace
    workspace.ensure(0, state.nClusters)
    centerSquaredNorms(state.centers, state.nFeatures, state.nClusters, workspace.norms)
    return nearestInertia(
      X.data,
      state.nFeatures,
      state.centers,
      workspace.norms,
      state.nClusters,
      sampleWeight,
      0,
      X.rows,
    )
  }

  /** `−inertia(X)`: higher is better (scikit-learn's `score`). */
  score(X: DenseMatrix, options: ClusterPartialFitOptions = {}): number {
    return -this.inertia(X, options)
  }

  /** Hyperparameters and learned state; typed arrays stay typed and are copies. */
  toJSON(): MiniBatchKMeansJSON {
    const state = this.#fitted()
    return {
      kind: KIND,
      params: { ...this.params },
      state: {
        nFeatures: state.nFeatures,
        centers: state.centers.slice(),
        counts: state.counts.slice(),
        nSteps: state.nSteps,
        rowsSinceReassign: state.rowsSinceReassign,
        randomState: state.random.getState(),
      },
    }
  }

  /** Rebuilds a model from `toJSON()` output; throws `ARTIFACT_INVALID` naming the first malformed field. */
  static fromJSON(json: EstimatorJSON): MiniBatchKMeans {
    if (json.kind !== KIND) {
      throw new ScalemlError('ARTIFACT_INVALID', `Expected kind '${KIND}', got '${String(json.kind)}'.`)
    }
    const model = new MiniBatchKMeans(json.params as Partial<MiniBatchKMeansParams>)
    try {
      validateMiniBatchKMeansParams(model.params)
    } catch (error) {
      throw new ScalemlError('ARTIFACT_INVALID', `Invalid ${KIND} params: ${(error as Error).message}`, [], {
        cause: error,
      })
    }
    const raw = json.state
    const nClusters = model.params.nClusters
    const nFeatures = raw['nFeatures']
    if (typeof nFeatures !== 'number' || !Number.isInteger(nFeatures) || nFeatures < 1) {
      throw invalidState('nFeatures', 'a positive integer', nFeatures)
    }
    const centers = readFloat64(raw, 'centers', nClusters * nFeatures)
    const counts = readFloat64(raw, 'counts', nClusters)
    if (counts.some((c) => c < 0)) throw invalidState('counts', 'non-negative values', 'a negative value')
    const nSteps = readCount(raw, 'nSteps')
    const rowsSinceReassign = readCount(raw, 'rowsSinceReassign')
    const rs = raw['randomState']
    if (!Array.isArray(rs) || rs.length !== 4 || !rs.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)) {
      throw invalidState('randomState', 'an array of 4 unsigned 32-bit integers', rs)
    }
    const random = new Random(model.params.seed)
    random.setState(rs as number[])
    model.#state = { nFeatures, nClusters, centers, counts, nSteps, rowsSinceReassign, random }
    return model
  }

  /** Centers from the first batch, by the `init` param; allocations here happen once per model. */
  #initialize(X: DenseMatrix): KMeansState {
    const { nClusters, init, seed } = this.params
    const nFeatures = X.cols
    const random = new Random(seed)
    const centers = new Float64Array(nClusters * nFeatures)
    if (Array.isArray(init)) {
      const width = (init[0] as readonly number[]).length
      if (width !== nFeatures) {
        throw new ScalemlError(
          'INVALID_PARAM',
          `The 'init' parameter of ${OWNER} holds centers of ${width} features, but X has ${nFeatures} features.`,
          [{ code: 'invalid_value', path: ['init'], message: `expected centers of ${nFeatures} features` }],
        )
      }
      ;(init as readonly (readonly number[])[]).forEach((row, j) => {
        centers.set(row, j * nFeatures)
      })
    } else {
      const sample = initSample(X, this.params.initSize ?? defaultInitSize(nClusters), random)
      const chosen = new Int32Array(nClusters)
      if (init === 'k-means++') {
        const scratch = createKmeansPlusPlusScratch(sample.rows, nFeatures, nClusters)
        kmeansPlusPlus(sample.data, nFeatures, sample.rows, nClusters, random, centers, chosen, scratch)
      } else {
        const order = new Int32Array(sample.rows)
        randomRows(sample.data, nFeatures, sample.rows, nClusters, random, centers, chosen, order)
      }
    }
    return {
      nFeatures,
      nClusters,
      centers,
      counts: new Float64Array(nClusters),
      nSteps: 0,
      rowsSinceReassign: 0,
      random,
    }
  }

  #checked(X: DenseMatrix): KMeansState {
    const state = this.#fitted()
    checkFeatures(X, state.nFeatures)
    return state
  }

  #fitted(): KMeansState {
    if (this.#state === undefined) {
      throw new ScalemlError('NOT_FITTED', `This ${OWNER} is not fitted yet; call partialFit first.`)
    }
    return this.#state
  }
}

/** scikit-learn's `init_size` when not given: `3 × batch_size` at its default batch size, at least `3 × nClusters`. */
function defaultInitSize(nClusters: number): number {
  return Math.max(3 * SKLEARN_BATCH_SIZE, 3 * nClusters)
}

/** The rows initialization sees: all of X, or `initSize` rows drawn with replacement when X is larger. */
function initSample(X: DenseMatrix, initSize: number, random: Random): DenseMatrix {
  if (initSize >= X.rows) return X
  const d = X.cols
  const data = new Float32Array(initSize * d)
  for (let i = 0; i < initSize; i++) {
    const r = random.nextInt(X.rows)
    data.set(X.data.subarray(r * d, (r + 1) * d), i * d)
  }
  return { data, rows: initSize, cols: d }
}

function checkFeatures(X: DenseMatrix, nFeatures: number | undefined): void {
  if (X.data.length !== X.rows * X.cols) {
    throw new ScalemlError(
      'INVALID_INPUT',
      `X has ${X.data.length} values but claims ${X.rows} rows × ${X.cols} features.`,
      [{ code: 'invalid_value', path: ['X'], message: 'data length does not match rows × cols' }],
    )
  }
  if (nFeatures !== undefined && X.cols !== nFeatures) {
    throw new ScalemlError(
      'INVALID_INPUT',
      `X has ${X.cols} features, but ${OWNER} was fitted with ${nFeatures} features.`,
      [{ code: 'invalid_value', path: ['X'], message: `expected ${nFeatures} features`, received: String(X.cols) }],
    )
  }
  if (X.cols === 0) {
    throw new ScalemlError('INVALID_INPUT', `X has 0 features; ${OWNER} needs at least one.`, [
      { code: 'invalid_value', path: ['X'], message: 'no features' },
    ])
  }
  const bad = firstNonFiniteF32(X.data, 0, X.rows * X.cols)
  if (bad >= 0) {
    const row = Math.floor(bad / X.cols)
    const feature = bad - row * X.cols
    const value = X.data[bad]!
    throw new ScalemlError(
      'INVALID_DATA',
      `X contains ${value} at row ${row}, feature ${feature}; ${OWNER} needs finite features (impute or drop missing values first).`,
      [{ code: 'not_finite', path: ['X', row, feature], message: `${value} is not finite`, received: String(value) }],
    )
  }
}

function checkSampleWeight(sampleWeight: Float64Array, rows: number): void {
  if (sampleWeight.length !== rows) {
    throw new ScalemlError('INVALID_INPUT', `sampleWeight has ${sampleWeight.length} values but X has ${rows} rows.`, [
      { code: 'invalid_value', path: ['sampleWeight'], message: `expected ${rows} values` },
    ])
  }
  let bad = firstNonFiniteF64(sampleWeight, 0, rows)
  if (bad < 0) bad = sampleWeight.findIndex((w) => w < 0)
  if (bad >= 0) {
    const value = sampleWeight[bad]!
    throw new ScalemlError(
      'INVALID_DATA',
      `sampleWeight contains ${value} at row ${bad}; ${OWNER} needs finite, non-negative weights.`,
      [{ code: 'out_of_range', path: ['sampleWeight', bad], message: `${value} is not a finite weight >= 0` }],
    )
  }
}

function readFloat64(raw: Readonly<Record<string, unknown>>, field: string, length: number): Float64Array {
  const v = raw[field]
  let out: Float64Array
  if (v instanceof Float64Array) out = v.slice()
  else if (Array.isArray(v) && v.every((x) => typeof x === 'number')) out = Float64Array.from(v as number[])
  else throw invalidState(field, `a Float64Array of ${length} values`, v)
  if (out.length !== length) throw invalidState(field, `${length} values`, `${out.length} values`)
  if (firstNonFiniteF64(out, 0, out.length) >= 0) throw invalidState(field, 'finite values', 'a non-finite value')
  return out
}

function readCount(raw: Readonly<Record<string, unknown>>, field: string): number {
  const v = raw[field]
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw invalidState(field, 'a non-negative integer', v)
  return v
}

function invalidState(field: string, expected: string, received: unknown): ScalemlError {
  const got =
    typeof received === 'string' || typeof received === 'number'
      ? String(received)
      : Array.isArray(received)
        ? 'an array'
        : typeof received
  return new ScalemlError(
    'ARTIFACT_INVALID',
    `Invalid ${KIND} state: state.${field} must be ${expected}, got ${got}.`,
    [{ code: 'invalid_value', path: ['state', field], message: `expected ${expected}`, expected, received: got }],
  )
}
