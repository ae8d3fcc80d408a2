/**
 * `scaleml models export --format json`: a registered version as one self-contained JSON document (manifest,
 * pipeline and model state, typed arrays as plain number arrays), for tools that read models without scaleml.
 * `Pipeline.fromJSON` and the catalog's `modelFromJSON` read the `pipeline` and `model` members back.
 * @module
 */
import { createHash } from 'node:crypto'
import { resolve } from 'node:path'
import { writeFileAtomic } from '../infra/durable-fs.js'
import type { ModelRef, Registry } from './registry.js'

/** Version of the exported document's layout. */
export const JSON_EXPORT_FORMAT = 'scaleml-model/1'

/** What {@link exportModelToJson} wrote. */
export interface JsonExportResult {
  /** The absolute path of the written file. */
  readonly file: string
  readonly bytes: number
  readonly sha256: string
  readonly model: { readonly name: string; readonly version: number }
}

/**
 * Writes version `ref` of the registry as JSON to `outFile`, atomically (written aside, flushed, renamed).
 *
 * @example
 * await exportModelToJson(registry, 'flights@prod', 'flights.json')
 */
export async function exportModelToJson(
  registry: Registry,
  ref: string | ModelRef,
  outFile: string,
): Promise<JsonExportResult> {
  const artifact = await registry.load(ref)
  const document = {
    format: JSON_EXPORT_FORMAT,
    manifest: artifact.manifest,
    pipeline: artifact.pipeline,
    model: artifact.model,
  }
  const text = JSON.stringify(document, (_key, value: unknown) =>
    ArrayBuffer.isView(value) && !(value instanceof DataView)
      ? Array.from(value as unknown as ArrayLike<number>)
      : value,
  )
  const bytes = new TextEncoder().encode(`${text}\n`)
  const file = resolve(outFile)
  await writeFileAtomic(file, bytes)
  return {
    file,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    model: { name: artifact.manifest.name, version: artifact.manifest.version },
  }
}
