/**
 * A minimal Protocol Buffers writer: just the wire format the ONNX encoders need (varints, 32- and 64-bit fixed
 * values, length-delimited bytes, packed repeated scalars). Messages are built inside out: a nested message is
 * encoded into its own writer and written as a length-delimited field of its parent, which costs one copy per level
 * (ONNX models are a few levels deep).
 * @module
 */

/** Protocol Buffers wire types. */
export const WIRE_VARINT = 0
export const WIRE_FIXED64 = 1
export const WIRE_LENGTH_DELIMITED = 2
export const WIRE_FIXED32 = 5

const TEXT = new TextEncoder()
const TWO_POW_32 = 2 ** 32

/**
 * Appends fields to a growing byte buffer.
 *
 * @example
 * const w = new ProtoWriter()
 * w.int64(1, 8)          // field 1 = 8 (varint)
 * w.string(2, 'scaleml') // field 2 = "scaleml"
 * const bytes = w.finish()
 */
export class ProtoWriter {
  #bytes = new Uint8Array(256)
  #length = 0
  readonly #scratch = new DataView(new ArrayBuffer(8))

  /** Bytes written so far. */
  get length(): number {
    return this.#length
  }

  /** A field key: `(field << 3) | wireType`. */
  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType)
  }

  /**
   * A raw varint of a non-negative safe integer, or of any int64 given as a bigint (negative values take ten bytes,
   * as two's complement on 64 bits, which is how protobuf writes a negative int32 or int64).
   */
  varint(value: number | bigint): this {
    if (typeof value === 'bigint' || value < 0 || !Number.isSafeInteger(value)) return this.#varint64(BigInt(value))
    this.#reserve(10)
    // Split into two 32-bit halves: `>>>` only works on 32 bits.
    let low = value % TWO_POW_32
    let high = (value - low) / TWO_POW_32
    while (high > 0 || low > 0x7f) {
      this.#bytes[this.#length++] = (low & 0x7f) | 0x80
      low = ((low >>> 7) | ((high & 0x7f) << 25)) >>> 0
      high >>>= 7
    }
    this.#bytes[this.#length++] = low
    return this
  }

  /** An `int32`/`int64`/`enum`/`bool` field (varint); negative values take ten bytes. */
  int64(field: number, value: number | bigint): this {
    return this.tag(field, WIRE_VARINT).varint(value)
  }

  /** A `float` field (fixed32, little-endian IEEE 754 single precision). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32)
    this.#scratch.setFloat32(0, value, true)
    return this.#raw(new Uint8Array(this.#scratch.buffer, 0, 4))
  }

  /** A `double` field (fixed64, little-endian). */
  double(field: number, value: number): this {
    this.tag(field, WIRE_FIXED64)
    this.#scratch.setFloat64(0, value, true)
    return this.#raw(new Uint8Array(this.#scratch.buffer, 0, 8))
  }

  /** A `bytes` field, or an already encoded nested message. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED).varint(value.length)
    return this.#raw(value)
  }

  /** A `string` field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, TEXT.encode(value))
  }

  /** A nested message field: `build` writes the message's fields into a fresh writer. */
  message(field: number, build: (writer: ProtoWriter) => void): this {
    const inner = new ProtoWriter()
    build(inner)
    return this.bytes(field, inner.finish())
  }

  /** A repeated varint field, packed (one length-delimited run); nothing for an empty list. */
  packedVarints(field: number, values: ArrayLike<number | bigint>): this {
    if (values.length === 0) return this
    const inner = new ProtoWriter()
    for (let i = 0; i < values.length; i++) inner.varint(values[i]!)
    return this.bytes(field, inner.finish())
  }

  /** A repeated `float` field, packed; values are rounded to float32. Nothing for an empty list. */
  packedFloats(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this
    const data = Float32Array.from(values)
    return this.bytes(field, littleEndian(data))
  }

  /** The bytes written (a copy sized to fit). */
  finish(): Uint8Array {
    return this.#bytes.slice(0, this.#length)
  }

  #raw(bytes: Uint8Array): this {
    this.#reserve(bytes.length)
    this.#bytes.set(bytes, this.#length)
    this.#length += bytes.length
    return this
  }

  #varint64(value: bigint): this {
    let v = BigInt.asUintN(64, value)
    this.#reserve(10)
    while (v > 0x7fn) {
      this.#bytes[this.#length++] = Number(v & 0x7fn) | 0x80
      v >>= 7n
    }
    this.#bytes[this.#length++] = Number(v)
    return this
  }

  #reserve(extra: number): void {
    const needed = this.#length + extra
    if (needed <= this.#bytes.length) return
    const next = new Uint8Array(Math.max(needed, this.#bytes.length * 2))
    next.set(this.#bytes.subarray(0, this.#length))
    this.#bytes = next
  }
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** The little-endian bytes of a typed array (a view when the host is little-endian, else a swapped copy). */
export function littleEndian(array: Float32Array | Float64Array | BigInt64Array | Int32Array): Uint8Array {
  const view = new Uint8Array(array.buffer, array.byteOffset, array.byteLength)
  if (HOST_IS_LITTLE_ENDIAN) return view
  const width = array.BYTES_PER_ELEMENT
  const out = view.slice()
  for (let i = 0; i < out.length; i += width) out.subarray(i, i + width).reverse()
  return out
}
