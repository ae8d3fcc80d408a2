/**
 * Gradient boosting over rows on disk (external memory): the boosting loop of gbdt.ts with every per-row array —
 * bins, labels, weights, margins, gradients, the row order of the tree being grown — kept in chunk files
 * ({@link ExternalRows}, {@link TrainingState}) and read one chunk at a time into one set of buffers
 * ({@link ChunkBuffers}). Memory holds the buffers, the histograms of open leaves and the trees; nothing grows with
 * the row count. The model is the one in-memory training gives on the same bins, bit for bit (external-boost.test.ts
 * holds them equal): every per-row computation is the same kernel on the same values, every sum over rows runs in
 * row order across the chunks, and the trees come from {@link ExternalTreeGrower}.
 *
 * Passes over the training chunks, per tree: one that applies the previous tree's leaf values to the margins,
 * computes the gradients when a round starts, draws the row sample and builds the root's histogram (all per-row work
 * of the in-memory loop between two trees, fused); then the grower's split passes (about one per tree level). With
 * evaluation rows, one pass over them per tree (and the loss after the last tree of a round). Single-threaded:
 * `nThreads` is ignored.
 * @module
 */
import { ScalemlError } from '../../../core/errors.js'
import { Random } from '../../../core/random.js'
import { accumulateImportance, gbdtGrowerSettings, keepRounds, sampleFeatures } from '../boosted-rounds.js'
import type { GbdtCommonParams, GbdtIteration } from '../gbdt.js'
import { addBinnedTreeMargins } from '../kernels/binned-tree.js'
import { addLeafValue } from '../kernels/chunk-histogram.js'
import { addLosses, type BoostBuffers, boostGradients, meanOfLosses, OBJECTIVE } from '../kernels/objectives.js'
import { type TreeEnsemble, TreeEnsembleBuilder, type TreeObjective } from '../tree-ensemble.js'
import { type GrowerSettings, type GrownTree, toTreeSpec, treeLeafWeights } from '../tree-grower.js'
import { type ExternalTree, ExternalTreeGrower } from './external-grower.js'
import { checkExternalLabels, checkExternalRows, writeClassIndices } from './external-labels.js'
import { externalMedian } from './external-median.js'
import type { ExternalRows } from './external-rows.js'
import { ChunkBuffers, TrainingState } from './training-state.js'

/** A boosting objective (gbdt.ts's). */
export type ExternalObjective = 'logistic' | 'softmax' | 'squared_error' | 'pseudo_huber'

/** What is boosted: the objective, the outputs (trees per round), the pseudo-Huber slope. */
export interface ExternalProblem {
  readonly objective: ExternalObjective
  readonly nOutputs: number
  readonly delta: number
}

/** What {@link boostExternal} trains on and reports to. */
export interface ExternalBoostSpec {
  readonly problem: ExternalProblem
  /**
   * The classes, for a classifier whose rows hold class labels: each label is replaced by its index for training
   * (in the training state; the rows are not changed). Absent: labels are used as they are (targets, or indices).
   */
  readonly mapClasses?: readonly number[]
  /** The classes the result records (classifiers). */
  readonly classes?: readonly number[]
  /** Validation rows (labels as the training rows'): loss per round, early stopping. */
  readonly evalRows?: ExternalRows
  readonly featureNames?: readonly string[]
  readonly onIteration?: (event: GbdtIteration) => void
}

/** The fitted state, as gbdt.ts keeps it, plus the passes made. */
export interface ExternalBoostResult {
  readonly ensemble: TreeEnsemble
  readonly classes: readonly number[] | undefined
  readonly importanceGain: Float64Array
  readonly importanceSplit: Float64Array
  readonly nRounds: number
  readonly bestIteration: number
  readonly validLoss: readonly number[]
  /** Passes over the training chunks (each reads every chunk that holds rows of the nodes it splits). */
  readonly passes: number
}

const ENSEMBLE_OBJECTIVE: Record<ExternalObjective, TreeObjective> = {
  logistic: 'binary:logistic',
  softmax: 'multi:softprob',
  squared_error: 'reg:squarederror',
  pseudo_huber: 'reg:pseudohubererror',
}

const NO_WEIGHTS = new Float64Array(0)
const ALL_ROWS = new Uint32Array(0)

/** The tree whose leaf values the next pass adds to the margins. */
interface PendingTree {
  readonly grown: ExternalTree
  readonly values: Float64Array
  readonly output: number
  /** In-sample rows per chunk when it was grown (the rest of each chunk's row order is out of sample). */
  readonly inSample: Int32Array
}

/**
 * Boosts `params.nEstimators` rounds over `rows` (finished; labels finite, class labels when `mapClasses` is given).
 * The per-row state lives in spill files in the rows' folder and is deleted before returning, also on error.
 */
export function boostExternal(
  params: GbdtCommonParams,
  rows: ExternalRows,
  spec: ExternalBoostSpec,
): ExternalBoostResult {
  const owner = 'GBDT (external memory)'
  checkExternalRows(owner, rows)
  checkExternalLabels(owner, rows)
  const evalRows = spec.evalRows
  if (evalRows !== undefined) {
    checkExternalRows(`${owner} evalSet`, evalRows)
    if (evalRows.mapper !== rows.mapper) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        'The external evaluation rows must be binned with the training bin mapper.',
      )
    }
    checkExternalLabels(owner, evalRows, 'evalSet.')
  }
  const K = spec.problem.nOutputs
  const classIndices = spec.mapClasses !== undefined
  const state = new TrainingState(rows, { nOutputs: K, gradients: true, classIndices })
  let evalState: TrainingState | undefined
  try {
    if (evalRows !== undefined) evalState = new TrainingState(evalRows, { nOutputs: K, gradients: false, classIndices })
    if (spec.mapClasses !== undefined) {
      writeClassIndices(state, spec.mapClasses)
      if (evalState !== undefined) writeClassIndices(evalState, spec.mapClasses, 'evalSet.')
    }
    return new ExternalBooster(params, { state, evalState, spec }).run()
  } finally {
    state.close()
    evalState?.close()
  }
}

/** The rounds of {@link boostExternal}. */
class ExternalBooster {
  readonly #params: GbdtCommonParams
  readonly #spec: ExternalBoostSpec
  readonly #rows: ExternalRows
  readonly #state: TrainingState
  readonly #evalState: TrainingState | undefined
  readonly #buffers: ChunkBuffers
  readonly #grower: ExternalTreeGrower
  readonly #random: Random
  readonly #K: number
  #passes = 0

  constructor(
    params: GbdtCommonParams,
    io: { state: TrainingState; evalState: TrainingState | undefined; spec: ExternalBoostSpec },
  ) {
    this.#params = params
    this.#spec = io.spec
    this.#state = io.state
    this.#evalState = io.evalState
    this.#rows = io.state.rows
    this.#K = io.spec.problem.nOutputs
    const chunkRows = Math.max(this.#rows.chunkRows, io.evalState?.rows.chunkRows ?? 0)
    this.#buffers = new ChunkBuffers({ chunkRows, nFeatures: this.#rows.nFeatures, nOutputs: this.#K })
    const settings: GrowerSettings = gbdtGrowerSettings(params)
    this.#grower = new ExternalTreeGrower(this.#rows, { state: this.#state, buffers: this.#buffers }, settings)
    this.#random = new Random(params.seed)
  }

  run(): ExternalBoostResult {
    const params = this.#params
    const spec = this.#spec
    const problem = spec.problem
    const K = this.#K
    const mapper = this.#rows.mapper
    const nFeatures = mapper.nFeatures
    const random = this.#random
    const base = this.#baseMargins()
    const builder = new TreeEnsembleBuilder({
      nFeatures,
      nOutputs: K,
      objective: ENSEMBLE_OBJECTIVE[problem.objective],
      baseMargin: base,
      ...(spec.featureNames === undefined ? {} : { featureNames: spec.featureNames }),
    })
    if (this.#evalState !== undefined) this.#initEvalMargins(base)
    const features = new Int32Array(nFeatures)
    const nColumns = Math.max(1, Math.round(nFeatures * params.colsampleBytree))
    const roundGain: Float64Array[] = []
    const roundSplit: Float64Array[] = []
    const validLoss: number[] = []
    let bestIteration = -1
    let bestLoss = Number.POSITIVE_INFINITY
    let nodeValues = new Float64Array(64)
    let pending: PendingTree | undefined
    let inSample = new Int32Array(this.#rows.nChunks)
    let spare = new Int32Array(this.#rows.nChunks)

    let round = 0
    for (; round < params.nEstimators; round++) {
      const gain = new Float64Array(nFeatures)
      const split = new Float64Array(nFeatures)
      let loss: number | undefined
      for (let k = 0; k < K; k++) {
        const root = this.#advance(pending, { output: k, round, base, inSample })
        const nSelected = sampleFeatures(random, nColumns, nFeatures, features)
        const grown = this.#grower.grow({ output: k, features, nSelected, root, inSample })
        const tree = grown.tree
        if (nodeValues.length < tree.nNodes) nodeValues = new Float64Array(tree.nNodes * 2)
        treeLeafWeights(tree, 0, params.lambda, nodeValues)
        for (let i = 0; i < tree.nNodes; i++) nodeValues[i] = nodeValues[i]! * params.learningRate
        const values = nodeValues.slice(0, tree.nNodes)
        pending = { grown, values, output: k, inSample }
        const swap = spare
        spare = inSample
        inSample = swap
        if (this.#evalState !== undefined) loss = this.#evalPass(tree, { values, output: k, lossAfter: k === K - 1 })
        accumulateImportance(tree, gain, split)
        builder.addTree(toTreeSpec(tree, mapper, values), k)
      }
      roundGain.push(gain)
      roundSplit.push(split)
      if (loss !== undefined) {
        validLoss.push(loss)
        if (loss < bestLoss) {
          bestLoss = loss
          bestIteration = round
        }
      }
      spec.onIteration?.(loss === undefined ? { iteration: round } : { iteration: round, validLoss: loss })
      if (
        params.earlyStoppingRounds !== null &&
        this.#evalState !== undefined &&
        round - bestIteration >= params.earlyStoppingRounds
      ) {
        round++
        break
      }
    }
    const nRounds = round
    const hasEval = this.#evalState !== undefined
    const kept = hasEval && params.earlyStoppingRounds !== null ? bestIteration + 1 : nRounds
    const { ensemble, importanceGain, importanceSplit } = keepRounds(
      builder,
      { grown: nRounds, kept, treesPerRound: K },
      roundGain,
      roundSplit,
      nFeatures,
    )
    return {
      ensemble,
      classes: spec.classes,
      importanceGain,
      importanceSplit,
      nRounds,
      bestIteration: hasEval ? Math.max(bestIteration, 0) : nRounds - 1,
      validLoss,
      passes: this.#passes + this.#grower.passes,
    }
  }

  /**
   * The pass between two trees, over every training chunk: adds the previous tree's leaf values to its output's
   * margins (or sets the starting margins, before the first tree), computes every output's gradients when a round
   * starts, draws the next tree's rows (in-sample first, then out-of-sample, each ascending) and adds them to its root
   * histogram. Fills `next.inSample` and returns the root.
   */
  #advance(
    previous: PendingTree | undefined,
    next: { output: number; round: number; base: Float64Array; inSample: Int32Array },
  ) {
    const rows = this.#rows
    const state = this.#state
    const b = this.#buffers
    const K = this.#K
    const subsample = this.#params.subsample
    const random = this.#random
    const first = previous === undefined
    const newRound = next.output === 0
    const weighted = rows.weighted
    // The root's row ranges depend on the in-sample count, so count it first with a copy of the generator's state.
    let nIn = rows.nRows
    if (subsample < 1) {
      const saved = random.getState()
      nIn = 0
      for (let r = 0; r < rows.nRows; r++) if (random.next() < subsample) nIn++
      random.setState(saved)
    }
    const root = this.#grower.rootAccumulator({ nIn })
    for (let c = 0; c < rows.nChunks; c++) {
      const n = rows.chunkLength(c)
      rows.readBins(c, b.bins)
      // Margins of every output when gradients are due, else of the previous tree's output only (at offset 0).
      const allMargins = newRound
      if (first) for (let k = 0; k < K; k++) b.margin.fill(next.base[k]!, k * n, (k + 1) * n)
      else if (allMargins) state.readMargins(c, b.margin)
      else state.readMargins(c, b.margin, previous.output)
      if (previous !== undefined) {
        state.readRows(c, b.rows)
        applyTree(
          previous,
          c,
          { n, bins: b.bins, rows: b.rows, margin: b.margin },
          allMargins ? previous.output * n : 0,
        )
      }
      if (newRound) {
        state.readLabels(c, b.label)
        if (weighted) rows.readWeights(c, b.weight)
        const weight = weighted ? b.weight.subarray(0, n) : NO_WEIGHTS
        computeGradients(this.#spec.problem, { margin: b.margin, label: b.label, weight, n }, b.allGradHess)
        for (let k = 0; k < K; k++) state.writeGradients(c, k, b.allGradHess.subarray(2 * k * n))
        // The root is output 0's tree.
        b.gradHess.set(b.allGradHess.subarray(0, 2 * n))
      } else {
        state.readGradients(c, next.output, b.gradHess)
      }
      let inChunk = n
      if (subsample < 1) {
        inChunk = 0
        let out = 0
        for (let r = 0; r < n; r++) {
          if (random.next() < subsample) b.rows[inChunk++] = r
          else b.scratch[out++] = r
        }
        b.rows.set(b.scratch.subarray(0, out), inChunk)
      } else {
        for (let r = 0; r < n; r++) b.rows[r] = r
      }
      next.inSample[c] = inChunk
      this.#grower.addRootRows(root, n, inChunk)
      if (first || allMargins) state.writeMargins(c, b.margin)
      else state.writeMargins(c, b.margin, previous.output)
      state.writeRows(c, b.rows)
    }
    this.#passes++
    return root
  }

  /** Starting margins of the evaluation rows. */
  #initEvalMargins(base: Float64Array): void {
    const state = this.#evalState!
    const b = this.#buffers
    for (let c = 0; c < state.rows.nChunks; c++) {
      const n = state.rows.chunkLength(c)
      for (let k = 0; k < this.#K; k++) b.margin.fill(base[k]!, k * n, (k + 1) * n)
      state.writeMargins(c, b.margin)
    }
  }

  /**
   * Adds a tree's leaf values to the evaluation rows' margins of its output; after the last tree of a round, returns
   * the round's validation loss (summed in row order, as `meanLoss`).
   */
  #evalPass(
    tree: GrownTree,
    at: { readonly values: Float64Array; readonly output: number; readonly lossAfter: boolean },
  ): number | undefined {
    const state = this.#evalState!
    const rows = state.rows
    const b = this.#buffers
    const problem = this.#spec.problem
    const sums = new Float64Array(2)
    for (let c = 0; c < rows.nChunks; c++) {
      const n = rows.chunkLength(c)
      rows.readBins(c, b.bins)
      if (at.lossAfter) state.readMargins(c, b.margin)
      else state.readMargins(c, b.margin, at.output)
      const offset = at.lossAfter ? at.output * n : 0
      addBinnedTreeMargins(
        b.bins,
        n,
        ALL_ROWS,
        n,
        tree.feature,
        tree.left,
        tree.right,
        tree.goesLeft,
        at.values,
        b.margin,
        1,
        offset,
      )
      if (at.lossAfter) {
        state.writeMargins(c, b.margin)
        state.readLabels(c, b.label)
        if (rows.weighted) rows.readWeights(c, b.weight)
        const weight = rows.weighted ? b.weight.subarray(0, n) : NO_WEIGHTS
        addLosses(problem.objective, b.margin, b.label, weight, n, this.#K, problem.delta, sums)
      } else {
        state.writeMargins(c, b.margin, at.output)
      }
    }
    return at.lossAfter ? meanOfLosses(problem.objective, sums) : undefined
  }

  /** The starting margin per output: `baseScore` mapped through the link's inverse, or the loss minimizer. */
  #baseMargins(): Float64Array {
    const p = this.#spec.problem
    const baseScore = this.#params.baseScore
    const out = new Float64Array(p.nOutputs)
    if (baseScore !== null) {
      if (p.objective === 'logistic') out[0] = Math.log(baseScore / (1 - baseScore))
      else if (p.objective !== 'softmax') out[0] = baseScore
      return out
    }
    const rows = this.#rows
    const b = this.#buffers
    // Each sum runs over the rows in order, exactly as gbdt.ts's loops over one array.
    let total = 0
    let weighted = 0
    const counts = new Float64Array(p.nOutputs)
    for (let c = 0; c < rows.nChunks; c++) {
      const n = rows.chunkLength(c)
      this.#state.readLabels(c, b.label)
      if (rows.weighted) rows.readWeights(c, b.weight)
      for (let r = 0; r < n; r++) {
        const w = rows.weighted ? b.weight[r]! : 1
        total += w
        if (p.objective === 'softmax') counts[b.label[r]!] = counts[b.label[r]!]! + w
        else weighted += b.label[r]! * w
      }
    }
    if (total <= 0) return out
    switch (p.objective) {
      case 'logistic': {
        const rate = Math.min(Math.max(weighted / total, 1e-7), 1 - 1e-7)
        out[0] = Math.log(rate / (1 - rate))
        return out
      }
      case 'softmax': {
        let mean = 0
        for (let k = 0; k < p.nOutputs; k++) {
          out[k] = Math.log(Math.max(counts[k]! / total, 1e-7))
          mean += out[k]!
        }
        mean /= p.nOutputs
        for (let k = 0; k < p.nOutputs; k++) out[k] = out[k]! - mean
        return out
      }
      case 'squared_error':
        out[0] = weighted / total
        return out
      case 'pseudo_huber':
        out[0] = externalMedian(rows, { total, label: b.label, weight: b.weight })
        return out
    }
  }
}

/** Adds `tree`'s leaf values to chunk `c`'s margins at `offset`: in-sample rows by leaf range, the others by walking. */
function applyTree(
  tree: PendingTree,
  c: number,
  chunk: { n: number; bins: Uint8Array; rows: Uint32Array; margin: Float64Array },
  offset: number,
): void {
  const { feature } = tree.grown.tree
  const ranges = tree.grown.ranges
  for (let i = 0; i < tree.grown.tree.nNodes; i++) {
    if (feature[i] !== -1) continue
    const range = ranges[i]!
    addLeafValue(chunk.rows, range[2 * c]!, range[2 * c + 1]!, tree.values[i]!, chunk.margin, offset)
  }
  const inSample = tree.inSample[c]!
  const nOut = chunk.n - inSample
  if (nOut === 0) return
  const t = tree.grown.tree
  addBinnedTreeMargins(
    chunk.bins,
    chunk.n,
    chunk.rows.subarray(inSample, chunk.n),
    nOut,
    t.feature,
    t.left,
    t.right,
    t.goesLeft,
    tree.values,
    chunk.margin,
    1,
    offset,
  )
}

const PASS_OBJECTIVE: Record<ExternalObjective, number> = {
  logistic: OBJECTIVE.logistic,
  softmax: OBJECTIVE.softmax,
  squared_error: OBJECTIVE.squaredError,
  pseudo_huber: OBJECTIVE.pseudoHuber,
}

const NO_LEAVES = new Uint16Array(0)
const NO_VALUES = new Float64Array(0)

/**
 * Every output's gradient pairs of a chunk of `n` rows into `out` (output `k` at `2kn`), with the in-memory boosting
 * pass's kernel (`boostGradients`: same formulas, same fast exp, same float32 rounding). The margins here already
 * hold every tree (applied when its pass ran), so the kernel has no pending leaf values to add: the margins it reads
 * are the ones the in-memory pass builds by adding the same values in the same order.
 */
function computeGradients(
  p: ExternalProblem,
  rows: { margin: Float64Array; label: Float64Array; weight: Float64Array; n: number },
  out: Float32Array,
): void {
  const buffers: BoostBuffers = {
    margin: rows.margin,
    label: rows.label,
    weight: rows.weight,
    leafOf: NO_LEAVES,
    leafValues: NO_VALUES,
    valueStride: 0,
    apply: new Uint8Array(p.nOutputs),
    gradHess: out,
    expScratch: new Float64Array(p.nOutputs),
  }
  boostGradients(PASS_OBJECTIVE[p.objective], p.nOutputs, rows.n, p.delta, buffers, 0, rows.n)
}
