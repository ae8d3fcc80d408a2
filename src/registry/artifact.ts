/**
 * Artifacts: a folder with `manifest.json` and the raw binary files of the pipeline's and the model's typed arrays,
 * each listed in the manifest with its size and sha256. Writing builds everything in memory first and validates the
 * manifest before the first byte hits the disk; reading verifies every listed file (size, then sha256) before
 * decoding anything. Artifacts hold data, never code: loading parses JSON and copies bytes, and runs nothing found
 * in the artifact. Atomic publication of versions is the registry store's job, not this module's.
 * @module
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodePayload, encodePayload, isSafeFileName, type JsonValue } from '../core/codec.js'
import { ScalemlError } from '../core/errors.js'
import type { Issue } from '../core/issues.js'
import type { Field } from '../data/batch.js'
import { errnoCode, syncDirectory, writeFileDurable } from '../infra/durable-fs.js'
import {
  checkJson,
  checkManifest,
  type Lineage,
  MANIFEST_FILE,
  MANIFEST_FORMAT_VERSION,
  type Manifest,
  type ManifestFile,
  type ManifestTarget,
  type ModelTask,
  manifestError,
  parseManifest,
} from './manifest.js'

/**
 * What a caller supplies to make an artifact: the manifest's fields minus those the artifact computes (`files`,
 * `formatVersion`) and those the registry assigns (`name`, `version`). `pipeline` and `model` may hold typed arrays
 * anywhere, or be objects with `toJSON()` (a fitted `Pipeline`, an estimator). A training job's result fits as is.
 */
export interface ArtifactContent {
  readonly task: ModelTask
  readonly modelKind: string
  readonly inputSchema: readonly Field[]
  readonly target?: ManifestTarget
  readonly features: readonly string[]
  readonly pipeline: unknown
  readonly model: unknown
  /** Hyperparameters as given (plain JSON). Default `{}`. */
  readonly params?: Readonly<Record<string, unknown>>
  /** Holdout metrics (finite numbers). Default `{}`. */
  readonly metrics?: Readonly<Record<string, number>>
  /** Lineage; `packageVersion` defaults to this package's version. */
  readonly lineage?: Partial<Lineage>
  /** Registration time; default now. */
  readonly created?: string | Date
}

/** A binary file ready to be written: its name, bytes and sha256. */
export interface PreparedFile {
  readonly path: string
  readonly bytes: Uint8Array
  readonly sha256: string
}

/** An artifact built in memory: binary files plus the manifest for whichever version the store assigns. */
export interface PreparedArtifact {
  readonly name: string
  readonly files: readonly PreparedFile[]
  /** The manifest as it reads once stored as `version`; everything but `version` is fixed at preparation. */
  manifestFor(version: number): Manifest
}

/** A verified artifact: its manifest and the decoded pipeline and model JSON, typed arrays restored. */
export interface LoadedArtifact {
  readonly manifest: Manifest
  readonly pipeline: unknown
  readonly model: unknown
}

/**
 * Where an artifact's bytes come from (a folder, a database row). `readManifest` and `readFile` return
 * `undefined` for a missing entry; verification is done by {@link loadArtifact}, never by the reader.
 */
export interface ArtifactReader {
  /** Names the artifact in messages, e.g. a folder path or `flights:3 (files store at …)`. */
  readonly location: string
  readManifest(): Promise<Uint8Array | undefined>
  readFile(path: string): Promise<Uint8Array | undefined>
}

/** The identity an artifact's manifest must carry when read from a given place. */
export interface ArtifactIdentity {
  readonly name: string
  readonly version: number
}

/**
 * Encodes `content` into binary files and a manifest template. Throws `INVALID_ARGUMENT` naming the field when the
 * content cannot make a valid manifest (bad schema entry, non-finite metric, non-JSON param, class instance
 * without `toJSON()` in the payload …), before anything is written.
 *
 * @example
 * const prepared = prepareArtifact('flights', content)
 * const manifest = prepared.manifestFor(3)
 */
export function prepareArtifact(name: string, content: ArtifactContent): PreparedArtifact {
  const taken = new Set<string>([MANIFEST_FILE])
  const pipeline = encodePayload(content.pipeline, { prefix: 'pipeline', taken })
  const model = encodePayload(content.model, { prefix: 'model', taken })
  const files: PreparedFile[] = [...pipeline.files, ...model.files].map((file) => ({
    path: file.name,
    bytes: file.bytes,
    sha256: sha256Hex(file.bytes),
  }))
  const manifestFiles: ManifestFile[] = files.map((f) => ({
    path: f.path,
    sha256: f.sha256,
    bytes: f.bytes.byteLength,
  }))
  const created =
    content.created === undefined
      ? new Date().toISOString()
      : content.created instanceof Date
        ? content.created.toISOString()
        : content.created
  const issues: Issue[] = []
  const params = content.params ?? {}
  checkJson(params, ['params'], issues)
  const lineage = { packageVersion: packageVersion(), ...dropUndefined(content.lineage ?? {}) } as Lineage
  const template: Omit<Manifest, 'version'> = {
    formatVersion: MANIFEST_FORMAT_VERSION,
    name,
    created,
    task: content.task,
    modelKind: content.modelKind,
    inputSchema: content.inputSchema.map((f) => ({ name: f.name, type: f.type, nullable: f.nullable })),
    ...(content.target === undefined
      ? {}
      : { target: { expression: content.target.expression, kind: content.target.kind } }),
    features: [...content.features],
    pipeline: pipeline.json,
    model: model.json,
    params: params as Manifest['params'],
    metrics: { ...(content.metrics ?? {}) },
    lineage,
    files: manifestFiles,
  }
  const manifestFor = (version: number): Manifest => {
    // Key order fixed here so manifest.json reads the same way in every artifact.
    const { formatVersion, name: n, ...rest } = template
    return { formatVersion, name: n, version, ...rest }
  }
  if (issues.length === 0) issues.push(...checkManifest(manifestFor(1)))
  if (issues.length > 0) throw manifestError('INVALID_ARGUMENT', `Cannot make an artifact for model '${name}'`, issues)
  return { name, files, manifestFor }
}

/** The bytes of `manifest.json`: two-space JSON and a final newline, so it reads well and diffs cleanly. */
export function serializeManifest(manifest: Manifest): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`)
}

/**
 * Writes an artifact into `dir` (created if needed; it must not already hold files): binary files first, each
 * fsynced, then `manifest.json`, then the folder. Not atomic on its own: a reader may see a partial folder while
 * this runs — the registry publishes versions atomically by writing through a staging folder.
 *
 * @example
 * const manifest = await writeArtifact('/tmp/flights-export', { name: 'flights', version: 1, ...content })
 */
export async function writeArtifact(dir: string, content: ArtifactContent & ArtifactIdentity): Promise<Manifest> {
  const prepared = prepareArtifact(content.name, content)
  const manifest = prepared.manifestFor(content.version)
  await mkdir(dir, { recursive: true })
  const existing = await readdir(dir)
  if (existing.length > 0) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Cannot write an artifact into ${dir}: the folder is not empty (${existing.slice(0, 3).join(', ')}${existing.length > 3 ? ', …' : ''}).`,
    )
  }
  for (const file of prepared.files) await writeFileDurable(join(dir, file.path), file.bytes, { exclusive: true })
  await writeFileDurable(join(dir, MANIFEST_FILE), serializeManifest(manifest), { exclusive: true })
  await syncDirectory(dir)
  return manifest
}

/**
 * Reads and verifies the artifact in `dir`. Throws `ARTIFACT_INVALID` for a missing or invalid manifest and
 * `ARTIFACT_TAMPERED` naming the file when a listed file is missing or its size or sha256 differs.
 *
 * @example
 * const { manifest, model } = await readArtifact('/tmp/flights-export')
 */
export async function readArtifact(dir: string): Promise<LoadedArtifact> {
  return loadArtifact(directoryReader(dir))
}

/** An {@link ArtifactReader} over a folder. */
export function directoryReader(dir: string): ArtifactReader {
  const read = async (path: string): Promise<Uint8Array | undefined> => {
    try {
      return await readFile(join(dir, path))
    } catch (error) {
      const code = errnoCode(error)
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined
      throw error
    }
  }
  return {
    location: dir,
    readManifest: () => read(MANIFEST_FILE),
    readFile: (path) => {
      if (!isSafeFileName(path)) {
        return Promise.reject(new ScalemlError('ARTIFACT_INVALID', `Refusing to read '${path}' from ${dir}.`))
      }
      return read(path)
    },
  }
}

/**
 * Reads and validates only the manifest (no file is hashed): enough to show or list a model. When `expected` is
 * given, the manifest must carry that name and version.
 */
export async function readArtifactManifest(reader: ArtifactReader, expected?: ArtifactIdentity): Promise<Manifest> {
  const bytes = await reader.readManifest()
  if (bytes === undefined) {
    throw new ScalemlError(
      'ARTIFACT_INVALID',
      `No ${MANIFEST_FILE} in ${reader.location}: it is not a complete scaleml artifact (the manifest is missing).`,
      [{ code: 'missing_field', path: [MANIFEST_FILE], message: `${MANIFEST_FILE} is missing.` }],
    )
  }
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (error) {
    throw new ScalemlError(
      'ARTIFACT_INVALID',
      `${MANIFEST_FILE} of ${reader.location} is not valid JSON (${(error as Error).message}).`,
      [{ code: 'invalid_json', path: [MANIFEST_FILE], message: (error as Error).message }],
    )
  }
  const manifest = parseManifest(json, reader.location)
  if (expected && (manifest.name !== expected.name || manifest.version !== expected.version)) {
    throw new ScalemlError(
      'ARTIFACT_INVALID',
      `${MANIFEST_FILE} of ${reader.location} says it is ${manifest.name}:${manifest.version}, but it is stored as ${expected.name}:${expected.version}.`,
      [{ code: 'invalid_value', path: ['version'], message: 'The manifest does not match where it is stored.' }],
    )
  }
  return manifest
}

/**
 * Reads the manifest, verifies every listed file (present, same size, same sha256) and decodes the pipeline and
 * the model. Throws `ARTIFACT_TAMPERED` naming the first file that fails verification.
 */
export async function loadArtifact(reader: ArtifactReader, expected?: ArtifactIdentity): Promise<LoadedArtifact> {
  const manifest = await readArtifactManifest(reader, expected)
  const verified = new Map<string, Uint8Array>()
  for (const file of manifest.files) {
    const bytes = await reader.readFile(file.path)
    if (bytes === undefined) {
      throw tampered(reader, file.path, `is listed in ${MANIFEST_FILE} but missing`)
    }
    if (bytes.byteLength !== file.bytes) {
      const how = bytes.byteLength < file.bytes ? 'truncated' : 'extended'
      throw tampered(reader, file.path, `has ${bytes.byteLength} bytes, ${MANIFEST_FILE} says ${file.bytes} (${how})`)
    }
    if (sha256Hex(bytes) !== file.sha256) {
      throw tampered(reader, file.path, `does not match its sha256 in ${MANIFEST_FILE} (its content was changed)`)
    }
    verified.set(file.path, bytes)
  }
  const lookup = (name: string): Uint8Array | undefined => verified.get(name)
  return {
    manifest,
    pipeline: decodeIn(reader, 'pipeline', manifest.pipeline, lookup),
    model: decodeIn(reader, 'model', manifest.model, lookup),
  }
}

function decodeIn(
  reader: ArtifactReader,
  field: 'pipeline' | 'model',
  json: JsonValue,
  lookup: (name: string) => Uint8Array | undefined,
): unknown {
  try {
    return decodePayload(json, lookup)
  } catch (error) {
    if (error instanceof ScalemlError) {
      throw new ScalemlError(
        error.code,
        `The manifest of ${reader.location} is invalid: in '${field}': ${error.message}`,
        error.issues.map((issue) => ({ ...issue, path: [field, ...issue.path] })),
      )
    }
    throw error
  }
}

function tampered(reader: ArtifactReader, path: string, problem: string): ScalemlError {
  return new ScalemlError(
    'ARTIFACT_TAMPERED',
    `The file '${path}' of ${reader.location} ${problem}; refusing to load.`,
    [{ code: 'invalid_value', path: ['files', path], message: problem }],
  )
}

/** Lower-case hex sha256. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function dropUndefined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as T
}

let cachedPackageVersion: string | undefined

/** This package's version, recorded in lineage; read once from package.json (two levels up in src/ and dist/). */
function packageVersion(): string {
  if (cachedPackageVersion === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version?: unknown
      }
      cachedPackageVersion = typeof pkg.version === 'string' ? pkg.version : '0.0.0-unknown'
    } catch {
      cachedPackageVersion = '0.0.0-unknown'
    }
  }
  return cachedPackageVersion
}
