import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cp, mkdir, readdir, stat, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTempHome, type TempHome } from '../../testing/temp-home.js'
import { openRegistry, type Registry } from '../registry.js'
import { collect, registerFromTwoProcesses, spawnRegisterChild } from '../test-helpers/child-process.js'
import { sampleContent } from '../test-helpers/sample-content.js'
import { createFilesStore, STAGING_PREFIX } from './files.js'
import { describeRegistryStoreContract } from './registry-store.contract.js'

describeRegistryStoreContract(
  'files store',
  async () => {
    const home = await createTempHome('files-store')
    return { store: createFilesStore({ home: home.path }), dispose: () => home.remove() }
  },
  {
    skip: {
      aliases: 'the files store is the legacy layout the SQLite store adopts; aliases live in SQLite or PostgreSQL',
      softDelete:
        'the files store is the legacy layout the SQLite store adopts; deletion marks live in SQLite or PostgreSQL',
    },
  },
)

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort()
  } catch {
    return []
  }
}

/** The registry over the files store (the default registry is SQLite now). */
function openFilesRegistry(home: string): Promise<Registry> {
  return openRegistry({ home, store: createFilesStore({ home }) })
}

describe('files store layout and staging', () => {
  let home: TempHome
  beforeEach(async () => {
    home = await createTempHome('files-layout')
  })
  afterEach(() => home.remove())

  it('keeps each version in <home>/models/<name>/<version>/ with manifest.json and its files', async () => {
    const registry = await openFilesRegistry(home.path)
    await registry.register('flights', sampleContent())
    await registry.register('flights', sampleContent())
    const nameDir = join(home.path, 'models', 'flights')
    expect(await entries(nameDir)).toEqual(['1', '2'])
    const files = await entries(join(nameDir, '2'))
    expect(files).toContain('manifest.json')
    expect(files).toContain('model.state.coef.f64')
  })

  it('ignores staging folders, even complete ones, and removes them once stale', async () => {
    const registry = await openFilesRegistry(home.path)
    await registry.register('flights', sampleContent())
    const nameDir = join(home.path, 'models', 'flights')
    // What a process killed just before its rename leaves: a full artifact under a staging name.
    const fresh = join(nameDir, `${STAGING_PREFIX}fresh`)
    const stale = join(nameDir, `${STAGING_PREFIX}stale`)
    await cp(join(nameDir, '1'), fresh, { recursive: true })
    await cp(join(nameDir, '1'), stale, { recursive: true })
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000)
    for (const name of await readdir(stale)) await utimes(join(stale, name), twoHoursAgo, twoHoursAgo)
    await utimes(stale, twoHoursAgo, twoHoursAgo)
    // A name whose only content is staging does not exist yet.
    await mkdir(join(home.path, 'models', 'ghost', `${STAGING_PREFIX}x`), { recursive: true })

    expect(await registry.versions('flights')).toEqual([1])
    expect((await registry.list()).map((m) => m.name)).toEqual(['flights'])
    await expect(registry.resolve('ghost')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' })

    expect(await registry.register('flights', sampleContent())).toEqual({ name: 'flights', version: 2 })
    const left = await entries(nameDir)
    expect(left).toContain(`${STAGING_PREFIX}fresh`)
    expect(left).not.toContain(`${STAGING_PREFIX}stale`)
    expect(left.filter((n) => n.startsWith(STAGING_PREFIX))).toEqual([`${STAGING_PREFIX}fresh`])
  })

  it('claims the next number when a competitor takes a version between listing and rename', async () => {
    const store = createFilesStore({ home: home.path })
    const encoder = new TextEncoder()
    const nameDir = join(home.path, 'models', 'flights')
    const calls: number[] = []
    const version = await store.publish({
      name: 'flights',
      files: [{ path: 'model.w.u8', bytes: new Uint8Array([1, 2, 3]) }],
      manifestFor(v) {
        calls.push(v)
        if (calls.length <= 2) {
          // A competitor finishes version v right after we listed: our rename onto it must fail, not merge.
          mkdirSync(join(nameDir, String(v)))
          writeFileSync(join(nameDir, String(v), 'manifest.json'), JSON.stringify({ competitor: v }))
        }
        return encoder.encode(JSON.stringify({ v }))
      },
    })
    expect(calls).toEqual([1, 2, 3])
    expect(version).toBe(3)
    expect(readFileSync(join(nameDir, '1', 'manifest.json'), 'utf8')).toBe('{"competitor":1}')
    expect(await entries(join(nameDir, '1'))).toEqual(['manifest.json'])
    expect(await entries(join(nameDir, '3'))).toEqual(['manifest.json', 'model.w.u8'])
    expect(new TextDecoder().decode(await store.readManifest({ name: 'flights', version: 3 }))).toBe('{"v":3}')
    expect((await entries(nameDir)).filter((n) => n.startsWith(STAGING_PREFIX))).toEqual([])
  })
})

describe('files store under crashes and concurrent processes', () => {
  let home: TempHome
  beforeEach(async () => {
    home = await createTempHome('files-crash')
  })
  afterEach(() => home.remove())

  it('leaves no visible version when the registering process is SIGKILLed mid-write', async () => {
    const nameDir = join(home.path, 'models', 'big')
    let killedMidWrite = false
    // The kill races the child's progress; a child that finished first proves nothing, so try again (rarely needed).
    for (let attempt = 0; attempt < 3 && !killedMidWrite; attempt++) {
      const child = spawnRegisterChild(['big', `files:${home.path}`, 'big', '6', '16'])
      const { exit } = collect(child)
      let exited = false
      void exit.then(() => (exited = true))
      let sawStaging = false
      while (!exited) {
        const staging = (await entries(nameDir)).filter((n) => n.startsWith(STAGING_PREFIX))
        // Kill once the large model files are being written, before the manifest (written last) exists.
        if (staging.length > 0) {
          const inside = await entries(join(nameDir, staging[0]!))
          if (inside.some((n) => n.startsWith('model.state.w')) && !inside.includes('manifest.json')) {
            sawStaging = true
            child.kill('SIGKILL')
            break
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
      const result = await exit
      if (sawStaging && result.signal === 'SIGKILL') killedMidWrite = true
      else expect(result.code, result.stderr).toBe(0)
      if (!killedMidWrite) await home.remove().then(() => mkdir(home.path))
    }
    expect(killedMidWrite).toBe(true)

    const left = await entries(nameDir)
    expect(left.some((n) => n.startsWith(STAGING_PREFIX))).toBe(true)
    expect(left.filter((n) => !n.startsWith(STAGING_PREFIX))).toEqual([])
    const registry = await openFilesRegistry(home.path)
    expect(await registry.list()).toEqual([])
    await expect(registry.resolve('big')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' })

    expect(await registry.register('big', sampleContent())).toEqual({ name: 'big', version: 1 })
    const loaded = await registry.load('big')
    expect(loaded.manifest.version).toBe(1)
    expect(loaded.manifest.modelKind).toBe('sgd-classifier')
  })

  it('gives two processes registering the same name 10 times each 20 distinct consecutive versions', async () => {
    const versionsByTag = await registerFromTwoProcesses(`files:${home.path}`, 'race', 10)
    const all = [...versionsByTag.values()].flat().sort((x, y) => x - y)
    expect(all).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))

    const registry = await openFilesRegistry(home.path)
    expect(await registry.versions('race')).toEqual(all)
    for (const [tag, versions] of versionsByTag) {
      for (const version of versions) {
        const loaded = await registry.load(`race:${version}`)
        expect(loaded.manifest.version).toBe(version)
        expect((loaded.model as { tag: string }).tag.startsWith(`${tag}-`)).toBe(true)
      }
    }
    const tags = new Set<string>()
    for (const version of all) tags.add(((await registry.load(`race:${version}`)).model as { tag: string }).tag)
    expect(tags.size).toBe(20)
    expect((await entries(join(home.path, 'models', 'race'))).some((n) => n.startsWith(STAGING_PREFIX))).toBe(false)
    expect((await stat(join(home.path, 'models', 'race', '20', 'manifest.json'))).size).toBeGreaterThan(0)
  })
})
