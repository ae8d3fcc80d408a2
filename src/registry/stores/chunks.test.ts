import { describe, expect, it } from 'vitest'
import { joinChunks, splitChunks } from './chunks.js'

describe('splitChunks / joinChunks', () => {
  it('cuts at the chunk size and puts the bytes back in order', () => {
    const bytes = Uint8Array.from({ length: 10 }, (_, i) => i)
    const chunks = splitChunks(bytes, 4)
    expect(chunks.map((c) => [...c])).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ])
    expect([...joinChunks(chunks)!]).toEqual([...bytes])
  })

  it('keeps an empty file as one empty chunk, and no chunks as no file', () => {
    expect(splitChunks(new Uint8Array(0), 4).map((c) => c.byteLength)).toEqual([0])
    expect(joinChunks([new Uint8Array(0)])?.byteLength).toBe(0)
    expect(joinChunks([])).toBeUndefined()
  })

  it('views a sub-array without copying its neighbours', () => {
    const backing = Uint8Array.from({ length: 8 }, (_, i) => i)
    const chunks = splitChunks(backing.subarray(2, 7), 2)
    expect(chunks.map((c) => [...c])).toEqual([[2, 3], [4, 5], [6]])
  })
})
