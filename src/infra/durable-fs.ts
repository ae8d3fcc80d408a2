/**
 * The few file-system steps that make a write survive a crash: write then fsync the file, fsync the folder that
 * names it. Used by artifact writing and the files store; nothing here knows about models.
 * @module
 */
import { open } from 'node:fs/promises'

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
