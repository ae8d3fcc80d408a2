import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isScalemlError } from '../../../core/errors.js'
import { BinMapper } from '../binning.js'
import { ExternalRows } from './external-rows.js'

const root = mkdtempSync(join(tmpdir(), 'scaleml-extrows-test-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

// Feature 0 numeric (cuts 1, 2: bins 0..2, NaN → 3), feature 1 categorical (codes 5 and 9; others → 2, NaN → 3).
const mapper = new BinMapper([
  { kind: 'numeric', cuts: Float32Array.from([1, 2]), nBins: 3, missingBin: 3 },
  {
    kind: 'categorical',
    categories: Int32Array.from([5, 9]),
    counts: Float64Array.from([1, 1]),
    otherBin: 2,
    nBins: 3,
    missingBin: 3,
  },
])

describe('ExternalRows', () => {
  it('stores appended rows in chunks, column-major within each, with labels and weights', () => {
    const rows = ExternalRows.create(mapper, { chunkRows: 3, weighted: true, dir: root })
    const values = [0.5, 5, 1.5, 9, 2.5, 7, Number.NaN, Number.NaN, 1, 5, 3, 9, 0, 9]
    // 7 rows in batches of 2 and 5: chunks of 3, 3 and 1 rows.
    rows.append(
      { data: Float32Array.from(values.slice(0, 4)), rows: 2, cols: 2 },
      Float64Array.from([0, 1]),
      Float64Array.from([1, 2]),
    )
    rows.append(
      { data: Float32Array.from(values.slice(4)), rows: 5, cols: 2 },
      Float64Array.from([2, 3, 4, 5, 6]),
      Float64Array.from([3, 4, 5, 6, 7]),
    )
    expect(rows.nChunks).toBe(2)
    rows.finish()
    expect([rows.nRows, rows.nChunks, rows.chunkLength(0), rows.chunkLength(2)]).toEqual([7, 3, 3, 1])
    const bins = new Uint8Array(6)
    const label = new Float64Array(3)
    const weight = new Float64Array(3)
    rows.readBins(1, bins)
    expect(Array.from(bins)).toEqual([3, 1, 2, 3, 0, 1])
    rows.readBins(2, bins)
    expect(Array.from(bins.subarray(0, 2))).toEqual([0, 1])
    rows.readLabels(1, label)
    rows.readWeights(1, weight)
    expect(Array.from(label)).toEqual([3, 4, 5])
    expect(Array.from(weight)).toEqual([4, 5, 6])
    expect(rows.bytes).toBe(3 * (8 + 24 + 24))
    const folder = rows.folder.path
    expect(existsSync(folder)).toBe(true)
    rows.remove()
    rows.remove()
    expect(existsSync(folder)).toBe(false)
    expect(readdirSync(root)).toEqual([])
  })

  it('takes rows already binned', () => {
    const rows = ExternalRows.create(mapper, { chunkRows: 2, dir: root })
    try {
      const binned = mapper.transform({ data: Float32Array.from([0.5, 5, 1.5, 9, 2.5, 7]), rows: 3, cols: 2 })
      rows.appendBinned(binned, Float64Array.from([1, 2, 3]))
      rows.finish()
      const bins = new Uint8Array(4)
      rows.readBins(0, bins)
      expect(Array.from(bins)).toEqual([0, 1, 0, 1])
      rows.readBins(1, bins)
      expect(Array.from(bins.subarray(0, 2))).toEqual([2, 2])
    } finally {
      rows.remove()
    }
  })

  it('refuses mismatched appends, appends after finish, and bad chunk sizes', () => {
    const rows = ExternalRows.create(mapper, { chunkRows: 4, dir: root })
    const X = { data: Float32Array.from([0, 5]), rows: 1, cols: 2 }
    const code = (fn: () => unknown) => {
      try {
        fn()
      } catch (e) {
        return isScalemlError(e) ? `${e.code}: ${e.message}` : String(e)
      }
      return 'no error'
    }
    expect(code(() => rows.append(X, new Float64Array(2)))).toBe('INVALID_INPUT: y has 2 values for 1 rows.')
    expect(code(() => rows.append(X, new Float64Array(1), new Float64Array(1)))).toMatch(
      /^INVALID_INPUT: These external rows are not weighted/,
    )
    expect(code(() => rows.append({ ...X, cols: 1 }, new Float64Array(1)))).toMatch(
      /^INVALID_INPUT: Expected rows of 2 features/,
    )
    rows.finish()
    expect(code(() => rows.append(X, new Float64Array(1)))).toMatch(
      /^INVALID_ARGUMENT: Cannot append to external rows after finish/,
    )
    rows.remove()
    expect(code(() => ExternalRows.create(mapper, { chunkRows: 0, dir: root }))).toMatch(
      /^INVALID_ARGUMENT: chunkRows must be/,
    )
    expect(code(() => ExternalRows.create(mapper, { dir: join(root, 'missing', 'deeper') }))).toBe('no error')
    rmSync(join(root, 'missing'), { recursive: true, force: true })
    expect(readdirSync(root)).toEqual([])
  })
})
