/**
 * The fitted tree ensemble as data: flat typed arrays over every node of every tree, the one representation that
 * the GBDT trainer produces, the XGBoost importer produces, and inference, TreeSHAP and the registry consume.
 *
 * Layout. Tree `t` owns nodes `treeOffsets[t] … treeOffsets[t + 1] − 1`; its root is the first of them. Node indices
 * in `left`/`right` are absolute (into the flat arrays), and within a tree every child comes after its parent and
 * every non-root node has exactly one parent, so a tree is walked by following indices that only grow and no node
 * is unreachable.
 *
 * Decision rule at an internal node `i` (`feature[i] ≥ 0`) for a row whose value of feature `feature[i]` is `x`:
 * - `x` is NaN (missing): go left iff `defaultLeft[i] === 1`;
 * - numerical node (`categorical[i] === 0`): go left iff `Math.fround(x) < threshold[i]` (XGBoost compares in
 *   float32; features arrive as `Float32Array`, so the comparison is on float32 values);
 * - categorical node (`categorical[i] === 1`): the node lists categories `categories[categoryOffsets[i] …
 *   categoryOffsets[i + 1] − 1]` (ascending non-negative integers); a row whose category `x` is in the list goes
 *   RIGHT, every other non-missing value goes LEFT — XGBoost 1.7's rule (`common::Decision`: "left iff not in the
 *   set"). Membership is tested on `Math.trunc(x)` (XGBoost casts to an integer), except that any `x < 0` (even
 *   −0.5) is an invalid category and goes LEFT, as in XGBoost; so do values beyond the largest listed category.
 * A leaf (`feature[i] === −1`) adds `value[i]` to the margin of output `treeGroup[t]`. The margin of output `k` is
 * `baseMargin[k] + Σ` over trees of group `k` of their leaf values; the objective's link turns margins into
 * predictions (sigmoid for 'binary:logistic', softmax for 'multi:softprob', identity for the regressions).
 * @module
 */
import { ScalemlError } from '../../core/errors.js'

/** The objectives an ensemble can carry (XGBoost's names). */
export const TREE_OBJECTIVES = [
  'binary:logistic',
  'multi:softprob',
  'reg:squarederror',
  'reg:pseudohubererror',
] as const

/** One of {@link TREE_OBJECTIVES}. */
export type TreeObjective = (typeof TREE_OBJECTIVES)[number]

/** A fitted tree ensemble (data only; see the module comment for the layout and the decision rule). */
export interface TreeEnsemble {
  /** Number of input features; every `feature[i]` is `−1` or in `[0, nFeatures)`. */
  readonly nFeatures: number
  /** Number of margins per row: 1 for binary and regression, the class count for 'multi:softprob'. */
  readonly nOutputs: number
  readonly objective: TreeObjective
  /** Per-output margin before any tree (XGBoost's `base_score` mapped through the link's inverse), `nOutputs`. */
  readonly baseMargin: Float64Array
  /** One name per feature, `nFeatures` (XGBoost's default is `f0, f1, …`). */
  readonly featureNames: readonly string[]
  /** `nTrees + 1` node offsets: tree `t` is nodes `treeOffsets[t] … treeOffsets[t + 1] − 1`; starts at 0. */
  readonly treeOffsets: Int32Array
  /** Per tree: the output (class) its leaves add to, in `[0, nOutputs)`. */
  readonly treeGroup: Int32Array
  /** Per node: split feature, `−1` for a leaf. */
  readonly feature: Int32Array
  /** Per node: numerical split threshold (go left iff `x < threshold` in float32); unused at leaves. */
  readonly threshold: Float32Array
  /** Per node: absolute index of the left child; `−1` at leaves. */
  readonly left: Int32Array
  /** Per node: absolute index of the right child; `−1` at leaves. */
  readonly right: Int32Array
  /** Per node: 1 when a missing (NaN) value goes left, 0 when it goes right. */
  readonly defaultLeft: Uint8Array
  /**
   * Per node: the leaf output (learning rate already applied) at leaves. At internal nodes it is informational only
   * (may be 0); prediction and TreeSHAP read leaves only.
   */
  readonly value: Float64Array
  /** Per node: sum of the training rows' hessians that reached it (XGBoost's `sum_hessian`), for TreeSHAP. */
  readonly cover: Float64Array
  /** Per node: 1 for a categorical split (see {@link categories}), 0 otherwise (and at every leaf). */
  readonly categorical: Uint8Array
  /** `nNodes + 1` offsets into {@link categories}; empty ranges for numerical nodes and leaves. */
  readonly categoryOffsets: Int32Array
  /** Concatenated per-node category lists, ascending within a node; listed categories go RIGHT. */
  readonly categories: Int32Array
}

/** The ensemble-level fields, given to {@link TreeEnsembleBuilder} before any tree. */
export interface EnsembleHeader {
  readonly nFeatures: number
  readonly nOutputs: number
  readonly objective: TreeObjective
  /** `nOutputs` margins; copied. */
  readonly baseMargin: ArrayLike<number>
  /** Defaults to `f0 … f{nFeatures−1}`. */
  readonly featureNames?: readonly string[]
}

/**
 * One tree to append, with TREE-LOCAL node indices (node 0 is the root; `left`/`right` index this tree's nodes,
 * `−1` at leaves). All per-node arrays have the tree's node count. Every child must come after its parent.
 */
export interface TreeSpec {
  readonly feature: ArrayLike<number>
  readonly threshold: ArrayLike<number>
  readonly left: ArrayLike<number>
  readonly right: ArrayLike<number>
  /** 1 (or true) when a missing value goes left. */
  readonly defaultLeft: ArrayLike<number | boolean>
  readonly value: ArrayLike<number>
  readonly cover: ArrayLike<number>
  /**
   * Per node, the categories that go RIGHT at a categorical split, or null/undefined for a numerical node or a leaf.
   * Omit when the tree has no categorical split. Need not be sorted; duplicates are dropped.
   */
  readonly categories?: ReadonlyArray<ArrayLike<number> | null | undefined>
}

const OWNER = 'tree ensemble'

function invalid(path: string, expected: string, detail?: string): ScalemlError {
  const got = detail === undefined ? '' : `, got ${detail}`
  return new ScalemlError('ARTIFACT_INVALID', `Invalid ${OWNER}: ${path} must be ${expected}${got}.`, [
    { code: 'invalid_value', path: path.split(/[.[\]]+/).filter((s) => s !== ''), message: `expected ${expected}` },
  ])
}

/** Number of trees. */
export function treeCount(ensemble: TreeEnsemble): number {
  return ensemble.treeOffsets.length - 1
}

/** Number of nodes over all trees. */
export function nodeCount(ensemble: TreeEnsemble): number {
  return ensemble.feature.length
}

/** XGBoost's default feature names `f0 … f{n−1}`. */
export function defaultFeatureNames(nFeatures: number): string[] {
  return Array.from({ length: nFeatures }, (_, j) => `f${j}`)
}

function checkHeader(header: EnsembleHeader): void {
  const { nFeatures, nOutputs, objective } = header
  if (!Number.isInteger(nFeatures) || nFeatures < 1) throw invalid('nFeatures', 'a positive integer', String(nFeatures))
  if (!(TREE_OBJECTIVES as readonly string[]).includes(objective)) {
    throw invalid('objective', `one of ${TREE_OBJECTIVES.join(', ')}`, `'${String(objective)}'`)
  }
  if (!Number.isInteger(nOutputs) || nOutputs < 1) throw invalid('nOutputs', 'a positive integer', String(nOutputs))
  if (objective === 'multi:softprob' ? nOutputs < 2 : objective === 'binary:logistic' && nOutputs !== 1) {
    const expected = objective === 'multi:softprob' ? 'at least 2 (one per class)' : '1'
    throw invalid('nOutputs', `${expected} for objective '${objective}'`, String(nOutputs))
  }
  const base = header.baseMargin
  if (base === undefined || base === null || typeof base.length !== 'number' || base.length !== nOutputs) {
    throw invalid('baseMargin', `${nOutputs} values (one per output)`, base === undefined ? 'nothing' : undefined)
  }
  for (let k = 0; k < nOutputs; k++) {
    if (!Number.isFinite(base[k])) throw invalid(`baseMargin[${k}]`, 'finite', String(base[k]))
  }
  const names = header.featureNames
  if (names !== undefined) {
    if (!Array.isArray(names) || names.length !== nFeatures || !names.every((s) => typeof s === 'string')) {
      throw invalid('featureNames', `an array of ${nFeatures} strings`)
    }
  }
}

/**
 * Checks one tree's nodes `[start, end)` of flat arrays whose child indices are absolute. `parents` is scratch of at
 * least `end − start` bytes.
 */
function checkTree(
  e: Omit<TreeEnsemble, 'treeOffsets' | 'treeGroup' | 'baseMargin' | 'featureNames' | 'objective' | 'nOutputs'>,
  t: number,
  start: number,
  end: number,
  parents: Uint8Array,
): void {
  parents.fill(0, 0, end - start)
  for (let i = start; i < end; i++) {
    const f = e.feature[i]!
    const at = (field: string): string => `${field}[${i}] (tree ${t})`
    const catStart = e.categoryOffsets[i]!
    const catEnd = e.categoryOffsets[i + 1]!
    if (!(catEnd >= catStart)) throw invalid(at('categoryOffsets'), 'non-decreasing', `${catStart} then ${catEnd}`)
    if (f === -1) {
      if (e.left[i] !== -1 || e.right[i] !== -1) throw invalid(at('left/right'), '-1 at a leaf')
      if (!Number.isFinite(e.value[i]!)) throw invalid(at('value'), 'finite at a leaf', String(e.value[i]))
      if (e.categorical[i] !== 0 || catEnd !== catStart)
        throw invalid(at('categorical'), '0 with no categories at a leaf')
    } else {
      if (!Number.isInteger(f) || f < 0 || f >= e.nFeatures) {
        throw invalid(at('feature'), `-1 (leaf) or a feature index in [0, ${e.nFeatures})`, String(f))
      }
      for (const [side, child] of [
        ['left', e.left[i]!],
        ['right', e.right[i]!],
      ] as const) {
        if (!(child > i && child < end)) {
          throw invalid(at(side), `a node of the same tree after node ${i} (in (${i}, ${end}))`, String(child))
        }
        if (parents[child - start]! !== 0) throw invalid(at(side), 'a node with no other parent', String(child))
        parents[child - start] = 1
      }
      if (e.left[i] === e.right[i]) throw invalid(at('right'), 'different from left', String(e.right[i]))
      const d = e.defaultLeft[i]!
      if (d !== 0 && d !== 1) throw invalid(at('defaultLeft'), '0 or 1', String(d))
      const c = e.categorical[i]!
      if (c === 0) {
        if (Number.isNaN(e.threshold[i]!)) throw invalid(at('threshold'), 'a number (not NaN)', 'NaN')
        if (catEnd !== catStart) throw invalid(at('categoryOffsets'), 'an empty range at a numerical split')
      } else if (c === 1) {
        for (let k = catStart; k < catEnd; k++) {
          const v = e.categories[k]!
          if (v < 0 || (k > catStart && v <= e.categories[k - 1]!)) {
            throw invalid(`categories[${k}] (node ${i}, tree ${t})`, 'non-negative and strictly ascending', String(v))
          }
        }
      } else throw invalid(at('categorical'), '0 or 1', String(c))
    }
    if (!(e.cover[i]! >= 0) || !Number.isFinite(e.cover[i]!)) {
      throw invalid(at('cover'), 'finite and non-negative', String(e.cover[i]))
    }
  }
  for (let i = start + 1; i < end; i++) {
    if (parents[i - start] === 0)
      throw invalid(`nodes[${i}] (tree ${t})`, 'reachable from the root (a child of some node)')
  }
}

function checkArray(
  e: Readonly<Record<string, unknown>>,
  field: string,
  type: { new (n: number): ArrayLike<number>; name: string },
  length: number,
): void {
  const v = e[field]
  if (!(v instanceof type)) throw invalid(field, `an ${type.name}`, v === undefined ? 'nothing' : typeof v)
  if (v.length !== length) throw invalid(field, `of length ${length}`, String(v.length))
}

/**
 * Checks every invariant of the representation (types, lengths, offsets, child order, reachability, leaf values,
 * categories, groups); throws `ARTIFACT_INVALID` naming the first bad field and index. O(nodes).
 */
export function validateEnsemble(ensemble: TreeEnsemble): void {
  if (ensemble === null || typeof ensemble !== 'object') throw invalid('ensemble', 'an object', typeof ensemble)
  checkHeader({ ...ensemble, featureNames: ensemble.featureNames ?? [] })
  const raw = ensemble as unknown as Readonly<Record<string, unknown>>
  checkArray(raw, 'baseMargin', Float64Array, ensemble.nOutputs)
  if (!(ensemble.treeOffsets instanceof Int32Array)) throw invalid('treeOffsets', 'an Int32Array')
  const nTrees = ensemble.treeOffsets.length - 1
  if (nTrees < 0) throw invalid('treeOffsets', 'of length nTrees + 1 (at least 1)', '0')
  const nNodes = ensemble.feature instanceof Int32Array ? ensemble.feature.length : -1
  checkArray(raw, 'feature', Int32Array, nNodes)
  checkArray(raw, 'threshold', Float32Array, nNodes)
  checkArray(raw, 'left', Int32Array, nNodes)
  checkArray(raw, 'right', Int32Array, nNodes)
  checkArray(raw, 'defaultLeft', Uint8Array, nNodes)
  checkArray(raw, 'value', Float64Array, nNodes)
  checkArray(raw, 'cover', Float64Array, nNodes)
  checkArray(raw, 'categorical', Uint8Array, nNodes)
  checkArray(raw, 'categoryOffsets', Int32Array, nNodes + 1)
  checkArray(raw, 'treeGroup', Int32Array, nTrees)
  if (!(ensemble.categories instanceof Int32Array)) throw invalid('categories', 'an Int32Array')
  const offsets = ensemble.treeOffsets
  if (offsets[0] !== 0) throw invalid('treeOffsets[0]', '0', String(offsets[0]))
  if (offsets[nTrees] !== nNodes)
    throw invalid(`treeOffsets[${nTrees}]`, `the node count ${nNodes}`, String(offsets[nTrees]))
  const cats = ensemble.categoryOffsets
  if (cats[0] !== 0) throw invalid('categoryOffsets[0]', '0', String(cats[0]))
  if (cats[nNodes] !== ensemble.categories.length) {
    throw invalid(
      `categoryOffsets[${nNodes}]`,
      `the category count ${ensemble.categories.length}`,
      String(cats[nNodes]),
    )
  }
  let widest = 0
  for (let t = 0; t < nTrees; t++) {
    if (!(offsets[t + 1]! > offsets[t]!)) throw invalid(`treeOffsets[${t + 1}]`, `greater than treeOffsets[${t}]`)
    widest = Math.max(widest, offsets[t + 1]! - offsets[t]!)
    const g = ensemble.treeGroup[t]!
    if (g < 0 || g >= ensemble.nOutputs) throw invalid(`treeGroup[${t}]`, `in [0, ${ensemble.nOutputs})`, String(g))
  }
  const parents = new Uint8Array(widest)
  for (let t = 0; t < nTrees; t++) checkTree(ensemble, t, offsets[t]!, offsets[t + 1]!, parents)
}

/**
 * Appends trees to a growing ensemble; what the GBDT trainer and the importers use. Arrays grow by doubling, so
 * appending a tree costs O(its nodes) amortized. Each tree is checked as it is added (`ARTIFACT_INVALID`).
 * @example
 * const b = new TreeEnsembleBuilder({ nFeatures: 2, nOutputs: 1, objective: 'reg:squarederror', baseMargin: [0.5] })
 * b.addTree({ feature: [0, -1, -1], threshold: [1.5, 0, 0], left: [1, -1, -1], right: [2, -1, -1],
 *   defaultLeft: [1, 0, 0], value: [0, -0.2, 0.3], cover: [10, 6, 4] })
 * const ensemble = b.build()
 */
export class TreeEnsembleBuilder {
  readonly #header: Required<EnsembleHeader>
  #nodes = 0
  #capacity = 0
  #trees = 0
  #nCategories = 0
  #feature = new Int32Array(0)
  #threshold = new Float32Array(0)
  #left = new Int32Array(0)
  #right = new Int32Array(0)
  #defaultLeft = new Uint8Array(0)
  #value = new Float64Array(0)
  #cover = new Float64Array(0)
  #categorical = new Uint8Array(0)
  #categoryOffsets = new Int32Array(1)
  #categories = new Int32Array(0)
  #treeOffsets = new Int32Array(1)
  #treeGroup = new Int32Array(0)

  /** Checks the header (`ARTIFACT_INVALID`). */
  constructor(header: EnsembleHeader) {
    checkHeader(header)
    this.#header = {
      ...header,
      baseMargin: Float64Array.from(header.baseMargin),
      featureNames: [...(header.featureNames ?? defaultFeatureNames(header.nFeatures))],
    }
  }

  /** Trees appended so far. */
  get nTrees(): number {
    return this.#trees
  }

  /** Nodes appended so far. */
  get nNodes(): number {
    return this.#nodes
  }

  /**
   * Appends one tree (tree-local indices, see {@link TreeSpec}) adding to output `group`; returns its tree index.
   * Throws `ARTIFACT_INVALID` naming the bad node, leaving the builder unchanged.
   */
  addTree(tree: TreeSpec, group = 0): number {
    const n = tree.feature.length
    const t = this.#trees
    for (const field of ['threshold', 'left', 'right', 'defaultLeft', 'value', 'cover'] as const) {
      if (tree[field].length !== n)
        throw invalid(`tree ${t}.${field}`, `of length ${n} (the node count)`, String(tree[field].length))
    }
    if (tree.categories !== undefined && tree.categories.length !== n) {
      throw invalid(`tree ${t}.categories`, `of length ${n} (the node count)`, String(tree.categories.length))
    }
    if (n < 1) throw invalid(`tree ${t}.feature`, 'at least one node')
    if (!Number.isInteger(group) || group < 0 || group >= this.#header.nOutputs) {
      throw invalid(`treeGroup[${t}]`, `in [0, ${this.#header.nOutputs})`, String(group))
    }
    const base = this.#nodes
    this.#reserve(base + n)
    let nCats = this.#nCategories
    for (let i = 0; i < n; i++) {
      const at = base + i
      const f = tree.feature[i]!
      const leaf = f === -1
      this.#feature[at] = f
      this.#threshold[at] = leaf ? 0 : tree.threshold[i]!
      const l = tree.left[i]!
      const r = tree.right[i]!
      // Negative indices stay as given so that the check names a leaf with a child, or a split without one.
      this.#left[at] = l < 0 ? l : l + base
      this.#right[at] = r < 0 ? r : r + base
      const d = tree.defaultLeft[i]!
      this.#defaultLeft[at] = leaf ? 0 : d === true || d === 1 ? 1 : d === false || d === 0 ? 0 : 2
      this.#value[at] = tree.value[i]!
      this.#cover[at] = tree.cover[i]!
      const list = tree.categories?.[i]
      this.#categorical[at] = list === null || list === undefined ? 0 : 1
      if (list !== null && list !== undefined) {
        const sorted = Array.from(list).sort((a, b) => a - b)
        for (let k = 0; k < sorted.length; k++) {
          const v = sorted[k]!
          if (!Number.isInteger(v) || v < 0) {
            throw invalid(`tree ${t}.categories[${i}]`, 'non-negative integers', String(v))
          }
          if (k > 0 && v === sorted[k - 1]) continue
          if (nCats >= this.#categories.length) this.#categories = grow(this.#categories, nCats + 1)
          this.#categories[nCats++] = v
        }
      }
      this.#categoryOffsets[at + 1] = nCats
    }
    const view = this.#view(base + n, nCats)
    checkTree(view, t, base, base + n, new Uint8Array(n))
    this.#nodes = base + n
    this.#nCategories = nCats
    if (t + 2 > this.#treeOffsets.length) this.#treeOffsets = grow(this.#treeOffsets, t + 2)
    if (t + 1 > this.#treeGroup.length) this.#treeGroup = grow(this.#treeGroup, t + 1)
    this.#treeOffsets[t + 1] = this.#nodes
    this.#treeGroup[t] = group
    this.#trees = t + 1
    return t
  }

  /** The ensemble so far, as a validated, independent copy (the builder can keep growing). */
  build(): TreeEnsemble {
    const h = this.#header
    const ensemble: TreeEnsemble = {
      nFeatures: h.nFeatures,
      nOutputs: h.nOutputs,
      objective: h.objective,
      baseMargin: Float64Array.from(h.baseMargin),
      featureNames: [...h.featureNames],
      treeOffsets: this.#treeOffsets.slice(0, this.#trees + 1),
      treeGroup: this.#treeGroup.slice(0, this.#trees),
      ...copyNodes(this.#view(this.#nodes, this.#nCategories)),
    }
    validateEnsemble(ensemble)
    return ensemble
  }

  #view(nodes: number, nCats: number) {
    return {
      nFeatures: this.#header.nFeatures,
      feature: this.#feature.subarray(0, nodes),
      threshold: this.#threshold.subarray(0, nodes),
      left: this.#left.subarray(0, nodes),
      right: this.#right.subarray(0, nodes),
      defaultLeft: this.#defaultLeft.subarray(0, nodes),
      value: this.#value.subarray(0, nodes),
      cover: this.#cover.subarray(0, nodes),
      categorical: this.#categorical.subarray(0, nodes),
      categoryOffsets: this.#categoryOffsets.subarray(0, nodes + 1),
      categories: this.#categories.subarray(0, nCats),
    }
  }

  #reserve(nodes: number): void {
    if (nodes <= this.#capacity) return
    const cap = Math.max(nodes, this.#capacity * 2, 64)
    this.#feature = grow(this.#feature, cap)
    this.#threshold = grow(this.#threshold, cap)
    this.#left = grow(this.#left, cap)
    this.#right = grow(this.#right, cap)
    this.#defaultLeft = grow(this.#defaultLeft, cap)
    this.#value = grow(this.#value, cap)
    this.#cover = grow(this.#cover, cap)
    this.#categorical = grow(this.#categorical, cap)
    this.#categoryOffsets = grow(this.#categoryOffsets, cap + 1)
    this.#capacity = cap
  }
}

type NodeArrays = Pick<
  TreeEnsemble,
  | 'feature'
  | 'threshold'
  | 'left'
  | 'right'
  | 'defaultLeft'
  | 'value'
  | 'cover'
  | 'categorical'
  | 'categoryOffsets'
  | 'categories'
>

function copyNodes(v: NodeArrays): NodeArrays {
  return {
    feature: v.feature.slice(),
    threshold: v.threshold.slice(),
    left: v.left.slice(),
    right: v.right.slice(),
    defaultLeft: v.defaultLeft.slice(),
    value: v.value.slice(),
    cover: v.cover.slice(),
    categorical: v.categorical.slice(),
    categoryOffsets: v.categoryOffsets.slice(),
    categories: v.categories.slice(),
  }
}

type Growable = Int32Array | Float32Array | Float64Array | Uint8Array

function grow<A extends Growable>(a: A, minLength: number): A {
  const next = new (a.constructor as new (n: number) => A)(Math.max(minLength, a.length * 2))
  next.set(a)
  return next
}

/**
 * The first `nTrees` trees of `ensemble` (e.g. the best iteration after early stopping: pass `rounds × nOutputs`
 * for one tree per output per round), as an independent copy.
 */
export function truncateEnsemble(ensemble: TreeEnsemble, nTrees: number): TreeEnsemble {
  const total = treeCount(ensemble)
  if (!Number.isInteger(nTrees) || nTrees < 0 || nTrees > total) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `truncateEnsemble: nTrees must be an integer in [0, ${total}], got ${nTrees}.`,
    )
  }
  const nodes = ensemble.treeOffsets[nTrees]!
  const nCats = ensemble.categoryOffsets[nodes]!
  const sub = (a: Growable, n: number) => a.slice(0, n)
  return {
    ...ensemble,
    baseMargin: ensemble.baseMargin.slice(),
    featureNames: [...ensemble.featureNames],
    treeOffsets: ensemble.treeOffsets.slice(0, nTrees + 1),
    treeGroup: ensemble.treeGroup.slice(0, nTrees),
    feature: sub(ensemble.feature, nodes) as Int32Array,
    threshold: sub(ensemble.threshold, nodes) as Float32Array,
    left: sub(ensemble.left, nodes) as Int32Array,
    right: sub(ensemble.right, nodes) as Int32Array,
    defaultLeft: sub(ensemble.defaultLeft, nodes) as Uint8Array,
    value: sub(ensemble.value, nodes) as Float64Array,
    cover: sub(ensemble.cover, nodes) as Float64Array,
    categorical: sub(ensemble.categorical, nodes) as Uint8Array,
    categoryOffsets: sub(ensemble.categoryOffsets, nodes + 1) as Int32Array,
    categories: sub(ensemble.categories, nCats) as Int32Array,
  }
}

/** Serialized form: the same fields as a plain object (typed arrays stay typed; copies). */
export type TreeEnsembleJSON = { readonly [K in keyof TreeEnsemble]: TreeEnsemble[K] }

/** A JSON-ready copy of `ensemble` (typed arrays stay typed, for the registry's binary files). */
export function ensembleToJSON(ensemble: TreeEnsemble): TreeEnsembleJSON {
  return truncateEnsemble(ensemble, treeCount(ensemble))
}

const TYPED_FIELDS = {
  baseMargin: Float64Array,
  treeOffsets: Int32Array,
  treeGroup: Int32Array,
  feature: Int32Array,
  threshold: Float32Array,
  left: Int32Array,
  right: Int32Array,
  defaultLeft: Uint8Array,
  value: Float64Array,
  cover: Float64Array,
  categorical: Uint8Array,
  categoryOffsets: Int32Array,
  categories: Int32Array,
} as const

/**
 * Rebuilds an ensemble from {@link ensembleToJSON} output (or the same fields as plain number arrays, e.g. after a
 * JSON text round trip) and validates it; throws `ARTIFACT_INVALID` naming the bad field.
 */
export function ensembleFromJSON(json: unknown): TreeEnsemble {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw invalid('ensemble', 'an object')
  const raw = json as Readonly<Record<string, unknown>>
  const out: Record<string, unknown> = {
    nFeatures: raw['nFeatures'],
    nOutputs: raw['nOutputs'],
    objective: raw['objective'],
    featureNames: Array.isArray(raw['featureNames']) ? [...raw['featureNames']] : raw['featureNames'],
  }
  for (const [field, type] of Object.entries(TYPED_FIELDS)) {
    const v = raw[field]
    if (v instanceof type) out[field] = v.slice()
    else if (Array.isArray(v) && v.every((x) => typeof x === 'number' || x === null)) {
      // A text round trip writes NaN as null; only thresholds may hold it (and are then rejected by validation).
      const a = new type(v.length)
      for (let k = 0; k < v.length; k++) a[k] = v[k] === null ? Number.NaN : (v[k] as number)
      out[field] = a
    } else throw invalid(field, `an ${type.name} (or an array of numbers)`, v === undefined ? 'nothing' : typeof v)
  }
  const ensemble = out as unknown as TreeEnsemble
  validateEnsemble(ensemble)
  return ensemble
}
