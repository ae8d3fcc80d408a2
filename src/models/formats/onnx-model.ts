/**
 * ONNX models trained elsewhere, served like native models: `OnnxClassifier` and `OnnxRegressor` keep the `.onnx`
 * bytes (stored in the registry as one artifact file, hashed like any other) and predict through onnxruntime-node,
 * which is loaded only when a model first runs.
 *
 * What imports: models whose inputs are float32 tensors with a free batch dimension — one `[N, F]` input (features
 * in column order; names from the caller, else `f0 … f{F−1}`), or one `[N, 1]` (or `[N]`) input per feature (named
 * after the inputs). Outputs must be tensors: a classifier needs a float `[N, K]` probabilities output (`[N]` or
 * `[N, 1]` is read as the probability of class 1 of two) and may have a numeric label output; a regressor has one
 * float output with one value per row. A ZipMap output (a sequence of maps, scikit-learn converters' default) is not a
 * tensor: convert with `zipmap=False`.
 *
 * onnxruntime's `run` is asynchronous, so these models predict with `runAsync`/`predictAsync`/`predictProbaAsync`;
 * the synchronous `predict`/`predictProba`/`decisionFunction` of the estimator contract throw `INVALID_ARGUMENT`
 * saying so (the serving path checks {@link isOnnxModel} first). They cannot learn: `partialFit` throws.
 * @module
 */
import { createHash } from 'node:crypto'
import type { InferenceSession, Tensor } from 'onnxruntime-node'
import { ScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'
import type { Classifier, EstimatorJSON, Regressor } from '../estimator.js'

/** Catalog kind of {@link OnnxClassifier}. */
export const ONNX_CLASSIFIER_KIND = 'onnx-classifier'
/** Catalog kind of {@link OnnxRegressor}. */
export const ONNX_REGRESSOR_KIND = 'onnx-regressor'

/** How an imported model reads its inputs and which outputs it answers with (plain JSON: the model's params). */
export interface OnnxModelParams {
  /** 'matrix': one float input `[N, F]`; 'columns': one float input per feature, `[N, 1]` or `[N]`. */
  readonly layout: 'matrix' | 'columns'
  /** The ONNX input names: one for 'matrix', one per feature (in feature order) for 'columns'. */
  readonly inputs: readonly string[]
  /** Rank of the inputs (2 for `[N, F]` and `[N, 1]`, 1 for `[N]`). */
  readonly inputRank: 1 | 2
  /** The feature names served records carry, in column order. */
  readonly features: readonly string[]
  /** The outputs read: `probabilities` (and optionally `label`) for a classifier, `value` for a regressor. */
  readonly outputs: { readonly label?: string; readonly probabilities?: string; readonly value?: string }
  /** 'binary-column' when the probabilities output holds only the probability of the second class. */
  readonly probabilityLayout?: 'matrix' | 'binary-column'
  /** Classes in the order of the probability columns (classifiers). */
  readonly classes?: readonly number[]
  /** sha256 (hex) of the ONNX bytes, checked again when the model is restored. */
  readonly sha256: string
}

/** Options of {@link importOnnxModel}; everything is inferred from the model when left out. */
export interface OnnxImportOptions {
  /** Default: classification when the model has an integer (label) output or `probabilitiesOutput` is given. */
  readonly task?: 'classification' | 'regression'
  /** Names of the features: required for an `[N, F]` input whose F is not fixed; default `f0 … f{F−1}` or the input names. */
  readonly featureNames?: readonly string[]
  /** The classes, in probability-column order (default `0 … K−1`). */
  readonly classes?: readonly number[]
  /** Output names, when the defaults (the integer output; a float output, preferring one named like "prob") do not fit. */
  readonly labelOutput?: string
  readonly probabilitiesOutput?: string
  readonly valueOutput?: string
  /** Names the model in messages (a file name). */
  readonly source?: string
}

/** What one run answers: per row, in row order. */
export interface OnnxPredictions {
  /** Classifiers: the model's label output, else the class of the largest probability. */
  readonly labels?: Float64Array
  /** Classifiers: `rows × classes`, row-major. */
  readonly probabilities?: Float64Array
  /** Regressors. */
  readonly values?: Float64Array
}

/** Serialized imported model: params plus the ONNX bytes (a binary file of the artifact). */
export type OnnxModelJSON = EstimatorJSON & {
  readonly kind: typeof ONNX_CLASSIFIER_KIND | typeof ONNX_REGRESSOR_KIND
  readonly params: OnnxModelParams
  readonly state: { readonly onnx: Uint8Array }
}

type Ort = typeof import('onnxruntime-node')

let ortModule: Promise<Ort> | undefined

/** onnxruntime-node, imported on first use (it loads a native library, which most commands never need). */
function onnxruntime(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node')
  return ortModule
}

/** Opens a session on `bytes`; a file onnxruntime cannot load is `INVALID_INPUT` naming `source`. */
async function openSession(bytes: Uint8Array, source: string): Promise<InferenceSession> {
  const ort = await onnxruntime()
  try {
    return await ort.InferenceSession.create(bytes)
  } catch (error) {
    throw new ScalemlError(
      'INVALID_INPUT',
      `${source} is not an ONNX model onnxruntime can load: ${(error as Error).message.split('\n')[0]}`,
      [{ code: 'invalid_value', path: ['model'], message: 'not a loadable ONNX model' }],
      { cause: error },
    )
  }
}

/** Shared by the classifier and the regressor: the bytes, the session, input feeding, serialization. */
abstract class OnnxModelBase {
  abstract readonly kind: typeof ONNX_CLASSIFIER_KIND | typeof ONNX_REGRESSOR_KIND
  readonly params: Readonly<OnnxModelParams>
  readonly #bytes: Uint8Array
  #session: Promise<InferenceSession> | undefined

  protected constructor(params: OnnxModelParams, bytes: Uint8Array, session?: InferenceSession) {
    this.params = params
    this.#bytes = bytes
    if (session !== undefined) this.#session = Promise.resolve(session)
  }

  /** Always true: an imported model is fitted. */
  get isFitted(): boolean {
    return true
  }

  get nFeaturesIn(): number {
    return this.params.features.length
  }

  /** The feature names (the columns a served record carries), in the order of the rows' columns. */
  get featureNames(): readonly string[] {
    return this.params.features
  }

  /** The `.onnx` bytes (a copy). */
  get onnxBytes(): Uint8Array {
    return this.#bytes.slice()
  }

  /** Creates the onnxruntime session now rather than on the first prediction (serving calls it when loading). */
  async ready(): Promise<void> {
    await this.#open()
  }

  /** Releases the onnxruntime session; a later prediction opens a new one. */
  async release(): Promise<void> {
    const session = this.#session
    this.#session = undefined
    if (session !== undefined) await (await session).release()
  }

  /** An imported model cannot learn: always `INVALID_ARGUMENT`. */
  partialFit(): void {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${this.kind}.partialFit: an imported ONNX model cannot be trained; train a scaleml model instead.`,
    )
  }

  /** Params and the ONNX bytes (stored by the registry as a binary file with its sha256). */
  toJSON(): OnnxModelJSON {
    return { kind: this.kind, params: { ...this.params }, state: { onnx: this.#bytes.slice() } }
  }

  /** Runs the model on `X` (`rows × nFeatures`, NaN for missing values) and reads its outputs. */
  abstract runAsync(X: DenseMatrix): Promise<OnnxPredictions>

  /** The synchronous methods of the estimator contract cannot run an ONNX model. */
  protected synchronous(method: string): ScalemlError {
    return new ScalemlError(
      'INVALID_ARGUMENT',
      `${this.kind}.${method} is not available: onnxruntime predicts asynchronously; use runAsync, predictAsync or predictProbaAsync.`,
    )
  }

  /** Runs the session on `X`, fetching `outputs`. */
  protected async run(X: DenseMatrix, outputs: readonly string[]): Promise<Record<string, Tensor>> {
    const p = this.params
    if (X.cols !== p.features.length) {
      throw new ScalemlError(
        'INVALID_INPUT',
        `${this.kind}: rows have ${X.cols} features; the ONNX model reads ${p.features.length} (${p.features.join(', ')}).`,
      )
    }
    const ort = await onnxruntime()
    const session = await this.#open()
    const feeds: Record<string, Tensor> = {}
    const n = X.rows
    if (p.layout === 'matrix') {
      feeds[p.inputs[0]!] = new ort.Tensor('float32', X.data.slice(0, n * X.cols), [n, X.cols])
    } else {
      p.inputs.forEach((name, j) => {
        const column = new Float32Array(n)
        for (let r = 0, at = j; r < n; r++, at += X.cols) column[r] = X.data[at]!
        feeds[name] = new ort.Tensor('float32', column, p.inputRank === 1 ? [n] : [n, 1])
      })
    }
    try {
      return await session.run(feeds, [...outputs])
    } catch (error) {
      throw new ScalemlError(
        'INVALID_INPUT',
        `${this.kind}: onnxruntime could not run the model: ${(error as Error).message.split('\n')[0]}`,
        [],
        { cause: error },
      )
    }
  }

  #open(): Promise<InferenceSession> {
    this.#session ??= openSession(this.#bytes, `The ONNX model of ${this.kind}`)
    return this.#session
  }
}

/** An imported ONNX classifier. */
export class OnnxClassifier extends OnnxModelBase implements Classifier {
  readonly kind = ONNX_CLASSIFIER_KIND
  readonly task = 'classification'

  /** Use {@link importOnnxModel} or {@link OnnxClassifier.fromJSON}. */
  constructor(params: OnnxModelParams, bytes: Uint8Array, session?: InferenceSession) {
    super(params, bytes, session)
  }

  get classes(): readonly number[] {
    return this.params.classes ?? []
  }

  /** Imported classifiers always answer probabilities. */
  get hasProbabilities(): boolean {
    return true
  }

  async runAsync(X: DenseMatrix): Promise<OnnxPredictions> {
    const { outputs } = this.params
    const fetched = await this.run(X, [outputs.probabilities!, ...(outputs.label === undefined ? [] : [outputs.label])])
    const probabilities = this.#probabilities(fetched[outputs.probabilities!]!, X.rows)
    const classes = this.classes
    const k = classes.length
    const labels = new Float64Array(X.rows)
    if (outputs.label !== undefined) {
      const raw = fetched[outputs.label]!
      readNumbers(raw, X.rows, labels, `${this.kind} output '${outputs.label}'`)
    } else {
      for (let r = 0; r < X.rows; r++) {
        let best = 0
        for (let c = 1; c < k; c++) if (probabilities[r * k + c]! > probabilities[r * k + best]!) best = c
        labels[r] = classes[best]!
      }
    }
    return { labels, probabilities }
  }

  /** Predicted labels (the model's label output, else the class of the largest probability). */
  async predictAsync(X: DenseMatrix): Promise<Float64Array> {
    return (await this.runAsync(X)).labels!
  }

  /** Class probabilities, `rows × classes` row-major. */
  async predictProbaAsync(X: DenseMatrix): Promise<Float64Array> {
    return (await this.runAsync(X)).probabilities!
  }

  /** Throws `INVALID_ARGUMENT`: use {@link OnnxClassifier.predictAsync}. */
  predict(_X: DenseMatrix): Float64Array {
    throw this.synchronous('predict')
  }

  /** Throws `INVALID_ARGUMENT`: use {@link OnnxClassifier.predictProbaAsync}. */
  predictProba(_X: DenseMatrix): Float64Array {
    throw this.synchronous('predictProba')
  }

  /** Throws `INVALID_ARGUMENT`: an imported classifier has probabilities, not margins. */
  decisionFunction(_X: DenseMatrix): Float64Array {
    throw this.synchronous('decisionFunction')
  }

  /** Restores a classifier from {@link OnnxClassifier.toJSON}; `ARTIFACT_INVALID` when malformed or altered. */
  static fromJSON(json: EstimatorJSON): OnnxClassifier {
    const { params, bytes } = readJSON(json, ONNX_CLASSIFIER_KIND)
    return new OnnxClassifier(params, bytes)
  }

  #probabilities(tensor: Tensor, rows: number): Float64Array {
    const k = this.classes.length
    const out = new Float64Array(rows * k)
    const where = `${this.kind} output '${this.params.outputs.probabilities}'`
    if (this.params.probabilityLayout === 'binary-column') {
      const p = new Float64Array(rows)
      readNumbers(tensor, rows, p, where)
      for (let r = 0; r < rows; r++) {
        out[2 * r] = 1 - p[r]!
        out[2 * r + 1] = p[r]!
      }
      return out
    }
    readNumbers(tensor, rows * k, out, where)
    return out
  }
}

/** An imported ONNX regressor. */
export class OnnxRegressor extends OnnxModelBase implements Regressor {
  readonly kind = ONNX_REGRESSOR_KIND
  readonly task = 'regression'

  /** Use {@link importOnnxModel} or {@link OnnxRegressor.fromJSON}. */
  constructor(params: OnnxModelParams, bytes: Uint8Array, session?: InferenceSession) {
    super(params, bytes, session)
  }

  async runAsync(X: DenseMatrix): Promise<OnnxPredictions> {
    const name = this.params.outputs.value!
    const fetched = await this.run(X, [name])
    const values = new Float64Array(X.rows)
    readNumbers(fetched[name]!, X.rows, values, `${this.kind} output '${name}'`)
    return { values }
  }

  /** Predictions, one per row. */
  async predictAsync(X: DenseMatrix): Promise<Float64Array> {
    return (await this.runAsync(X)).values!
  }

  /** Throws `INVALID_ARGUMENT`: use {@link OnnxRegressor.predictAsync}. */
  predict(_X: DenseMatrix): Float64Array {
    throw this.synchronous('predict')
  }

  /** Restores a regressor from {@link OnnxRegressor.toJSON}; `ARTIFACT_INVALID` when malformed or altered. */
  static fromJSON(json: EstimatorJSON): OnnxRegressor {
    const { params, bytes } = readJSON(json, ONNX_REGRESSOR_KIND)
    return new OnnxRegressor(params, bytes)
  }
}

/** Either imported model. */
export type OnnxModel = OnnxClassifier | OnnxRegressor

/** True for an imported ONNX model, which predicts only asynchronously (`runAsync`). */
export function isOnnxModel(model: unknown): model is OnnxModel {
  return model instanceof OnnxClassifier || model instanceof OnnxRegressor
}

/** Copies `count` numbers of a numeric tensor into `out`; `INVALID_INPUT` when it holds fewer or is not numeric. */
function readNumbers(tensor: Tensor, count: number, out: Float64Array, where: string): void {
  const data: unknown = tensor.data
  const values = ArrayBuffer.isView(data) ? (data as unknown as ArrayLike<number | bigint>) : undefined
  if (values === undefined || values.length !== count) {
    throw new ScalemlError(
      'INVALID_INPUT',
      `${where} holds ${(tensor.dims ?? []).join(' × ') || 'no'} ${tensor.type} values; expected ${count} numbers.`,
    )
  }
  for (let i = 0; i < count; i++) out[i] = Number(values[i]!)
}

function readJSON(json: EstimatorJSON, kind: string): { params: OnnxModelParams; bytes: Uint8Array } {
  if (json === null || typeof json !== 'object' || json.kind !== kind) {
    throw new ScalemlError('ARTIFACT_INVALID', `Expected kind '${kind}', got '${String(json?.kind)}'.`)
  }
  const bytes = (json.state as { onnx?: unknown } | undefined)?.onnx
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
    throw new ScalemlError('ARTIFACT_INVALID', `Invalid ${kind} state: 'onnx' must hold the model's bytes.`)
  }
  const params = json.params as Partial<OnnxModelParams>
  const problem = checkParams(params, kind === ONNX_CLASSIFIER_KIND)
  if (problem !== undefined) throw new ScalemlError('ARTIFACT_INVALID', `Invalid ${kind} params: ${problem}.`)
  if (sha256(bytes) !== params.sha256) {
    throw new ScalemlError(
      'ARTIFACT_INVALID',
      `Invalid ${kind} state: the ONNX bytes do not match the sha256 recorded when the model was imported.`,
    )
  }
  return { params: params as OnnxModelParams, bytes: bytes.slice() }
}

/** The first problem of deserialized params, or undefined. */
function checkParams(p: Partial<OnnxModelParams>, classifier: boolean): string | undefined {
  const strings = (v: unknown): v is string[] =>
    Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s !== '')
  if (p.layout !== 'matrix' && p.layout !== 'columns') return "layout must be 'matrix' or 'columns'"
  if (!strings(p.inputs)) return 'inputs must list the ONNX input names'
  if (p.inputRank !== 1 && p.inputRank !== 2) return 'inputRank must be 1 or 2'
  if (!strings(p.features)) return 'features must list the feature names'
  if (p.layout === 'matrix' ? p.inputs.length !== 1 : p.inputs.length !== p.features.length) {
    return `inputs must hold ${p.layout === 'matrix' ? 'one name' : 'one name per feature'}`
  }
  const outputs = p.outputs
  if (typeof outputs !== 'object' || outputs === null) return 'outputs must name the outputs read'
  if (classifier) {
    if (typeof outputs.probabilities !== 'string') return 'outputs.probabilities must name an output'
    const classes = p.classes
    if (!Array.isArray(classes) || classes.length < 2 || !classes.every((c) => Number.isFinite(c))) {
      return 'classes must list at least two numbers'
    }
    if (p.probabilityLayout === 'binary-column' && classes.length !== 2) return 'a binary-column model has two classes'
  } else if (typeof outputs.value !== 'string') return 'outputs.value must name an output'
  if (typeof p.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(p.sha256)) return 'sha256 must be 64 hex digits'
  return undefined
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * Reads an ONNX model and returns the estimator to register: checks that onnxruntime loads it, that its inputs are
 * float tensors (one `[N, F]` or one `[N, 1]` per feature), picks its outputs, and runs it once on two rows of zeros
 * to learn the number of classes and check the output shapes. Throws `INVALID_INPUT` naming the model and the input
 * or output that does not fit, `INVALID_ARGUMENT` for options that do not match the model.
 *
 * @example
 * const model = await importOnnxModel(await readFile('churn.onnx'), { source: 'churn.onnx' })
 * const { probabilities } = await model.runAsync(X)
 */
export async function importOnnxModel(bytes: Uint8Array, options: OnnxImportOptions = {}): Promise<OnnxModel> {
  const source = options.source ?? 'the ONNX model'
  const session = await openSession(bytes, source)
  try {
    const input = readInputs(session, options, source)
    const picked = pickOutputs(session, options, source)
    const ort = await onnxruntime()
    const nFeatures = input.features.length
    const probe: Record<string, Tensor> = {}
    if (input.layout === 'matrix')
      probe[input.inputs[0]!] = new ort.Tensor('float32', new Float32Array(2 * nFeatures), [2, nFeatures])
    else {
      for (const name of input.inputs) {
        probe[name] = new ort.Tensor('float32', new Float32Array(2), input.inputRank === 1 ? [2] : [2, 1])
      }
    }
    const fetch = Object.values(picked.outputs)
    let out: Record<string, Tensor>
    try {
      out = await session.run(probe, fetch)
    } catch (error) {
      throw new ScalemlError(
        'INVALID_INPUT',
        `${source}: onnxruntime could not run it on two rows of ${nFeatures} float features: ${(error as Error).message.split('\n')[0]}`,
        [],
        { cause: error },
      )
    }
    const base = { ...input, outputs: picked.outputs, sha256: sha256(bytes) }
    if (picked.task === 'regression') {
      const value = out[picked.outputs.value!]!
      if (perRow(value.dims) !== 1) {
        throw new ScalemlError(
          'INVALID_INPUT',
          `${source}: the output '${picked.outputs.value}' has shape [${value.dims.join(', ')}] for 2 rows; a regressor must answer one value per row.`,
        )
      }
      return new OnnxRegressor(base, bytes.slice(), session)
    }
    const proba = out[picked.outputs.probabilities!]!
    const width = perRow(proba.dims)
    if (width === undefined || (proba.type !== 'float32' && proba.type !== 'float64')) {
      throw new ScalemlError(
        'INVALID_INPUT',
        `${source}: the output '${picked.outputs.probabilities}' (${proba.type} [${proba.dims.join(', ')}]) is not a float [N, K] probability matrix.`,
      )
    }
    const k = width === 1 ? 2 : width
    const classes = options.classes ?? Array.from({ length: k }, (_, c) => c)
    if (classes.length !== k || new Set(classes).size !== k || !classes.every((c) => Number.isFinite(c))) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${source} answers ${k} class probabilities; classes must list ${k} distinct numbers (got [${classes.join(', ')}]).`,
      )
    }
    if (picked.outputs.label !== undefined && perRow(out[picked.outputs.label]!.dims) !== 1) {
      throw new ScalemlError(
        'INVALID_INPUT',
        `${source}: the label output '${picked.outputs.label}' has shape [${out[picked.outputs.label]!.dims.join(', ')}] for 2 rows; expected one label per row.`,
      )
    }
    return new OnnxClassifier(
      { ...base, classes: [...classes], probabilityLayout: width === 1 ? 'binary-column' : 'matrix' },
      bytes.slice(),
      session,
    )
  } catch (error) {
    await session.release()
    throw error
  }
}

/** Values per row of an output for a 2-row run: `[2]` → 1, `[2, k]` → k; undefined for other shapes. */
function perRow(dims: readonly number[]): number | undefined {
  if (dims[0] !== 2) return undefined
  if (dims.length === 1) return 1
  if (dims.length === 2) return dims[1]
  return undefined
}

type InputLayout = Pick<OnnxModelParams, 'layout' | 'inputs' | 'inputRank' | 'features'>

function readInputs(session: InferenceSession, options: OnnxImportOptions, source: string): InputLayout {
  const inputs = session.inputMetadata
  if (inputs.length === 0) throw new ScalemlError('INVALID_INPUT', `${source} has no inputs.`)
  for (const input of inputs) {
    const shape = input.isTensor ? input.shape : []
    const problem = !input.isTensor
      ? 'is not a tensor'
      : input.type !== 'float32'
        ? `is a ${input.type} tensor`
        : shape.length < 1 || shape.length > 2
          ? `has rank ${shape.length}`
          : typeof shape[0] === 'number' && shape[0] >= 0
            ? `has a fixed batch dimension (${shape[0]})`
            : undefined
    if (problem !== undefined) {
      throw new ScalemlError(
        'INVALID_INPUT',
        `${source}: its input '${input.name}' ${problem}; scaleml imports models whose inputs are float32 tensors [N, F] (one input) or [N, 1] (one per feature) with a free batch dimension N.`,
        [{ code: 'invalid_value', path: ['inputs', input.name], message: problem }],
      )
    }
  }
  const names = options.featureNames
  const first = inputs[0]!
  const firstShape = first.isTensor ? first.shape : []
  const width = firstShape.length === 2 ? firstShape[1] : 1
  if (inputs.length === 1 && width !== 1) {
    const f = typeof width === 'number' && width >= 0 ? width : names?.length
    if (f === undefined) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${source}: its input '${first.name}' has a free feature dimension; give the feature names (featureNames) to fix it.`,
      )
    }
    if (names !== undefined && names.length !== f) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${source}: its input '${first.name}' holds ${f} features, but ${names.length} feature names were given.`,
      )
    }
    return {
      layout: 'matrix',
      inputs: [first.name],
      inputRank: 2,
      features: names === undefined ? Array.from({ length: f }, (_, j) => `f${j}`) : [...names],
    }
  }
  for (const input of inputs) {
    const shape = input.isTensor ? input.shape : []
    if (shape.length === 2 && shape[1] !== 1) {
      throw new ScalemlError(
        'INVALID_INPUT',
        `${source}: it has ${inputs.length} inputs and '${input.name}' is [${shape.join(', ')}]; with several inputs each must be one feature ([N, 1] or [N]).`,
      )
    }
  }
  const ranks = new Set(inputs.map((i) => (i.isTensor ? i.shape.length : 0)))
  if (ranks.size !== 1) {
    throw new ScalemlError('INVALID_INPUT', `${source}: its inputs mix [N] and [N, 1] shapes.`)
  }
  if (names !== undefined && names.length !== inputs.length) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `${source} has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}), but ${names.length} feature names were given.`,
    )
  }
  return {
    layout: 'columns',
    inputs: inputs.map((i) => i.name),
    inputRank: [...ranks][0] === 1 ? 1 : 2,
    features: names === undefined ? inputs.map((i) => i.name) : [...names],
  }
}

function pickOutputs(
  session: InferenceSession,
  options: OnnxImportOptions,
  source: string,
): { task: 'classification' | 'regression'; outputs: OnnxModelParams['outputs'] } {
  const all = session.outputMetadata
  const byName = new Map(all.map((o) => [o.name, o]))
  const tensors = all.filter((o) => o.isTensor)
  const numeric = (o: (typeof all)[number]): boolean =>
    o.isTensor && ['float32', 'float64', 'int64', 'int32'].includes(o.type)
  const named = (name: string | undefined, what: string): string | undefined => {
    if (name === undefined) return undefined
    const output = byName.get(name)
    if (output === undefined) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `${source} has no output '${name}' (${what}); its outputs are ${all.map((o) => o.name).join(', ')}.`,
      )
    }
    if (!numeric(output)) {
      throw new ScalemlError(
        'INVALID_INPUT',
        `${source}: its output '${name}' (${what}) is ${output.isTensor ? `a ${output.type} tensor` : 'not a tensor (a ZipMap? convert with zipmap=False)'}; scaleml reads numeric tensors.`,
      )
    }
    return name
  }
  const floats = tensors.filter((o) => o.isTensor && (o.type === 'float32' || o.type === 'float64'))
  const integers = tensors.filter((o) => o.isTensor && (o.type === 'int64' || o.type === 'int32'))
  const task =
    options.task ??
    (options.probabilitiesOutput !== undefined || options.labelOutput !== undefined || integers.length > 0
      ? 'classification'
      : 'regression')
  if (task === 'regression') {
    const value = named(options.valueOutput, 'value') ?? floats[0]?.name
    if (value === undefined) {
      throw new ScalemlError('INVALID_INPUT', `${source} has no float tensor output to read predictions from.`)
    }
    return { task, outputs: { value } }
  }
  const label = named(options.labelOutput, 'label') ?? integers[0]?.name
  const probabilities =
    named(options.probabilitiesOutput, 'probabilities') ?? (floats.find((o) => /prob/i.test(o.name)) ?? floats[0])?.name
  if (probabilities === undefined) {
    const nonTensor = all.find((o) => !o.isTensor)
    throw new ScalemlError(
      'INVALID_INPUT',
      `${source} has no float tensor of class probabilities${nonTensor === undefined ? '' : ` ('${nonTensor.name}' is not a tensor: a ZipMap? convert the model with zipmap=False)`}; scaleml imports classifiers that answer a float [N, K] probability tensor.`,
    )
  }
  return { task, outputs: { probabilities, ...(label === undefined ? {} : { label }) } }
}

/**
 * Catalog entries (shaped like `MODEL_CATALOG`'s) so the registry can load imported ONNX models: `fromJSON` only;
 * `create` gives nothing trainable.
 */
export const ONNX_CATALOG_ENTRIES = {
  [ONNX_CLASSIFIER_KIND]: {
    task: 'classification',
    description: 'An imported ONNX classifier (float tensor inputs), run by onnxruntime; prediction only',
    constraints: {},
    defaults: {},
    trainable: false,
    create: (): OnnxClassifier => {
      throw new ScalemlError('INVALID_ARGUMENT', `'${ONNX_CLASSIFIER_KIND}' models are imported, not created.`)
    },
    validate: (): void => {},
    fromJSON: (json: EstimatorJSON) => OnnxClassifier.fromJSON(json),
  },
  [ONNX_REGRESSOR_KIND]: {
    task: 'regression',
    description: 'An imported ONNX regressor (float tensor inputs), run by onnxruntime; prediction only',
    constraints: {},
    defaults: {},
    trainable: false,
    create: (): OnnxRegressor => {
      throw new ScalemlError('INVALID_ARGUMENT', `'${ONNX_REGRESSOR_KIND}' models are imported, not created.`)
    },
    validate: (): void => {},
    fromJSON: (json: EstimatorJSON) => OnnxRegressor.fromJSON(json),
  },
} as const
