/**
 * Encoders for the ONNX messages an exported model needs — ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto, OperatorSetIdProto, StringStringEntryProto — written from the field numbers of the
 * public `onnx.proto` (proto2; IR version 8). Plain data in, bytes out: the graph is described by the interfaces here
 * and {@link encodeModel} serializes it. Repeated numbers are written packed, which every protobuf parser accepts.
 * @module
 */
import { littleEndian, ProtoWriter } from './protobuf.js'

/** Element types used by scaleml's exports (`TensorProto.DataType` numbers). */
export const ONNX_TYPES = {
  float: 1,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  double: 11,
} as const

/** An element type name. */
export type OnnxType = keyof typeof ONNX_TYPES

/** A constant tensor (an initializer or a tensor attribute). */
export type OnnxTensor =
  | { readonly name?: string; readonly type: 'float'; readonly dims: readonly number[]; readonly data: Float32Array }
  | { readonly name?: string; readonly type: 'double'; readonly dims: readonly number[]; readonly data: Float64Array }
  | { readonly name?: string; readonly type: 'int64'; readonly dims: readonly number[]; readonly data: BigInt64Array }
  | { readonly name?: string; readonly type: 'int32'; readonly dims: readonly number[]; readonly data: Int32Array }
  | { readonly name?: string; readonly type: 'bool'; readonly dims: readonly number[]; readonly data: Uint8Array }
  | {
      readonly name?: string
      readonly type: 'string'
      readonly dims: readonly number[]
      readonly data: readonly string[]
    }

/** A node attribute, tagged with its ONNX attribute type. */
export type OnnxAttribute =
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'int'; readonly value: number | bigint }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'tensor'; readonly value: OnnxTensor }
  | { readonly type: 'floats'; readonly value: ArrayLike<number> }
  | { readonly type: 'ints'; readonly value: ArrayLike<number | bigint> }
  | { readonly type: 'strings'; readonly value: readonly string[] }

/** Attribute constructors, so graph-building code reads `attr.ints([0, 1])`. */
export const attr = {
  float: (value: number): OnnxAttribute => ({ type: 'float', value }),
  int: (value: number | bigint): OnnxAttribute => ({ type: 'int', value }),
  string: (value: string): OnnxAttribute => ({ type: 'string', value }),
  tensor: (value: OnnxTensor): OnnxAttribute => ({ type: 'tensor', value }),
  floats: (value: ArrayLike<number>): OnnxAttribute => ({ type: 'floats', value }),
  ints: (value: ArrayLike<number | bigint>): OnnxAttribute => ({ type: 'ints', value }),
  strings: (value: readonly string[]): OnnxAttribute => ({ type: 'strings', value }),
} as const

/** One operator application. */
export interface OnnxNode {
  readonly opType: string
  /** '' (or undefined) for the default `ai.onnx` domain; `ai.onnx.ml` for the ML operators. */
  readonly domain?: string
  readonly name?: string
  readonly inputs: readonly string[]
  readonly outputs: readonly string[]
  readonly attributes?: Readonly<Record<string, OnnxAttribute>>
  readonly docString?: string
}

/** A graph input or output: a tensor's name, element type and shape (a string names a symbolic dimension). */
export interface OnnxValueInfo {
  readonly name: string
  readonly type: OnnxType
  readonly shape: readonly (number | string)[]
  readonly docString?: string
}

/** A computation graph. Nodes must be listed in topological order. */
export interface OnnxGraph {
  readonly name: string
  readonly nodes: readonly OnnxNode[]
  readonly initializers: readonly OnnxTensor[]
  readonly inputs: readonly OnnxValueInfo[]
  readonly outputs: readonly OnnxValueInfo[]
  /** Types of intermediate values (for checkers whose shape inference does not cover every ONNX-ML operator). */
  readonly valueInfo?: readonly OnnxValueInfo[]
  readonly docString?: string
}

/** An operator set the model uses (`''` is `ai.onnx`). */
export interface OnnxOpset {
  readonly domain: string
  readonly version: number
}

/** A whole model. */
export interface OnnxModelSpec {
  /** ONNX IR version; 8 goes with opset 17 (ONNX 1.12). */
  readonly irVersion: number
  readonly opsets: readonly OnnxOpset[]
  readonly producerName: string
  readonly producerVersion: string
  readonly graph: OnnxGraph
  readonly docString?: string
  /** Free-form key/value pairs (`metadata_props`), e.g. the scaleml model name and version. */
  readonly metadata?: Readonly<Record<string, string>>
}

// Field numbers from onnx.proto.
const MODEL = {
  irVersion: 1,
  producerName: 2,
  producerVersion: 3,
  docString: 6,
  graph: 7,
  opsetImport: 8,
  metadata: 14,
}
const OPSET = { domain: 1, version: 2 }
const ENTRY = { key: 1, value: 2 }
const GRAPH = { node: 1, name: 2, initializer: 5, docString: 10, input: 11, output: 12, valueInfo: 13 }
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, docString: 6, domain: 7 }
const ATTRIBUTE = { name: 1, f: 2, i: 3, s: 4, t: 5, floats: 7, ints: 8, strings: 9, type: 20 }
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7, strings: 8 } as const
const TENSOR = { dims: 1, dataType: 2, stringData: 6, name: 8, rawData: 9 }
const VALUE_INFO = { name: 1, type: 2, docString: 3 }
const TYPE_PROTO = { tensorType: 1 }
const TENSOR_TYPE = { elemType: 1, shape: 2 }
const SHAPE = { dim: 1 }
const DIMENSION = { dimValue: 1, dimParam: 2 }

const TEXT = new TextEncoder()

/**
 * Serializes a model to the bytes of an `.onnx` file.
 *
 * @example
 * const bytes = encodeModel({ irVersion: 8, opsets: [{ domain: '', version: 17 }], producerName: 'scaleml',
 *   producerVersion: '0.1.0', graph })
 */
export function encodeModel(model: OnnxModelSpec): Uint8Array {
  const w = new ProtoWriter()
  w.int64(MODEL.irVersion, model.irVersion)
  w.string(MODEL.producerName, model.producerName)
  w.string(MODEL.producerVersion, model.producerVersion)
  if (model.docString !== undefined) w.string(MODEL.docString, model.docString)
  w.message(MODEL.graph, (g) => writeGraph(g, model.graph))
  for (const opset of model.opsets) {
    w.message(MODEL.opsetImport, (o) => {
      o.string(OPSET.domain, opset.domain)
      o.int64(OPSET.version, opset.version)
    })
  }
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    w.message(MODEL.metadata, (e) => {
      e.string(ENTRY.key, key)
      e.string(ENTRY.value, value)
    })
  }
  return w.finish()
}

function writeGraph(w: ProtoWriter, graph: OnnxGraph): void {
  for (const node of graph.nodes) w.message(GRAPH.node, (n) => writeNode(n, node))
  w.string(GRAPH.name, graph.name)
  for (const tensor of graph.initializers) w.bytes(GRAPH.initializer, encodeTensor(tensor))
  if (graph.docString !== undefined) w.string(GRAPH.docString, graph.docString)
  for (const input of graph.inputs) w.message(GRAPH.input, (v) => writeValueInfo(v, input))
  for (const output of graph.outputs) w.message(GRAPH.output, (v) => writeValueInfo(v, output))
  for (const info of graph.valueInfo ?? []) w.message(GRAPH.valueInfo, (v) => writeValueInfo(v, info))
}

function writeNode(w: ProtoWriter, node: OnnxNode): void {
  for (const input of node.inputs) w.string(NODE.input, input)
  for (const output of node.outputs) w.string(NODE.output, output)
  if (node.name !== undefined) w.string(NODE.name, node.name)
  w.string(NODE.opType, node.opType)
  for (const [name, attribute] of Object.entries(node.attributes ?? {})) {
    w.message(NODE.attribute, (a) => writeAttribute(a, name, attribute))
  }
  if (node.docString !== undefined) w.string(NODE.docString, node.docString)
  if (node.domain !== undefined && node.domain !== '') w.string(NODE.domain, node.domain)
}

function writeAttribute(w: ProtoWriter, name: string, attribute: OnnxAttribute): void {
  w.string(ATTRIBUTE.name, name)
  switch (attribute.type) {
    case 'float':
      w.float(ATTRIBUTE.f, attribute.value)
      break
    case 'int':
      w.int64(ATTRIBUTE.i, attribute.value)
      break
    case 'string':
      w.string(ATTRIBUTE.s, attribute.value)
      break
    case 'tensor':
      w.bytes(ATTRIBUTE.t, encodeTensor(attribute.value))
      break
    case 'floats':
      w.packedFloats(ATTRIBUTE.floats, attribute.value)
      break
    case 'ints':
      w.packedVarints(ATTRIBUTE.ints, attribute.value)
      break
    case 'strings':
      for (const s of attribute.value) w.string(ATTRIBUTE.strings, s)
      break
  }
  w.int64(ATTRIBUTE.type, ATTRIBUTE_TYPE[attribute.type])
}

/** Serializes one `TensorProto`: numbers as `raw_data` (little-endian), strings as `string_data`. */
export function encodeTensor(tensor: OnnxTensor): Uint8Array {
  const expected = tensor.dims.reduce((a, b) => a * b, 1)
  if (tensor.data.length !== expected) {
    throw new RangeError(
      `ONNX tensor ${tensor.name ?? '(unnamed)'}: ${tensor.data.length} values for dims [${tensor.dims.join(', ')}].`,
    )
  }
  const w = new ProtoWriter()
  w.packedVarints(TENSOR.dims, tensor.dims)
  w.int64(TENSOR.dataType, ONNX_TYPES[tensor.type])
  if (tensor.type === 'string') {
    for (const s of tensor.data) w.bytes(TENSOR.stringData, TEXT.encode(s))
  }
  if (tensor.name !== undefined) w.string(TENSOR.name, tensor.name)
  if (tensor.type === 'bool') w.bytes(TENSOR.rawData, tensor.data)
  else if (tensor.type !== 'string') w.bytes(TENSOR.rawData, littleEndian(tensor.data))
  return w.finish()
}

function writeValueInfo(w: ProtoWriter, info: OnnxValueInfo): void {
  w.string(VALUE_INFO.name, info.name)
  w.message(VALUE_INFO.type, (t) =>
    t.message(TYPE_PROTO.tensorType, (tt) => {
      tt.int64(TENSOR_TYPE.elemType, ONNX_TYPES[info.type])
      tt.message(TENSOR_TYPE.shape, (s) => {
        for (const dim of info.shape) {
          s.message(SHAPE.dim, (d) => {
            if (typeof dim === 'number') d.int64(DIMENSION.dimValue, dim)
            else d.string(DIMENSION.dimParam, dim)
          })
        }
      })
    }),
  )
  if (info.docString !== undefined) w.string(VALUE_INFO.docString, info.docString)
}
