/**
 * The feature blocks a pipeline produces and a model consumes: dense row-major rows, and sparse rows with a fixed
 * number of stored entries per row (ELLPACK), which is what one-hot, datetime and hashed features are.
 * @module
 */

/** `rows × cols` row-major float32 features: value (r, c) is `data[r * cols + c]`. */
export interface DenseMatrix {
  readonly data: Float32Array
  readonly rows: number
  readonly cols: number
}

/** Allocates a zeroed matrix. */
export function zeros(rows: number, cols: number): DenseMatrix {
  return { data: new Float32Array(rows * cols), rows, cols }
}

/** Wraps `data` as a matrix, checking the size. */
export function matrix(data: Float32Array, rows: number, cols: number): DenseMatrix {
  if (data.length !== rows * cols) throw new RangeError(`matrix: ${data.length} values for ${rows}×${cols}`)
  return { data, rows, cols }
}

/** Copies a list of rows into a matrix (tests, small inputs). */
export function fromRows(rows: readonly (readonly number[])[]): DenseMatrix {
  const cols = rows[0]?.length ?? 0
  const data = new Float32Array(rows.length * cols)
  rows.forEach((row, r) => {
    for (let c = 0; c < cols; c++) data[r * cols + c] = row[c] ?? 0
  })
  return { data, rows: rows.length, cols }
}

/**
 * `rows × cols` float32 features stored as exactly `nnzPerRow` entries per row (the ELLPACK layout): entry `k` of
 * row `r` sits at `e = r * nnzPerRow + k` and means "value (r, indices[e]) is values[e]". Within a row the indices
 * are strictly ascending and in `[0, cols)`; every position not listed is 0. A stored value may itself be 0 (a
 * null datetime, a hashed null, a scaler output that rounds to 0), so a row with fewer nonzeros pads with explicit
 * zeros at unused indices.
 *
 * Why a fixed count rather than CSR: every scaleml transformer writes a fixed number of entries per row (one per
 * one-hot or hashed column, one per scaled column, one or two per datetime part), so each step writes its entries
 * at a fixed offset of every row, independently of the other steps, exactly as dense steps write their column
 * slice, with no row-pointer array to build by a prefix sum; and row `r` is found by one multiplication, which a
 * shuffled pass over the rows needs.
 */
export interface SparseRows {
  readonly kind: 'sparse'
  readonly rows: number
  readonly cols: number
  /** Stored entries per row. */
  readonly nnzPerRow: number
  /** `rows × nnzPerRow` column indices, ascending within each row. */
  readonly indices: Int32Array
  /** `rows × nnzPerRow` values, aligned with `indices`. */
  readonly values: Float32Array
}

/**
 * Caller-owned, reusable storage for sparse rows (see `Pipeline.transformSparse`): the producer replaces an array
 * that is too small by a larger one and never shrinks them, so a training loop that passes the same object for
 * every batch allocates only while the batches grow.
 */
export interface SparseBuffers {
  indices: Int32Array
  values: Float32Array
}

/** Empty {@link SparseBuffers}, to be grown by the first producer that writes into them. */
export function sparseBuffers(): SparseBuffers {
  return { indices: new Int32Array(0), values: new Float32Array(0) }
}

/** Wraps ELLPACK arrays as {@link SparseRows}, checking the sizes (the index order is the consumer's to check). */
export function sparseRows(
  indices: Int32Array,
  values: Float32Array,
  shape: { readonly rows: number; readonly cols: number; readonly nnzPerRow: number },
): SparseRows {
  const { rows, cols, nnzPerRow } = shape
  const size = rows * nnzPerRow
  if (indices.length !== size || values.length !== size || nnzPerRow > cols) {
    throw new RangeError(
      `sparseRows: ${indices.length} indices and ${values.length} values for ${rows} rows × ${nnzPerRow} entries (of ${cols} columns)`,
    )
  }
  return { kind: 'sparse', rows, cols, nnzPerRow, indices, values }
}

/** True when `X` is {@link SparseRows} (a `DenseMatrix` has no `kind`). */
export function isSparseRows(X: DenseMatrix | SparseRows): X is SparseRows {
  return (X as Partial<SparseRows>).kind === 'sparse'
}

/**
 * The dense expansion of `X`: zeros, then each stored value written at its position. Into `out` when it is large
 * enough (its first `rows × cols` values are overwritten), else into a new array.
 */
export function sparseToDense(X: SparseRows, out?: Float32Array): DenseMatrix {
  const { rows, cols, nnzPerRow, indices, values } = X
  const size = rows * cols
  const data = out !== undefined && out.length >= size ? out.subarray(0, size) : new Float32Array(size)
  data.fill(0)
  scatterRows(indices, values, nnzPerRow, rows, data, cols)
  return { data, rows, cols }
}

/**
 * Writes `values[e]` to `out[r * cols + indices[e]]` for every entry of rows `[0, rows)`; positions not listed are
 * left as they are (the caller zeroes them first). Allocates nothing.
 */
export function scatterRows(
  indices: Int32Array,
  values: Float32Array,
  nnzPerRow: number,
  rows: number,
  out: Float32Array,
  cols: number,
): void {
  for (let r = 0, e = 0, base = 0; r < rows; r++, base += cols) {
    for (const end = e + nnzPerRow; e < end; e++) out[base + indices[e]!] = values[e]!
  }
}

/**
 * Dense rows as {@link SparseRows} (tests, small inputs, callers holding dense data): `nnzPerRow` is the most
 * nonzeros of any row (at least 1 when `cols > 0`), and a row with fewer is padded with explicit zeros at its
 * first zero-valued columns, so indices still ascend. The dense expansion gives back `X` (a -0 becomes +0).
 */
export function denseToSparse(X: DenseMatrix): SparseRows {
  const { data, rows, cols } = X
  let nnzPerRow = Math.min(1, cols)
  for (let r = 0; r < rows; r++) {
    let n = 0
    for (let j = 0; j < cols; j++) if (data[r * cols + j] !== 0) n++
    if (n > nnzPerRow) nnzPerRow = n
  }
  const indices = new Int32Array(rows * nnzPerRow)
  const values = new Float32Array(rows * nnzPerRow)
  for (let r = 0; r < rows; r++) {
    let n = 0
    for (let j = 0; j < cols; j++) if (data[r * cols + j] !== 0) n++
    let padding = nnzPerRow - n
    let e = r * nnzPerRow
    for (let j = 0; j < cols; j++) {
      const v = data[r * cols + j]!
      if (v !== 0 || padding > 0) {
        if (v === 0) padding--
        indices[e] = j
        values[e++] = v === 0 ? 0 : v
      }
    }
  }
  return { kind: 'sparse', rows, cols, nnzPerRow, indices, values }
}
