import { describe, expect, it } from 'vitest'
import { formatByteSize, parseByteSize } from './byte-size.js'
import { isScalemlError } from './errors.js'

describe('parseByteSize', () => {
  it('reads binary units, single letters, SI units and plain bytes', () => {
    expect(parseByteSize('512MiB', 'x')).toBe(512 * 2 ** 20)
    expect(parseByteSize('2GiB', 'x')).toBe(2 * 2 ** 30)
    expect(parseByteSize('64m', 'x')).toBe(64 * 2 ** 20)
    expect(parseByteSize(' 1.5 G ', 'x')).toBe(1.5 * 2 ** 30)
    expect(parseByteSize('100KiB', 'x')).toBe(102_400)
    expect(parseByteSize('1TiB', 'x')).toBe(2 ** 40)
    expect(parseByteSize('1GB', 'x')).toBe(1e9)
    expect(parseByteSize('250kB', 'x')).toBe(250_000)
    expect(parseByteSize('1048576', 'x')).toBe(1_048_576)
    expect(parseByteSize('4096B', 'x')).toBe(4096)
  })

  it('rejects anything else with INVALID_ARGUMENT naming the flag and an example', () => {
    for (const text of ['', 'lots', '-5MiB', '0', '0.1', '12 parsecs', 'MiB', '1e9', '5 MiB extra', 'NaN']) {
      let error: unknown
      try {
        parseByteSize(text, '--memory-budget')
      } catch (e) {
        error = e
      }
      expect(isScalemlError(error, 'INVALID_ARGUMENT'), text).toBe(true)
      expect((error as Error).message).toBe(
        `--memory-budget expects a size such as 512MiB, 2GiB, 64M or 1048576 (bytes); got '${text}'.`,
      )
    }
  })
})

describe('formatByteSize', () => {
  it('uses the largest binary unit', () => {
    expect(formatByteSize(512)).toBe('512 B')
    expect(formatByteSize(64 * 2 ** 20)).toBe('64 MiB')
    expect(formatByteSize(1.5 * 2 ** 30)).toBe('1.5 GiB')
    expect(formatByteSize(1_000_000)).toBe('976.6 KiB')
  })
})
