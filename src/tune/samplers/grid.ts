/**
 * Grid search: every combination of a finite set of values per parameter, in scikit-learn's `ParameterGrid` order
 * (parameter names sorted, the last name varying fastest). Categorical parameters take every choice; integer ranges
 * every value when there are at most `points` of them; otherwise, and for real ranges, `points` values evenly
 * spaced over the (log) range, both ends included (integers rounded, duplicates dropped).
 * @module
 */
import { ScalemlError } from '../../core/errors.js'
import { type Choice, type Distribution, fromInternal, internalBounds, type SearchSpace } from '../space.js'
import type { Sampler } from './sampler.js'

/** Default values per continuous (or long integer) range in a grid. */
export const DEFAULT_GRID_POINTS = 5

/** The values `d` contributes to a grid. */
export function gridValues(d: Distribution, points = DEFAULT_GRID_POINTS): Choice[] {
  if (d.type === 'categorical') return [...d.choices]
  if (d.type === 'int' && !d.log && (d.high - d.low) / d.step + 1 <= points) {
    const out: number[] = []
    for (let v = d.low; v <= d.high; v += d.step) out.push(v)
    return out
  }
  const values: Choice[] = []
  const seen = new Set<Choice>()
  if (d.type === 'int') {
    // Evenly spaced over the values themselves (or their logs), not over the half-step-widened domain.
    const lo = d.log ? Math.log(d.low) : d.low
    const hi = d.log ? Math.log(d.high) : d.high
    for (let i = 0; i < points; i++) {
      const x = points === 1 ? lo : lo + ((hi - lo) * i) / (points - 1)
      const v = fromInternal(d, x)
      if (!seen.has(v)) values.push(v)
      seen.add(v)
    }
    return values
  }
  const { low, high } = internalBounds(d)
  for (let i = 0; i < points; i++) {
    const x = points === 1 ? low : low + ((high - low) * i) / (points - 1)
    // exp(log(x)) can land one ulp off the end the user wrote; give back the ends exactly.
    values.push(i === 0 ? d.low : i === points - 1 ? d.high : fromInternal(d, x))
  }
  return values
}

/** The grid of `space`: its axes in `ParameterGrid` order. */
export function gridAxes(space: SearchSpace, points = DEFAULT_GRID_POINTS): { name: string; values: Choice[] }[] {
  return Object.keys(space)
    .sort()
    .map((name) => ({ name, values: gridValues(space[name]!, points) }))
}

/** Number of configurations in the grid of `space`. */
export function gridSize(space: SearchSpace, points = DEFAULT_GRID_POINTS): number {
  return gridAxes(space, points).reduce((n, axis) => n * axis.values.length, 1)
}

/** Configuration `index` of the grid (mixed-radix decoding, the last axis fastest). */
export function gridPoint(space: SearchSpace, index: number, points = DEFAULT_GRID_POINTS): Record<string, Choice> {
  const axes = gridAxes(space, points)
  const size = axes.reduce((n, axis) => n * axis.values.length, 1)
  if (!Number.isInteger(index) || index < 0 || index >= size) {
    throw new ScalemlError(
      'INVALID_ARGUMENT',
      `The grid has ${size} configurations; there is no configuration ${index}.`,
    )
  }
  const out: Record<string, Choice> = {}
  let rest = index
  for (let a = axes.length - 1; a >= 0; a--) {
    const axis = axes[a]!
    out[axis.name] = axis.values[rest % axis.values.length]!
    rest = Math.floor(rest / axis.values.length)
  }
  const ordered: Record<string, Choice> = {}
  for (const axis of axes) ordered[axis.name] = out[axis.name]!
  return ordered
}

/**
 * A grid sampler: trial `n` gets configuration `n` of the grid; a study runs at most {@link gridSize} trials.
 *
 * @example
 * const sampler = gridSampler({ points: 3 })
 * sampler.sample({ space: { alpha: loguniform(1e-4, 1e-2) }, number: 1, history: [] }) // { alpha: 0.001 }
 */
export function gridSampler(options: { readonly points?: number } = {}): Sampler {
  const points = options.points ?? DEFAULT_GRID_POINTS
  if (!Number.isInteger(points) || points < 1) {
    throw new ScalemlError('INVALID_ARGUMENT', `grid points must be a whole number ≥ 1; got ${points}.`)
  }
  return {
    name: 'grid',
    sample: ({ space, number }) => gridPoint(space, number, points),
    size: (space) => gridSize(space, points),
  }
}
