import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createTempHome } from '../../testing/temp-home.js'
import { openSqliteStudyStore, toPositional } from './sqlite.js'
import { describeStudyStoreContract } from './study-store.contract.js'
import { openStudyStore, parseStudyStoreUrl } from './study-store.js'

describeStudyStoreContract('sqlite', async () => {
  const home = await createTempHome('tune-sqlite')
  const path = join(home.path, 'nested', 'studies.db')
  return {
    store: await openSqliteStudyStore({ path }),
    openAnother: () => openSqliteStudyStore({ path }),
    dispose: () => home.remove(),
  }
})

describe('study store URLs', () => {
  it('pick the adapter by scheme; a plain path is SQLite', () => {
    expect(parseStudyStoreUrl('/tmp/x/studies.db')).toEqual({ kind: 'sqlite', path: '/tmp/x/studies.db' })
    expect(parseStudyStoreUrl('sqlite:studies.db')).toEqual({ kind: 'sqlite', path: 'studies.db' })
    expect(parseStudyStoreUrl('sqlite:///abs/studies.db')).toEqual({ kind: 'sqlite', path: '/abs/studies.db' })
    expect(parseStudyStoreUrl('postgres://postgres@127.0.0.1:5432/test?schema=tuning')).toEqual({
      kind: 'postgres',
      url: 'postgres://postgres@127.0.0.1:5432/test',
      schema: 'tuning',
    })
    expect(() => parseStudyStoreUrl('redis://localhost')).toThrow(/unknown scheme/)
  })

  it('open a SQLite store from a path', async () => {
    const home = await createTempHome('tune-url')
    try {
      const store = await openStudyStore(join(home.path, 'studies.db'))
      expect(store.description).toBe(join(home.path, 'studies.db'))
      expect(await store.listStudies()).toEqual([])
      await store.close()
      await store.close()
    } finally {
      await home.remove()
    }
  })

  it('rewrite $n parameters for SQLite, repeated ones included', () => {
    expect(toPositional('a = $2 AND b = $1 OR c = $2', ['x', 'y'])).toEqual({
      sql: 'a = ? AND b = ? OR c = ?',
      values: ['y', 'x', 'y'],
    })
  })
})
