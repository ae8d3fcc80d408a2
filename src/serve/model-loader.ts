/**
 * Loads registered versions into servable models: the artifact is verified by the registry, then its JSON is
 * turned back into a pipeline and an estimator through their catalogs (data only, never code).
 * @module
 */
import { modelFromJSON } from '../models/catalog.js'
import type { EstimatorJSON } from '../models/estimator.js'
import { Pipeline } from '../preprocess/pipeline.js'
import type { Registry } from '../registry/registry.js'
import type { ServableModel } from './predictor.js'

/** Loads one reference (`name`, `name:version`). */
export async function loadServableModel(registry: Registry, ref: string): Promise<ServableModel> {
  const { manifest, pipeline, model } = await registry.load(ref)
  return {
    name: manifest.name,
    version: manifest.version,
    manifest,
    pipeline: Pipeline.fromJSON(pipeline),
    model: modelFromJSON(model as EstimatorJSON),
  }
}

/** Loads the latest version of every registered model, by name. */
export async function loadServableModels(registry: Registry): Promise<Map<string, ServableModel>> {
  const models = new Map<string, ServableModel>()
  for (const summary of await registry.list()) {
    models.set(summary.name, await loadServableModel(registry, `${summary.name}:${summary.latestVersion}`))
  }
  return models
}
