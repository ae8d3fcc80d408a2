/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent individualized feature attribution for
 * tree ensembles", Algorithm 2): per row, the Shapley value of every feature for the margin, with the
 * "feature absent" expectation taken over the training distribution that the node covers encode. Polynomial:
 * O(trees · leaves · depth²) a row.
 *
 * Output per row and output `k`: `nFeatures + 1` values, the last being the bias — the base margin plus each tree's
 * cover-weighted mean leaf value — so that the values add up to the row's margin (XGBoost's `pred_contribs`).
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'
import { inCategories } from './predict/compiled.js'
import type { TreeEnsemble } from './tree-ensemble.js'

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

/** Reusable scratch for {@link treeShapInto}, sized for one ensemble. */
export interface TreeShapWorkspace {
  readonly path: PathBuffers
  /** Per node mean values ({@link nodeMeanValues}). */
  readonly mean: Float64Array
}

/** Allocates the scratch that {@link treeShapInto} needs for `e`. */
export function treeShapWorkspace(e: TreeEnsemble): TreeShapWorkspace {
  const d = maxTreeDepth(e)
  // Level u holds u + 1 elements at most, levels 0 … d + 1 (the leaf's level extends once more).
  const size = ((d + 2) * (d + 3)) / 2
  return {
    path: {
      feature: new Int32Array(size),
      zero: new Float64Array(size),
      one: new Float64Array(size),
      weight: new Float64Array(size),
    },
    mean: nodeMeanValues(e),
  }
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
  if (depth > 0) {
    p.feature.copyWithin(at, parentAt, parentAt + depth)
    p.zero.copyWithin(at, parentAt, parentAt + depth)
    p.one.copyWithin(at, parentAt, parentAt + depth)
    p.weight.copyWithin(at, parentAt, parentAt + depth)
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
 * `rows × (nFeatures + 1)`), overwritten. `ws` from {@link treeShapWorkspace} for the same ensemble.
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
  for (let r = 0; r < rows; r++) {
    call.base = r * nFeatures
    for (let k = 0; k < nOutputs; k++) out[r * perRow + k * width + nFeatures] = e.baseMargin[k]!
    for (let t = 0; t < nTrees; t++) {
      const root = treeOffsets[t]!
      call.phiAt = r * perRow + treeGroup[t]! * width
      recurse(call, root, 0, 0, 1, 1, -1)
      const bias = call.phiAt + nFeatures
      out[bias] = out[bias]! + ws.mean[root]!
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
