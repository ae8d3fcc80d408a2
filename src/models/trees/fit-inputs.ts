/**
 * Checks of the inputs of the tree trainers (GBDT, random forest): matrix shapes, finite labels, sample weights,
 * class lists. Each failure is a `ScalemlError` naming the argument, the row and what was expected.
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'

/** Throws `INVALID_INPUT` unless `X` has at least one feature and holds `rows × cols` values. */
export function checkMatrix(owner: string, X: DenseMatrix): void {
  if (!Number.isInteger(X.rows) || !Number.isInteger(X.cols) || X.rows < 0 || X.cols < 1) {
    throw new ScalemlError('INVALID_INPUT', `${owner}: X must have at least one feature, got ${X.rows} × ${X.cols}.`)
  }
  if (X.data.length < X.rows * X.cols) {
    throw new ScalemlError(
      'INVALID_INPUT',
      `${owner}: X holds ${X.data.length} values, fewer than ${X.rows} rows × ${X.cols} features.`,
    )
  }
}

/** Throws `INVALID_INPUT` on a length mismatch, `INVALID_DATA` on zero rows or a non-finite label (naming the row). */
export function checkLabels(owner: string, y: Float64Array, nRows: number): void {
  if (y.length !== nRows) {
    throw new ScalemlError('INVALID_INPUT', `${owner}: y has ${y.length} values for ${nRows} rows.`)
  }
  if (nRows === 0) throw new ScalemlError('INVALID_DATA', `${owner}: cannot fit on zero rows.`)
  for (let r = 0; r < nRows; r++) {
    if (!Number.isFinite(y[r]!)) {
      throw new ScalemlError('INVALID_DATA', `${owner}: y[${r}] is ${y[r]}; labels must be finite numbers.`, [
        { code: 'invalid_value', path: ['y', r], message: 'not a finite number', received: String(y[r]) },
      ])
    }
  }
}

/** The weights (empty when absent); throws unless one finite weight ≥ 0 per row. */
export function checkWeights(owner: string, weight: Float64Array | undefined, nRows: number): Float64Array {
  if (weight === undefined) return new Float64Array(0)
  if (weight.length !== nRows) {
    throw new ScalemlError('INVALID_INPUT', `${owner}: sampleWeight has ${weight.length} values for ${nRows} rows.`)
  }
  for (let r = 0; r < nRows; r++) {
    if (!(weight[r]! >= 0) || !Number.isFinite(weight[r]!)) {
      throw new ScalemlError(
        'INVALID_DATA',
        `${owner}: sampleWeight[${r}] is ${weight[r]}; weights must be finite and ≥ 0.`,
        [{ code: 'invalid_value', path: ['sampleWeight', r], message: 'not a finite weight ≥ 0' }],
      )
    }
  }
  return weight
}

/** The sorted classes (given, or the distinct labels); throws `INVALID_DATA` with fewer than two. */
export function resolveClasses(owner: string, y: Float64Array, given: readonly number[] | undefined): number[] {
  const classes = [...new Set(given ?? y)].sort((a, b) => a - b)
  if (classes.some((c) => !Number.isFinite(c))) {
    throw new ScalemlError('INVALID_ARGUMENT', `${owner}: classes must be finite numbers, got [${classes.join(', ')}].`)
  }
  if (classes.length < 2) {
    throw new ScalemlError(
      'INVALID_DATA',
      `${owner} needs at least two classes; ${given === undefined ? 'y holds only' : 'classes lists only'} [${classes.join(', ')}]. A one-class target has nothing to learn: check the label column or the split.`,
      [{ code: 'invalid_value', path: [given === undefined ? 'y' : 'classes'], message: 'fewer than two classes' }],
    )
  }
  return classes
}

/** Each label's index in `classes`; throws `INVALID_DATA` naming the first unknown label. */
export function labelIndices(y: Float64Array, classes: readonly number[], name = 'y'): Float64Array {
  const index = new Map<number, number>()
  classes.forEach((c, i) => {
    index.set(c, i)
  })
  const out = new Float64Array(y.length)
  for (let r = 0; r < y.length; r++) {
    const k = index.get(y[r]!)
    if (k === undefined) {
      throw new ScalemlError(
        'INVALID_DATA',
        `${name}[${r}] = ${y[r]} is not one of the classes [${classes.join(', ')}].`,
        [{ code: 'invalid_value', path: [name, r], message: 'not a known class', received: String(y[r]) }],
      )
    }
    out[r] = k
  }
  return out
}
