/**
 * A fitted scaleml {@link Pipeline} as ONNX nodes: the raw input columns become graph inputs, each step becomes
 * standard operators writing the same features scaleml writes, and a Concat gives the model's `[N, F]` float
 * feature matrix.
 *
 * Graph inputs, one per pipeline input, each `[N, 1]`:
 * - string columns: `tensor(string)`; a missing value is the empty string (it then goes where scaleml sends a null:
 *   the one-hot "other" slot, the ordinal code NaN), unless `""` is itself a kept category (a note says so);
 * - timestamp columns, and any column a DatetimeParts step reads: `tensor(double)` epoch milliseconds UTC (float32
 *   cannot hold epoch milliseconds: its spacing there is ~2 minutes); NaN = missing;
 * - every other column (float, int, bool): `tensor(float)`; NaN = missing; bool as 0/1.
 *
 * Exactness. StandardScaler is computed in float64 from the input with scaleml's own operations (`(x − mean −
 * meanLow) / scale`, then rounded to float32), so its features are bit-identical for inputs that float32 holds; the
 * `ml-scaler` option uses `ai.onnx.ml.Scaler` instead, which computes in float32 (within ~1e-7 relative). One-hot and
 * ordinal codes compare values exactly; calendar parts are computed exactly (see `export-calendar.ts`).
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { Field } from '../../data/batch.js'
import { DATETIME_PARTS, type DatetimePart, DatetimeParts } from '../../preprocess/datetime-parts.js'
import { OneHotEncoder } from '../../preprocess/one-hot-encoder.js'
import { OrdinalEncoder } from '../../preprocess/ordinal-encoder.js'
import { Passthrough } from '../../preprocess/passthrough.js'
import type { Pipeline } from '../../preprocess/pipeline.js'
import { StandardScaler } from '../../preprocess/standard-scaler.js'
import type { Transformer } from '../../preprocess/transformer.js'
import { type CalendarPositions, calendarPositions } from './export-calendar.js'
import { type GraphBuilder, ML_DOMAIN } from './graph-builder.js'
import { attr, type OnnxType, type OnnxValueInfo } from './onnx-proto.js'

/** How StandardScaler steps are exported: float64 standard ops (bit-identical, default) or `ai.onnx.ml.Scaler`. */
export type ScalerExport = 'exact' | 'ml-scaler'

/** The exported preprocessing. */
export interface ExportedPipeline {
  /** The graph inputs declared, in pipeline input order. */
  readonly inputs: readonly OnnxValueInfo[]
  /** The float `[N, F]` feature matrix. */
  readonly features: string
  /** F: equals the pipeline's `nFeatures`. */
  readonly width: number
}

/** Symbolic batch dimension of every input and output. */
export const BATCH = 'N'

/** Period and first value of each calendar part (hour 0–23, weekday 0–6, month 1–12). */
const PERIOD: Record<string, number> = { hour: 24, dayOfWeek: 7, month: 12 }
const FIRST: Record<string, number> = { hour: 0, dayOfWeek: 0, month: 1 }

/**
 * Declares the pipeline's inputs on `g` and adds the nodes of every step. Throws `INVALID_ARGUMENT` naming the step
 * that cannot be exported (a FeatureHasher, an unknown kind) and why; appends caveats to `notes`.
 */
export function exportPipeline(
  g: GraphBuilder,
  pipeline: Pipeline,
  notes: string[],
  options: { readonly scaler?: ScalerExport } = {},
): ExportedPipeline {
  for (const [s, step] of pipeline.steps.entries()) checkExportable(step, s)
  // Every calendar part any step needs, per column: computed once, however many steps read them.
  const calendarParts = new Map<string, Set<DatetimePart>>()
  for (const step of pipeline.steps) {
    if (!(step instanceof DatetimeParts)) continue
    const parts = calendarParts.get(step.params.column) ?? new Set<DatetimePart>()
    for (const part of step.params.parts) parts.add(part)
    calendarParts.set(step.params.column, parts)
  }
  const columns = new Columns(g, calendarParts)
  const inputs = pipeline.inputSchema.fields.map((field) => {
    const type: OnnxType =
      field.type === 'string'
        ? 'string'
        : field.type === 'timestamp' || calendarParts.has(field.name)
          ? 'double'
          : 'float'
    const info: OnnxValueInfo = { name: field.name, type, shape: [BATCH, 1], docString: inputDoc(field, type) }
    columns.declare(field, info)
    return info
  })
  const pieces: string[] = []
  let width = 0
  for (const step of pipeline.steps) {
    const piece = exportStep(g, step, columns, notes, options.scaler ?? 'exact')
    pieces.push(piece)
    width += step.nOutputs
  }
  if (width !== pipeline.nFeatures) {
    throw new ScalemlError('INTERNAL', `ONNX export wrote ${width} features; the pipeline has ${pipeline.nFeatures}.`)
  }
  const features =
    pieces.length === 1
      ? g.op('Identity', [pieces[0]!], undefined, { hint: 'features' })
      : g.op('Concat', pieces, { axis: attr.int(1) }, { hint: 'features' })
  return { inputs, features, width }
}

function inputDoc(field: Field, type: OnnxType): string {
  if (type === 'string') return `${field.name} (string); missing: the empty string`
  if (type === 'double') return `${field.name}: epoch milliseconds UTC (float64); missing: NaN`
  return `${field.name} (${field.type}${field.type === 'bool' ? ' as 0/1' : ''}); missing: NaN`
}

/** Refuses steps with no ONNX equivalent before any node is added. */
function checkExportable(step: Transformer, index: number): void {
  if (
    step instanceof StandardScaler ||
    step instanceof OneHotEncoder ||
    step instanceof OrdinalEncoder ||
    step instanceof DatetimeParts ||
    step instanceof Passthrough
  ) {
    return
  }
  if (step.kind === 'feature-hasher') {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Cannot export to ONNX: pipeline step ${index} hashes [${step.inputs.join(', ')}] (FeatureHasher). ONNX has no MurmurHash3 operator (neither ai.onnx nor ai.onnx.ml can hash a string into a bucket), so hashed features cannot be computed inside the graph. Train with one-hot encoding instead (drop --hash) to export.`,
    )
  }
  throw new ScalemlError(
    'INVALID_ARGUMENT',
    `Cannot export to ONNX: pipeline step ${index} is a '${step.kind}' over [${step.inputs.join(', ')}], which has no ONNX mapping (exportable steps: standard-scaler, one-hot, ordinal, datetime-parts, passthrough).`,
  )
}

/** Graph inputs and their casts, each made once. */
class Columns {
  readonly #g: GraphBuilder
  readonly #info = new Map<string, { readonly field: Field; readonly value: OnnxValueInfo }>()
  readonly #casts = new Map<string, string>()
  readonly #calendarParts: ReadonlyMap<string, ReadonlySet<DatetimePart>>
  readonly #calendars = new Map<string, CalendarPositions>()

  constructor(g: GraphBuilder, calendarParts: ReadonlyMap<string, ReadonlySet<DatetimePart>>) {
    this.#g = g
    this.#calendarParts = calendarParts
  }

  /** The calendar positions of a timestamp column (every part some step reads), made once. */
  calendar(column: string): CalendarPositions {
    let positions = this.#calendars.get(column)
    if (positions === undefined) {
      const parts = DATETIME_PARTS.filter((p) => this.#calendarParts.get(column)?.has(p))
      positions = calendarPositions(this.#g, this.double(column), parts)
      this.#calendars.set(column, positions)
    }
    return positions
  }

  declare(field: Field, value: OnnxValueInfo): void {
    this.#g.input(value)
    this.#info.set(field.name, { field, value })
  }

  /** The input's ONNX type. */
  type(column: string): OnnxType {
    return this.#get(column).value.type
  }

  /** The column as it was given (string, float or double). */
  raw(column: string): string {
    return this.#get(column).value.name
  }

  /** A numeric column as float32 `[N, 1]` (a double input rounded to nearest, as scaleml stores features). */
  float(column: string): string {
    return this.#as(column, 'float')
  }

  /** A numeric column as float64 `[N, 1]` (exact). */
  double(column: string): string {
    return this.#as(column, 'double')
  }

  #as(column: string, type: 'float' | 'double'): string {
    const { value } = this.#get(column)
    if (value.type === type) return value.name
    if (value.type === 'string') {
      throw new ScalemlError('INVALID_ARGUMENT', `Cannot export to ONNX: column '${column}' holds strings.`)
    }
    const key = `${column}\u0000${type}`
    let name = this.#casts.get(key)
    if (name === undefined) {
      name = this.#g.op(
        'Cast',
        [value.name],
        { to: attr.int(type === 'float' ? 1 : 11) },
        { hint: `${column}.${type}` },
      )
      this.#casts.set(key, name)
    }
    return name
  }

  #get(column: string): { readonly field: Field; readonly value: OnnxValueInfo } {
    const info = this.#info.get(column)
    if (info === undefined) throw new ScalemlError('INTERNAL', `ONNX export: '${column}' is not a pipeline input.`)
    return info
  }
}

/** Adds one step's nodes; returns its float `[N, nOutputs]` slice. */
function exportStep(
  g: GraphBuilder,
  step: Transformer,
  columns: Columns,
  notes: string[],
  scaler: ScalerExport,
): string {
  if (step instanceof StandardScaler) return exportScaler(g, step, columns, scaler)
  if (step instanceof OneHotEncoder) return exportOneHot(g, step, columns, notes)
  if (step instanceof OrdinalEncoder) return exportOrdinal(g, step, columns, notes)
  if (step instanceof DatetimeParts) return exportDatetime(g, step, columns)
  return exportPassthrough(g, step as Passthrough, columns)
}

/** Concatenates `[N, k]` pieces along axis 1 (one piece passes through). */
function concat(g: GraphBuilder, pieces: readonly string[], hint: string): string {
  return pieces.length === 1 ? pieces[0]! : g.op('Concat', pieces, { axis: attr.int(1) }, { hint })
}

/** True where `x` is NaN or ±Infinity: what scaleml treats as missing in a numeric column. */
function missing(g: GraphBuilder, x: string): string {
  return g.op('Or', [g.op('IsNaN', [x]), g.op('IsInf', [x])])
}

function exportScaler(g: GraphBuilder, step: StandardScaler, columns: Columns, mode: ScalerExport): string {
  const names = step.params.columns
  const json = step.toJSON()
  const scale = step.scale
  const hint = `scaled.${names.join('.')}`
  if (mode === 'ml-scaler' && names.every((c) => columns.type(c) === 'float')) {
    const x = concat(
      g,
      names.map((c) => columns.float(c)),
      `${hint}.in`,
    )
    const offset = json.mean.map((m, j) => m + json.meanLow[j]!)
    const scaled = g.op(
      'Scaler',
      [x],
      { offset: attr.floats(offset), scale: attr.floats(Array.from(scale, (s) => 1 / s)) },
      { domain: ML_DOMAIN },
    )
    g.annotate(scaled, 'float', [BATCH, names.length])
    return g.op('Where', [missing(g, x), g.floats('zero_f', [0]), scaled], undefined, { hint })
  }
  // scaleml's own arithmetic, in float64: (x − meanHigh − meanLow) / scale, missing → 0, then rounded to float32.
  const x = concat(
    g,
    names.map((c) => columns.double(c)),
    `${hint}.in`,
  )
  const dims = [1, names.length]
  let y = g.op('Sub', [x, g.doubles('mean', json.mean, dims)])
  y = g.op('Sub', [y, g.doubles('mean_low', json.meanLow, dims)])
  y = g.op('Div', [y, g.doubles('scale', scale, dims)])
  y = g.op('Where', [missing(g, x), g.doubles('zero_d', [0]), y])
  return g.op('Cast', [y], { to: attr.int(1) }, { hint })
}

/**
 * Indicators over the kept categories plus the "other" slot (1 − the sum of the indicators, so unknown values,
 * rare values and missing values all land there, as in scaleml).
 */
function exportOneHot(g: GraphBuilder, step: OneHotEncoder, columns: Columns, notes: string[]): string {
  const column = step.params.column
  const categories = step.categories
  const hint = `onehot.${column}`
  const indicators = categoryIndicators(g, column, categories, columns, notes, 'one-hot')
  if (indicators === undefined) return ones(g, columns.raw(column), hint)
  const sum = g.op('ReduceSum', [indicators, g.int64s('axis_1', [1])], { keepdims: attr.int(1) })
  const other = g.op('Sub', [g.floats('one_f', [1]), sum])
  return g.op('Concat', [indicators, other], { axis: attr.int(1) }, { hint })
}

/** A float `[N, 1]` of ones shaped like the `[N, 1]` input `x` (a one-hot encoder that kept no category). */
function ones(g: GraphBuilder, x: string, hint: string): string {
  return g.op(
    'ConstantOfShape',
    [g.op('Shape', [x])],
    { value: attr.tensor({ type: 'float', dims: [1], data: Float32Array.of(1) }) },
    { hint },
  )
}

/**
 * Float `[N, K]` indicators of the kept categories (undefined when K = 0): `ai.onnx.ml.OneHotEncoder` for strings
 * (unknown strings give zeros with `zeros=1`), an exact broadcast Equal for numbers.
 */
function categoryIndicators(
  g: GraphBuilder,
  column: string,
  categories: readonly (string | number)[],
  columns: Columns,
  notes: string[],
  what: string,
): string | undefined {
  if (categories.length === 0) return undefined
  const type = columns.type(column)
  const k = categories.length
  if (type === 'string') {
    const strings = categories.map(String)
    if (strings.includes('')) {
      notes.push(
        `The empty string is a kept category of '${column}' (${what}), so an empty string input is that category, not a missing value.`,
      )
    }
    const encoded = g.op(
      'OneHotEncoder',
      [columns.raw(column)],
      { cats_strings: attr.strings(strings), zeros: attr.int(1) },
      { domain: ML_DOMAIN },
    )
    g.annotate(encoded, 'float', [BATCH, 1, k])
    // The ML op appends the category axis to the input's shape ([N, 1, K]); make it [N, K].
    return g.op('Reshape', [encoded, g.int64s('shape', [-1, k])])
  }
  const numbers = categories as readonly number[]
  let constant: string
  if (type === 'float') {
    const rounded = numbers.map((v) => Math.fround(v))
    const clash = rounded.findIndex((v, i) => rounded.indexOf(v) !== i)
    if (clash >= 0) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `Cannot export to ONNX: the ${what} categories ${numbers[rounded.indexOf(rounded[clash]!)]} and ${numbers[clash]} of column '${column}' are the same float32 value, and float inputs are float32.`,
      )
    }
    if (numbers.some((v, i) => v !== rounded[i])) {
      notes.push(
        `Some ${what} categories of '${column}' are not float32 values (e.g. ${numbers.find((v, i) => v !== rounded[i])}); the float input is compared with them rounded to float32.`,
      )
    }
    constant = g.floats(`cats.${column}`, rounded, [1, k])
  } else constant = g.doubles(`cats.${column}`, numbers, [1, k])
  const equal = g.op('Equal', [columns.raw(column), constant])
  return g.op('Cast', [equal], { to: attr.int(1) })
}

/**
 * The category code: 0…K−1 for the kept categories, K ("other") for everything else, NaN for a missing value
 * (the empty string for a string column).
 */
function exportOrdinal(g: GraphBuilder, step: OrdinalEncoder, columns: Columns, notes: string[]): string {
  const column = step.params.column
  const categories = step.categories
  const k = categories.length
  const hint = `ordinal.${column}`
  if (columns.type(column) === 'string') {
    const strings = categories.map(String)
    const keys = [...strings]
    const values = strings.map((_, i) => i)
    if (strings.includes('')) {
      notes.push(
        `The empty string is a kept category of '${column}' (ordinal), so a missing value of '${column}' cannot be sent (an empty string is read as that category).`,
      )
    } else {
      keys.push('')
      values.push(Number.NaN)
    }
    const codes = g.op(
      'LabelEncoder',
      [columns.raw(column)],
      { keys_strings: attr.strings(keys), values_floats: attr.floats(values), default_float: attr.float(k) },
      { domain: ML_DOMAIN, hint },
    )
    return g.annotate(codes, 'float', [BATCH, 1])
  }
  const x = columns.raw(column)
  const isMissing = missing(g, x)
  const indicators = categoryIndicators(g, column, categories, columns, notes, 'ordinal')
  const nan = g.floats('nan_f', [Number.NaN])
  if (indicators === undefined) {
    return g.op('Where', [isMissing, nan, g.floats('k_0', [0])], undefined, { hint })
  }
  // code = Σ indicator_c · c + K · (1 − Σ indicator_c): exact small integers in float32.
  const codes = g.floats(
    'codes',
    categories.map((_, i) => i),
    [k, 1],
  )
  const kept = g.op('MatMul', [indicators, codes])
  const sum = g.op('ReduceSum', [indicators, g.int64s('axis_1', [1])], { keepdims: attr.int(1) })
  const other = g.op('Mul', [g.op('Sub', [g.floats('one_f', [1]), sum]), g.floats(`k_${k}`, [k])])
  return g.op('Where', [isMissing, nan, g.op('Add', [kept, other])], undefined, { hint })
}

function exportDatetime(g: GraphBuilder, step: DatetimeParts, columns: Columns): string {
  const { column, parts, encoding } = step.params
  const positions = columns.calendar(column)
  const pieces: string[] = []
  for (const part of parts) {
    const position = positions[part]!
    const period = PERIOD[part]!
    const hint = `${column}.${part}`
    if (encoding === 'onehot') {
      // NaN (missing) equals nothing: a row of zeros, as scaleml writes.
      const range = g.doubles(
        `range_${period}`,
        Array.from({ length: period }, (_, k) => k),
        [1, period],
      )
      pieces.push(g.op('Cast', [g.op('Equal', [position, range])], { to: attr.int(1) }, { hint }))
    } else if (encoding === 'ordinal') {
      const value = FIRST[part] === 0 ? position : g.op('Add', [position, g.doubles('one_d', [1])])
      pieces.push(g.op('Cast', [value], { to: attr.int(1) }, { hint }))
    } else {
      // sin/cos looked up in tables of scaleml's own float64 values (rounded to float32 as scaleml stores them).
      const isMissing = g.op('IsNaN', [position])
      const index = g.op('Cast', [g.op('Where', [isMissing, g.doubles('zero_d', [0]), position])], {
        to: attr.int(7),
      })
      for (const [fn, name] of [
        [Math.sin, 'sin'],
        [Math.cos, 'cos'],
      ] as const) {
        const table = g.floats(
          `${name}_${period}`,
          Array.from({ length: period }, (_, k) => fn((2 * Math.PI * k) / period)),
        )
        const looked = g.op('Gather', [table, index], { axis: attr.int(0) })
        pieces.push(g.op('Where', [isMissing, g.floats('zero_f', [0]), looked], undefined, { hint: `${hint}_${name}` }))
      }
    }
  }
  return concat(g, pieces, `datetime.${column}`)
}

function exportPassthrough(g: GraphBuilder, step: Passthrough, columns: Columns): string {
  return concat(
    g,
    step.params.columns.map((c) => columns.float(c)),
    `passthrough.${step.params.columns.join('.')}`,
  )
}
