/**
 * What every SGD-trained linear model (SGD, perceptron, passive-aggressive) shares: the common SGD
 * hyperparameters and their extra rules, input checks with messages that name the row and feature, the learned
 * state of `nOutputs` linear outputs (one for binary classification and regression, one per class for
 * one-vs-rest), the pass that runs the SGD kernel over every output with rollback on divergence (on dense rows or
 * on sparse `SparseRows`, with the same result), and (de)serialization of that state.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { DenseMatrix, SparseRows } from '../../core/matrix.js'
import { isSparseRows } from '../../core/matrix.js'
import type { Constraints } from '../../core/params.js'
import { bool, int, oneOf, real } from '../../core/params.js'
import { Random } from '../../core/random.js'
import { validateParamsWithClassWeight } from './class-weight.js'
import { allFinite, firstNonFiniteF32, firstNonFiniteF64 } from './kernels/finite.js'
import { linearScores, linearScoresSparse } from './kernels/linear-predict.js'
import type { LossName } from './kernels/losses.js'
import { lossSpec } from './kernels/losses.js'
import { effectiveL1Ratio, PENALTY_NAMES, type PenaltyName, penaltyKind } from './kernels/penalties.js'
import { optimalInit, SCHEDULE_NAMES, type ScheduleName, scheduleKind } from './kernels/schedules.js'
import type { SgdScratch, SgdSettings } from './kernels/sgd-epoch.js'
import {
  createSgdScratch,
  preferSparseLoops,
  SCALAR_AVERAGE_INTERCEPT,
  SCALAR_INTERCEPT,
  SCALAR_T,
  sgdEpoch,
} from './kernels/sgd-epoch.js'
import { sgdEpochSparse } from './kernels/sgd-epoch-sparse.js'

/** Hyperparameters common to the SGD classifier and regressor (scikit-learn's names in camelCase). */
export type SgdCommonParams = {
  /** The regularisation penalty. */
  readonly penalty: PenaltyName
  /** Regularisation strength; also sets the 'optimal' step size. */
  readonly alpha: number
  /** Elastic-net mixing: 0 is pure L2, 1 pure L1. Used only with penalty 'elasticnet'. */
  readonly l1Ratio: number
  /** Learn an intercept. */
  readonly fitIntercept: boolean
  /** Step-size schedule. */
  readonly learningRate: ScheduleName
  /** Initial step for 'constant', 'invscaling' and 'adaptive'. */
  readonly eta0: number
  /** Exponent of 'invscaling': `eta = eta0 / t^powerT`. */
  readonly powerT: number
  /** Width of the insensitive zone ('epsilon_insensitive' losses) or the Huber threshold. */
  readonly epsilon: number
  /** Shuffle the rows of every `partialFit` call with a generator seeded by `seed`. */
  readonly shuffle: boolean
  /** Seed of the shuffling generator. */
  readonly seed: number
  /** Averaged SGD: 0 is off, N starts averaging once N rows have been learned from (1 ≡ scikit-learn's `True`). */
  readonly average: number
}

/** Constraints of the common hyperparameters (scikit-learn's `_parameter_constraints`). */
export const SGD_COMMON_CONSTRAINTS: Constraints<SgdCommonParams> = {
  penalty: oneOf(...PENALTY_NAMES),
  alpha: real({ min: 0 }),
  l1Ratio: real({ min: 0, max: 1 }),
  fitIntercept: bool(),
  learningRate: oneOf(...SCHEDULE_NAMES),
  eta0: real({ min: 0 }),
  powerT: real(),
  epsilon: real({ min: 0 }),
  shuffle: bool(),
  seed: int({ min: 0, max: 4294967295 }),
  average: int({ min: 0 }),
}

/** Parameters plus the loss, as both estimators have them. */
export type SgdParamsWithLoss = SgdCommonParams & { readonly loss: LossName }

/**
 * Validates params against the table (a `classWeight` map included, see `validateParamsWithClassWeight`) and the
 * rules that involve two parameters (scikit-learn's `_more_validate_params`); throws `INVALID_PARAM`.
 */
export function validateSgdParams<P extends SgdParamsWithLoss>(
  owner: string,
  constraints: Constraints<P>,
  params: P,
): void {
  validateParamsWithClassWeight(owner, constraints, params)
  const { learningRate, eta0, alpha } = params
  if (learningRate !== 'optimal' && !(eta0 > 0)) {
    throw new ScalemlError(
      'INVALID_PARAM',
      `The 'eta0' parameter of ${owner} must be > 0 when learningRate is '${learningRate}'. Got ${eta0} instead.`,
      [{ code: 'out_of_range', path: ['eta0'], message: `eta0 must be > 0 with learningRate '${learningRate}'` }],
    )
  }
  if (learningRate === 'optimal' && alpha === 0) {
    throw new ScalemlError(
      'INVALID_PARAM',
      `The 'alpha' parameter of ${owner} must be > 0 when learningRate is 'optimal' (alpha sets the optimal step size). Got 0 instead.`,
      [{ code: 'out_of_range', path: ['alpha'], message: "alpha must be > 0 with learningRate 'optimal'" }],
    )
  }
}

/** Turns validated params into the kernel's settings. */
export function resolveSettings(params: SgdParamsWithLoss): SgdSettings {
  const loss = lossSpec(params.loss, params.epsilon)
  const penalty = penaltyKind(params.penalty)
  const schedule = scheduleKind(params.learningRate)
  return {
    loss: loss.kind,
    lossParam: loss.param,
    penalty,
    alpha: params.alpha,
    l1Ratio: effectiveL1Ratio(penalty, params.l1Ratio),
    schedule,
    eta0: params.eta0,
    powerT: params.powerT,
    optimalInit: params.learningRate === 'optimal' ? optimalInit(params.alpha, loss.kind, loss.param) : 0,
    paC: 0,
    fitIntercept: params.fitIntercept,
    average: params.average,
  }
}

/** The params that shape the learned state: averaging keeps averaged weights, shuffling a seeded generator. */
export type LinearStateParams = {
  /** 0: no averaging (models without averaging pass 0). */
  readonly average: number
  readonly shuffle: boolean
  readonly seed: number
}

/** Learned state of `nOutputs` linear outputs over `nFeatures` features. */
export interface LinearSgdState {
  readonly nFeatures: number
  readonly nOutputs: number
  /** The SGD iterate, `nOutputs × nFeatures` row-major. */
  readonly coef: Float64Array
  readonly intercept: Float64Array
  /** Averaged weights and intercepts; present when `average > 0`. */
  readonly averageCoef: Float64Array | null
  readonly averageIntercept: Float64Array | null
  /** 1 + rows learned from so far (scikit-learn's `t_`). */
  t: number
  /** Shuffling generator; present when `shuffle` is on. */
  readonly random: Random | null
}

/** A zeroed state. */
export function createLinearState(nOutputs: number, nFeatures: number, params: LinearStateParams): LinearSgdState {
  const averaging = params.average > 0
  return {
    nFeatures,
    nOutputs,
    coef: new Float64Array(nOutputs * nFeatures),
    intercept: new Float64Array(nOutputs),
    averageCoef: averaging ? new Float64Array(nOutputs * nFeatures) : null,
    averageIntercept: averaging ? new Float64Array(nOutputs) : null,
    t: 1,
    random: params.shuffle ? new Random(params.seed) : null,
  }
}

/**
 * The weights prediction uses: the averaged ones once averaging has seen at least one row
 * (scikit-learn: `average <= t_ - 1`), the SGD iterate otherwise.
 */
export function predictiveWeights(
  state: LinearSgdState,
  average: number,
): { readonly coef: Float64Array; readonly intercept: Float64Array } {
  if (average > 0 && average <= state.t - 1 && state.averageCoef !== null && state.averageIntercept !== null) {
    return { coef: state.averageCoef, intercept: state.averageIntercept }
  }
  return { coef: state.coef, intercept: state.intercept }
}

/** Checks X's shape, and its width against the fitted width when fitted. */
export function checkShape(owner: string, X: DenseMatrix, nFeatures: number | undefined): void {
  if (X.data.length !== X.rows * X.cols) {
    throw new ScalemlError(
      'INVALID_INPUT',
      `X has ${X.data.length} values but claims ${X.rows} rows × ${X.cols} features.`,
      [{ code: 'invalid_value', path: ['X'], message: 'data length does not match rows × cols' }],
    )
  }
  checkWidth(owner, X.cols, nFeatures)
}

/** Checks X's feature count: at least one, and the fitted count when fitted. */
function checkWidth(owner: string, cols: number, nFeatures: number | undefined): void {
  if (nFeatures !== undefined && cols !== nFeatures) {
    throw new ScalemlError(
      'INVALID_INPUT',
      `X has ${cols} features, but ${owner} was fitted with ${nFeatures} features.`,
      [{ code: 'invalid_value', path: ['X'], message: `expected ${nFeatures} features`, received: String(cols) }],
    )
  }
  if (cols === 0) {
    throw new ScalemlError('INVALID_INPUT', `X has 0 features; ${owner} needs at least one.`, [
      { code: 'invalid_value', path: ['X'], message: 'no features' },
    ])
  }
}

/** Throws `INVALID_DATA` naming the row and feature of the first NaN or infinite value in X. */
export function checkFinite(owner: string, X: DenseMatrix): void {
  const bad = firstNonFiniteF32(X.data, 0, X.rows * X.cols)
  if (bad < 0) return
  const row = Math.floor(bad / X.cols)
  const feature = bad - row * X.cols
  const value = X.data[bad]!
  throw new ScalemlError(
    'INVALID_DATA',
    `X contains ${value} at row ${row}, feature ${feature}; ${owner} needs finite features (impute or drop missing values first).`,
    [{ code: 'not_finite', path: ['X', row, feature], message: `${value} is not finite`, received: String(value) }],
  )
}

/** `checkShape` then `checkFinite`. */
export function checkFeatures(owner: string, X: DenseMatrix, nFeatures: number | undefined): void {
  checkShape(owner, X, nFeatures)
  checkFinite(owner, X)
}

/**
 * Checks sparse X's shape (array lengths, width against the fitted width when fitted) and that every row's
 * indices ascend strictly within `[0, cols)`, which the sparse kernels rely on (an index out of range would read
 * or write outside the weights; out of order or repeated, it would sum in another order than the dense rows).
 */
export function checkSparseShape(owner: string, X: SparseRows, nFeatures: number | undefined): void {
  const { rows, cols, nnzPerRow, indices, values } = X
  const size = rows * nnzPerRow
  if (
    !Number.isInteger(nnzPerRow) ||
    nnzPerRow < 0 ||
    nnzPerRow > cols ||
    indices.length !== size ||
    values.length !== size
  ) {
    throw new ScalemlError(
      'INVALID_INPUT',
      `Sparse X has ${indices.length} indices and ${values.length} values but claims ${rows} rows × ${nnzPerRow} entries (of ${cols} features).`,
      [{ code: 'invalid_value', path: ['X'], message: 'entry arrays do not match rows × nnzPerRow' }],
    )
  }
  checkWidth(owner, cols, nFeatures)
  const bad = firstBadSparseEntry(indices, nnzPerRow, rows, cols)
  if (bad < 0) return
  const row = Math.floor(bad / nnzPerRow)
  const entry = bad - row * nnzPerRow
  const index = indices[bad]!
  const why =
    index < 0 || index >= cols
      ? `is outside [0, ${cols})`
      : `does not exceed the previous index ${indices[bad - 1]} (indices must ascend strictly within a row)`
  throw new ScalemlError('INVALID_INPUT', `Sparse X row ${row}, entry ${entry}: feature index ${index} ${why}.`, [
    { code: 'invalid_value', path: ['X', row, entry], message: `index ${index} ${why}`, received: String(index) },
  ])
}

/** Position of the first index that is out of `[0, cols)` or not above its row's previous index, or -1. */
function firstBadSparseEntry(indices: Int32Array, nnzPerRow: number, rows: number, cols: number): number {
  for (let r = 0, e = 0; r < rows; r++) {
    let previous = -1
    for (const end = e + nnzPerRow; e < end; e++) {
      const j = indices[e]!
      if (j <= previous || j >= cols) return e
      previous = j
    }
  }
  return -1
}

/** Throws `INVALID_DATA` naming the row and feature of the first NaN or infinite stored value of sparse X. */
export function checkSparseFinite(owner: string, X: SparseRows): void {
  const bad = firstNonFiniteF32(X.values, 0, X.values.length)
  if (bad < 0) return
  const row = Math.floor(bad / X.nnzPerRow)
  const feature = X.indices[bad]!
  const value = X.values[bad]!
  throw new ScalemlError(
    'INVALID_DATA',
    `X contains ${value} at row ${row}, feature ${feature}; ${owner} needs finite features (impute or drop missing values first).`,
    [{ code: 'not_finite', path: ['X', row, feature], message: `${value} is not finite`, received: String(value) }],
  )
}

/** `checkSparseShape` then `checkSparseFinite`. */
export function checkSparseFeatures(owner: string, X: SparseRows, nFeatures: number | undefined): void {
  checkSparseShape(owner, X, nFeatures)
  checkSparseFinite(owner, X)
}

/** `checkShape` or `checkSparseShape`, by layout. */
export function checkAnyShape(owner: string, X: DenseMatrix | SparseRows, nFeatures: number | undefined): void {
  if (isSparseRows(X)) checkSparseShape(owner, X, nFeatures)
  else checkShape(owner, X, nFeatures)
}

/**
 * `X · coefᵀ + intercept` for every row and output (`rows × nOutputs`, row-major), dense or sparse, after checking
 * X against the fitted width and for non-finite values. The sparse margins are bit-identical to the dense ones on
 * the dense expansion (see `linearScoresSparse`).
 */
export function linearMargins(
  owner: string,
  state: LinearSgdState,
  weights: { readonly coef: Float64Array; readonly intercept: Float64Array },
  X: DenseMatrix | SparseRows,
): Float64Array {
  const { nFeatures, nOutputs } = state
  const { coef, intercept } = weights
  if (isSparseRows(X)) {
    checkSparseFeatures(owner, X, nFeatures)
    const out = new Float64Array(X.rows * nOutputs)
    linearScoresSparse(X.indices, X.values, X.nnzPerRow, nFeatures, coef, intercept, nOutputs, out, 0, X.rows)
    return out
  }
  checkFeatures(owner, X, nFeatures)
  const out = new Float64Array(X.rows * nOutputs)
  linearScores(X.data, nFeatures, coef, intercept, nOutputs, out, 0, X.rows)
  return out
}

/** Checks that a per-row array (`y`, `sampleWeight`) has one value per row of X. */
export function checkLength(name: string, values: Float64Array, rows: number): void {
  if (values.length !== rows) {
    throw new ScalemlError('INVALID_INPUT', `${name} has ${values.length} values but X has ${rows} rows.`, [
      { code: 'invalid_value', path: [name], message: `expected ${rows} values`, received: String(values.length) },
    ])
  }
}

/** Checks a per-row array's length and that its values are finite. */
export function checkRowValues(name: string, values: Float64Array, rows: number): void {
  checkLength(name, values, rows)
  const bad = firstNonFiniteF64(values, 0, rows)
  if (bad >= 0) {
    throw new ScalemlError('INVALID_DATA', `${name} contains ${values[bad]} at row ${bad}; expected a finite number.`, [
      { code: 'not_finite', path: [name, bad], message: `${values[bad]} is not finite` },
    ])
  }
}

/** `SgdWorkspace.gather` slot of the shuffled targets. */
const GATHER_TARGETS = 0
/** `SgdWorkspace.gather` slot of the shuffled sample weights. */
const GATHER_WEIGHTS = 1

/** Copies the `nnz` entries of row `order[r]` to position `r`, for `r` in `[0, rows)`. Allocates nothing. */
function gatherEntries(
  indices: Int32Array,
  values: Float32Array,
  nnz: number,
  order: Uint32Array,
  rows: number,
  outIndices: Int32Array,
  outValues: Float32Array,
): void {
  for (let r = 0, e = 0; r < rows; r++) {
    const from = order[r]! * nnz
    for (let k = 0; k < nnz; k++, e++) {
      outIndices[e] = indices[from + k]!
      outValues[e] = values[from + k]!
    }
  }
}

/** Per-instance scratch that survives across calls but is never serialized. */
export class SgdWorkspace {
  #scratch: SgdScratch | undefined
  #targets: Float64Array | undefined
  #order: Uint32Array | undefined
  #rowIndices = new Int32Array(0)
  #rowValues = new Float32Array(0)
  readonly #gathered: (Float64Array | undefined)[] = []
  readonly scalars = new Float64Array(3)

  /** Scratch for `nFeatures` features. */
  scratch(nFeatures: number): SgdScratch {
    if (this.#scratch === undefined || this.#scratch.q.length < nFeatures) this.#scratch = createSgdScratch(nFeatures)
    return this.#scratch
  }

  /**
   * A permutation of `0 … rows − 1` drawn from `random`, into a reused buffer: the same draws, in the same order,
   * as `random.permutation(rows)` (so the same permutation), without its allocation, and in a loop that stays
   * monomorphic (the generic `Random.shuffle` measured ~5x slower per row once it has seen several array types).
   */
  permutation(random: Random, rows: number): Uint32Array {
    if (this.#order === undefined || this.#order.length < rows) this.#order = new Uint32Array(rows)
    const order = this.#order.subarray(0, rows)
    for (let i = 0; i < rows; i++) order[i] = i
    for (let i = rows - 1; i > 0; i--) {
      const j = random.nextInt(i + 1)
      const swap = order[i]!
      order[i] = order[j]!
      order[j] = swap
    }
    return order
  }

  /** `X`'s rows in the order `order` (`order[r]` at position `r`), in reused buffers. */
  gatherRows(X: SparseRows, order: Uint32Array): { readonly indices: Int32Array; readonly values: Float32Array } {
    const nnz = X.nnzPerRow
    const size = X.rows * nnz
    if (this.#rowIndices.length < size) {
      this.#rowIndices = new Int32Array(size)
      this.#rowValues = new Float32Array(size)
    }
    const indices = this.#rowIndices.subarray(0, size)
    const values = this.#rowValues.subarray(0, size)
    gatherEntries(X.indices, X.values, nnz, order, X.rows, indices, values)
    return { indices, values }
  }

  /** `source[order[r]]` at position `r`, into reused buffer number `slot`. */
  gather(source: Float64Array, order: Uint32Array, slot: number): Float64Array {
    const rows = order.length
    let buffer = this.#gathered[slot]
    if (buffer === undefined || buffer.length < rows) {
      buffer = new Float64Array(rows)
      this.#gathered[slot] = buffer
    }
    for (let r = 0; r < rows; r++) buffer[r] = source[order[r]!]!
    return buffer.subarray(0, rows)
  }

  /** A target buffer of at least `rows` entries. */
  targets(rows: number): Float64Array {
    if (this.#targets === undefined || this.#targets.length < rows) this.#targets = new Float64Array(rows)
    return this.#targets
  }
}

/** One batch as `runPartialFit` consumes it. */
export interface PartialFitPass {
  /** Dense rows, or sparse rows already checked by `checkSparseShape`. */
  readonly X: DenseMatrix | SparseRows
  /** Writes output `k`'s targets (±1 for classification) into `out` (or returns another array of them). */
  readonly fillTargets: (output: number, out: Float64Array) => Float64Array
  readonly sampleWeight: Float64Array | null
  /**
   * Per output `k`, the weight of its positive rows at `2k` and of its other rows at `2k + 1` (scikit-learn's
   * `pos_weight` / `neg_weight`); null weighs every row 1.
   */
  readonly outputWeights: Float64Array | null
}

/**
 * One `partialFit` pass: for every output `k`, `fillTargets(k, out)` writes that output's targets and the SGD
 * kernel (`sgdEpoch` for dense X, `sgdEpochSparse` for sparse X: the same updates) updates its weights; all outputs start from the same `t`, and `t` advances by the row count afterwards
 * (as scikit-learn's one-vs-rest does). X's values are checked by the kernel as it goes (a non-finite feature
 * makes a margin non-finite). On a NaN/infinite feature (`INVALID_DATA` naming row and feature) or weights that
 * overflow (`INVALID_DATA`), the state is restored, so a failed call leaves the model as it was.
 */
export function runPartialFit(
  owner: string,
  state: LinearSgdState,
  settings: SgdSettings,
  pass: PartialFitPass,
  workspace: SgdWorkspace,
): void {
  const { X, fillTargets, sampleWeight, outputWeights } = pass
  const { nFeatures, nOutputs } = state
  const rows = X.rows
  const backup = snapshot(state)
  const order = state.random === null ? null : workspace.permutation(state.random, rows)
  const scratch = workspace.scratch(nFeatures)
  const scalars = workspace.scalars
  const t0 = state.t
  const sparseX = isSparseRows(X) ? X : null
  const denseX = isSparseRows(X) ? null : X
  const sparseLoops = denseX !== null && preferSparseLoops(denseX.data, nFeatures, order, rows)
  // Shuffled sparse rows are copied into visiting order first, so the epoch reads them front to back: the copy's
  // loads are independent and overlap, while the epoch's would wait on one cache miss per row (measured on
  // flights-3m: ~2x faster per shuffled row). The kernel sees the same rows in the same order, so the same bits.
  const gathered = sparseX !== null && order !== null ? workspace.gatherRows(sparseX, order) : null
  const rowWeights =
    gathered !== null && sampleWeight !== null ? workspace.gather(sampleWeight, order!, GATHER_WEIGHTS) : sampleWeight
  let failed = false
  for (let k = 0; k < nOutputs && !failed; k++) {
    const targets = fillTargets(k, workspace.targets(rows))
    const y = gathered !== null ? workspace.gather(targets, order!, GATHER_TARGETS) : targets
    scalars[SCALAR_INTERCEPT] = state.intercept[k]!
    scalars[SCALAR_T] = t0
    scalars[SCALAR_AVERAGE_INTERCEPT] = state.averageIntercept?.[k] ?? 0
    const from = k * nFeatures
    const to = from + nFeatures
    const positiveWeight = outputWeights === null ? 1 : outputWeights[2 * k]!
    const negativeWeight = outputWeights === null ? 1 : outputWeights[2 * k + 1]!
    const w = state.coef.subarray(from, to)
    const average = state.averageCoef?.subarray(from, to) ?? null
    const badRow =
      sparseX !== null
        ? sgdEpochSparse(
            gathered?.indices ?? sparseX.indices,
            gathered?.values ?? sparseX.values,
            sparseX.nnzPerRow,
            nFeatures,
            gathered !== null ? null : order,
            rows,
            y,
            rowWeights,
            positiveWeight,
            negativeWeight,
            settings,
            w,
            average,
            scalars,
            scratch,
          )
        : sgdEpoch(
            denseX!.data,
            nFeatures,
            order,
            rows,
            y,
            sampleWeight,
            positiveWeight,
            negativeWeight,
            settings,
            w,
            average,
            scalars,
            scratch,
            sparseLoops,
          )
    failed = badRow >= 0
    state.intercept[k] = scalars[SCALAR_INTERCEPT]!
    if (state.averageIntercept !== null) state.averageIntercept[k] = scalars[SCALAR_AVERAGE_INTERCEPT]!
  }
  state.t = t0 + rows
  if (failed || !stateIsFinite(state)) {
    restore(state, backup)
    if (sparseX !== null) checkSparseFinite(owner, sparseX)
    else checkFinite(owner, denseX!)
    throw new ScalemlError(
      'INVALID_DATA',
      `${owner}: floating-point overflow during partialFit on ${rows} rows (weights or margins became non-finite); the model was left unchanged. ` +
        'Scale the features (e.g. a standard scaler) or lower eta0 / raise alpha.',
    )
  }
}

interface Snapshot {
  readonly coef: Float64Array
  readonly intercept: Float64Array
  readonly averageCoef: Float64Array | null
  readonly averageIntercept: Float64Array | null
  readonly t: number
  readonly randomState: number[] | null
}

function snapshot(state: LinearSgdState): Snapshot {
  return {
    coef: state.coef.slice(),
    intercept: state.intercept.slice(),
    averageCoef: state.averageCoef?.slice() ?? null,
    averageIntercept: state.averageIntercept?.slice() ?? null,
    t: state.t,
    randomState: state.random?.getState() ?? null,
  }
}

function restore(state: LinearSgdState, s: Snapshot): void {
  state.coef.set(s.coef)
  state.intercept.set(s.intercept)
  if (s.averageCoef !== null) state.averageCoef?.set(s.averageCoef)
  if (s.averageIntercept !== null) state.averageIntercept?.set(s.averageIntercept)
  state.t = s.t
  if (s.randomState !== null) state.random?.setState(s.randomState)
}

function stateIsFinite(state: LinearSgdState): boolean {
  return (
    allFinite(state.coef, 0, state.coef.length) &&
    allFinite(state.intercept, 0, state.intercept.length) &&
    (state.averageCoef === null || allFinite(state.averageCoef, 0, state.averageCoef.length)) &&
    (state.averageIntercept === null || allFinite(state.averageIntercept, 0, state.averageIntercept.length))
  )
}

/** Serialized form of `LinearSgdState` (typed arrays stay typed). */
export type LinearSgdStateJSON = {
  readonly nFeatures: number
  /** Weights prediction uses, `nOutputs × nFeatures` (scikit-learn's `coef_`). */
  readonly coef: Float64Array
  /** Intercepts prediction uses (scikit-learn's `intercept_`). */
  readonly intercept: Float64Array
  readonly t: number
  /** With averaging: the SGD iterate and the running averages, from which `coef` is derived. */
  readonly sgdCoef?: Float64Array
  readonly sgdIntercept?: Float64Array
  readonly averageCoef?: Float64Array
  readonly averageIntercept?: Float64Array
  /** Shuffling generator state, so a reloaded model shuffles its next batches as the original would. */
  readonly randomState?: number[]
}

/** Serializes the state; arrays are copies, so later training does not alter a taken snapshot. */
export function linearStateToJSON(state: LinearSgdState, average: number): LinearSgdStateJSON {
  const predictive = predictiveWeights(state, average)
  return {
    nFeatures: state.nFeatures,
    coef: predictive.coef.slice(),
    intercept: predictive.intercept.slice(),
    t: state.t,
    ...(state.averageCoef !== null && state.averageIntercept !== null
      ? {
          sgdCoef: state.coef.slice(),
          sgdIntercept: state.intercept.slice(),
          averageCoef: state.averageCoef.slice(),
          averageIntercept: state.averageIntercept.slice(),
        }
      : {}),
    ...(state.random !== null ? { randomState: state.random.getState() } : {}),
  }
}

/** Rebuilds a state from JSON, checking every shape; throws `ARTIFACT_INVALID` naming the bad field. */
export function linearStateFromJSON(
  kind: string,
  raw: Readonly<Record<string, unknown>>,
  nOutputs: number,
  params: LinearStateParams,
): LinearSgdState {
  const nFeatures = raw['nFeatures']
  if (typeof nFeatures !== 'number' || !Number.isInteger(nFeatures) || nFeatures < 1) {
    throw invalid(kind, 'state.nFeatures', 'a positive integer', nFeatures)
  }
  const t = raw['t']
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 1) throw invalid(kind, 'state.t', 'a number >= 1', t)
  const size = nOutputs * nFeatures
  const averaging = params.average > 0
  const coef = readFloat64(kind, raw, averaging ? 'sgdCoef' : 'coef', size)
  const intercept = readFloat64(kind, raw, averaging ? 'sgdIntercept' : 'intercept', nOutputs)
  const averageCoef = averaging ? readFloat64(kind, raw, 'averageCoef', size) : null
  const averageIntercept = averaging ? readFloat64(kind, raw, 'averageIntercept', nOutputs) : null
  let random: Random | null = null
  if (params.shuffle) {
    random = new Random(params.seed)
    const rs = raw['randomState']
    if (rs !== undefined) {
      if (!Array.isArray(rs) || rs.length !== 4 || !rs.every((v) => typeof v === 'number')) {
        throw invalid(kind, 'state.randomState', 'an array of 4 numbers', rs)
      }
      random.setState(rs as number[])
    }
  }
  return { nFeatures, nOutputs, coef, intercept, averageCoef, averageIntercept, t, random }
}

/** Reads a numeric array field (a Float64Array, or a plain array after a JSON round trip) of `length` finite values. */
export function readFloat64(
  kind: string,
  raw: Readonly<Record<string, unknown>>,
  field: string,
  length: number,
): Float64Array {
  const v = raw[field]
  let out: Float64Array
  if (v instanceof Float64Array) out = v.slice()
  else if (Array.isArray(v) && v.every((x) => typeof x === 'number')) out = Float64Array.from(v as number[])
  else throw invalid(kind, `state.${field}`, `a Float64Array of ${length} values`, v)
  if (out.length !== length) throw invalid(kind, `state.${field}`, `${length} values`, `${out.length} values`)
  if (!allFinite(out, 0, out.length)) throw invalid(kind, `state.${field}`, 'finite values', 'a non-finite value')
  return out
}

/** An `ARTIFACT_INVALID` error naming the bad field of a serialized model. */
export function invalid(kind: string, path: string, expected: string, received: unknown): ScalemlError {
  const got = typeof received === 'string' ? received : Array.isArray(received) ? 'an array' : typeof received
  return new ScalemlError('ARTIFACT_INVALID', `Invalid ${kind} state: ${path} must be ${expected}, got ${got}.`, [
    { code: 'invalid_value', path: path.split('.'), message: `expected ${expected}`, expected, received: got },
  ])
}
