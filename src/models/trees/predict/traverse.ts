/**
 * Tree traversal kernels over the flat {@link TreeEnsemble} arrays: the leaf a row reaches in one tree, margins for
 * a batch of rows (trees grouped by output, rows in blocks) and for one row into caller-owned storage. Pure
 * functions of typed arrays; no allocation per row or per call beyond what the caller passes.
 *
 * Why blocks of rows: walking every tree for one row at a time re-reads the whole ensemble (≈ 30 bytes a node) per
 * row, while one tree at a time over all rows re-reads every row per tree; a block of {@link ROW_BLOCK} rows
 * against each tree keeps both the tree and the block's rows in L1/L2. See bench/trees/predict.bench.ts.
 * @module
 */
import type { TreeEnsemble } from '../tree-ensemble.js'

const NO_OPTIONS: MarginOptions & RowOptions = Object.freeze({})

/** Rows per block in {@link predictMarginsInto}. */
export const ROW_BLOCK = 64

/** Options of {@link predictMarginsInto}. */
export interface MarginOptions {
  /** Use only trees `[0, nTrees)` (staged prediction); default all. */
  readonly nTrees?: number
  /**
   * Accumulate in float32 (round after every addition), as XGBoost does: reproduces its `output_margin` bit for
   * bit for an imported model. Default false (float64 sums).
   */
  readonly float32?: boolean
}

/** Options of {@link predictRowInto}. */
export interface RowOptions {
  /** Index of the row's first feature in `x`; default 0. */
  readonly offset?: number
  /** Index in `out` of the row's first margin; default 0. */
  readonly outOffset?: number
  /** As {@link MarginOptions.float32}. */
  readonly float32?: boolean
}

/**
 * True when category value `x` (not NaN) is in the ascending list `categories[start, end)`: `x` is truncated to an
 * integer; negative values are never members (XGBoost 1.7 treats them as invalid categories).
 */
export function inCategories(categories: Int32Array, start: number, end: number, x: number): boolean {
  if (!(x >= 0)) return false
  const c = Math.trunc(x)
  let lo = start
  let hi = end - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const v = categories[mid]!
    if (v < c) lo = mid + 1
    else if (v > c) hi = mid - 1
    else return true
  }
  return false
}

/**
 * Absolute index of the leaf that the row at `X[base … base + nFeatures)` reaches in the tree whose root is node
 * `root` (the decision rule of tree-ensemble.ts: NaN → `defaultLeft`; numerical: left iff `x < threshold`;
 * categorical: listed categories right).
 */
export function leafIndex(e: TreeEnsemble, root: number, X: Float32Array, base: number): number {
  const { feature, threshold, left, right, defaultLeft, categorical } = e
  let i = root
  let f = feature[i]!
  while (f >= 0) {
    const x = X[base + f]!
    if (Number.isNaN(x)) i = defaultLeft[i] === 1 ? left[i]! : right[i]!
    else if (categorical[i] === 0) i = x < threshold[i]! ? left[i]! : right[i]!
    else {
      const off = e.categoryOffsets
      i = inCategories(e.categories, off[i]!, off[i + 1]!, x) ? right[i]! : left[i]!
    }
    f = feature[i]!
  }
  return i
}

/**
 * Writes the margins of rows `[0, rows)` of row-major `X` (`rows × nFeatures`, stride `nFeatures`) into `out`
 * (`rows × nOutputs`, row-major): base margin plus the leaf values of every tree of each output. `out` is
 * overwritten; only its first `rows × nOutputs` values are touched. Summation order per output is tree order.
 */
export function predictMarginsInto(
  e: TreeEnsemble,
  X: Float32Array,
  rows: number,
  out: Float64Array,
  options: MarginOptions = NO_OPTIONS,
): void {
  const nTrees = options.nTrees ?? e.treeOffsets.length - 1
  const f32 = options.float32 === true
  const { nOutputs, nFeatures, baseMargin, treeOffsets, treeGroup, value } = e
  const { feature, threshold, left, right, defaultLeft, categorical, categoryOffsets, categories } = e
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < nOutputs; k++) out[r * nOutputs + k] = f32 ? Math.fround(baseMargin[k]!) : baseMargin[k]!
  }
  for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
    const r1 = Math.min(rows, r0 + ROW_BLOCK)
    for (let t = 0; t < nTrees; t++) {
      const root = treeOffsets[t]!
      const g = treeGroup[t]!
      for (let r = r0, base = r0 * nFeatures; r < r1; r++, base += nFeatures) {
        let i = root
        let f = feature[i]!
        while (f >= 0) {
          const x = X[base + f]!
          if (Number.isNaN(x)) i = defaultLeft[i] === 1 ? left[i]! : right[i]!
          else if (categorical[i] === 0) i = x < threshold[i]! ? left[i]! : right[i]!
          else i = inCategories(categories, categoryOffsets[i]!, categoryOffsets[i + 1]!, x) ? right[i]! : left[i]!
          f = feature[i]!
        }
        const o = r * nOutputs + g
        out[o] = f32 ? Math.fround(out[o]! + value[i]!) : out[o]! + value[i]!
      }
    }
  }
}

/**
 * Margins of one row `x[offset … offset + nFeatures)` into `out[outOffset … outOffset + nOutputs)`. Allocates
 * nothing: the serving path calls it with buffers it owns.
 */
export function predictRowInto(
  e: TreeEnsemble,
  x: Float32Array,
  out: Float64Array,
  options: RowOptions = NO_OPTIONS,
): void {
  const offset = options.offset ?? 0
  const outOffset = options.outOffset ?? 0
  const f32 = options.float32 === true
  const { nOutputs, baseMargin, treeOffsets, treeGroup, value } = e
  const { feature, threshold, left, right, defaultLeft, categorical, categoryOffsets, categories } = e
  for (let k = 0; k < nOutputs; k++) out[outOffset + k] = f32 ? Math.fround(baseMargin[k]!) : baseMargin[k]!
  const nTrees = treeOffsets.length - 1
  for (let t = 0; t < nTrees; t++) {
    let i = treeOffsets[t]!
    let f = feature[i]!
    while (f >= 0) {
      const v = x[offset + f]!
      if (Number.isNaN(v)) i = defaultLeft[i] === 1 ? left[i]! : right[i]!
      else if (categorical[i] === 0) i = v < threshold[i]! ? left[i]! : right[i]!
      else i = inCategories(categories, categoryOffsets[i]!, categoryOffsets[i + 1]!, v) ? right[i]! : left[i]!
      f = feature[i]!
    }
    const o = outOffset + treeGroup[t]!
    out[o] = f32 ? Math.fround(out[o]! + value[i]!) : out[o]! + value[i]!
  }
}

/**
 * The leaf each row reaches in each tree (XGBoost's `pred_leaf`, but absolute node indices: subtract
 * `treeOffsets[t]` for XGBoost's per-tree ids), into `out` (`rows × nTrees`, row-major).
 */
export function predictLeavesInto(e: TreeEnsemble, X: Float32Array, rows: number, out: Int32Array): void {
  const nTrees = e.treeOffsets.length - 1
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < nTrees; t++) out[r * nTrees + t] = leafIndex(e, e.treeOffsets[t]!, X, r * e.nFeatures)
  }
}
