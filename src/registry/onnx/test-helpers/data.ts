/**
 * Test data for the ONNX export suites: flights-like records with every input kind (float, bool, int, string,
 * timestamp), missing values in every column, categories unseen in training, timestamps from 1922 to 2049 (before
 * and after the epoch, some with fractional milliseconds); plus registering a trained model and running an export.
 * @module
 */
import * as ort from 'onnxruntime-node'
import { Random } from '../../../core/random.js'
import { batchFromRecords, type Field, type Schema } from '../../../data/batch.js'
import type { SupervisedEstimator } from '../../../models/estimator.js'
import type { Pipeline } from '../../../preprocess/pipeline.js'
import type { LoadedArtifact } from '../../artifact.js'
import type { Registry } from '../../registry.js'
import { type ExportOnnxOptions, exportOnnx, type OnnxExport } from '../export.js'
import { onnxFeeds } from './feeds.js'

/** One record. */
export type FlightRecord = Record<string, string | number | boolean | null>

/** The columns of {@link makeRecords}. */
export const FIELDS: readonly Field[] = [
  { name: 'distance', type: 'float', nullable: true },
  { name: 'heavy', type: 'bool', nullable: true },
  { name: 'gate', type: 'int', nullable: true },
  { name: 'origin', type: 'string', nullable: true },
  { name: 'date', type: 'timestamp', nullable: true },
]

/** {@link FIELDS} as a schema. */
export const SCHEMA: Schema = { fields: FIELDS }

const ORIGINS = ['SFO', 'LAX', 'ORD', 'JFK', 'SEA', 'BOS', 'ATL', 'DEN', 'MIA', 'PHX', 'IAH', 'DFW']

/** Epoch ms range of the dates: 1922-06 … 2049-03. */
const DATE_FROM = -1.5e12
const DATE_SPAN = 4e12

/**
 * `n` records from `seed`. About 5% of every column is null; with `unseen`, about 8% of the origins are codes never
 * seen in training and some gates are outside 1–8. Distances are float32 values (what a float32 input carries).
 */
export function makeRecords(n: number, seed: number, unseen = false): FlightRecord[] {
  const rng = new Random(seed)
  const maybe = <T>(value: () => T): T | null => (rng.next() < 0.05 ? null : value())
  return Array.from({ length: n }, () => {
    const originIndex = Math.min(ORIGINS.length - 1, Math.floor(ORIGINS.length * rng.next() ** 2))
    return {
      distance: maybe(() => Math.fround(50 + 2500 * rng.next())),
      heavy: maybe(() => rng.next() < 0.4),
      gate: maybe(() => (unseen && rng.next() < 0.1 ? 9 + rng.nextInt(3) : 1 + rng.nextInt(8))),
      origin: maybe(() => (unseen && rng.next() < 0.08 ? `ZZ${rng.nextInt(4)}` : ORIGINS[originIndex]!)),
      date: maybe(() => Math.floor(DATE_FROM + DATE_SPAN * rng.next()) + (rng.next() < 0.2 ? 0.5 : 0)),
    }
  })
}

/** A learnable score of a record: longer, SFO/LAX, evening, summer and heavy flights score higher. */
export function score(r: FlightRecord, rng: Random): number {
  const distance = typeof r.distance === 'number' ? r.distance / 1000 : 1
  const origin = r.origin === 'SFO' || r.origin === 'LAX' ? 1 : r.origin === 'ORD' ? -0.5 : 0
  const date = typeof r.date === 'number' ? r.date : 0
  const hour = Math.floor((((date % 86_400_000) + 86_400_000) % 86_400_000) / 3_600_000)
  const summer = new Date(date).getUTCMonth() >= 5 && new Date(date).getUTCMonth() <= 7 ? 0.8 : 0
  return distance + origin + (hour >= 17 ? 0.7 : 0) + summer + (r.heavy === true ? 0.5 : 0) + 0.6 * (rng.next() - 0.5)
}

/** Labels from {@link score}: binary (0/1 by a threshold) or three classes `classes` by two thresholds. */
export function labels(records: readonly FlightRecord[], classes: readonly number[] = [0, 1], seed = 3): Float64Array {
  const rng = new Random(seed)
  return Float64Array.from(records, (r) => {
    const s = score(r, rng)
    if (classes.length === 2) return s > 2 ? classes[1]! : classes[0]!
    return s < 1.6 ? classes[0]! : s < 2.4 ? classes[1]! : classes[2]!
  })
}

/** A regression target from {@link score}. */
export function target(records: readonly FlightRecord[], seed = 5): Float64Array {
  const rng = new Random(seed)
  return Float64Array.from(records, (r) => 40 * score(r, rng) - 20)
}

/** Fits `pipeline` on `records` and returns their features. */
export function fitPipeline(pipeline: Pipeline, records: readonly FlightRecord[]) {
  const batch = batchFromRecords(pipeline.inputSchema, records)
  pipeline.partialFit(batch)
  return pipeline.transform(batch)
}

/** Registers a fitted pipeline and model under `name` and loads the artifact back (through the codec). */
export async function registerAndLoad(
  registry: Registry,
  name: string,
  pipeline: Pipeline,
  model: Pick<SupervisedEstimator, 'task' | 'kind' | 'toJSON'>,
  targetKind: 'boolean' | 'numeric' = 'numeric',
): Promise<LoadedArtifact> {
  const { version } = await registry.register(name, {
    task: model.task,
    modelKind: model.kind,
    inputSchema: pipeline.inputSchema.fields,
    target: { expression: 'y', kind: targetKind },
    features: pipeline.inputSchema.fields.map((f) => f.name),
    pipeline,
    model,
  })
  return registry.load(`${name}:${version}`)
}

/** Exports an artifact and runs the ONNX model on `records`. */
export async function runExport(
  artifact: LoadedArtifact,
  records: readonly FlightRecord[],
  options: ExportOnnxOptions = {},
): Promise<{ exported: OnnxExport; outputs: Record<string, ort.Tensor> }> {
  const exported = exportOnnx(artifact, options)
  const session = await ort.InferenceSession.create(exported.bytes)
  try {
    const outputs = await session.run(onnxFeeds(exported.inputs, records))
    return { exported, outputs }
  } finally {
    await session.release()
  }
}
