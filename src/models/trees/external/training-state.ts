/**
 * The per-row state of external-memory boosting, on disk next to the rows ({@link ExternalRows}), and the one set of
 * chunk-sized buffers every pass reads it into.
 *
 * Record `c` of the state file holds, for the rows of chunk `c` (`n` of them): the margins (`nOutputs` blocks of `n`
 * float64, output `k` of row `r` at `k × n + r`, the in-memory trainer's column-major layout per chunk), the gradient
 * pairs (`nOutputs` blocks of `2n` float32, interleaved `g, h` as the histogram kernels read them), and the row order
 * of the tree being grown (`n` uint32 chunk-local indices: the rows of each node form one contiguous, ascending range
 * per chunk, as in the in-memory grower's single row array), and, for a classifier, the labels as class indices
 * (`n` float64; the rows' own labels stay as given, so the same rows can train again). Evaluation rows keep margins
 * (and class indices) only.
 * @module
 */
import type { ExternalRows } from './external-rows.js'
import { align8, type SpillFile } from './spill-file.js'

/** Chunk-sized buffers shared by the passes of one fit (allocated once: nothing grows with the row count). */
export class ChunkBuffers {
  /** Column-major bins of one chunk. */
  readonly bins: Uint8Array
  readonly label: Float64Array
  readonly weight: Float64Array
  /** Margins of one chunk, all outputs. */
  readonly margin: Float64Array
  /**
   * Gradient pairs of one chunk of `n` rows, all outputs, as the boosting kernel writes them (output `k` interleaved
   * at `allGradHess[2kn …]`).
   */
  readonly allGradHess: Float32Array
  /** Interleaved gradient pairs of one output. */
  readonly gradHess: Float32Array
  /** Row order of one chunk, and the partition's scratch. */
  readonly rows: Uint32Array
  readonly scratch: Uint32Array

  constructor(layout: { readonly chunkRows: number; readonly nFeatures: number; readonly nOutputs: number }) {
    const { chunkRows: C, nFeatures, nOutputs: K } = layout
    this.bins = new Uint8Array(C * nFeatures)
    this.label = new Float64Array(C)
    this.weight = new Float64Array(C)
    this.margin = new Float64Array(C * K)
    this.allGradHess = new Float32Array(2 * C * K)
    this.gradHess = new Float32Array(2 * C)
    this.rows = new Uint32Array(C)
    this.scratch = new Uint32Array(C)
  }

  /** Bytes per chunk row of these buffers, for memory planning. */
  static bytesPerRow(nFeatures: number, nOutputs: number): number {
    return nFeatures + 8 + 8 + 8 * nOutputs + 8 * nOutputs + 8 + 4 + 4
  }
}

/** What a {@link TrainingState} keeps besides margins. */
export interface TrainingStateShape {
  readonly nOutputs: number
  /** Gradient pairs and row order (training rows; false for evaluation rows). */
  readonly gradients: boolean
  /** Labels as class indices, read instead of the rows' labels (classifiers). */
  readonly classIndices: boolean
}

/**
 * Margins, gradient pairs, row order (and class indices) of every chunk of some external rows, in a spill file beside
 * them.
 */
export class TrainingState {
  readonly rows: ExternalRows
  readonly nOutputs: number
  readonly shape: TrainingStateShape
  readonly #file: SpillFile
  readonly #gradOffset: number
  readonly #rowsOffset: number
  readonly #labelOffset: number

  constructor(rows: ExternalRows, shape: TrainingStateShape) {
    const C = rows.chunkRows
    const K = shape.nOutputs
    this.rows = rows
    this.nOutputs = K
    this.shape = shape
    this.#gradOffset = 8 * K * C
    this.#rowsOffset = this.#gradOffset + (shape.gradients ? 8 * K * C : 0)
    this.#labelOffset = align8(this.#rowsOffset + (shape.gradients ? 4 * C : 0))
    const bytes = this.#labelOffset + (shape.classIndices ? 8 * C : 0)
    this.#file = rows.scratchFile(shape.gradients ? 'train-state.bin' : 'eval-state.bin', bytes)
  }

  /** Bytes of this state on disk once every chunk is written. */
  get bytes(): number {
    return this.rows.nChunks * this.#file.chunkBytes
  }

  /** Reads chunk `c`'s margins of output `k`, or of all outputs when `k` is undefined, into `into[0 …]`. */
  readMargins(c: number, into: Float64Array, k?: number): void {
    const n = this.rows.chunkLength(c)
    this.#file.read(c, 8 * n * (k ?? 0), into.subarray(0, k === undefined ? n * this.nOutputs : n))
  }

  /** Writes chunk `c`'s margins of output `k` (or all outputs) from `from[0 …]`. */
  writeMargins(c: number, from: Float64Array, k?: number): void {
    const n = this.rows.chunkLength(c)
    this.#file.write(c, 8 * n * (k ?? 0), from.subarray(0, k === undefined ? n * this.nOutputs : n))
  }

  /** Reads chunk `c`'s interleaved gradient pairs of output `k` into `into[0, 2n)`. */
  readGradients(c: number, k: number, into: Float32Array): void {
    const n = this.rows.chunkLength(c)
    this.#file.read(c, this.#gradOffset + 8 * n * k, into.subarray(0, 2 * n))
  }

  /** Writes chunk `c`'s interleaved gradient pairs of output `k` from `from[0, 2n)`. */
  writeGradients(c: number, k: number, from: Float32Array): void {
    const n = this.rows.chunkLength(c)
    this.#file.write(c, this.#gradOffset + 8 * n * k, from.subarray(0, 2 * n))
  }

  /** Reads chunk `c`'s row order into `into[0, n)`. */
  readRows(c: number, into: Uint32Array): void {
    this.#file.read(c, this.#rowsOffset, into.subarray(0, this.rows.chunkLength(c)))
  }

  /** Writes chunk `c`'s row order from `from[0, n)`. */
  writeRows(c: number, from: Uint32Array): void {
    this.#file.write(c, this.#rowsOffset, from.subarray(0, this.rows.chunkLength(c)))
  }

  /** Reads chunk `c`'s training labels (class indices when kept, else the rows' labels) into `into[0, n)`. */
  readLabels(c: number, into: Float64Array): void {
    if (this.shape.classIndices) this.#file.read(c, this.#labelOffset, into.subarray(0, this.rows.chunkLength(c)))
    else this.rows.readLabels(c, into)
  }

  /** Writes chunk `c`'s class indices from `from[0, n)`. */
  writeClassIndices(c: number, from: Float64Array): void {
    if (!this.shape.classIndices) throw new Error('TrainingState: no class indices kept')
    this.#file.write(c, this.#labelOffset, from.subarray(0, this.rows.chunkLength(c)))
  }

  /** Deletes the state file (idempotent). */
  close(): void {
    this.#file.close()
  }
}
