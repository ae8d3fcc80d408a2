/**
 * Test helpers: random ensembles and inputs (seeded) for the inference and TreeSHAP tests and the benchmark, and a
 * plain recursive reference predictor written from the decision rule alone.
 * @module
 */
import { Random } from '../../../core/random.js'
import { type TreeEnsemble, TreeEnsembleBuilder, type TreeObjective, type TreeSpec } from '../tree-ensemble.js'

/** Options of {@link randomEnsemble}. */
export interface RandomEnsembleOptions {
  readonly nFeatures: number
  readonly nTrees: number
  readonly nOutputs?: number
  readonly objective?: TreeObjective
  /** Depth of every leaf when `full`, else the maximum depth. */
  readonly depth: number
  /** Grow every branch to `depth` (a complete tree of 2^depth leaves). Default false. */
  readonly full?: boolean
  /** Features split as categories (codes 0 … 5). Default none. */
  readonly categoricalFeatures?: readonly number[]
  readonly seed?: number
}

/** Number of category codes of the categorical features in {@link randomEnsemble} and {@link randomRows}. */
export const N_CATEGORIES = 6

/** A random valid ensemble: thresholds in [−1, 1), covers that split their parent's, leaf values in [−1, 1). */
export function randomEnsemble(o: RandomEnsembleOptions): TreeEnsemble {
  const rng = new Random(o.seed ?? 1)
  const nOutputs = o.nOutputs ?? 1
  const objective = o.objective ?? (nOutputs > 1 ? 'multi:softprob' : 'reg:squarederror')
  const cats = new Set(o.categoricalFeatures ?? [])
  const b = new TreeEnsembleBuilder({
    nFeatures: o.nFeatures,
    nOutputs,
    objective,
    baseMargin: Array.from({ length: nOutputs }, () => rng.next() - 0.5),
  })
  for (let t = 0; t < o.nTrees; t++) {
    const nodes = {
      feature: [] as number[],
      threshold: [] as number[],
      left: [] as number[],
      right: [] as number[],
      defaultLeft: [] as number[],
      value: [] as number[],
      cover: [] as number[],
      categories: [] as (number[] | null)[],
    }
    const grow = (depth: number, cover: number): number => {
      const id = nodes.feature.length
      const leaf = depth === o.depth || (!o.full && depth > 0 && rng.next() < 0.25)
      const f = leaf ? -1 : rng.nextInt(o.nFeatures)
      nodes.feature.push(f)
      nodes.threshold.push(leaf ? 0 : Math.round((rng.next() * 2 - 1) * 8) / 8)
      nodes.left.push(-1)
      nodes.right.push(-1)
      nodes.defaultLeft.push(rng.next() < 0.5 ? 1 : 0)
      nodes.value.push(leaf ? rng.next() * 2 - 1 : 0)
      nodes.cover.push(cover)
      nodes.categories.push(
        !leaf && cats.has(f) ? [...Array(N_CATEGORIES).keys()].filter(() => rng.next() < 0.4) : null,
      )
      if (!leaf) {
        const share = 0.1 + 0.8 * rng.next()
        nodes.left[id] = grow(depth + 1, cover * share)
        nodes.right[id] = grow(depth + 1, cover * (1 - share))
      }
      return id
    }
    grow(0, 100 + rng.next() * 100)
    b.addTree(nodes satisfies TreeSpec, t % nOutputs)
  }
  return b.build()
}

/**
 * A random ensemble of numerical trees grown leaf-wise (LightGBM-style, unbalanced) to exactly `leaves` leaves each:
 * repeatedly split a random leaf. Node ids are allocated as splits happen, so children follow parents.
 */
export function randomLeafwiseEnsemble(o: {
  readonly nFeatures: number
  readonly nTrees: number
  readonly leaves: number
  readonly seed?: number
}): TreeEnsemble {
  const rng = new Random(o.seed ?? 1)
  const b = new TreeEnsembleBuilder({
    nFeatures: o.nFeatures,
    nOutputs: 1,
    objective: 'binary:logistic',
    baseMargin: [0],
  })
  for (let t = 0; t < o.nTrees; t++) {
    const feature = [-1]
    const threshold = [0]
    const left = [-1]
    const right = [-1]
    const defaultLeft = [0]
    const value = [0]
    const cover = [1000]
    const open = [0]
    while (open.length < o.leaves) {
      const pick = rng.nextInt(open.length)
      const id = open[pick]!
      feature[id] = rng.nextInt(o.nFeatures)
      threshold[id] = (rng.next() * 2 - 1) * 1.5
      defaultLeft[id] = rng.next() < 0.5 ? 1 : 0
      const share = 0.2 + 0.6 * rng.next()
      for (const c of [share, 1 - share]) {
        feature.push(-1)
        threshold.push(0)
        left.push(-1)
        right.push(-1)
        defaultLeft.push(0)
        value.push((rng.next() * 2 - 1) * 0.1)
        cover.push(cover[id]! * c)
      }
      left[id] = feature.length - 2
      right[id] = feature.length - 1
      open.splice(pick, 1, left[id]!, right[id]!)
    }
    b.addTree({ feature, threshold, left, right, defaultLeft, value, cover })
  }
  return b.build()
}

/**
 * `rows × nFeatures` random inputs: normal-ish values in about [−2, 2], ~10% NaN; categorical features hold codes
 * in [−1, N_CATEGORIES + 1] with some fractions (invalid and unseen categories included).
 */
export function randomRows(
  nFeatures: number,
  rows: number,
  seed = 2,
  categoricalFeatures: readonly number[] = [],
): Float32Array {
  const rng = new Random(seed)
  const cats = new Set(categoricalFeatures)
  const X = new Float32Array(rows * nFeatures)
  for (let i = 0; i < X.length; i++) {
    const j = i % nFeatures
    if (rng.next() < 0.1) X[i] = Number.NaN
    else if (cats.has(j)) X[i] = rng.nextInt(N_CATEGORIES + 3) - 1 + (rng.next() < 0.2 ? 0.5 : 0)
    else X[i] = (rng.next() + rng.next() + rng.next() - 1.5) * 2.5
  }
  return X
}

/** Reference: the leaf row `r` reaches in tree `t`, by a recursive walk of the rule as written in tree-ensemble.ts. */
export function referenceLeaf(e: TreeEnsemble, t: number, X: Float32Array, r: number): number {
  const walk = (i: number): number => {
    const f = e.feature[i]!
    if (f === -1) return i
    const x = X[r * e.nFeatures + f]!
    let left: boolean
    if (Number.isNaN(x)) left = e.defaultLeft[i] === 1
    else if (e.categorical[i] === 1) {
      const list = [...e.categories.subarray(e.categoryOffsets[i]!, e.categoryOffsets[i + 1]!)]
      left = x < 0 || !list.includes(Math.trunc(x))
    } else left = Math.fround(x) < e.threshold[i]!
    return walk(left ? e.left[i]! : e.right[i]!)
  }
  return walk(e.treeOffsets[t]!)
}
