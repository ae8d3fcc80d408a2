/**
 * The files store, the registry's layout before the SQLite store: artifacts as folders
 * `<home>/models/<name>/<version>/` on the local file system. The SQLite store adopts what it finds there on first
 * open (see `sqlite.ts`); this store stays as a plain {@link RegistryStore} (no aliases, no deletion) for reading
 * that layout and for artifacts kept as folders.
 * A version is published by writing everything into a hidden staging folder next to the versions, fsyncing it, and
 * claiming the number with one `rename` — POSIX renames a folder atomically and refuses to replace a non-empty one,
 * so a killed process leaves at most a staging folder (ignored by readers, removed once stale) and concurrent
 * publishers, in any number of processes, each get their own number. Works on a shared volume that honours
 * rename semantics (local disks, NFSv4); it takes no locks.
 * @module
 */
import { randomBytes } from 'node:crypto'
import type { Dirent } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { isSafeFileName } from '../../core/codec.js'
import { ScalemlError } from '../../core/errors.js'
import { errnoCode, syncDirectory, writeFileDurable } from '../../infra/durable-fs.js'
import { MANIFEST_FILE, MODEL_NAME_PATTERN } from '../manifest.js'
import type { PublishRequest, RegistryStore, VersionRef } from './registry-store.js'

/** Options of {@link createFilesStore}. */
export interface FilesStoreOptions {
  /** The scaleml home; artifacts go under `<home>/models`. */
  readonly home: string
  /**
   * Staging folders older than this (by their newest entry) are taken to be left by a killed process and removed
   * when the same name is next published. Default one hour, in milliseconds.
   */
  readonly staleStagingMs?: number
}

/** The files store: a {@link RegistryStore} that can also list the files of a version (used to migrate it). */
export interface FilesStore extends RegistryStore {
  /** Plain files of a version other than `manifest.json`, sorted; `[]` when the version does not exist. */
  files(ref: VersionRef): Promise<string[]>
}

/** Prefix of staging folders; the leading dot keeps them out of version listings and casual `ls`. */
export const STAGING_PREFIX = '.staging-'

const VERSION_DIR = /^[1-9][0-9]{0,15}$/
/** A bound on renames per publish, far above what contention needs, so a broken file system cannot loop forever. */
const MAX_CLAIM_ATTEMPTS = 10_000

/**
 * Opens the files store under `<home>/models`. Nothing is created until the first publish.
 *
 * @example
 * const store = createFilesStore({ home: '/srv/.scaleml' })
 * const version = await store.publish({ name: 'flights', files, manifestFor })
 */
export function createFilesStore(options: FilesStoreOptions): FilesStore {
  const root = resolve(options.home, 'models')
  const staleMs = options.staleStagingMs ?? 3_600_000

  /** The registry checks names already; this keeps a direct caller from writing outside `root`. */
  const modelDir = (name: string): string => {
    if (!MODEL_NAME_PATTERN.test(name)) {
      throw new ScalemlError('INVALID_ARGUMENT', `Invalid model name '${name}' for the ${root} files store.`)
    }
    return join(root, name)
  }

  const versions = async (name: string): Promise<number[]> => {
    const entries = await listDir(modelDir(name))
    const out: number[] = []
    for (const entry of entries) {
      if (entry.isDirectory() && VERSION_DIR.test(entry.name)) out.push(Number(entry.name))
    }
    return out.sort((a, b) => a - b)
  }

  const versionDir = (ref: VersionRef): string => join(modelDir(ref.name), String(ref.version))

  /** Fills the staging folder, then renames it to the first free version number. */
  const claimVersion = async (request: PublishRequest, staging: string, nameDir: string): Promise<number> => {
    for (const file of request.files) {
      if (!isSafeFileName(file.path) || file.path === MANIFEST_FILE) {
        throw new ScalemlError('INVALID_ARGUMENT', `Cannot store a file named '${file.path}' in an artifact.`)
      }
      await writeFileDurable(join(staging, file.path), file.bytes, { exclusive: true })
    }
    let version = lastOf(await versions(request.name)) + 1
    for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
      await writeFileDurable(join(staging, MANIFEST_FILE), request.manifestFor(version))
      await syncDirectory(staging)
      try {
        await rename(staging, join(nameDir, String(version)))
        return version
      } catch (error) {
        if (!(await isTaken(error, join(nameDir, String(version))))) throw error
      }
      // Jump past everything claimed meanwhile rather than probing one number at a time.
      version = Math.max(version + 1, lastOf(await versions(request.name)) + 1)
    }
    throw new ScalemlError(
      'REGISTRY_CONFLICT',
      `Could not claim a version of '${request.name}' in ${root} after ${MAX_CLAIM_ATTEMPTS} attempts.`,
    )
  }

  return {
    description: `files store at ${root}`,

    async publish(request: PublishRequest): Promise<number> {
      const nameDir = modelDir(request.name)
      const firstCreated = await mkdir(nameDir, { recursive: true })
      if (firstCreated !== undefined) {
        // Folders made here must be named durably too, from the model's folder up to the first one created.
        for (let dir = nameDir; ; dir = dirname(dir)) {
          await syncDirectory(dirname(dir))
          if (dir === firstCreated) break
        }
      }
      await removeStaleStaging(nameDir, staleMs)

      const staging = join(nameDir, `${STAGING_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`)
      await mkdir(staging)
      let claimed: number
      try {
        claimed = await claimVersion(request, staging, nameDir)
      } catch (error) {
        await rm(staging, { recursive: true, force: true })
        throw error
      }
      await syncDirectory(nameDir)
      return claimed
    },

    async names(): Promise<string[]> {
      const out: string[] = []
      for (const entry of await listDir(root)) {
        if (!entry.isDirectory() || !MODEL_NAME_PATTERN.test(entry.name)) continue
        // A name whose first publish was killed has only a staging folder: it does not exist yet.
        if ((await versions(entry.name)).length > 0) out.push(entry.name)
      }
      return out.sort()
    },

    versions,

    readManifest: async (ref) => readOptional(join(versionDir(ref), MANIFEST_FILE)),

    async readFile(ref, path) {
      if (!isSafeFileName(path)) {
        throw new ScalemlError('INVALID_ARGUMENT', `Refusing to read '${path}': artifact files are plain file names.`)
      }
      return readOptional(join(versionDir(ref), path))
    },

    async files(ref) {
      const out: string[] = []
      for (const entry of await listDir(versionDir(ref))) {
        if (entry.isFile() && isSafeFileName(entry.name) && entry.name !== MANIFEST_FILE) out.push(entry.name)
      }
      return out.sort()
    },

    async close(): Promise<void> {},
  }
}

/** A failed rename means "someone else has this version" when the target now exists. */
async function isTaken(error: unknown, target: string): Promise<boolean> {
  const code = errnoCode(error)
  if (code === 'ENOTEMPTY' || code === 'EEXIST') return true
  // Windows reports EPERM and some file systems ENOTDIR/EACCES; confirm by looking at the target.
  if (code === 'EPERM' || code === 'EACCES' || code === 'ENOTDIR') {
    try {
      await stat(target)
      return true
    } catch {
      return false
    }
  }
  return false
}

async function removeStaleStaging(nameDir: string, staleMs: number): Promise<void> {
  const now = Date.now()
  for (const entry of await listDir(nameDir)) {
    if (!entry.isDirectory() || !entry.name.startsWith(STAGING_PREFIX)) continue
    const dir = join(nameDir, entry.name)
    const newest = await newestModification(dir)
    if (newest !== undefined && now - newest > staleMs) await rm(dir, { recursive: true, force: true })
  }
}

/** The latest mtime of a folder and its files: a long write of one big file keeps its staging folder fresh. */
async function newestModification(dir: string): Promise<number | undefined> {
  try {
    let newest = (await stat(dir)).mtimeMs
    for (const name of await readdir(dir)) {
      try {
        newest = Math.max(newest, (await stat(join(dir, name))).mtimeMs)
      } catch {
        // Removed while we looked: the folder is in use or being cleaned; its own mtime decides.
      }
    }
    return newest
  } catch {
    return undefined
  }
}

async function listDir(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true })
  } catch (error) {
    const code = errnoCode(error)
    if (code === 'ENOENT' || code === 'ENOTDIR') return []
    throw error
  }
}

async function readOptional(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path)
  } catch (error) {
    const code = errnoCode(error)
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined
    throw error
  }
}

function lastOf(sorted: readonly number[]): number {
  return sorted.length === 0 ? 0 : sorted[sorted.length - 1]!
}
