/**
 * The shared suite every `Transformer` passes (call it from the transformer's own test), plus a seeded generator of
 * batches with every column type and nulls. It checks the contract, not the statistics: merge laws over many seeds,
 * JSON round trips that transform bit-identically, writing exactly its own slice of a reused buffer, and the error
 * codes for unfitted use, missing columns and mismatched merges. A transformer with the sparse capability also
 * passes the sparse contract: its entries expand to exactly the bits of `transform`, ascend, and stay in their slots.
 * @module
 */
import { expect, it } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import { Random } from '../core/random.js'
import type { Batch, Column, Schema } from '../data/batch.js'
import { isSparseTransformer, type SparseTransformer, type Transformer, type TransformerJSON } from './transformer.js'

/** Columns of {@link generateBatch}: one of each type, each with nulls. */
export const GENERATED_SCHEMA: Schema = {
  fields: [
    { name: 'amount', type: 'float', nullable: true },
    { name: 'count', type: 'int', nullable: true },
    { name: 'flag', type: 'bool', nullable: true },
    { name: 'when', type: 'timestamp', nullable: true },
    { name: 'city', type: 'string', nullable: true },
  ],
}

const CITIES = Array.from({ length: 40 }, (_, k) => `city-${String.fromCharCode(65 + (k % 26))}${k}`)

/**
 * A batch of `rows` rows from `seed` with every column type: `amount` (float, heavy-tailed, nulls via mask and via
 * NaN), `count` (int), `flag` (bool), `when` (timestamps 1950–2050, some before 1970), `city` (strings with a skewed
 * frequency, a dictionary in random order that includes unused entries, nulls). About 7% of every column is null.
 */
export function generateBatch(seed: number, rows: number): Batch {
  const random = new Random(seed)
  const columns = new Map<string, Column>()
  const numeric = (type: 'float' | 'int' | 'bool' | 'timestamp', draw: () => number): void => {
    const values = new Float64Array(rows)
    const nulls = new Uint8Array(rows)
    for (let i = 0; i < rows; i++) {
      if (random.next() < 0.07) {
        nulls[i] = 1
        // A null row's value is arbitrary; a transformer must look at the mask, not the value.
        values[i] = type === 'float' && random.next() < 0.5 ? Number.NaN : 12345
      } else {
        values[i] = draw()
      }
    }
    columns.set(type === 'float' ? 'amount' : type === 'int' ? 'count' : type === 'bool' ? 'flag' : 'when', {
      type,
      values,
      nulls,
    })
  }
  numeric('float', () => (random.next() < 0.02 ? Number.NaN : (random.next() - 0.3) ** 3 * 1e4))
  numeric('int', () => random.nextInt(50) - 10)
  numeric('bool', () => (random.next() < 0.3 ? 1 : 0))
  numeric('timestamp', () => -631_152_000_000 + Math.floor(random.next() * 3_155_760_000_000))
  const dictionary = random.shuffle([...CITIES])
  const codes = new Int32Array(rows)
  for (let i = 0; i < rows; i++) {
    // Squaring a uniform skews frequencies so the most-frequent cut-off matters.
    codes[i] = random.next() < 0.07 ? -1 : Math.floor(random.next() ** 2 * dictionary.length)
  }
  columns.set('city', { type: 'string', codes, dictionary })
  return { length: rows, columns }
}

/** What {@link describeTransformerContract} needs to build and restore the transformer under test. */
export interface TransformerContractOptions {
  /** A new, unfitted transformer over columns of {@link GENERATED_SCHEMA}. */
  readonly create: () => Transformer
  /** Its `fromJSON`. */
  readonly fromJSON: (json: TransformerJSON) => Transformer
  /** Another transformer that `merge` must refuse. */
  readonly incompatible: () => Transformer
  /** Seeds for the merge law (default 1–20). */
  readonly seeds?: readonly number[]
  /** True for a step that writes NaN for missing values on purpose (for models that route missing values). */
  readonly keepsMissingAsNaN?: boolean
}

function fitted(t: Transformer, ...batches: Batch[]): Transformer {
  for (const batch of batches) t.partialFit(batch)
  return t
}

function run(t: Transformer, batch: Batch): Float32Array {
  const out = new Float32Array(batch.length * t.nOutputs)
  t.transform(batch, out, t.nOutputs, 0)
  return out
}

/**
 * Asserts two float32 arrays are bit-identical (NaN payloads and ±0 included), reporting the first difference;
 * much faster than a deep equality on large arrays.
 */
export function expectSameBits(actual: Float32Array, expected: Float32Array, label = ''): void {
  expect(actual.length, `${label} length`).toBe(expected.length)
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length)
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length)
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) expect(actual[i], `${label} value ${i}`).toBe(expected[i])
    if (a[i] !== b[i]) expect.fail(`${label} value ${i}: bits ${a[i]} vs ${b[i]}`)
  }
}

/** `transformSparse` into new arrays with the entries of each row packed (`nnzStride = nnzPerRow`, offsets 0). */
function runSparse(t: SparseTransformer, batch: Batch): { indices: Int32Array; values: Float32Array } {
  const size = batch.length * t.nnzPerRow
  const indices = new Int32Array(size)
  const values = new Float32Array(size)
  t.transformSparse(batch, indices, values, t.nnzPerRow, 0, 0)
  return { indices, values }
}

/**
 * The dense expansion of packed sparse entries (`width` columns), or the first problem with them: an index out of
 * `[0, width)` or not above the previous index of its row.
 */
export function expandSparse(
  entries: { readonly indices: Int32Array; readonly values: Float32Array },
  rows: number,
  width: number,
): Float32Array {
  const nnz = rows === 0 ? 0 : entries.indices.length / rows
  const out = new Float32Array(rows * width)
  for (let r = 0; r < rows; r++) {
    let previous = -1
    for (let k = 0; k < nnz; k++) {
      const j = entries.indices[r * nnz + k]!
      if (j <= previous || j >= width) expect.fail(`row ${r} entry ${k}: index ${j} after ${previous} (width ${width})`)
      previous = j
      out[r * width + j] = entries.values[r * nnz + k]!
    }
  }
  return out
}

/** Registers the sparse part of the contract (called by {@link describeTransformerContract} when it applies). */
function describeSparseContract(options: TransformerContractOptions): void {
  const create = (): SparseTransformer => options.create() as SparseTransformer

  it('contract (sparse): the dense expansion of transformSparse is bit-identical to transform, nulls included', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const t = fitted(create(), generateBatch(seed, 300)) as SparseTransformer
      const probe = generateBatch(seed + 50, 257)
      const entries = runSparse(t, probe)
      expectSameBits(expandSparse(entries, probe.length, t.nOutputs), run(t, probe), `seed ${seed}`)
      const restored = options.fromJSON(JSON.parse(JSON.stringify(t.toJSON())) as TransformerJSON) as SparseTransformer
      const again = runSparse(restored, probe)
      expect(again.indices, `seed ${seed} after a JSON round trip`).toEqual(entries.indices)
      expectSameBits(again.values, entries.values, `seed ${seed} after a JSON round trip`)
    }
  })

  it('contract (sparse): writes exactly its own entries of strided buffers, shifted by the column offset', () => {
    const batch = generateBatch(22, 199)
    const t = fitted(create(), batch) as SparseTransformer
    const clean = runSparse(t, batch)
    const nnz = t.nnzPerRow
    const stride = nnz + 3
    const offset = 2
    const colOffset = 17
    const indices = new Int32Array(batch.length * stride).fill(-7)
    const values = new Float32Array(batch.length * stride).fill(Number.NaN)
    t.transformSparse(batch, indices, values, stride, offset, colOffset)
    const wrong: string[] = []
    for (let r = 0; r < batch.length; r++) {
      for (let c = 0; c < stride; c++) {
        const e = r * stride + c
        const inside = c >= offset && c < offset + nnz
        const k = r * nnz + c - offset
        const ok = inside
          ? indices[e] === clean.indices[k]! + colOffset && Object.is(values[e], clean.values[k])
          : indices[e] === -7 && Number.isNaN(values[e]!)
        if (!ok) wrong.push(`row ${r} entry ${c}: index ${indices[e]}, value ${values[e]}`)
      }
    }
    expect(wrong.slice(0, 5)).toEqual([])
  })

  it('contract (sparse): NOT_FITTED before fitting, UNKNOWN_COLUMN for a missing column', () => {
    const t = create()
    const out = { indices: new Int32Array(1000), values: new Float32Array(1000) }
    if (!t.isFitted) {
      expect(() => t.transformSparse(generateBatch(41, 10), out.indices, out.values, 10, 0, 0)).toThrowError(
        expect.objectContaining({ code: 'NOT_FITTED' }),
      )
    }
    fitted(t, generateBatch(42, 50))
    const empty: Batch = { length: 10, columns: new Map() }
    expect(() => t.transformSparse(empty, out.indices, out.values, 10, 0, 0)).toThrowError(
      expect.objectContaining({ code: 'UNKNOWN_COLUMN' }),
    )
  })
}

/** Registers the contract tests (inside the caller's `describe`). */
export function describeTransformerContract(options: TransformerContractOptions): void {
  const { create, fromJSON } = options
  const seeds = options.seeds ?? Array.from({ length: 20 }, (_, k) => k + 1)

  it('contract: merge(fit A, fit B) transforms bit-identically to fitting A then B, for every seed', () => {
    for (const seed of seeds) {
      const a = generateBatch(seed, 50 + (seed % 7) * 40)
      const b = generateBatch(seed + 10_000, 30 + (seed % 5) * 60)
      const probe = generateBatch(seed + 20_000, 100)
      const merged = fitted(create(), a)
      merged.merge(fitted(create(), b))
      const sequential = fitted(create(), a, b)
      expect(merged.outputNames(), `seed ${seed}`).toEqual(sequential.outputNames())
      expectSameBits(run(merged, probe), run(sequential, probe), `seed ${seed}`)
      expect(merged.toJSON(), `seed ${seed}`).toEqual(sequential.toJSON())
    }
  })

  it('contract: merging an unfitted transformer changes nothing; merging into one adopts the other', () => {
    const batch = generateBatch(7, 300)
    const t = fitted(create(), batch)
    const before = t.toJSON()
    t.merge(create())
    expect(t.toJSON()).toEqual(before)
    const empty = create()
    empty.merge(fitted(create(), batch))
    expect(empty.toJSON()).toEqual(before)
  })

  it('contract: a JSON round trip (through text) transforms bit-identically and still merges exactly', () => {
    const batch = generateBatch(11, 500)
    const probe = generateBatch(12, 200)
    const original = fitted(create(), batch)
    const restored = fromJSON(JSON.parse(JSON.stringify(original.toJSON())) as TransformerJSON)
    expect(restored.kind).toBe(original.kind)
    expect(restored.inputs).toEqual(original.inputs)
    expect(restored.isFitted).toBe(true)
    expect(restored.outputNames()).toEqual(original.outputNames())
    expectSameBits(run(restored, probe), run(original, probe))
    const more = generateBatch(13, 100)
    restored.merge(fitted(create(), more))
    original.merge(fitted(create(), more))
    expect(restored.toJSON()).toEqual(original.toJSON())
    const unfitted = fromJSON(JSON.parse(JSON.stringify(create().toJSON())) as TransformerJSON)
    expect(unfitted.toJSON()).toEqual(create().toJSON())
  })

  it('contract: writes every position of its own slice of a reused buffer and nothing else', () => {
    const batch = generateBatch(21, 257)
    const t = fitted(create(), batch)
    const clean = run(t, batch)
    const width = t.nOutputs
    const stride = width + 5
    const offset = 3
    const dirty = new Float32Array(batch.length * stride).fill(Number.NaN)
    t.transform(batch, dirty, stride, offset)
    const wrong: string[] = []
    for (let r = 0; r < batch.length; r++) {
      for (let c = 0; c < stride; c++) {
        const v = dirty[r * stride + c]!
        const inside = c >= offset && c < offset + width
        const ok = inside ? Object.is(v, clean[r * width + c - offset]!) : Number.isNaN(v)
        if (!ok) wrong.push(`row ${r} position ${c}: ${v}`)
      }
    }
    expect(wrong.slice(0, 5)).toEqual([])
  })

  it('contract: outputNames has nOutputs distinct names; outputs are finite for rows with nulls', () => {
    const batch = generateBatch(31, 400)
    const t = fitted(create(), batch)
    const names = t.outputNames()
    expect(names).toHaveLength(t.nOutputs)
    expect(new Set(names).size).toBe(names.length)
    const out = run(t, batch)
    if (options.keepsMissingAsNaN) expect(out.every((v) => Number.isFinite(v) || Number.isNaN(v))).toBe(true)
    else expect(out.every(Number.isFinite)).toBe(true)
  })

  if (isSparseTransformer(create())) describeSparseContract(options)

  it('contract: NOT_FITTED before fitting, UNKNOWN_COLUMN for a missing column, INVALID_ARGUMENT on a bad merge', () => {
    const batch = generateBatch(41, 10)
    const t = create()
    if (!t.isFitted) {
      expect(() => t.transform(batch, new Float32Array(1000), 10, 0)).toThrowError(
        expect.objectContaining({ code: 'NOT_FITTED' }),
      )
    }
    const empty: Batch = { length: 10, columns: new Map() }
    expect(() => t.partialFit(empty)).toThrowError(expect.objectContaining({ code: 'UNKNOWN_COLUMN' }))
    fitted(t, batch)
    const caught = (() => {
      try {
        t.merge(options.incompatible())
      } catch (error) {
        return error
      }
    })()
    expect(isScalemlError(caught, 'INVALID_ARGUMENT')).toBe(true)
  })
}
