/**
 * The embedded registry store, the default: one SQLite database (`<home>/registry.db`) holding versions, manifests,
 * aliases, deletion marks and the artifact files themselves (in chunk rows).
 *
 * Why the files live in the database too: publishing a version is then one SQLite transaction (claim the number,
 * insert the manifest and every file), so atomicity and numbering come from SQLite's write lock and journal alone.
 * A process killed mid-publish leaves only uncommitted WAL frames, which SQLite discards; there is no second place
 * (a folder) that could disagree with the database and need repairing. Versions are immutable and read whole, the
 * only access pattern a blob column has to serve well. Chunks keep rows far below SQLite's 1 GB value limit.
 *
 * A registry written by the files store (`<home>/models/<name>/<version>/`, earlier releases) is adopted on the
 * first open: every version is copied in with its number, and the folders are left untouched.
 *
 * Local disks only: SQLite's WAL needs shared memory and POSIX locks that network file systems do not reliably
 * give. Machines that share a registry use the PostgreSQL store.
 * @module
 */
import { existsSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { ScalemlError } from '../../core/errors.js'
import { checkReadPath, checkStoreAlias, checkStoredFiles, checkStoreName, checkStoreRef } from './checks.js'
import { joinChunks, splitChunks } from './chunks.js'
import { createFilesStore } from './files.js'
import type { FullRegistryStore, PublishRequest, VersionRef } from './registry-store.js'

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file. It (and its folder) is created on the first write, not before. */
  readonly path: string
  /**
   * A scaleml home whose `models/` folder (the files store's layout) is adopted on first open. Default: the folder
   * holding the database. `false` adopts nothing.
   */
  readonly legacyHome?: string | false
  /** How long a write waits for another process holding the write lock, in milliseconds. Default 60 000. */
  readonly busyTimeoutMs?: number
}

/** The schema this code writes; a database with a newer one is refused rather than misread. */
export const SQLITE_SCHEMA_VERSION = 1

/** `registry_meta` key recording that the files store's folders were adopted. */
const ADOPTED_KEY = 'files_store_adopted'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS registry_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS registry_versions (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  manifest BLOB NOT NULL,
  registered_at TEXT NOT NULL,
  deleted_at TEXT,
  PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS registry_files (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  path TEXT NOT NULL,
  chunk INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (name, version, path, chunk),
  FOREIGN KEY (name, version) REFERENCES registry_versions (name, version)
);
CREATE TABLE IF NOT EXISTS registry_aliases (
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (name, alias),
  FOREIGN KEY (name, version) REFERENCES registry_versions (name, version)
);
`

type Db = Database.Database

/** Prepared statements, made once per connection. */
function prepare(db: Db) {
  return {
    maxVersion: db.prepare<[string], { v: number | null }>(
      'SELECT MAX(version) AS v FROM registry_versions WHERE name = ?',
    ),
    insertVersion: db.prepare<[string, number, Buffer, string]>(
      'INSERT INTO registry_versions (name, version, manifest, registered_at) VALUES (?, ?, ?, ?)',
    ),
    adoptVersion: db.prepare<[string, number, Buffer, string]>(
      'INSERT OR IGNORE INTO registry_versions (name, version, manifest, registered_at) VALUES (?, ?, ?, ?)',
    ),
    insertChunk: db.prepare<[string, number, string, number, Buffer]>(
      'INSERT INTO registry_files (name, version, path, chunk, data) VALUES (?, ?, ?, ?, ?)',
    ),
    names: db.prepare<[], { name: string }>(
      'SELECT DISTINCT name FROM registry_versions WHERE deleted_at IS NULL ORDER BY name',
    ),
    versions: db.prepare<[string], { version: number }>(
      'SELECT version FROM registry_versions WHERE name = ? AND deleted_at IS NULL ORDER BY version',
    ),
    deleted: db.prepare<[string], { version: number }>(
      'SELECT version FROM registry_versions WHERE name = ? AND deleted_at IS NOT NULL ORDER BY version',
    ),
    state: db.prepare<[string, number], { deleted_at: string | null }>(
      'SELECT deleted_at FROM registry_versions WHERE name = ? AND version = ?',
    ),
    manifest: db.prepare<[string, number], { manifest: Buffer }>(
      'SELECT manifest FROM registry_versions WHERE name = ? AND version = ?',
    ),
    chunks: db.prepare<[string, number, string], { data: Buffer }>(
      'SELECT data FROM registry_files WHERE name = ? AND version = ? AND path = ? ORDER BY chunk',
    ),
    setDeleted: db.prepare<[string | null, string, number]>(
      'UPDATE registry_versions SET deleted_at = ? WHERE name = ? AND version = ?',
    ),
    alias: db.prepare<[string, string], { version: number }>(
      'SELECT version FROM registry_aliases WHERE name = ? AND alias = ?',
    ),
    upsertAlias: db.prepare<[string, string, number, string]>(
      `INSERT INTO registry_aliases (name, alias, version, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
    ),
    deleteAlias: db.prepare<[string, string]>('DELETE FROM registry_aliases WHERE name = ? AND alias = ?'),
    aliases: db.prepare<[string], { alias: string; version: number }>(
      'SELECT alias, version FROM registry_aliases WHERE name = ? ORDER BY alias',
    ),
    aliasesAt: db.prepare<[string, number], { alias: string }>(
      'SELECT alias FROM registry_aliases WHERE name = ? AND version = ? ORDER BY alias',
    ),
    meta: db.prepare<[string], { value: string }>('SELECT value FROM registry_meta WHERE key = ?'),
    setMeta: db.prepare<[string, string]>(
      'INSERT INTO registry_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
  }
}

type Statements = ReturnType<typeof prepare>

/**
 * Opens the SQLite registry store. Nothing is created until the first write, unless a files-store registry is
 * found next to it, which is adopted at once.
 *
 * @example
 * const store = await openSqliteStore({ path: '/srv/.scaleml/registry.db' })
 * const version = await store.publish({ name: 'flights', files, manifestFor })
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<FullRegistryStore> {
  const path = resolve(options.path)
  const where = `SQLite registry at ${path}`
  const timeout = options.busyTimeoutMs ?? 60_000
  let db: Db | undefined
  let statements: Statements | undefined
  let closed = false

  /** The statements of the open database; `undefined` when it does not exist yet and `create` is false. */
  const connect = (create: boolean): Statements | undefined => {
    if (closed) throw new ScalemlError('STORE_UNAVAILABLE', `The ${where} is closed.`)
    if (statements !== undefined) return statements
    if (!create && !existsSync(path)) return undefined
    db = guard(where, () => {
      mkdirSync(dirname(path), { recursive: true })
      return openDatabase(path, timeout, where)
    })
    statements = prepare(db)
    return statements
  }
  const writer = (): Statements => connect(true)!
  const run = <T>(fn: () => T): T => guard(where, fn)
  const immediate = <T>(fn: () => T): T => run(() => db!.transaction(fn).immediate())

  const versionState = (s: Statements, ref: VersionRef): 'missing' | 'visible' | 'deleted' => {
    const row = s.state.get(ref.name, ref.version)
    return row === undefined ? 'missing' : row.deleted_at === null ? 'visible' : 'deleted'
  }

  if (options.legacyHome !== false) {
    await adoptFilesStore({ home: resolve(options.legacyHome ?? dirname(path)), connect: writer, run })
  }

  return {
    description: where,

    async publish(request: PublishRequest): Promise<number> {
      checkStoreName(request.name, where)
      checkStoredFiles(request.files)
      const s = writer()
      // IMMEDIATE takes the write lock before reading MAX(version), so no other process can claim the same number.
      return immediate(() => {
        const version = (s.maxVersion.get(request.name)?.v ?? 0) + 1
        const manifest = request.manifestFor(version)
        s.insertVersion.run(request.name, version, toBuffer(manifest), new Date().toISOString())
        for (const file of request.files) {
          for (const [i, chunk] of splitChunks(file.bytes).entries()) {
            s.insertChunk.run(request.name, version, file.path, i, chunk)
          }
        }
        return version
      })
    },

    async names() {
      const s = connect(false)
      return s === undefined ? [] : run(() => s.names.all().map((r) => r.name))
    },

    async versions(name) {
      checkStoreName(name, where)
      const s = connect(false)
      return s === undefined ? [] : run(() => s.versions.all(name).map((r) => r.version))
    },

    async readManifest(ref) {
      checkStoreRef(ref, where)
      const s = connect(false)
      return s === undefined ? undefined : run(() => s.manifest.get(ref.name, ref.version)?.manifest)
    },

    async readFile(ref, path) {
      checkReadPath(path)
      checkStoreRef(ref, where)
      const s = connect(false)
      return s === undefined
        ? undefined
        : run(() => joinChunks(s.chunks.all(ref.name, ref.version, path).map((r) => r.data)))
    },

    async setAlias(ref, alias) {
      checkStoreRef(ref, where)
      checkStoreAlias(alias, where)
      const s = writer()
      return immediate(() => {
        const state = versionState(s, ref)
        if (state !== 'visible') return { status: state }
        const previous = s.alias.get(ref.name, alias)?.version
        s.upsertAlias.run(ref.name, alias, ref.version, new Date().toISOString())
        return previous === undefined || previous === ref.version ? { status: 'set' } : { status: 'set', previous }
      })
    },

    async removeAlias(name, alias) {
      checkStoreName(name, where)
      checkStoreAlias(alias, where)
      const s = connect(false)
      if (s === undefined) return { status: 'missing' }
      return immediate(() => {
        const current = s.alias.get(name, alias)
        if (current === undefined) return { status: 'missing' }
        s.deleteAlias.run(name, alias)
        return { status: 'removed', version: current.version }
      })
    },

    async aliases(name) {
      checkStoreName(name, where)
      const s = connect(false)
      return s === undefined ? [] : run(() => s.aliases.all(name).map((r) => ({ alias: r.alias, version: r.version })))
    },

    async markDeleted(ref) {
      checkStoreRef(ref, where)
      const s = connect(false)
      if (s === undefined) return { status: 'missing' }
      return immediate(() => {
        const state = versionState(s, ref)
        if (state === 'missing') return { status: 'missing' }
        if (state === 'deleted') return { status: 'already-deleted' }
        const aliases = s.aliasesAt.all(ref.name, ref.version).map((r) => r.alias)
        if (aliases.length > 0) return { status: 'aliased', aliases }
        s.setDeleted.run(new Date().toISOString(), ref.name, ref.version)
        return { status: 'deleted' }
      })
    },

    async restore(ref) {
      checkStoreRef(ref, where)
      const s = connect(false)
      if (s === undefined) return { status: 'missing' }
      return immediate(() => {
        const state = versionState(s, ref)
        if (state === 'missing') return { status: 'missing' }
        if (state === 'visible') return { status: 'not-deleted' }
        s.setDeleted.run(null, ref.name, ref.version)
        return { status: 'restored' }
      })
    },

    async deletedVersions(name) {
      checkStoreName(name, where)
      const s = connect(false)
      return s === undefined ? [] : run(() => s.deleted.all(name).map((r) => r.version))
    },

    async close() {
      if (closed) return
      closed = true
      db?.close()
      db = undefined
      statements = undefined
    },
  }
}

/** Opens the database file, switches it to WAL and makes sure the schema is there (safe in concurrent processes). */
function openDatabase(path: string, timeout: number, where: string): Db {
  const db = new Database(path, { timeout })
  try {
    // WAL: readers never wait for the writer, and frames of a transaction that never committed (a killed process)
    // are ignored on recovery. FULL syncs the WAL at every commit, so a registered version survives power loss too.
    retryWhileBusy(() => db.pragma('journal_mode = WAL'), timeout)
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    // Big publishes grow the WAL to their size; let it shrink back after checkpoints.
    db.pragma('journal_size_limit = 67108864')
    db.transaction(() => {
      db.exec(SCHEMA)
      const row = db
        .prepare<[], { value: string }>(`SELECT value FROM registry_meta WHERE key = 'schema_version'`)
        .get()
      if (row === undefined) {
        db.prepare(`INSERT INTO registry_meta (key, value) VALUES ('schema_version', ?)`).run(
          String(SQLITE_SCHEMA_VERSION),
        )
      } else if (Number(row.value) > SQLITE_SCHEMA_VERSION) {
        throw new ScalemlError(
          'STORE_UNAVAILABLE',
          `The ${where} has schema version ${row.value}, written by a newer scaleml; this one reads version ${SQLITE_SCHEMA_VERSION}. Upgrade scaleml.`,
        )
      }
    }).immediate()
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

/** Switching to WAL needs a moment of exclusive access; a concurrent opener can get SQLITE_BUSY without waiting. */
function retryWhileBusy<T>(fn: () => T, timeout: number): T {
  const deadline = Date.now() + timeout
  for (;;) {
    try {
      return fn()
    } catch (error) {
      if (sqliteCode(error) !== 'SQLITE_BUSY' || Date.now() > deadline) throw error
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
    }
  }
}

/** Runs `fn`, turning SQLite failures (locked too long, not a database, read-only…) into `STORE_UNAVAILABLE`. */
function guard<T>(where: string, fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    const code = sqliteCode(error)
    if (code === undefined) throw error
    const reason =
      code === 'SQLITE_BUSY'
        ? 'another process held its write lock for too long'
        : code === 'SQLITE_NOTADB'
          ? 'the file is not a SQLite database'
          : (error as Error).message
    throw new ScalemlError('STORE_UNAVAILABLE', `The ${where} cannot be used: ${reason} (${code}).`, [], {
      cause: error,
    })
  }
}

function sqliteCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || error.name !== 'SqliteError') return undefined
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : 'SQLITE_ERROR'
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * Copies every version the files store left under `<home>/models` into the database, keeping version numbers, once
 * per database (recorded in `registry_meta`). Each version is one transaction and `INSERT OR IGNORE`, so processes
 * opening the registry at the same moment, or a run killed halfway, simply continue. The folders stay in place.
 * A version folder without a manifest is kept as a version with an empty manifest, so loading it still says what
 * is wrong, as the files store did, and its number is never reused.
 */
async function adoptFilesStore(context: {
  readonly home: string
  readonly connect: () => Statements
  readonly run: <T>(fn: () => T) => T
}): Promise<void> {
  const legacy = createFilesStore({ home: context.home })
  const names = await legacy.names()
  if (names.length === 0) return
  const s = context.connect()
  if (context.run(() => s.meta.get(ADOPTED_KEY)) !== undefined) return
  let adopted = 0
  for (const name of names) {
    for (const version of await legacy.versions(name)) {
      const ref = { name, version }
      if (context.run(() => s.state.get(name, version)) !== undefined) continue
      const manifest = (await legacy.readManifest(ref)) ?? new Uint8Array(0)
      const files: { path: string; bytes: Uint8Array }[] = []
      for (const path of await legacy.files(ref)) {
        const bytes = await legacy.readFile(ref, path)
        if (bytes !== undefined) files.push({ path, bytes })
      }
      const at = new Date().toISOString()
      context.run(() =>
        s.adoptVersion.database
          .transaction(() => {
            if (s.adoptVersion.run(name, version, toBuffer(manifest), at).changes === 0) return
            for (const file of files) {
              for (const [i, chunk] of splitChunks(file.bytes).entries())
                s.insertChunk.run(name, version, file.path, i, chunk)
            }
            adopted++
          })
          .immediate(),
      )
    }
  }
  context.run(() =>
    s.setMeta.run(
      ADOPTED_KEY,
      JSON.stringify({ at: new Date().toISOString(), from: join(context.home, 'models'), adopted }),
    ),
  )
}
