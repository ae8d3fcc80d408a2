/**
 * The model registry: register an artifact as the next version of a name, list and resolve models (`name`,
 * `name:3`, `name@alias`), move aliases, soft-delete and restore versions, compare two versions, and load a version
 * with every file verified. Names, references, manifests and every user-facing message are handled here once,
 * whatever the store; stores (SQLite by default, PostgreSQL when shared) keep bytes and the few rules that must be
 * atomic.
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
import { compareManifests, type ModelComparison } from './compare.js'
import { type Manifest, MODEL_NAME_PATTERN } from './manifest.js'
import { openRegistryStore } from './stores/open-store.js'
import {
  ALIAS_PATTERN,
  type AliasStore,
  canAlias,
  canSoftDelete,
  canWatch,
  type RegistryChangeListener,
  type RegistryStore,
  type SoftDeleteStore,
  type VersionRef,
} from './stores/registry-store.js'

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
  /** Visible versions, ascending (deleted ones are left out). */
  readonly versions: readonly number[]
  /** Registration time of the latest version (ISO 8601). */
  readonly created: string
  /** Metrics of the latest version. */
  readonly metrics: Readonly<Record<string, number>>
  /** The model's aliases: alias → version. */
  readonly aliases: Readonly<Record<string, number>>
}

/** What {@link Registry.show} returns: the manifest and the aliases that point at this version. */
export interface ShownModel extends Manifest {
  readonly aliases: readonly string[]
}

/** What {@link Registry.alias} and {@link Registry.unalias} did. */
export interface AliasChange {
  readonly name: string
  readonly alias: string
  /** The version the alias now points at (`alias`) or pointed at until removed (`unalias`). */
  readonly version: number
  /** The version the alias pointed at before it was moved, when it moved. */
  readonly previous?: number
}

/** What {@link Registry.delete} and {@link Registry.restore} did; `changed` is false when it was already so. */
export interface VersionChange extends VersionRef {
  readonly changed: boolean
}

/** Options of {@link openRegistry}. */
export interface RegistryOptions {
  /** The scaleml home folder. Default: `$SCALEML_HOME`, else `./.scaleml` (resolved against the working directory). */
  readonly home?: string
  /**
   * Where the registry lives: `sqlite:<file>` or `postgres://user@host:port/db[?schema=name]`. Default:
   * `$SCALEML_REGISTRY` when set, else the SQLite registry `<home>/registry.db`.
   */
  readonly url?: string
  /** An already open store; overrides `url`. */
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
  /** Every model with its versions, aliases and the latest version's creation time and metrics, by name. */
  list(): Promise<ModelSummary[]>
  /** Visible versions of `name`, ascending; `MODEL_NOT_FOUND` (with close names) when it has none. */
  versions(name: string): Promise<number[]>
  /**
   * `name` (or `name@latest`) → its latest version; `name:3` → checked to exist and not be deleted;
   * `name@stable` → the version the alias points at. Throws `MODEL_NOT_FOUND` saying what exists.
   */
  resolve(ref: string | ModelRef): Promise<VersionRef>
  /** Reads, verifies (every file's size and sha256) and decodes a version. */
  load(ref: string | ModelRef): Promise<LoadedArtifact>
  /** The manifest of a version, validated, with the aliases pointing at it; files are not hashed. */
  show(ref: string | ModelRef): Promise<ShownModel>
  /**
   * Points `name@alias` at `version`, moving it in one atomic step if it pointed elsewhere. Throws
   * `MODEL_NOT_FOUND` for a missing or deleted version, `INVALID_ARGUMENT` for a malformed or reserved alias.
   */
  alias(name: string, alias: string, version: number): Promise<AliasChange>
  /** Removes `name@alias`; `MODEL_NOT_FOUND` when it is not set. */
  unalias(name: string, alias: string): Promise<AliasChange>
  /**
   * Soft-deletes a version: hidden from listings and resolution, kept for {@link Registry.restore}. Refuses with
   * `VERSION_IN_USE` naming the alias when an alias points at it.
   */
  delete(ref: string | ModelRef): Promise<VersionChange>
  /** Restores a deleted version; the reference must name the version (`name:3`). */
  restore(ref: string | ModelRef): Promise<VersionChange>
  /** Two versions side by side: metrics (with `b - a`) and params, from their manifests. */
  compare(a: string | ModelRef, b: string | ModelRef): Promise<ModelComparison>
  /**
   * Calls `onChange(name)` soon after a model's versions or aliases change, once readers see the change
   * (`undefined`: changes may have been missed, re-check every name). Resolves to the function that stops watching,
   * or to `undefined` when the store cannot notify (only PostgreSQL can): poll then.
   */
  watch(onChange: RegistryChangeListener): Promise<(() => Promise<void>) | undefined>
  /** Closes the store; idempotent. */
  close(): Promise<void>
}

/** An alias nobody may set: `name@latest` always means the latest version. */
const RESERVED_ALIAS = 'latest'
const VERSION_TEXT = /^[1-9][0-9]{0,15}$/

/**
 * Opens the registry: the store `options.url` (or `$SCALEML_REGISTRY`) names, else the SQLite registry under
 * `home` (nothing is created until the first registration; a files-store registry found there is adopted).
 *
 * @example
 * const registry = await openRegistry({ home: '/srv/.scaleml' })
 * const { version } = await registry.register('flights', content)
 * await registry.alias('flights', 'stable', version)
 * const { manifest, model } = await registry.load('flights@stable')
 */
export async function openRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const home = resolvePath(options.home ?? process.env['SCALEML_HOME'] ?? './.scaleml')
  const envUrl = process.env['SCALEML_REGISTRY']
  const url = options.url ?? (envUrl === undefined || envUrl === '' ? undefined : envUrl)
  const store = options.store ?? (await openRegistryStore({ home, ...(url === undefined ? {} : { url }) }))

  const reader = (ref: VersionRef): ArtifactReader => ({
    location: `model ${ref.name}:${ref.version} (${store.description})`,
    readManifest: () => store.readManifest(ref),
    readFile: (path) => store.readFile(ref, path),
  })
  const manifestOf = (ref: VersionRef): Promise<Manifest> => readArtifactManifest(reader(ref), ref)
  const deletedOf = (name: string): Promise<number[]> =>
    canSoftDelete(store) ? store.deletedVersions(name) : Promise.resolve([])
  const aliasesOf = async (name: string): Promise<Record<string, number>> =>
    canAlias(store) ? Object.fromEntries((await store.aliases(name)).map((a) => [a.alias, a.version])) : {}

  const aliasStore = (): RegistryStore & AliasStore => {
    if (canAlias(store)) return store
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `The ${store.description} cannot keep aliases; use a SQLite or PostgreSQL registry.`,
    )
  }
  const deleteStore = (): RegistryStore & SoftDeleteStore => {
    if (canSoftDelete(store)) return store
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `The ${store.description} cannot delete or restore versions; use a SQLite or PostgreSQL registry.`,
    )
  }

  const existingVersions = async (name: string): Promise<number[]> => {
    const versions = await store.versions(name)
    if (versions.length > 0) return versions
    const deleted = await deletedOf(name)
    if (deleted.length > 0) {
      throw new ScalemlError(
        'MODEL_NOT_FOUND',
        `Every version of model '${name}' is deleted (${deleted.join(', ')}); restore one with ` +
          `'scaleml models restore ${name}:${deleted[deleted.length - 1]}'.`,
      )
    }
    const names = await store.names()
    const close = closeNames(name, names)
    const hint = close.length > 0 ? ` Did you mean ${close.map((n) => `'${n}'`).join(', ')}?` : ''
    const known = names.length === 0 ? ' The registry is empty.' : ''
    throw new ScalemlError('MODEL_NOT_FOUND', `No model named '${name}' in ${store.description}.${hint}${known}`)
  }

  /** The `MODEL_NOT_FOUND` error for a version that is not visible: deleted, or never registered. */
  const versionNotFound = async (name: string, version: number, versions: readonly number[]): Promise<ScalemlError> => {
    const deleted = await deletedOf(name)
    if (deleted.includes(version)) {
      return new ScalemlError(
        'MODEL_NOT_FOUND',
        `Version ${version} of model '${name}' is deleted; restore it with 'scaleml models restore ${name}:${version}'.`,
      )
    }
    const deletedNote = deleted.length > 0 ? ` (deleted: ${deleted.join(', ')})` : ''
    return new ScalemlError(
      'MODEL_NOT_FOUND',
      `Model '${name}' has no version ${version}; its versions are ${versions.join(', ')}${deletedNote}.`,
    )
  }

  const resolveRef = async (input: string | ModelRef): Promise<VersionRef> => {
    const ref = toRef(input)
    const versions = await existingVersions(ref.name)
    if (ref.alias !== undefined && ref.alias !== RESERVED_ALIAS) {
      const aliases = canAlias(store) ? await store.aliases(ref.name) : []
      const found = aliases.find((a) => a.alias === ref.alias)
      if (found !== undefined) return { name: ref.name, version: found.version }
      const set =
        aliases.length === 0
          ? 'it has no aliases'
          : `its aliases are ${aliases.map((a) => `@${a.alias} → ${a.version}`).join(', ')}`
      throw new ScalemlError(
        'MODEL_NOT_FOUND',
        `The alias '${ref.name}@${ref.alias}' is not set: ${set}. Use '${ref.name}' (latest), '${ref.name}:<version>' ` +
          `(versions: ${versions.join(', ')}) or set it with 'scaleml models alias ${ref.name} ${ref.alias} <version>'.`,
      )
    }
    if (ref.version === undefined) return { name: ref.name, version: versions[versions.length - 1]! }
    if (!versions.includes(ref.version)) throw await versionNotFound(ref.name, ref.version, versions)
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
        const manifest = await manifestOf({ name, version: latestVersion })
        out.push({
          name,
          latestVersion,
          versions,
          created: manifest.created,
          metrics: manifest.metrics,
          aliases: await aliasesOf(name),
        })
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
      const manifest = await manifestOf(resolved)
      const aliases = Object.entries(await aliasesOf(resolved.name))
        .filter(([, version]) => version === resolved.version)
        .map(([alias]) => alias)
      return { ...manifest, aliases }
    },

    async alias(name, alias, version) {
      checkModelName(name)
      checkAliasName(name, alias)
      checkRef({ name, version })
      const aliases = aliasStore()
      const versions = await existingVersions(name)
      const outcome = await aliases.setAlias({ name, version }, alias)
      if (outcome.status !== 'set') throw await versionNotFound(name, version, versions)
      return { name, alias, version, ...(outcome.previous === undefined ? {} : { previous: outcome.previous }) }
    },

    async unalias(name, alias) {
      checkModelName(name)
      checkAliasName(name, alias)
      const aliases = aliasStore()
      await existingVersions(name)
      const outcome = await aliases.removeAlias(name, alias)
      if (outcome.status === 'removed') return { name, alias, version: outcome.version }
      const left = await aliases.aliases(name)
      const set =
        left.length === 0 ? 'it has no aliases' : `its aliases are ${left.map((a) => `@${a.alias}`).join(', ')}`
      throw new ScalemlError('MODEL_NOT_FOUND', `The alias '${name}@${alias}' is not set: ${set}.`)
    },

    async delete(input) {
      const ref = toRef(input)
      const deleter = deleteStore()
      // An explicit version may already be deleted (deleting twice is a no-op); `name` and `name@alias` name a
      // visible version.
      const target = ref.version !== undefined ? { name: ref.name, version: ref.version } : await resolveRef(ref)
      const outcome = await deleter.markDeleted(target)
      switch (outcome.status) {
        case 'deleted':
          return { ...target, changed: true }
        case 'already-deleted':
          return { ...target, changed: false }
        case 'aliased': {
          const names = outcome.aliases.map((a) => `'${target.name}@${a}'`).join(', ')
          const it = outcome.aliases.length === 1 ? 'it' : 'them'
          throw new ScalemlError(
            'VERSION_IN_USE',
            `Cannot delete ${target.name}:${target.version}: the alias${outcome.aliases.length === 1 ? '' : 'es'} ${names} ` +
              `point${outcome.aliases.length === 1 ? 's' : ''} to it. Move ${it} ('scaleml models alias ${target.name} ` +
              `${outcome.aliases[0]} <version>') or remove ${it} ('scaleml models unalias ${target.name} ${outcome.aliases[0]}') first.`,
          )
        }
        case 'missing':
          throw await versionNotFound(target.name, target.version, await existingVersions(target.name))
      }
    },

    async restore(input) {
      const ref = toRef(input)
      const deleter = deleteStore()
      if (ref.version === undefined) {
        const deleted = await deleter.deletedVersions(ref.name)
        const which =
          deleted.length === 0
            ? `'${ref.name}' has no deleted versions`
            : `deleted versions of '${ref.name}': ${deleted.join(', ')}`
        throw new ScalemlError('INVALID_ARGUMENT', `Restore needs the version: '${ref.name}:<version>' (${which}).`)
      }
      const target = { name: ref.name, version: ref.version }
      const outcome = await deleter.restore(target)
      if (outcome.status === 'restored') return { ...target, changed: true }
      if (outcome.status === 'not-deleted') return { ...target, changed: false }
      const versions = await store.versions(ref.name)
      const deleted = await deleter.deletedVersions(ref.name)
      if (versions.length === 0 && deleted.length === 0) await existingVersions(ref.name)
      throw new ScalemlError(
        'MODEL_NOT_FOUND',
        `Model '${ref.name}' has no version ${ref.version}; versions: ${versions.join(', ') || 'none'}` +
          `${deleted.length > 0 ? `; deleted: ${deleted.join(', ')}` : ''}.`,
      )
    },

    async compare(a, b) {
      // Both references are checked before either is looked up, so a typo is reported as such.
      const [parsedA, parsedB] = [toRef(a), toRef(b)]
      const [refA, refB] = [await resolveRef(parsedA), await resolveRef(parsedB)]
      return compareManifests(await manifestOf(refA), await manifestOf(refB))
    },

    watch: async (onChange) => (canWatch(store) ? store.watch(onChange) : undefined),

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

function toRef(input: string | ModelRef): ModelRef {
  return typeof input === 'string' ? parseModelRef(input) : checkRef(input)
}

/** Throws `INVALID_ARGUMENT` for an alias outside {@link ALIAS_PATTERN} or the reserved `latest`. */
function checkAliasName(name: string, alias: string): void {
  if (alias === RESERVED_ALIAS) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `The alias '${RESERVED_ALIAS}' is reserved: '${name}' and '${name}@${RESERVED_ALIAS}' always mean the latest version.`,
    )
  }
  if (typeof alias !== 'string' || !ALIAS_PATTERN.test(alias)) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `Invalid alias '${String(alias)}': an alias is 1–64 lower-case letters, digits, '_' or '-', starting with a letter (like 'stable').`,
    )
  }
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
