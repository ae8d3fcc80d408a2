/**
 * The model registry: register an artifact as the next version of a name, list and resolve models, load a version
 * with every file verified. Names, references and manifests are checked here once, whatever the store; the store
 * (local files by default) only keeps bytes. Aliases (`name@stable`) parse but do not resolve yet.
 * @module
 */
import { resolve as resolvePath } from 'node:path'
import { ScalemlError } from '../core/errors.js'
import {
  type ArtifactContent,
  type ArtifactReader,
  type LoadedArtifact,
  loadArtifact,
  prepareArtifact,
  readArtifactManifest,
  serializeManifest,
} from './artifact.js'
import { type Manifest, MODEL_NAME_PATTERN } from './manifest.js'
import { createFilesStore } from './stores/files.js'
import type { RegistryStore, VersionRef } from './stores/registry-store.js'

/** A parsed model reference: `name` (latest), `name:3`, or `name@alias`. */
export interface ModelRef {
  readonly name: string
  readonly version?: number
  readonly alias?: string
}

/** One line of {@link Registry.list}. */
export interface ModelSummary {
  readonly name: string
  readonly latestVersion: number
  /** All versions, ascending. */
  readonly versions: readonly number[]
  /** Registration time of the latest version (ISO 8601). */
  readonly created: string
  /** Metrics of the latest version. */
  readonly metrics: Readonly<Record<string, number>>
}

/** Options of {@link openRegistry}. */
export interface RegistryOptions {
  /** The scaleml home folder. Default: `$SCALEML_HOME`, else `./.scaleml` (resolved against the working directory). */
  readonly home?: string
  /** Where artifacts are kept. Default: the files store under `<home>/models`. */
  readonly store?: RegistryStore
}

/** An open registry. */
export interface Registry {
  /** The absolute home folder. */
  readonly home: string
  readonly store: RegistryStore
  /**
   * Stores `content` as the next version of `name` (1 for a new name), atomically: a crash leaves no partial
   * version visible, and concurrent registrations get distinct consecutive versions.
   */
  register(name: string, content: ArtifactContent): Promise<VersionRef>
  /** Every model with its versions and the latest version's creation time and metrics, by name. */
  list(): Promise<ModelSummary[]>
  /** Versions of `name`, ascending; `MODEL_NOT_FOUND` (with close names) when it has none. */
  versions(name: string): Promise<number[]>
  /** `name` → its latest version; `name:3` → checked to exist. Throws `MODEL_NOT_FOUND` saying what exists. */
  resolve(ref: string | ModelRef): Promise<VersionRef>
  /** Reads, verifies (every file's size and sha256) and decodes a version. */
  load(ref: string | ModelRef): Promise<LoadedArtifact>
  /** The manifest of a version, validated; files are not hashed (use `load` for that). */
  show(ref: string | ModelRef): Promise<Manifest>
  /** Closes the store; idempotent. */
  close(): Promise<void>
}

const ALIAS_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/
const VERSION_TEXT = /^[1-9][0-9]{0,15}$/

/**
 * Opens the registry at `home` (nothing is created until the first registration).
 *
 * @example
 * const registry = await openRegistry({ home: '/srv/.scaleml' })
 * const { version } = await registry.register('flights', content)
 * const { manifest, model } = await registry.load(`flights:${version}`)
 */
export async function openRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const home = resolvePath(options.home ?? process.env['SCALEML_HOME'] ?? './.scaleml')
  const store = options.store ?? createFilesStore({ home })

  const reader = (ref: VersionRef): ArtifactReader => ({
    location: `model ${ref.name}:${ref.version} (${store.description})`,
    readManifest: () => store.readManifest(ref),
    readFile: (path) => store.readFile(ref, path),
  })

  const existingVersions = async (name: string): Promise<number[]> => {
    const versions = await store.versions(name)
    if (versions.length > 0) return versions
    const names = await store.names()
    const close = closeNames(name, names)
    const hint = close.length > 0 ? ` Did you mean ${close.map((n) => `'${n}'`).join(', ')}?` : ''
    const known = names.length === 0 ? ' The registry is empty.' : ''
    throw new ScalemlError('MODEL_NOT_FOUND', `No model named '${name}' in ${store.description}.${hint}${known}`)
  }

  const resolveRef = async (input: string | ModelRef): Promise<VersionRef> => {
    const ref = typeof input === 'string' ? parseModelRef(input) : checkRef(input)
    const versions = await existingVersions(ref.name)
    if (ref.alias !== undefined) {
      throw new ScalemlError(
        'MODEL_NOT_FOUND',
        `The alias '${ref.name}@${ref.alias}' is not set: this registry does not support aliases yet. ` +
          `Use '${ref.name}' (latest) or '${ref.name}:<version>'; versions: ${versions.join(', ')}.`,
      )
    }
    if (ref.version === undefined) return { name: ref.name, version: versions[versions.length - 1]! }
    if (!versions.includes(ref.version)) {
      throw new ScalemlError(
        'MODEL_NOT_FOUND',
        `Model '${ref.name}' has no version ${ref.version}; its versions are ${versions.join(', ')}.`,
      )
    }
    return { name: ref.name, version: ref.version }
  }

  return {
    home,
    store,

    async register(name, content) {
      checkModelName(name)
      const prepared = prepareArtifact(name, content)
      const version = await store.publish({
        name,
        files: prepared.files,
        manifestFor: (v) => serializeManifest(prepared.manifestFor(v)),
      })
      return { name, version }
    },

    async list() {
      const out: ModelSummary[] = []
      for (const name of await store.names()) {
        const versions = await store.versions(name)
        if (versions.length === 0) continue
        const latestVersion = versions[versions.length - 1]!
        const manifest = await readArtifactManifest(reader({ name, version: latestVersion }), {
          name,
          version: latestVersion,
        })
        out.push({ name, latestVersion, versions, created: manifest.created, metrics: manifest.metrics })
      }
      return out
    },

    async versions(name) {
      checkModelName(name)
      return existingVersions(name)
    },

    resolve: resolveRef,

    async load(ref) {
      const resolved = await resolveRef(ref)
      return loadArtifact(reader(resolved), resolved)
    },

    async show(ref) {
      const resolved = await resolveRef(ref)
      return readArtifactManifest(reader(resolved), resolved)
    },

    close: () => store.close(),
  }
}

/**
 * Parses `name`, `name:version` or `name@alias`. Throws `INVALID_ARGUMENT` naming the reference and the expected
 * form.
 *
 * @example
 * parseModelRef('flights:3') // { name: 'flights', version: 3 }
 * parseModelRef('flights@stable') // { name: 'flights', alias: 'stable' }
 */
export function parseModelRef(ref: string): ModelRef {
  const at = ref.search(/[:@]/)
  const name = at < 0 ? ref : ref.slice(0, at)
  checkModelName(name, ref)
  if (at < 0) return { name }
  const rest = ref.slice(at + 1)
  if (ref[at] === ':') {
    if (!VERSION_TEXT.test(rest)) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `Invalid model reference '${ref}': the version after ':' must be a whole number ≥ 1 (like '${name}:3').`,
      )
    }
    return { name, version: Number(rest) }
  }
  if (!ALIAS_PATTERN.test(rest)) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Invalid model reference '${ref}': an alias after '@' is 1–64 lower-case letters, digits, '_' or '-', starting with a letter (like '${name}@stable').`,
    )
  }
  return { name, alias: rest }
}

/** Throws `INVALID_ARGUMENT` unless `name` matches {@link MODEL_NAME_PATTERN}. */
export function checkModelName(name: string, ref?: string): void {
  if (typeof name === 'string' && MODEL_NAME_PATTERN.test(name)) return
  const what = ref !== undefined && ref !== name ? `in the reference '${ref}'` : ''
  throw new ScalemlError(
    'INVALID_ARGUMENT',
    `Invalid model name '${String(name)}'${what ? ` ${what}` : ''}: use 1–64 characters of lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (like 'flights-delay').`,
  )
}

function checkRef(ref: ModelRef): ModelRef {
  checkModelName(ref.name)
  if (ref.version !== undefined && !(Number.isSafeInteger(ref.version) && ref.version >= 1)) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Invalid version ${ref.version} of model '${ref.name}': expected a whole number ≥ 1.`,
    )
  }
  if (ref.alias !== undefined) parseModelRef(`${ref.name}@${ref.alias}`)
  return ref
}

/** Names within a small edit distance of `name`, or containing it, closest first (at most 5). */
function closeNames(name: string, names: readonly string[]): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3))
  return names
    .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
    .filter(({ candidate, distance }) => distance <= limit || candidate.includes(name) || name.includes(candidate))
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, 5)
    .map(({ candidate }) => candidate)
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost)
    }
    previous = current
  }
  return previous[b.length]!
}
