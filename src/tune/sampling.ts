/**
 * Representative samples of a source, so a search can run on a fraction of the rows and the winner be refit on all
 * of them (`--sample 0.1 [--stratify <column>]`):
 *
 * - uniform: row `i` is kept when a seeded hash of `i` is below the fraction (a Bernoulli sample). One pass, no
 *   memory, the same rows on every pass and in every process; the size is the fraction of the rows on average.
 * - stratified: each stratum (distinct value of a column) keeps its share exactly: `⌊f·n_s⌋` rows plus one for the
 *   strata with the largest remainders until the total is `round(f·n)`, and at least one row of every stratum, so a
 *   rare class is never lost. The rows kept are those with the smallest seeded hashes within their stratum (bottom-k
 *   sampling), found in two passes over the stratum column alone: one counting, one keeping the k smallest hashes per
 *   stratum in a heap. Memory: 16 bytes per kept row.
 *
 * Row indices are the data's own (`__row_index` from a Parquet source) when the batches carry them, else counted in
 * read order. Reading only; no training.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import { hashToUnit } from '../core/random.js'
import type { Batch, Column } from '../data/batch.js'
import type { Source } from '../data/source.js'
import { mixSeed } from '../train/shuffle.js'

/** Chooses rows by their index in the data. */
export type RowFilter = (rowIndex: number) => boolean

const UNIFORM_SALT = 0x73616d70
const STRATIFIED_SALT = 0x73747261

function checkFraction(fraction: number): void {
  if (!(fraction > 0 && fraction <= 1)) {
    throw new ScalemlError('INVALID_ARGUMENT', `--sample must be a fraction in (0, 1]; got ${fraction}.`)
  }
}

/**
 * The uniform (Bernoulli) sample: keeps row `i` when `hashToUnit(mix(seed), i) < fraction`.
 * @example
 * const keep = uniformSample({ fraction: 0.1, seed: 0 })
 * const sampled = filterRows(source, keep)
 */
export function uniformSample(options: { readonly fraction: number; readonly seed?: number }): RowFilter {
  checkFraction(options.fraction)
  if (options.fraction === 1) return () => true
  const salted = mixSeed(options.seed ?? 0, UNIFORM_SALT)
  const fraction = options.fraction
  return (i) => hashToUnit(salted, i) < fraction
}

/** One stratum of a stratified sample. */
export interface Stratum {
  /** The column's value (`null` for missing values). */
  readonly value: string | number | boolean | null
  readonly rows: number
  readonly kept: number
}

/** A stratified sample: the kept rows' indices (ascending) and the strata. */
export interface StratifiedSample {
  readonly rows: Float64Array
  readonly strata: readonly Stratum[]
  /** True for kept rows (binary search over `rows`). */
  readonly keep: RowFilter
}

/** Options of {@link stratifiedSample}. */
export interface StratifiedSampleOptions {
  /** The column whose values are the strata. */
  readonly column: string
  /** Share of rows kept, in (0, 1]. */
  readonly fraction: number
  readonly seed?: number
  /** A column holding each row's index in the data (default: rows counted in read order). */
  readonly rowIndexColumn?: string
}

/** Stratum key of row `i` (numbers and strings never collide). */
function keyAt(column: Column, i: number): string {
  if (column.type === 'string') {
    const code = column.codes[i]!
    return code < 0 ? 'null' : `s${column.dictionary[code]!}`
  }
  if (column.nulls?.[i] === 1 || Number.isNaN(column.values[i]!)) return 'null'
  return column.type === 'bool' ? `b${column.values[i] !== 0}` : `n${column.values[i]!}`
}

function valueOfKey(key: string): Stratum['value'] {
  if (key === 'null') return null
  if (key[0] === 's') return key.slice(1)
  if (key[0] === 'b') return key === 'btrue'
  return Number(key.slice(1))
}

async function* indexedRows(
  source: AsyncIterable<Batch>,
  options: StratifiedSampleOptions,
): AsyncGenerator<{ keys: Column; index: (i: number) => number; length: number }> {
  let counted = 0
  for await (const batch of source) {
    const keys = batch.columns.get(options.column)
    if (keys === undefined) {
      throw new ScalemlError(
        'UNKNOWN_COLUMN',
        `--stratify names '${options.column}', which is not a column of the data. Columns: ${[...batch.columns.keys()].join(', ')}.`,
      )
    }
    const ids = options.rowIndexColumn === undefined ? undefined : batch.columns.get(options.rowIndexColumn)
    const base = counted
    const index = ids !== undefined && ids.type !== 'string' ? (i: number) => ids.values[i]! : (i: number) => base + i
    yield { keys, index, length: batch.length }
    counted += batch.length
  }
}

/**
 * Draws an exact stratified sample of `source` by the values of `options.column` (see the module notes); reads the
 * source twice. Pass a source projected to the stratum column (and the row index) to keep the passes cheap.
 *
 * @throws ScalemlError UNKNOWN_COLUMN (no such column), INVALID_ARGUMENT (fraction), EMPTY_SOURCE.
 * @example
 * const sample = await stratifiedSample(labelsOnly, { column: 'delayed', fraction: 0.1, seed: 0 })
 * const rows = filterRows(source, sample.keep)
 */
export async function stratifiedSample(source: Source, options: StratifiedSampleOptions): Promise<StratifiedSample> {
  checkFraction(options.fraction)
  const counts = new Map<string, number>()
  let total = 0
  for await (const { keys, length } of indexedRows(source, options)) {
    for (let i = 0; i < length; i++) {
      const key = keyAt(keys, i)
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    total += length
  }
  if (total === 0) throw new ScalemlError('EMPTY_SOURCE', `${source.description} has no rows to sample.`)
  const quotas = allocate(counts, options.fraction, total)
  const heaps = new Map<string, BottomK>()
  for (const [key, k] of quotas) heaps.set(key, new BottomK(k))
  const salted = mixSeed(options.seed ?? 0, STRATIFIED_SALT)
  for await (const { keys, index, length } of indexedRows(source, options)) {
    for (let i = 0; i < length; i++) {
      const row = index(i)
      heaps.get(keyAt(keys, i))?.offer(hashToUnit(salted, row), row)
    }
  }
  const kept: number[] = []
  const strata: Stratum[] = []
  for (const [key, heap] of heaps) {
    const rows = heap.rows()
    for (const r of rows) kept.push(r)
    strata.push({ value: valueOfKey(key), rows: counts.get(key)!, kept: rows.length })
  }
  const rows = Float64Array.from(kept).sort()
  return { rows, strata, keep: (i) => binarySearch(rows, i) }
}

/**
 * Rows per stratum: `⌊f·n_s⌋`, then one more for the largest remainders (first-seen strata first on ties) until the
 * total is `round(f·n)`, and at least one for every stratum.
 */
export function allocate(counts: ReadonlyMap<string, number>, fraction: number, total: number): Map<string, number> {
  const quotas = new Map<string, number>()
  const remainders: { key: string; r: number; order: number }[] = []
  let assigned = 0
  let order = 0
  for (const [key, n] of counts) {
    const exact = fraction * n
    const base = Math.floor(exact)
    quotas.set(key, base)
    assigned += base
    remainders.push({ key, r: exact - base, order: order++ })
  }
  remainders.sort((a, b) => b.r - a.r || a.order - b.order)
  for (let j = 0; assigned < Math.round(fraction * total) && j < remainders.length; j++) {
    const key = remainders[j]!.key
    quotas.set(key, quotas.get(key)! + 1)
    assigned++
  }
  for (const [key, k] of quotas) if (k === 0 && counts.get(key)! > 0) quotas.set(key, 1)
  return quotas
}

/** The `k` entries with the smallest keys (a binary max-heap on the key). */
class BottomK {
  readonly #k: number
  readonly #keys: Float64Array
  readonly #rows: Float64Array
  #size = 0

  constructor(k: number) {
    this.#k = k
    this.#keys = new Float64Array(k)
    this.#rows = new Float64Array(k)
  }

  offer(key: number, row: number): void {
    if (this.#k === 0) return
    if (this.#size < this.#k) {
      let i = this.#size++
      while (i > 0) {
        const parent = (i - 1) >> 1
        if (this.#keys[parent]! >= key) break
        this.#keys[i] = this.#keys[parent]!
        this.#rows[i] = this.#rows[parent]!
        i = parent
      }
      this.#keys[i] = key
      this.#rows[i] = row
      return
    }
    if (key >= this.#keys[0]!) return
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= this.#size) break
      const r = l + 1
      const c = r < this.#size && this.#keys[r]! > this.#keys[l]! ? r : l
      if (this.#keys[c]! <= key) break
      this.#keys[i] = this.#keys[c]!
      this.#rows[i] = this.#rows[c]!
      i = c
    }
    this.#keys[i] = key
    this.#rows[i] = row
  }

  rows(): Float64Array {
    return this.#rows.slice(0, this.#size)
  }
}

function binarySearch(sorted: Float64Array, value: number): boolean {
  let lo = 0
  let hi = sorted.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const v = sorted[mid]!
    if (v === value) return true
    if (v < value) lo = mid + 1
    else hi = mid - 1
  }
  return false
}
