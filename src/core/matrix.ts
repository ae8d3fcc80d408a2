/**
 * The dense row-major feature block a pipeline produces and a model consumes.
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
