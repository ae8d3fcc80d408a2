/**
 * Prediction columns → the JSON objects a predict answer carries (`{"probability": p, "label": true}` per row), the
 * same shape `predictBody` gives, and the fallback answers.
 * @module
 */
import type { PredictionField } from '../predictor.js'

/** One row's answer: field name → number, or boolean for a boolean label. */
export type PredictionObject = Record<string, number | boolean>

/**
 * Row objects from prediction columns (`values[f][r]`: field `f` of row `r`).
 *
 * @example
 * predictionObjects([{ name: 'value', type: 'float' }], [Float64Array.of(1.5)], 1) // [{ value: 1.5 }]
 */
export function predictionObjects(
  fields: readonly PredictionField[],
  values: readonly Float64Array[],
  rows: number,
): PredictionObject[] {
  const out: PredictionObject[] = new Array(rows)
  const nFields = fields.length
  for (let r = 0; r < rows; r++) {
    const prediction: PredictionObject = {}
    for (let f = 0; f < nFields; f++) {
      const field = fields[f]!
      const value = values[f]![r]!
      prediction[field.name] = field.type === 'bool' ? value === 1 : value
    }
    out[r] = prediction
  }
  return out
}

/**
 * The JSON text of `predictionObjects(fields, values, rows)`, written straight from the columns (no object per
 * row): `[{"probability":0.25,"label":false},…]`. Numbers are written as `JSON.stringify` writes them (shortest
 * round trip, `-0` as `0`, non-finite as `null`).
 */
export function predictionsJson(
  fields: readonly PredictionField[],
  values: readonly Float64Array[],
  rows: number,
): string {
  const nFields = fields.length
  const keys = fields.map((field, f) => `${f === 0 ? '{' : ','}${JSON.stringify(field.name)}:`)
  const bool = fields.map((field) => field.type === 'bool')
  let out = '['
  for (let r = 0; r < rows; r++) {
    if (r > 0) out += ','
    for (let f = 0; f < nFields; f++) {
      const value = values[f]![r]!
      out += keys[f]!
      if (bool[f]) out += value === 1 ? 'true' : 'false'
      else out += Number.isFinite(value) ? String(value) : 'null'
    }
    out += '}'
  }
  return `${out}]`
}
