/**
 * Builds an ONNX graph node by node: unique value names, constants as initializers, nodes in the order they are
 * added (which is topological, since a node can only name values that exist). What the exporters write into;
 * `encodeModel` serializes the result.
 * @module
 */
import type { OnnxAttribute, OnnxGraph, OnnxNode, OnnxTensor, OnnxValueInfo } from './onnx-proto.js'

/** The ONNX-ML operator domain. */
export const ML_DOMAIN = 'ai.onnx.ml'

/**
 * A graph under construction.
 *
 * @example
 * const g = new GraphBuilder()
 * const x = g.input({ name: 'x', type: 'float', shape: ['N', 1] })
 * const y = g.op('Mul', [x, g.floats('two', [2])])
 * g.output({ name: 'y', type: 'float', shape: ['N', 1] }, y)
 */
export class GraphBuilder {
  readonly #nodes: OnnxNode[] = []
  readonly #initializers: OnnxTensor[] = []
  readonly #inputs: OnnxValueInfo[] = []
  readonly #outputs: OnnxValueInfo[] = []
  readonly #valueInfo: OnnxValueInfo[] = []
  readonly #used = new Set<string>()
  readonly #reserved = new Set<string>()
  readonly #counters = new Map<string, number>()
  /** Small constants by type and value, so `floats('one', [1])` twice names one initializer. */
  readonly #constants = new Map<string, string>()

  /** Keeps `names` (the graph outputs to come) out of {@link GraphBuilder.fresh}'s reach. */
  reserve(names: readonly string[]): void {
    for (const name of names) this.#reserved.add(name)
  }

  /** A name not used yet, derived from `hint` (characters outside `[A-Za-z0-9_.:-]` become `_`). */
  fresh(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_.:-]/g, '_') || 'v'
    let n = this.#counters.get(base) ?? 0
    let name = n === 0 ? base : `${base}_${n}`
    while (this.#used.has(name) || this.#reserved.has(name)) name = `${base}_${++n}`
    this.#counters.set(base, n + 1)
    this.#used.add(name)
    return name
  }

  /** Declares a graph input under its exact name (which must be free); returns the name. */
  input(info: OnnxValueInfo): string {
    if (this.#used.has(info.name)) throw new RangeError(`ONNX graph: the name '${info.name}' is taken.`)
    this.#used.add(info.name)
    this.#inputs.push(info)
    return info.name
  }

  /** A constant tensor (an initializer) named after `hint`; returns its name. */
  constant(hint: string, tensor: OnnxTensor): string {
    const name = this.fresh(hint)
    this.#initializers.push({ ...tensor, name })
    return name
  }

  /** A float32 constant of the given values and dims (default: a 1-D tensor); small ones are shared. */
  floats(hint: string, values: ArrayLike<number>, dims: readonly number[] = [values.length]): string {
    return this.#shared('float', hint, values, dims, () => ({ type: 'float', dims, data: Float32Array.from(values) }))
  }

  /** A float64 constant; small ones are shared. */
  doubles(hint: string, values: ArrayLike<number>, dims: readonly number[] = [values.length]): string {
    return this.#shared('double', hint, values, dims, () => ({ type: 'double', dims, data: Float64Array.from(values) }))
  }

  /** An int64 constant; small ones are shared. */
  int64s(hint: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.#shared('int64', hint, values, dims, () => ({
      type: 'int64',
      dims,
      data: BigInt64Array.from(values, (v) => BigInt(v)),
    }))
  }

  #shared(
    type: string,
    hint: string,
    values: ArrayLike<number>,
    dims: readonly number[],
    make: () => OnnxTensor,
  ): string {
    if (values.length > 16) return this.constant(hint, make())
    const text = Array.from(values, (v) => (Object.is(v, -0) ? '-0' : String(v))).join(',')
    const key = `${type}[${dims.join(',')}]${text}`
    let name = this.#constants.get(key)
    if (name === undefined) {
      name = this.constant(hint, make())
      this.#constants.set(key, name)
    }
    return name
  }

  /**
   * Adds a node with `outputs` fresh output names (default one) derived from `hint` (default the op type); returns
   * them.
   */
  node(
    opType: string,
    inputs: readonly string[],
    options: {
      readonly attributes?: Readonly<Record<string, OnnxAttribute>>
      readonly domain?: string
      readonly outputs?: number
      readonly hint?: string
    } = {},
  ): string[] {
    const hint = options.hint ?? opType
    const outputs = Array.from({ length: options.outputs ?? 1 }, () => this.fresh(hint))
    this.#nodes.push({
      opType,
      name: this.fresh(`${opType}_node`),
      inputs,
      outputs,
      ...(options.domain === undefined ? {} : { domain: options.domain }),
      ...(options.attributes === undefined ? {} : { attributes: options.attributes }),
    })
    return outputs
  }

  /** A one-output node; returns its output name. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes?: Readonly<Record<string, OnnxAttribute>>,
    options: { readonly domain?: string; readonly hint?: string } = {},
  ): string {
    return this.node(opType, inputs, { ...options, ...(attributes === undefined ? {} : { attributes }) })[0]!
  }

  /**
   * Records the type and shape of an intermediate value: the ONNX checker's shape inference does not know the
   * output types of some ONNX-ML operators (OneHotEncoder, LinearRegressor, …), and its strict mode then rejects the
   * operators that read them.
   */
  annotate(name: string, type: OnnxValueInfo['type'], shape: OnnxValueInfo['shape']): string {
    this.#valueInfo.push({ name, type, shape })
    return name
  }

  /** Declares `value` as the graph output `info.name`, through an Identity node so the output gets that name. */
  output(info: OnnxValueInfo, value: string): void {
    if (this.#used.has(info.name)) throw new RangeError(`ONNX graph: the output name '${info.name}' is taken.`)
    this.#used.add(info.name)
    this.#nodes.push({ opType: 'Identity', name: this.fresh('Identity_node'), inputs: [value], outputs: [info.name] })
    this.#outputs.push(info)
  }

  /** The graph as data. */
  build(name: string, docString?: string): OnnxGraph {
    return {
      name,
      nodes: [...this.#nodes],
      initializers: [...this.#initializers],
      inputs: [...this.#inputs],
      outputs: [...this.#outputs],
      valueInfo: [...this.#valueInfo],
      ...(docString === undefined ? {} : { docString }),
    }
  }
}
