import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SpillFolder } from './spill-file.js'

const root = mkdtempSync(join(tmpdir(), 'scaleml-spillfile-test-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('SpillFolder', () => {
  it('holds files of fixed-size records read and written in place, and removes them all', () => {
    const folder = SpillFolder.create(root)
    expect(folder.path.startsWith(join(root, `scaleml-spill-${hostname()}-${process.pid}-`))).toBe(true)
    const file = folder.file('state.bin', 24)
    file.write(2, 8, Float64Array.from([1.5, -2]))
    file.write(0, 0, Uint8Array.from([7]))
    const back = new Float64Array(2)
    file.read(2, 8, back)
    expect(Array.from(back)).toEqual([1.5, -2])
    expect(folder.bytes()).toBe(2 * 24 + 24)
    expect(() => file.read(3, 0, new Float64Array(1))).toThrow(/ended at byte 72/)
    folder.remove()
    expect(existsSync(folder.path)).toBe(false)
    expect(folder.exists).toBe(false)
    expect(() => file.read(0, 0, new Uint8Array(1))).toThrow(/is closed/)
  })

  it('removes folders left by processes of this host that are gone, and only those', () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!
    const orphan = join(root, `scaleml-spill-${hostname()}-${gone}-abc123`)
    const alive = join(root, `scaleml-spill-${hostname()}-${process.ppid}-def456`)
    const otherHost = join(root, `scaleml-spill-elsewhere-${gone}-ghi789`)
    for (const dir of [orphan, alive, otherHost]) {
      mkdirSync(dir)
      writeFileSync(join(dir, 'rows.bin'), 'x')
    }
    const folder = SpillFolder.create(root)
    expect(existsSync(orphan)).toBe(false)
    expect(existsSync(alive)).toBe(true)
    expect(existsSync(otherHost)).toBe(true)
    folder.remove()
    rmSync(alive, { recursive: true })
    rmSync(otherHost, { recursive: true })
    expect(readdirSync(root)).toEqual([])
  })
})
