import { describe, expect, it } from 'vitest'
import { type AnyTypedArray, decodePayload, type EncodedFile, encodePayload, isSafeFileName } from './codec.js'
import { isScalemlError, type ScalemlError } from './errors.js'

function roundTrip(
  value: unknown,
  prefix = 'model',
): { decoded: unknown; files: readonly EncodedFile[]; json: unknown } {
  const { json, files } = encodePayload(value, { prefix })
  // Through JSON text, as an artifact stores it; file bytes copied so the decoder cannot alias the source arrays.
  const text = JSON.stringify(json)
  const byName = new Map(files.map((f) => [f.name, f.bytes.slice()]))
  return { decoded: decodePayload(JSON.parse(text), (name) => byName.get(name)), files, json: JSON.parse(text) }
}

function bytesOf(array: AnyTypedArray): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength)
}

function catchError(fn: () => unknown): ScalemlError {
  try {
    fn()
  } catch (error) {
    if (isScalemlError(error)) return error
    throw error
  }
  throw new Error('expected a ScalemlError')
}

describe('encodePayload / decodePayload', () => {
  it('restores every typed array kind bit-identically, including NaN payloads and -0', () => {
    const f64 = new Float64Array([1.5, -0, Number.POSITIVE_INFINITY, Number.MIN_VALUE, 0.1 + 0.2])
    // A NaN with a non-canonical payload: JSON would lose it, raw bytes must not.
    new DataView(f64.buffer).setUint32(0, 0x7ff80000 | 0x1234, true)
    new DataView(f64.buffer).setUint32(4, 0x7ff80000 | 0x1234, true)
    const value = {
      f64,
      f32: new Float32Array([Math.fround(0.1), -3.5e38, Number.NaN]),
      i32: new Int32Array([-2147483648, 2147483647, 0]),
      u32: new Uint32Array([4294967295, 1]),
      i16: new Int16Array([-32768, 32767]),
      u16: new Uint16Array([65535]),
      i8: new Int8Array([-128, 127]),
      u8: new Uint8Array([0, 255]),
      u8c: new Uint8ClampedArray([12, 250]),
      i64: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]),
      u64: new BigUint64Array([2n ** 64n - 1n]),
      empty: new Float64Array(0),
    }
    const { decoded, files } = roundTrip(value)
    const out = decoded as Record<string, AnyTypedArray>
    expect(files).toHaveLength(12)
    for (const [key, original] of Object.entries(value)) {
      const restored = out[key]!
      expect(restored.constructor, key).toBe(original.constructor)
      expect(restored.length, key).toBe(original.length)
      expect(Buffer.from(bytesOf(restored)).equals(Buffer.from(bytesOf(original))), key).toBe(true)
    }
  })

  it('writes little-endian bytes of only the viewed part of a subarray', () => {
    const whole = new Float64Array([9, 1, 2, 9])
    const { json, files, decoded } = roundTrip({ coef: whole.subarray(1, 3) })
    expect(json).toEqual({ coef: { $array: 'model.coef.f64', dtype: 'float64', length: 2 } })
    expect(files[0]!.bytes.byteLength).toBe(16)
    expect(new DataView(files[0]!.bytes.buffer, files[0]!.bytes.byteOffset).getFloat64(0, true)).toBe(1)
    expect(Array.from((decoded as { coef: Float64Array }).coef)).toEqual([1, 2])
  })

  it('names files after their path, the same way every time', () => {
    const make = () => ({
      kind: 'sgd',
      state: { coef: new Float64Array([1]), layers: [{ w: new Float32Array([2]) }, { w: new Float32Array([3]) }] },
    })
    const a = encodePayload(make(), { prefix: 'model' })
    const b = encodePayload(make(), { prefix: 'model' })
    expect(a.files.map((f) => f.name)).toEqual([
      'model.state.coef.f64',
      'model.state.layers.0.w.f32',
      'model.state.layers.1.w.f32',
    ])
    expect(b.json).toEqual(a.json)
    expect(b.files.map((f) => [f.name, Array.from(f.bytes)])).toEqual(a.files.map((f) => [f.name, Array.from(f.bytes)]))
  })

  it('keeps file names safe and distinct when keys hold separators or differ only by case', () => {
    const value = {
      'origin=JFK/../x': new Float64Array([1]),
      'origin=JFK_.._x': new Float64Array([2]),
      Coef: new Int32Array([3]),
      coef: new Int32Array([4]),
      ['x'.repeat(300)]: new Uint8Array([5]),
      '': new Uint8Array([6]),
    }
    const { files, decoded } = roundTrip(value)
    const names = files.map((f) => f.name)
    for (const name of names) expect(isSafeFileName(name), name).toBe(true)
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length)
    expect(names.every((n) => n.length < 160)).toBe(true)
    const out = decoded as Record<string, Float64Array>
    expect(Array.from(out['origin=JFK/../x']!)).toEqual([1])
    expect(Array.from(out['origin=JFK_.._x']!)).toEqual([2])
    expect(Array.from(out['Coef']!)).toEqual([3])
    expect(Array.from(out['coef']!)).toEqual([4])
    expect(Array.from(out['x'.repeat(300)]!)).toEqual([5])
    expect(Array.from(out['']!)).toEqual([6])
  })

  it('avoids names another payload of the same artifact already took', () => {
    const taken = new Set<string>()
    const a = encodePayload({ w: new Float64Array(1) }, { prefix: 'model', taken })
    const b = encodePayload({ w: new Float64Array(1) }, { prefix: 'model', taken })
    expect(a.files[0]!.name).toBe('model.w.f64')
    expect(b.files[0]!.name).toBe('model.w-2.f64')
  })

  it('keeps non-finite numbers, user keys starting with $, and __proto__ keys as data', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>
    value['nan'] = Number.NaN
    value['inf'] = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]
    value['fake'] = { $array: '../../etc/passwd', dtype: 'float64', length: 1, real: new Float64Array([7]) }
    value['num'] = { $number: 'NaN' }
    const { decoded } = roundTrip(value)
    const out = decoded as Record<string, unknown>
    expect(Number.isNaN(out['nan'])).toBe(true)
    expect(out['inf']).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
    const fake = out['fake'] as Record<string, unknown>
    expect(fake['$array']).toBe('../../etc/passwd')
    expect(Array.from(fake['real'] as Float64Array)).toEqual([7])
    expect(out['num']).toEqual({ $number: 'NaN' })
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(Object.hasOwn(out, '__proto__')).toBe(true)
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })

  it('serializes objects through toJSON and drops undefined properties', () => {
    class Scaler {
      readonly #mean = new Float64Array([1, 2])
      toJSON() {
        return { kind: 'scaler', mean: this.#mean, at: new Date(Date.UTC(2001, 0, 1)) }
      }
    }
    const { decoded } = roundTrip({ step: new Scaler(), skip: undefined })
    expect(Object.keys(decoded as object)).toEqual(['step'])
    const step = (decoded as { step: { kind: string; mean: Float64Array; at: string } }).step
    expect(step.kind).toBe('scaler')
    expect(Array.from(step.mean)).toEqual([1, 2])
    expect(step.at).toBe('2001-01-01T00:00:00.000Z')
  })

  it.each([
    ['a function', { fn: () => 1 }, 'fn'],
    ['a bigint', { state: { n: 1n } }, 'state.n'],
    ['a Map', { m: new Map() }, 'm'],
    ['a class instance without toJSON', { model: new (class Weights {})() }, 'model'],
    ['a DataView', { v: new DataView(new ArrayBuffer(8)) }, 'v'],
    ['undefined in an array', { xs: [1, undefined] }, 'xs[1]'],
  ])('refuses %s with INVALID_ARGUMENT naming the path', (_label, value, where) => {
    const error = catchError(() => encodePayload(value))
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toContain(`at ${where}:`)
  })

  it('refuses cycles', () => {
    const a: Record<string, unknown> = { x: 1 }
    a['self'] = { back: a }
    const error = catchError(() => encodePayload(a))
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toContain('self.back')
  })

  it('encodes a shared (non-cyclic) array twice rather than refusing it', () => {
    const shared = new Float64Array([1])
    const { files } = roundTrip({ a: shared, b: shared })
    expect(files.map((f) => f.name)).toEqual(['model.a.f64', 'model.b.f64'])
  })

  it('refuses references to missing files, wrong sizes, unknown dtypes and unsafe names with ARTIFACT_INVALID', () => {
    const file = new Uint8Array(16)
    const read = (name: string) => (name === 'model.w.f64' ? file : undefined)
    const cases: [unknown, string][] = [
      [{ w: { $array: 'model.x.f64', dtype: 'float64', length: 2 } }, "'model.x.f64'"],
      [{ w: { $array: 'model.w.f64', dtype: 'float64', length: 3 } }, '16 bytes'],
      [{ w: { $array: 'model.w.f64', dtype: 'float128', length: 2 } }, 'float128'],
      [{ w: { $array: '../model.w.f64', dtype: 'float64', length: 2 } }, '../model.w.f64'],
      [{ w: { $array: 'model.w.f64', dtype: 'float64', length: -1 } }, 'length'],
      [{ w: { $number: 'nan' } }, '$number'],
    ]
    for (const [json, mention] of cases) {
      const error = catchError(() => decodePayload(json, read))
      expect(error.code).toBe('ARTIFACT_INVALID')
      expect(error.message).toContain('at w:')
      expect(error.message).toContain(mention)
    }
  })

  it('returns arrays that do not alias the bytes they were read from', () => {
    const bytes = new Uint8Array(new Float64Array([3]).buffer)
    const out = decodePayload({ $array: 'a.f64', dtype: 'float64', length: 1 }, () => bytes) as Float64Array
    bytes.fill(0)
    expect(out[0]).toBe(3)
  })
})
