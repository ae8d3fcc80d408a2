import { describe, expect, it } from 'vitest'
import { denseToSparse, fromRows, isSparseRows, sparseBuffers, sparseRows, sparseToDense } from './matrix.js'

describe('sparse rows', () => {
  it('sparseRows checks the array sizes; isSparseRows tells the layouts apart', () => {
    const X = sparseRows(new Int32Array([0, 2, 1, 3]), new Float32Array([1, 2, 3, 4]), {
      rows: 2,
      cols: 4,
      nnzPerRow: 2,
    })
    expect(isSparseRows(X)).toBe(true)
    expect(isSparseRows(fromRows([[1, 2]]))).toBe(false)
    expect(() => sparseRows(new Int32Array(3), new Float32Array(4), { rows: 2, cols: 4, nnzPerRow: 2 })).toThrow(
      RangeError,
    )
    expect(() => sparseRows(new Int32Array(6), new Float32Array(6), { rows: 2, cols: 2, nnzPerRow: 3 })).toThrow(
      RangeError,
    )
  })

  it('sparseToDense zeroes a reused buffer and scatters the entries; denseToSparse pads with explicit zeros', () => {
    const dense = fromRows([
      [0, 5, 0, -1],
      [0, 0, 0, 0],
      [2, 0, -0, 0],
    ])
    const X = denseToSparse(dense)
    expect(X.nnzPerRow).toBe(2)
    expect(Array.from(X.indices)).toEqual([1, 3, 0, 1, 0, 1])
    expect(Array.from(X.values)).toEqual([5, -1, 0, 0, 2, 0])
    const buffer = new Float32Array(20).fill(Number.NaN)
    const back = sparseToDense(X, buffer)
    expect(back.data.buffer).toBe(buffer.buffer)
    expect(Array.from(back.data)).toEqual([0, 5, 0, -1, 0, 0, 0, 0, 2, 0, 0, 0])
    expect(Number.isNaN(buffer[12]!)).toBe(true)
    expect(sparseToDense(X, new Float32Array(3)).data).toHaveLength(12)
  })

  it('sparseBuffers starts empty', () => {
    const buffers = sparseBuffers()
    expect([buffers.indices.length, buffers.values.length]).toEqual([0, 0])
  })
})
