import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createTempHome } from '../../testing/temp-home.js'
import { openRegistryStore, parseRegistryUrl } from './open-store.js'

describe('parseRegistryUrl', () => {
  it('reads sqlite: paths, relative to the working directory or absolute', () => {
    expect(parseRegistryUrl('sqlite:reg.db')).toEqual({ kind: 'sqlite', path: resolve('reg.db') })
    expect(parseRegistryUrl('sqlite:/srv/ml/reg.db')).toEqual({ kind: 'sqlite', path: '/srv/ml/reg.db' })
    expect(parseRegistryUrl('sqlite:///srv/ml/reg.db')).toEqual({ kind: 'sqlite', path: '/srv/ml/reg.db' })
  })

  it('passes postgres:// and postgresql:// URLs to the PostgreSQL store', () => {
    expect(parseRegistryUrl('postgres://u@h/db?schema=x')).toEqual({
      kind: 'postgres',
      url: 'postgres://u@h/db?schema=x',
    })
    expect(parseRegistryUrl('POSTGRESQL://u@h/db').kind).toBe('postgres')
  })

  it('refuses other schemes and empty paths, listing the forms and hiding passwords', () => {
    for (const [url, says] of [
      ['mysql://root:secret@db/x', "Unknown registry URL 'mysql://root:***@db/x'"],
      ['/plain/path.db', 'expected sqlite:<file> or postgres://'],
      ['sqlite:', 'names no file'],
    ] as const) {
      expect(() => parseRegistryUrl(url), url).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
      expect(() => parseRegistryUrl(url), url).toThrow(says)
    }
  })
})

describe('openRegistryStore', () => {
  it('opens the SQLite registry under the home when no URL is given, and the one a URL names', async () => {
    const home = await createTempHome('open-store')
    try {
      const byHome = await openRegistryStore({ home: home.path })
      expect(byHome.description).toBe(`SQLite registry at ${join(home.path, 'registry.db')}`)
      await byHome.close()
      const byUrl = await openRegistryStore({ home: home.path, url: `sqlite:${join(home.path, 'x.db')}` })
      expect(byUrl.description).toBe(`SQLite registry at ${join(home.path, 'x.db')}`)
      await byUrl.close()
    } finally {
      await home.remove()
    }
  })
})
