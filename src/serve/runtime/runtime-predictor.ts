/**
 * The batch predictor the runtime runs, in the server's thread or on a worker thread: `createBatchPredictor` for
 * every native model (synchronous), and an asynchronous one for imported ONNX models, whose onnxruntime session only
 * predicts through a Promise. Both fill the same prediction fields, so an answer has one shape whatever the model.
 * @module
 */
import type { Batch } from '../../data/batch.js'
import { isOnnxModel, type OnnxModel } from '../../models/formats/onnx-model.js'
import { createBatchPredictor, type PredictionField, type ServableModel } from '../predictor.js'

/** Predicts batches for one model version: one column per field, synchronously or not. */
export interface RuntimePredictor {
  readonly fields: readonly PredictionField[]
  predict(batch: Batch): readonly Float64Array[] | Promise<readonly Float64Array[]>
  /** Frees what the model holds outside the heap (an onnxruntime session). */
  release(): Promise<void>
}

/**
 * The predictor for `servable`.
 *
 * @example
 * const predictor = createRuntimePredictor(servable)
 * const [probability, label] = await predictor.predict(batch)
 */
export function createRuntimePredictor(servable: ServableModel): RuntimePredictor {
  const { model } = servable
  if (isOnnxModel(model)) return onnxPredictor(servable, model)
  const predictor = createBatchPredictor(servable)
  return {
    fields: predictor.fields,
    predict: (batch) => predictor.predict(batch).values,
    release: () => Promise.resolve(),
  }
}

function onnxPredictor(servable: ServableModel, model: OnnxModel): RuntimePredictor {
  const { pipeline } = servable
  const release = () => model.release()
  if (model.task === 'regression') {
    return {
      fields: [{ name: 'value', type: 'float' }],
      // A fresh feature buffer per batch: runs may overlap while onnxruntime works.
      predict: async (batch) => [(await model.runAsync(pipeline.transform(batch))).values!],
      release,
    }
  }
  const classes = model.classes
  const k = classes.length
  const labelType: PredictionField['type'] =
    servable.manifest.target?.kind === 'boolean' ? 'bool' : classes.every(Number.isSafeInteger) ? 'int' : 'float'
  return {
    fields: [
      { name: 'probability', type: 'float' },
      { name: 'label', type: labelType },
    ],
    async predict(batch) {
      const { probabilities, labels } = await model.runAsync(pipeline.transform(batch))
      const rows = batch.length
      const probability = new Float64Array(rows)
      for (let r = 0; r < rows; r++) {
        // As for native classifiers: the positive class's probability for two classes, else the predicted class's.
        if (k === 2) probability[r] = probabilities![r * 2 + 1]!
        else {
          let best = 0
          for (let c = 1; c < k; c++) if (probabilities![r * k + c]! > probabilities![r * k + best]!) best = c
          probability[r] = probabilities![r * k + best]!
        }
      }
      return [probability, labels!]
    },
    release,
  }
}
