/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011), with Optuna's defaults (TPESampler, independent mode):
 *
 * - the first `nStartupTrials` = 10 trials are random;
 * - then the finished trials are split: the best `γ(n) = min(⌈0.1·n⌉, 25)` (complete trials by loss, then pruned
 *   ones by the budget they reached, furthest first, then loss) form the "below" group, the rest "above";
 * - each group gets, per parameter, a Parzen estimator over the transformed domain (the log of the value for log
 *   scales; int ranges widened by half a step each side): one truncated-normal kernel per trial at its value, with a
 *   bandwidth equal to the larger gap to its sorted neighbours (the outermost kernels use their inner gap only,
 *   `consider_endpoints=False`), clipped to `[(high − low) / min(100, n + 2), high − low]` (`consider_magic_clip`),
 *   plus one prior kernel at the middle of the range with bandwidth `high − low` and weight `priorWeight` = 1;
 * - categorical parameters use, per trial, a distribution with `priorWeight / (n + 1)` on every choice plus 1 on the
 *   trial's own choice (normalized), and a uniform prior: weighted counts of the choices;
 * - kernel weights are 1 for up to 25 trials; beyond, the most recent 25 weigh 1 and older ones ramp linearly from
 *   `1/n` (Optuna's `default_weights`), trials ordered by number;
 * - `nEiCandidates` = 24 values are drawn from the "below" estimator and the one maximizing `log l(x) − log g(x)`
 *   is proposed (expected improvement under the TPE model).
 *
 * Integers are drawn from the continuous estimator and rounded; their density is the estimator's mass on the
 * value's cell of width `step`. Parameters are sampled independently (Optuna's `multivariate=False`).
 * @module
 */
import { Random } from '../../core/random.js'
import { type Choice, type Distribution, fromInternal, internalBounds, toInternal } from '../space.js'
import { logNdtrDiff, logNormalPdf, truncatedNormalDraw } from './normal.js'
import { randomSampler } from './random.js'
import type { Observation, Sampler } from './sampler.js'
import { trialSeed } from './sampler.js'

/** TPE settings; defaults are Optuna's. */
export interface TpeOptions {
  /** Seed of every draw (default 0). */
  readonly seed?: number
  /** Random trials before the model is used (default 10). */
  readonly nStartupTrials?: number
  /** Candidates drawn from the "below" estimator per parameter (default 24). */
  readonly nEiCandidates?: number
  /** Weight of the prior kernel (default 1). */
  readonly priorWeight?: number
  /** Size of the "below" group for `n` finished trials (default `min(⌈0.1·n⌉, 25)`). */
  readonly gamma?: (n: number) => number
  /** Kernel weights of `n` trials in trial order (default: Optuna's `default_weights`). */
  readonly weights?: (n: number) => Float64Array
}

/** Optuna's `default_gamma`: the best 10% of trials, at most 25. */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25)
}

/** Optuna's `default_weights`: 1 each up to 25 trials; beyond, a ramp from `1/n` to 1 over the oldest `n − 25`. */
export function defaultWeights(n: number): Float64Array {
  const out = new Float64Array(n).fill(1)
  if (n < 25) return out
  const ramp = n - 25
  // numpy.linspace(1/n, 1, num=ramp)
  for (let i = 0; i < ramp; i++) out[i] = ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1)
  return out
}

/** A one-dimensional Parzen estimator: a weighted mixture of kernels over one parameter's transformed domain. */
export interface ParzenEstimator {
  /** A value in the internal domain (see `internalBounds`); categorical: a choice index. */
  sample(random: Random): number
  /** Log density (log probability for int and categorical parameters) at internal value `x`. */
  logPdf(x: number): number
}

/**
 * Builds the estimator of one parameter from observed internal values and their weights (see the module notes).
 */
export function parzenEstimator(
  d: Distribution,
  observed: readonly number[],
  weights: Float64Array,
  priorWeight: number,
): ParzenEstimator {
  const n = observed.length
  const mixture = new Float64Array(n + 1)
  for (let i = 0; i < n; i++) mixture[i] = weights[i]!
  mixture[n] = priorWeight
  if (n === 0) mixture[0] = 1
  normalize(mixture)
  return d.type === 'categorical'
    ? categoricalEstimator(d.choices.length, observed, mixture, priorWeight)
    : numericEstimator(d, observed, mixture)
}

function categoricalEstimator(
  nChoices: number,
  observed: readonly number[],
  mixture: Float64Array,
  priorWeight: number,
): ParzenEstimator {
  // A mixture of categorical kernels is itself categorical: collapse it to one probability per choice.
  const n = observed.length
  const p = new Float64Array(nChoices)
  if (n === 0) p.fill(1 / nChoices)
  else {
    const base = priorWeight / (n + 1)
    for (let k = 0; k <= n; k++) {
      const own = k < n ? observed[k]! : -1
      const total = base * nChoices + (own >= 0 ? 1 : 0)
      for (let c = 0; c < nChoices; c++) p[c] = p[c]! + (mixture[k]! * (base + (c === own ? 1 : 0))) / total
    }
  }
  const cumulative = new Float64Array(nChoices)
  let acc = 0
  for (let c = 0; c < nChoices; c++) cumulative[c] = acc += p[c]!
  return {
    sample(random) {
      const u = random.next() * acc
      for (let c = 0; c < nChoices; c++) if (u < cumulative[c]!) return c
      return nChoices - 1
    },
    logPdf: (x) => Math.log(p[Math.round(x)] ?? 0),
  }
}

function numericEstimator(d: Distribution, observed: readonly number[], mixture: Float64Array): ParzenEstimator {
  const { low, high } = internalBounds(d)
  const n = observed.length
  const range = high - low
  const mus = new Float64Array(n + 1)
  const sigmas = new Float64Array(n + 1)
  const mid = 0.5 * (low + high)
  for (let i = 0; i < n; i++) mus[i] = observed[i]!
  mus[n] = mid
  if (n > 0) {
    // Bandwidths from the sorted kernel centres, the prior's centre included, with the range ends as outer neighbours.
    const order = Array.from({ length: n + 1 }, (_, i) => i).sort((a, b) => mus[a]! - mus[b]! || a - b)
    const sorted = [low, ...order.map((i) => mus[i]!), high]
    const m = order.length
    const minSigma = range / Math.min(100, n + 2)
    for (let j = 0; j < m; j++) {
      let sigma = Math.max(sorted[j + 1]! - sorted[j]!, sorted[j + 2]! - sorted[j + 1]!)
      // consider_endpoints=False: the outermost kernels ignore their distance to the range ends.
      if (j === 0) sigma = sorted[2]! - sorted[1]!
      if (j === m - 1) sigma = sorted[m]! - sorted[m - 1]!
      sigmas[order[j]!] = Math.min(Math.max(sigma, minSigma), range)
    }
  }
  sigmas[n] = range
  const logMixture = Float64Array.from(mixture, Math.log)
  const logMass = new Float64Array(n + 1)
  for (let k = 0; k <= n; k++) logMass[k] = logNdtrDiff((low - mus[k]!) / sigmas[k]!, (high - mus[k]!) / sigmas[k]!)
  const cumulative = new Float64Array(n + 1)
  let acc = 0
  for (let k = 0; k <= n; k++) cumulative[k] = acc += mixture[k]!
  const discrete = d.type === 'int'
  const terms = new Float64Array(n + 1)
  return {
    sample(random) {
      const u = random.next() * acc
      let k = 0
      while (k < n && u >= cumulative[k]!) k++
      const mu = mus[k]!
      const sigma = sigmas[k]!
      const z = truncatedNormalDraw((low - mu) / sigma, (high - mu) / sigma, random.next())
      return Math.min(Math.max(mu + sigma * z, low), high)
    },
    logPdf(x) {
      let cellLow = 0
      let cellHigh = 0
      if (discrete) {
        const v = fromInternal(d, x) as number
        const step = (d as { step: number }).step
        const log = (d as { log: boolean }).log
        cellLow = log ? Math.log(v - step / 2) : v - step / 2
        cellHigh = log ? Math.log(v + step / 2) : v + step / 2
      }
      for (let k = 0; k <= n; k++) {
        const mu = mus[k]!
        const sigma = sigmas[k]!
        const inner = discrete
          ? logNdtrDiff((cellLow - mu) / sigma, (cellHigh - mu) / sigma)
          : logNormalPdf((x - mu) / sigma) - Math.log(sigma)
        terms[k] = logMixture[k]! + inner - logMass[k]!
      }
      return logSumExp(terms)
    },
  }
}

/**
 * The observations of the "below" (best) and "above" groups for `n` finished trials (Optuna's `_split_trials`):
 * complete trials ranked by loss, then pruned trials by the budget they reached (furthest first) and their loss;
 * the first `nBelow` are "below". Each group is returned in trial-number order.
 */
export function splitObservations(
  history: readonly Observation[],
  nBelow: number,
): { below: Observation[]; above: Observation[] } {
  const complete = history
    .filter((o) => o.state === 'complete')
    .sort((a, b) => compareLoss(a.loss, b.loss) || a.number - b.number)
  const pruned = history
    .filter((o) => o.state === 'pruned')
    .sort((a, b) => b.step - a.step || compareLoss(a.loss, b.loss) || a.number - b.number)
  const ranked = [...complete, ...pruned]
  const byNumber = (a: Observation, b: Observation) => a.number - b.number
  return { below: ranked.slice(0, nBelow).sort(byNumber), above: ranked.slice(nBelow).sort(byNumber) }
}

/** NaN losses rank last. */
function compareLoss(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1
  if (Number.isNaN(b)) return -1
  return a - b
}

/**
 * A TPE sampler (see the module notes for what it does and its defaults).
 *
 * @example
 * const sampler = tpeSampler({ seed: 1 })
 * const params = sampler.sample({ space, number: history.length, history })
 */
export function tpeSampler(options: TpeOptions = {}): Sampler {
  const seed = options.seed ?? 0
  const nStartup = options.nStartupTrials ?? 10
  const nCandidates = options.nEiCandidates ?? 24
  const priorWeight = options.priorWeight ?? 1
  const gamma = options.gamma ?? defaultGamma
  const weightsOf = options.weights ?? defaultWeights
  const fallback = randomSampler({ seed })
  return {
    name: 'tpe',
    sample(request) {
      const history = request.history.filter((o) => o.state === 'complete' || o.state === 'pruned')
      if (history.length < nStartup) return fallback.sample(request)
      const { below, above } = splitObservations(history, gamma(history.length))
      const random = new Random(trialSeed(seed, request.number))
      const out: Record<string, Choice> = {}
      for (const [name, d] of Object.entries(request.space)) {
        out[name] = sampleParam(name, d, { below, above, random, nCandidates, priorWeight, weightsOf })
      }
      return out
    },
  }
}

function sampleParam(
  name: string,
  d: Distribution,
  ctx: {
    below: readonly Observation[]
    above: readonly Observation[]
    random: Random
    nCandidates: number
    priorWeight: number
    weightsOf: (n: number) => Float64Array
  },
): Choice {
  const values = (group: readonly Observation[]) =>
    group
      .filter((o) => Object.hasOwn(o.params, name))
      .map((o) => toInternal(d, o.params[name]!))
      // A stored value outside the space (a categorical choice no longer listed) says nothing about it.
      .filter((x) => Number.isFinite(x) && (d.type !== 'categorical' || x >= 0))
  const lowObs = values(ctx.below)
  const highObs = values(ctx.above)
  const l = parzenEstimator(d, lowObs, ctx.weightsOf(lowObs.length), ctx.priorWeight)
  const g = parzenEstimator(d, highObs, ctx.weightsOf(highObs.length), ctx.priorWeight)
  let best = Number.NEGATIVE_INFINITY
  let chosen = Number.NaN
  for (let i = 0; i < ctx.nCandidates; i++) {
    // Score the value the trial would actually get (ints rounded), as Optuna does.
    const x = snapToValue(d, l.sample(ctx.random))
    const score = l.logPdf(x) - g.logPdf(x)
    if (Number.isNaN(chosen) || score > best) {
      best = score
      chosen = x
    }
  }
  return fromInternal(d, chosen)
}

/** The internal coordinate of the value `x` stands for (an int range's grid value; a choice index). */
function snapToValue(d: Distribution, x: number): number {
  return d.type === 'categorical' ? x : toInternal(d, fromInternal(d, x))
}

function normalize(a: Float64Array): void {
  let sum = 0
  for (let i = 0; i < a.length; i++) sum += a[i]!
  for (let i = 0; i < a.length; i++) a[i] = a[i]! / sum
}

function logSumExp(a: Float64Array): number {
  let max = Number.NEGATIVE_INFINITY
  for (let i = 0; i < a.length; i++) if (a[i]! > max) max = a[i]!
  if (max === Number.NEGATIVE_INFINITY) return max
  let sum = 0
  for (let i = 0; i < a.length; i++) sum += Math.exp(a[i]! - max)
  return max + Math.log(sum)
}
