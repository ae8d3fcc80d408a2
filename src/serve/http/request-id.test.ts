import { describe, expect, it } from 'vitest'
import { createRequestIds } from './request-id.js'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('createRequestIds', () => {
  it('makes UUID-shaped ids (version 4 layout) that never repeat within a generator', () => {
    const next = createRequestIds()
    const ids = Array.from({ length: 10_000 }, () => next())
    for (const id of ids.slice(0, 50)) expect(id).toMatch(UUID_V4)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('gives two generators (two processes) different ids', () => {
    const a = createRequestIds()
    const b = createRequestIds()
    expect(a()).not.toBe(b())
  })
})
