import { describe, expect, it } from 'vitest'
import { isScalemlError, type ScalemlError } from '../../core/errors.js'
import type { DenseMatrix } from '../../core/matrix.js'
import { Random } from '../../core/random.js'
import {
  BinMapper,
  type CategoricalBins,
  chooseCuts,
  DatasetSketch,
  type NumericBins,
  QuantileSketch,
} from './binning.js'

function column(values: readonly number[]): DenseMatrix {
  return { data: Float32Array.from(values), rows: values.length, cols: 1 }
}

function catchError(fn: () => unknown): ScalemlError {
  try {
    fn()
  } catch (error) {
    if (isScalemlError(error)) return error
    throw error
  }
  throw new Error('expected a ScalemlError')
}

/** Asserts the tree rule: for every value, "bin ≤ j" ⇔ "x < cuts[j]" for every cut j. */
function expectBinsMatchThresholds(values: Float32Array, bins: Uint8Array, fb: NumericBins): void {
  for (let r = 0; r < values.length; r++) {
    const x = values[r]!
    if (Number.isNaN(x)) {
      expect(bins[r]).toBe(fb.missingBin)
      continue
    }
    for (let j = 0; j < fb.cuts.length; j++) {
      if (bins[r]! <= j !== x < fb.cuts[j]!) throw new Error(`row ${r}: x=${x} bin=${bins[r]} cut[${j}]=${fb.cuts[j]}`)
    }
  }
}

describe('QuantileSketch', () => {
  it('is exact while at most 256 distinct values were seen', () => {
    const sketch = new QuantileSketch(64)
    for (let i = 0; i < 10_000; i++) sketch.add(i % 7)
    sketch.add(Number.NaN)
    expect(sketch.isExact).toBe(true)
    expect(sketch.count).toBe(10_000)
    expect(sketch.rankErrorBound).toBe(0)
    const { values, weights } = sketch.summary()
    expect(Array.from(values)).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(Array.from(weights)).toEqual([1429, 1429, 1429, 1429, 1428, 1428, 1428])
  })

  it('keeps every quantile of 200,000 values within its stated rank-error bound (also after a merge)', () => {
    const rng = new Random(5)
    const all = new Float32Array(200_000)
    for (let i = 0; i < all.length; i++) all[i] = Math.fround(rng.next() ** 3 * 1000)
    const whole = new QuantileSketch(256, 1)
    whole.addColumn(all, 1, 0, all.length)
    const a = new QuantileSketch(256, 2)
    const b = new QuantileSketch(256, 3)
    a.addColumn(all.subarray(0, 120_000), 1, 0, 120_000)
    b.addColumn(all.subarray(120_000), 1, 0, 80_000)
    a.merge(b)
    const sorted = Float32Array.from(all).sort()
    for (const sketch of [whole, a]) {
      expect(sketch.isExact).toBe(false)
      expect(sketch.count).toBe(200_000)
      const bound = sketch.rankErrorBound
      // The guarantee: n·log2(n/k)/(2k) ≈ 3,000 ranks here; a bound far above it would be a useless claim.
      expect(bound).toBeGreaterThan(0)
      expect(bound).toBeLessThan(4_000)
      const { values, weights } = sketch.summary()
      expect(weights.reduce((s, w) => s + w, 0)).toBe(200_000)
      let acc = 0
      let worst = 0
      for (let i = 0; i < values.length; i++) {
        acc += weights[i]!
        // True rank of values[i]: the number of data values <= it.
        let lo = 0
        let hi = sorted.length
        while (lo < hi) {
          const mid = (lo + hi) >>> 1
          if (sorted[mid]! <= values[i]!) lo = mid + 1
          else hi = mid
        }
        worst = Math.max(worst, Math.abs(lo - acc))
      }
      expect(worst).toBeLessThanOrEqual(bound)
    }
  })

  it('defers its compactors while exact and then leaves them exactly as if fed from the start', () => {
    const rng = new Random(9)
    // 150,000 values of 200 distinct ones, then 50,000 of 5,000: the 257th distinct value arrives late.
    const values = Float32Array.from({ length: 200_000 }, (_, i) =>
      i < 150_000 ? rng.nextInt(200) : rng.nextInt(5000),
    )
    const lazy = new QuantileSketch(256, 4)
    // Merging (even an empty sketch) replays the log, after which a sketch feeds its compactors as it goes.
    const eager = new QuantileSketch(256, 4)
    eager.merge(new QuantileSketch(256, 5))
    lazy.addColumn(values.subarray(0, 150_000), 1, 0, 150_000)
    eager.addColumn(values.subarray(0, 150_000), 1, 0, 150_000)
    expect(lazy.isExact).toBe(true)
    expect(lazy.summary()).toEqual(eager.summary())
    lazy.addColumn(values.subarray(150_000), 1, 0, 50_000)
    eager.addColumn(values.subarray(150_000), 1, 0, 50_000)
    expect(lazy.isExact).toBe(false)
    expect(lazy.rankErrorBound).toBeGreaterThan(0)
    expect(lazy.rankErrorBound).toBe(eager.rankErrorBound)
    const a = lazy.summary()
    const b = eager.summary()
    expect(a.weights.reduce((s, w) => s + w, 0)).toBe(200_000)
    expect(Array.from(a.values)).toEqual(Array.from(b.values))
    expect(Array.from(a.weights)).toEqual(Array.from(b.weights))
  })

  it('rejects a capacity outside [64, 65536] and merging sketches of different capacities', () => {
    expect(catchError(() => new QuantileSketch(8)).code).toBe('INVALID_ARGUMENT')
    expect(catchError(() => new QuantileSketch(64).merge(new QuantileSketch(128))).code).toBe('INVALID_ARGUMENT')
  })
})

describe('chooseCuts', () => {
  it('puts one cut between neighbouring values when there are at most maxBins of them', () => {
    const cuts = chooseCuts(Float64Array.from([1, 2, 4]), Float64Array.from([5, 5, 5]), 255)
    expect(Array.from(cuts)).toEqual([1.5, 3])
  })

  it('gives a heavy value its own bin instead of letting it absorb its neighbours', () => {
    const values = Float64Array.from({ length: 100 }, (_, i) => i)
    const weights = new Float64Array(100).fill(1)
    weights[50] = 1000
    const cuts = Array.from(chooseCuts(values, weights, 10))
    expect(cuts.length).toBeLessThanOrEqual(9)
    // 50 sits alone between two cuts.
    expect(cuts).toContain(49.5)
    expect(cuts).toContain(50.5)
  })

  it('uses the upper value when the float32 midpoint rounds down to the lower one', () => {
    const a = Math.fround(1)
    const b = Math.fround(1 + 2 ** -23) // the next float32 after 1
    expect(Array.from(chooseCuts(Float64Array.from([a, b]), Float64Array.from([1, 1]), 255))).toEqual([b])
  })
})

describe('BinMapper (numeric)', () => {
  it('bins a feature with few distinct values exactly, one bin per value, NaN in the missing bin', () => {
    const values = [3, 1, 2, Number.NaN, 2, 3, 1, Number.NaN]
    const mapper = BinMapper.fit(column(values))
    const fb = mapper.features[0] as NumericBins
    expect(fb.kind).toBe('numeric')
    expect(Array.from(fb.cuts)).toEqual([1.5, 2.5])
    expect(fb.nBins).toBe(3)
    expect(fb.missingBin).toBe(3)
    const binned = mapper.transform(column(values))
    expect(Array.from(binned.bins)).toEqual([2, 0, 1, 3, 1, 2, 0, 3])
    expect(Array.from(mapper.histogramOffsets)).toEqual([0, 4])
  })

  it('bins 100,000 continuous values into ≤ 255 near-equal bins where bin ≤ j ⇔ x < cuts[j]', () => {
    const rng = new Random(7)
    const n = 100_000
    const data = new Float32Array(n)
    for (let i = 0; i < n; i++) data[i] = rng.next() < 0.02 ? Number.NaN : Math.fround(Math.exp(rng.next() * 8))
    data[0] = Number.POSITIVE_INFINITY
    data[1] = Number.NEGATIVE_INFINITY
    const X = { data, rows: n, cols: 1 }
    const mapper = BinMapper.fit(X, { sketchCapacity: 1024 })
    const fb = mapper.features[0] as NumericBins
    expect(fb.nBins).toBeGreaterThan(240)
    expect(fb.nBins).toBeLessThanOrEqual(255)
    const binned = mapper.transform(X)
    expectBinsMatchThresholds(data, binned.bins, fb)
    const counts = new Float64Array(fb.nBins + 1)
    for (const b of binned.bins) counts[b]!++
    const nonMissing = n - counts[fb.missingBin]!
    // Equal-weight bins of ≈ 392 rows each; the sketch's rank error moves a bin by a few dozen rows at most.
    for (let b = 0; b < fb.nBins; b++) expect(Math.abs(counts[b]! - nonMissing / fb.nBins)).toBeLessThan(150)
  })

  it('gives a feature with no non-missing value one empty value bin, so it can never be split on', () => {
    const mapper = BinMapper.fit(column([Number.NaN, Number.NaN, Number.NaN]))
    const fb = mapper.features[0] as NumericBins
    expect(fb.cuts.length).toBe(0)
    expect(fb.nBins).toBe(1)
    expect(Array.from(mapper.transform(column([Number.NaN, 5])).bins)).toEqual([1, 0])
  })

  it('streams batches into one buffer with the same result as one transform', () => {
    const rng = new Random(2)
    const data = Float32Array.from({ length: 3000 }, () => rng.nextInt(40) - 20)
    const X = { data, rows: 1000, cols: 3 }
    const sketch = new DatasetSketch(3)
    sketch.partialFit({ data: data.subarray(0, 1500), rows: 500, cols: 3 })
    sketch.partialFit({ data: data.subarray(1500), rows: 500, cols: 3 })
    const mapper = sketch.toBinMapper()
    const target = mapper.allocate(1000)
    mapper.binRows({ data: data.subarray(0, 1500), rows: 500, cols: 3 }, target, 0)
    mapper.binRows({ data: data.subarray(1500), rows: 500, cols: 3 }, target, 500)
    expect(target.bins).toEqual(mapper.transform(X).bins)
    expect(Array.from(target.bins.subarray(0, 3))).toEqual(Array.from(mapper.transform(X).bins.subarray(0, 3)))
    // Column-major: feature 1 of row 0 is at nRows.
    const row0 = { data: data.subarray(0, 3), rows: 1, cols: 3 }
    expect(target.bins[1000]).toBe(mapper.transform(row0).bins[1])
  })

  it('merges shard sketches into the same bins as one pass (exact summaries)', () => {
    const rng = new Random(3)
    const data = Float32Array.from({ length: 4000 }, () => rng.nextInt(100))
    const one = new DatasetSketch(2, { categoricalFeatures: [1] })
    one.partialFit({ data, rows: 2000, cols: 2 })
    const a = new DatasetSketch(2, { categoricalFeatures: [1] })
    const b = new DatasetSketch(2, { categoricalFeatures: [1] })
    a.partialFit({ data: data.subarray(0, 1400), rows: 700, cols: 2 })
    b.partialFit({ data: data.subarray(1400), rows: 1300, cols: 2 })
    a.merge(b)
    expect(a.nRows).toBe(2000)
    expect(a.toBinMapper().toJSON()).toEqual(one.toBinMapper().toJSON())
  })

  it('round-trips through JSON', () => {
    const rng = new Random(4)
    const X = { data: Float32Array.from({ length: 2000 }, () => rng.nextInt(300)), rows: 1000, cols: 2 }
    const mapper = BinMapper.fit(X, { categoricalFeatures: [1], maxBins: 16 })
    const again = BinMapper.fromJSON(JSON.parse(JSON.stringify(mapper.toJSON())))
    expect(again.transform(X).bins).toEqual(mapper.transform(X).bins)
    expect(catchError(() => BinMapper.fromJSON({ features: [{ kind: 'numeric', cuts: 'x' }] } as never)).code).toBe(
      'ARTIFACT_INVALID',
    )
  })

  it('rejects maxBins outside [2, 255] (INVALID_PARAM) and a bad categorical index (INVALID_ARGUMENT)', () => {
    expect(catchError(() => BinMapper.fit(column([1, 2]), { maxBins: 256 })).code).toBe('INVALID_PARAM')
    expect(catchError(() => BinMapper.fit(column([1, 2]), { maxBins: 1 })).code).toBe('INVALID_PARAM')
    const error = catchError(() => BinMapper.fit(column([1, 2]), { categoricalFeatures: [3] }))
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toContain('categoricalFeatures lists 3')
    expect(
      catchError(() => BinMapper.fit(column([1])).transform({ data: new Float32Array(4), rows: 2, cols: 2 })).code,
    ).toBe('INVALID_INPUT')
  })
})

describe('BinMapper (categorical)', () => {
  it('gives each kept code a bin in code order, then "other" (negative and unseen codes), then missing (NaN)', () => {
    const values = [5, 2, 2, 9, Number.NaN, 5, 5, -1]
    const mapper = BinMapper.fit(column(values), { categoricalFeatures: [0] })
    const fb = mapper.features[0] as CategoricalBins
    expect(Array.from(fb.categories)).toEqual([2, 5, 9])
    expect(Array.from(fb.counts)).toEqual([2, 3, 1])
    expect(fb.otherBin).toBe(3)
    expect(fb.missingBin).toBe(4)
    expect(Array.from(mapper.transform(column([2, 5, 9, 7, 1000, -3, Number.NaN])).bins)).toEqual([0, 1, 2, 3, 3, 3, 4])
  })

  it('keeps the maxBins − 1 most frequent codes of a 100,000-level feature and bins the rest as "other"', () => {
    const n = 200_000
    const data = new Float32Array(n)
    // Code c < 300 appears 300 − c + 1 extra times, so the most frequent codes are 0, 1, 2, …
    let r = 0
    for (let c = 0; c < 300 && r < n; c++) for (let k = 0; k < 301 - c && r < n; k++) data[r++] = c
    for (let c = 0; r < n; c++) data[r++] = 300 + (c % 99_700)
    const mapper = BinMapper.fit({ data, rows: n, cols: 1 }, { categoricalFeatures: [0] })
    const fb = mapper.features[0] as CategoricalBins
    expect(fb.categories.length).toBe(254)
    expect(Array.from(fb.categories.subarray(0, 3))).toEqual([0, 1, 2])
    expect(fb.categories[253]).toBe(253)
    expect(fb.nBins).toBe(255)
    expect(fb.missingBin).toBe(255)
    expect(Array.from(mapper.transform(column([0, 253, 254, 99_999])).bins)).toEqual([0, 253, 254, 254])
  })

  it('rejects a non-integer code or one ≥ 2^24 with INVALID_DATA naming the feature and the row', () => {
    const error = catchError(() =>
      BinMapper.fit({ data: Float32Array.from([0, 1, 0, 2.5]), rows: 2, cols: 2 }, { categoricalFeatures: [1] }),
    )
    expect(error.code).toBe('INVALID_DATA')
    expect(error.message).toContain('Categorical feature 1 has the value 2.5 at row 1')
    expect(error.issues[0]?.path).toEqual(['X', 1, 1])
    const mapper = BinMapper.fit(column([1, 2]), { categoricalFeatures: [0] })
    expect(catchError(() => mapper.transform(column([1, 2 ** 24]))).message).toContain('at row 1')
  })
})
