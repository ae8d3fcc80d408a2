/**
 * Registers a training job's result: the bridge between `train` (which knows nothing of the registry) and the
 * registry (which knows nothing of training).
 * @module
 */
import { openRegistry, type RegistryOptions } from '../registry/registry.js'
import type { VersionRef } from '../registry/stores/registry-store.js'
import type { ClusterJobResult } from '../train/cluster-job.js'
import type { TrainJobResult } from '../train/job.js'
import { gitCommit, packageVersion } from './version.js'

/** Registers `result` as the next version of `name` in the registry `registryOptions` name. */
export async function registerTrained(
  registryOptions: RegistryOptions,
  name: string,
  result: TrainJobResult | ClusterJobResult,
): Promise<VersionRef> {
  const registry = await openRegistry(registryOptions)
  try {
    const commit = gitCommit()
    return await registry.register(name, {
      task: result.task,
      modelKind: result.modelKind,
      inputSchema: result.inputSchema,
      ...('target' in result ? { target: result.target } : {}),
      features: result.features,
      pipeline: result.pipeline,
      model: result.model,
      params: result.params,
      metrics: finiteOnly(result.metrics),
      lineage: {
        ...result.lineage,
        packageVersion: packageVersion(),
        ...(commit ? { gitCommit: commit } : {}),
        ...(result.holdout ? { holdout: result.holdout } : {}),
      },
    })
  } finally {
    await registry.close()
  }
}

function finiteOnly(metrics: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).filter(([, v]) => Number.isFinite(v)))
}
