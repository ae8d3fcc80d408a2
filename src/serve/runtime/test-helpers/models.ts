/**
 * Models for the serving tests: a tiny regressor whose every answer is a chosen constant (so an answer tells which
 * version gave it), and real models trained on synthetic flights (linear and GBDT), as artifact contents to
 * register.
 * @module
 */
import { join } from 'node:path'
import type { Batch } from '../../../data/batch.js'
import { SgdRegressor } from '../../../models/linear/sgd-regressor.js'
import { Pipeline } from '../../../preprocess/pipeline.js'
import { StandardScaler } from '../../../preprocess/standard-scaler.js'
import type { ArtifactContent } from '../../../registry/artifact.js'
import { writeSyntheticFlights } from '../../../testing/synthetic-flights.js'
import { trainJob } from '../../../train/job.js'
import type { ServableModel } from '../../predictor.js'

/**
 * A regressor over one float input `x` that answers `{"value": constant}` for every row (weights 0, intercept
 * `constant`), with a standard scaler in front so the pipeline is a real one.
 */
export function constantRegressor(constant: number): ArtifactContent {
  const batch: Batch = {
    length: 3,
    columns: new Map([['x', { type: 'float' as const, values: Float64Array.of(0, 1, 2) }]]),
  }
  const pipeline = new Pipeline({
    inputs: [{ name: 'x', type: 'float', nullable: false }],
    steps: [new StandardScaler({ columns: ['x'] })],
  }).partialFit(batch)
  const model = new SgdRegressor()
  model.partialFit(pipeline.transform(batch), Float64Array.of(0, 1, 2))
  const json = model.toJSON()
  const state = { ...json.state, coef: new Float64Array([0]), intercept: new Float64Array([constant]) }
  return {
    task: 'regression',
    modelKind: 'sgd-regressor',
    inputSchema: pipeline.inputSchema.fields,
    features: ['x'],
    pipeline: pipeline.toJSON(),
    model: { ...json, state },
    metrics: { constant },
  }
}

/** A synthetic flights file (20,000 rows) in `folder`; returns its path. */
export async function flightsData(folder: string): Promise<string> {
  const data = join(folder, 'flights.parquet')
  await writeSyntheticFlights(data, { rows: 20_000, seed: 3 })
  return data
}

/** A flights record the trained models accept. */
export const FLIGHT = { date: '2001-03-04T17:30:00', distance: 900, origin: 'ORD', destination: 'LAX' } as const

/** `delay > 15` trained on `data` with `model` (`sgd-classifier`, `gbdt`, …), as artifact content. */
export async function trainedContent(
  data: string,
  model: string,
  params: Readonly<Record<string, unknown>> = {},
): Promise<ArtifactContent> {
  const result = await trainJob({
    data,
    target: 'delay > 15',
    features: ['date', 'distance', 'origin', 'destination'],
    holdout: 'time:date:0.1',
    model,
    params,
  })
  return {
    task: result.task,
    modelKind: result.modelKind,
    inputSchema: result.inputSchema,
    target: result.target,
    features: result.features,
    pipeline: result.pipeline,
    model: result.model,
    params: result.params,
    metrics: Object.fromEntries(Object.entries(result.metrics).filter(([, v]) => Number.isFinite(v))),
  }
}

/** `servable` with a model whose predictions go through `wrap` (to make a model slow, or failing). */
export function withPredict(
  servable: ServableModel,
  wrap: (predict: (X: unknown) => Float64Array, X: unknown) => Float64Array,
): ServableModel {
  const model = Object.create(servable.model) as Record<string, unknown>
  for (const method of ['predict', 'predictSparse', 'predictProba', 'predictProbaSparse', 'decisionFunction']) {
    const original = (servable.model as unknown as Record<string, unknown>)[method]
    if (typeof original !== 'function') continue
    model[method] = (X: unknown) => wrap((x) => original.call(servable.model, x) as Float64Array, X)
  }
  return { ...servable, model: model as unknown as ServableModel['model'] }
}

/** Spins the CPU for `ms` (a model that takes this long, without yielding). */
export function busyWait(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {}
}
