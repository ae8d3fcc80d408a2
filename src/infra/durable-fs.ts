/**
 * The few file-system steps that make a write survive a crash: write then fsync the file, fsync the folder that
 * names it. Used by artifact writing and the files store; nothing here knows about models.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { open, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { ScalemlError } from '../core/errors.js'

/**
 * Writes `bytes` to `path` and flushes them to the device before returning. `exclusive` refuses to replace an
 * existing file (`EEXIST`).
 */
export async function writeFileDurable(
  path: string,
  bytes: Uint8Array,
  options: { exclusive?: boolean } = {},
): Promise<void> {
  const handle = await open(path, options.exclusive ? 'wx' : 'w')
  try {
    await handle.writeFile(bytes)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Flushes a folder's entries, so that files created or renamed in it are still named after a power loss.
 * File systems that cannot fsync a folder (some network and FUSE mounts) are tolerated: there is nothing more to do.
 */
export async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EISDIR' && code !== 'EPERM') throw error
  } finally {
    await handle.close()
  }
}

/** The `code` of a Node.js system error, or `undefined`. */
export function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as NodeJS.ErrnoException).code : undefined
}

/**
 * Writes `bytes` to a temporary sibling of `file`, flushes it, renames it over `file` and flushes the folder: a
 * reader sees the old file or the whole new one, and a killed writer leaves no partial file. Throws
 * `INVALID_ARGUMENT` when the folder does not exist.
 *
 * @example
 * await writeFileAtomic('out/model.onnx', bytes)
 */
export async function writeFileAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(file)
  const folder = await stat(dir).catch(() => undefined)
  if (folder === undefined || !folder.isDirectory()) {
    throw new ScalemlError('INVALID_ARGUMENT', `Cannot write ${file}: the folder ${dir} does not exist.`)
  }
  const temporary = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await writeFileDurable(temporary, bytes, { exclusive: true })
    await rename(temporary, file)
  } catch (error) {
    await rm(temporary, { force: true })
    throw error
  }
  await syncDirectory(dir)
}
