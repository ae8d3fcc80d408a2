/**
 * Binned training rows on disk, in chunks: what external-memory GBDT training reads instead of one in-memory
 * `BinnedData`. Rows are appended batch by batch (raw float32 rows binned on the way with a {@link BinMapper}, or
 * rows already binned) together with their labels and optional weights; the writer holds one chunk, so the full
 * binned matrix never exists in memory.
 *
 * Layout: one {@link SpillFile} in a fresh {@link SpillFolder}, one record per chunk of `chunkRows` rows (the last
 * chunk may be shorter). Record `c` holds rows `[c × chunkRows, c × chunkRows + n)`: their bins column-major within
 * the chunk (`bins[f × n + r]`, the `BinnedData` layout of a chunk), then the labels (float64), then the weights
 * (float64, weighted data only). Trainers put their per-row state (margins, gradients, row order) in further spill
 * files of the same folder ({@link ExternalRows.scratchFile}); {@link ExternalRows.remove} deletes everything.
 * @module
 */
import { ScalemlError } from '../../../core/errors.js'
import type { DenseMatrix } from '../../../core/matrix.js'
import type { BinMapper, BinnedData } from '../binning.js'
import { align8, type SpillFile, SpillFolder } from './spill-file.js'

/** Default rows per chunk: 64 Ki rows keep a chunk's arrays in the CPU's second-level cache for narrow data. */
export const DEFAULT_CHUNK_ROWS = 65_536

/** Options of {@link ExternalRows.create}. */
export interface ExternalRowsOptions {
  /** Folder in which to create the spill folder (default: the OS temp folder). */
  readonly dir?: string
  /** Rows per chunk, ≥ 1 (default {@link DEFAULT_CHUNK_ROWS}). */
  readonly chunkRows?: number
  /** True when rows carry weights (every append must then pass them); default false. */
  readonly weighted?: boolean
}

/**
 * Binned rows with labels (and weights) spilled to disk chunk by chunk. Append, {@link finish}, train, then
 * {@link remove} (in a `finally`).
 *
 * @example
 * const rows = ExternalRows.create(mapper, { chunkRows: 65_536 })
 * try {
 *   for (const { X, y } of batches) rows.append(X, y)
 *   rows.finish()
 *   model.fitExternal(rows)
 * } finally {
 *   rows.remove()
 * }
 */
export class ExternalRows {
  readonly mapper: BinMapper
  readonly chunkRows: number
  readonly weighted: boolean
  readonly folder: SpillFolder
  readonly #file: SpillFile
  readonly #labelOffset: number
  readonly #weightOffset: number
  #nRows = 0
  #nChunks = 0
  #staging: { bins: Uint8Array; label: Float64Array; weight: Float64Array } | undefined
  #filled = 0

  private constructor(mapper: BinMapper, options: ExternalRowsOptions) {
    const chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS
    if (!Number.isInteger(chunkRows) || chunkRows < 1 || chunkRows > 2 ** 28) {
      throw new ScalemlError('INVALID_ARGUMENT', `chunkRows must be a whole number in [1, 2^28], got ${chunkRows}.`, [
        { code: 'invalid_value', path: ['chunkRows'], message: 'expected a whole number in [1, 2^28]' },
      ])
    }
    this.mapper = mapper
    this.chunkRows = chunkRows
    this.weighted = options.weighted ?? false
    const nFeatures = mapper.nFeatures
    this.#labelOffset = align8(nFeatures * chunkRows)
    this.#weightOffset = this.#labelOffset + 8 * chunkRows
    const chunkBytes = this.#weightOffset + (this.weighted ? 8 * chunkRows : 0)
    this.folder = SpillFolder.create(options.dir)
    try {
      this.#file = this.folder.file('rows.bin', chunkBytes)
    } catch (error) {
      this.folder.remove()
      throw error
    }
    this.#staging = {
      bins: new Uint8Array(nFeatures * chunkRows),
      label: new Float64Array(chunkRows),
      weight: new Float64Array(this.weighted ? chunkRows : 0),
    }
  }

  /** A new, empty set of rows binned by `mapper`, in a new spill folder. */
  static create(mapper: BinMapper, options: ExternalRowsOptions = {}): ExternalRows {
    return new ExternalRows(mapper, options)
  }

  /** Features per row. */
  get nFeatures(): number {
    return this.mapper.nFeatures
  }

  /** Rows appended so far. */
  get nRows(): number {
    return this.#nRows + this.#filled
  }

  /** Chunks written (all of them once {@link finish}ed). */
  get nChunks(): number {
    return this.#nChunks
  }

  /** True once {@link finish} was called. */
  get finished(): boolean {
    return this.#staging === undefined
  }

  /** Bytes of this file on disk. */
  get bytes(): number {
    return this.#nChunks * this.#file.chunkBytes
  }

  /** Rows in chunk `c`. */
  chunkLength(c: number): number {
    return Math.min(this.chunkRows, this.#nRows - c * this.chunkRows)
  }

  /**
   * Bins the rows of `X` (row-major float32, NaN = missing) and appends them with their labels `y` and, for weighted
   * rows, their weights. Throws `INVALID_INPUT` on mismatched lengths, `INVALID_DATA` on a bad category code.
   */
  append(X: DenseMatrix, y: Float64Array, weight?: Float64Array): void {
    const nFeatures = this.nFeatures
    this.#checkAppend(X.rows, y, weight)
    if (X.cols !== nFeatures || X.data.length < X.rows * X.cols) {
      throw new ScalemlError(
        'INVALID_INPUT',
        `Expected rows of ${nFeatures} features, got ${X.cols} (${X.rows} rows, ${X.data.length} values).`,
      )
    }
    this.#appendEach(X.rows, y, weight, (staging, at, take) => {
      const part = { rows: take, cols: nFeatures, data: X.data.subarray(at * nFeatures, (at + take) * nFeatures) }
      this.mapper.binRows(part, { mapper: this.mapper, nRows: this.chunkRows, bins: staging }, this.#filled)
    })
  }

  /** Appends rows already binned by this mapper, with their labels (and weights). */
  appendBinned(binned: BinnedData, y: Float64Array, weight?: Float64Array): void {
    if (binned.mapper !== this.mapper) {
      throw new ScalemlError('INVALID_ARGUMENT', 'appendBinned needs rows binned with the same bin mapper.')
    }
    this.#checkAppend(binned.nRows, y, weight)
    const { nRows, bins } = binned
    this.#appendEach(nRows, y, weight, (staging, at, take) => {
      for (let f = 0; f < this.nFeatures; f++) {
        staging.set(bins.subarray(f * nRows + at, f * nRows + at + take), f * this.chunkRows + this.#filled)
      }
    })
  }

  /** Writes the last, partial chunk; no appends after this. */
  finish(): void {
    if (this.#staging === undefined) return
    if (this.#filled > 0) this.#flush()
    this.#staging = undefined
  }

  /** Reads chunk `c`'s bins (`chunkLength(c) × nFeatures` bytes, column-major) into `into`. */
  readBins(c: number, into: Uint8Array): void {
    this.#file.read(c, 0, into.subarray(0, this.chunkLength(c) * this.nFeatures))
  }

  /** Reads chunk `c`'s labels into `into`. */
  readLabels(c: number, into: Float64Array): void {
    this.#file.read(c, this.#labelOffset, into.subarray(0, this.chunkLength(c)))
  }

  /** Reads chunk `c`'s weights into `into` (weighted rows only). */
  readWeights(c: number, into: Float64Array): void {
    if (!this.weighted) throw new Error('ExternalRows.readWeights on unweighted rows')
    this.#file.read(c, this.#weightOffset, into.subarray(0, this.chunkLength(c)))
  }

  /** A new spill file in this folder for per-chunk state of `chunkBytes` bytes a chunk (closed by {@link remove}). */
  scratchFile(name: string, chunkBytes: number): SpillFile {
    return this.folder.file(name, chunkBytes)
  }

  /** Deletes the spill folder and everything in it (idempotent). */
  remove(): void {
    this.#staging = undefined
    this.folder.remove()
  }

  #checkAppend(rows: number, y: Float64Array, weight: Float64Array | undefined): void {
    if (this.#staging === undefined) {
      throw new ScalemlError('INVALID_ARGUMENT', 'Cannot append to external rows after finish() or remove().')
    }
    if (y.length !== rows) {
      throw new ScalemlError('INVALID_INPUT', `y has ${y.length} values for ${rows} rows.`)
    }
    if (this.weighted !== (weight !== undefined)) {
      throw new ScalemlError(
        'INVALID_INPUT',
        this.weighted
          ? 'These external rows are weighted: pass a weight per row.'
          : 'These external rows are not weighted; create them with weighted: true to pass weights.',
      )
    }
    if (weight !== undefined && weight.length !== rows) {
      throw new ScalemlError('INVALID_INPUT', `sampleWeight has ${weight.length} values for ${rows} rows.`)
    }
  }

  /** Splits `rows` rows over the chunks: `fill(bins, at, take)` bins rows `[at, at + take)` into the staging chunk. */
  #appendEach(
    rows: number,
    y: Float64Array,
    weight: Float64Array | undefined,
    fill: (bins: Uint8Array, at: number, take: number) => void,
  ): void {
    const staging = this.#staging!
    for (let at = 0; at < rows; ) {
      const take = Math.min(this.chunkRows - this.#filled, rows - at)
      fill(staging.bins, at, take)
      staging.label.set(y.subarray(at, at + take), this.#filled)
      if (weight !== undefined) staging.weight.set(weight.subarray(at, at + take), this.#filled)
      this.#filled += take
      at += take
      if (this.#filled === this.chunkRows) this.#flush()
    }
  }

  #flush(): void {
    const staging = this.#staging!
    const n = this.#filled
    const C = this.chunkRows
    // The staging chunk is laid out for C rows; a short last chunk is stored compactly (f × n + r).
    if (n < C) for (let f = 1; f < this.nFeatures; f++) staging.bins.copyWithin(f * n, f * C, f * C + n)
    const c = this.#nChunks
    this.#file.write(c, 0, staging.bins.subarray(0, n * this.nFeatures))
    this.#file.write(c, this.#labelOffset, staging.label.subarray(0, n))
    if (this.weighted) this.#file.write(c, this.#weightOffset, staging.weight.subarray(0, n))
    this.#nChunks++
    this.#nRows += n
    this.#filled = 0
  }
}
