/**
 * ONNX export of registered models: the artifact's pipeline and model become one ONNX graph of standard operators
 * (`ai.onnx` opset 17, `ai.onnx.ml` opset 3, IR version 8), so onnxruntime, Triton or any ONNX runtime serves the
 * model from the raw input columns. What exports: linear models (SGD, perceptron, passive-aggressive) and tree
 * ensembles (GBDT, random forests, imported XGBoost), with StandardScaler, OneHotEncoder, OrdinalEncoder,
 * DatetimeParts and Passthrough steps. What does not, with the reason in the error: FeatureHasher steps, naive
 * Bayes, clustering. See docs/guides/onnx.md.
 * @module
 */
import { resolve } from 'node:path'
import { ScalemlError } from '../../core/errors.js'
import { writeFileAtomic } from '../../infra/durable-fs.js'
import { modelFromJSON } from '../../models/catalog.js'
import type { EstimatorJSON, SupervisedEstimator } from '../../models/estimator.js'
import { Pipeline } from '../../preprocess/pipeline.js'
import { type LoadedArtifact, sha256Hex } from '../artifact.js'
import type { Manifest } from '../manifest.js'
import type { ModelRef, Registry } from '../registry.js'
import { type ExportPrecision, exportLinear, isLinearModel } from './export-linear.js'
import { OUTPUT_NAMES } from './export-outputs.js'
import { exportPipeline } from './export-pipeline.js'
import { exportTrees, isTreeModel } from './export-trees.js'
import { GraphBuilder, ML_DOMAIN } from './graph-builder.js'
import { encodeModel, type OnnxValueInfo } from './onnx-proto.js'

/** Opset versions of exported models. */
export const ONNX_OPSET = 17
export const ONNX_ML_OPSET = 3
/** IR version that goes with opset 17 (ONNX 1.12). */
export const ONNX_IR_VERSION = 8

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /**
   * 'float64' (default): scaleml's arithmetic in float64 wherever ONNX allows it — StandardScaler and linear models
   * as standard `ai.onnx` operators (Sub/Div, MatMul/Add/Sigmoid), tree ensembles with float64 tensor attributes —
   * so features are bit-identical and predictions agree to float32 rounding. 'float32': the classic `ai.onnx.ml`
   * forms every ONNX-ML runtime runs — `Scaler`, `LinearClassifier`, `LinearRegressor`, float tree attributes —
   * which compute in float32 (probabilities within ~3e-5 for margins near 50).
   */
  readonly precision?: ExportPrecision
}

/** An exported model. */
export interface OnnxExport {
  /** The `.onnx` file's bytes. */
  readonly bytes: Uint8Array
  /** What the export mapped to what, and every caveat a user should read (values compared in float32, …). */
  readonly notes: readonly string[]
  /** The graph inputs (one per raw input column) and outputs. */
  readonly inputs: readonly OnnxValueInfo[]
  readonly outputs: readonly OnnxValueInfo[]
}

const EXPORTABLE =
  'linear models (sgd, perceptron, passive-aggressive) and tree ensembles (gbdt, random forests, imported XGBoost)'

/**
 * Turns a loaded artifact into an ONNX model. Throws `INVALID_ARGUMENT` naming what cannot be exported and why (a
 * FeatureHasher step, a naive Bayes or clustering model; see docs/guides/onnx.md).
 *
 * @example
 * const { bytes, notes } = exportOnnx(await registry.load('flights:3'))
 * const session = await ort.InferenceSession.create(bytes)
 */
export function exportOnnx(artifact: LoadedArtifact, options: ExportOnnxOptions = {}): OnnxExport {
  const { manifest } = artifact
  const stored = storedOnnx(artifact)
  if (stored !== undefined) return stored
  const model = exportableModel(manifest, artifact.model)
  const pipeline = Pipeline.fromJSON(artifact.pipeline)
  for (const field of pipeline.inputSchema.fields) {
    if ((Object.values(OUTPUT_NAMES) as string[]).includes(field.name)) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `Cannot export to ONNX: the input column '${field.name}' has the name of an output of exported models (${Object.values(OUTPUT_NAMES).join(', ')}).`,
      )
    }
  }
  const notes: string[] = []
  const g = new GraphBuilder()
  g.reserve(Object.values(OUTPUT_NAMES))
  const precision = options.precision ?? 'float64'
  const { features, width, inputs } = exportPipeline(g, pipeline, notes, {
    scaler: precision === 'float64' ? 'exact' : 'ml-scaler',
  })
  const mapping = isLinearModel(model)
    ? exportLinear(g, features, width, model, precision)
    : exportTrees(g, features, width, model, precision)
  notes.unshift(
    `${manifest.name}:${manifest.version}: ${mapping}; preprocessing [${pipeline.steps.map((s) => s.kind).join(', ')}].`,
  )
  const graph = g.build(
    manifest.name,
    `scaleml model ${manifest.name}:${manifest.version} (${manifest.modelKind}): inputs are the raw columns, one [N, 1] tensor each.`,
  )
  const bytes = encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsets: [
      { domain: '', version: ONNX_OPSET },
      { domain: ML_DOMAIN, version: ONNX_ML_OPSET },
    ],
    producerName: 'scaleml',
    producerVersion: manifest.lineage.packageVersion,
    docString: graph.docString,
    graph,
    metadata: {
      'scaleml.model': `${manifest.name}:${manifest.version}`,
      'scaleml.modelKind': manifest.modelKind,
      'scaleml.task': manifest.task,
      ...(manifest.target === undefined
        ? {}
        : { 'scaleml.target': manifest.target.expression, 'scaleml.targetKind': manifest.target.kind }),
      ...(model.task === 'classification' ? { 'scaleml.classes': JSON.stringify(model.classes) } : {}),
    },
  })
  return { bytes, notes, inputs, outputs: graph.outputs }
}

/** An imported ONNX model is exported as the file it came from. */
function storedOnnx(artifact: LoadedArtifact): OnnxExport | undefined {
  const json = artifact.model as Partial<EstimatorJSON> | null
  if (typeof json?.kind !== 'string' || !json.kind.startsWith('onnx-')) return undefined
  const bytes = (json.state as { onnx?: unknown } | undefined)?.onnx
  if (!(bytes instanceof Uint8Array)) {
    throw new ScalemlError('ARTIFACT_INVALID', `The ${json.kind} model of ${artifact.manifest.name} has no ONNX bytes.`)
  }
  return {
    bytes,
    notes: [`${artifact.manifest.name}:${artifact.manifest.version} was imported from ONNX; exported as stored.`],
    inputs: [],
    outputs: [],
  }
}

/** The artifact's model when scaleml can export it; else `INVALID_ARGUMENT` saying why not. */
function exportableModel(manifest: Manifest, json: unknown): SupervisedEstimator {
  const kind = manifest.modelKind
  if (manifest.task === 'clustering') {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Cannot export ${manifest.name}:${manifest.version} to ONNX: '${kind}' is a clustering model, and ONNX-ML has no clustering operator (only ${EXPORTABLE} are exported).`,
    )
  }
  if (kind.endsWith('-nb')) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Cannot export ${manifest.name}:${manifest.version} to ONNX: '${kind}' is a naive Bayes model, and ONNX-ML has no naive Bayes operator (only ${EXPORTABLE} are exported).`,
    )
  }
  const model = modelFromJSON(json as EstimatorJSON)
  if (model.task === 'clustering' || !(isLinearModel(model) || isTreeModel(model))) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Cannot export ${manifest.name}:${manifest.version} to ONNX: '${kind}' has no ONNX mapping (only ${EXPORTABLE} are exported).`,
    )
  }
  return model
}

/** What {@link exportModelToOnnx} wrote. */
export interface OnnxExportResult {
  /** The absolute path of the written file. */
  readonly file: string
  readonly bytes: number
  readonly sha256: string
  readonly model: { readonly name: string; readonly version: number }
  readonly notes: readonly string[]
}

/**
 * Exports a registered model (`name`, `name:version`) to `outFile`, atomically: the bytes are written and flushed
 * to a temporary file in the same folder, which is then renamed over `outFile`, so a killed export leaves no partial
 * file (and an existing `outFile` is replaced only by a complete one). Throws `MODEL_NOT_FOUND`, the errors of
 * {@link exportOnnx}, or `INVALID_ARGUMENT` when the folder of `outFile` does not exist.
 *
 * @example
 * const { file, notes } = await exportModelToOnnx(registry, 'flights:3', 'flights.onnx')
 */
export async function exportModelToOnnx(
  registry: Registry,
  ref: string | ModelRef,
  outFile: string,
  options: ExportOnnxOptions = {},
): Promise<OnnxExportResult> {
  const artifact = await registry.load(ref)
  const exported = exportOnnx(artifact, options)
  const file = resolve(outFile)
  await writeFileAtomic(file, exported.bytes)
  return {
    file,
    bytes: exported.bytes.length,
    sha256: sha256Hex(exported.bytes),
    model: { name: artifact.manifest.name, version: artifact.manifest.version },
    notes: exported.notes,
  }
}
