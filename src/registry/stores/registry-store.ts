/**
 * The storage interface behind the registry: publish an artifact as the next version of a name, list names and
 * versions, read a manifest or a file back. Stores move opaque bytes; validation, hashing and verification live in
 * the registry and `artifact.ts`, so an adapter (local files now, PostgreSQL later) cannot skip them. Every adapter
 * runs the shared suite in `registry-store.contract.ts`.
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
  /** Names the store in messages, e.g. `files store at /srv/.scaleml/models`. */
  readonly description: string
  /**
   * Claims the next free version of `request.name` (1 for a new name) and stores the files and the manifest under
   * it as one atomic step: until it resolves no reader sees the version, and after a crash either all of it is
   * visible or none. Concurrent publishers, in this process or others, get distinct consecutive versions.
   */
  publish(request: PublishRequest): Promise<number>
  /** Names with at least one complete version, sorted. */
  names(): Promise<string[]>
  /** Complete versions of `name`, ascending; `[]` for an unknown name. */
  versions(name: string): Promise<number[]>
  /** The manifest bytes of a version; `undefined` when the version or its manifest does not exist. */
  readManifest(ref: VersionRef): Promise<Uint8Array | undefined>
  /**
   * One file of a version; `undefined` when absent. A `path` that is not a plain file name is refused with
   * `ScalemlError('INVALID_ARGUMENT')`.
   */
  readFile(ref: VersionRef, path: string): Promise<Uint8Array | undefined>
  /** Releases connections; idempotent. */
  close(): Promise<void>
}
