/**
 * The best split of a tree node from its gradient histogram (XGBoost's exact-greedy formulas over bins):
 * a leaf's weight is `−G / (H + λ)` and a split's gain `½ [G_L²/(H_L + λ) + G_R²/(H_R + λ) − G²/(H + λ)] − γ`
 * (summed over gradients for a multi-output tree). A split is kept only when its gain is positive and both children
 * have at least `minChildWeight` hessian and `minSamplesLeaf` rows.
 *
 * Numeric features: every cut between value bins, with missing values (the missing bin) sent left and then right;
 * the direction with the larger gain becomes the node's default. A node without missing values sends them, at
 * inference, to the child with more hessian. The split "every value left, missing right" is also tried (it separates
 * missing from present values).
 *
 * Categorical features (LightGBM's and XGBoost's method): with at most `maxCatToOnehot` non-empty categories, each
 * category alone against the rest; otherwise the non-empty categories are sorted by `G / (H + λ)` and every prefix
 * and every suffix of that order of at most `maxCatThreshold` categories is tried as the set sent right (which, by
 * Fisher's 1958 result, contains the optimal partition for one gradient). The "other" bin (rare and unseen codes)
 * always stays left, so a stored category list names only kept categories and anything unknown goes left at inference,
 * as the ensemble's rule (listed categories go right) requires.
 *
 * Pure computation over a histogram; scratch is owned by the finder, nothing is allocated per node.
 * @module
 */
import type { BinMapper } from './binning.js'

/** The split-search hyperparameters. */
export interface SplitSettings {
  /** L2 regularization of leaf weights (λ). */
  readonly lambda: number
  /** Minimum gain (γ) subtracted from every split's gain. */
  readonly gamma: number
  /** Minimum hessian sum of each child. */
  readonly minChildWeight: number
  /** Minimum rows of each child. */
  readonly minSamplesLeaf: number
  /** Categorical features with at most this many non-empty categories are split one category against the rest. */
  readonly maxCatToOnehot: number
  /** Most categories in the set sent right by a partition split. */
  readonly maxCatThreshold: number
}

/** Gradient, hessian and row-count sums of a set of rows. */
export class NodeStats {
  readonly grad: Float64Array
  hess = 0
  count = 0

  constructor(nGradients: number) {
    this.grad = new Float64Array(nGradients)
  }

  /** Copies `other`. */
  copyFrom(other: NodeStats): void {
    this.grad.set(other.grad)
    this.hess = other.hess
    this.count = other.count
  }

  /** `a − b`. */
  setDifference(a: NodeStats, b: NodeStats): void {
    for (let c = 0; c < this.grad.length; c++) this.grad[c] = a.grad[c]! - b.grad[c]!
    this.hess = a.hess - b.hess
    this.count = a.count - b.count
  }
}

/** The best split found for a node (a reusable, caller-owned record). */
export class SplitCandidate {
  /** The gain; `-Infinity` when no split qualifies. */
  gain = Number.NEGATIVE_INFINITY
  feature = -1
  categorical = false
  /** Numeric: the last value bin that goes left. */
  bin = -1
  /** Missing values go left. */
  defaultLeft = false
  /** Categorical: `rightBins[b] === 1` for every bin in the set sent right. */
  readonly rightBins = new Uint8Array(256)
  readonly left: NodeStats
  readonly right: NodeStats

  constructor(nGradients: number) {
    this.left = new NodeStats(nGradients)
    this.right = new NodeStats(nGradients)
  }

  /** True when a split qualified. */
  get found(): boolean {
    return this.gain > Number.NEGATIVE_INFINITY
  }

  /** Forgets the split. */
  reset(): void {
    this.gain = Number.NEGATIVE_INFINITY
    this.feature = -1
    this.bin = -1
  }

  /** Copies `other`. */
  copyFrom(other: SplitCandidate): void {
    this.gain = other.gain
    this.feature = other.feature
    this.categorical = other.categorical
    this.bin = other.bin
    this.defaultLeft = other.defaultLeft
    this.rightBins.set(other.rightBins)
    this.left.copyFrom(other.left)
    this.right.copyFrom(other.right)
  }

  /**
   * Writes the node's routing table into `goesLeft[offset, offset + 256)`: 1 for each bin of the split feature that
   * goes left (the missing bin by the default direction).
   */
  writeRouting(mapper: BinMapper, goesLeft: Uint8Array, offset: number): void {
    const fb = mapper.features[this.feature]!
    for (let b = 0; b < 256; b++) {
      const left = this.categorical ? this.rightBins[b] === 0 : b <= this.bin
      goesLeft[offset + b] = left ? 1 : 0
    }
    goesLeft[offset + fb.missingBin] = this.defaultLeft ? 1 : 0
  }
}

/** A leaf's score `Σ_c G_c² / (H + λ)` (twice the loss reduction of its optimal weight). */
export function leafScore(grad: Float64Array, hess: number, lambda: number): number {
  let s = 0
  for (let c = 0; c < grad.length; c++) s += grad[c]! * grad[c]!
  return s / (hess + lambda)
}

/** The optimal weight `−G / (H + λ)` of gradient `c` (0 when the denominator is 0). */
export function leafWeight(stats: NodeStats, c: number, lambda: number): number {
  const d = stats.hess + lambda
  return d > 0 ? -stats.grad[c]! / d : 0
}

/**
 * Finds the best split of a node over given features. Reuse one finder per tree grower.
 *
 * @example
 * const finder = new SplitFinder(mapper, { nGradients: 1, withCounts: true }, settings)
 * finder.find(hist, totals, features, nFeatures, best)
 * if (best.found) split(best)
 */
export class SplitFinder {
  readonly #mapper: BinMapper
  readonly #settings: SplitSettings
  readonly #nGradients: number
  readonly #withCounts: boolean
  readonly #stride: number
  readonly #acc: NodeStats
  readonly #missing: NodeStats
  readonly #trial: NodeStats
  readonly #trialRight: NodeStats
  readonly #order = new Int32Array(256)
  readonly #keys = new Float64Array(256)
  /** Merge buffer of {@link sortByKey}. */
  readonly #sortScratch = new Int32Array(256)

  /**
   * `layout.withCounts` says whether histograms fill their count slots; without them, row-count checks are skipped
   * and "has rows" means "has hessian" (the caller guarantees `minSamplesLeaf ≤ 1` and `minChildWeight > 0`, so a
   * child that passes the hessian check is never empty).
   */
  constructor(
    mapper: BinMapper,
    layout: { readonly nGradients: number; readonly withCounts: boolean },
    settings: SplitSettings,
  ) {
    const { nGradients, withCounts } = layout
    this.#mapper = mapper
    this.#settings = settings
    this.#nGradients = nGradients
    this.#withCounts = withCounts
    this.#stride = nGradients + 2
    this.#acc = new NodeStats(nGradients)
    this.#missing = new NodeStats(nGradients)
    this.#trial = new NodeStats(nGradients)
    this.#trialRight = new NodeStats(nGradients)
  }

  /**
   * Writes into `best` the best split of the node whose histogram is `hist` and whose sums are `totals`, over
   * features `features[0, nSelected)`; `best.found` is false when none qualifies. Ties keep the first candidate
   * (features in list order, bins ascending), so the result is deterministic.
   */
  find(hist: Float64Array, totals: NodeStats, features: Int32Array, nSelected: number, best: SplitCandidate): void {
    best.reset()
    const parentScore = leafScore(totals.grad, totals.hess, this.#settings.lambda)
    for (let s = 0; s < nSelected; s++) {
      const f = features[s]!
      if (this.#mapper.features[f]!.kind !== 'numeric') this.#categorical(hist, f, totals, parentScore, best)
      else if (this.#nGradients === 1) this.#numericSingle(hist, f, totals, parentScore, best)
      else this.#numeric(hist, f, totals, parentScore, best)
    }
  }

  /** True when `stats` covers at least one row. */
  #present(stats: NodeStats): boolean {
    return this.#withCounts ? stats.count > 0 : stats.hess > 0
  }

  #load(hist: Float64Array, slot: number, into: NodeStats): void {
    const k = slot * this.#stride
    for (let c = 0; c < this.#nGradients; c++) into.grad[c] = hist[k + c]!
    into.hess = hist[k + this.#nGradients]!
    into.count = hist[k + this.#nGradients + 1]!
  }

  #add(hist: Float64Array, slot: number, into: NodeStats): void {
    const k = slot * this.#stride
    for (let c = 0; c < this.#nGradients; c++) into.grad[c] = into.grad[c]! + hist[k + c]!
    into.hess += hist[k + this.#nGradients]!
    into.count += hist[k + this.#nGradients + 1]!
  }

  /** Gain of sending `left` left and `totals − left` right, or -Infinity when a child is too small. */
  #gain(left: NodeStats, totals: NodeStats, parentScore: number): number {
    const st = this.#settings
    const right = this.#trialRight
    right.setDifference(totals, left)
    if (left.hess < st.minChildWeight || right.hess < st.minChildWeight) return Number.NEGATIVE_INFINITY
    if (this.#withCounts) {
      if (left.count < st.minSamplesLeaf || right.count < st.minSamplesLeaf) return Number.NEGATIVE_INFINITY
      if (left.count === 0 || right.count === 0) return Number.NEGATIVE_INFINITY
    }
    const gain =
      0.5 * (leafScore(left.grad, left.hess, st.lambda) + leafScore(right.grad, right.hess, st.lambda) - parentScore) -
      st.gamma
    return gain
  }

  #numeric(hist: Float64Array, f: number, totals: NodeStats, parentScore: number, best: SplitCandidate): void {
    const fb = this.#mapper.features[f]!
    const first = this.#mapper.histogramOffsets[f]!
    const missing = this.#missing
    this.#load(hist, first + fb.missingBin, missing)
    const hasMissing = this.#present(missing)
    const acc = this.#acc
    acc.grad.fill(0)
    acc.hess = 0
    acc.count = 0
    const trial = this.#trial
    for (let j = 0; j < fb.nBins; j++) {
      this.#add(hist, first + j, acc)
      if (!this.#present(acc)) continue
      const last = j === fb.nBins - 1
      if (!last || hasMissing) {
        const gain = this.#gain(acc, totals, parentScore)
        if (gain > best.gain) {
          // Without missing values here the default direction is a guess: the child with more hessian.
          const defaultLeft = hasMissing ? false : acc.hess >= totals.hess - acc.hess
          this.#record(best, f, false, j, defaultLeft, acc, totals, gain)
        }
      }
      if (hasMissing && !last) {
        trial.copyFrom(acc)
        for (let c = 0; c < this.#nGradients; c++) trial.grad[c] = trial.grad[c]! + missing.grad[c]!
        trial.hess += missing.hess
        trial.count += missing.count
        const gain = this.#gain(trial, totals, parentScore)
        if (gain > best.gain) this.#record(best, f, false, j, true, trial, totals, gain)
      }
    }
  }

  /**
   * {@link #numeric} for one gradient on plain numbers (the same additions in the same order, so the same split):
   * the bin loop runs for every feature of every node, and the per-bin method calls on `NodeStats` cost more than
   * the arithmetic (≈ 10% of a 5-class fit).
   */
  #numericSingle(hist: Float64Array, f: number, totals: NodeStats, parentScore: number, best: SplitCandidate): void {
    const fb = this.#mapper.features[f]!
    const first = this.#mapper.histogramOffsets[f]!
    const { lambda, gamma, minChildWeight, minSamplesLeaf } = this.#settings
    const withCounts = this.#withCounts
    const mk = 3 * (first + fb.missingBin)
    const mg = hist[mk]!
    const mh = hist[mk + 1]!
    const mc = hist[mk + 2]!
    const hasMissing = withCounts ? mc > 0 : mh > 0
    const tg = totals.grad[0]!
    const th = totals.hess
    const tc = totals.count
    /** The gain of `(lg, lh, lc)` going left, as `#gain`. */
    const gainOf = (lg: number, lh: number, lc: number): number => {
      const rh = th - lh
      if (lh < minChildWeight || rh < minChildWeight) return Number.NEGATIVE_INFINITY
      if (withCounts) {
        const rc = tc - lc
        if (lc < minSamplesLeaf || rc < minSamplesLeaf || lc === 0 || rc === 0) return Number.NEGATIVE_INFINITY
      }
      const rg = tg - lg
      return 0.5 * ((lg * lg) / (lh + lambda) + (rg * rg) / (rh + lambda) - parentScore) - gamma
    }
    let g = 0
    let h = 0
    let c = 0
    const nBins = fb.nBins
    for (let j = 0, k = 3 * first; j < nBins; j++, k += 3) {
      g += hist[k]!
      h += hist[k + 1]!
      c += hist[k + 2]!
      if (!(withCounts ? c > 0 : h > 0)) continue
      const last = j === nBins - 1
      if (!last || hasMissing) {
        const gain = gainOf(g, h, c)
        if (gain > best.gain) {
          // Without missing values here the default direction is a guess: the child with more hessian.
          this.#recordSingle(best, f, j, hasMissing ? false : h >= th - h, g, h, c, totals, gain)
        }
      }
      if (hasMissing && !last) {
        const lg = g + mg
        const lh = h + mh
        const lc = c + mc
        const gain = gainOf(lg, lh, lc)
        if (gain > best.gain) this.#recordSingle(best, f, j, true, lg, lh, lc, totals, gain)
      }
    }
  }

  #recordSingle(
    best: SplitCandidate,
    f: number,
    bin: number,
    defaultLeft: boolean,
    lg: number,
    lh: number,
    lc: number,
    totals: NodeStats,
    gain: number,
  ): void {
    best.gain = gain
    best.feature = f
    best.categorical = false
    best.bin = bin
    best.defaultLeft = defaultLeft
    best.left.grad[0] = lg
    best.left.hess = lh
    best.left.count = lc
    best.right.grad[0] = totals.grad[0]! - lg
    best.right.hess = totals.hess - lh
    best.right.count = totals.count - lc
  }

  #categorical(hist: Float64Array, f: number, totals: NodeStats, parentScore: number, best: SplitCandidate): void {
    const fb = this.#mapper.features[f]!
    if (fb.kind !== 'categorical') return
    const st = this.#settings
    const first = this.#mapper.histogramOffsets[f]!
    const missing = this.#missing
    this.#load(hist, first + fb.missingBin, missing)
    const hasMissing = this.#present(missing)
    const order = this.#order
    const keys = this.#keys
    // Sort key channel: the gradient with the largest total magnitude (the only one for a single-output tree).
    let channel = 0
    for (let c = 1; c < this.#nGradients; c++) {
      if (Math.abs(totals.grad[c]!) > Math.abs(totals.grad[channel]!)) channel = c
    }
    const stride = this.#stride
    let m = 0
    for (let b = 0; b < fb.otherBin; b++) {
      const k = (first + b) * stride
      if (this.#withCounts ? hist[k + this.#nGradients + 1]! > 0 : hist[k + this.#nGradients]! > 0) {
        order[m] = b
        // XGBoost's sort key: the category's leaf weight, 0 below minChildWeight, so that a rare category with an
        // extreme but noisy ratio sits mid-order instead of being the first one a prefix or suffix picks up.
        const h = hist[k + this.#nGradients]!
        keys[b] = h < st.minChildWeight ? 0 : hist[k + channel]! / (h + st.lambda)
        m++
      }
    }
    if (m === 0) return
    const onehot = m <= st.maxCatToOnehot
    if (!onehot) sortByKey(order, m, keys, this.#sortScratch)
    const right = this.#acc
    const trial = this.#trial
    const maxSet = onehot ? 1 : Math.min(m, st.maxCatThreshold)
    for (let direction = 0; direction < (onehot ? m : 2); direction++) {
      right.grad.fill(0)
      right.hess = 0
      right.count = 0
      for (let i = 0; i < maxSet; i++) {
        const pos = onehot ? direction : direction === 0 ? i : m - 1 - i
        this.#add(hist, first + order[pos]!, right)
        // The set goes right, so the left child is totals − set (− missing when missing goes right).
        for (let missingLeft = 0; missingLeft < (hasMissing ? 2 : 1); missingLeft++) {
          trial.setDifference(totals, right)
          if (hasMissing && missingLeft === 0) trial.setDifference(trial, missing)
          const gain = this.#gain(trial, totals, parentScore)
          if (gain > best.gain) {
            const defaultLeft = hasMissing ? missingLeft === 1 : trial.hess >= totals.hess - trial.hess
            this.#record(best, f, true, -1, defaultLeft, trial, totals, gain)
            best.rightBins.fill(0)
            for (let q = 0; q <= i; q++) {
              const p = onehot ? direction : direction === 0 ? q : m - 1 - q
              best.rightBins[order[p]!] = 1
            }
          }
        }
      }
    }
  }

  #record(
    best: SplitCandidate,
    f: number,
    categorical: boolean,
    bin: number,
    defaultLeft: boolean,
    left: NodeStats,
    totals: NodeStats,
    gain: number,
  ): void {
    best.gain = gain
    best.feature = f
    best.categorical = categorical
    best.bin = bin
    best.defaultLeft = defaultLeft
    best.left.copyFrom(left)
    best.right.setDifference(totals, left)
  }
}

/**
 * Sorts `order[0, n)` by `keys[order[i]]` ascending, ties by bin (n ≤ 256, once per categorical feature per node).
 * `order` arrives in ascending bin order, so a stable sort breaks ties by bin: runs of 8 by insertion, then
 * bottom-up merges through `scratch` (the quadratic insertion sort alone cost 3% of a tuning run's trials over
 * 229 airports).
 */
function sortByKey(order: Int32Array, n: number, keys: Float64Array, scratch: Int32Array): void {
  const RUN = 8
  for (let start = 0; start < n; start += RUN) {
    const end = Math.min(n, start + RUN)
    for (let i = start + 1; i < end; i++) {
      const b = order[i]!
      const k = keys[b]!
      let j = i - 1
      while (j >= start && keys[order[j]!]! > k) {
        order[j + 1] = order[j]!
        j--
      }
      order[j + 1] = b
    }
  }
  let from = order
  let to = scratch
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(n, lo + width)
      const hi = Math.min(n, lo + 2 * width)
      let a = lo
      let b = mid
      let o = lo
      // Left first on equal keys: stable.
      while (a < mid && b < hi) to[o++] = keys[from[b]!]! < keys[from[a]!]! ? from[b++]! : from[a++]!
      while (a < mid) to[o++] = from[a++]!
      while (b < hi) to[o++] = from[b++]!
    }
    const t = from
    from = to
    to = t
  }
  if (from !== order) order.set(from.subarray(0, n))
}
