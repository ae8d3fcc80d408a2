/**
 * Unique scratch folders for tests that touch the file system (a scaleml home, an artifact folder), so test files
 * running in parallel never share state. Each folder lives under the OS temp folder and is removed by `remove()`.
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A scratch folder and the way to remove it. */
export interface TempHome {
  /** Absolute path of the (existing, empty) folder. */
  readonly path: string
  /** Removes the folder and everything in it; safe to call twice. */
  remove(): Promise<void>
}

/**
 * Creates a fresh empty folder `…/scaleml-<label>-XXXXXX`.
 *
 * @example
 * const home = await createTempHome('registry')
 * onTestFinished(() => home.remove())
 */
export async function createTempHome(label = 'test'): Promise<TempHome> {
  const safe = label.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)
  const path = await mkdtemp(join(tmpdir(), `scaleml-${safe}-`))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}
