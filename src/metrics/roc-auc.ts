/**
 * Streaming, mergeable area under the ROC curve for binary labels, exact or binned with a reported error bound.
 *
 * Binned mode maps each float64 score to a uint64 by a monotone bit trick (flip every bit of a negative, set the sign
 * bit of a positive), keeps the top `12 + mantissaBits` bits as the bin key, and counts the (weighted) positives and
 * negatives per bin. Bins are allocated in pages of 1/16 of a binary octave, only where scores fall, so any real score
 * works (probabilities, margins, ±Infinity) and memory follows the occupied score range. Pairs in different bins are
 * ranked exactly; a pair inside one bin is counted as a tie (1/2). A bin that only ever saw one distinct score is
 * exact (ties are 1/2 in scikit-learn too); for the other bins the unknown order is worth at most
 * `maxError = Σ_mixed pos_b·neg_b / (2·P·N)`, which {@link RocAuc.maxError} reports.
 *
 * Exact mode keeps every (score, label, weight) and sorts on `value()`: memory O(rows), for tests and small data.
 *
 * The value matches scikit-learn's `roc_auc_score(y, s, sample_weight=w)`. AUC needs at least one positive and one
 * negative (of weight > 0); otherwise `value()` returns NaN (scikit-learn raises "Only one class present in y_true"),
 * because a validation batch or a shard with one class is a normal event in streaming and must not abort training.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { Constraints } from '../core/params.js'
import { int, oneOf, validateParams } from '../core/params.js'
import {
  checkMergeable,
  checkUpdateShapes,
  type MetricJSON,
  MetricJSONReader,
  type NumericArray,
  type StreamingMetric,
  toJSONArray,
} from './metric.js'

/** Options of {@link RocAuc}. */
export interface RocAucOptions {
  /** `'binned'` (default): bounded memory, error ≤ `maxError()`; `'exact'`: keeps every row, sorts on `value()`. */
  readonly mode?: 'binned' | 'exact'
  /**
   * Binned mode: mantissa bits kept per score, 4–20 (default 14). A bin spans a relative width of 2^-bits of its
   * score (6.1e-5 at 14), and one occupied page (1/16 of a binary octave) costs 2^(bits-4) × 25 bytes (400 KB at 14).
   * On logistic-model probabilities `maxError` is ≈ 1.5e-5 at 14 bits and shrinks 4× per 2 extra bits.
   */
  readonly mantissaBits?: number
}

/** Constraints of {@link RocAucOptions}. */
export const ROC_AUC_CONSTRAINTS: Constraints<RocAucOptions> = {
  mode: oneOf('binned', 'exact'),
  mantissaBits: int({ min: 4, max: 20 }),
}

/** Everything {@link RocAuc} knows about its value. */
export interface RocAucSummary {
  /** The AUC (NaN without both classes). */
  readonly auc: number
  /** Upper bound of |auc − exact AUC| (0 in exact mode and when no bin mixes distinct scores; NaN with `auc`). */
  readonly maxError: number
  /** Total weight of positive rows. */
  readonly positives: number
  /** Total weight of negative rows. */
  readonly negatives: number
}

/** Options of {@link RocAuc.updateOneVsRest}. */
export interface OneVsRestOptions {
  /** The class (column of `proba`) counted as positive; every other class is negative. */
  readonly classIndex: number
  /** Per-row weights ≥ 0. */
  readonly sampleWeight?: Float64Array
}

// A view pair used to read the raw bits of a double without allocating.
const F64 = new Float64Array(1)
const U32 = new Uint32Array(F64.buffer)
F64[0] = 1
// 1.0 is 0x3FF00000_00000000: the word holding 0x3FF00000 is the high word on this machine.
const HI = U32[1] === 0x3ff00000 ? 1 : 0

const PAGE_BITS = 16
const EMPTY = 0
const SINGLE = 1
const MIXED = 2

interface AucStore {
  add(score: number, positive: boolean, weight: number): void
  summarize(): RocAucSummary
}

/** Counts per bin, stored in pages allocated where scores fall. */
class BinnedStore implements AucStore {
  readonly subBits: number
  readonly pageSize: number
  /** Page number (top 16 key bits) → slot in the pooled arrays, or -1. Allocated on first use (256 KB). */
  table: Int32Array | undefined
  pages = 0
  pos = new Float64Array(0)
  neg = new Float64Array(0)
  /** The first score a bin saw; lets a bin prove it holds one distinct score (then it is exact). */
  first = new Float64Array(0)
  state = new Uint8Array(0)

  constructor(mantissaBits: number) {
    this.subBits = mantissaBits - 4
    this.pageSize = 1 << this.subBits
  }

  /** Index into the pooled arrays of the bin holding `score` (never -0 or NaN), allocating its page if needed. */
  binOf(score: number): number {
    F64[0] = score
    const hi = U32[HI]!
    const key = hi >= 0x80000000 ? ~hi >>> 0 : (hi | 0x80000000) >>> 0
    const page = key >>> PAGE_BITS
    let slot = this.table === undefined ? -1 : this.table[page]!
    if (slot < 0) slot = this.allocPage(page)
    return slot * this.pageSize + ((key & 0xffff) >>> (PAGE_BITS - this.subBits))
  }

  allocPage(page: number): number {
    if (this.table === undefined) this.table = new Int32Array(1 << PAGE_BITS).fill(-1)
    const slot = this.pages++
    const needed = this.pages * this.pageSize
    if (needed > this.pos.length) {
      // Doubling keeps page allocation amortized O(1) per page, never per row.
      const capacity = Math.max(needed, 2 * this.pos.length)
      this.pos = grow(this.pos, capacity)
      this.neg = grow(this.neg, capacity)
      this.first = grow(this.first, capacity)
      const state = new Uint8Array(capacity)
      state.set(this.state)
      this.state = state
    }
    this.table[page] = slot
    return slot
  }

  add(score: number, positive: boolean, weight: number): void {
    const b = this.binOf(score)
    if (positive) this.pos[b]! += weight
    else this.neg[b]! += weight
    const st = this.state[b]!
    if (st === EMPTY) {
      this.state[b] = SINGLE
      this.first[b] = score
    } else if (st === SINGLE && this.first[b] !== score) {
      this.state[b] = MIXED
    }
  }

  /** Folds bin `b` of `other` into the bin holding `key` here. */
  addBin(key: number, other: { pos: number; neg: number; first: number; state: number }): void {
    const page = Math.floor(key / this.pageSize)
    let slot = this.table === undefined ? -1 : this.table[page]!
    if (slot < 0) slot = this.allocPage(page)
    const b = slot * this.pageSize + (key % this.pageSize)
    this.pos[b]! += other.pos
    this.neg[b]! += other.neg
    const st = this.state[b]!
    if (st === EMPTY) {
      this.state[b] = other.state
      this.first[b] = other.first
    } else if (other.state === MIXED || st === MIXED || this.first[b] !== other.first) {
      this.state[b] = MIXED
    }
  }

  /** Calls `visit(key, bin)` for every non-empty bin in ascending score order. */
  forEachBin(visit: (key: number, b: number) => void): void {
    const table = this.table
    if (table === undefined) return
    for (let page = 0; page < table.length; page++) {
      const slot = table[page]!
      if (slot < 0) continue
      const base = slot * this.pageSize
      for (let sub = 0; sub < this.pageSize; sub++) {
        if (this.state[base + sub] !== EMPTY) visit(page * this.pageSize + sub, base + sub)
      }
    }
  }

  summarize(): RocAucSummary {
    let negBelow = 0
    let positives = 0
    let area = 0
    let mixed = 0
    this.forEachBin((_key, b) => {
      const p = this.pos[b]!
      const n = this.neg[b]!
      area += p * (negBelow + 0.5 * n)
      if (this.state[b] === MIXED) mixed += p * n
      negBelow += n
      positives += p
    })
    return finish({ area, mixed, positives, negatives: negBelow })
  }
}

/** Every row, kept for an exact sort. */
class ExactStore implements AucStore {
  length = 0
  scores = new Float64Array(0)
  positive = new Uint8Array(0)
  weights = new Float64Array(0)

  add(score: number, positive: boolean, weight: number): void {
    if (this.length === this.scores.length) this.reserve(this.length + 1)
    this.scores[this.length] = score
    this.positive[this.length] = positive ? 1 : 0
    this.weights[this.length] = weight
    this.length++
  }

  reserve(capacity: number): void {
    if (capacity <= this.scores.length) return
    const next = Math.max(capacity, 2 * this.scores.length, 1024)
    this.scores = grow(this.scores, next)
    this.weights = grow(this.weights, next)
    const positive = new Uint8Array(next)
    positive.set(this.positive)
    this.positive = positive
  }

  summarize(): RocAucSummary {
    const n = this.length
    const s = this.scores
    const order = new Uint32Array(n)
    for (let i = 0; i < n; i++) order[i] = i
    order.sort((a, b) => (s[a]! < s[b]! ? -1 : s[a]! > s[b]! ? 1 : 0))
    let negBelow = 0
    let positives = 0
    let area = 0
    let i = 0
    while (i < n) {
      const v = s[order[i]!]!
      let p = 0
      let q = 0
      for (; i < n && s[order[i]!] === v; i++) {
        const r = order[i]!
        if (this.positive[r] === 1) p += this.weights[r]!
        else q += this.weights[r]!
      }
      area += p * (negBelow + 0.5 * q)
      negBelow += q
      positives += p
    }
    return finish({ area, mixed: 0, positives, negatives: negBelow })
  }
}

function finish(t: { area: number; mixed: number; positives: number; negatives: number }): RocAucSummary {
  const pairs = t.positives * t.negatives
  if (!(pairs > 0)) return { auc: Number.NaN, maxError: Number.NaN, positives: t.positives, negatives: t.negatives }
  return { auc: t.area / pairs, maxError: t.mixed / (2 * pairs), positives: t.positives, negatives: t.negatives }
}

function grow(a: Float64Array, capacity: number): Float64Array<ArrayBuffer> {
  const out = new Float64Array(capacity)
  out.set(a)
  return out
}

/**
 * Streaming binary ROC AUC. Labels are 0/1; scores are any real numbers (higher means more likely positive).
 *
 * @example
 * const auc = new RocAuc()
 * auc.update(new Float64Array([0, 0, 1, 1]), new Float64Array([0.1, 0.4, 0.35, 0.8]))
 * auc.value() // 0.75, as roc_auc_score
 * auc.maxError() // 0: every bin holds one distinct score
 */
export class RocAuc implements StreamingMetric<number> {
  readonly kind = 'roc-auc'
  readonly params: Readonly<Required<RocAucOptions>>
  #store: BinnedStore | ExactStore
  #rows = 0

  /** Validates the options (`INVALID_PARAM`); allocates nothing until the first row. */
  constructor(options: RocAucOptions = {}) {
    validateParams('RocAuc', ROC_AUC_CONSTRAINTS, options)
    this.params = { mode: options.mode ?? 'binned', mantissaBits: options.mantissaBits ?? 14 }
    this.#store = this.#newStore()
  }

  #newStore(): BinnedStore | ExactStore {
    return this.params.mode === 'exact' ? new ExactStore() : new BinnedStore(this.params.mantissaBits)
  }

  /** Rows folded in (including rows of weight 0). */
  get rows(): number {
    return this.#rows
  }

  /**
   * Folds in labels (`INVALID_DATA` unless each is 0 or 1) and scores (`INVALID_DATA` on NaN; -0 counts as 0).
   * Rows of weight 0 are counted in `rows` and otherwise ignored, as in scikit-learn.
   */
  update(yTrue: NumericArray, yScore: NumericArray, sampleWeight?: Float64Array): void {
    checkUpdateShapes('RocAuc', { yTrue, yPred: yScore, sampleWeight })
    this.#add({ yTrue, scores: yScore, weights: sampleWeight, stride: 1, column: 0, classes: 0 })
  }

  /**
   * Folds in one class of a multiclass batch, one-vs-rest: `yTrue` holds class indices 0..k-1, `proba` is row-major
   * `rows × k`, and rows of class `classIndex` are the positives scored by column `classIndex`.
   * (Macro-averaging k of these gives scikit-learn's `roc_auc_score(multi_class='ovr')`.)
   */
  updateOneVsRest(yTrue: NumericArray, proba: NumericArray, options: OneVsRestOptions): void {
    const n = yTrue.length
    const k = n === 0 ? 0 : proba.length / n
    if (n > 0 && (!Number.isInteger(k) || k < 2)) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `RocAuc.updateOneVsRest: proba has ${proba.length} values for ${n} rows; expected rows × classes (≥ 2).`,
      )
    }
    if (n > 0 && !(Number.isInteger(options.classIndex) && options.classIndex >= 0 && options.classIndex < k)) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `RocAuc.updateOneVsRest: classIndex is ${options.classIndex}; expected an integer in [0, ${k - 1}].`,
      )
    }
    checkUpdateShapes('RocAuc', { yTrue, yPred: proba, sampleWeight: options.sampleWeight, predPerRow: k || 1 })
    this.#add({
      yTrue,
      scores: proba,
      weights: options.sampleWeight,
      stride: k,
      column: options.classIndex,
      classes: k,
    })
  }

  /** `classes` 0 means strict binary labels; otherwise labels are class indices and `column` is the positive one. */
  #add(b: {
    yTrue: NumericArray
    scores: NumericArray
    weights: Float64Array | undefined
    stride: number
    column: number
    classes: number
  }): void {
    const { yTrue, scores, weights, stride, column, classes } = b
    const store = this.#store
    const n = yTrue.length
    for (let i = 0; i < n; i++) {
      const y = yTrue[i]!
      let positive: boolean
      if (classes === 0) {
        if (y !== 0 && y !== 1) throw badLabel(i, y, 'RocAuc.update', '0 or 1')
        positive = y === 1
      } else {
        if (!(Number.isInteger(y) && y >= 0 && y < classes)) {
          throw badLabel(i, y, 'RocAuc.updateOneVsRest', `a class index in [0, ${classes - 1}]`)
        }
        positive = y === column
      }
      let s = scores[i * stride + column]!
      if (Number.isNaN(s)) {
        throw new ScalemlError('INVALID_DATA', `RocAuc: the score of row ${i} is NaN; expected a number.`)
      }
      // -0 and +0 are the same score but have different bits; map both to +0 so they share a bin.
      if (s === 0) s = 0
      const w = weights === undefined ? 1 : weights[i]!
      if (w > 0) store.add(s, positive, w)
    }
    this.#rows += n
  }

  /** Folds `other` (same mode and bits, else `INVALID_ARGUMENT`) into this accumulator; exact for unit weights. */
  merge(other: RocAuc): this {
    checkMergeable('RocAuc', this.params, other.params)
    const mine = this.#store
    const theirs = other.#store
    if (mine instanceof ExactStore && theirs instanceof ExactStore) {
      mine.reserve(mine.length + theirs.length)
      mine.scores.set(theirs.scores.subarray(0, theirs.length), mine.length)
      mine.positive.set(theirs.positive.subarray(0, theirs.length), mine.length)
      mine.weights.set(theirs.weights.subarray(0, theirs.length), mine.length)
      mine.length += theirs.length
    } else if (mine instanceof BinnedStore && theirs instanceof BinnedStore) {
      theirs.forEachBin((key, b) => {
        mine.addBin(key, { pos: theirs.pos[b]!, neg: theirs.neg[b]!, first: theirs.first[b]!, state: theirs.state[b]! })
      })
    }
    this.#rows += other.#rows
    return this
  }

  /** The AUC over every row so far; NaN until both classes have weight > 0. */
  value(): number {
    return this.#store.summarize().auc
  }

  /** Upper bound on |value() − exact AUC| from bins that mixed distinct scores (0 in exact mode). */
  maxError(): number {
    return this.#store.summarize().maxError
  }

  /** AUC, error bound and class weights in one pass. */
  summary(): RocAucSummary {
    return this.#store.summarize()
  }

  /** Forgets every row (and frees the bins). */
  reset(): void {
    this.#store = this.#newStore()
    this.#rows = 0
  }

  /** Binned: the non-empty bins (key, counts, first score, mixed flag); exact: every row. */
  toJSON(): MetricJSON {
    const store = this.#store
    const params = { ...this.params }
    if (store instanceof ExactStore) {
      return {
        kind: this.kind,
        version: 1,
        params,
        state: {
          rows: this.#rows,
          scores: toJSONArray(store.scores, store.length),
          positive: Array.from(store.positive.subarray(0, store.length)),
          weights: toJSONArray(store.weights, store.length),
        },
      }
    }
    const keys: number[] = []
    const pos: number[] = []
    const neg: number[] = []
    const first: number[] = []
    const mixed: number[] = []
    store.forEachBin((key, b) => {
      keys.push(key)
      pos.push(store.pos[b]!)
      neg.push(store.neg[b]!)
      first.push(store.first[b]!)
      mixed.push(store.state[b] === MIXED ? 1 : 0)
    })
    return {
      kind: this.kind,
      version: 1,
      params,
      state: { rows: this.#rows, keys, pos, neg, first: toJSONArray(first), mixed },
    }
  }

  /** Restores a {@link RocAuc.toJSON} snapshot; `INVALID_INPUT` naming the bad field otherwise. */
  static fromJSON(json: unknown): RocAuc {
    const r = new MetricJSONReader('RocAuc', 'roc-auc', json)
    const metric = new RocAuc({
      mode: r.param('mode') as RocAucOptions['mode'],
      mantissaBits: r.param('mantissaBits') as number,
    })
    metric.#rows = r.number('state', 'rows')
    const store = metric.#store
    if (store instanceof ExactStore) {
      const scores = r.numbers('scores')
      const positive = r.numbers('positive', scores.length)
      const weights = r.numbers('weights', scores.length)
      store.reserve(scores.length)
      store.scores.set(scores)
      for (let i = 0; i < scores.length; i++) store.positive[i] = positive[i] === 1 ? 1 : 0
      store.weights.set(weights)
      store.length = scores.length
      return metric
    }
    const keys = r.numbers('keys')
    const pos = r.numbers('pos', keys.length)
    const neg = r.numbers('neg', keys.length)
    const first = r.numbers('first', keys.length)
    const mixed = r.numbers('mixed', keys.length)
    const maxKey = 2 ** (16 + store.subBits)
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!
      if (!(Number.isInteger(key) && key >= 0 && key < maxKey)) {
        throw new ScalemlError('INVALID_INPUT', `RocAuc.fromJSON: state.keys[${i}] is ${key}; expected a bin key.`)
      }
      store.addBin(key, { pos: pos[i]!, neg: neg[i]!, first: first[i]!, state: mixed[i] === 1 ? MIXED : SINGLE })
    }
    return metric
  }
}

function badLabel(row: number, y: number, owner: string, expected: string): ScalemlError {
  return new ScalemlError('INVALID_DATA', `${owner}: the label of row ${row} is ${y}; expected ${expected}.`)
}
