/**
 * A `Pipeline` is the input schema a model needs plus ordered preprocessing steps whose outputs are concatenated
 * into one dense row-major `Float32Array`. It is fitted in one streaming pass (or per shard, then merged) and
 * serialized as data next to the model. Serving parses JSON records into a `Batch` with the input schema and calls
 * the same `transform` as training, so the two cannot disagree. It must not hold rows between batches.
 * @module
 */
import { ScalemlError } from '../core/errors.js'
import type { DenseMatrix, SparseBuffers, SparseRows } from '../core/matrix.js'
import { scatterRows, sparseBuffers } from '../core/matrix.js'
import type { Batch, ColumnType, Field, Schema } from '../data/batch.js'
import { parseRecordsOrThrow } from '../data/records.js'
import type { Source } from '../data/source.js'
import { transformerFromJSON } from './catalog.js'
import { isSparseTransformer, type SparseTransformer, type Transformer, type TransformerJSON } from './transformer.js'

/** How a pipeline is built. */
export interface PipelineOptions {
  /** The raw inputs the steps read; a served record must carry exactly these fields (extra ones are ignored). */
  readonly inputs: readonly Field[]
  /** Steps in output order; each step's slice is as wide as its `nOutputs` (a one-hot width grows while fitting). */
  readonly steps: readonly Transformer[]
}

/** Options of {@link Pipeline.fit}. */
export interface PipelineFitOptions {
  /** Called after each batch with the rows seen so far (progress bars). */
  readonly onBatch?: (rows: number) => void
}

/** Serialized {@link Pipeline}: plain data, loadable only through the transformer catalog. */
export interface PipelineJSON {
  readonly kind: 'pipeline'
  readonly version: 1
  readonly inputs: readonly Field[]
  readonly steps: readonly TransformerJSON[]
}

const COLUMN_TYPES: readonly ColumnType[] = ['float', 'int', 'bool', 'timestamp', 'string']

/**
 * `transform` zeroes and scatters when at most one value in this many per row is stored: zeroing a row-major block
 * runs at memory speed, while the steps' own dense writes zero each indicator slice row by row (on flights-3m,
 * 6 entries in 503 columns, the scatter route measured ~9x faster: ~190 vs ~1,770 ns per row).
 */
const SCATTER_DENSITY = 4

/**
 * Input schema + preprocessing steps → dense features.
 *
 * @example
 * const pipeline = autoPipeline(schema, ['distance', 'origin', 'date'])
 * await pipeline.fit(source)
 * const X = pipeline.transform(batch)                         // training
 * const x = pipeline.transformRecords([{ distance: 300, origin: 'SFO', date: '2001-03-04T10:00:00' }]) // serving
 */
export class Pipeline {
  readonly kind = 'pipeline'
  /** The fields a record must have (in the order the inputs were given). */
  readonly inputSchema: Schema
  readonly steps: readonly Transformer[]
  /** `transform`'s sparse scratch when it scatters; grown, never shrunk, never serialized. */
  readonly #scratch = sparseBuffers()

  /** Checks the wiring: distinct input names, known types, every step input declared. */
  constructor(options: PipelineOptions) {
    const inputs = options.inputs
    const names = new Set<string>()
    for (const field of inputs) {
      if (typeof field?.name !== 'string' || field.name === '' || !COLUMN_TYPES.includes(field.type)) {
        throw new ScalemlError(
          'INVALID_ARGUMENT',
          `Pipeline input ${JSON.stringify(field)} must have a non-empty name and a type among ${COLUMN_TYPES.join(', ')}.`,
        )
      }
      if (names.has(field.name)) {
        throw new ScalemlError('INVALID_ARGUMENT', `Pipeline input "${field.name}" is listed twice.`)
      }
      names.add(field.name)
    }
    if (options.steps.length === 0) {
      throw new ScalemlError('INVALID_ARGUMENT', 'A pipeline needs at least one step.')
    }
    options.steps.forEach((step, s) => {
      for (const input of step.inputs) {
        if (!names.has(input)) {
          throw new ScalemlError(
            'INVALID_ARGUMENT',
            `Pipeline step ${s} (${step.kind}) reads column "${input}", which is not among the pipeline inputs (${[...names].join(', ') || 'none'}).`,
          )
        }
      }
    })
    this.inputSchema = { fields: inputs.map((f) => ({ name: f.name, type: f.type, nullable: f.nullable === true })) }
    this.steps = [...options.steps]
  }

  /** True when every step is fitted. */
  get isFitted(): boolean {
    return this.steps.every((step) => step.isFitted)
  }

  /** Number of output features per row; throws `NOT_FITTED` before fitting. */
  get nFeatures(): number {
    this.#checkFitted()
    let total = 0
    for (const step of this.steps) total += step.nOutputs
    return total
  }

  /** Names of the output features, in order (`distance`, `origin=SFO`, `date.hour=13`, …). */
  outputNames(): string[] {
    this.#checkFitted()
    return this.steps.flatMap((step) => step.outputNames())
  }

  /** Updates every step's statistics from one batch (extra columns in the batch are ignored). */
  partialFit(batch: Batch): this {
    this.#checkBatch(batch)
    for (const step of this.steps) step.partialFit(batch)
    return this
  }

  /**
   * One streaming pass of {@link Pipeline.partialFit} over `source` (which stays open: the caller owns it). On a
   * pipeline that is already fitted this adds to its statistics; build a new pipeline for a fresh fit. Throws
   * `UNKNOWN_COLUMN` before reading when the source lacks an input, and `EMPTY_SOURCE` when it yields no rows.
   */
  async fit(source: Source, options: PipelineFitOptions = {}): Promise<this> {
    const schema = await source.schema()
    const available = new Set(schema.fields.map((f) => f.name))
    for (const field of this.inputSchema.fields) {
      if (!available.has(field.name)) {
        throw new ScalemlError(
          'UNKNOWN_COLUMN',
          `Pipeline input "${field.name}" is not a column of ${source.description} (columns: ${[...available].join(', ') || 'none'}).`,
        )
      }
    }
    let rows = 0
    for await (const batch of source) {
      if (batch.length === 0) continue
      this.partialFit(batch)
      rows += batch.length
      options.onBatch?.(rows)
    }
    if (rows === 0) {
      throw new ScalemlError('EMPTY_SOURCE', `Cannot fit the pipeline: ${source.description} yielded no rows.`)
    }
    return this
  }

  /** Folds in a pipeline with the same steps fitted on another shard; the result equals fitting on both. */
  merge(other: Pipeline): this {
    const same =
      other.steps.length === this.steps.length &&
      other.steps.every((step, s) => step.kind === this.steps[s]!.kind) &&
      sameFields(other.inputSchema.fields, this.inputSchema.fields)
    if (!same) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `Cannot merge pipelines with different inputs or steps: [${this.steps.map((s) => s.kind).join(', ')}] vs [${other.steps.map((s) => s.kind).join(', ')}].`,
      )
    }
    for (let s = 0; s < this.steps.length; s++) this.steps[s]!.merge(other.steps[s]!)
    return this
  }

  /**
   * Features for every row of `batch` as one row-major matrix, into `buffer` when it is large enough (a view of its
   * first `rows × nFeatures` values) or a new array. Every value of the view is overwritten, so stale values of a
   * reused buffer cannot leak through.
   *
   * When every step has the sparse capability and the rows are mostly zeros (one-hot and datetime features), the
   * matrix is built by zeroing it in one pass and scattering the sparse entries of {@link Pipeline.transformSparse}:
   * the steps' dense writes would zero each wide indicator slice row by row. Both routes give the same bits (the
   * sparse contract), so this only changes the speed.
   */
  transform(batch: Batch, buffer?: Float32Array): DenseMatrix {
    const cols = this.nFeatures
    this.#checkBatch(batch)
    const size = batch.length * cols
    const data = buffer !== undefined && buffer.length >= size ? buffer.subarray(0, size) : new Float32Array(size)
    const nnz = this.#sparseWidth()
    if (nnz >= 0 && nnz * SCATTER_DENSITY <= cols) {
      const entries = this.#writeSparse(batch, this.#scratch, nnz)
      data.fill(0)
      scatterRows(entries.indices, entries.values, nnz, batch.length, data, cols)
      return { data, rows: batch.length, cols }
    }
    let offset = 0
    for (const step of this.steps) {
      step.transform(batch, data, cols, offset)
      offset += step.nOutputs
    }
    return { data, rows: batch.length, cols }
  }

  /** True when every step can write sparse entries, so {@link Pipeline.transformSparse} works. */
  get supportsSparse(): boolean {
    return this.#sparseWidth() >= 0
  }

  /**
   * Entries per row of {@link Pipeline.transformSparse}: the sum of the steps' `nnzPerRow`. Throws
   * `INVALID_ARGUMENT` when a step has no sparse capability.
   */
  get nnzPerRow(): number {
    const nnz = this.#sparseWidth()
    if (nnz < 0) throw this.#noSparse()
    return nnz
  }

  /**
   * Features for every row of `batch` as {@link SparseRows} with {@link Pipeline.nnzPerRow} entries per row, each
   * step's entries after the previous step's, so indices ascend within a row. Their dense expansion is
   * bit-identical to {@link Pipeline.transform} (scaleml's models give bit-identical results on either). With
   * `buffers`, writes into them, first replacing an array that is too small by a larger one (they never shrink),
   * and returns views of them: pass the same object for every batch and a pass allocates nothing once they have
   * grown. Without, allocates. Throws `NOT_FITTED`, the batch errors of `transform`, or `INVALID_ARGUMENT` when a
   * step has no sparse capability (see {@link Pipeline.supportsSparse}).
   *
   * @example
   * const buffers = sparseBuffers()
   * for await (const batch of source) model.partialFitSparse(pipeline.transformSparse(batch, buffers), y)
   */
  transformSparse(batch: Batch, buffers?: SparseBuffers): SparseRows {
    const cols = this.nFeatures
    const nnz = this.nnzPerRow
    this.#checkBatch(batch)
    const { indices, values } = this.#writeSparse(batch, buffers ?? sparseBuffers(), nnz)
    return { kind: 'sparse', rows: batch.length, cols, nnzPerRow: nnz, indices, values }
  }

  /**
   * Features for JSON records (the serving path): parses them into a batch with {@link Pipeline.inputSchema} and
   * calls {@link Pipeline.transform}. Throws `ScalemlError('INVALID_INPUT')` carrying every issue
   * (paths like `[2, 'distance']`).
   */
  transformRecords(records: readonly unknown[]): DenseMatrix {
    return this.transform(parseRecordsOrThrow(this.inputSchema, records))
  }

  toJSON(): PipelineJSON {
    return {
      kind: 'pipeline',
      version: 1,
      inputs: this.inputSchema.fields.map((f) => ({ ...f })),
      steps: this.steps.map((step) => step.toJSON()),
    }
  }

  /** Restores a pipeline from {@link Pipeline.toJSON}; throws `ARTIFACT_INVALID` naming what is malformed. */
  static fromJSON(json: unknown): Pipeline {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new ScalemlError('ARTIFACT_INVALID', 'Invalid pipeline JSON: expected an object with kind "pipeline".')
    }
    const { kind, version, inputs, steps } = json as Record<string, unknown>
    if (kind !== 'pipeline' || version !== 1) {
      throw new ScalemlError(
        'ARTIFACT_INVALID',
        `Invalid pipeline JSON: expected kind "pipeline" and version 1, got kind ${JSON.stringify(kind)} and version ${JSON.stringify(version)}.`,
      )
    }
    if (!Array.isArray(inputs) || !Array.isArray(steps)) {
      throw new ScalemlError('ARTIFACT_INVALID', 'Invalid pipeline JSON: "inputs" and "steps" must be arrays.')
    }
    const restored = steps.map((step, s) => transformerFromJSON(step, `steps[${s}]`))
    try {
      return new Pipeline({ inputs: inputs as Field[], steps: restored })
    } catch (error) {
      if (error instanceof ScalemlError) {
        throw new ScalemlError('ARTIFACT_INVALID', `Invalid pipeline JSON: ${error.message}`, error.issues)
      }
      throw error
    }
  }

  /** Writes every step's entries into `buffers` (grown to fit); returns views of the batch's part. */
  #writeSparse(batch: Batch, buffers: SparseBuffers, nnz: number): { indices: Int32Array; values: Float32Array } {
    const size = batch.length * nnz
    if (buffers.indices.length < size) buffers.indices = new Int32Array(size)
    if (buffers.values.length < size) buffers.values = new Float32Array(size)
    const indices = buffers.indices.subarray(0, size)
    const values = buffers.values.subarray(0, size)
    let colOffset = 0
    let nnzOffset = 0
    for (const step of this.steps) {
      const sparse = step as SparseTransformer
      sparse.transformSparse(batch, indices, values, nnz, nnzOffset, colOffset)
      colOffset += step.nOutputs
      nnzOffset += sparse.nnzPerRow
    }
    return { indices, values }
  }

  /** Sum of the steps' `nnzPerRow`, or -1 when a step has no sparse capability. */
  #sparseWidth(): number {
    let nnz = 0
    for (const step of this.steps) {
      if (!isSparseTransformer(step)) return -1
      nnz += step.nnzPerRow
    }
    return nnz
  }

  #noSparse(): ScalemlError {
    const step = this.steps.findIndex((t) => !isSparseTransformer(t))
    return new ScalemlError(
      'INVALID_ARGUMENT',
      `The pipeline cannot write sparse rows: step ${step} (${this.steps[step]?.kind}) has no transformSparse. Use transform, or check supportsSparse first.`,
    )
  }

  #checkFitted(): void {
    this.steps.forEach((step, s) => {
      if (!step.isFitted) {
        throw new ScalemlError(
          'NOT_FITTED',
          `The pipeline is not fitted: step ${s} (${step.kind} over ${step.inputs.join(', ')}) has seen no data. Call fit or partialFit first.`,
        )
      }
    })
  }

  /** Each input must be present and as long as the batch; a string input must be a string column (numeric types may differ). */
  #checkBatch(batch: Batch): void {
    for (const field of this.inputSchema.fields) {
      const column = batch.columns.get(field.name)
      if (column === undefined) {
        throw new ScalemlError(
          'UNKNOWN_COLUMN',
          `Pipeline input "${field.name}" is missing from the batch (batch columns: ${[...batch.columns.keys()].join(', ') || 'none'}).`,
        )
      }
      const length = column.type === 'string' ? column.codes.length : column.values.length
      if (length < batch.length) {
        throw new ScalemlError(
          'INVALID_DATA',
          `Column "${field.name}" holds ${length} values but the batch has ${batch.length} rows.`,
        )
      }
      if ((column.type === 'string') !== (field.type === 'string')) {
        throw new ScalemlError(
          'INVALID_DATA',
          `Pipeline input "${field.name}" is declared ${field.type} but the batch column is ${column.type}.`,
        )
      }
    }
  }
}

function sameFields(a: readonly Field[], b: readonly Field[]): boolean {
  return a.length === b.length && a.every((f, i) => f.name === b[i]!.name && f.type === b[i]!.type)
}
