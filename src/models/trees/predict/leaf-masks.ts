/**
 * Batch prediction by leaf bitmasks (the idea of QuickScorer, Lucchese et al., SIGIR 2015, taken to per-value
 * tables): no tree is walked. Number each tree's leaves `0 … L − 1`. A split on feature `f` that sends a row one
 * way rules out every leaf of the other subtree, so for one value `x` of `f` the AND over all the splits on `f` of
 * "leaves not ruled out" is a bitmask per tree that depends on `x` only through which interval between `f`'s sorted
 * thresholds it falls in (or which category it is, or whether it is missing). Those masks are tabulated once per
 * ensemble, one table row per interval/category; predicting a row is then: find each used feature's table row,
 * AND the rows word by word, and the one bit left in each tree's mask is the leaf the row reaches.
 *
 * Why: walking a tree is a chain of dependent loads and data-dependent branches (~6 ns a step on this 2-core
 * machine, 4–5 steps a tree on the flights model); the table path is straight-line loads and ANDs over 32 leaves a
 * word. On the 100-tree flights GBDT (6 features, 70% categorical splits) it is ~3× the walking kernel. It loses
 * when many features are used (every used feature costs a pass over every word) or the tables outgrow the caches,
 * so {@link compileLeafMasks} builds them only when its cost estimate beats walking and they fit
 * {@link MAX_TABLE_BYTES}; otherwise callers walk the trees ({@link ./compiled.ts}).
 *
 * Exactness: each row reaches exactly the leaf the decision rule of tree-ensemble.ts gives (every other leaf is
 * ruled out by the split where its path leaves the row's), and margins are summed in tree order from the base
 * margin as the walking kernel does, so both give bit-identical margins (words of multi-word trees that do not hold
 * the leaf add an exact 0).
 * @module
 */
import type { TreeEnsemble } from '../tree-ensemble.js'

/** Largest tables built (bytes): beyond it rows come from the L3 cache or memory and walking wins. */
export const MAX_TABLE_BYTES = 4 << 20

/**
 * Estimated cost units (ns on the bench machine) behind the choice between tables and walking: one step of the
 * walking kernel; one table word loaded and ANDed; one word's leaf lookup; one level of a threshold search.
 * Measured on the flights GBDT and the 50-feature random ensemble of bench/trees/predict.bench.ts.
 */
const COST = { walkStep: 6, andWord: 1.2, leafWord: 1.5, searchLevel: 4, feature: 3 } as const

/** The tabulated ensemble (see the module comment). */
export interface LeafMasks {
  readonly nFeatures: number
  readonly nOutputs: number
  readonly baseMargin: Float64Array
  /** Trees tabulated (all of the ensemble's). */
  readonly nTrees: number
  /** 32-leaf words over all trees, tree after tree (a tree of L leaves has ⌈L / 32⌉). */
  readonly words: number
  /** Per word: the output its tree adds to. */
  readonly wordGroup: Int32Array
  /**
   * Per word: 33 values; `[w·33]` is 0 (what a word without the leaf adds) and `[w·33 + 1 + b]` the value of the
   * leaf at bit `b`.
   */
  readonly leafValue: Float64Array
  /** Used features (split on at least once), in order. */
  readonly features: Int32Array
  /** Per used feature: 1 when its splits are categorical, else 0. */
  readonly categorical: Uint8Array
  /** Per used feature: categories it spans (largest listed + 1); 0 for numerical features. */
  readonly span: Float64Array
  /** Per used feature: its table rows (intervals or categories, then 'other category' if categorical, then missing). */
  readonly nRows: Int32Array
  /** `features.length + 1` offsets into {@link thresholds}. */
  readonly thresholdStart: Int32Array
  /** Per numerical used feature: its distinct thresholds, ascending. */
  readonly thresholds: Float32Array
  /** Per used feature: offset of its first table row in {@link masks}. */
  readonly tableStart: Int32Array
  /**
   * Table rows of `words` masks each: first one row of all ones (the padding that lets the kernel AND eight rows at
   * a time), then each used feature's rows.
   */
  readonly masks: Int32Array
  /** Scratch: one row's table-row offsets, padded to a multiple of 8 with the all-ones row (offset 0). */
  readonly offsets: Int32Array
  /** Scratch: one row's partial AND, `words`. */
  readonly acc: Int32Array
  /** The estimated cost of a row by tables and by walking (what the choice was made on). */
  readonly estimate: { readonly tables: number; readonly walk: number }
}

const cache = new WeakMap<TreeEnsemble, LeafMasks | null>()

/**
 * The leaf-mask tables of `e`, or undefined when walking is expected to be faster, the tables would exceed
 * {@link MAX_TABLE_BYTES}, or a feature has both numerical and categorical splits. Built on first use and cached
 * per ensemble (ensembles are immutable by convention). `force` builds them whatever the estimate (tests, benches).
 */
export function compileLeafMasks(e: TreeEnsemble, options?: { readonly force?: boolean }): LeafMasks | undefined {
  const force = options?.force === true
  if (!force) {
    const cached = cache.get(e)
    if (cached !== undefined) return cached ?? undefined
  }
  const built = build(e, force)
  if (!force) cache.set(e, built ?? null)
  return built
}

/** Leaf numbering and subtree ranges: leaves in depth-first order, so a subtree's leaves are one range. */
interface Leaves {
  /** Per node: first leaf number of its subtree (within its tree). */
  readonly lo: Int32Array
  /** Per node: one past the last. */
  readonly hi: Int32Array
  /** Per tree: leaf count. */
  readonly count: Int32Array
  /** Per node: its tree. */
  readonly tree: Int32Array
}

function numberLeaves(e: TreeEnsemble): Leaves {
  const n = e.feature.length
  const nTrees = e.treeOffsets.length - 1
  const lo = new Int32Array(n)
  const hi = new Int32Array(n)
  const count = new Int32Array(nTrees)
  const tree = new Int32Array(n)
  const stack = new Int32Array(2 * n + 2)
  for (let t = 0; t < nTrees; t++) {
    let next = 0
    // Iterative post-order: push (node, visited) pairs; a node's range is known once both children are done.
    let top = 0
    stack[top++] = e.treeOffsets[t]!
    stack[top++] = 0
    while (top > 0) {
      const visited = stack[--top]!
      const i = stack[--top]!
      tree[i] = t
      if (e.feature[i]! < 0) {
        lo[i] = next
        hi[i] = ++next
      } else if (visited === 0) {
        stack[top++] = i
        stack[top++] = 1
        stack[top++] = e.right[i]!
        stack[top++] = 0
        stack[top++] = e.left[i]!
        stack[top++] = 0
      } else {
        lo[i] = lo[e.left[i]!]!
        hi[i] = hi[e.right[i]!]!
      }
    }
    count[t] = next
  }
  return { lo, hi, count, tree }
}

/** Expected steps a row takes through all trees, weighting leaves by cover (their share of the training rows). */
function expectedSteps(e: TreeEnsemble): number {
  const n = e.feature.length
  const depth = new Int32Array(n)
  let steps = 0
  for (let t = 0; t < e.treeOffsets.length - 1; t++) {
    const root = e.treeOffsets[t]!
    let weighted = 0
    let cover = 0
    let plain = 0
    let leaves = 0
    // Children follow their parents, so one forward pass sets every depth.
    for (let i = root, end = e.treeOffsets[t + 1]!; i < end; i++) {
      if (i === root) depth[i] = 0
      if (e.feature[i]! >= 0) {
        depth[e.left[i]!] = depth[i]! + 1
        depth[e.right[i]!] = depth[i]! + 1
        continue
      }
      const c = e.cover[i]!
      if (c > 0) {
        weighted += c * depth[i]!
        cover += c
      }
      plain += depth[i]!
      leaves++
    }
    steps += cover > 0 ? weighted / cover : plain / Math.max(1, leaves)
  }
  return steps
}

function build(e: TreeEnsemble, force: boolean): LeafMasks | undefined {
  const nNodes = e.feature.length
  const nTrees = e.treeOffsets.length - 1
  // Nodes per feature, and whether a feature mixes categorical and numerical splits (not tabulated).
  const byFeature: number[][] = Array.from({ length: e.nFeatures }, () => [])
  for (let i = 0; i < nNodes; i++) if (e.feature[i]! >= 0) byFeature[e.feature[i]!]!.push(i)
  const used: number[] = []
  for (let f = 0; f < e.nFeatures; f++) {
    const nodes = byFeature[f]!
    if (nodes.length === 0) continue
    const kind = e.categorical[nodes[0]!]!
    if (nodes.some((i) => e.categorical[i] !== kind)) return undefined
    used.push(f)
  }
  const leaves = numberLeaves(e)
  const treeWord = new Int32Array(nTrees + 1)
  for (let t = 0; t < nTrees; t++) treeWord[t + 1] = treeWord[t]! + Math.max(1, (leaves.count[t]! + 31) >>> 5)
  const words = treeWord[nTrees]!

  const U = used.length
  const categorical = new Uint8Array(U)
  const span = new Float64Array(U)
  const nRows = new Int32Array(U)
  const thresholdLists: Float32Array[] = []
  let tableRows = 1
  let searchLevels = 0
  for (let u = 0; u < U; u++) {
    const nodes = byFeature[used[u]!]!
    if (e.categorical[nodes[0]!] === 1) {
      let s = 0
      for (const i of nodes) {
        const end = e.categoryOffsets[i + 1]!
        if (end > e.categoryOffsets[i]!) s = Math.max(s, e.categories[end - 1]! + 1)
      }
      categorical[u] = 1
      span[u] = s
      nRows[u] = s + 2
      thresholdLists.push(new Float32Array(0))
    } else {
      // A Set keeps one of 0 and −0, which compare equal, as they must.
      const list = Float32Array.from(new Set(nodes.map((i) => e.threshold[i]!))).sort()
      nRows[u] = list.length + 2
      thresholdLists.push(list)
      searchLevels += Math.ceil(Math.log2(list.length + 1))
    }
    tableRows += nRows[u]!
  }
  const bytes = tableRows * words * 4
  const estimate = {
    tables:
      Math.ceil(U / 8) * words * 8 * COST.andWord +
      words * COST.leafWord +
      searchLevels * COST.searchLevel +
      U * COST.feature,
    walk: expectedSteps(e) * COST.walkStep,
  }
  if (!force && (bytes > MAX_TABLE_BYTES || estimate.tables >= estimate.walk)) return undefined

  const thresholdStart = new Int32Array(U + 1)
  for (let u = 0; u < U; u++) thresholdStart[u + 1] = thresholdStart[u]! + thresholdLists[u]!.length
  const thresholds = new Float32Array(thresholdStart[U]!)
  for (let u = 0; u < U; u++) thresholds.set(thresholdLists[u]!, thresholdStart[u]!)

  const masks = new Int32Array(tableRows * words).fill(-1)
  const tableStart = new Int32Array(U)
  const listed = new Uint8Array(Math.max(0, ...span) + 1)
  let row = 1
  for (let u = 0; u < U; u++) {
    tableStart[u] = row * words
    const rows = nRows[u]!
    const list = thresholdLists[u]!
    for (const i of byFeature[used[u]!]!) {
      const at = row * words + treeWord[leaves.tree[i]!]!
      const l = e.left[i]!
      const r = e.right[i]!
      if (categorical[u] === 1) {
        for (let j = e.categoryOffsets[i]!; j < e.categoryOffsets[i + 1]!; j++) listed[e.categories[j]!] = 1
      }
      for (let q = 0; q < rows; q++) {
        // Whether the node sends a value of table row q right. Numerical rows are the intervals [T_{q−1}, T_q) of
        // the sorted thresholds T, and a node with threshold T_j goes right iff x ≥ T_j iff q > j; categorical rows
        // are category q, then 'any other value' (never listed: left); the last row is the missing value.
        let right: boolean
        if (q === rows - 1) right = e.defaultLeft[i] !== 1
        else if (categorical[u] === 1) right = q < rows - 2 && listed[q] === 1
        else right = q > 0 && list[q - 1]! >= e.threshold[i]!
        const gone = right ? l : r
        clearRange(masks, at + q * words, leaves.lo[gone]!, leaves.hi[gone]!)
      }
      if (categorical[u] === 1) listed.fill(0)
    }
    row += rows
  }

  const wordGroup = new Int32Array(words)
  const leafValue = new Float64Array(words * 33)
  for (let t = 0; t < nTrees; t++) wordGroup.fill(e.treeGroup[t]!, treeWord[t]!, treeWord[t + 1]!)
  for (let i = 0; i < nNodes; i++) {
    if (e.feature[i]! >= 0) continue
    const l = leaves.lo[i]!
    const w = treeWord[leaves.tree[i]!]! + (l >>> 5)
    leafValue[w * 33 + 1 + (l & 31)] = e.value[i]!
  }
  return {
    nFeatures: e.nFeatures,
    nOutputs: e.nOutputs,
    baseMargin: e.baseMargin,
    nTrees,
    words,
    wordGroup,
    leafValue,
    features: Int32Array.from(used),
    categorical,
    span,
    nRows,
    thresholdStart,
    thresholds,
    tableStart,
    masks,
    offsets: new Int32Array(Math.max(8, (U + 7) & ~7)),
    acc: new Int32Array(words),
    estimate,
  }
}

/** Clears bits `[lo, hi)` (lo < hi) of the words starting at `at`, a word at a time. */
function clearRange(masks: Int32Array, at: number, lo: number, hi: number): void {
  for (let w = lo >>> 5; w <= (hi - 1) >>> 5; w++) {
    const from = Math.max(lo, w << 5) & 31
    const to = Math.min(hi, (w + 1) << 5) - (w << 5)
    // Bits [from, to) of the word: `to` may be 32, where a shift by 32 would be a shift by 0.
    const bits = (to === 32 ? -1 : (1 << to) - 1) & ~((1 << from) - 1)
    masks[at + w] = masks[at + w]! & ~bits
  }
}

/** Offset in `m.masks` of the table row of used feature `u` for value `x`. */
function tableRow(m: LeafMasks, u: number, x: number): number {
  const rows = m.nRows[u]!
  let q: number
  if (Number.isNaN(x)) q = rows - 1
  else if (m.categorical[u] === 1) q = x >= 0 && x < m.span[u]! ? x | 0 : rows - 2
  else {
    // Branch-free binary search (the comparison becomes a mask, not a jump): q = #{thresholds ≤ x}. Measured ~2×
    // the branching search, whose jumps the CPU cannot predict.
    const T = m.thresholds
    const start = m.thresholdStart[u]!
    let b = start
    let n = m.thresholdStart[u + 1]! - start
    while (n > 1) {
      const half = n >>> 1
      b += half & -(T[b + half - 1]! <= x ? 1 : 0)
      n -= half
    }
    q = b - start + (T[b]! <= x ? 1 : 0)
  }
  return m.tableStart[u]! + q * m.words
}

/**
 * Margins of rows `[0, rows)` of row-major `X` into `out` (`rows × nOutputs`, overwritten), as
 * `predictMarginsInto` (bit-identical). `float32` rounds after every addition. Allocates nothing.
 */
export function leafMaskMarginsInto(
  m: LeafMasks,
  X: Float32Array,
  rows: number,
  out: Float64Array,
  float32: boolean,
): void {
  const { nFeatures, nOutputs, words, masks, offsets, acc, leafValue, wordGroup, baseMargin } = m
  const U = m.features.length
  const chunks = offsets.length >>> 3
  const base0 = baseMargin[0]!
  for (let r = 0; r < rows; r++) {
    const base = r * nFeatures
    for (let u = 0; u < U; u++) offsets[u] = tableRow(m, u, X[base + m.features[u]!]!)
    // All chunks of eight table rows but the last AND into `acc`; the last is fused with the leaf lookup.
    for (let c = 0; c < chunks - 1; c++) {
      const p = 8 * c
      const o0 = offsets[p]!
      const o1 = offsets[p + 1]!
      const o2 = offsets[p + 2]!
      const o3 = offsets[p + 3]!
      const o4 = offsets[p + 4]!
      const o5 = offsets[p + 5]!
      const o6 = offsets[p + 6]!
      const o7 = offsets[p + 7]!
      // `acc[w] | first`: all ones on the first chunk, whatever acc held.
      const first = c === 0 ? -1 : 0
      for (let w = 0; w < words; w++) {
        acc[w] =
          (acc[w]! | first) &
          masks[o0 + w]! &
          masks[o1 + w]! &
          masks[o2 + w]! &
          masks[o3 + w]! &
          masks[o4 + w]! &
          masks[o5 + w]! &
          masks[o6 + w]! &
          masks[o7 + w]!
      }
    }
    const p = 8 * (chunks - 1)
    const o0 = offsets[p]!
    const o1 = offsets[p + 1]!
    const o2 = offsets[p + 2]!
    const o3 = offsets[p + 3]!
    const o4 = offsets[p + 4]!
    const o5 = offsets[p + 5]!
    const o6 = offsets[p + 6]!
    const o7 = offsets[p + 7]!
    const first = chunks === 1 ? -1 : 0
    if (nOutputs === 1) {
      let s = float32 ? Math.fround(base0) : base0
      for (let w = 0; w < words; w++) {
        const a =
          (acc[w]! | first) &
          masks[o0 + w]! &
          masks[o1 + w]! &
          masks[o2 + w]! &
          masks[o3 + w]! &
          masks[o4 + w]! &
          masks[o5 + w]! &
          masks[o6 + w]! &
          masks[o7 + w]!
        // The one bit left is the leaf; a word of a multi-word tree without it reads the 0 at `w · 33`.
        const v = leafValue[w * 33 + 32 - Math.clz32(a & -a)]!
        s = float32 ? Math.fround(s + v) : s + v
      }
      out[r] = s
      continue
    }
    const o = r * nOutputs
    for (let k = 0; k < nOutputs; k++) out[o + k] = float32 ? Math.fround(baseMargin[k]!) : baseMargin[k]!
    for (let w = 0; w < words; w++) {
      const a =
        (acc[w]! | first) &
        masks[o0 + w]! &
        masks[o1 + w]! &
        masks[o2 + w]! &
        masks[o3 + w]! &
        masks[o4 + w]! &
        masks[o5 + w]! &
        masks[o6 + w]! &
        masks[o7 + w]!
      const v = leafValue[w * 33 + 32 - Math.clz32(a & -a)]!
      const at = o + wordGroup[w]!
      out[at] = float32 ? Math.fround(out[at]! + v) : out[at]! + v
    }
  }
}
