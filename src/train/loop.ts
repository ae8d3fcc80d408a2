/**
 * The out-of-core training loop: passes over a `Source`, each batch transformed by the fitted pipeline and fed to
 * `partialFit`. Memory is O(batch): nothing is kept between batches but the model.
 * @module
 */
import type { Source } from '../data/source.js'
import type { SupervisedEstimator } from '../models/estimator.js'
import type { Pipeline } from '../preprocess/pipeline.js'
import { extractLabels } from './labels.js'
import type { ProgressListener } from './progress.js'

/** Options of {@link fitStream}. */
export interface FitStreamOptions {
  /** Passes over the data (default 1). */
  readonly epochs?: number
  /** Column of each batch holding the label. */
  readonly targetColumn: string
  /** Every class the labels take (classification). */
  readonly classes?: readonly number[]
  /** Rows of one pass, for progress ETA. */
  readonly totalRows?: number
  readonly onProgress?: ProgressListener
}

/** What a fit saw. */
export interface FitStreamResult {
  /** Rows with a label seen per epoch. */
  readonly rowsPerEpoch: number
}

/**
 * Trains `model` incrementally on `source` for `epochs` passes.
 *
 * @example
 * const { rowsPerEpoch } = await fitStream(model, pipeline, source, { targetColumn: '__target', epochs: 3, classes: [0, 1] })
 */
export async function fitStream(
  model: SupervisedEstimator,
  pipeline: Pipeline,
  source: Source,
  options: FitStreamOptions,
): Promise<FitStreamResult> {
  const epochs = options.epochs ?? 1
  let rowsPerEpoch = 0
  // One feature buffer for the whole fit: the largest allocation per batch otherwise.
  let buffer: Float32Array = new Float32Array(0)
  for (let epoch = 1; epoch <= epochs; epoch++) {
    let rows = 0
    for await (const raw of source) {
      const { batch, y } = extractLabels(raw, options.targetColumn)
      if (batch.length === 0) continue
      const X = pipeline.transform(batch, buffer)
      if (X.data.buffer !== buffer.buffer) buffer = X.data
      if (model.task === 'classification') {
        model.partialFit(X, y, options.classes ? { classes: options.classes } : {})
      } else {
        model.partialFit(X, y)
      }
      rows += batch.length
      options.onProgress?.({ phase: 'train', epoch, epochs, rows, totalRows: options.totalRows })
    }
    rowsPerEpoch = rows
  }
  return { rowsPerEpoch }
}
