/**
 * ONNX models turned into artifacts: the imported model (its `.onnx` bytes become one artifact file, hashed like
 * every other) plus a pipeline that passes its float feature columns through (missing values as NaN), so an
 * imported model is registered, loaded and served like a native one. The model itself is
 * `models/formats/onnx-model.ts`.
 * @module
 */
import { basename } from 'node:path'
import type { Field } from '../../data/batch.js'
import { importOnnxModel, type OnnxImportOptions } from '../../models/formats/onnx-model.js'
import { Passthrough } from '../../preprocess/passthrough.js'
import { Pipeline } from '../../preprocess/pipeline.js'
import type { ArtifactContent } from '../artifact.js'
import { readModelFile } from '../model-file.js'

/**
 * The artifact content for ONNX bytes. Throws `INVALID_INPUT` for bytes onnxruntime cannot load or a model whose
 * inputs or outputs scaleml cannot serve (naming them), `INVALID_ARGUMENT` for options that do not fit the model.
 *
 * @example
 * const content = await onnxArtifactContent(bytes, { source: 'churn.onnx' })
 * await registry.register('churn', content)
 */
export async function onnxArtifactContent(
  bytes: Uint8Array,
  options: OnnxImportOptions = {},
): Promise<ArtifactContent> {
  const model = await importOnnxModel(bytes, options)
  try {
    const features = model.featureNames
    const inputs: Field[] = features.map((name) => ({ name, type: 'float', nullable: true }))
    const pipeline = new Pipeline({ inputs, steps: [new Passthrough({ columns: features })] })
    return {
      task: model.task,
      modelKind: model.kind,
      inputSchema: inputs,
      features,
      pipeline,
      model,
      params: {},
      metrics: {},
      lineage: {
        importedFrom: {
          format: 'onnx',
          ...(options.source === undefined ? {} : { file: basename(options.source) }),
          sha256: model.params.sha256,
          inputs: [...model.params.inputs],
          outputs: { ...model.params.outputs },
        },
      },
    }
  } finally {
    await model.release()
  }
}

/**
 * {@link onnxArtifactContent} for a file: what `scaleml models import --format onnx <file>` registers. Throws
 * `SOURCE_NOT_FOUND` when the file cannot be read.
 */
export async function importOnnxFile(file: string, options: OnnxImportOptions = {}): Promise<ArtifactContent> {
  const bytes = await readModelFile(file)
  return onnxArtifactContent(bytes, { ...options, source: options.source ?? file })
}
