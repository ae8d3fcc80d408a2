import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isScalemlError } from '../../core/errors.js'
import { openRegistry } from '../registry.js'
import { killWhileRegistering, registerFromTwoProcesses } from '../test-helpers/child-process.js'
import { createTestSchema, TEST_POSTGRES_URL, type TestSchema } from '../test-helpers/postgres-schema.js'
import { sampleContent } from '../test-helpers/sample-content.js'
import { openPostgresStore, parsePostgresUrl, redactUrl } from './postgres.js'
import { describeRegistryStoreContract } from './registry-store.contract.js'

describeRegistryStoreContract('PostgreSQL store', async () => {
  const schema = await createTestSchema('pg_contract')
  return { store: await openPostgresStore({ url: schema.url }), dispose: () => schema.drop() }
})

const emptyManifest = (v: number) => new TextEncoder().encode(`{"v":${v}}`)

describe('PostgreSQL store schema and connection', () => {
  let schema: TestSchema
  beforeEach(async () => {
    schema = await createTestSchema('pg_schema')
  })
  afterEach(() => schema.drop())

  it('creates its schema once when several processes open it at the same moment', async () => {
    const stores = await Promise.all(Array.from({ length: 6 }, () => openPostgresStore({ url: schema.url })))
    const versions = await Promise.all(
      stores.map((s) => s.publish({ name: 'flights', files: [], manifestFor: emptyManifest })),
    )
    expect([...versions].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6])
    await Promise.all(stores.map((s) => s.close()))
    const tables = await schema.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [schema.schema],
    )
    expect(tables.map((t) => t.table_name)).toEqual([
      'registry_aliases',
      'registry_files',
      'registry_meta',
      'registry_versions',
    ])
    const meta = await schema.query<{ value: string }>(
      `SELECT value FROM "${schema.schema}".registry_meta WHERE key = 'schema_version'`,
    )
    expect(meta).toEqual([{ value: '1' }])
  })

  it('refuses a schema written by a newer scaleml instead of misreading it', async () => {
    await (await openPostgresStore({ url: schema.url })).close()
    await schema.query(`UPDATE "${schema.schema}".registry_meta SET value = '7' WHERE key = 'schema_version'`)
    const error = await openPostgresStore({ url: schema.url }).catch((e: unknown) => e)
    expect(isScalemlError(error, 'STORE_UNAVAILABLE')).toBe(true)
    expect((error as Error).message).toMatch(/schema version 7.*newer scaleml/)
  })

  it('says a server that does not answer is unavailable, naming it without the password', async () => {
    const url = 'postgres://postgres:s3cret@127.0.0.1:1/test'
    const error = await openPostgresStore({ url, connectTimeoutMs: 3000 }).catch((e: unknown) => e)
    expect(isScalemlError(error, 'STORE_UNAVAILABLE')).toBe(true)
    expect((error as Error).message).toContain('127.0.0.1:1')
    expect((error as Error).message).toContain('ECONNREFUSED')
    expect((error as Error).message).not.toContain('s3cret')
  })

  it('says a database that does not exist is unavailable', async () => {
    const url = TEST_POSTGRES_URL.replace(/\/[^/?]+(\?|$)/, `/no_such_db_${randomBytes(3).toString('hex')}$1`)
    const error = await openPostgresStore({ url }).catch((e: unknown) => e)
    expect(isScalemlError(error, 'STORE_UNAVAILABLE')).toBe(true)
    expect((error as Error).message).toMatch(/database "no_such_db_[0-9a-f]+" does not exist/)
  })

  it('parses the schema from the URL and refuses malformed ones', () => {
    expect(parsePostgresUrl('postgres://u@h:5/db?schema=ml_reg&sslmode=disable')).toEqual({
      connectionString: 'postgres://u@h:5/db?sslmode=disable',
      schema: 'ml_reg',
    })
    expect(parsePostgresUrl('postgresql://u@h/db').schema).toBe('scaleml')
    for (const bad of ['postgres://u@h/db?schema=a;drop', 'postgres://u@h/db?schema=1x', 'http://h/db']) {
      expect(() => parsePostgresUrl(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    }
    expect(redactUrl('postgres://me:pw@h/db')).toBe('postgres://me:***@h/db')
  })

  it('fails with STORE_UNAVAILABLE once closed', async () => {
    const store = await openPostgresStore({ url: schema.url })
    await store.close()
    await store.close()
    expect(isScalemlError(await store.names().catch((e: unknown) => e), 'STORE_UNAVAILABLE')).toBe(true)
  })
})

describe('PostgreSQL store under crashes and concurrent processes', () => {
  let schema: TestSchema
  beforeEach(async () => {
    schema = await createTestSchema('pg_crash')
  })
  afterEach(() => schema.drop())

  it('leaves no visible version when the registering process is SIGKILLed mid-transaction', async () => {
    let killedMidWrite = false
    for (let attempt = 0; attempt < 3 && !killedMidWrite; attempt++) {
      const applicationName = `scaleml-crash-${randomBytes(4).toString('hex')}`
      const target = new URL(schema.url)
      target.searchParams.set('application_name', applicationName)
      const result = await killWhileRegistering({
        target: target.toString(),
        name: 'big',
        files: 6,
        mbPerFile: 16,
        // A transaction gets an xid at its first write: from then on the version row and some files are in, uncommitted.
        midWrite: async () => {
          const rows = await schema.query<{ writing: boolean }>(
            `SELECT backend_xid IS NOT NULL AND state <> 'idle' AS writing FROM pg_stat_activity WHERE application_name = $1`,
            [applicationName],
          )
          return rows.some((r) => r.writing)
        },
      })
      const registry = await openRegistry({ url: schema.url })
      const visible = await registry.store.versions('big')
      if (result.killedMidWrite && visible.length === 0) killedMidWrite = true
      else {
        expect(result.exit.signal === 'SIGKILL' || result.exit.code === 0, result.exit.stderr).toBe(true)
        for (const version of visible) expect((await registry.load(`big:${version}`)).manifest.version).toBe(version)
        await schema.query(`DROP SCHEMA IF EXISTS "${schema.schema}" CASCADE`)
      }
      await registry.close()
    }
    expect(killedMidWrite).toBe(true)

    const registry = await openRegistry({ url: schema.url })
    expect(await registry.list()).toEqual([])
    await expect(registry.resolve('big')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' })
    // Waits, if need be, for the server to notice the dead client and release its lock.
    expect(await registry.register('big', sampleContent())).toEqual({ name: 'big', version: 1 })
    expect((await registry.load('big')).manifest.modelKind).toBe('sgd-classifier')
    await registry.close()
    const leftovers = await schema.query<{ n: number }>(
      `SELECT COUNT(*)::int AS n FROM "${schema.schema}".registry_files WHERE path LIKE 'model.state.w%'`,
    )
    expect(leftovers).toEqual([{ n: 0 }])
  })

  it('gives two processes registering the same name 10 times each 20 distinct consecutive versions', async () => {
    // Create the schema first so that the children race on versions, not on CREATE TABLE (tested above).
    await (await openPostgresStore({ url: schema.url })).close()
    const versionsByTag = await registerFromTwoProcesses(schema.url, 'race', 10)
    const all = [...versionsByTag.values()].flat().sort((x, y) => x - y)
    expect(all).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    const registry = await openRegistry({ url: schema.url })
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

/** Collects what a watch reports, and waits (up to `ms`, a failure bound, not a timing claim) for a report. */
function changeRecorder() {
  const seen: (string | undefined)[] = []
  let wake: () => void = () => {}
  return {
    seen,
    listener: (name: string | undefined) => {
      seen.push(name)
      wake()
    },
    /** Resolves once `seen` holds `count` reports; rejects after `ms`. */
    async waitFor(count: number, ms = 5000): Promise<void> {
      const deadline = Date.now() + ms
      while (seen.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} change reports, got ${JSON.stringify(seen)}`)
        await new Promise<void>((resolve) => {
          wake = resolve
          setTimeout(resolve, 50)
        })
      }
    },
  }
}

describe('PostgreSQL store change notifications', () => {
  let schema: TestSchema
  beforeEach(async () => {
    schema = await createTestSchema('pg_watch')
  })
  afterEach(() => schema.drop())

  it('notifies publish, alias set/move/remove, delete and restore once each is visible, and nothing else', async () => {
    const store = await openPostgresStore({ url: schema.url })
    const reader = await openPostgresStore({ url: schema.url })
    const changes = changeRecorder()
    const visibleAtNotice: number[][] = []
    const stop = await store.watch((name) => {
      changes.listener(name)
      // A notification must never arrive before the change can be read through another connection.
      if (name === 'flights') void reader.versions('flights').then((v) => visibleAtNotice.push(v))
    })
    await store.publish({ name: 'flights', files: [], manifestFor: emptyManifest })
    await changes.waitFor(1)
    await vi.waitFor(() => expect(visibleAtNotice).toEqual([[1]]))
    await store.publish({ name: 'flights', files: [], manifestFor: emptyManifest })
    await changes.waitFor(2)
    await vi.waitFor(() => expect(visibleAtNotice).toEqual([[1], [1, 2]]))
    expect(await store.setAlias({ name: 'flights', version: 1 }, 'stable')).toEqual({ status: 'set' })
    await changes.waitFor(3)
    expect(await store.setAlias({ name: 'flights', version: 2 }, 'stable')).toEqual({ status: 'set', previous: 1 })
    await changes.waitFor(4)
    expect(await store.removeAlias('flights', 'stable')).toEqual({ status: 'removed', version: 2 })
    await changes.waitFor(5)
    expect(await store.markDeleted({ name: 'flights', version: 1 })).toEqual({ status: 'deleted' })
    await changes.waitFor(6)
    expect(await store.restore({ name: 'flights', version: 1 })).toEqual({ status: 'restored' })
    await changes.waitFor(7)
    expect(changes.seen).toEqual(Array.from({ length: 7 }, () => 'flights'))

    // No-ops change nothing and say nothing; another schema's changes are not this registry's.
    expect(await store.removeAlias('flights', 'stable')).toEqual({ status: 'missing' })
    expect(await store.restore({ name: 'flights', version: 1 })).toEqual({ status: 'not-deleted' })
    const other = await createTestSchema('pg_watch_other')
    const otherStore = await openPostgresStore({ url: other.url })
    await otherStore.publish({ name: 'flights', files: [], manifestFor: emptyManifest })
    await otherStore.close()
    await other.drop()
    // A marker change that follows them: once it arrives, anything sent before it has arrived too.
    await store.publish({ name: 'marker', files: [], manifestFor: emptyManifest })
    await changes.waitFor(8)
    expect(changes.seen.slice(7)).toEqual(['marker'])

    await stop()
    await store.publish({ name: 'flights', files: [], manifestFor: emptyManifest })
    await reader.publish({ name: 'marker', files: [], manifestFor: emptyManifest })
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(changes.seen).toHaveLength(8)
    await Promise.all([store.close(), reader.close()])
  })

  it('reconnects after its connection is terminated, reports that changes may be missed, and keeps notifying', async () => {
    const applicationName = `scaleml-watch-${randomBytes(4).toString('hex')}`
    const url = new URL(schema.url)
    url.searchParams.set('application_name', applicationName)
    const store = await openPostgresStore({ url: url.toString() })
    const changes = changeRecorder()
    const stop = await store.watch(changes.listener)
    const listeners = () =>
      schema.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'`,
        [applicationName],
      )
    const [listener] = await listeners()
    expect(listener).toBeDefined()
    await schema.query('SELECT pg_terminate_backend($1)', [listener!.pid])
    // Sent while the watch is down: lost, which is why the reconnect reports `undefined` (re-read everything).
    await store.publish({ name: 'flights', files: [], manifestFor: emptyManifest })
    await changes.waitFor(1)
    expect(changes.seen).toContain(undefined)
    const [again] = await listeners()
    expect(again?.pid).not.toBe(listener!.pid)

    const before = changes.seen.length
    await store.publish({ name: 'flights', files: [], manifestFor: emptyManifest })
    await changes.waitFor(before + 1)
    expect(changes.seen.at(-1)).toBe('flights')
    await stop()
    await store.close()
    expect(await listeners()).toEqual([])
  })

  it('stops its watches when the store closes, and refuses to start one on a closed store', async () => {
    const applicationName = `scaleml-watch-${randomBytes(4).toString('hex')}`
    const url = new URL(schema.url)
    url.searchParams.set('application_name', applicationName)
    const store = await openPostgresStore({ url: url.toString() })
    await store.watch(() => {})
    await store.close()
    const rows = await schema.query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, [applicationName])
    expect(rows).toEqual([])
    const error = await store.watch(() => {}).catch((e: unknown) => e)
    expect(isScalemlError(error, 'STORE_UNAVAILABLE')).toBe(true)
  })
})
