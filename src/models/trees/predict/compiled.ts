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
 * NaN compares false, so it always takes the first child.
 *
 * Categorical splits become bitsets: membership of category `c` is one bit test instead of a binary search of the
 * node's list, reached through the representation. On the flights GBDT (origin/destination airports: 70% of the
 * splits categorical, ~40 listed categories each) that made walking the trees ~4× faster. Bits are laid out per node, `ceil((max category + 1) / 32)` words each; a node whose largest
 * category is {@link MAX_BITSET_CATEGORY} or more, and a threshold of −∞ (where the rewrite above would be wrong
 * for x = −∞), keep the representation's rule on a slower path.
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
   * Per node: −1 at a leaf; else `feature << 3 | kind | negate`, where `kind` is {@link NUMERIC}, {@link BITSET} or
   * {@link GENERAL} ("use the representation's rule via `source`") and `negate` (bit 0) means s = −1 for a numerical
   * split and "missing goes right" for a bitset.
   */
  readonly code: Int32Array
  /**
   * Per node: t' of the rewritten comparison for a numerical split; for a bitset, the number of categories it spans
   * (the largest listed + 1); unused on the general path and at leaves.
   */
  readonly threshold: Float32Array
  /** Per node: first word of its bitset in {@link bits} (bitset nodes only). */
  readonly bitsStart: Int32Array
  /** Concatenated category bitsets: category `c` of node `p` is bit `c & 31` of `bits[bitsStart[p] + (c >> 5)]`. */
  readonly bits: Int32Array
  /** Per node: index of the first child; the second is `child + 1`. */
  readonly child: Int32Array
  /** Per node: the leaf value (0 at internal nodes). */
  readonly value: Float64Array
  /** Per node: its index in the ensemble (for the general path). */
  readonly source: Int32Array
  /** The ensemble compiled. */
  readonly ensemble: TreeEnsemble
}

/** `code & KIND` of a numerical split compiled to one comparison. */
export const NUMERIC = 0
/** `code & KIND` of a categorical split compiled to a bitset. */
export const BITSET = 2
/** `code & KIND` of a split that keeps the representation's rule ({@link generalStep}). */
export const GENERAL = 4
/** Mask of the kind bits of a node code. */
export const KIND = 6
/** Right shift from a node code to its feature. */
export const FEATURE_SHIFT = 3
/** Categorical nodes listing a category this large or larger keep the binary search (a bitset would be too big). */
export const MAX_BITSET_CATEGORY = 1 << 16

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
  const bitsStart = new Int32Array(n)
  const roots = new Int32Array(nTrees)
  const queue = new Int32Array(n)
  const bits = new Int32Array(bitsetWords(e))
  let words = 0
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
      const negate = missingLeft ? 0 : 1
      const t0 = e.threshold[o]!
      if (e.categorical[o] === 1) {
        const span = categorySpan(e, o)
        if (span <= MAX_BITSET_CATEGORY) {
          code[p] = (f << FEATURE_SHIFT) | BITSET | negate
          threshold[p] = span
          bitsStart[p] = words
          for (let j = e.categoryOffsets[o]!; j < e.categoryOffsets[o + 1]!; j++) {
            const c = e.categories[j]!
            bits[words + (c >>> 5)] = bits[words + (c >>> 5)]! | (1 << (c & 31))
          }
          words += (span + 31) >>> 5
        } else code[p] = (f << FEATURE_SHIFT) | GENERAL | negate
      } else if (t0 === Number.NEGATIVE_INFINITY) code[p] = (f << FEATURE_SHIFT) | GENERAL | negate
      else {
        code[p] = (f << FEATURE_SHIFT) | NUMERIC | negate
        threshold[p] = missingLeft ? nextDown32(t0) : -t0
      }
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
    bitsStart,
    bits,
    child,
    value,
    source,
    ensemble: e,
  }
  cache.set(e, compiled)
  return compiled
}

/** One more than the largest category that node `o` lists (0 for an empty list). */
function categorySpan(e: TreeEnsemble, o: number): number {
  const end = e.categoryOffsets[o + 1]!
  // Lists are ascending, so the last is the largest.
  return end > e.categoryOffsets[o]! ? e.categories[end - 1]! + 1 : 0
}

/** Words of all the bitsets of `e`. */
function bitsetWords(e: TreeEnsemble): number {
  let words = 0
  for (let o = 0; o < e.feature.length; o++) {
    if (e.feature[o]! < 0 || e.categorical[o] !== 1) continue
    const span = categorySpan(e, o)
    if (span <= MAX_BITSET_CATEGORY) words += (span + 31) >>> 5
  }
  return words
}

/**
 * The step at bitset node `p` (0: the first child, where missing goes; 1: the second): a listed category goes
 * right, anything else that is not NaN (negative, fractional part dropped, beyond the span) goes left.
 */
export function bitsetStep(c: CompiledEnsemble, p: number, x: number, negate: number): number {
  if (Number.isNaN(x)) return 0
  let member = 0
  if (x >= 0 && x < c.threshold[p]!) {
    const v = x | 0
    member = (c.bits[c.bitsStart[p]! + (v >>> 5)]! >>> (v & 31)) & 1
  }
  return member ^ negate
}

/**
 * The step at compiled internal node `p` whose code is `k` for value `x`: 0 for the first child (where missing goes),
 * 1 for the second. What the batch kernels inline by hand; for paths that visit every node (TreeSHAP).
 */
export function stepAt(c: CompiledEnsemble, p: number, k: number, x: number): number {
  const kind = k & KIND
  if (kind === NUMERIC) return x * (1 - 2 * (k & 1)) > c.threshold[p]! ? 1 : 0
  if (kind === BITSET) return bitsetStep(c, p, x, k & 1)
  return generalStep(c, p, x)
}

/**
 * The representation's rule at compiled node `p` (a categorical split too wide for a bitset, or a −∞ threshold): 0
 * for the first child (where missing goes), 1 for the second.
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
