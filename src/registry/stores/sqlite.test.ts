import { existsSync } from 'node:fs'
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isScalemlError } from '../../core/errors.js'
import { createTempHome, type TempHome } from '../../testing/temp-home.js'
import { openRegistry } from '../registry.js'
import { killWhileRegistering, registerFromTwoProcesses } from '../test-helpers/child-process.js'
import { sampleContent } from '../test-helpers/sample-content.js'
import { createFilesStore } from './files.js'
import { describeRegistryStoreContract } from './registry-store.contract.js'
import { openSqliteStore } from './sqlite.js'

describeRegistryStoreContract('SQLite store', async () => {
  const home = await createTempHome('sqlite-store')
  return { store: await openSqliteStore({ path: join(home.path, 'registry.db') }), dispose: () => home.remove() }
})

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size
  } catch {
    return 0
  }
}

describe('SQLite store files and schema', () => {
  let home: TempHome
  beforeEach(async () => {
    home = await createTempHome('sqlite-files')
  })
  afterEach(() => home.remove())

  it('creates nothing until the first publish, then one database file under the home', async () => {
    const path = join(home.path, 'nested', 'registry.db')
    const store = await openSqliteStore({ path })
    expect(await store.names()).toEqual([])
    expect(await store.versions('flights')).toEqual([])
    expect(await store.aliases('flights')).toEqual([])
    expect(await store.markDeleted({ name: 'flights', version: 1 })).toEqual({ status: 'missing' })
    expect(existsSync(join(home.path, 'nested'))).toBe(false)
    await store.publish({ name: 'flights', files: [], manifestFor: (v) => new TextEncoder().encode(`{"v":${v}}`) })
    await store.close()
    expect(
      (await readdir(join(home.path, 'nested'))).filter((n) => !n.endsWith('-wal') && !n.endsWith('-shm')),
    ).toEqual(['registry.db'])
    const db = new Database(path, { readonly: true })
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
      const tables = db
        .prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
        .all()
        .map((r) => r.name)
      expect(tables).toEqual(['registry_aliases', 'registry_files', 'registry_meta', 'registry_versions'])
      expect(db.prepare(`SELECT value FROM registry_meta WHERE key = 'schema_version'`).pluck().get()).toBe('1')
    } finally {
      db.close()
    }
  })

  it('says a file that is not a SQLite database cannot be used, naming it', async () => {
    const path = join(home.path, 'registry.db')
    await writeFile(path, 'this is not a database, just some text that is long enough to have a header..........')
    const error = await openSqliteStore({ path })
      .then((store) => store.names())
      .catch((e: unknown) => e)
    expect(isScalemlError(error, 'STORE_UNAVAILABLE')).toBe(true)
    expect((error as Error).message).toContain(path)
    expect((error as Error).message).toContain('not a SQLite database')
  })

  it('refuses a database written by a newer scaleml instead of misreading it', async () => {
    const path = join(home.path, 'registry.db')
    const store = await openSqliteStore({ path })
    await store.publish({ name: 'flights', files: [], manifestFor: () => new Uint8Array([123, 125]) })
    await store.close()
    const db = new Database(path)
    db.prepare(`UPDATE registry_meta SET value = '99' WHERE key = 'schema_version'`).run()
    db.close()
    const error = await openSqliteStore({ path })
      .then((s) => s.names())
      .catch((e: unknown) => e)
    expect(isScalemlError(error, 'STORE_UNAVAILABLE')).toBe(true)
    expect((error as Error).message).toMatch(/schema version 99.*newer scaleml/)
  })

  it('fails with STORE_UNAVAILABLE once closed', async () => {
    const store = await openSqliteStore({ path: join(home.path, 'registry.db') })
    await store.close()
    const error = await store.names().catch((e: unknown) => e)
    expect(isScalemlError(error, 'STORE_UNAVAILABLE')).toBe(true)
  })
})

describe('SQLite store adopts a registry written by the files store', () => {
  let home: TempHome
  beforeEach(async () => {
    home = await createTempHome('sqlite-adopt')
  })
  afterEach(() => home.remove())

  /** What an earlier release left: versions as folders under <home>/models, plus a killed publish's staging folder. */
  async function writeLegacyRegistry(): Promise<void> {
    const legacy = await openRegistry({ home: home.path, store: createFilesStore({ home: home.path }) })
    await legacy.register('flights', sampleContent({ metrics: { auc: 0.6 } }))
    await legacy.register('flights', sampleContent({ metrics: { auc: 0.7 } }))
    await legacy.register('weather', sampleContent({ metrics: { rmse: 2 } }))
    await mkdir(join(home.path, 'models', 'flights', '.staging-123-abc'))
    await legacy.close()
  }

  it('keeps every version with its number and bytes, loads them verified, and continues the numbering', async () => {
    await writeLegacyRegistry()
    const registry = await openRegistry({ home: home.path, url: undefined })
    expect(registry.store.description).toContain(join(home.path, 'registry.db'))
    expect((await registry.list()).map((m) => [m.name, m.versions])).toEqual([
      ['flights', [1, 2]],
      ['weather', [1]],
    ])
    expect((await registry.load('flights:1')).manifest.metrics).toEqual({ auc: 0.6 })
    expect((await registry.load('flights')).manifest.metrics).toEqual({ auc: 0.7 })
    expect(await registry.register('flights', sampleContent())).toEqual({ name: 'flights', version: 3 })
    await registry.alias('flights', 'stable', 2)
    expect(await registry.resolve('flights@stable')).toEqual({ name: 'flights', version: 2 })
    await registry.close()
    // The folders are left as they were: nothing of the user's is removed.
    expect((await readdir(join(home.path, 'models', 'flights'))).sort()).toEqual(['.staging-123-abc', '1', '2'])
  })

  it('adopts once: a second open, or several opening at once, copy nothing twice', async () => {
    await writeLegacyRegistry()
    const path = join(home.path, 'registry.db')
    const stores = await Promise.all([openSqliteStore({ path }), openSqliteStore({ path }), openSqliteStore({ path })])
    for (const store of stores) expect(await store.versions('flights')).toEqual([1, 2])
    await Promise.all(stores.map((s) => s.close()))
    // A folder an old release writes after adoption is not picked up (the guide says so).
    const legacy = createFilesStore({ home: home.path })
    await legacy.publish({ name: 'late', files: [], manifestFor: () => new Uint8Array([123, 125]) })
    const again = await openSqliteStore({ path })
    expect(await again.names()).toEqual(['flights', 'weather'])
    await again.close()
    const db = new Database(path, { readonly: true })
    try {
      expect(db.prepare('SELECT COUNT(*) FROM registry_versions').pluck().get()).toBe(3)
      const note = JSON.parse(
        db.prepare(`SELECT value FROM registry_meta WHERE key = 'files_store_adopted'`).pluck().get() as string,
      )
      expect(note).toMatchObject({ from: join(home.path, 'models') })
      expect(note.adopted).toBeGreaterThanOrEqual(0)
    } finally {
      db.close()
    }
  })

  it('keeps a legacy version whose file was tampered with refusable, naming the file', async () => {
    await writeLegacyRegistry()
    const file = join(home.path, 'models', 'flights', '1', 'model.state.coef.f64')
    const bytes = Buffer.from(await (await import('node:fs/promises')).readFile(file))
    bytes[3] = bytes[3]! ^ 0x01
    await writeFile(file, bytes)
    const registry = await openRegistry({ home: home.path })
    const error = await registry.load('flights:1').catch((e: unknown) => e)
    expect(isScalemlError(error, 'ARTIFACT_TAMPERED')).toBe(true)
    expect((error as Error).message).toContain("'model.state.coef.f64'")
    await registry.close()
  })
})

describe('SQLite store under crashes and concurrent processes', () => {
  let home: TempHome
  beforeEach(async () => {
    home = await createTempHome('sqlite-crash')
  })
  afterEach(() => home.remove())

  it('leaves no visible version when the registering process is SIGKILLed mid-transaction', async () => {
    const db = join(home.path, 'registry.db')
    let killedMidWrite = false
    for (let attempt = 0; attempt < 3 && !killedMidWrite; attempt++) {
      const result = await killWhileRegistering({
        target: `home:${home.path}`,
        name: 'big',
        files: 6,
        mbPerFile: 16,
        // The transaction's pages spill into the WAL as it writes; past 12 MB the first files are in, uncommitted.
        midWrite: async () => (await sizeOf(`${db}-wal`)) > 12 * 1024 * 1024,
      })
      const registry = await openRegistry({ home: home.path })
      const visible = await registry.store.versions('big')
      if (result.killedMidWrite && visible.length === 0) killedMidWrite = true
      else {
        // Killed after the commit (or not killed): the version must then be whole.
        expect(result.exit.signal === 'SIGKILL' || result.exit.code === 0, result.exit.stderr).toBe(true)
        for (const version of visible) expect((await registry.load(`big:${version}`)).manifest.version).toBe(version)
      }
      await registry.close()
      if (!killedMidWrite) await home.remove().then(() => mkdir(home.path))
    }
    expect(killedMidWrite).toBe(true)

    const registry = await openRegistry({ home: home.path })
    expect(await registry.list()).toEqual([])
    await expect(registry.resolve('big')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' })
    expect(await registry.register('big', sampleContent())).toEqual({ name: 'big', version: 1 })
    expect((await registry.load('big')).manifest.modelKind).toBe('sgd-classifier')
    await registry.close()
    // The rolled-back chunks are not left behind as rows.
    const check = new Database(db, { readonly: true })
    try {
      expect(check.prepare(`SELECT COUNT(*) FROM registry_files WHERE path LIKE 'model.state.w%'`).pluck().get()).toBe(
        0,
      )
    } finally {
      check.close()
    }
  })

  it('gives two processes registering the same name 10 times each 20 distinct consecutive versions', async () => {
    const versionsByTag = await registerFromTwoProcesses(`home:${home.path}`, 'race', 10)
    const all = [...versionsByTag.values()].flat().sort((x, y) => x - y)
    expect(all).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    const registry = await openRegistry({ home: home.path })
    expect(await registry.versions('race')).toEqual(all)
    const tags = new Set<string>()
    for (const [tag, versions] of versionsByTag) {
      for (const version of versions) {
        const loaded = await registry.load(`race:${version}`)
        expect(loaded.manifest.version).toBe(version)
        const modelTag = (loaded.model as { tag: string }).tag
        expect(modelTag.startsWith(`${tag}-`)).toBe(true)
        tags.add(modelTag)
      }
    }
    expect(tags.size).toBe(20)
    await registry.close()
  })
})
