import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cp, mkdir, readdir, stat, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTempHome, type TempHome } from '../../testing/temp-home.js'
import { openRegistry } from '../registry.js'
import { sampleContent } from '../test-helpers/sample-content.js'
import { createFilesStore, STAGING_PREFIX } from './files.js'
import { describeRegistryStoreContract } from './registry-store.contract.js'

describeRegistryStoreContract('files store', async () => {
  const home = await createTempHome('files-store')
  return { store: createFilesStore({ home: home.path }), dispose: () => home.remove() }
})

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const childScript = fileURLToPath(new URL('../test-helpers/register-child.ts', import.meta.url))

/** Runs the test child through tsx (a devDependency), from the repo root so `--import tsx` resolves. */
function spawnChild(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', childScript, ...args], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
}

interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

function collect(child: ChildProcess): { exit: Promise<Exit>; stdout: () => string } {
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exit = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return { exit, stdout: () => stdout }
}

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort()
  } catch {
    return []
  }
}

describe('files store layout and staging', () => {
  let home: TempHome
  beforeEach(async () => {
    home = await createTempHome('files-layout')
  })
  afterEach(() => home.remove())

  it('keeps each version in <home>/models/<name>/<version>/ with manifest.json and its files', async () => {
    const registry = await openRegistry({ home: home.path })
    await registry.register('flights', sampleContent())
    await registry.register('flights', sampleContent())
    const nameDir = join(home.path, 'models', 'flights')
    expect(await entries(nameDir)).toEqual(['1', '2'])
    const files = await entries(join(nameDir, '2'))
    expect(files).toContain('manifest.json')
    expect(files).toContain('model.state.coef.f64')
  })

  it('ignores staging folders, even complete ones, and removes them once stale', async () => {
    const registry = await openRegistry({ home: home.path })
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
      const child = spawnChild(['big', home.path, 'big', '6', '16'])
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
    const registry = await openRegistry({ home: home.path })
    expect(await registry.list()).toEqual([])
    await expect(registry.resolve('big')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' })

    expect(await registry.register('big', sampleContent())).toEqual({ name: 'big', version: 1 })
    const loaded = await registry.load('big')
    expect(loaded.manifest.version).toBe(1)
    expect(loaded.manifest.modelKind).toBe('sgd-classifier')
  })

  it('gives two processes registering the same name 10 times each 20 distinct consecutive versions', async () => {
    const children = ['a', 'b'].map((tag) => {
      const child = spawnChild(['many', home.path, 'race', '10', tag])
      return { tag, child, ...collect(child) }
    })
    // Both children are started and waiting before either begins, so their registrations overlap.
    for (const { child, stdout, exit } of children) {
      let exited = false
      void exit.then(() => (exited = true))
      while (!stdout().includes('ready') && !exited) await new Promise((resolve) => setTimeout(resolve, 5))
      expect(exited, `child ${child.pid} exited before it was ready`).toBe(false)
    }
    for (const { child } of children) child.stdin?.write('go\n')
    const results = await Promise.all(children.map((c) => c.exit))
    const versionsByTag = new Map<string, number[]>()
    for (const [i, result] of results.entries()) {
      expect(result.code, result.stderr).toBe(0)
      const line = result.stdout.trim().split('\n').pop()!
      versionsByTag.set(children[i]!.tag, JSON.parse(line) as number[])
    }
    const all = [...versionsByTag.values()].flat().sort((x, y) => x - y)
    expect(all).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))

    const registry = await openRegistry({ home: home.path })
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
