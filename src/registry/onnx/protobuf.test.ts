import { describe, expect, it } from 'vitest'
import { Random } from '../../core/random.js'
import { attr, encodeModel, encodeTensor } from './onnx-proto.js'
import { ProtoWriter } from './protobuf.js'

const bytes = (build: (w: ProtoWriter) => void): number[] => {
  const w = new ProtoWriter()
  build(w)
  return Array.from(w.finish())
}

describe('ProtoWriter (protobuf wire format)', () => {
  it.each([
    [0, [0x00]],
    [1, [0x01]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [2 ** 31, [0x80, 0x80, 0x80, 0x80, 0x08]],
    [2 ** 32, [0x80, 0x80, 0x80, 0x80, 0x10]],
    [2 ** 53 - 1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]],
    [-1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    [-(2n ** 63n), [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
  ] as const)('writes the varint %s as %j', (value, expected) => {
    expect(bytes((w) => w.varint(value))).toEqual(expected)
  })

  it('writes any safe integer the same way on the number and the bigint paths', () => {
    const rng = new Random(7)
    for (let i = 0; i < 2000; i++) {
      const n = Math.floor(rng.next() * 2 ** (1 + rng.nextInt(53)))
      expect(bytes((w) => w.varint(n))).toEqual(bytes((w) => w.varint(BigInt(n))))
    }
  })

  it('writes keys, fixed32/fixed64, strings, packed runs and nested messages', () => {
    expect(bytes((w) => w.int64(1, 8))).toEqual([0x08, 0x08])
    expect(bytes((w) => w.float(2, 1.5))).toEqual([0x15, 0x00, 0x00, 0xc0, 0x3f])
    expect(bytes((w) => w.double(3, -2))).toEqual([0x19, 0, 0, 0, 0, 0, 0, 0, 0xc0])
    expect(bytes((w) => w.string(3, 'hé'))).toEqual([0x1a, 0x03, 0x68, 0xc3, 0xa9])
    expect(bytes((w) => w.packedVarints(4, [1, 300]))).toEqual([0x22, 0x03, 0x01, 0xac, 0x02])
    expect(bytes((w) => w.packedVarints(4, []))).toEqual([])
    expect(bytes((w) => w.packedFloats(5, [1]))).toEqual([0x2a, 0x04, 0x00, 0x00, 0x80, 0x3f])
    expect(bytes((w) => w.message(6, (m) => m.int64(1, 150)))).toEqual([0x32, 0x03, 0x08, 0x96, 0x01])
  })

  it('grows past its first buffer', () => {
    const w = new ProtoWriter()
    const big = new Uint8Array(100_000).fill(7)
    w.bytes(1, big)
    const out = w.finish()
    expect(out.length).toBe(1 + 3 + 100_000)
    expect(Array.from(out.subarray(0, 4))).toEqual([0x0a, 0xa0, 0x8d, 0x06])
    expect(out[out.length - 1]).toBe(7)
  })
})

describe('ONNX message encoders', () => {
  it('encodes a TensorProto: packed dims, data type, name, little-endian raw data', () => {
    const tensor = encodeTensor({ name: 'w', type: 'float', dims: [2], data: Float32Array.of(1, -2) })
    expect(Array.from(tensor)).toEqual([
      0x0a,
      0x01,
      0x02, // dims [2], packed
      0x10,
      0x01, // data_type FLOAT
      0x42,
      0x01,
      0x77, // name "w" (field 8)
      0x4a,
      0x08,
      0x00,
      0x00,
      0x80,
      0x3f,
      0x00,
      0x00,
      0x00,
      0xc0, // raw_data (field 9)
    ])
    const strings = encodeTensor({ type: 'string', dims: [1, 1], data: ['a'] })
    expect(Array.from(strings)).toEqual([0x0a, 0x02, 0x01, 0x01, 0x10, 0x08, 0x32, 0x01, 0x61])
  })

  it('refuses a tensor whose data does not fill its dims', () => {
    expect(() => encodeTensor({ type: 'int64', dims: [2, 2], data: BigInt64Array.of(1n) })).toThrow(/1 values for dims/)
  })

  it('encodes a ModelProto with its header fields first: ir_version, producer, graph, opsets, metadata', () => {
    const model = encodeModel({
      irVersion: 8,
      opsets: [{ domain: 'ai.onnx.ml', version: 3 }],
      producerName: 's',
      producerVersion: '1',
      graph: {
        name: 'g',
        nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'], attributes: { k: attr.int(-1) } }],
        initializers: [],
        inputs: [],
        outputs: [],
      },
      metadata: { a: 'b' },
    })
    const node = [0x0a, 0x01, 0x78, 0x12, 0x01, 0x79, 0x22, 0x08, ...Buffer.from('Identity')]
    const attribute = [0x0a, 0x01, 0x6b, 0x18, ...Array(9).fill(0xff), 0x01, 0xa0, 0x01, 0x02]
    const nodeBody = [...node, 0x2a, attribute.length, ...attribute]
    const graph = [0x0a, nodeBody.length, ...nodeBody, 0x12, 0x01, 0x67]
    const opset = [0x0a, 0x0a, ...Buffer.from('ai.onnx.ml'), 0x10, 0x03]
    expect(Array.from(model)).toEqual([
      0x08,
      0x08, // ir_version 8
      0x12,
      0x01,
      0x73, // producer_name
      0x1a,
      0x01,
      0x31, // producer_version
      0x3a,
      graph.length,
      ...graph, // graph (field 7)
      0x42,
      opset.length,
      ...opset, // opset_import (field 8)
      0x72,
      0x06,
      0x0a,
      0x01,
      0x61,
      0x12,
      0x01,
      0x62, // metadata_props (field 14)
    ])
  })
})
