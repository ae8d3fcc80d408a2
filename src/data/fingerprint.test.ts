import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { isScalemlError } from '../core/errors.js'
import { digestFiles, fingerprintFiles } from './fingerprint.js'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'scaleml-fingerprint-'))
})
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

function write(path: string, content: string | Buffer): string {
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, content)
  return path
}

describe('fingerprintFiles', () => {
  test('hashes sorted (name, size, content sha256); equal data in another folder gives the same fingerprint', async () => {
    const big = Buffer.alloc(3_000_000, 7) // several stream chunks
    write(join(dir, 'a', 'part-2.csv'), 'x\n2\n')
    write(join(dir, 'a', 'part-1.csv'), big)
    write(join(dir, 'b', 'part-1.csv'), big)
    write(join(dir, 'b', 'part-2.csv'), 'x\n2\n')
    const a = await digestFiles(join(dir, 'a', 'part-*.csv'))
    expect(a.files.map((f) => f.name)).toEqual(['part-1.csv', 'part-2.csv'])
    expect(a.files[0]).toEqual({
      name: 'part-1.csv',
      size: 3_000_000,
      sha256: createHash('sha256').update(big).digest('hex'),
    })
    const expected = createHash('sha256')
      .update(JSON.stringify(a.files.map((f) => [f.name, f.size, f.sha256])))
      .digest('hex')
    expect(a.fingerprint).toBe(expected)
    expect(a.fingerprint).toMatch(/^[0-9a-f]{64}$/)
    expect(await fingerprintFiles(join(dir, 'b', 'part-*.csv'))).toBe(a.fingerprint)
  })

  test('a changed byte, a renamed file or an extra file changes it', async () => {
    const base = await fingerprintFiles(join(dir, 'a', 'part-*.csv'))
    write(join(dir, 'c', 'part-1.csv'), readFileSync(join(dir, 'a', 'part-1.csv')))
    write(join(dir, 'c', 'part-2.csv'), 'x\n3\n')
    expect(await fingerprintFiles(join(dir, 'c', 'part-*.csv'))).not.toBe(base)
    write(join(dir, 'd', 'part-1.csv'), readFileSync(join(dir, 'a', 'part-1.csv')))
    write(join(dir, 'd', 'part-3.csv'), 'x\n2\n')
    expect(await fingerprintFiles(join(dir, 'd', 'part-*.csv'))).not.toBe(base)
    write(join(dir, 'a', 'part-9.csv'), '')
    expect(await fingerprintFiles(join(dir, 'a', 'part-*.csv'))).not.toBe(base)
  })

  test('a single path is named by its base name; subfolders of a glob keep their relative path', async () => {
    const single = await digestFiles(join(dir, 'b', 'part-2.csv'))
    expect(single.files.map((f) => f.name)).toEqual(['part-2.csv'])
    const nested = await digestFiles(join(dir, '*', 'part-1.csv'))
    expect(nested.files.map((f) => f.name)).toEqual(['a/part-1.csv', 'b/part-1.csv', 'c/part-1.csv', 'd/part-1.csv'])
  })

  test('nothing matching is SOURCE_NOT_FOUND naming the pattern', async () => {
    const pattern = join(dir, 'none', '*.parquet')
    const error = await fingerprintFiles(pattern).catch((e: unknown) => e)
    expect(isScalemlError(error, 'SOURCE_NOT_FOUND')).toBe(true)
    expect((error as Error).message).toContain(pattern)
  })
})
