/**
 * Grows one histogram tree over rows on disk ({@link ExternalRows} plus a {@link TrainingState}): the same tree the
 * in-memory {@link TreeGrower} grows on the same bins and gradients, bit for bit, reading one chunk at a time.
 *
 * Same tree, because everything the in-memory grower's choices depend on is reproduced exactly: each node's rows are
 * kept as one contiguous, ascending range per chunk of the chunk's row order (chunks in row order, so the node's rows
 * are visited in ascending row order, as the in-memory grower's stable partitions keep them); each histogram slot
 * receives those rows through the same row ranges, partials and accumulators in the same order as the in-memory
 * {@link HistogramBuilder} ({@link NodeAccumulator}; kernels/chunk-histogram.ts carries a row's position across
 * chunks); only the smaller child
 * is built from rows and the larger is the parent minus it; the split search is the same {@link SplitFinder}; and
 * nodes are split, numbered and evaluated in the in-memory order ('leafwise' largest gain first, ties to the older
 * node; 'depthwise' first in, first out).
 *
 * Passes: one pass over the chunks partitions the rows of a set of nodes and builds each one's smaller child. The
 * smaller child is known before the pass because the histograms here always fill their row counts (the split search
 * ignores them unless it checks `minSamplesLeaf`), so a split's child sizes come with it. To need fewer passes than
 * splits, a pass splits every open node that the growth order could reach before the leaf budget runs out (the first
 * `maxLeaves − leaves` open nodes in growth order), not only the next one; the growth then proceeds in memory through
 * the children already built and needs a new pass only on reaching a node not split yet. A node split ahead but never
 * reached stays a leaf (its rows, partitioned in two ranges per chunk, still form one range). Depth-wise growth needs
 * one pass per level; leaf-wise about as many, plus a few, at the cost of building some children never used.
 *
 * Memory: the chunk buffers, a histogram per open leaf and per child built ahead (plus, while a pass builds it, a
 * partial and a second accumulator), the tree. Single-threaded.
 * @module
 */

import { HistogramPool, histogramUnits, rowUnitCount } from '../histogram.js'
import { rangeStart } from '../histogram-tasks.js'
import { addChunkRows, addFeatureSlots } from '../kernels/chunk-histogram.js'
import { DUAL_MIN_ROWS, partitionRows, subtractHistogram } from '../kernels/histogram.js'
import { leafScore, NodeStats, SplitCandidate, SplitFinder } from '../split-finder.js'
import { type GrowerSettings, type GrownTree, TreeBuffers } from '../tree-grower.js'
import type { ExternalRows } from './external-rows.js'
import type { ChunkBuffers, TrainingState } from './training-state.js'

/** A tree grown over chunks: the tree, and each node's range of every chunk's row order. */
export interface ExternalTree {
  readonly tree: GrownTree
  /** `ranges[node][2c]`, `ranges[node][2c + 1]`: start and end of the node's rows in chunk `c`'s row order. */
  readonly ranges: readonly Int32Array[]
}

/** Inputs of {@link ExternalTreeGrower.grow}. */
export interface ExternalGrowInput {
  /** The output (gradient block) this tree is grown on. */
  readonly output: number
  /** The features this tree may split on, `features[0, nSelected)`. */
  readonly features: Int32Array
  readonly nSelected: number
  /** The root's histogram, accumulated over every chunk ({@link ExternalTreeGrower.rootAccumulator}). */
  readonly root: NodeAccumulator
  /** In-sample rows of each chunk: `rows[0, inSample[c])` of chunk `c`'s row order. */
  readonly inSample: Int32Array
}

/** How nodes are cut into row ranges and which accumulators each range uses (the in-memory builder's rules). */
export interface AccumulatorShape {
  /** Rows per range and most ranges per node (histogram.ts `histogramUnits`). */
  readonly unitRows: number
  readonly maxUnits: number
  /** Whether the in-memory builder fills count slots: it then uses one accumulator, else two on long ranges. */
  readonly withCounts: boolean
}

/**
 * One node's histogram built up chunk by chunk, summed exactly as the in-memory {@link HistogramBuilder} sums a node of
 * `n` rows: the node's rows (in order) are cut into the same row ranges (histogram.ts `rowUnitCount`, range `q` from
 * position `⌊q·n/U⌋`); range 0 adds to the node's histogram, each later range to a zeroed partial; a range of at
 * least `DUAL_MIN_ROWS` rows without counts alternates its rows between its target and a zeroed second accumulator
 * by position in the range (the odd last row to the target), added to the target when the range ends; and the
 * partials are added to the node's histogram in range order. The builder adds all partials after the last range,
 * `((h + p1) + p2) + …` per slot, which is the same sequence of additions as adding each one when its range ends,
 * so one partial at a time suffices here: ranges are contiguous in the node's row order, which the chunks visit in
 * order. Count slots are always filled (see kernels/chunk-histogram.ts); they hold exact integers whatever the order.
 */
export class NodeAccumulator {
  readonly hist: Float64Array
  readonly n: number
  /** Row ranges of the node. */
  readonly units: number
  readonly #pool: HistogramPool
  readonly #withCounts: boolean
  /** Target of ranges after the first (undefined with one range). */
  #partial: Float64Array | undefined
  /** The second accumulator of two-accumulator ranges (acquired on the first such range). */
  #scratch: Float64Array | undefined
  #dual = false
  #seen = 0
  #unit = 0
  #unitStart = 0
  #unitEnd = 0

  constructor(pool: HistogramPool, n: number, shape: AccumulatorShape) {
    this.#pool = pool
    this.hist = pool.acquire()
    this.n = n
    this.units = rowUnitCount(n, shape)
    this.#withCounts = shape.withCounts
    if (this.units > 1) this.#partial = pool.acquire()
    this.#startUnit(0)
  }

  /** Adds the node's rows `rows[start, end)` of a chunk (the next ones in the node's order). */
  add(
    chunk: {
      readonly bins: Uint8Array
      readonly nRows: number
      readonly rows: Uint32Array
      readonly gradHess: Float32Array
    },
    range: { readonly start: number; readonly end: number },
    layout: { readonly slotBase: Int32Array; readonly features: Int32Array; readonly nSelected: number },
  ): void {
    const { bins, nRows, rows, gradHess } = chunk
    const { slotBase, features, nSelected } = layout
    if (this.#seen + range.end - range.start > this.n) {
      throw new Error(`external tree growth: a node of ${this.n} rows received more`)
    }
    let i = range.start
    while (i < range.end) {
      const take = Math.min(range.end - i, this.#unitEnd - this.#seen)
      const target = this.#unit === 0 ? this.hist : this.#partial!
      const odd = this.#dual ? this.#scratch! : target
      const parity = (this.#seen - this.#unitStart) & 1
      addChunkRows(bins, nRows, slotBase, features, nSelected, rows, i, i + take, gradHess, target, odd, parity)
      i += take
      this.#seen += take
      if (this.#seen === this.#unitEnd) this.#endUnit(layout)
    }
  }

  /** Checks that every row came, and returns the partial and second accumulator to the pool. */
  finish(): void {
    if (this.#seen !== this.n) {
      throw new Error(`external tree growth: a node of ${this.n} rows received ${this.#seen}`)
    }
    if (this.#partial !== undefined) this.#pool.release(this.#partial)
    if (this.#scratch !== undefined) this.#pool.release(this.#scratch)
    this.#partial = undefined
    this.#scratch = undefined
  }

  #startUnit(q: number): void {
    this.#unit = q
    this.#unitStart = rangeStart(0, this.n, this.units, q)
    this.#unitEnd = rangeStart(0, this.n, this.units, q + 1)
    if (q > 0) this.#partial!.fill(0)
    this.#dual = !this.#withCounts && this.#unitEnd - this.#unitStart >= DUAL_MIN_ROWS
    if (this.#dual) {
      if (this.#scratch === undefined) this.#scratch = this.#pool.acquire()
      else this.#scratch.fill(0)
    }
  }

  #endUnit(layout: { readonly slotBase: Int32Array; readonly features: Int32Array; readonly nSelected: number }): void {
    const { slotBase, features, nSelected } = layout
    const target = this.#unit === 0 ? this.hist : this.#partial!
    if (this.#dual) addFeatureSlots(target, this.#scratch!, slotBase, features, nSelected)
    if (this.#unit > 0) addFeatureSlots(this.hist, target, slotBase, features, nSelected)
    if (this.#unit + 1 < this.units) this.#startUnit(this.#unit + 1)
  }
}

/** A node split ahead of its turn: its smaller child's histogram and where each chunk's range divides. */
interface SplitAhead {
  readonly mids: Int32Array
  readonly smallIsLeft: boolean
  readonly small: Float64Array
}

/**
 * Grows trees over external rows; keeps its histogram pool and candidates across trees.
 *
 * @example
 * const grower = new ExternalTreeGrower(rows, state, buffers, settings)
 * const root = grower.rootAccumulator({ nIn })
 * // … one pass over the chunks: grower.addRootRows(root, chunkLength, inSample[c]) after loading each chunk …
 * const { tree, ranges } = grower.grow({ output: 0, features, nSelected, root, inSample })
 */
export class ExternalTreeGrower {
  readonly settings: GrowerSettings
  readonly pool: HistogramPool
  readonly #rows: ExternalRows
  readonly #state: TrainingState
  readonly #buffers: ChunkBuffers
  readonly #finder: SplitFinder
  readonly #withCounts: boolean
  readonly #shape: AccumulatorShape
  readonly #slotBase: Int32Array
  readonly #allFeatures: Int32Array
  readonly #candidates: SplitCandidate[] = []
  /** Passes over the chunks made by {@link grow} (for tests and benches). */
  passes = 0

  constructor(rows: ExternalRows, io: { state: TrainingState; buffers: ChunkBuffers }, settings: GrowerSettings) {
    if (settings.growPolicy === 'depthfirst' || settings.featuresPerSplit !== null) {
      throw new Error('ExternalTreeGrower grows leafwise or depthwise trees over all of a tree’s features')
    }
    const mapper = rows.mapper
    this.settings = settings
    this.#rows = rows
    this.#state = io.state
    this.#buffers = io.buffers
    // The in-memory grower's rule for one gradient: it decides which kernels (accumulators) a node's histogram uses.
    this.#withCounts = settings.minSamplesLeaf > 1 || !(settings.minChildWeight > 0)
    this.#finder = new SplitFinder(mapper, { nGradients: 1, withCounts: this.#withCounts }, settings)
    this.pool = new HistogramPool(mapper.totalBins * 3)
    const units = histogramUnits(this.pool.length, mapper.nFeatures, settings.parallel?.histogramUnitRows)
    this.#shape = { ...units, withCounts: this.#withCounts }
    this.#slotBase = Int32Array.from(mapper.histogramOffsets, (o) => o * 3)
    this.#allFeatures = Int32Array.from({ length: mapper.nFeatures }, (_, f) => f)
  }

  /**
   * A root histogram to fill during a pass over `nIn` in-sample rows (its row ranges and accumulators depend on the
   * count alone, as in the in-memory builder).
   */
  rootAccumulator(root: { readonly nIn: number }): NodeAccumulator {
    return new NodeAccumulator(this.pool, root.nIn, this.#shape)
  }

  /**
   * Adds a chunk's in-sample rows `rows[0, nIn)` to the root, over every feature (the tree's features are drawn after
   * the pass; {@link grow} clears the others). The chunk's bins, row order and gradient pairs are in the buffers.
   */
  addRootRows(root: NodeAccumulator, chunkLength: number, nIn: number): void {
    const b = this.#buffers
    root.add(
      { bins: b.bins, nRows: chunkLength, rows: b.rows, gradHess: b.gradHess },
      { start: 0, end: nIn },
      { slotBase: this.#slotBase, features: this.#allFeatures, nSelected: this.#allFeatures.length },
    )
  }

  /** Grows one tree from its root histogram, with passes over the chunks as needed. */
  grow(input: ExternalGrowInput): ExternalTree {
    const st = this.settings
    const mapper = this.#rows.mapper
    const nChunks = this.#rows.nChunks
    const pool = this.pool
    const layout = { slotBase: this.#slotBase, features: input.features, nSelected: input.nSelected }
    const tree = new TreeBuffers(1)
    const open = new GrowthQueue(st.growPolicy === 'depthwise' ? 'depthwise' : 'leafwise')
    const hist: (Float64Array | undefined)[] = []
    const cand: (SplitCandidate | undefined)[] = []
    const ahead: (SplitAhead | undefined)[] = []
    const ranges: Int32Array[] = []

    const root = input.root
    root.finish()
    const rootHist = root.hist
    clearUnselected(rootHist, this.#slotBase, input.features, input.nSelected)
    const rootStats = rootTotals(rootHist, mapper.histogramOffsets, input, root.n)
    const rootNode = tree.add(0, root.n, 0, rootStats)
    hist[rootNode] = rootHist
    const rootRanges = new Int32Array(2 * nChunks)
    for (let c = 0; c < nChunks; c++) rootRanges[2 * c + 1] = input.inSample[c]!
    ranges[rootNode] = rootRanges

    const evaluate = (node: number, stats: NodeStats): void => {
      const h = hist[node]!
      const splittable =
        (st.maxDepth === null || tree.depth(node) < st.maxDepth) &&
        tree.count[node]! >= 2 * Math.max(st.minSamplesLeaf, 1) &&
        stats.hess >= 2 * st.minChildWeight
      if (splittable) {
        const c = this.#candidates.pop() ?? new SplitCandidate(1)
        this.#finder.find(h, stats, input.features, input.nSelected, c)
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
    evaluate(rootNode, rootStats)

    let leaves = 1
    while (open.size > 0 && (st.maxLeaves === null || leaves < st.maxLeaves)) {
      if (ahead[open.peek()] === undefined) {
        const budget = st.maxLeaves === null ? open.size : st.maxLeaves - leaves
        const nodes = open.upcoming(budget).filter((node) => ahead[node] === undefined)
        this.#splitPass(nodes, { output: input.output, layout, tree, cand, hist, ranges, ahead })
      }
      const node = open.pop()
      const c = cand[node]!
      const split = ahead[node]!
      const depth = tree.depth(node) + 1
      const l = tree.add(0, c.left.count, depth, c.left)
      const r = tree.add(0, c.right.count, depth, c.right)
      tree.setSplit(node, c, l, r)
      const parent = ranges[node]!
      const left = new Int32Array(2 * nChunks)
      const right = new Int32Array(2 * nChunks)
      for (let k = 0; k < nChunks; k++) {
        left[2 * k] = parent[2 * k]!
        left[2 * k + 1] = split.mids[k]!
        right[2 * k] = split.mids[k]!
        right[2 * k + 1] = parent[2 * k + 1]!
      }
      ranges[l] = left
      ranges[r] = right
      const smaller = split.smallIsLeft ? l : r
      hist[smaller] = split.small
      hist[smaller === l ? r : l] = hist[node]
      hist[node] = undefined
      cand[node] = undefined
      ahead[node] = undefined
      leaves++
      evaluate(l, c.left)
      evaluate(r, c.right)
      this.#candidates.push(c)
    }
    for (const node of open.drain()) {
      pool.release(hist[node]!)
      hist[node] = undefined
      const split = ahead[node]
      if (split !== undefined) pool.release(split.small)
      ahead[node] = undefined
      this.#candidates.push(cand[node]!)
      cand[node] = undefined
    }
    return { tree: tree.finish(EMPTY_ROWS), ranges }
  }

  /**
   * One pass over the chunks: partitions each node's rows by its split (stably, within each chunk's range) and builds
   * its smaller child's histogram; the parent's histogram becomes the larger child's by subtraction.
   */
  #splitPass(
    nodes: readonly number[],
    growth: {
      readonly output: number
      readonly layout: { readonly slotBase: Int32Array; readonly features: Int32Array; readonly nSelected: number }
      readonly tree: TreeBuffers
      readonly cand: readonly (SplitCandidate | undefined)[]
      readonly hist: readonly (Float64Array | undefined)[]
      readonly ranges: readonly Int32Array[]
      readonly ahead: (SplitAhead | undefined)[]
    },
  ): void {
    const { tree, cand, ranges, layout } = growth
    const rows = this.#rows
    const nChunks = rows.nChunks
    const b = this.#buffers
    const pool = this.pool
    const splits = nodes.map((node) => {
      const c = cand[node]!
      c.writeRouting(rows.mapper, tree.goesLeft(node), node * 256)
      // Exact: count slots hold sums of ones.
      const smallIsLeft = c.left.count <= c.right.count
      const n = smallIsLeft ? c.left.count : c.right.count
      const acc = new NodeAccumulator(pool, n, this.#shape)
      return { node, feature: c.feature, smallIsLeft, acc, mids: new Int32Array(nChunks), range: ranges[node]! }
    })
    // Every node's table is written, so the routing array no longer moves.
    const routing = tree.routing
    for (let c = 0; c < nChunks; c++) {
      let any = false
      for (const s of splits) {
        s.mids[c] = s.range[2 * c]!
        if (s.range[2 * c]! < s.range[2 * c + 1]!) any = true
      }
      if (!any) continue
      const n = rows.chunkLength(c)
      rows.readBins(c, b.bins)
      this.#state.readRows(c, b.rows)
      this.#state.readGradients(c, growth.output, b.gradHess)
      const chunk = { bins: b.bins, nRows: n, rows: b.rows, gradHess: b.gradHess }
      for (const s of splits) {
        const start = s.range[2 * c]!
        const end = s.range[2 * c + 1]!
        if (start === end) continue
        const column = b.bins.subarray(s.feature * n, (s.feature + 1) * n)
        const mid = partitionRows(b.rows, start, end, column, routing, s.node * 256, b.scratch)
        s.mids[c] = mid
        s.acc.add(chunk, s.smallIsLeft ? { start, end: mid } : { start: mid, end }, layout)
      }
      this.#state.writeRows(c, b.rows)
    }
    for (const s of splits) {
      s.acc.finish()
      const parent = growth.hist[s.node]!
      subtractHistogram(parent, s.acc.hist, 0, parent.length)
      growth.ahead[s.node] = { mids: s.mids, smallIsLeft: s.smallIsLeft, small: s.acc.hist }
    }
    this.passes++
  }
}

const EMPTY_ROWS = new Uint32Array(0)

/** Zeroes the slots of the features not in `features[0, nSelected)` (the root was built over all of them). */
function clearUnselected(hist: Float64Array, slotBase: Int32Array, features: Int32Array, nSelected: number): void {
  const nFeatures = slotBase.length - 1
  if (nSelected === nFeatures) return
  const selected = new Uint8Array(nFeatures)
  for (let s = 0; s < nSelected; s++) selected[features[s]!] = 1
  for (let f = 0; f < nFeatures; f++) if (selected[f] === 0) hist.fill(0, slotBase[f]!, slotBase[f + 1]!)
}

/**
 * The root's sums from its histogram, as tree-grower.ts computes them: the slots of the first selected feature, in
 * slot order (every row falls in exactly one of them).
 */
function rootTotals(
  hist: Float64Array,
  offsets: Int32Array,
  selection: { readonly features: Int32Array; readonly nSelected: number },
  nRows: number,
): NodeStats {
  const out = new NodeStats(1)
  out.count = nRows
  if (selection.nSelected === 0) return out
  const f = selection.features[0]!
  for (let slot = offsets[f]!; slot < offsets[f + 1]!; slot++) {
    out.grad[0] = out.grad[0]! + hist[slot * 3]!
    out.hess += hist[slot * 3 + 1]!
  }
  return out
}

/**
 * Open nodes in growth order: largest gain first, ties to the smaller (older) node ('leafwise', a binary heap), or
 * first in, first out ('depthwise') — tree-grower.ts's order, with a look at the next ones without taking them.
 */
class GrowthQueue {
  readonly #policy: 'leafwise' | 'depthwise'
  #nodes: number[] = []
  #gains: number[] = []
  #head = 0

  constructor(policy: 'leafwise' | 'depthwise') {
    this.#policy = policy
  }

  get size(): number {
    return this.#nodes.length - this.#head
  }

  push(node: number, gain: number): void {
    this.#nodes.push(node)
    this.#gains.push(gain)
    if (this.#policy === 'leafwise') siftUp(this.#nodes, this.#gains, this.#nodes.length - 1)
  }

  /** The next node {@link pop} returns. */
  peek(): number {
    return this.#nodes[this.#head]!
  }

  pop(): number {
    if (this.#policy === 'depthwise') return this.#nodes[this.#head++]!
    return popHeap(this.#nodes, this.#gains)
  }

  /** The next `limit` nodes in pop order (the queue is not changed). */
  upcoming(limit: number): number[] {
    if (this.#policy === 'depthwise') return this.#nodes.slice(this.#head, this.#head + limit)
    const nodes = this.#nodes.slice()
    const gains = this.#gains.slice()
    const out: number[] = []
    while (out.length < limit && nodes.length > 0) out.push(popHeap(nodes, gains))
    return out
  }

  drain(): number[] {
    const out = this.#nodes.slice(this.#head)
    this.#nodes = []
    this.#gains = []
    this.#head = 0
    return out
  }
}

/** True when heap entry `a` pops before entry `b`. */
function before(nodes: number[], gains: number[], a: number, b: number): boolean {
  const ga = gains[a]!
  const gb = gains[b]!
  return ga > gb || (ga === gb && nodes[a]! < nodes[b]!)
}

function swap(nodes: number[], gains: number[], a: number, b: number): void {
  const n = nodes[a]!
  nodes[a] = nodes[b]!
  nodes[b] = n
  const g = gains[a]!
  gains[a] = gains[b]!
  gains[b] = g
}

function siftUp(nodes: number[], gains: number[], at: number): void {
  let i = at
  while (i > 0) {
    const parent = (i - 1) >> 1
    if (!before(nodes, gains, i, parent)) break
    swap(nodes, gains, i, parent)
    i = parent
  }
}

function popHeap(nodes: number[], gains: number[]): number {
  const top = nodes[0]!
  const lastNode = nodes.pop()!
  const lastGain = gains.pop()!
  if (nodes.length > 0) {
    nodes[0] = lastNode
    gains[0] = lastGain
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let best = i
      if (l < nodes.length && before(nodes, gains, l, best)) best = l
      if (r < nodes.length && before(nodes, gains, r, best)) best = r
      if (best === i) break
      swap(nodes, gains, i, best)
      i = best
    }
  }
  return top
}
