/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent individualized feature attribution for
 * tree ensembles", Algorithm 2): per row, the Shapley value of every feature for the margin, with the
 * "feature absent" expectation taken over the training distribution that the node covers encode.
 *
 * Output per row and output `k`: `nFeatures + 1` values, the last being the bias — the base margin plus each tree's
 * cover-weighted mean leaf value — so that the values add up to the row's margin (XGBoost's `pred_contribs`).
 *
 * Two ways to the same values. For one leaf whose root path splits on the unique features `F` (`u` of them), with
 * `z_k` the product of the cover fractions of the splits on `k` along the path and `o_k ∈ {0, 1}` whether the row
 * takes every one of them, the leaf adds to feature `j`
 *   `φ_j = v · (o_j − z_j) · Σ_{S ⊆ A∖{j}} |S|! (u − 1 − |S|)! / u! · Π_{k ∈ F∖{j}∖S} z_k`,
 * where `A` is the set of features with `o_k = 1` (terms with a feature of `S` outside `A` vanish). Everything but
 * `A` is fixed by the tree, so the sum is tabulated per leaf, feature and subset `A∖{j}` once per ensemble
 * (as Fast TreeSHAP v2, Yang 2021, does): a row then costs one pass over the tree's nodes to find `A` at every leaf
 * and `u` table reads per leaf — O(leaves · u) instead of Algorithm 2's O(leaves · depth²) with divisions. Trees
 * whose leaves have more than {@link MAX_TABLE_FEATURES} unique features on their path, or that do not fit the table
 * budget, run Algorithm 2 (the recursion below). On the flights GBDT (100 trees × 31 leaves, 6 features) the tables
 * take 0.8 MB, are built in ~30 ms and explain ~8× as many rows a second as the recursion (15k vs 1.9k rows per CPU
 * second; bench/trees/predict.bench.ts); on 100 random trees over 50 features, 12 MB and ~4×.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'
import { type CompiledEnsemble, compileEnsemble, FEATURE_SHIFT, inCategories, stepAt } from './predict/compiled.js'
import type { TreeEnsemble } from './tree-ensemble.js'

/** Leaves with more unique features on their path than this are not tabulated (a leaf's table has u·2^(u−1) values). */
export const MAX_TABLE_FEATURES = 12

/** Default budget of the per-leaf tables, in bytes; trees beyond it run Algorithm 2. */
export const DEFAULT_TABLE_BYTES = 32 << 20

/**
 * The path of unique features from the root to the current node, one element per depth, stored column-wise.
 * Each recursion level works on its own copy, placed after its parent's in the same arrays.
 */
interface PathBuffers {
  readonly feature: Int32Array
  /** Fraction of the "feature absent" paths (by cover) that flow through this split. */
  readonly zero: Float64Array
  /** 1 when the row itself flows through this split, else 0. */
  readonly one: Float64Array
  /** Permutation weight of subsets of the features on the path. */
  readonly weight: Float64Array
}

/** Depth of the deepest leaf over all trees (root depth 0). */
export function maxTreeDepth(e: TreeEnsemble): number {
  const depth = new Int32Array(e.feature.length)
  let deepest = 0
  const nTrees = e.treeOffsets.length - 1
  for (let t = 0; t < nTrees; t++) {
    // Children follow their parents (a representation invariant), so one forward pass sets every depth.
    for (let i = e.treeOffsets[t]!, end = e.treeOffsets[t + 1]!; i < end; i++) {
      if (i === e.treeOffsets[t]) depth[i] = 0
      if (e.feature[i]! >= 0) {
        depth[e.left[i]!] = depth[i]! + 1
        depth[e.right[i]!] = depth[i]! + 1
      } else deepest = Math.max(deepest, depth[i]!)
    }
  }
  return deepest
}

/**
 * Per node, the cover-weighted mean of the leaf values below it (XGBoost's node mean values): the expected tree
 * output with every feature absent is the root's.
 */
export function nodeMeanValues(e: TreeEnsemble): Float64Array {
  const mean = new Float64Array(e.feature.length)
  // Children come after parents, so a backward pass sees both children before their parent.
  for (let i = e.feature.length - 1; i >= 0; i--) {
    if (e.feature[i]! < 0) mean[i] = e.value[i]!
    else {
      const l = e.left[i]!
      const r = e.right[i]!
      const c = e.cover[i]!
      mean[i] = c > 0 ? (mean[l]! * e.cover[l]! + mean[r]! * e.cover[r]!) / c : 0
    }
  }
  return mean
}

/** The tabulated trees of an ensemble (see the module comment); shared by every workspace of the ensemble. */
interface ShapTables {
  readonly compiled: CompiledEnsemble
  /** Per tree: 1 when its leaves are tabulated. */
  readonly tabulated: Uint8Array
  /** Per compiled internal node: the slot of its feature among the unique features of its root path. */
  readonly slot: Int32Array
  /** Per compiled leaf of a tabulated tree: `u`, the unique features on its path. */
  readonly leafFeatures: Int32Array
  /** Per compiled leaf: offset of its `u` values `z` then its `u · 2^(u−1)` sums (times the leaf value) in `table`. */
  readonly leafAt: Int32Array
  /** Per compiled leaf: offset in `slotFeature` of the feature of each of its slots. */
  readonly featureAt: Int32Array
  readonly slotFeature: Int32Array
  readonly table: Float64Array
  /** Bytes of `table` (what the budget counts). */
  readonly bytes: number
}

/** Reusable scratch for {@link treeShapInto}, sized for one ensemble. */
export interface TreeShapWorkspace {
  readonly path: PathBuffers
  /** Per node mean values ({@link nodeMeanValues}). */
  readonly mean: Float64Array
  readonly tables: ShapTables
  /** Per compiled node: the slots whose splits the row does not take on the way there (bits), while a row is explained. */
  readonly disagree: Int32Array
}

/** Options of {@link treeShapWorkspace}. */
export interface TreeShapWorkspaceOptions {
  /**
   * Budget of the per-leaf tables in bytes (default {@link DEFAULT_TABLE_BYTES}; 0 runs Algorithm 2 for every
   * tree). Trees are taken in order, each one tabulated if its tables still fit.
   */
  readonly tableBytes?: number
}

const tablesCache = new WeakMap<TreeEnsemble, Map<number, ShapTables>>()

/**
 * Allocates the scratch that {@link treeShapInto} needs for `e`, and builds (or reuses: they are cached per
 * ensemble and budget) its per-leaf tables — tens of milliseconds on a 100-tree model, once.
 */
export function treeShapWorkspace(e: TreeEnsemble, options: TreeShapWorkspaceOptions = {}): TreeShapWorkspace {
  const d = maxTreeDepth(e)
  // Level u holds u + 1 elements at most, levels 0 … d + 1 (the leaf's level extends once more).
  const size = ((d + 2) * (d + 3)) / 2
  const budget = options.tableBytes ?? DEFAULT_TABLE_BYTES
  let byBudget = tablesCache.get(e)
  if (byBudget === undefined) {
    byBudget = new Map()
    tablesCache.set(e, byBudget)
  }
  let tables = byBudget.get(budget)
  if (tables === undefined) {
    tables = buildTables(e, budget)
    byBudget.set(budget, tables)
  }
  return {
    path: {
      feature: new Int32Array(size),
      zero: new Float64Array(size),
      one: new Float64Array(size),
      weight: new Float64Array(size),
    },
    mean: nodeMeanValues(e),
    tables,
    disagree: new Int32Array(e.feature.length),
  }
}

/** Trees tabulated by a workspace (for tests and benches): how many, and the tables' bytes. */
export function tabulatedTrees(ws: TreeShapWorkspace): { readonly trees: number; readonly bytes: number } {
  let trees = 0
  for (const t of ws.tables.tabulated) trees += t
  return { trees, bytes: ws.tables.bytes }
}

/** Compiled nodes of tree `t`: `[roots[t], end)`. */
function treeEnd(c: CompiledEnsemble, t: number): number {
  return t + 1 < c.roots.length ? c.roots[t + 1]! : c.code.length
}

function buildTables(e: TreeEnsemble, budget: number): ShapTables {
  const c = compileEnsemble(e)
  const n = c.code.length
  const nTrees = c.roots.length
  const parent = new Int32Array(n).fill(-1)
  const slot = new Int32Array(n)
  const leafFeatures = new Int32Array(n)
  const leafAt = new Int32Array(n)
  const featureAt = new Int32Array(n)
  const tabulated = new Uint8Array(nTrees)
  // Per node of the tree being planned: the unique features of its root path, in order of first appearance.
  const pathFeatures: Int32Array[] = new Array(n)
  const empty = new Int32Array(0)
  let tableSize = 0
  let slotSize = 0
  const tabulatedLeaves: number[][] = []
  for (let t = 0; t < nTrees; t++) {
    const start = c.roots[t]!
    const end = treeEnd(c, t)
    pathFeatures[start] = empty
    let size = 0
    let fits = true
    const leaves: number[] = []
    // Parents come before their children in the compiled layout, so one forward pass sees every path.
    for (let p = start; p < end; p++) {
      const k = c.code[p]!
      const here = pathFeatures[p]!
      if (k < 0) {
        const u = here.length
        leafFeatures[p] = u
        size += u + (u > 0 ? u << (u - 1) : 0)
        if (u > MAX_TABLE_FEATURES) fits = false
        leaves.push(p)
        continue
      }
      const f = k >> FEATURE_SHIFT
      let at = here.indexOf(f)
      let below = here
      if (at < 0) {
        at = here.length
        below = new Int32Array(here.length + 1)
        below.set(here)
        below[at] = f
      }
      slot[p] = at
      const first = c.child[p]!
      parent[first] = p
      parent[first + 1] = p
      pathFeatures[first] = below
      pathFeatures[first + 1] = below
    }
    for (let p = start; p < end; p++) pathFeatures[p] = empty
    if (!fits || (tableSize + size) * 8 > budget) continue
    tabulated[t] = 1
    for (const p of leaves) {
      leafAt[p] = tableSize
      featureAt[p] = slotSize
      tableSize += leafFeatures[p]! + (leafFeatures[p]! > 0 ? leafFeatures[p]! << (leafFeatures[p]! - 1) : 0)
      slotSize += leafFeatures[p]!
    }
    tabulatedLeaves.push(leaves)
  }
  const table = new Float64Array(tableSize)
  const slotFeature = new Int32Array(slotSize)
  const z = new Float64Array(MAX_TABLE_FEATURES)
  const scratch = new Float64Array((MAX_TABLE_FEATURES + 1) * (MAX_TABLE_FEATURES + 1))
  for (const leaves of tabulatedLeaves) {
    for (const p of leaves) {
      const u = leafFeatures[p]!
      if (u === 0) continue
      z.fill(1, 0, u)
      // Up the path: each split multiplies its feature's z by the cover fraction of the child on the path.
      for (let child = p, a = parent[p]!; a >= 0; child = a, a = parent[a]!) {
        const j = slot[a]!
        slotFeature[featureAt[p]! + j] = c.code[a]! >> FEATURE_SHIFT
        const cover = e.cover[c.source[a]!]!
        z[j] = z[j]! * (cover > 0 ? e.cover[c.source[child]!]! / cover : 0)
      }
      fillLeafTable(table, leafAt[p]!, z, u, c.value[p]!, scratch)
    }
  }
  return {
    compiled: c,
    tabulated,
    slot,
    leafFeatures,
    leafAt,
    featureAt,
    slotFeature,
    table,
    bytes: table.byteLength,
  }
}

/**
 * Writes one leaf's table at `at`: `z[0 … u)`, then for each slot `j` and each subset `B` of the other slots
 * (bit `i` of `B` is the `i`-th other slot, in slot order) `v · Σ_{S ⊆ B} |S|! (u − 1 − |S|)! / u! · Π_{k ∉ S, k ≠ j} z_k`.
 * The sum over `S` is the polynomial `Π_{k ≠ j} (z_k + [k ∈ B]·t)` dotted with the weights by degree; subsets are
 * enumerated depth-first so each level multiplies one factor into its parent's polynomial.
 */
function fillLeafTable(
  table: Float64Array,
  at: number,
  z: Float64Array,
  u: number,
  v: number,
  poly: Float64Array,
): void {
  for (let j = 0; j < u; j++) table[at + j] = z[j]!
  const weight = new Float64Array(u)
  for (let s = 0; s < u; s++) weight[s] = (factorial(s) * factorial(u - 1 - s)) / factorial(u)
  const half = 1 << (u - 1)
  const stride = u + 1
  for (let j = 0; j < u; j++) {
    const base = at + u + j * half
    poly.fill(0, 0, stride)
    poly[0] = 1
    // Level i holds the polynomial after the first i other slots, at poly[i · stride …]; B's bit i picks the factor.
    const visit = (i: number, B: number): void => {
      const from = i * stride
      if (i === u - 1) {
        let sum = 0
        for (let s = 0; s < u; s++) sum += weight[s]! * poly[from + s]!
        table[base + B] = v * sum
        return
      }
      const zk = z[i < j ? i : i + 1]!
      const to = from + stride
      for (let bit = 0; bit < 2; bit++) {
        for (let s = 0; s <= i + 1; s++) {
          const keep = s <= i ? poly[from + s]! * zk : 0
          poly[to + s] = bit === 1 && s > 0 ? keep + poly[from + s - 1]! : keep
        }
        visit(i + 1, B | (bit << i))
      }
    }
    visit(0, 0)
  }
}

function factorial(n: number): number {
  let f = 1
  for (let i = 2; i <= n; i++) f *= i
  return f
}

function extendPath(p: PathBuffers, at: number, depth: number, zero: number, one: number, feature: number): void {
  p.feature[at + depth] = feature
  p.zero[at + depth] = zero
  p.one[at + depth] = one
  p.weight[at + depth] = depth === 0 ? 1 : 0
  const w = p.weight
  for (let i = depth - 1; i >= 0; i--) {
    w[at + i + 1] = w[at + i + 1]! + (one * w[at + i]! * (i + 1)) / (depth + 1)
    w[at + i] = (zero * w[at + i]! * (depth - i)) / (depth + 1)
  }
}

/** Removes element `index` from the path, undoing its `extendPath`. */
function unwindPath(p: PathBuffers, at: number, depth: number, index: number): void {
  const one = p.one[at + index]!
  const zero = p.zero[at + index]!
  const w = p.weight
  let next = w[at + depth]!
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = w[at + i]!
      w[at + i] = (next * (depth + 1)) / ((i + 1) * one)
      next = tmp - (w[at + i]! * zero * (depth - i)) / (depth + 1)
    } else {
      w[at + i] = (w[at + i]! * (depth + 1)) / (zero * (depth - i))
    }
  }
  for (let i = index; i < depth; i++) {
    p.feature[at + i] = p.feature[at + i + 1]!
    p.zero[at + i] = p.zero[at + i + 1]!
    p.one[at + i] = p.one[at + i + 1]!
  }
}

/** Total permutation weight of the path with element `index` removed (without modifying the path). */
function unwoundPathSum(p: PathBuffers, at: number, depth: number, index: number): number {
  const one = p.one[at + index]!
  const zero = p.zero[at + index]!
  const w = p.weight
  let next = w[at + depth]!
  let total = 0
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = (next * (depth + 1)) / ((i + 1) * one)
      total += tmp
      next = w[at + i]! - (tmp * zero * (depth - i)) / (depth + 1)
    } else if (zero !== 0) {
      total += w[at + i]! / zero / ((depth - i) / (depth + 1))
    }
  }
  return total
}

interface ShapCall {
  e: TreeEnsemble
  ws: TreeShapWorkspace
  X: Float32Array
  base: number
  phi: Float64Array
  phiAt: number
}

function recurse(
  c: ShapCall,
  node: number,
  parentAt: number,
  depth: number,
  zero: number,
  one: number,
  feature: number,
): void {
  const { e } = c
  const p = c.ws.path
  // This level's path is a copy of the parent's first `depth` elements, placed after the parent's.
  const at = parentAt + depth
  // Element-wise: `copyWithin` is a runtime call each, too dear for a handful of elements.
  for (let i = 0; i < depth; i++) {
    p.feature[at + i] = p.feature[parentAt + i]!
    p.zero[at + i] = p.zero[parentAt + i]!
    p.one[at + i] = p.one[parentAt + i]!
    p.weight[at + i] = p.weight[parentAt + i]!
  }
  extendPath(p, at, depth, zero, one, feature)
  const split = e.feature[node]!
  if (split < 0) {
    const v = e.value[node]!
    for (let i = 1; i <= depth; i++) {
      const w = unwoundPathSum(p, at, depth, i)
      const f = p.feature[at + i]!
      c.phi[c.phiAt + f] = c.phi[c.phiAt + f]! + w * (p.one[at + i]! - p.zero[at + i]!) * v
    }
    return
  }
  const x = c.X[c.base + split]!
  const l = e.left[node]!
  const r = e.right[node]!
  let goesLeft: boolean
  if (Number.isNaN(x)) goesLeft = e.defaultLeft[node] === 1
  else if (e.categorical[node] === 0) goesLeft = x < e.threshold[node]!
  else goesLeft = !inCategories(e.categories, e.categoryOffsets[node]!, e.categoryOffsets[node + 1]!, x)
  const hot = goesLeft ? l : r
  const cold = goesLeft ? r : l
  const cover = e.cover[node]!
  const hotZero = cover > 0 ? e.cover[hot]! / cover : 0
  const coldZero = cover > 0 ? e.cover[cold]! / cover : 0
  let inZero = 1
  let inOne = 1
  // A feature split on again below: its earlier element is removed and its fractions carried into this split.
  let k = 1
  while (k <= depth && p.feature[at + k] !== split) k++
  if (k <= depth) {
    inZero = p.zero[at + k]!
    inOne = p.one[at + k]!
    unwindPath(p, at, depth, k)
    depth -= 1
  }
  recurse(c, hot, at, depth + 1, hotZero * inZero, inOne, split)
  recurse(c, cold, at, depth + 1, coldZero * inZero, 0, split)
}

/**
 * TreeSHAP values of rows `[0, rows)` of row-major `X` (`rows × nFeatures`) into `out`, laid out
 * `rows × nOutputs × (nFeatures + 1)` (XGBoost's `pred_contribs` order; for one output simply
 * `rows × (nFeatures + 1)`), overwritten. `ws` from {@link treeShapWorkspace} for the same ensemble. Allocates
 * nothing with a workspace.
 */
export function treeShapInto(
  e: TreeEnsemble,
  X: Float32Array,
  rows: number,
  out: Float64Array,
  ws: TreeShapWorkspace = treeShapWorkspace(e),
): void {
  const { nFeatures, nOutputs, treeOffsets, treeGroup } = e
  const width = nFeatures + 1
  const perRow = nOutputs * width
  out.fill(0, 0, rows * perRow)
  const call: ShapCall = { e, ws, X, base: 0, phi: out, phiAt: 0 }
  const nTrees = treeOffsets.length - 1
  const tabulated = ws.tables.tabulated
  for (let r = 0; r < rows; r++) {
    call.base = r * nFeatures
    for (let k = 0; k < nOutputs; k++) out[r * perRow + k * width + nFeatures] = e.baseMargin[k]!
    for (let t = 0; t < nTrees; t++) {
      const root = treeOffsets[t]!
      const phiAt = r * perRow + treeGroup[t]! * width
      if (tabulated[t] === 1) tabulatedTree(ws, t, X, r * nFeatures, out, phiAt)
      else {
        call.phiAt = phiAt
        recurse(call, root, 0, 0, 1, 1, -1)
      }
      const bias = phiAt + nFeatures
      out[bias] = out[bias]! + ws.mean[root]!
    }
  }
}

/**
 * Adds tree `t`'s contributions for the row at `X[base …]` to `phi[phiAt …]` from its leaf tables: one pass over
 * the tree's nodes carries, per node, the slots whose split the row does not take (`disagree`); at each leaf the
 * agreeing slots `A` index the table.
 */
function tabulatedTree(
  ws: TreeShapWorkspace,
  t: number,
  X: Float32Array,
  base: number,
  phi: Float64Array,
  phiAt: number,
): void {
  const { compiled: c, slot, leafFeatures, leafAt, featureAt, slotFeature, table } = ws.tables
  const { code, child } = c
  const disagree = ws.disagree
  const start = c.roots[t]!
  const end = treeEnd(c, t)
  disagree[start] = 0
  for (let p = start; p < end; p++) {
    const k = code[p]!
    const d = disagree[p]!
    if (k >= 0) {
      const step = stepAt(c, p, k, X[base + (k >> FEATURE_SHIFT)]!)
      const first = child[p]!
      disagree[first + step] = d
      disagree[first + 1 - step] = d | (1 << slot[p]!)
      continue
    }
    const u = leafFeatures[p]!
    if (u === 0) continue
    const agree = ~d & ((1 << u) - 1)
    const at = leafAt[p]!
    const sums = at + u
    const half = 1 << (u - 1)
    const features = featureAt[p]!
    for (let j = 0; j < u; j++) {
      const low = (1 << j) - 1
      // The agreeing slots other than j, renumbered without j's bit.
      const others = ((agree >>> (j + 1)) << j) | (agree & low)
      const f = phiAt + slotFeature[features + j]!
      phi[f] = phi[f]! + (((agree >>> j) & 1) - table[at + j]!) * table[sums + j * half + others]!
    }
  }
}

/**
 * TreeSHAP values of every row of `X` (see {@link treeShapInto} for the layout): `rows × nOutputs ×
 * (nFeatures + 1)`, whose sum over the last axis is each row's margin. Throws `INVALID_INPUT` on a feature count
 * other than the ensemble's.
 */
export function treeShap(e: TreeEnsemble, X: DenseMatrix): Float64Array {
  if (X.cols !== e.nFeatures) {
    throw new ScalemlError('INVALID_INPUT', `treeShap: X has ${X.cols} features; the ensemble expects ${e.nFeatures}.`)
  }
  const out = new Float64Array(X.rows * e.nOutputs * (e.nFeatures + 1))
  treeShapInto(e, X.data, X.rows, out)
  return out
}
