/**
 * The worker-thread side of {@link startScoringThreads}: rebuilds the model from its JSON (data only, through the
 * catalogs, as the registry loader does), then scores the batch slices the main thread posts with the same
 * {@link createBatchScorer} as the main thread, and posts the arrays back without copying them.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads'
import { isScalemlError } from '../core/errors.js'
import { modelFromJSON } from '../models/catalog.js'
import type { EstimatorJSON } from '../models/estimator.js'
import { Pipeline } from '../preprocess/pipeline.js'
import { type BatchScorer, createBatchScorer } from './batch-scorer.js'
import type { ScoringReply, ScoringRequest, ScoringThreadData } from './scoring-threads.js'

const port = parentPort
if (port === null) throw new Error('scoring-thread.ts runs as a worker thread only')
const data = workerData as ScoringThreadData

let scorer: BatchScorer | undefined
try {
  scorer = createBatchScorer(
    {
      name: data.manifest.name,
      version: data.manifest.version,
      manifest: data.manifest,
      pipeline: Pipeline.fromJSON(data.pipeline),
      model: modelFromJSON(data.model as EstimatorJSON),
    },
    { contributions: data.contributions },
  )
  port.postMessage({ id: 0, ready: true } satisfies ScoringReply)
} catch (error) {
  port.postMessage({ id: 0, error: describe(error) } satisfies ScoringReply)
}

port.on('message', (request: ScoringRequest) => {
  try {
    if (scorer === undefined) throw new Error('the scoring thread could not load the model')
    const { values, contributions } = scorer.score(request.batch)
    // Fresh arrays per call: they move to the main thread without a copy (each buffer once).
    const buffers = new Set<ArrayBuffer>()
    for (const v of [...values, ...(contributions === undefined ? [] : [contributions])]) {
      if (v.buffer instanceof ArrayBuffer) buffers.add(v.buffer)
    }
    port.postMessage({ id: request.id, values, contributions } satisfies ScoringReply, [...buffers])
  } catch (error) {
    port.postMessage({ id: request.id, error: describe(error) } satisfies ScoringReply)
  }
})

function describe(error: unknown): { readonly message: string; readonly code?: string } {
  const message = error instanceof Error ? error.message : String(error)
  return isScalemlError(error) ? { message, code: error.code } : { message }
}
