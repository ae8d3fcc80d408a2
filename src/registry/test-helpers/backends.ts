/**
 * The registry over each backend, for tests that must hold on all of them (resolution, aliases, deletion,
 * integrity): a fresh registry plus a way to corrupt what it stored, the way a disk fault or a hand edit would.
 * Test-only.
 * @module
 */
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { createTempHome } from '../../testing/temp-home.js'
import { openRegistry, type Registry } from '../registry.js'
import type { VersionRef } from '../stores/registry-store.js'
import { createTestSchema } from './postgres-schema.js'

/** An open registry on one backend, and handles on its raw storage. */
export interface RegistryBackend {
  readonly registry: Registry
  /** The scaleml home (the SQLite file lives here; PostgreSQL ignores it). */
  readonly home: string
  /** The registry URL (`sqlite:…`, `postgres://…`), as the CLI takes it. */
  readonly url: string
  /** Flips the lowest bit of byte `offset` of a stored file (in its first chunk). */
  flipByte(ref: VersionRef, path: string, offset?: number): Promise<void>
  /** Replaces the stored manifest bytes of a version. */
  writeManifest(ref: VersionRef, bytes: Uint8Array): Promise<void>
  /** Closes the registry and removes everything it stored. */
  dispose(): Promise<void>
}

/** The backends every registry-level test runs on. */
export const BACKENDS: readonly { readonly label: string; open(): Promise<RegistryBackend> }[] = [
  { label: 'sqlite', open: openSqliteBackend },
  { label: 'postgres', open: openPostgresBackend },
]

async function openSqliteBackend(): Promise<RegistryBackend> {
  const home = await createTempHome('registry-sqlite')
  const path = join(home.path, 'registry.db')
  const registry = await openRegistry({ home: home.path, url: `sqlite:${path}` })
  const write = (sql: string, ...values: unknown[]): void => {
    const db = new Database(path)
    try {
      db.prepare(sql).run(...values)
    } finally {
      db.close()
    }
  }
  return {
    registry,
    home: home.path,
    url: `sqlite:${path}`,
    async flipByte(ref, file, offset = 0) {
      const db = new Database(path)
      try {
        const row = db
          .prepare<[string, number, string], { data: Buffer }>(
            'SELECT data FROM registry_files WHERE name = ? AND version = ? AND path = ? AND chunk = 0',
          )
          .get(ref.name, ref.version, file)
        if (row === undefined) throw new Error(`no stored file ${file}`)
        const data = Buffer.from(row.data)
        data[offset] = data[offset]! ^ 1
        db.prepare('UPDATE registry_files SET data = ? WHERE name = ? AND version = ? AND path = ? AND chunk = 0').run(
          data,
          ref.name,
          ref.version,
          file,
        )
      } finally {
        db.close()
      }
    },
    async writeManifest(ref, bytes) {
      write(
        'UPDATE registry_versions SET manifest = ? WHERE name = ? AND version = ?',
        Buffer.from(bytes),
        ref.name,
        ref.version,
      )
    },
    async dispose() {
      await registry.close()
      await home.remove()
    },
  }
}

async function openPostgresBackend(): Promise<RegistryBackend> {
  const home = await createTempHome('registry-pg')
  const schema = await createTestSchema('registry')
  const registry = await openRegistry({ home: home.path, url: schema.url })
  const s = `"${schema.schema}"`
  return {
    registry,
    home: home.path,
    url: schema.url,
    async flipByte(ref, file, offset = 0) {
      const rows = await schema.query(
        `UPDATE ${s}.registry_files SET data = set_byte(data, $4, get_byte(data, $4) # 1)
         WHERE name = $1 AND version = $2 AND path = $3 AND chunk = 0 RETURNING 1`,
        [ref.name, ref.version, file, offset],
      )
      if (rows.length === 0) throw new Error(`no stored file ${file}`)
    },
    async writeManifest(ref, bytes) {
      await schema.query(`UPDATE ${s}.registry_versions SET manifest = $3 WHERE name = $1 AND version = $2`, [
        ref.name,
        ref.version,
        Buffer.from(bytes),
      ])
    },
    async dispose() {
      await registry.close()
      await schema.drop()
      await home.remove()
    },
  }
}
