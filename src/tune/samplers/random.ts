/**
 * Random search (Bergstra & Bengio 2012): every parameter drawn independently, uniform over its (log) range.
 * @module
 */
import { Random } from '../../core/random.js'
import { sampleSpace } from '../space.js'
import { type Sampler, trialSeed } from './sampler.js'

/**
 * A random sampler; trial `n` draws from `Random(trialSeed(seed, n))`, so its configuration does not depend on how
 * many trials ran before it or in which process.
 *
 * @example
 * const params = randomSampler({ seed: 7 }).sample({ space, number: 0, history: [] })
 */
export function randomSampler(options: { readonly seed?: number } = {}): Sampler {
  const seed = options.seed ?? 0
  return {
    name: 'random',
    sample: ({ space, number }) => sampleSpace(space, new Random(trialSeed(seed, number))),
  }
}
