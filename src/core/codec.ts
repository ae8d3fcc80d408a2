/**
 * Turns a JSON-like payload holding typed arrays (a pipeline's or a model's `toJSON()`) into plain JSON plus raw
 * little-endian binary files, and back. Typed arrays become `{ "$array": file, "dtype", "length" }` references, so a
 * 10 MB weight vector is stored as 10 MB of bytes, not 30 MB of decimal text, and restores bit-identically (NaN
 * payloads and -0 included). File names derive from the array's path in the payload, so re-encoding the same model
 * gives the same files. Decoding builds data only: it never evaluates anything found in the payload.
 * @module
 */
import { createHash } from 'node:crypto'
import { ScalemlError } from './errors.js'
import { toDotPath } from './issues.js'

/** A value that survives `JSON.stringify` → `JSON.parse` unchanged. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue }

/** Element types of typed arrays that can be externalized. */
export type Dtype =
  | 'float64'
  | 'float32'
  | 'int32'
  | 'uint32'
  | 'int16'
  | 'uint16'
  | 'int8'
  | 'uint8'
  | 'uint8clamped'
  | 'int64'
  | 'uint64'

/** Any typed array the codec stores. */
export type AnyTypedArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | BigInt64Array
  | BigUint64Array

/** One binary file produced by {@link encodePayload}: the array's bytes, little-endian. */
export interface EncodedFile {
  readonly name: string
  /** The array's bytes; a view on the caller's buffer when the host is little-endian (no copy). */
  readonly bytes: Uint8Array
}

/** The result of {@link encodePayload}. */
export interface EncodedPayload {
  readonly json: JsonValue
  readonly files: readonly EncodedFile[]
}

/** Options of {@link encodePayload}. */
export interface EncodeOptions {
  /** First segment of every file name, e.g. `model` → `model.state.coef.f64`. Default `payload`. */
  readonly prefix?: string
  /**
   * Lower-cased names already used by another payload of the same artifact; new names are added to it.
   * Lets two payloads share one folder without collisions.
   */
  readonly taken?: Set<string>
}

/** Reads one externalized file by name; `undefined` when there is no such file. */
export type FileReader = (name: string) => Uint8Array | undefined

interface DtypeInfo {
  readonly extension: string
  readonly bytesPerElement: number
  readonly create: (length: number) => AnyTypedArray
}

const DTYPES: Readonly<Record<Dtype, DtypeInfo>> = {
  float64: { extension: 'f64', bytesPerElement: 8, create: (n) => new Float64Array(n) },
  float32: { extension: 'f32', bytesPerElement: 4, create: (n) => new Float32Array(n) },
  int32: { extension: 'i32', bytesPerElement: 4, create: (n) => new Int32Array(n) },
  uint32: { extension: 'u32', bytesPerElement: 4, create: (n) => new Uint32Array(n) },
  int16: { extension: 'i16', bytesPerElement: 2, create: (n) => new Int16Array(n) },
  uint16: { extension: 'u16', bytesPerElement: 2, create: (n) => new Uint16Array(n) },
  int8: { extension: 'i8', bytesPerElement: 1, create: (n) => new Int8Array(n) },
  uint8: { extension: 'u8', bytesPerElement: 1, create: (n) => new Uint8Array(n) },
  uint8clamped: { extension: 'u8c', bytesPerElement: 1, create: (n) => new Uint8ClampedArray(n) },
  int64: { extension: 'i64', bytesPerElement: 8, create: (n) => new BigInt64Array(n) },
  uint64: { extension: 'u64', bytesPerElement: 8, create: (n) => new BigUint64Array(n) },
}

/** Keys that mark an encoded (not user) object; user objects with a `$` key are wrapped in `$literal`. */
const ARRAY_KEY = '$array'
const NUMBER_KEY = '$number'
const LITERAL_KEY = '$literal'

/** File names stay well under the 255-byte limit of common file systems, leaving room for a suffix. */
const MAX_BASE_LENGTH = 100

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** True for the name of a file {@link encodePayload} could have produced (no separators, no leading dot). */
export function isSafeFileName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9._~-]{0,199}$/.test(name) && !name.includes('..')
}

/** The dtype of a typed array, or `undefined` for anything else (DataView included). */
export function dtypeOf(value: unknown): Dtype | undefined {
  if (value instanceof Float64Array) return 'float64'
  if (value instanceof Float32Array) return 'float32'
  if (value instanceof Int32Array) return 'int32'
  if (value instanceof Uint32Array) return 'uint32'
  if (value instanceof Int16Array) return 'int16'
  if (value instanceof Uint16Array) return 'uint16'
  if (value instanceof Int8Array) return 'int8'
  if (value instanceof Uint8ClampedArray) return 'uint8clamped'
  if (value instanceof Uint8Array) return 'uint8'
  if (value instanceof BigInt64Array) return 'int64'
  if (value instanceof BigUint64Array) return 'uint64'
  return undefined
}

/**
 * Replaces every typed array in `value` by a file reference and collects the files. Objects with a `toJSON` method
 * are serialized through it (as `JSON.stringify` does); `undefined` properties are dropped; non-finite numbers become
 * `{ "$number": "NaN" | "Infinity" | "-Infinity" }`. Functions, symbols, bigints, Maps, Sets, class instances
 * without `toJSON`, cycles and `undefined` array items are refused with `INVALID_ARGUMENT` naming the path.
 *
 * @example
 * const { json, files } = encodePayload({ state: { coef: new Float64Array([1, 2]) } }, { prefix: 'model' })
 * // json: { state: { coef: { $array: 'model.state.coef.f64', dtype: 'float64', length: 2 } } }
 * // files: [{ name: 'model.state.coef.f64', bytes: <16 bytes> }]
 */
export function encodePayload(value: unknown, options: EncodeOptions = {}): EncodedPayload {
  const prefix = options.prefix ?? 'payload'
  const files: EncodedFile[] = []
  const taken = options.taken ?? new Set<string>()
  const stack = new Set<object>()

  const encode = (
    input: unknown,
    path: (string | number)[],
    key: string,
    viaToJSON: boolean,
  ): JsonValue | undefined => {
    if (input === null || typeof input === 'string' || typeof input === 'boolean') return input
    if (typeof input === 'number') {
      if (Number.isFinite(input)) return input
      return { [NUMBER_KEY]: String(input) }
    }
    if (input === undefined) return undefined
    if (typeof input !== 'object') {
      throw refuse(path, `a ${typeof input}`, 'JSON data (artifacts hold data, never code)')
    }
    const dtype = dtypeOf(input)
    if (dtype !== undefined) {
      const array = input as AnyTypedArray
      const name = claimFileName(prefix, path, DTYPES[dtype].extension, taken)
      files.push({ name, bytes: littleEndianBytes(array, DTYPES[dtype].bytesPerElement) })
      return { [ARRAY_KEY]: name, dtype, length: array.length }
    }
    if (!viaToJSON && typeof (input as { toJSON?: unknown }).toJSON === 'function') {
      return encode((input as { toJSON: (key: string) => unknown }).toJSON(key), path, key, true)
    }
    if (ArrayBuffer.isView(input) || input instanceof ArrayBuffer) {
      throw refuse(path, 'a DataView or ArrayBuffer', 'a typed array (its element type is the dtype)')
    }
    if (stack.has(input)) throw refuse(path, 'a cycle', 'a tree of values')
    stack.add(input)
    try {
      if (Array.isArray(input)) {
        return input.map((item, i) => {
          const encoded = encode(item, [...path, i], String(i), false)
          if (encoded === undefined) throw refuse([...path, i], 'undefined', 'a JSON value (use null)')
          return encoded
        })
      }
      const proto = Object.getPrototypeOf(input) as unknown
      if (proto !== Object.prototype && proto !== null) {
        const kind = (input as { constructor?: { name?: string } }).constructor?.name ?? 'object'
        throw refuse(path, `an instance of ${kind} without toJSON()`, 'a plain object, an array or a typed array')
      }
      const entries: [string, JsonValue][] = []
      let needsEscape = false
      for (const [k, v] of Object.entries(input)) {
        const encoded = encode(v, [...path, k], k, false)
        if (encoded === undefined) continue
        if (k.startsWith('$')) needsEscape = true
        entries.push([k, encoded])
      }
      const object = Object.fromEntries(entries) as { [key: string]: JsonValue }
      return needsEscape ? { [LITERAL_KEY]: object } : object
    } finally {
      stack.delete(input)
    }
  }

  const json = encode(value, [], '', false)
  if (json === undefined) throw refuse([], 'undefined', 'a JSON value')
  return { json, files }
}

/**
 * Restores the typed arrays (and non-finite numbers) of an encoded payload. Each array is a fresh copy, aligned and
 * independent of the bytes `readFile` returned. A reference to a missing file, an unknown dtype or a byte length
 * that does not match `length` throws `ARTIFACT_INVALID` naming the path and the file.
 *
 * @example
 * const value = decodePayload(json, (name) => filesByName.get(name))
 */
export function decodePayload(json: unknown, readFile: FileReader): unknown {
  const decode = (input: unknown, path: (string | number)[]): unknown => {
    if (input === null || typeof input !== 'object') return input
    if (Array.isArray(input)) return input.map((item, i) => decode(item, [...path, i]))
    const object = input as Record<string, unknown>
    if (Object.hasOwn(object, ARRAY_KEY)) return decodeArray(object, path, readFile)
    if (Object.hasOwn(object, NUMBER_KEY)) return decodeNumber(object, path)
    if (Object.hasOwn(object, LITERAL_KEY)) {
      const inner = object[LITERAL_KEY]
      if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) {
        throw invalid(path, `"${LITERAL_KEY}" must hold an object`)
      }
      return decodeEntries(inner as Record<string, unknown>, path, decode)
    }
    return decodeEntries(object, path, decode)
  }
  return decode(json, [])
}

function decodeEntries(
  object: Record<string, unknown>,
  path: (string | number)[],
  decode: (input: unknown, path: (string | number)[]) => unknown,
): Record<string, unknown> {
  // fromEntries defines own properties, so a "__proto__" key stays data instead of replacing the prototype.
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, decode(v, [...path, k])]))
}

function decodeArray(object: Record<string, unknown>, path: (string | number)[], readFile: FileReader): AnyTypedArray {
  const name = object[ARRAY_KEY]
  const dtype = object['dtype']
  const length = object['length']
  if (typeof name !== 'string' || !isSafeFileName(name)) {
    throw invalid(path, `"${ARRAY_KEY}" must be a plain file name; got ${JSON.stringify(name)}`)
  }
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPES, dtype)) {
    throw invalid(path, `unknown dtype ${JSON.stringify(dtype)} for file '${name}'`)
  }
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
    throw invalid(path, `"length" must be a whole number ≥ 0 for file '${name}'; got ${JSON.stringify(length)}`)
  }
  const info = DTYPES[dtype as Dtype]
  const bytes = readFile(name)
  if (bytes === undefined) throw invalid(path, `the file '${name}' it references is not in the artifact`)
  if (bytes.byteLength !== length * info.bytesPerElement) {
    throw invalid(
      path,
      `the file '${name}' holds ${bytes.byteLength} bytes, but ${length} ${dtype} values need ${length * info.bytesPerElement}`,
    )
  }
  const out = info.create(length)
  const target = new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
  target.set(bytes)
  if (!HOST_IS_LITTLE_ENDIAN) swapBytes(target, info.bytesPerElement)
  return out
}

function decodeNumber(object: Record<string, unknown>, path: (string | number)[]): number {
  const text = object[NUMBER_KEY]
  if (text === 'NaN') return Number.NaN
  if (text === 'Infinity') return Number.POSITIVE_INFINITY
  if (text === '-Infinity') return Number.NEGATIVE_INFINITY
  throw invalid(path, `"${NUMBER_KEY}" must be "NaN", "Infinity" or "-Infinity"; got ${JSON.stringify(text)}`)
}

function littleEndianBytes(array: AnyTypedArray, bytesPerElement: number): Uint8Array {
  const view = new Uint8Array(array.buffer, array.byteOffset, array.byteLength)
  if (HOST_IS_LITTLE_ENDIAN) return view
  const copy = view.slice()
  swapBytes(copy, bytesPerElement)
  return copy
}

function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return
  for (let i = 0; i < bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a]!
      bytes[a] = bytes[b]!
      bytes[b] = t
    }
  }
}

/**
 * Builds `<prefix>.<path>.<ext>` from the array's path, keeping only characters every file system accepts. Names are
 * compared case-insensitively (macOS, Windows) and a collision gets `-2`, `-3`, … in walk order, which is stable for
 * a given payload; very long paths are cut and made unique with a hash of the full path.
 */
function claimFileName(
  prefix: string,
  path: readonly (string | number)[],
  extension: string,
  taken: Set<string>,
): string {
  const segments = [prefix, ...path].map((part) => String(part).replace(/[^A-Za-z0-9_-]/g, '_') || '_')
  let base = segments.join('.')
  if (base.length > MAX_BASE_LENGTH) {
    const digest = createHash('sha256')
      .update(JSON.stringify([prefix, ...path]))
      .digest('hex')
      .slice(0, 16)
    base = `${base.slice(0, MAX_BASE_LENGTH - 17)}-${digest}`
  }
  let name = `${base}.${extension}`
  for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${base}-${n}.${extension}`
  taken.add(name.toLowerCase())
  return name
}

function refuse(path: readonly (string | number)[], received: string, expected: string): ScalemlError {
  const where = path.length === 0 ? 'the payload root' : toDotPath(path)
  return new ScalemlError('INVALID_ARGUMENT', `Cannot store ${received} at ${where}: expected ${expected}.`, [
    { code: 'invalid_type', path, message: `Expected ${expected}.`, expected, received },
  ])
}

function invalid(path: readonly (string | number)[], problem: string): ScalemlError {
  const where = path.length === 0 ? 'the payload root' : toDotPath(path)
  return new ScalemlError('ARTIFACT_INVALID', `Invalid array reference at ${where}: ${problem}.`, [
    { code: 'invalid_value', path, message: problem },
  ])
}
