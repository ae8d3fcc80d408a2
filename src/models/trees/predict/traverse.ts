/**
 * Tree traversal kernels: margins for a batch of rows and for one row into caller-owned storage (both on the cached
 * {@link CompiledEnsemble} layout), and the leaf a row reaches in one tree (on the representation itself, for
 * `pred_leaf` and tests). Pure functions of typed arrays; no allocation per row, and none per call once the
 * ensemble is compiled (the first call compiles it).
 *
 * A batch goes through the leaf-mask tables of leaf-masks.ts when they are built for the ensemble (few features:
 * the flights GBDT, ~3× walking), else walks the trees. Walking loop order: blocks of {@link ROW_BLOCK} rows, every
 * tree over the block. One row at a time through every tree re-reads the whole ensemble per row; one tree at a time
 * over all rows re-reads every row per tree; a block keeps one tree in L1 and the block's rows in L2. Measured
 * (bench/trees/predict.bench.ts, 100 trees × 31 leaves, 50 features) the differences between block sizes are small
 * (≈ ±15%, within this machine's noise), with 1-row blocks slowest; 256 is the default. A single row always walks:
 * ~3–5 µs for 100 trees, with nothing to amortize a table lookup over.
 * @module
 */
import type { TreeEnsemble } from '../tree-ensemble.js'
import {
  BITSET,
  bitsetStep,
  type CompiledEnsemble,
  compileEnsemble,
  FEATURE_SHIFT,
  generalStep,
  inCategories,
  KIND,
} from './compiled.js'
import { compileLeafMasks, type LeafMasks, leafMaskMarginsInto } from './leaf-masks.js'

export { inCategories }

const NO_OPTIONS: MarginOptions & RowOptions = Object.freeze({})

/** Rows per block in {@link predictMarginsInto}. */
export const ROW_BLOCK = 256

/** Options of {@link predictMarginsInto}. */
export interface MarginOptions {
  /** Use only trees `[0, nTrees)` (staged prediction); default all. */
  readonly nTrees?: number
  /**
   * Accumulate in float32 (round after every addition), as XGBoost does: reproduces its `output_margin` bit for
   * bit for an imported model. Default false (float64 sums).
   */
  readonly float32?: boolean
  /** Rows per block of the walking kernel (default {@link ROW_BLOCK}); 1 walks every tree per row, `rows` walks all rows per tree. */
  readonly blockRows?: number
  /**
   * 'auto' (default): the leaf-mask tables when {@link compileLeafMasks} builds them for the ensemble (and every tree
   * is used), else walking; 'walk' always walks. Both give bit-identical margins.
   */
  readonly kernel?: 'auto' | 'walk'
}

/** The kernel {@link predictMarginsInto} uses for `e` by default: 'masks' (leaf-mask tables) or 'walk'. */
export function batchKernelOf(e: TreeEnsemble): 'masks' | 'walk' {
  return compileLeafMasks(e) === undefined ? 'walk' : 'masks'
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
 * Absolute index (in the ensemble's arrays) of the leaf that the row at `X[base … base + nFeatures)` reaches in the
 * tree whose root is node `root` (the decision rule of tree-ensemble.ts: NaN → `defaultLeft`; numerical: left iff `x < threshold`;
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
  e: TreeEnsemble | CompiledEnsemble,
  X: Float32Array,
  rows: number,
  out: Float64Array,
  options: MarginOptions = NO_OPTIONS,
): void {
  const c = 'code' in e ? e : compileEnsemble(e)
  const nTrees = options.nTrees ?? c.roots.length
  const f32 = options.float32 === true
  if (options.kernel !== 'walk' && nTrees >= c.roots.length) {
    const masks: LeafMasks | undefined = compileLeafMasks(c.ensemble)
    if (masks !== undefined) {
      leafMaskMarginsInto(masks, X, rows, out, f32)
      return
    }
  }
  const { nOutputs, nFeatures, baseMargin, roots, group, code, threshold, child, value } = c
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < nOutputs; k++) out[r * nOutputs + k] = f32 ? Math.fround(baseMargin[k]!) : baseMargin[k]!
  }
  const block = Math.max(1, options.blockRows ?? ROW_BLOCK)
  for (let r0 = 0; r0 < rows; r0 += block) {
    const r1 = Math.min(rows, r0 + block)
    for (let t = 0; t < nTrees; t++) {
      const root = roots[t]!
      const g = group[t]!
      for (let r = r0, base = r0 * nFeatures; r < r1; r++, base += nFeatures) {
        let i = root
        let k = code[i]!
        while (k >= 0) {
          const x = X[base + (k >> FEATURE_SHIFT)]!
          const kind = k & KIND
          if (kind === 0) i = child[i]! + (x * (1 - 2 * (k & 1)) > threshold[i]! ? 1 : 0)
          else if (kind === BITSET) i = child[i]! + bitsetStep(c, i, x, k & 1)
          else i = child[i]! + generalStep(c, i, x)
          k = code[i]!
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
  e: TreeEnsemble | CompiledEnsemble,
  x: Float32Array,
  out: Float64Array,
  options: RowOptions = NO_OPTIONS,
): void {
  const c = 'code' in e ? e : compileEnsemble(e)
  const offset = options.offset ?? 0
  const outOffset = options.outOffset ?? 0
  const f32 = options.float32 === true
  const { nOutputs, baseMargin, roots, group, code, threshold, child, value } = c
  for (let k = 0; k < nOutputs; k++) out[outOffset + k] = f32 ? Math.fround(baseMargin[k]!) : baseMargin[k]!
  const nTrees = roots.length
  for (let t = 0; t < nTrees; t++) {
    let i = roots[t]!
    let k = code[i]!
    while (k >= 0) {
      const v = x[offset + (k >> FEATURE_SHIFT)]!
      const kind = k & KIND
      if (kind === 0) i = child[i]! + (v * (1 - 2 * (k & 1)) > threshold[i]! ? 1 : 0)
      else if (kind === BITSET) i = child[i]! + bitsetStep(c, i, v, k & 1)
      else i = child[i]! + generalStep(c, i, v)
      k = code[i]!
    }
    const o = outOffset + group[t]!
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
