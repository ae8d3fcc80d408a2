/**
 * Models trained elsewhere, turned into artifacts: the parsed model plus a pipeline that passes the raw feature
 * columns through (missing values stay NaN and follow each split's default direction), so an imported model is
 * registered, loaded and served like any other.
 * @module
 */
import { createHash } from 'node:crypto'
import { basename } from 'node:path'
import { ScalemlError } from '../core/errors.js'
import type { Field } from '../data/batch.js'
import type { OnnxImportOptions } from '../models/formats/onnx-model.js'
import { parseXgboostJson } from '../models/formats/xgboost-json.js'
import { TreeEnsembleModel } from '../models/trees/tree-ensemble-model.js'
import { Passthrough } from '../preprocess/passthrough.js'
import { Pipeline } from '../preprocess/pipeline.js'
import type { ArtifactContent } from './artifact.js'
import { readModelFile } from './model-file.js'
import { importOnnxFile } from './onnx/import.js'

/** Formats `scaleml models import` reads. */
export const IMPORT_FORMATS = ['xgboost-json', 'onnx'] as const
/** An import format. */
export type ImportFormat = (typeof IMPORT_FORMATS)[number]

/**
 * Reads a model file and returns the artifact content to register. Throws `SOURCE_NOT_FOUND` for a missing file,
 * `INVALID_ARGUMENT` for an unknown format, `INVALID_INPUT` naming the field for a malformed or unsupported model.
 *
 * @example
 * const content = await importModelFile('xgboost-json', 'model.json')
 * await registry.register('churn', content)
 */
export async function importModelFile(
  format: string,
  file: string,
  onnx: Omit<OnnxImportOptions, 'source'> = {},
): Promise<ArtifactContent> {
  if (!(IMPORT_FORMATS as readonly string[]).includes(format)) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Unknown import format '${format}'; supported: ${IMPORT_FORMATS.join(', ')}.`,
    )
  }
  if (format === 'onnx') return importOnnxFile(file, onnx)
  const bytes = await readModelFile(file)
  const parsed = parseXgboostJson(bytes)
  // XGBoost predicts by summing leaf values in float32; so does the imported model.
  const model = TreeEnsembleModel.fromEnsemble(parsed.ensemble, { accumulate: 'float32' })
  const names = parsed.ensemble.featureNames
  const inputs: Field[] = names.map((name) => ({ name, type: 'float', nullable: true }))
  const pipeline = new Pipeline({ inputs, steps: [new Passthrough({ columns: names })] })
  return {
    task: model.task,
    modelKind: model.kind,
    inputSchema: inputs,
    features: names,
    pipeline,
    model,
    params: { accumulate: 'float32' },
    metrics: {},
    lineage: {
      importedFrom: {
        format,
        file: basename(file),
        sha256: createHash('sha256').update(bytes).digest('hex'),
        xgboostVersion: parsed.version.join('.'),
        objective: parsed.xgboostObjective,
      },
    },
  }
}
