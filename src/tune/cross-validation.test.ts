import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  type Fold,
  groupKFold,
  holdoutFold,
  kFold,
  makeFolds,
  stratifiedKFold,
  streamingHoldout,
  timeSeriesSplit,
} from './cross-validation.js'

type Case = {
  kind: 'kfold' | 'stratified' | 'time-series' | 'group'
  name?: string
  n?: number
  nSplits: number
  y?: (number | string)[]
  groups?: (number | string)[]
  maxTrainSize?: number | null
  testSize?: number | null
  gap?: number
  folds?: { train: number[]; test: number[] }[]
  error?: string
}

const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/cv/cases.json', import.meta.url), 'utf8')) as {
  cases: Case[]
}

function split(c: Case): Fold[] {
  switch (c.kind) {
    case 'kfold':
      return kFold(c.n!, { nSplits: c.nSplits })
    case 'stratified':
      return stratifiedKFold(c.y!, { nSplits: c.nSplits })
    case 'time-series':
      return timeSeriesSplit(c.n!, {
        nSplits: c.nSplits,
        ...(c.maxTrainSize == null ? {} : { maxTrainSize: c.maxTrainSize }),
        ...(c.testSize == null ? {} : { testSize: c.testSize }),
        gap: c.gap ?? 0,
      })
    case 'group':
      return groupKFold(c.groups!, { nSplits: c.nSplits })
  }
}

const plain = (folds: Fold[]) => folds.map((f) => ({ train: Array.from(f.train), test: Array.from(f.test) }))

describe('splitters give the indices of scikit-learn 1.2.1 (test/fixtures/cv)', () => {
  it.each(
    fixture.cases.map(
      (c) => [`${c.kind} ${c.name ?? `n=${c.n}`} k=${c.nSplits}${c.gap ? ` gap=${c.gap}` : ''}`, c] as const,
    ),
  )('%s', (_label, c) => {
    if (c.error !== undefined) {
      expect(() => split(c)).toThrow(c.error)
      return
    }
    expect(plain(split(c))).toEqual(c.folds)
  })
})

function checkPartition(folds: Fold[], n: number): void {
  const seen = new Uint8Array(n)
  for (const f of folds) {
    expect(f.train.length + f.test.length).toBe(n)
    for (const i of f.test) seen[i]!++
    const inTest = new Set(f.test)
    for (const i of f.train) expect(inTest.has(i)).toBe(false)
  }
  expect(Array.from(seen).every((c) => c === 1)).toBe(true)
}

describe('shuffled splits (seeded permutation, documented in the module)', () => {
  it('k-fold: scikit-learn fold sizes, a partition, a function of the seed', () => {
    const a = kFold(103, { nSplits: 5, shuffle: true, seed: 4 })
    expect(a.map((f) => f.test.length)).toEqual([21, 21, 21, 20, 20])
    checkPartition(a, 103)
    expect(plain(kFold(103, { nSplits: 5, shuffle: true, seed: 4 }))).toEqual(plain(a))
    expect(plain(kFold(103, { nSplits: 5, shuffle: true, seed: 5 }))).not.toEqual(plain(a))
    expect(plain(a)).not.toEqual(plain(kFold(103, { nSplits: 5 })))
  })

  it('stratified k-fold: the per-class fold sizes of the unshuffled split, rows moved', () => {
    const y = Array.from({ length: 90 }, (_, i) => (i % 9 === 0 ? 2 : i % 3 === 0 ? 1 : 0))
    const shuffled = stratifiedKFold(y, { nSplits: 4, shuffle: true, seed: 1 })
    const ordered = stratifiedKFold(y, { nSplits: 4 })
    checkPartition(shuffled, 90)
    const perClass = (folds: Fold[]) =>
      folds.map((f) => [0, 1, 2].map((k) => Array.from(f.test).filter((i) => y[i] === k).length))
    expect(perClass(shuffled)).toEqual(perClass(ordered))
    expect(plain(shuffled)).not.toEqual(plain(ordered))
  })
})

describe('streaming holdout', () => {
  it('holds out about the fraction, the same rows whatever their order or batch', () => {
    const holdout = streamingHoldout({ fraction: 0.2, seed: 3 })
    let held = 0
    for (let i = 0; i < 100_000; i++) if (holdout.isTest(i)) held++
    expect(held / 100_000).toBeCloseTo(0.2, 2)
    // In memory, rows keep their data index: a sample of every 7th row splits exactly as those rows in the stream.
    const rowIndex = Uint32Array.from({ length: 5000 }, (_, r) => r * 7)
    const fold = holdoutFold(rowIndex, holdout)
    for (const r of fold.test) expect(holdout.isTest(rowIndex[r]!)).toBe(true)
    for (const r of fold.train) expect(holdout.isTest(rowIndex[r]!)).toBe(false)
    expect(fold.test.length + fold.train.length).toBe(5000)
    // Another seed, another split; the salt keeps it apart from a training holdout of the same seed.
    expect(streamingHoldout({ fraction: 0.2, seed: 4 }).isTest(12)).toBeTypeOf('boolean')
    expect(() => streamingHoldout({ fraction: 1 })).toThrow(/holdout fraction must be in \(0, 1\)/)
  })

  it('is one of the validation specs', () => {
    const folds = makeFolds({ kind: 'holdout', fraction: 0.25, seed: 0 }, { n: 400 })
    expect(folds.length).toBe(1)
    expect(folds[0]!.test.length).toBeGreaterThan(60)
    expect(folds[0]!.test.length).toBeLessThan(140)
    expect(() => makeFolds({ kind: 'group', nSplits: 3 }, { n: 10 })).toThrow(/needs a group column/)
  })
})
