/**
 * Streams a DuckDB query into scaleml `Batch`es: DuckDB hands out ~2048-row chunks, this accumulates them into
 * batches of a fixed size, copying numbers in bulk and dictionary-encoding strings without decoding every row.
 *
 * The query must select each column through `readExpression` (duckdb-sql.ts): DOUBLE for numeric columns, VARCHAR for
 * strings. Memory is one batch being filled plus two DuckDB chunks (the one being copied and the next, prefetched).
 *
 * Speed relies on three details of `@duckdb/node-api` that its typings mark private: a DOUBLE vector keeps its values
 * in `items` (a `Float64Array` over DuckDB's memory), every vector keeps its validity mask in `validity.data`, and a
 * VARCHAR vector keeps DuckDB's 16-byte string headers in `dataView`. Each is checked per chunk; when a release
 * changes them, reading falls back to the public `getItem` (correct, several times slower), and the test of
 * {@link probeFastPath} fails so that the change is noticed.
 * @module
 */
import { endianness } from 'node:os'
import type { DuckDBConnection, DuckDBDataChunk, DuckDBVector } from '@duckdb/node-api'
import type { Batch, Column, ColumnType } from '../batch.js'

/** One column of the query, in SELECT order. */
export interface ReadColumn {
  readonly name: string
  readonly type: ColumnType
}

/** Which fast paths apply with the installed `@duckdb/node-api` (for tests and diagnostics). */
export interface FastPathReport {
  readonly doubles: boolean
  readonly validity: boolean
  readonly strings: boolean
}

const LITTLE_ENDIAN = endianness() === 'LE'
const textDecoder = new TextDecoder()

/** Options of {@link streamBatches}. */
export interface StreamOptions {
  /** Use the vectors' private buffers when they are as expected (default true; false tests the fallback). */
  readonly fastPath?: boolean
  /**
   * Once aborted, the stream ends at the next chunk without yielding the rows gathered so far (a reader thread
   * cancelling a pass stops within one ~2048-row chunk instead of one batch).
   */
  readonly signal?: AbortSignal
  /** Where the arrays of full batches come from (default: new arrays on this thread). */
  readonly allocate?: BatchAllocator
  /**
   * Told of each fetch from DuckDB as it is issued. A reader thread waits for the last one to settle before it lets
   * the process exit: a worker thread torn down while `@duckdb/node-api` fetches a chunk aborts the whole process.
   */
  readonly onFetch?: (fetch: Promise<unknown>) => void
}

/**
 * Supplies the value and code arrays of each batch (`length` = the batch size). A reader thread fills arrays that its
 * consumer's thread allocated and sent, so that every batch buffer is allocated and freed by the same thread (freed
 * elsewhere, they raised peak RSS by ~100 MB on flights-3m). Null masks and the trimmed last batch are allocated here.
 */
export interface BatchAllocator {
  float64(length: number): Float64Array
  int32(length: number): Int32Array
}

const NEW_ARRAYS: BatchAllocator = {
  float64: (length) => new Float64Array(length),
  int32: (length) => new Int32Array(length),
}

/**
 * Runs `sql` on `connection` as a streaming query and yields batches of `batchSize` rows (the last one shorter).
 * Errors from DuckDB propagate unchanged; the caller knows what was being read and wraps them.
 */
export async function* streamBatches(
  connection: DuckDBConnection,
  sql: string,
  columns: readonly ReadColumn[],
  batchSize: number,
  options: StreamOptions = {},
): AsyncGenerator<Batch> {
  const fast = options.fastPath ?? true
  const signal = options.signal
  const result = await connection.stream(sql)
  const allocate = options.allocate ?? NEW_ARRAYS
  const builders = columns.map((c) =>
    c.type === 'string'
      ? new StringColumnBuilder(batchSize, allocate)
      : new NumericColumnBuilder(c.type, batchSize, allocate),
  )
  const views: (DoubleView | StringView)[] = new Array(columns.length)
  let filled = 0
  // One fetch always in flight: DuckDB produces the next chunk on its own thread while this one is copied.
  const fetch = (): Promise<DuckDBDataChunk | null> => {
    const next = result.fetchChunk()
    options.onFetch?.(next)
    return next
  }
  let pending: Promise<DuckDBDataChunk | null> | undefined = fetch()
  try {
    for (;;) {
      const chunk = await pending
      pending = undefined
      if (signal?.aborted) return
      if (chunk === null || chunk.rowCount === 0) break
      pending = fetch()
      const n = chunk.rowCount
      for (let j = 0; j < builders.length; j++) {
        views[j] = builders[j]!.kind === 'string' ? stringView(chunk, j, n, fast) : doubleView(chunk, j, n, fast)
      }
      let offset = 0
      while (offset < n) {
        const take = Math.min(n - offset, batchSize - filled)
        for (let j = 0; j < builders.length; j++) {
          const builder = builders[j]!
          if (builder.kind === 'string') builder.append(views[j] as StringView, offset, take, filled)
          else builder.append(views[j] as DoubleView, offset, take, filled)
        }
        filled += take
        offset += take
        if (filled === batchSize) {
          yield finish(columns, builders, filled, batchSize)
          filled = 0
        }
      }
    }
  } finally {
    // A pass left early must not leave a fetch running against a connection the caller is about to close.
    if (pending !== undefined) await pending.catch(() => undefined)
  }
  if (filled > 0) yield finish(columns, builders, filled, batchSize)
}

function finish(
  columns: readonly ReadColumn[],
  builders: readonly (NumericColumnBuilder | StringColumnBuilder)[],
  length: number,
  batchSize: number,
): Batch {
  const out = new Map<string, Column>()
  for (let j = 0; j < columns.length; j++) out.set(columns[j]!.name, builders[j]!.finish(length, batchSize))
  return { length, columns: out }
}

/** Reads one DOUBLE and one VARCHAR column of a query's first chunk and reports which fast paths applied. */
export async function probeFastPath(connection: DuckDBConnection): Promise<FastPathReport> {
  const result = await connection.stream(`SELECT CAST(NULL AS DOUBLE) AS d, CAST(NULL AS VARCHAR) AS s FROM range(3)`)
  const chunk = await result.fetchChunk()
  if (chunk === null) return { doubles: false, validity: false, strings: false }
  const d = doubleView(chunk, 0, chunk.rowCount, true)
  const s = stringView(chunk, 1, chunk.rowCount, true)
  return { doubles: d.fast, validity: d.valid !== null && s.valid !== null, strings: s.words !== null }
}

// ---------------------------------------------------------------------------------------------------------------
// Vector access

interface DoubleView {
  readonly items: Float64Array
  /** DuckDB's validity bitmap (bit i set = row i valid), or null when every row is valid. */
  readonly valid: Uint8Array | null
  readonly fast: boolean
}

interface StringView {
  readonly vector: DuckDBVector
  /** DuckDB's string headers as 4 words per row (length, then inline bytes or prefix + pointer); null = slow path. */
  readonly words: Int32Array | null
  readonly bytes: Uint8Array | null
  readonly valid: Uint8Array | null
}

interface VectorInternals {
  readonly items?: unknown
  readonly dataView?: unknown
  readonly validity?: { readonly data?: unknown; readonly offset?: unknown }
}

/** The validity bitmap, `null` when all valid, `undefined` when the internals are not as expected. */
function validityBytes(vector: DuckDBVector): Uint8Array | null | undefined {
  const validity = (vector as unknown as VectorInternals).validity
  if (validity === undefined || validity === null || validity.offset !== 0) return undefined
  const data = validity.data
  if (data === null) return null
  if (data instanceof BigUint64Array) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return undefined
}

function slowValidity(vector: DuckDBVector, n: number): Uint8Array | null {
  let valid: Uint8Array | null = null
  for (let i = 0; i < n; i++) {
    if (vector.getItem(i) === null) {
      valid ??= new Uint8Array((n + 7) >> 3).fill(0xff)
      valid[i >> 3]! &= ~(1 << (i & 7))
    }
  }
  return valid
}

function doubleView(chunk: DuckDBDataChunk, column: number, n: number, fast: boolean): DoubleView {
  const vector = chunk.getColumnVector(column)
  const items = fast ? (vector as unknown as VectorInternals).items : undefined
  const valid = fast ? validityBytes(vector) : undefined
  if (items instanceof Float64Array && items.length >= n && valid !== undefined) return { items, valid, fast: true }
  const copy = new Float64Array(n)
  for (let i = 0; i < n; i++) copy[i] = (vector.getItem(i) as number | null) ?? Number.NaN
  return { items: copy, valid: slowValidity(vector, n), fast: false }
}

function stringView(chunk: DuckDBDataChunk, column: number, n: number, fast: boolean): StringView {
  const vector = chunk.getColumnVector(column)
  const view = fast ? (vector as unknown as VectorInternals).dataView : undefined
  const valid = fast ? validityBytes(vector) : undefined
  if (LITTLE_ENDIAN && view instanceof DataView && view.byteOffset % 4 === 0 && view.byteLength >= n * 16) {
    if (valid !== undefined) {
      return {
        vector,
        words: new Int32Array(view.buffer, view.byteOffset, n * 4),
        bytes: new Uint8Array(view.buffer, view.byteOffset, n * 16),
        valid,
      }
    }
  }
  return { vector, words: null, bytes: null, valid: valid === undefined ? slowValidity(vector, n) : valid }
}

// ---------------------------------------------------------------------------------------------------------------
// Builders: one per column, filled chunk by chunk, handed over whole at the end of each batch.

class NumericColumnBuilder {
  readonly kind = 'numeric'
  /** The batch's values, taken from the allocator at its first append. */
  #values: Float64Array | undefined
  #nulls: Uint8Array | undefined

  constructor(
    readonly type: Exclude<ColumnType, 'string'>,
    readonly capacity: number,
    readonly allocate: BatchAllocator,
  ) {}

  append(view: DoubleView, offset: number, count: number, at: number): void {
    const values = (this.#values ??= this.allocate.float64(this.capacity))
    values.set(view.items.subarray(offset, offset + count), at)
    const valid = view.valid
    if (valid === null) return
    const end = offset + count
    for (let i = offset; i < end; i++) {
      // Whole valid bytes are the common case; skip them eight rows at a time.
      if ((i & 7) === 0 && i + 8 <= end && valid[i >> 3] === 0xff) {
        i += 7
        continue
      }
      if ((valid[i >> 3]! & (1 << (i & 7))) === 0) {
        const nulls = (this.#nulls ??= new Uint8Array(this.capacity))
        nulls[at + i - offset] = 1
        values[at + i - offset] = Number.NaN
      }
    }
  }

  finish(length: number, capacity: number): Column {
    const full = (this.#values ??= this.allocate.float64(this.capacity))
    const values = length === capacity ? full : full.slice(0, length)
    const nulls =
      this.#nulls === undefined ? undefined : length === capacity ? this.#nulls : this.#nulls.slice(0, length)
    this.#values = undefined
    this.#nulls = undefined
    return nulls === undefined ? { type: this.type, values } : { type: this.type, values, nulls }
  }
}

/**
 * Dictionary-encodes a VARCHAR column per batch. Strings of up to 12 bytes live inside DuckDB's 16-byte header, so
 * the header itself is the key: an open-addressing table over its four words finds the code without decoding, and
 * only the first occurrence in a batch is decoded. Longer strings are stored behind a pointer whose value differs per
 * row even for equal strings, so they are decoded and looked up in a Map. Words are handled as int32 throughout so
 * that V8 keeps them unboxed.
 */
class StringColumnBuilder {
  readonly kind = 'string'
  /** The batch's codes, taken from the allocator at its first append. */
  #codes: Int32Array | undefined
  #dictionary: string[] = []
  /** Open-addressing table: slot → code, -1 empty. */
  #slots: Int32Array
  /** The four header words of each code's string (unused for codes of long strings). */
  #keys: Int32Array
  #long = new Map<string, number>()

  constructor(
    readonly capacity: number,
    readonly allocate: BatchAllocator,
  ) {
    this.#slots = new Int32Array(1024).fill(-1)
    this.#keys = new Int32Array(512 * 4)
  }

  append(view: StringView, offset: number, count: number, at: number): void {
    const codes = (this.#codes ??= this.allocate.int32(this.capacity))
    const valid = view.valid
    const words = view.words
    const end = offset + count
    let slots = this.#slots
    let keys = this.#keys
    for (let i = offset; i < end; i++) {
      const out = at + i - offset
      if (valid !== null && (valid[i >> 3]! & (1 << (i & 7))) === 0) {
        codes[out] = -1
        continue
      }
      if (words === null) {
        codes[out] = this.#codeOfString(view.vector.getItem(i) as string)
        continue
      }
      const b = i << 2
      const length = words[b]!
      if (length > 12) {
        codes[out] = this.#codeOfString(view.vector.getItem(i) as string)
        continue
      }
      // DuckDB zero-fills inline padding; masking anyway keeps equal strings equal keys if that ever changes.
      const w1 = words[b + 1]! & MASK1[length]!
      const w2 = words[b + 2]! & MASK2[length]!
      const w3 = words[b + 3]! & MASK3[length]!
      const mask = slots.length - 1
      let h = hashKey(length, w1, w2, w3) & mask
      let code: number
      for (;;) {
        code = slots[h]!
        if (code < 0) {
          code = this.#insert(length, w1, w2, w3, view.bytes!, i)
          slots = this.#slots
          keys = this.#keys
          break
        }
        const k = code << 2
        if (keys[k] === length && keys[k + 1] === w1 && keys[k + 2] === w2 && keys[k + 3] === w3) break
        h = (h + 1) & mask
      }
      codes[out] = code
    }
  }

  /** Adds a new inline string: decodes it once, stores its key, grows the table past half full. */
  #insert(length: number, w1: number, w2: number, w3: number, bytes: Uint8Array, row: number): number {
    const start = (row << 4) + 4
    const code = this.#add(textDecoder.decode(bytes.subarray(start, start + length)))
    const k = code << 2
    const keys = this.#keys
    keys[k] = length
    keys[k + 1] = w1
    keys[k + 2] = w2
    keys[k + 3] = w3
    if ((code + 1) * 2 > this.#slots.length) this.#grow()
    else this.#place(this.#slots, code)
    return code
  }

  #place(slots: Int32Array, code: number): void {
    const keys = this.#keys
    const k = code << 2
    const mask = slots.length - 1
    let h = hashKey(keys[k]!, keys[k + 1]!, keys[k + 2]!, keys[k + 3]!) & mask
    while (slots[h]! >= 0) h = (h + 1) & mask
    slots[h] = code
  }

  #codeOfString(value: string): number {
    let code = this.#long.get(value)
    if (code === undefined) {
      code = this.#add(value)
      this.#long.set(value, code)
    }
    return code
  }

  #add(value: string): number {
    const code = this.#dictionary.length
    this.#dictionary.push(value)
    if ((code + 1) * 4 > this.#keys.length) {
      const keys = new Int32Array(this.#keys.length * 2)
      keys.set(this.#keys)
      this.#keys = keys
    }
    return code
  }

  /** Doubles the slot table and re-inserts every inline code (long-string codes have no slot). */
  #grow(): void {
    const old = this.#slots
    const slots = new Int32Array(old.length * 2).fill(-1)
    const long = new Set<number>(this.#long.values())
    for (let code = 0; code < this.#dictionary.length; code++) if (!long.has(code)) this.#place(slots, code)
    this.#slots = slots
  }

  finish(length: number, capacity: number): Column {
    const full = (this.#codes ??= this.allocate.int32(this.capacity))
    const codes = length === capacity ? full : full.slice(0, length)
    const dictionary = this.#dictionary
    this.#codes = undefined
    this.#dictionary = []
    this.#long = new Map()
    this.#slots.fill(-1)
    return { type: 'string', codes, dictionary }
  }
}

/** Hash of a string header's four words (callers mask it to the table size). */
function hashKey(length: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(length ^ w1, 0x9e3779b1) ^ Math.imul(w2, 0x85ebca6b) ^ Math.imul(w3, 0xc2b2ae35)
  h ^= h >>> 15
  h = Math.imul(h, 0x2c1b3c6d)
  return h ^ (h >>> 13)
}

/** For an inline string of length L, MASKn[L] keeps the bytes of header word n that belong to it (little-endian). */
const MASK1 = new Int32Array(13)
const MASK2 = new Int32Array(13)
const MASK3 = new Int32Array(13)
for (let length = 0; length <= 12; length++) {
  MASK1[length] = byteMask(length)
  MASK2[length] = byteMask(length - 4)
  MASK3[length] = byteMask(length - 8)
}

/** Mask keeping the first `remaining` bytes of a little-endian word (all of them when ≥ 4, none when ≤ 0). */
function byteMask(remaining: number): number {
  if (remaining >= 4) return -1
  if (remaining <= 0) return 0
  return (1 << (remaining * 8)) - 1
}
