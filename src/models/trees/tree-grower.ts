/**
 * Grows one histogram tree over binned rows, the engine shared by gradient boosting and random forests.
 *
 * Growth order: 'leafwise' always splits the open leaf with the largest gain (LightGBM's best-first growth, bounded
 * by `maxLeaves`); 'depthwise' splits level by level (XGBoost's default order); 'depthfirst' splits the most
 * recently created node first, which keeps only O(depth) histograms open and suits unbounded deep trees (random
 * forests). With no `maxLeaves` the three give the same tree; they differ in which splits survive the leaf budget.
 * `maxDepth` bounds all three.
 *
 * Histograms: the root's is built from its rows; after a split, only the child with fewer rows is built from rows,
 * and the parent's buffer becomes the larger child's by subtraction. Rows live in one index array that each split
 * partitions stably in place, so every node owns a contiguous, ascending range of it.
 *
 * The result is a {@link GrownTree} in bin space (each split routes bins through a 256-entry table); the trainers turn
 * it into ensemble nodes with float32 thresholds and category lists. No I/O, no model knowledge.
 * @module
 */
import type { Random } from '../../core/random.js'
import type { BinnedData } from './binning.js'
import { HistogramBuilder, type HistogramBuilderOptions, sharedIf } from './histogram.js'
import { isWholeShared } from './histogram-tasks.js'
import { leafScore, leafWeight, NodeStats, SplitCandidate, SplitFinder, type SplitSettings } from './split-finder.js'
import type { TreeSpec } from './tree-ensemble.js'

/** Growth settings on top of the split settings. */
export interface GrowerSettings extends SplitSettings {
  /** Most leaves per tree; null for no bound. */
  readonly maxLeaves: number | null
  /** Most levels below the root; null for no bound. */
  readonly maxDepth: number | null
  readonly growPolicy: 'leafwise' | 'depthwise' | 'depthfirst'
  /**
   * Candidate features drawn at random (without replacement) for each node from the tree's features (random
   * forests); null to consider all of them.
   */
  readonly featuresPerSplit: number | null
  /**
   * A split is made only when its gain exceeds this (XGBoost uses 1e-6) and `1e-12 ×` the parent's leaf score, the
   * latter so that rounding noise never splits a pure node.
   */
  readonly minSplitGain: number
  /**
   * Threads that build the histograms of big nodes and partition their rows (the calling one included); default 1.
   * The tree is the same for any count. With more than one, call {@link TreeGrower.close} when done.
   */
  readonly nThreads?: number
  /** Thresholds of the threaded paths (tests and benches; defaults in histogram.ts). */
  readonly parallel?: Pick<
    HistogramBuilderOptions,
    'parallelMinWork' | 'parallelMinPartitionRows' | 'parallelWorkersOnly' | 'histogramUnitRows'
  >
}

/**
 * The gradients of one tree, in one of two forms: `grad` with `nGradients` columns of `nRows` (gradient `c` of row `r`
 * at `grad[c * nRows + r]`) and `hess` with one value per row; or, single-gradient trees only, `gradHess`
 * interleaved per row from `gradOffset` (`gradHess[gradOffset + 2r]` the gradient of row `r`, `+ 1` its hessian),
 * which the histograms read in place (with threads, when it is a whole `SharedArrayBuffer` view).
 */
export type TreeGradients =
  | { readonly grad: Float32Array; readonly hess: Float32Array; readonly gradHess?: undefined }
  | { readonly gradHess: Float32Array; readonly gradOffset: number; readonly grad?: undefined }

/** Inputs of one tree. */
export type GrowInput = TreeGradients & {
  /** The rows to grow on in `rows[0, nRows)`; the grower reorders them (leaf ranges index this array). */
  readonly rows: Uint32Array
  readonly nRows: number
  /** True when `rows[0, nRows)` is `0 … binned.nRows − 1` in order. */
  readonly allRows: boolean
  /** The features this tree may split on, `features[0, nFeatures)`. */
  readonly features: Int32Array
  readonly nFeatures: number
  /** Source of the per-node feature draws (needed when `featuresPerSplit` is set). */
  readonly random?: Random
}

/** A grown tree in bin space. Node 0 is the root; children come after their parent. */
export interface GrownTree {
  readonly nNodes: number
  readonly nGradients: number
  /** Split feature, -1 at leaves. */
  readonly feature: Int32Array
  /** 1 at categorical splits. */
  readonly categorical: Uint8Array
  /** Numeric split: the last value bin that goes left. */
  readonly bin: Int32Array
  /** 1 when missing values go left. */
  readonly defaultLeft: Uint8Array
  readonly left: Int32Array
  readonly right: Int32Array
  /** Routing table per node, 256 entries each: 1 when the bin goes left. */
  readonly goesLeft: Uint8Array
  /** Gain of the split at each internal node (0 at leaves). */
  readonly gain: Float64Array
  /** Hessian sum of each node. */
  readonly hess: Float64Array
  /** Rows of each node. */
  readonly count: Float64Array
  /** Gradient sums, `nNodes × nGradients`. */
  readonly grad: Float64Array
  /** Leaf rows: `rows[start[i], end[i])` for node `i` (for every node, leaves included). */
  readonly start: Int32Array
  readonly end: Int32Array
  readonly rows: Uint32Array
}

/**
 * Grows trees over one binned dataset; keeps its buffers (histogram pool, partition scratch) across trees. With
 * `settings.nThreads > 1` it holds worker threads: {@link close} it (in a `finally`) when done.
 *
 * @example
 * const grower = new TreeGrower(binned, 1, settings)
 * try {
 *   const tree = grower.grow({ grad, hess, rows, nRows, allRows: true, features, nFeatures })
 * } finally {
 *   grower.close()
 * }
 */
export class TreeGrower {
  readonly binned: BinnedData
  readonly nGradients: number
  readonly settings: GrowerSettings
  readonly #histograms: HistogramBuilder
  readonly #finder: SplitFinder
  readonly #scratch: Uint32Array
  readonly #candidates: SplitCandidate[] = []
  #nodeFeatures = new Int32Array(0)
  /** With threads: a shared copy of the caller's rows when those are not shared themselves. */
  #sharedRows = new Uint32Array(0)

  constructor(binned: BinnedData, nGradients: number, settings: GrowerSettings) {
    this.binned = binned
    this.nGradients = nGradients
    this.settings = settings
    // Row counts are only needed to enforce minSamplesLeaf > 1, or to tell empty children apart when hessians can
    // be 0; otherwise the kernels skip a third of their writes.
    const withCounts = nGradients > 1 || settings.minSamplesLeaf > 1 || !(settings.minChildWeight > 0)
    const nThreads = settings.nThreads ?? 1
    this.#histograms = new HistogramBuilder(binned, { nGradients, withCounts, nThreads, ...settings.parallel })
    this.#finder = new SplitFinder(binned.mapper, { nGradients, withCounts }, settings)
    this.#scratch = sharedIf(nThreads > 1, Uint32Array, binned.nRows)
  }

  /** The histogram builder (for tests and benches: its worker threads and counters). */
  get histograms(): HistogramBuilder {
    return this.#histograms
  }

  /** Stops the worker threads, if any (idempotent). */
  close(): void {
    this.#histograms.close()
  }

  /** Histogram buffers allocated so far (reuse keeps this near the number of simultaneously open leaves). */
  get histogramsAllocated(): number {
    return this.#histograms.pool.allocated
  }

  /**
   * Grows one tree. With threads, rows that are not a whole `SharedArrayBuffer` view are copied into a shared
   * buffer for the growth and back into `input.rows` at the end (allocate them shared to skip the copies).
   */
  grow(input: GrowInput): GrownTree {
    if (this.#histograms.nThreads === 1 || isWholeShared(input.rows)) return this.#grow(input)
    if (this.#sharedRows.length !== input.rows.length) {
      this.#sharedRows = sharedIf(true, Uint32Array, input.rows.length)
    }
    this.#sharedRows.set(input.rows)
    const tree = this.#grow({ ...input, rows: this.#sharedRows })
    input.rows.set(this.#sharedRows)
    return { ...tree, rows: input.rows }
  }

  #grow(input: GrowInput): GrownTree {
    const st = this.settings
    const K = this.nGradients
    const tree = new TreeBuffers(K)
    const histograms = this.#histograms
    const pool = histograms.pool
    const open = new OpenQueue(st.growPolicy)
    const hist: (Float64Array | undefined)[] = []
    const cand: (SplitCandidate | undefined)[] = []
    const gradients =
      input.gradHess === undefined
        ? { grad: input.grad, hess: input.hess }
        : { gradHess: input.gradHess, offset: input.gradOffset }
    const treeSelection = { features: input.features, nSelected: input.nFeatures }
    const binned = this.binned

    histograms.loadGradients(gradients)
    const rootHist = pool.acquire()
    histograms.build({ rows: input.rows, start: 0, end: input.nRows, allRows: input.allRows }, treeSelection, rootHist)
    const rootStats = new NodeStats(K)
    rootTotals(rootHist, binned.mapper.histogramOffsets, input, histograms.stride, rootStats)
    const root = tree.add(0, input.nRows, 0, rootStats)
    hist[root] = rootHist

    const evaluate = (node: number, stats: NodeStats): void => {
      const depth = tree.depth(node)
      const h = hist[node]!
      const splittable =
        (st.maxDepth === null || depth < st.maxDepth) &&
        tree.count[node]! >= 2 * Math.max(st.minSamplesLeaf, 1) &&
        stats.hess >= 2 * st.minChildWeight
      if (splittable) {
        const c = this.#candidates.pop() ?? new SplitCandidate(K)
        const selection = this.#nodeSelection(input)
        this.#finder.find(h, stats, selection.features, selection.nSelected, c)
        const floor = Math.max(st.minSplitGain, 1e-12 * leafScore(stats.grad, stats.hess, st.lambda))
        if (c.found && c.gain > floor) {
          cand[node] = c
          open.push(node, c.gain)
          return
        }
        this.#candidates.push(c)
      }
      pool.release(h)
      hist[node] = undefined
    }
    evaluate(root, rootStats)

    let leaves = 1
    while (open.size > 0 && (st.maxLeaves === null || leaves < st.maxLeaves)) {
      const node = open.pop()
      const c = cand[node]!
      const parentHist = hist[node]!
      const routing = tree.goesLeft(node)
      c.writeRouting(binned.mapper, routing, node * 256)
      const start = tree.start[node]!
      const end = tree.end[node]!
      const mid = histograms.partition({ rows: input.rows, start, end, scratch: this.#scratch }, c.feature, {
        goesLeft: routing,
        offset: node * 256,
      })
      const depth = tree.depth(node) + 1
      const l = tree.add(start, mid, depth, c.left)
      const r = tree.add(mid, end, depth, c.right)
      tree.setSplit(node, c, l, r)
      hist[node] = undefined
      cand[node] = undefined
      leaves++
      if (st.maxLeaves !== null && leaves >= st.maxLeaves) {
        // The last split: its children are never split, so neither their histograms nor their splits are needed.
        pool.release(parentHist)
        this.#candidates.push(c)
        break
      }
      const smaller = mid - start <= end - mid ? l : r
      const larger = smaller === l ? r : l
      const small = pool.acquire()
      histograms.build({ rows: input.rows, start: tree.start[smaller]!, end: tree.end[smaller]! }, treeSelection, small)
      histograms.subtract(parentHist, small)
      hist[smaller] = small
      hist[larger] = parentHist
      evaluate(l, c.left)
      evaluate(r, c.right)
      // Recycled only now: the children's evaluations read c.left and c.right.
      this.#candidates.push(c)
    }
    for (const node of open.drain()) {
      pool.release(hist[node]!)
      hist[node] = undefined
      this.#candidates.push(cand[node]!)
      cand[node] = undefined
    }
    return tree.finish(input.rows)
  }

  #nodeSelection(input: GrowInput): { features: Int32Array; nSelected: number } {
    const k = this.settings.featuresPerSplit
    if (k === null || k >= input.nFeatures) return { features: input.features, nSelected: input.nFeatures }
    if (input.random === undefined) throw new Error('TreeGrower: featuresPerSplit needs a random source')
    if (this.#nodeFeatures.length < input.nFeatures) this.#nodeFeatures = new Int32Array(input.nFeatures)
    const pick = this.#nodeFeatures
    pick.set(input.features.subarray(0, input.nFeatures))
    // Partial Fisher–Yates: the first k entries become a uniform sample without replacement.
    for (let i = 0; i < k; i++) {
      const j = i + input.random.nextInt(input.nFeatures - i)
      const t = pick[i]!
      pick[i] = pick[j]!
      pick[j] = t
    }
    pick.subarray(0, k).sort()
    return { features: pick, nSelected: k }
  }
}

/**
 * The root's sums from its histogram: every row falls in exactly one slot (value or missing bin) of each feature, so
 * the slots of the first selected feature add up to the node totals, in O(bins) instead of a pass over the rows.
 */
function rootTotals(hist: Float64Array, offsets: Int32Array, input: GrowInput, stride: number, out: NodeStats): void {
  const K = out.grad.length
  out.grad.fill(0)
  out.hess = 0
  out.count = input.nRows
  if (input.nFeatures === 0) return
  const f = input.features[0]!
  for (let slot = offsets[f]!; slot < offsets[f + 1]!; slot++) {
    for (let c = 0; c < K; c++) out.grad[c] = out.grad[c]! + hist[slot * stride + c]!
    out.hess += hist[slot * stride + K]!
  }
}

/**
 * Open leaves in growth order: largest gain first (ties: the older node), FIFO, or LIFO. Best-first is a binary heap,
 * so an unbounded leaf-wise tree costs O(log leaves) per split.
 */
class OpenQueue {
  readonly #policy: GrowerSettings['growPolicy']
  readonly #nodes: number[] = []
  readonly #gains: number[] = []
  #head = 0

  constructor(policy: GrowerSettings['growPolicy']) {
    this.#policy = policy
  }

  get size(): number {
    return this.#nodes.length - this.#head
  }

  push(node: number, gain: number): void {
    const nodes = this.#nodes
    const gains = this.#gains
    nodes.push(node)
    gains.push(gain)
    if (this.#policy !== 'leafwise') return
    let i = nodes.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.#before(i, parent)) break
      this.#swap(i, parent)
      i = parent
    }
  }

  /** The next node to split. */
  pop(): number {
    const nodes = this.#nodes
    if (this.#policy === 'depthfirst') {
      this.#gains.pop()
      return nodes.pop()!
    }
    if (this.#policy === 'depthwise') return nodes[this.#head++]!
    const top = nodes[0]!
    const lastNode = nodes.pop()!
    const lastGain = this.#gains.pop()!
    if (nodes.length > 0) {
      nodes[0] = lastNode
      this.#gains[0] = lastGain
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let best = i
        if (l < nodes.length && this.#before(l, best)) best = l
        if (r < nodes.length && this.#before(r, best)) best = r
        if (best === i) break
        this.#swap(i, best)
        i = best
      }
    }
    return top
  }

  drain(): number[] {
    const out = this.#nodes.splice(this.#head)
    this.#nodes.length = 0
    this.#gains.length = 0
    this.#head = 0
    return out
  }

  /** True when entry `a` splits before entry `b`. */
  #before(a: number, b: number): boolean {
    const ga = this.#gains[a]!
    const gb = this.#gains[b]!
    return ga > gb || (ga === gb && this.#nodes[a]! < this.#nodes[b]!)
  }

  #swap(a: number, b: number): void {
    const nodes = this.#nodes
    const gains = this.#gains
    const n = nodes[a]!
    nodes[a] = nodes[b]!
    nodes[b] = n
    const g = gains[a]!
    gains[a] = gains[b]!
    gains[b] = g
  }
}

/** Growable node arrays of one tree (exported for the external-memory grower). */
export class TreeBuffers {
  readonly #K: number
  n = 0
  #cap = 0
  feature = new Int32Array(0)
  categorical = new Uint8Array(0)
  bin = new Int32Array(0)
  defaultLeft = new Uint8Array(0)
  left = new Int32Array(0)
  right = new Int32Array(0)
  routing = new Uint8Array(0)
  gain = new Float64Array(0)
  hess = new Float64Array(0)
  count = new Float64Array(0)
  grad = new Float64Array(0)
  start = new Int32Array(0)
  end = new Int32Array(0)
  #depth = new Int32Array(0)

  constructor(K: number) {
    this.#K = K
    this.#reserve(64)
  }

  depth(node: number): number {
    return this.#depth[node]!
  }

  goesLeft(node: number): Uint8Array {
    if ((node + 1) * 256 > this.routing.length) this.#reserve(node + 1)
    return this.routing
  }

  add(start: number, end: number, depth: number, stats: NodeStats): number {
    const i = this.n
    if (i + 1 > this.#cap) this.#reserve(2 * this.#cap)
    this.feature[i] = -1
    this.left[i] = -1
    this.right[i] = -1
    this.bin[i] = -1
    this.start[i] = start
    this.end[i] = end
    this.#depth[i] = depth
    this.hess[i] = stats.hess
    // The partition's row count, exact whether or not the histograms count rows.
    this.count[i] = end - start
    for (let c = 0; c < this.#K; c++) this.grad[i * this.#K + c] = stats.grad[c]!
    this.n = i + 1
    return i
  }

  setSplit(node: number, c: SplitCandidate, l: number, r: number): void {
    this.feature[node] = c.feature
    this.categorical[node] = c.categorical ? 1 : 0
    this.bin[node] = c.bin
    this.defaultLeft[node] = c.defaultLeft ? 1 : 0
    this.left[node] = l
    this.right[node] = r
    this.gain[node] = c.gain
  }

  finish(rows: Uint32Array): GrownTree {
    const n = this.n
    return {
      nNodes: n,
      nGradients: this.#K,
      feature: this.feature.subarray(0, n),
      categorical: this.categorical.subarray(0, n),
      bin: this.bin.subarray(0, n),
      defaultLeft: this.defaultLeft.subarray(0, n),
      left: this.left.subarray(0, n),
      right: this.right.subarray(0, n),
      goesLeft: this.routing.subarray(0, n * 256),
      gain: this.gain.subarray(0, n),
      hess: this.hess.subarray(0, n),
      count: this.count.subarray(0, n),
      grad: this.grad.subarray(0, n * this.#K),
      start: this.start.subarray(0, n),
      end: this.end.subarray(0, n),
      rows,
    }
  }

  #reserve(cap: number): void {
    if (cap <= this.#cap) return
    const grow = <A extends Int32Array | Uint8Array | Float64Array>(a: A, size: number): A => {
      const next = new (a.constructor as new (n: number) => A)(size)
      next.set(a)
      return next
    }
    this.feature = grow(this.feature, cap)
    this.categorical = grow(this.categorical, cap)
    this.bin = grow(this.bin, cap)
    this.defaultLeft = grow(this.defaultLeft, cap)
    this.left = grow(this.left, cap)
    this.right = grow(this.right, cap)
    this.routing = grow(this.routing, cap * 256)
    this.gain = grow(this.gain, cap)
    this.hess = grow(this.hess, cap)
    this.count = grow(this.count, cap)
    this.grad = grow(this.grad, cap * this.#K)
    this.start = grow(this.start, cap)
    this.end = grow(this.end, cap)
    this.#depth = grow(this.#depth, cap)
    this.#cap = cap
  }
}

/** Leaf weights `−G_c / (H + λ)` of every node of `tree` for gradient `c`, into `out` (`nNodes`). */
export function treeLeafWeights(tree: GrownTree, c: number, lambda: number, out: Float64Array): void {
  const stats = new NodeStats(tree.nGradients)
  for (let i = 0; i < tree.nNodes; i++) {
    for (let q = 0; q < tree.nGradients; q++) stats.grad[q] = tree.grad[i * tree.nGradients + q]!
    stats.hess = tree.hess[i]!
    out[i] = leafWeight(stats, c, lambda)
  }
}

/**
 * The ensemble form of `tree` (tree-local indices, see tree-ensemble.ts `TreeSpec`), with node values
 * `values[i]` (leaf outputs; informational at internal nodes) and covers from the hessian sums.
 *
 * Numeric split after bin `j`: threshold `cuts[j]` (go left iff x < threshold, exactly the bin rule). The split "all
 * values left, missing right" has no float32 threshold above every value (x = +∞ would fail `x < +∞`), so it is
 * written mirrored: threshold −∞ (no value goes left), missing left, children swapped. Categorical split: the
 * categories of the bins routed right become the node's list ("listed categories go right"); the "other" bin is
 * always routed left, like every unlisted code at inference.
 */
export function toTreeSpec(tree: GrownTree, mapper: BinnedData['mapper'], values: Float64Array): TreeSpec {
  const n = tree.nNodes
  const feature = new Int32Array(n)
  const threshold = new Float32Array(n)
  const left = new Int32Array(n)
  const right = new Int32Array(n)
  const defaultLeft = new Uint8Array(n)
  const categories: (Int32Array | null)[] = new Array(n).fill(null)
  let anyCategorical = false
  for (let i = 0; i < n; i++) {
    const f = tree.feature[i]!
    feature[i] = f
    left[i] = tree.left[i]!
    right[i] = tree.right[i]!
    if (f < 0) continue
    defaultLeft[i] = tree.defaultLeft[i]!
    const fb = mapper.features[f]!
    if (fb.kind === 'numeric') {
      const j = tree.bin[i]!
      if (j < fb.nBins - 1) threshold[i] = fb.cuts[j]!
      else {
        threshold[i] = Number.NEGATIVE_INFINITY
        defaultLeft[i] = 1
        left[i] = tree.right[i]!
        right[i] = tree.left[i]!
      }
      continue
    }
    anyCategorical = true
    const list: number[] = []
    for (let b = 0; b < fb.otherBin; b++) if (tree.goesLeft[i * 256 + b] === 0) list.push(fb.categories[b]!)
    categories[i] = Int32Array.from(list)
  }
  const spec: TreeSpec = {
    feature,
    threshold,
    left,
    right,
    defaultLeft,
    value: values.slice(0, n),
    cover: tree.hess.slice(0, n),
  }
  return anyCategorical ? { ...spec, categories } : spec
}
