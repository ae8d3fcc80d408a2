/**
 * Single-row prediction allocates nothing but its output. JavaScript has no allocation counter, so this compares
 * garbage-collection activity: predicting one row many times must cause about as many young-generation
 * collections as allocating the output array alone (an extra per-call buffer or closure would double them).
 * Counts collections, not time.
 */
import { PerformanceObserver } from 'node:perf_hooks'
import { describe, expect, it } from 'vitest'
import { BernoulliNB } from './bernoulli-nb.js'
import { GaussianNB } from './gaussian-nb.js'
import { MultinomialNB } from './multinomial-nb.js'
import { problem, slice } from './test-helpers/data.js'

const CALLS = 400_000

async function collectionsDuring(run: () => void): Promise<number> {
  let count = 0
  const observer = new PerformanceObserver((list) => {
    count += list.getEntries().length
  })
  observer.observe({ entryTypes: ['gc'] })
  run()
  // gc entries are delivered asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 50))
  observer.disconnect()
  return count
}

describe('single-row predict allocates only its output', () => {
  const p = problem(300, { nClasses: 3, kind: 'counts', seed: 1, cols: 20 })
  const one = slice(p, 0, 1).X
  for (const model of [new GaussianNB(), new MultinomialNB(), new BernoulliNB()]) {
    it(`${model.kind}: GC collections over ${CALLS} one-row predicts ≤ 1.25 × those of allocating the outputs alone`, async () => {
      model.partialFit(p.X, p.y, { classes: [10, 11, 12] })
      let sink = 0
      for (let i = 0; i < 1000; i++) sink += model.predict(one)[0]!
      const outputsOnly = () => {
        for (let i = 0; i < CALLS; i++) sink += new Float64Array(1)[0]! + i
      }
      // The young generation resizes as the process runs, so the baseline is taken before and after.
      const before = await collectionsDuring(outputsOnly)
      const predicting = await collectionsDuring(() => {
        for (let i = 0; i < CALLS; i++) sink += model.predict(one)[0]!
      })
      const after = await collectionsDuring(outputsOnly)
      const baseline = (before + after) / 2
      expect(sink).toBeGreaterThan(0)
      expect(baseline).toBeGreaterThan(3)
      expect(predicting).toBeLessThanOrEqual(Math.ceil(1.25 * baseline) + 1)
    })
  }
})
