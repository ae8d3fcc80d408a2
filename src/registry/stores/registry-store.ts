/**
 * The storage interfaces behind the registry. {@link RegistryStore} publishes an artifact as the next version of a
 * name and reads manifests and files back; two optional capabilities add aliases ({@link AliasStore}) and soft
 * deletion ({@link SoftDeleteStore}), each detected with a type guard rather than methods that throw "not supported".
 * Stores move opaque bytes and keep the rules that need atomicity (an alias never points at a deleted version);
 * validation, hashing, verification and every user-facing message live in the registry and `artifact.ts`, so an
 * adapter cannot skip them. Every adapter runs the shared suite in `registry-store.contract.ts`.
 * @module
 */

/** One version of one model. */
export interface VersionRef {
  readonly name: string
  readonly version: number
}

/** A binary file of an artifact, as the store keeps it. */
export interface StoredFile {
  /** A plain file name (no folders); already checked by the registry. */
  readonly path: string
  readonly bytes: Uint8Array
}

/** What {@link RegistryStore.publish} stores. */
export interface PublishRequest {
  /** A model name matching `MODEL_NAME_PATTERN`; stores refuse others with `INVALID_ARGUMENT`. */
  readonly name: string
  readonly files: readonly StoredFile[]
  /**
   * The manifest bytes for `version`. The store calls it for the version it is about to claim, and again with
   * another number if that version was taken meanwhile; only the bytes of the version finally claimed are kept.
   */
  manifestFor(version: number): Uint8Array
}

/** Where registered artifacts live. All methods are async so network stores fit the same shape. */
export interface RegistryStore {
  /** Names the store in messages, e.g. `SQLite registry at /srv/.scaleml/registry.db`. */
  readonly description: string
  /**
   * Claims the next version of `request.name` (1 for a new name; never a number used before, even by a deleted
   * version) and stores the files and the manifest under it as one atomic step: until it resolves no reader sees
   * the version, and after a crash either all of it is visible or none. Concurrent publishers, in this process or
   * others, get distinct consecutive versions.
   */
  publish(request: PublishRequest): Promise<number>
  /** Names with at least one visible (not deleted) version, sorted. */
  names(): Promise<string[]>
  /** Visible (not deleted) versions of `name`, ascending; `[]` for an unknown name. */
  versions(name: string): Promise<number[]>
  /** The manifest bytes of a version, deleted or not; `undefined` when the version does not exist. */
  readManifest(ref: VersionRef): Promise<Uint8Array | undefined>
  /**
   * One file of a version, deleted or not; `undefined` when absent. A `path` that is not a plain file name is
   * refused with `ScalemlError('INVALID_ARGUMENT')`.
   */
  readFile(ref: VersionRef, path: string): Promise<Uint8Array | undefined>
  /** Releases connections; idempotent. */
  close(): Promise<void>
}

/** Alias names: 1–64 lower-case letters, digits, `_` or `-`, starting with a letter (so never a version number). */
export const ALIAS_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/

/** One alias of a model: `name@alias` means `name:version`. */
export interface AliasEntry {
  readonly alias: string
  readonly version: number
}

/** What {@link AliasStore.setAlias} did: set (moved from `previous`, if it pointed elsewhere), or why it did not. */
export type SetAliasOutcome =
  | { readonly status: 'set'; readonly previous?: number }
  | { readonly status: 'missing' }
  | { readonly status: 'deleted' }

/** What {@link AliasStore.removeAlias} did: removed (it pointed at `version`), or the alias was not set. */
export type RemoveAliasOutcome =
  | { readonly status: 'removed'; readonly version: number }
  | { readonly status: 'missing' }

/**
 * Aliases: a name for one version of one model (`flights@stable`). Setting an alias that exists moves it in one
 * atomic step; an alias never points at a missing or deleted version.
 */
export interface AliasStore {
  /** Points `alias` of `ref.name` at `ref.version`; `missing`/`deleted` when that version is absent or deleted. */
  setAlias(ref: VersionRef, alias: string): Promise<SetAliasOutcome>
  removeAlias(name: string, alias: string): Promise<RemoveAliasOutcome>
  /** Aliases of `name`, sorted by alias; `[]` for an unknown name. */
  aliases(name: string): Promise<AliasEntry[]>
}

/** What {@link SoftDeleteStore.markDeleted} did, or why it refused (`aliased`: these aliases point at it). */
export type DeleteOutcome =
  | { readonly status: 'deleted' }
  | { readonly status: 'already-deleted' }
  | { readonly status: 'missing' }
  | { readonly status: 'aliased'; readonly aliases: readonly string[] }

/** What {@link SoftDeleteStore.restore} did. */
export type RestoreOutcome =
  | { readonly status: 'restored' }
  | { readonly status: 'not-deleted' }
  | { readonly status: 'missing' }

/**
 * Soft deletion: a deleted version disappears from `names()`/`versions()` (so from latest resolution) but keeps its
 * bytes and its number, and can be restored. A version an alias points at is never deleted.
 */
export interface SoftDeleteStore {
  markDeleted(ref: VersionRef): Promise<DeleteOutcome>
  restore(ref: VersionRef): Promise<RestoreOutcome>
  /** Deleted versions of `name`, ascending. */
  deletedVersions(name: string): Promise<number[]>
}

/** A store with every capability: what the SQLite and PostgreSQL stores are. */
export type FullRegistryStore = RegistryStore & AliasStore & SoftDeleteStore

/** True when the store keeps aliases. */
export const canAlias = (store: RegistryStore): store is RegistryStore & AliasStore =>
  typeof (store as Partial<AliasStore>).setAlias === 'function'

/** True when the store can soft-delete and restore versions. */
export const canSoftDelete = (store: RegistryStore): store is RegistryStore & SoftDeleteStore =>
  typeof (store as Partial<SoftDeleteStore>).markDeleted === 'function'

/**
 * Called by {@link WatchStore.watch} with the model name whose versions or aliases changed, once the change is
 * visible to readers; `undefined` means changes may have been missed (the watch reconnected): re-read every name.
 */
export type RegistryChangeListener = (name: string | undefined) => void

/**
 * Change notification: the store tells a watcher, soon after each commit, which model's versions or aliases changed,
 * so a server can swap without polling fast. Delivery is best effort; callers keep polling as a slower fallback.
 */
export interface WatchStore {
  /**
   * Starts watching; resolves once notifications flow (rejects with `STORE_UNAVAILABLE` when it cannot start) to
   * the function that stops watching.
   */
  watch(onChange: RegistryChangeListener): Promise<() => Promise<void>>
}

/** True when the store can notify watchers of changes. */
export const canWatch = (store: RegistryStore): store is RegistryStore & WatchStore =>
  typeof (store as Partial<WatchStore>).watch === 'function'
