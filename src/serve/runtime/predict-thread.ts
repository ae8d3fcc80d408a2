/**
 * The worker-thread side of {@link createPredictThreadPool}: holds model versions rebuilt from their JSON (data
 * only, through the catalogs, as the registry loader does) and predicts the batches the main thread posts, so a
 * heavy model's work never blocks the server's event loop.
 * @module
 */
import { parentPort } from 'node:worker_threads'
import { isScalemlError } from '../../core/errors.js'
import type { Batch } from '../../data/batch.js'
import { modelFromJSON } from '../../models/catalog.js'
import type { EstimatorJSON } from '../../models/estimator.js'
import { Pipeline } from '../../preprocess/pipeline.js'
import type { Manifest } from '../../registry/manifest.js'
import { createRuntimePredictor, type RuntimePredictor } from './runtime-predictor.js'

/** Main → thread. */
export type ThreadRequest =
  | {
      readonly op: 'load'
      readonly id: number
      readonly key: string
      readonly manifest: Manifest
      readonly pipeline: unknown
      readonly model: unknown
    }
  | { readonly op: 'predict'; readonly id: number; readonly key: string; readonly batch: Batch }
  | { readonly op: 'unload'; readonly key: string }

/** Thread → main: the answer to request `id`. */
export type ThreadReply =
  | { readonly id: number; readonly values: readonly Float64Array[] }
  | { readonly id: number; readonly error: { readonly message: string; readonly code?: string } }

const port = parentPort
if (port === null) throw new Error('predict-thread.ts runs as a worker thread only')

const predictors = new Map<string, RuntimePredictor>()

port.on('message', async (message: ThreadRequest) => {
  if (message.op === 'unload') {
    const predictor = predictors.get(message.key)
    predictors.delete(message.key)
    await predictor?.release().catch(() => {})
    return
  }
  try {
    if (message.op === 'load') {
      const servable = {
        name: message.manifest.name,
        version: message.manifest.version,
        manifest: message.manifest,
        pipeline: Pipeline.fromJSON(message.pipeline),
        model: modelFromJSON(message.model as EstimatorJSON),
      }
      predictors.set(message.key, createRuntimePredictor(servable))
      port.postMessage({ id: message.id, values: [] } satisfies ThreadReply)
      return
    }
    const predictor = predictors.get(message.key)
    if (predictor === undefined) throw new Error(`model ${message.key} is not loaded in this thread`)
    const values = await predictor.predict(message.batch)
    // The result arrays are fresh per call, so they move to the main thread without a copy (each buffer once).
    const buffers = new Set<ArrayBuffer>()
    for (const v of values) if (v.buffer instanceof ArrayBuffer) buffers.add(v.buffer)
    port.postMessage({ id: message.id, values } satisfies ThreadReply, [...buffers])
  } catch (error) {
    const code = isScalemlError(error) ? error.code : undefined
    const reply: ThreadReply = { id: message.id, error: { message: (error as Error).message ?? String(error), code } }
    port.postMessage(reply)
  }
})
