/**
 * The model cost report (`scaleml models benchmark`): what serving a version costs — artifact size, load time,
 * single-row latency through the request path (validation, preprocessing, predict) and batch throughput — measured
 * in process, so models can be compared side by side before one is deployed ("is the big model worth it?").
 * @module
 */
import { Random } from '../core/random.js'
import type { Registry } from '../registry/registry.js'
import { loadServableModel } from './model-loader.js'
import { createRequestReader, knownCategories, syntheticRecord } from './runtime/request-reader.js'
import { createRuntimePredictor } from './runtime/runtime-predictor.js'

/** Options of {@link benchmarkModel}. */
export interface ModelBenchmarkOptions {
  /** Single-row requests timed, after as many warm-up requests (default 2,000). */
  readonly singleRowRequests?: number
  /** Rows per batch for the throughput figure (default 1,000). */
  readonly batchRows?: number
  /** Batches timed (default 50). */
  readonly batches?: number
  /** Seed of the generated rows (default 0). */
  readonly seed?: number
}

/** What serving one version costs. */
export interface ModelCost {
  readonly model: { readonly name: string; readonly version: number }
  readonly modelKind: string
  /** Bytes of the artifact's files plus its manifest. */
  readonly artifactBytes: number
  /** Reading, verifying and decoding the artifact, in milliseconds. */
  readonly loadMs: number
  /** One record per request through validation, preprocessing and predict, in microseconds. */
  readonly singleRow: {
    readonly p50Us: number
    readonly p99Us: number
    readonly meanUs: number
    readonly requests: number
  }
  /** `batchRows`-row requests through the same path. */
  readonly batch: { readonly rows: number; readonly rowsPerSecond: number; readonly p50Ms: number }
}

/**
 * Measures the serving cost of `ref`. Rows are generated from the model's input schema (numbers spread over
 * [0, 1000), timestamps over 2001, strings drawn from the categories the pipeline kept), so no data is needed.
 *
 * @example
 * const cost = await benchmarkModel(registry, 'flights@prod')
 * cost.singleRow.p99Us
 */
export async function benchmarkModel(
  registry: Registry,
  ref: string,
  options: ModelBenchmarkOptions = {},
): Promise<ModelCost> {
  const loadStarted = performance.now()
  const servable = await loadServableModel(registry, ref)
  const loadMs = performance.now() - loadStarted
  const manifest = servable.manifest
  const artifactBytes =
    manifest.files.reduce((sum, file) => sum + file.bytes, 0) + Buffer.byteLength(JSON.stringify(manifest))
  const reader = createRequestReader(servable.pipeline, { unknownCategories: 'other', maxInstances: 1 << 20 })
  const predictor = createRuntimePredictor(servable)
  const generate = recordGenerator(servable.pipeline, options.seed ?? 0)
  const request = async (instances: Record<string, unknown>[]) => {
    const { batch } = reader.read({ instances })
    await predictor.predict(batch)
  }
  try {
    const singleRows = Array.from({ length: 256 }, () => [generate()])
    const n = options.singleRowRequests ?? 2000
    for (let i = 0; i < n; i++) await request(singleRows[i % singleRows.length]!)
    const latencies = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const started = performance.now()
      await request(singleRows[i % singleRows.length]!)
      latencies[i] = (performance.now() - started) * 1000
    }
    latencies.sort()

    const rows = options.batchRows ?? 1000
    const batch = Array.from({ length: rows }, generate)
    const batches = options.batches ?? 50
    await request(batch)
    const batchMs = new Float64Array(batches)
    for (let i = 0; i < batches; i++) {
      const started = performance.now()
      await request(batch)
      batchMs[i] = performance.now() - started
    }
    const totalMs = batchMs.reduce((a, b) => a + b, 0)
    batchMs.sort()
    return {
      model: { name: servable.name, version: servable.version },
      modelKind: manifest.modelKind,
      artifactBytes,
      loadMs,
      singleRow: {
        p50Us: quantile(latencies, 0.5),
        p99Us: quantile(latencies, 0.99),
        meanUs: latencies.reduce((a, b) => a + b, 0) / n,
        requests: n,
      },
      batch: { rows, rowsPerSecond: (rows * batches) / (totalMs / 1000), p50Ms: quantile(batchMs, 0.5) },
    }
  } finally {
    await predictor.release()
  }
}

/** The value at quantile `q` of sorted `values` (nearest rank). */
function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

function recordGenerator(pipeline: Parameters<typeof syntheticRecord>[0], seed: number) {
  const random = new Random(seed)
  const base = syntheticRecord(pipeline)
  const categories = knownCategories(pipeline)
  const fields = pipeline.inputSchema.fields
  const year2001 = Date.UTC(2001, 0, 1)
  return (): Record<string, unknown> => {
    const record: Record<string, unknown> = { ...base }
    for (const field of fields) {
      if (field.type === 'float' || field.type === 'int') {
        const v = random.next() * 1000
        record[field.name] = field.type === 'int' ? Math.floor(v) : v
      } else if (field.type === 'timestamp') {
        record[field.name] = new Date(year2001 + Math.floor(random.next() * 365 * 86_400_000)).toISOString()
      } else if (field.type === 'string') {
        const list = categories.get(field.name)?.list
        if (list !== undefined && list.length > 0) record[field.name] = list[Math.floor(random.next() * list.length)]
      }
    }
    return record
  }
}
