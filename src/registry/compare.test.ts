import { describe, expect, it } from 'vitest'
import { compareManifests } from './compare.js'
import type { Manifest } from './manifest.js'

function manifest(overrides: Partial<Manifest>): Manifest {
  return {
    formatVersion: 1,
    name: 'flights',
    version: 1,
    created: '2001-06-13T00:00:00.000Z',
    task: 'classification',
    modelKind: 'sgd-classifier',
    inputSchema: [],
    features: ['distance', 'origin'],
    pipeline: null,
    model: null,
    params: {},
    metrics: {},
    lineage: { packageVersion: '0.1.0' },
    files: [],
    ...overrides,
  }
}

describe('compareManifests', () => {
  it('flattens nested params to dotted names and compares values whatever their key order', () => {
    const a = manifest({ params: { schedule: { eta0: 0.1, power: 0.5 }, classes: [0, 1], extra: {} } })
    const b = manifest({ version: 2, params: { schedule: { power: 0.5, eta0: 0.2 }, classes: [0, 1], extra: {} } })
    expect(compareManifests(a, b).params).toEqual([
      { name: 'classes', a: [0, 1], b: [0, 1], same: true },
      { name: 'extra', a: {}, b: {}, same: true },
      { name: 'schedule.eta0', a: 0.1, b: 0.2, same: false },
      { name: 'schedule.power', a: 0.5, b: 0.5, same: true },
    ])
    const c = manifest({ params: { o: { x: 1, y: [{ p: 1, q: 2 }] } } })
    const d = manifest({ params: { o: { y: [{ q: 2, p: 1 }], x: 1 } } })
    expect(compareManifests(c, d).params.every((p) => p.same)).toBe(true)
  })

  it('lines metrics up by name with b - a, and lists features only one side reads', () => {
    const a = manifest({
      metrics: { auc: 0.5, rmse: 2 },
      features: ['distance', 'origin'],
      lineage: { packageVersion: '1', rows: 10 },
    })
    const b = manifest({ version: 2, metrics: { auc: 0.75, accuracy: 0.9 }, features: ['origin', 'hour'] })
    const result = compareManifests(a, b)
    expect(result.metrics).toEqual([
      { name: 'accuracy', b: 0.9 },
      { name: 'auc', a: 0.5, b: 0.75, difference: 0.25 },
      { name: 'rmse', a: 2 },
    ])
    expect(result.features).toEqual({ onlyA: ['distance'], onlyB: ['hour'] })
    expect(result.a).toEqual({
      name: 'flights',
      version: 1,
      modelKind: 'sgd-classifier',
      task: 'classification',
      created: '2001-06-13T00:00:00.000Z',
      rows: 10,
      features: 2,
    })
    expect(result.b.rows).toBeUndefined()
  })
})
