import { describe, expect, it } from 'vitest'
import { decodePayload, encodePayload } from '../../core/codec.js'
import { isScalemlError, ScalemlError } from '../../core/errors.js'
import {
  ensembleFromJSON,
  ensembleToJSON,
  type TreeEnsemble,
  TreeEnsembleBuilder,
  type TreeSpec,
  treeCount,
  truncateEnsemble,
  validateEnsemble,
} from './tree-ensemble.js'

/** x0 < 0.5 ? (x1 in {1, 3} ? 3 : 2) : 1 — a categorical split under a numerical one. */
const SMALL_TREE: TreeSpec = {
  feature: [0, 1, -1, -1, -1],
  threshold: [0.5, 0, 0, 0, 0],
  left: [1, 3, -1, -1, -1],
  right: [2, 4, -1, -1, -1],
  defaultLeft: [1, 0, 0, 0, 0],
  value: [0, 0, 1, 2, 3],
  cover: [10, 6, 4, 2, 4],
  categories: [null, [3, 1], null, null, null],
}

function smallEnsemble(): TreeEnsemble {
  const b = new TreeEnsembleBuilder({ nFeatures: 2, nOutputs: 1, objective: 'reg:squarederror', baseMargin: [0.5] })
  b.addTree(SMALL_TREE)
  b.addTree({
    feature: [-1],
    threshold: [0],
    left: [-1],
    right: [-1],
    defaultLeft: [0],
    value: [0.25],
    cover: [10],
  })
  return b.build()
}

function thrown(fn: () => unknown): ScalemlError {
  try {
    fn()
  } catch (error) {
    if (error instanceof ScalemlError) return error
    throw error
  }
  throw new Error('expected a ScalemlError')
}

describe('TreeEnsembleBuilder', () => {
  it('lays trees out flat with absolute child indices and sorted categories', () => {
    const e = smallEnsemble()
    expect(treeCount(e)).toBe(2)
    expect([...e.treeOffsets]).toEqual([0, 5, 6])
    expect([...e.treeGroup]).toEqual([0, 0])
    expect([...e.left]).toEqual([1, 3, -1, -1, -1, -1])
    expect([...e.categorical]).toEqual([0, 1, 0, 0, 0, 0])
    expect([...e.categoryOffsets]).toEqual([0, 0, 2, 2, 2, 2, 2])
    expect([...e.categories]).toEqual([1, 3])
    expect(e.featureNames).toEqual(['f0', 'f1'])
    expect(e.threshold).toBeInstanceOf(Float32Array)
  })

  it('offsets the second tree by the first one’s node count and grows past its initial capacity', () => {
    const b = new TreeEnsembleBuilder({ nFeatures: 2, nOutputs: 3, objective: 'multi:softprob', baseMargin: [0, 0, 0] })
    for (let t = 0; t < 100; t++) b.addTree(SMALL_TREE, t % 3)
    const e = b.build()
    expect(e.treeOffsets[99]).toBe(495)
    expect(e.left[495 + 1]).toBe(495 + 3)
    expect(e.treeGroup[98]).toBe(2)
    expect(e.categories.length).toBe(200)
  })

  it('rejects a child before its parent, naming the field, and stays unchanged', () => {
    const b = new TreeEnsembleBuilder({ nFeatures: 2, nOutputs: 1, objective: 'reg:squarederror', baseMargin: [0] })
    const error = thrown(() => b.addTree({ ...SMALL_TREE, left: [1, 0, -1, -1, -1] }))
    expect(error.code).toBe('ARTIFACT_INVALID')
    expect(error.message).toMatch(/left\[1\] \(tree 0\)/)
    expect(b.nTrees).toBe(0)
    b.addTree(SMALL_TREE)
    expect(b.build().feature.length).toBe(5)
  })

  it('rejects bad headers and groups', () => {
    expect(
      thrown(
        () =>
          new TreeEnsembleBuilder({ nFeatures: 2, nOutputs: 1, objective: 'rank:pairwise' as never, baseMargin: [0] }),
      ).message,
    ).toMatch(/objective must be one of binary:logistic/)
    expect(
      thrown(() => new TreeEnsembleBuilder({ nFeatures: 2, nOutputs: 1, objective: 'multi:softprob', baseMargin: [0] }))
        .message,
    ).toMatch(/nOutputs must be at least 2/)
    const b = new TreeEnsembleBuilder({ nFeatures: 2, nOutputs: 1, objective: 'binary:logistic', baseMargin: [0] })
    expect(thrown(() => b.addTree(SMALL_TREE, 1)).message).toMatch(/treeGroup\[0\]/)
  })
})

describe('validateEnsemble', () => {
  const mutations: [string, (e: Record<string, unknown>) => void, RegExp][] = [
    ['feature out of range', (e) => ((e['feature'] as Int32Array)[0] = 7), /feature\[0\]/],
    ['wrong array type', (e) => (e['threshold'] = new Float64Array(6)), /threshold must be an Float32Array/],
    ['short array', (e) => (e['cover'] = new Float64Array(5)), /cover must be of length 6/],
    ['leaf with a child', (e) => ((e['left'] as Int32Array)[2] = 3), /left\/right\[2\]/],
    ['unreachable node', (e) => ((e['right'] as Int32Array)[1] = 3), /right\[1\]|nodes\[4\]/],
    ['non-finite leaf', (e) => ((e['value'] as Float64Array)[3] = Number.NaN), /value\[3\]/],
    ['unsorted categories', (e) => ((e['categories'] as Int32Array)[1] = 0), /categories\[1\]/],
    ['bad tree offsets', (e) => ((e['treeOffsets'] as Int32Array)[2] = 5), /treeOffsets\[2\]/],
    ['negative cover', (e) => ((e['cover'] as Float64Array)[0] = -1), /cover\[0\]/],
    ['NaN threshold', (e) => ((e['threshold'] as Float32Array)[0] = Number.NaN), /threshold\[0\]/],
    ['base margin length', (e) => (e['baseMargin'] = new Float64Array(2)), /baseMargin/],
    ['feature names', (e) => (e['featureNames'] = ['a']), /featureNames/],
  ]
  it.each(mutations)('names the field: %s', (_, mutate, pattern) => {
    const e = ensembleToJSON(smallEnsemble()) as unknown as Record<string, unknown>
    mutate(e)
    const error = thrown(() => validateEnsemble(e as unknown as TreeEnsemble))
    expect(error.code).toBe('ARTIFACT_INVALID')
    expect(error.message).toMatch(pattern)
  })

  it('accepts what the builder builds', () => {
    expect(() => validateEnsemble(smallEnsemble())).not.toThrow()
  })
})

describe('serialization', () => {
  it('round-trips through the registry codec with typed arrays kept typed', () => {
    const e = smallEnsemble()
    const { json, files } = encodePayload(ensembleToJSON(e), { prefix: 'model' })
    const text = JSON.stringify(json)
    const byName = new Map(files.map((f) => [f.name, f.bytes]))
    const back = ensembleFromJSON(decodePayload(JSON.parse(text), (n) => byName.get(n)))
    expect(back.threshold).toBeInstanceOf(Float32Array)
    expect(back.defaultLeft).toBeInstanceOf(Uint8Array)
    expect(back).toEqual(e)
  })

  it('accepts plain number arrays (a JSON text round trip) and rejects garbage', () => {
    const e = smallEnsemble()
    const back = ensembleFromJSON(
      JSON.parse(JSON.stringify(e, (_, v) => (ArrayBuffer.isView(v) ? [...(v as Int32Array)] : v))),
    )
    expect(back).toEqual(e)
    const error = thrown(() => ensembleFromJSON({ ...e, left: 'x' }))
    expect(isScalemlError(error, 'ARTIFACT_INVALID')).toBe(true)
    expect(error.message).toMatch(/left must be an Int32Array/)
  })

  it('truncates to the first trees', () => {
    const e = truncateEnsemble(smallEnsemble(), 1)
    expect(treeCount(e)).toBe(1)
    expect(e.feature.length).toBe(5)
    expect(() => validateEnsemble(e)).not.toThrow()
    expect(thrown(() => truncateEnsemble(e, 3)).code).toBe('INVALID_ARGUMENT')
  })
})
