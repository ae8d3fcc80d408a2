import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Random } from '../core/random.js'
import type { Batch, Column } from '../data/batch.js'
import { sliceBatch } from '../data/batch.js'
import { transformerFromJSON } from './catalog.js'
import { DEFAULT_N_FEATURES, FeatureHasher } from './hasher.js'
import { describeTransformerContract, generateBatch } from './transformer.contract.js'

interface HasherFixture {
  versions: Record<string, string>
  strings: string[]
  hashed: Record<string, { index: number[]; sign: number[] }>
  hashedNoSign16: { index: number[] }
}

const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/sklearn-hasher/feature-hasher.json', import.meta.url), 'utf8'),
) as HasherFixture

/** A batch whose column `c` holds `values` (null → code -1), dictionary in first-seen order unless given. */
function stringBatch(values: readonly (string | null)[], dictionary?: readonly string[]): Batch {
  const dict = dictionary ? [...dictionary] : [...new Set(values.filter((v): v is string => v !== null))]
  const codeOf = new Map(dict.map((s, k) => [s, k]))
  const codes = Int32Array.from(values, (v) => (v === null ? -1 : codeOf.get(v)!))
  return {
    length: values.length,
    columns: new Map<string, Column>([['c', { type: 'string', codes, dictionary: dict }]]),
  }
}

/**
 * Every fixture string in a seeded random order, repeated, with nulls mixed in, over a shuffled dictionary, so the
 * row → code → dictionary mapping is exercised rather than the identity. Returns the batch and each row's fixture
 * position (-1 for null).
 */
function fixtureBatch(seed: number): { batch: Batch; source: Int32Array } {
  const random = new Random(seed)
  const n = fixture.strings.length
  const order = random.shuffle(Array.from({ length: n }, (_, k) => k))
  const dictionary = order.map((k) => fixture.strings[k]!)
  const codeOf = new Int32Array(n)
  order.forEach((k, code) => {
    codeOf[k] = code
  })
  const rows = 2 * n + 100
  const codes = new Int32Array(rows)
  const source = new Int32Array(rows)
  for (let i = 0; i < rows; i++) {
    const k = i < n ? i : random.nextInt(n)
    const isNull = i >= n && random.next() < 0.1
    source[i] = isNull ? -1 : k
    codes[i] = isNull ? -1 : codeOf[k]!
  }
  return { batch: { length: rows, columns: new Map([['c', { type: 'string', codes, dictionary }]]) }, source }
}

describe('FeatureHasher', () => {
  describeTransformerContract({
    create: () => new FeatureHasher({ column: 'city', nFeatures: 64 }),
    fromJSON: FeatureHasher.fromJSON,
    incompatible: () => new FeatureHasher({ column: 'city', nFeatures: 32 }),
  })

  describe('without alternate sign, in a space smaller than the dictionary', () => {
    describeTransformerContract({
      create: () => new FeatureHasher({ column: 'city', nFeatures: 7, alternateSign: false }),
      fromJSON: FeatureHasher.fromJSON,
      incompatible: () => new FeatureHasher({ column: 'city', nFeatures: 7 }),
    })
  })

  it("gives every fixture string sklearn 1.2.1's column and sign, for every width, through hashIndices", () => {
    expect(fixture.versions['sklearn']).toBe('1.2.1')
    const { batch, source } = fixtureBatch(3)
    for (const [width, expected] of Object.entries(fixture.hashed)) {
      const hasher = new FeatureHasher({ column: 'c', nFeatures: Number(width) })
      const { index, sign } = hasher.hashIndices(batch)
      const wrong: string[] = []
      for (let i = 0; i < batch.length; i++) {
        const k = source[i]!
        const want = k < 0 ? [-1, 0] : [expected.index[k]!, expected.sign[k]!]
        if (index[i] !== want[0] || sign[i] !== want[1]) {
          wrong.push(`row ${i} ${JSON.stringify(fixture.strings[k])}: (${index[i]}, ${sign[i]}) vs (${want})`)
        }
      }
      expect(wrong.slice(0, 5), `nFeatures ${width}`).toEqual([])
    }
  })

  it('gives sklearn alternate_sign=False columns with every value +1', () => {
    const { batch, source } = fixtureBatch(4)
    const { index, sign } = new FeatureHasher({ column: 'c', nFeatures: 16, alternateSign: false }).hashIndices(batch)
    for (let i = 0; i < batch.length; i++) {
      const k = source[i]!
      expect(index[i]).toBe(k < 0 ? -1 : fixture.hashedNoSign16.index[k])
      expect(sign[i]).toBe(k < 0 ? 0 : 1)
    }
  })

  it("transform writes the signed 1 at sklearn's column of a dense row, zeros elsewhere, all zeros for null", () => {
    const { batch, source } = fixtureBatch(5)
    const expected = fixture.hashed['16']!
    const hasher = new FeatureHasher({ column: 'c', nFeatures: 16 })
    const out = new Float32Array(batch.length * 16).fill(Number.NaN)
    hasher.transform(batch, out, 16, 0)
    const collisions = new Set<number>()
    for (let i = 0; i < batch.length; i++) {
      const row = Array.from(out.subarray(i * 16, (i + 1) * 16))
      const k = source[i]!
      const want = new Array<number>(16).fill(0)
      if (k >= 0) want[expected.index[k]!] = expected.sign[k]!
      if (k >= 0) collisions.add(expected.index[k]!)
      expect(row, `row ${i}`).toEqual(want)
    }
    // 1,195 strings in 16 columns: every column is shared, and both signs occur.
    expect(collisions.size).toBe(16)
    expect(new Set(expected.sign)).toEqual(new Set([1, -1]))
  })

  it("transforms into a 2^18- and a 2^20-wide dense row at sklearn's column", () => {
    const strings = ['SFO', '東京', '', '😀', fixture.strings[fixture.strings.length - 1]!]
    const rows = strings.map((s) => fixture.strings.indexOf(s))
    for (const width of [2 ** 18, DEFAULT_N_FEATURES]) {
      const hasher = new FeatureHasher({ column: 'c', nFeatures: width })
      expect(hasher.nOutputs).toBe(width)
      const batch = stringBatch([...strings, null])
      const out = new Float32Array(batch.length * width).fill(Number.NaN)
      hasher.transform(batch, out, width, 0)
      const expected = fixture.hashed[String(width)]!
      rows.forEach((k, i) => {
        expect(k).toBeGreaterThanOrEqual(0)
        const row = out.subarray(i * width, (i + 1) * width)
        const nonzero: number[] = []
        for (let j = 0; j < width; j++) if (row[j] !== 0) nonzero.push(j)
        expect(nonzero, strings[i]).toEqual([expected.index[k]!])
        expect(row[expected.index[k]!]).toBe(expected.sign[k])
      })
      expect(out.subarray(strings.length * width).every((v) => v === 0)).toBe(true)
    }
  })

  it("defaults to sklearn's nFeatures 2^20 and alternateSign true, and needs no fit", () => {
    const hasher = new FeatureHasher({ column: 'c' })
    expect(hasher.params).toEqual({ column: 'c', nFeatures: 2 ** 20, alternateSign: true })
    expect(hasher.isFitted).toBe(true)
    const k = fixture.strings.indexOf('origin=SFO')
    expect(hasher.hashIndices(stringBatch(['origin=SFO'])).index[0]).toBe(fixture.hashed[String(2 ** 20)]!.index[k])
  })

  it('validates nFeatures as an int in [1, 2^31 - 1] and alternateSign as a boolean', () => {
    expect(() => new FeatureHasher({ column: 'c', nFeatures: 0 })).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: The 'nFeatures' parameter of FeatureHasher must be an int in the range [1, 2147483647]. Got 0 instead.]`,
    )
    for (const nFeatures of [2 ** 31, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '16' as unknown as number]) {
      expect(() => new FeatureHasher({ column: 'c', nFeatures }), String(nFeatures)).toThrowError(
        expect.objectContaining({ code: 'INVALID_PARAM' }),
      )
    }
    expect(
      () => new FeatureHasher({ column: 'c', alternateSign: 1 as unknown as boolean }),
    ).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: The 'alternateSign' parameter of FeatureHasher must be a boolean. Got 1 instead.]`,
    )
    expect(() => new FeatureHasher({ column: '' })).toThrowError(expect.objectContaining({ code: 'INVALID_PARAM' }))
    expect(new FeatureHasher({ column: 'c', nFeatures: 2 ** 31 - 1 }).nOutputs).toBe(2 ** 31 - 1)
    const one = new FeatureHasher({ column: 'c', nFeatures: 1 })
    const out = new Float32Array(3)
    one.transform(stringBatch(['a', 'abc', null]), out, 1, 0)
    // 'a' hashes non-negative and 'abc' negative (sklearn: murmurhash3_32('abc') = -1277324294).
    expect(Array.from(out)).toEqual([1, -1, 0])
  })

  it('refuses a numeric column in partialFit, transform and hashIndices', () => {
    const batch = generateBatch(1, 10)
    const hasher = new FeatureHasher({ column: 'amount', nFeatures: 8 })
    expect(() => hasher.partialFit(batch)).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: FeatureHasher hashes strings, but column "amount" holds float values.]`,
    )
    expect(() => hasher.transform(batch, new Float32Array(80), 8, 0)).toThrowError(
      expect.objectContaining({ code: 'INVALID_DATA' }),
    )
    expect(() => hasher.hashIndices(batch)).toThrowError(expect.objectContaining({ code: 'INVALID_DATA' }))
  })

  it('merges only a hasher with the same parameters, naming both', () => {
    const hasher = new FeatureHasher({ column: 'c', nFeatures: 8 })
    hasher.merge(new FeatureHasher({ column: 'c', nFeatures: 8, alternateSign: true }))
    expect(() =>
      hasher.merge(new FeatureHasher({ column: 'c', nFeatures: 8, alternateSign: false })),
    ).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: FeatureHasher over "c" (nFeatures 8, alternateSign true) can only merge a FeatureHasher with the same column, nFeatures and alternateSign; got FeatureHasher over "c" (nFeatures 8, alternateSign false).]`,
    )
    expect(() => hasher.merge(new FeatureHasher({ column: 'd', nFeatures: 8 }))).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
  })

  it('hashIndices writes into caller-owned arrays and checks their length', () => {
    const hasher = new FeatureHasher({ column: 'c', nFeatures: 16 })
    const into = { index: new Int32Array(10).fill(99), sign: new Float32Array(10).fill(99) }
    const batch = stringBatch(['abc', null, 'a'])
    const result = hasher.hashIndices(batch, into)
    expect(result).toBe(into)
    const k = fixture.strings.indexOf('abc')
    expect(Array.from(into.index.subarray(0, 4))).toEqual([fixture.hashed['16']!.index[k], -1, hashed('a'), 99])
    expect(Array.from(into.sign.subarray(0, 4))).toEqual([-1, 0, 1, 99])
    expect(() =>
      hasher.hashIndices(batch, { index: new Int32Array(2), sign: new Float32Array(3) }),
    ).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: FeatureHasher.hashIndices needs output arrays of at least 3 entries (the batch length); got index 2 and sign 3.]`,
    )

    function hashed(s: string): number {
      return fixture.hashed['16']!.index[fixture.strings.indexOf(s)]!
    }
  })

  it('re-hashes a dictionary that grew in place or was replaced by another of the same length', () => {
    const hasher = new FeatureHasher({ column: 'c', nFeatures: 2 ** 18 })
    const expected = (s: string): number => fixture.hashed[String(2 ** 18)]!.index[fixture.strings.indexOf(s)]!
    const dictionary = ['SFO', 'LAX']
    const batchOf = (dict: string[], codes: number[]): Batch => ({
      length: codes.length,
      columns: new Map([['c', { type: 'string', codes: Int32Array.from(codes), dictionary: dict }]]),
    })
    expect(Array.from(hasher.hashIndices(batchOf(dictionary, [1, 0])).index)).toEqual([
      expected('LAX'),
      expected('SFO'),
    ])
    for (const code of ['JFK', 'ORD', 'ATL', 'DEN', 'SEA']) dictionary.push(code)
    expect(Array.from(hasher.hashIndices(batchOf(dictionary, [6, 0, 2])).index)).toEqual([
      expected('SEA'),
      expected('SFO'),
      expected('JFK'),
    ])
    const other = ['東京', '😀', '', 'café', 'naïve', 'Zürich', 'Malmö']
    expect(Array.from(hasher.hashIndices(batchOf(other, [0, 1, 2, 6])).index)).toEqual(
      ['東京', '😀', '', 'Malmö'].map(expected),
    )
  })

  it('hashes a sliced batch like the whole, and any string without having seen it', () => {
    const { batch } = fixtureBatch(9)
    const hasher = new FeatureHasher({ column: 'c', nFeatures: 1000 })
    const whole = hasher.hashIndices(batch)
    const fresh = new FeatureHasher({ column: 'c', nFeatures: 1000 })
    for (const [start, end] of [
      [0, 100],
      [100, 1500],
      [1500, batch.length],
    ] as const) {
      const part = fresh.hashIndices(sliceBatch(batch, start, end))
      expect(Array.from(part.index)).toEqual(Array.from(whole.index.subarray(start, end)))
      expect(Array.from(part.sign)).toEqual(Array.from(whole.sign.subarray(start, end)))
    }
  })

  it('round-trips through JSON and the transformer catalog; rejects malformed JSON', () => {
    const hasher = new FeatureHasher({ column: 'c', nFeatures: 1000, alternateSign: false })
    const json = JSON.parse(JSON.stringify(hasher.toJSON()))
    expect(json).toEqual({ kind: 'feature-hasher', column: 'c', nFeatures: 1000, alternateSign: false })
    const restored = transformerFromJSON(json, 'steps[0]')
    expect(restored).toBeInstanceOf(FeatureHasher)
    expect(restored.toJSON()).toEqual(hasher.toJSON())
    expect(() => FeatureHasher.fromJSON({ ...json, nFeatures: 0 })).toThrowError(
      expect.objectContaining({ code: 'ARTIFACT_INVALID' }),
    )
    expect(() => FeatureHasher.fromJSON({ ...json, nFeatures: '1000' })).toThrowErrorMatchingInlineSnapshot(
      `[ScalemlError: Invalid feature-hasher JSON: "nFeatures" must be an integer in [1, 2147483647].]`,
    )
    expect(() => FeatureHasher.fromJSON({ kind: 'feature-hasher', column: 'c', nFeatures: 8 })).toThrowError(
      expect.objectContaining({ code: 'ARTIFACT_INVALID' }),
    )
    expect(() => FeatureHasher.fromJSON({ ...json, column: 3 })).toThrowError(
      expect.objectContaining({ code: 'ARTIFACT_INVALID' }),
    )
  })
})
