/**
 * Checks of the labels and weights of rows on disk ({@link ExternalRows}) before external-memory boosting, the
 * streaming counterparts of fit-inputs.ts: finite labels, finite weights ≥ 0, and class labels rewritten in place as
 * class indices. One pass over the chunks each; errors name the row (its index in the appended order).
 * @module
 */
import { ScalemlError } from '../../../core/errors.js'
import type { ExternalRows } from './external-rows.js'
import type { TrainingState } from './training-state.js'

/** Most distinct labels a classifier's external rows may hold when no class list is given. */
export const MAX_EXTERNAL_CLASSES = 65_536

/** Throws unless the rows are finished and hold at least one row. */
export function checkExternalRows(owner: string, rows: ExternalRows): void {
  if (!rows.finished) {
    throw new ScalemlError('INVALID_ARGUMENT', `${owner}: call finish() on the external rows before fitting on them.`)
  }
  if (!rows.folder.exists) throw new ScalemlError('INVALID_ARGUMENT', `${owner}: the external rows were removed.`)
  if (rows.nRows === 0) throw new ScalemlError('INVALID_DATA', `${owner}: cannot fit on zero rows.`)
}

/**
 * Checks every label is finite and every weight finite and ≥ 0 (`INVALID_DATA` naming the row), with the messages of
 * fit-inputs.ts; `name` prefixes the argument names (`evalSet.` for validation rows).
 */
export function checkExternalLabels(owner: string, rows: ExternalRows, name = ''): void {
  const label = new Float64Array(rows.chunkRows)
  const weight = new Float64Array(rows.weighted ? rows.chunkRows : 0)
  for (let c = 0; c < rows.nChunks; c++) {
    const n = rows.chunkLength(c)
    rows.readLabels(c, label)
    if (rows.weighted) rows.readWeights(c, weight)
    for (let i = 0; i < n; i++) {
      const r = c * rows.chunkRows + i
      if (!Number.isFinite(label[i]!)) {
        throw new ScalemlError(
          'INVALID_DATA',
          `${owner}: ${name}y[${r}] is ${label[i]}; labels must be finite numbers.`,
          [
            {
              code: 'invalid_value',
              path: [`${name}y`, r],
              message: 'not a finite number',
              received: String(label[i]),
            },
          ],
        )
      }
      if (rows.weighted && !(weight[i]! >= 0 && Number.isFinite(weight[i]!))) {
        throw new ScalemlError(
          'INVALID_DATA',
          `${owner}: ${name}sampleWeight[${r}] is ${weight[i]}; weights must be finite and ≥ 0.`,
          [{ code: 'invalid_value', path: [`${name}sampleWeight`, r], message: 'not a finite weight ≥ 0' }],
        )
      }
    }
  }
}

/**
 * The sorted distinct labels of the rows (a classifier's classes when none are given); throws `INVALID_DATA` past
 * {@link MAX_EXTERNAL_CLASSES} of them (a regression target, most likely).
 */
export function distinctExternalLabels(owner: string, rows: ExternalRows): number[] {
  const seen = new Set<number>()
  const label = new Float64Array(rows.chunkRows)
  for (let c = 0; c < rows.nChunks; c++) {
    const n = rows.chunkLength(c)
    rows.readLabels(c, label)
    for (let i = 0; i < n; i++) seen.add(label[i]!)
    if (seen.size > MAX_EXTERNAL_CLASSES) {
      throw new ScalemlError(
        'INVALID_DATA',
        `${owner}: the labels take more than ${MAX_EXTERNAL_CLASSES.toLocaleString('en-US')} distinct values; a classifier needs class labels (is this a regression target?).`,
      )
    }
  }
  return [...seen].sort((a, b) => a - b)
}

/**
 * Writes each row's class index (its label's index in `classes`) into `state`; throws `INVALID_DATA` naming the first
 * row whose label is not a class (`name` as in {@link checkExternalLabels}).
 */
export function writeClassIndices(state: TrainingState, classes: readonly number[], name = ''): void {
  const rows = state.rows
  const index = new Map<number, number>()
  classes.forEach((c, i) => {
    index.set(c, i)
  })
  const label = new Float64Array(rows.chunkRows)
  for (let c = 0; c < rows.nChunks; c++) {
    const n = rows.chunkLength(c)
    rows.readLabels(c, label)
    for (let i = 0; i < n; i++) {
      const k = index.get(label[i]!)
      if (k === undefined) {
        const r = c * rows.chunkRows + i
        throw new ScalemlError(
          'INVALID_DATA',
          `${name}y[${r}] = ${label[i]} is not one of the classes [${classes.join(', ')}].`,
          [{ code: 'invalid_value', path: [`${name}y`, r], message: 'not a known class', received: String(label[i]) }],
        )
      }
      label[i] = k
    }
    state.writeClassIndices(c, label)
  }
}
