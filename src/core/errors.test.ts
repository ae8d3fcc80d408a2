import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES, EXIT_CODE, HTTP_STATUS, isScalemlError, ScalemlError } from './errors.js'

const catalog = readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8')
const rows = [...catalog.matchAll(/^\| `([A-Z_]+)` \| (\d+) \| (\d+) \|/gm)].map((m) => ({
  code: m[1]!,
  http: Number(m[2]),
  exit: Number(m[3]),
}))

describe('error catalog', () => {
  it('documents every code with its HTTP status and exit code', () => {
    for (const code of ERROR_CODES) {
      const row = rows.find((r) => r.code === code)
      expect(row, `docs/ERRORS.md has no row for ${code}`).toBeDefined()
      expect(row!.http).toBe(HTTP_STATUS[code])
      expect(row!.exit).toBe(EXIT_CODE[code])
    }
  })

  it('names only existing codes', () => {
    expect(rows.length).toBeGreaterThan(0)
    for (const row of rows) expect(ERROR_CODES).toContain(row.code)
  })

  it('uses exit code 1 only for internal errors', () => {
    for (const code of ERROR_CODES) if (code !== 'INTERNAL') expect(EXIT_CODE[code]).not.toBe(1)
  })
})

describe('ScalemlError', () => {
  it('carries code, issues and cause', () => {
    const cause = new Error('root')
    const error = new ScalemlError('INVALID_INPUT', 'bad', [{ code: 'missing_field', path: ['x'], message: 'm' }], {
      cause,
    })
    expect(isScalemlError(error)).toBe(true)
    expect(isScalemlError(error, 'INVALID_INPUT')).toBe(true)
    expect(isScalemlError(error, 'INVALID_PARAM')).toBe(false)
    expect(isScalemlError(new Error('x'))).toBe(false)
    expect(error.issues).toHaveLength(1)
    expect(error.cause).toBe(cause)
    expect(error.name).toBe('ScalemlError')
  })
})
