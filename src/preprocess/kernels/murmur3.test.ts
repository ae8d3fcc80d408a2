import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { hashDictionary, hashString, hashStringIndex, hashToIndex, murmurhash3_32 } from './murmur3.js'

interface HasherFixture {
  versions: Record<string, string>
  strings: string[]
  utf8Length: number[]
  murmurhash3_32: Record<string, number[]>
  hashed: Record<string, { index: number[]; sign: number[] }>
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/sklearn-hasher/feature-hasher.json', import.meta.url), 'utf8'),
) as HasherFixture

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('murmurhash3_32', () => {
  it('matches the published x86_32 test vectors (as signed int32)', () => {
    const vectors: [Uint8Array, number, number][] = [
      [new Uint8Array(0), 0, 0],
      [new Uint8Array(0), 1, 0x514e28b7],
      [new Uint8Array(0), 0xffffffff, 0x81f16f39],
      [new Uint8Array(4), 0, 0x2362f9de],
      [utf8('aaaa'), 0x9747b28c, 0x5a97808a],
      [utf8('Hello, world!'), 0x9747b28c, 0x24884cba],
      [utf8('The quick brown fox jumps over the lazy dog'), 0x9747b28c, 0x2fa826cd],
    ]
    for (const [bytes, seed, expected] of vectors) {
      expect(murmurhash3_32(bytes, seed), `seed ${seed}`).toBe(expected | 0)
    }
    expect(murmurhash3_32(new Uint8Array(0), -1)).toBe(murmurhash3_32(new Uint8Array(0), 0xffffffff))
  })

  it('equals sklearn.utils.murmurhash3_32 on the UTF-8 bytes of every fixture string, for every seed', () => {
    expect(fixture.versions['sklearn']).toBe('1.2.1')
    expect(fixture.strings.length).toBeGreaterThanOrEqual(1000)
    const seeds = Object.keys(fixture.murmurhash3_32)
    expect(seeds).toEqual(expect.arrayContaining(['0', '42', '4294967295']))
    const wrong: string[] = []
    fixture.strings.forEach((s, i) => {
      const bytes = utf8(s)
      if (bytes.length !== fixture.utf8Length[i]) wrong.push(`${JSON.stringify(s)}: ${bytes.length} UTF-8 bytes`)
      for (const seed of seeds) {
        const expected = fixture.murmurhash3_32[seed]![i]
        const fromBytes = murmurhash3_32(bytes, Number(seed))
        const fromString = hashString(s, Number(seed))
        if (fromBytes !== expected || fromString !== expected) {
          wrong.push(`${JSON.stringify(s)} seed ${seed}: ${fromBytes}/${fromString} vs ${expected}`)
        }
      }
    })
    expect(wrong.slice(0, 5)).toEqual([])
  })

  it('hashes exactly bytes[start, end) of a larger buffer', () => {
    const bytes = utf8('xx東京😀 and some more bytes yy')
    for (let start = 0; start < 8; start++) {
      for (let end = start; end <= bytes.length; end += 3) {
        expect(murmurhash3_32(bytes, 7, start, end)).toBe(murmurhash3_32(bytes.slice(start, end), 7))
      }
    }
  })

  it('hashString reuses its buffer without leaking bytes between strings of any length', () => {
    const long = '東'.repeat(5000)
    const strings = ['a', long, 'b', `${long}😀`, '', 'é', 'x'.repeat(2000), 'y']
    for (const s of strings) expect(hashString(s), s.slice(0, 8)).toBe(murmurhash3_32(utf8(s), 0))
  })

  it('hashes a lone surrogate as U+FFFD, as TextEncoder encodes it', () => {
    expect(hashString('\ud800')).toBe(hashString('\ufffd'))
    expect(hashString('a\udc00b')).toBe(hashString('a\ufffdb'))
    expect(hashString('\ud83d\ude00')).toBe(hashString('😀'))
  })
})

describe('hashStringIndex and hashToIndex', () => {
  it("give sklearn's FeatureHasher column for every fixture string and width", () => {
    const widths = Object.keys(fixture.hashed).map(Number)
    expect(widths).toEqual(expect.arrayContaining([16, 2 ** 18, 2 ** 20]))
    for (const n of widths) {
      const expected = fixture.hashed[String(n)]!.index
      const got = fixture.strings.map((s) => hashStringIndex(s, n))
      expect(got, `nFeatures ${n}`).toEqual(expected)
    }
  })

  it('maps the int32-overflow hash -2^31 to 2^31 % nFeatures, as sklearn special-cases it', () => {
    expect(hashToIndex(-(2 ** 31), 1000)).toBe(648)
    expect(hashToIndex(-(2 ** 31), 16)).toBe(0)
    expect(hashToIndex(-(2 ** 31), 2 ** 31 - 1)).toBe(1)
    const preimage = fixture.strings.find((s) => hashString(s) === -(2 ** 31))
    expect(preimage).toBeDefined()
    expect(hashStringIndex(preimage!, 1000)).toBe(648)
    expect(hashToIndex(-5, 3)).toBe(2)
    expect(hashToIndex(2 ** 31 - 1, 2 ** 31 - 1)).toBe(0)
  })
})

describe('hashDictionary', () => {
  it('writes only [start, end) of the caller-owned outputs, with sign -1 only for negative hashes', () => {
    const dictionary = fixture.strings.slice(0, 200)
    const index = new Int32Array(202).fill(-7)
    const sign = new Float32Array(202).fill(9)
    hashDictionary(dictionary, 10, 200, 16, true, index, sign)
    expect(index[9]).toBe(-7)
    expect(sign[9]).toBe(9)
    expect(index[200]).toBe(-7)
    const expected = fixture.hashed['16']!
    expect(Array.from(index.subarray(10, 200))).toEqual(expected.index.slice(10, 200))
    expect(Array.from(sign.subarray(10, 200))).toEqual(expected.sign.slice(10, 200))
    hashDictionary(dictionary, 0, 200, 16, false, index, sign)
    expect(Array.from(sign.subarray(0, 200)).every((v) => v === 1)).toBe(true)
  })
})
