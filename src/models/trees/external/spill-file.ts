/**
 * Files of fixed-size chunk records for external-memory training, and the temporary folders that hold them.
 *
 * A {@link SpillFile} stores record `c` at byte `c × chunkBytes`; callers read and write parts of a record with
 * positioned synchronous I/O (`fs.readSync` / `fs.writeSync`) into buffers they allocate once, so the process holds
 * one chunk of each array at a time whatever the file's size (the kernel's page cache may keep more of the file, but
 * that is not the process's resident memory, and the kernel drops it under pressure).
 *
 * A {@link SpillFolder} is a fresh folder under the OS temp folder (or a given one). It is removed by `remove()`,
 * which every owner calls in a `finally`, and, as a last resort, when the process exits normally with it still
 * present (an exception that escapes to the top, `process.exit`). A process killed by a signal (Ctrl-C during the
 * synchronous training loop, which no JavaScript handler could interrupt) leaves it behind: its name,
 * `scaleml-spill-<host>-<pid>-…`, lets the next spill folder created in the same place on the same host remove it
 * once that process is gone.
 * @module
 */
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { ScalemlError } from '../../../core/errors.js'

const SPILL_PREFIX = 'scaleml-spill-'

/** Removes the spill folders in `base` left by processes of this host that no longer run. */
function removeOrphans(base: string): void {
  const prefix = `${SPILL_PREFIX}${hostname()}-`
  for (const name of readdirSync(base)) {
    if (!name.startsWith(prefix)) continue
    const pid = Number(name.slice(prefix.length).split('-')[0])
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isRunning(pid)) continue
    rmSync(join(base, name), { recursive: true, force: true })
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Folders not removed yet, removed on a normal process exit. */
const liveFolders = new Set<string>()
let exitHook = false

function removeLiveFolders(): void {
  for (const path of liveFolders) rmSync(path, { recursive: true, force: true })
  liveFolders.clear()
}

/**
 * A temporary folder for spill files.
 *
 * @example
 * const folder = SpillFolder.create()
 * try {
 *   const file = folder.file('bins', 4096)
 * } finally {
 *   folder.remove()
 * }
 */
export class SpillFolder {
  readonly path: string
  readonly #files = new Set<SpillFile>()

  private constructor(path: string) {
    this.path = path
  }

  /**
   * Creates `scaleml-spill-XXXXXX` in `parent` (default: the OS temp folder; created when missing); throws
   * `INVALID_ARGUMENT` naming `parent` when it cannot.
   */
  static create(parent?: string): SpillFolder {
    const base = parent ?? tmpdir()
    let path: string
    try {
      mkdirSync(base, { recursive: true })
      removeOrphans(base)
      path = mkdtempSync(join(base, `${SPILL_PREFIX}${hostname()}-${process.pid}-`))
    } catch (error) {
      throw new ScalemlError(
        'INVALID_ARGUMENT',
        `Cannot create a spill folder for external-memory training in ${base}: ${(error as Error).message}. Pass a writable folder with spillDir (CLI: --spill-dir).`,
        [],
        { cause: error },
      )
    }
    if (!exitHook) {
      process.once('exit', removeLiveFolders)
      exitHook = true
    }
    liveFolders.add(path)
    return new SpillFolder(path)
  }

  /** True until {@link remove}. */
  get exists(): boolean {
    return liveFolders.has(this.path)
  }

  /** Bytes of the files in this folder now. */
  bytes(): number {
    let total = 0
    for (const name of readdirSync(this.path)) total += statSync(join(this.path, name)).size
    return total
  }

  /** A new, empty spill file `name` in this folder. */
  file(name: string, chunkBytes: number): SpillFile {
    const file = new SpillFile(join(this.path, name), chunkBytes, () => this.#files.delete(file))
    this.#files.add(file)
    return file
  }

  /** Closes every file and removes the folder (idempotent). */
  remove(): void {
    for (const file of [...this.#files]) file.close()
    rmSync(this.path, { recursive: true, force: true })
    liveFolders.delete(this.path)
  }
}

/** A file of `chunkBytes`-byte records, read and written in place. */
export class SpillFile {
  readonly path: string
  readonly chunkBytes: number
  #fd: number
  readonly #onClose: () => void

  /** Prefer {@link SpillFolder.file}, which removes the file with its folder. */
  constructor(path: string, chunkBytes: number, onClose: () => void = () => {}) {
    this.path = path
    this.chunkBytes = chunkBytes
    this.#fd = openSync(path, 'w+')
    this.#onClose = onClose
  }

  /** Reads `into.byteLength` bytes at byte `offset` of record `chunk`. */
  read(chunk: number, offset: number, into: ArrayBufferView): void {
    const view = new Uint8Array(into.buffer, into.byteOffset, into.byteLength)
    const position = chunk * this.chunkBytes + offset
    let done = 0
    while (done < view.length) {
      const n = readSync(this.#open(), view, done, view.length - done, position + done)
      if (n === 0) {
        throw new ScalemlError(
          'INTERNAL',
          `Spill file ${this.path} ended at byte ${position + done}, before the ${view.length} bytes of chunk ${chunk} that were written there; was it truncated or removed while training?`,
        )
      }
      done += n
    }
  }

  /** Writes `from.byteLength` bytes at byte `offset` of record `chunk`. */
  write(chunk: number, offset: number, from: ArrayBufferView): void {
    const view = new Uint8Array(from.buffer, from.byteOffset, from.byteLength)
    const position = chunk * this.chunkBytes + offset
    let done = 0
    while (done < view.length) done += writeSync(this.#open(), view, done, view.length - done, position + done)
  }

  /** Closes and deletes the file (idempotent). */
  close(): void {
    if (this.#fd < 0) return
    closeSync(this.#fd)
    this.#fd = -1
    rmSync(this.path, { force: true })
    this.#onClose()
  }

  #open(): number {
    if (this.#fd < 0) throw new Error(`SpillFile ${this.path} is closed`)
    return this.#fd
  }
}

/** `n` rounded up to a multiple of 8, so every record section of float64s starts 8-byte aligned in the file. */
export function align8(n: number): number {
  return Math.ceil(n / 8) * 8
}
