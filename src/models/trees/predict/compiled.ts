/**
 * A prediction-only layout of a {@link TreeEnsemble}, derived once per ensemble and cached: siblings adjacent (the
 * child a missing value takes first), and every numerical split rewritten as one comparison `s·x > t'` that sends
 * NaN to the first child, so the hot step is `i = child[i] + (s·x > t' ? 1 : 0)` — no NaN test, no lookup of the
 * default direction, one fewer array read. Measured ~1.6× the throughput of walking the flat representation
 * directly (bench/trees/predict.bench.ts).
 *
 * The rewrite, for a float32 `x` and threshold `t` (the representation's rule: left iff `x < t`):
 * - missing goes left: first = left; go right iff `x ≥ t` ⟺ `x > nextDown32(t)` (`x` is a float32), so s = +1,
 *   t' = the largest float32 below t;
 * - missing goes right: first = right; go left iff `x < t` ⟺ `−x > −t`, so s = −1, t' = −t.
 * NaN compares false, so it always takes the first child. Categorical splits and a threshold of −∞ (where the
 * rewrite would be wrong for x = −∞) keep the general rule on a slower path.
 * @module
 */
import type { TreeEnsemble } from '../tree-ensemble.js'

/** The prediction layout (see the module comment). Node indices are its own, not the ensemble's. */
export interface CompiledEnsemble {
  readonly nFeatures: number
  readonly nOutputs: number
  readonly baseMargin: Float64Array
  /** Per tree: its root. */
  readonly roots: Int32Array
  /** Per tree: the output it adds to. */
  readonly group: Int32Array
  /**
   * Per node: −1 at a leaf; else `feature << 2 | general << 1 | negate`, where `negate` means s = −1 and `general`
   * means "use the representation's rule via `source`".
   */
  readonly code: Int32Array
  /** Per node: t' of the rewritten comparison (unused on the general path and at leaves). */
  readonly threshold: Float32Array
  /** Per node: index of the first child; the second is `child + 1`. */
  readonly child: Int32Array
  /** Per node: the leaf value (0 at internal nodes). */
  readonly value: Float64Array
  /** Per node: its index in the ensemble (for the general path). */
  readonly source: Int32Array
  /** The ensemble compiled. */
  readonly ensemble: TreeEnsemble
}

const scratch = new Float32Array(1)
const bits = new Uint32Array(scratch.buffer)

/** The largest float32 strictly below float32 `t` (t finite or +∞). */
function nextDown32(t: number): number {
  scratch[0] = t
  if (t === 0) return -1.401298464324817e-45
  if (t > 0) bits[0] = bits[0]! - 1
  else bits[0] = bits[0]! + 1
  return scratch[0]!
}

const cache = new WeakMap<TreeEnsemble, CompiledEnsemble>()

/**
 * The compiled layout of `e`, built on first use and cached for the ensemble object (ensembles are immutable by
 * convention; a mutated ensemble needs `compileEnsemble(e, { fresh: true })`).
 */
export function compileEnsemble(e: TreeEnsemble, options?: { readonly fresh?: boolean }): CompiledEnsemble {
  const cached = options?.fresh === true ? undefined : cache.get(e)
  if (cached !== undefined) return cached
  const n = e.feature.length
  const nTrees = e.treeOffsets.length - 1
  const code = new Int32Array(n)
  const threshold = new Float32Array(n)
  const child = new Int32Array(n)
  const value = new Float64Array(n)
  const source = new Int32Array(n)
  const roots = new Int32Array(nTrees)
  const queue = new Int32Array(n)
  let next = 0
  for (let t = 0; t < nTrees; t++) {
    // Breadth-first, placing each node's two children side by side, the missing value's child first.
    let head = 0
    let tail = 0
    roots[t] = next
    source[next] = e.treeOffsets[t]!
    queue[tail++] = next++
    while (head < tail) {
      const p = queue[head++]!
      const o = source[p]!
      const f = e.feature[o]!
      if (f < 0) {
        code[p] = -1
        value[p] = e.value[o]!
        continue
      }
      const missingLeft = e.defaultLeft[o] === 1
      source[next] = missingLeft ? e.left[o]! : e.right[o]!
      source[next + 1] = missingLeft ? e.right[o]! : e.left[o]!
      child[p] = next
      queue[tail++] = next
      queue[tail++] = next + 1
      next += 2
      const t0 = e.threshold[o]!
      const general = e.categorical[o] === 1 || t0 === Number.NEGATIVE_INFINITY
      code[p] = (f << 2) | (general ? 2 : 0) | (missingLeft ? 0 : 1)
      threshold[p] = general ? 0 : missingLeft ? nextDown32(t0) : -t0
    }
  }
  const compiled: CompiledEnsemble = {
    nFeatures: e.nFeatures,
    nOutputs: e.nOutputs,
    baseMargin: e.baseMargin,
    roots,
    group: e.treeGroup,
    code,
    threshold,
    child,
    value,
    source,
    ensemble: e,
  }
  cache.set(e, compiled)
  return compiled
}

/**
 * The general rule at compiled node `p` (categorical split or a −∞ threshold): 0 for the first child (where
 * missing goes), 1 for the second.
 */
export function generalStep(c: CompiledEnsemble, p: number, x: number): number {
  if (Number.isNaN(x)) return 0
  const e = c.ensemble
  const o = c.source[p]!
  let left: boolean
  if (e.categorical[o] === 1) {
    left = !inCategories(e.categories, e.categoryOffsets[o]!, e.categoryOffsets[o + 1]!, x)
  } else left = x < e.threshold[o]!
  const missingLeft = (c.code[p]! & 1) === 0
  return left === missingLeft ? 0 : 1
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
