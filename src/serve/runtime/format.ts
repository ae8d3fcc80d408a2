/**
 * Prediction columns → the JSON objects a predict answer carries (`{"probability": p, "label": true}` per row), the
 * same shape `predictBody` gives, and the fallback answers; and the JSON text of a whole predict answer.
 * @module
 */
import type { PredictionField } from '../predictor.js'
import type { ModelId } from './runtime.js'

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

/** Writes the JSON text of predict answers for one model version; the parts that never change are made once. */
export interface PredictionWriter {
  /**
   * `{"model":{"name":…,"version":…},"predictions":[…]}` for rows `offset … offset + rows - 1` of `values`, written
   * straight from the columns (no object per row): the text `JSON.stringify` gives for the same answer. Numbers are
   * written as `JSON.stringify` writes them (shortest round trip, `-0` as `0`, non-finite as `null`).
   */
  answer(values: readonly Float64Array[], offset: number, rows: number): string
}

/**
 * A {@link PredictionWriter} for answers of `model` with prediction columns `fields`.
 *
 * @example
 * const writer = createPredictionWriter({ name: 'flights', version: 3 }, fields)
 * writer.answer([probability, label], 0, 1) // '{"model":{"name":"flights","version":3},"predictions":[{…}]}'
 */
export function createPredictionWriter(model: ModelId, fields: readonly PredictionField[]): PredictionWriter {
  const prefix = `{"model":${JSON.stringify({ name: model.name, version: model.version })},"predictions":[`
  const nFields = fields.length
  // Each field's key with what comes before it: `{"probability":`, `,"label":`.
  const keys = fields.map((field, f) => `${f === 0 ? '{' : ','}${JSON.stringify(field.name)}:`)
  const bool = fields.map((field) => field.type === 'bool')
  return {
    answer(values, offset, rows) {
      let out = prefix
      const end = offset + rows
      for (let r = offset; r < end; r++) {
        if (r > offset) out += ','
        for (let f = 0; f < nFields; f++) {
          const value = values[f]![r]!
          out += keys[f]!
          if (bool[f]) out += value === 1 ? 'true' : 'false'
          else out += Number.isFinite(value) ? String(value) : 'null'
        }
        out += '}'
      }
      return `${out}]}`
    },
  }
}
