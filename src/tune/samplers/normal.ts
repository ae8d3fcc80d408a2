/**
 * The standard normal distribution as TPE needs it, accurate far into the tails: `log Φ(z)`, `log(Φ(b) − Φ(a))`,
 * the inverse of `log Φ`, and draws from a normal truncated to `[a, b]`. Kernels of a Parzen estimator are clipped
 * to at least 1/100 of the range, so standardized bounds reach ±100, where `Φ` itself underflows; everything here
 * works on logarithms for that reason. Pure functions, no allocation.
 * @module
 */

const SQRT2 = Math.SQRT2
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI)
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI)

/**
 * `exp(x²) · erfc(x)` for `x ≥ 0` (the scaled complementary error function, which does not underflow). Below 2.5 from
 * the all-positive series `erf(x) = 2/√π · e^{−x²} · Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1))`; above, from the continued
 * fraction `erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))` evaluated by Lentz's method.
 */
export function erfcx(x: number): number {
  if (x < 2.5) {
    const x2 = x * x
    let term = x
    let sum = x
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1)
      sum += term
      if (term < sum * 1e-17) break
    }
    // erfc = 1 − erf; scaled back by e^{x²}.
    return Math.exp(x2) - TWO_OVER_SQRT_PI * sum
  }
  // Lentz: f = x + a1/(x + a2/(x + …)) with a_k = k/2.
  const tiny = 1e-300
  let f = x
  let c = x
  let d = 0
  for (let k = 1; k < 500; k++) {
    const a = k / 2
    d = x + a * d
    d = d === 0 ? tiny : 1 / d
    c = x + a / c
    if (c === 0) c = tiny
    const delta = c * d
    f *= delta
    if (Math.abs(delta - 1) < 1e-16) break
  }
  return 1 / (Math.sqrt(Math.PI) * f)
}

/** `log Φ(z)`, the log of the standard normal CDF, finite down to z ≈ −1e150. */
export function logNdtr(z: number): number {
  if (z >= 0) {
    // Φ(z) = 1 − erfc(z/√2)/2: small upper tail.
    const x = z / SQRT2
    return Math.log1p(-0.5 * erfcx(x) * Math.exp(-x * x))
  }
  const x = -z / SQRT2
  return Math.log(0.5 * erfcx(x)) - x * x
}

/** `log φ(z)`, the log of the standard normal density. */
export function logNormalPdf(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI
}

/** `log(Φ(b) − Φ(a))` for `a < b`, without cancellation in either tail. */
export function logNdtrDiff(a: number, b: number): number {
  if (!(a < b)) return Number.NEGATIVE_INFINITY
  if (a >= 0) return logNdtrDiff(-b, -a)
  if (b <= 0) {
    const lb = logNdtr(b)
    return lb + Math.log1p(-Math.exp(logNdtr(a) - lb))
  }
  // a < 0 < b: both tails are below 1/2, so 1 − Φ(a) − Φ(−b) loses no digits to cancellation of large terms.
  return Math.log1p(-Math.exp(logNdtr(a)) - Math.exp(logNdtr(-b)))
}

/**
 * The `z` with `log Φ(z) = logp` (`logp ≤ 0`): Newton's method on `log Φ`, which is concave and increasing, from an
 * asymptotic start in the lower tail or a rational start elsewhere; accurate to ~1e-12 relative.
 */
export function ndtriExp(logp: number): number {
  if (logp >= 0) return Number.POSITIVE_INFINITY
  if (logp === Number.NEGATIVE_INFINITY) return Number.NEGATIVE_INFINITY
  // Upper half: z = −Φ⁻¹(1 − p), with 1 − p = −expm1(logp) exact where p itself rounds to 1.
  if (logp > -Math.LN2) return -ndtriExp(Math.log(-Math.expm1(logp)))
  let z: number
  if (logp < -3) {
    // Lower tail: Φ(z) ≈ φ(z)/(−z) ⇒ z ≈ −√(−2 logp − log(−2 logp) − log 2π).
    const t = -2 * logp
    z = -Math.sqrt(Math.max(t - Math.log(t) - Math.log(2 * Math.PI), 1e-12))
  } else {
    // A logistic approximation of Φ (scale 1/1.702) is within 0.01 of it; Newton does the rest.
    const p = Math.exp(logp)
    z = Math.log(p / (1 - p)) / 1.702
  }
  for (let i = 0; i < 60; i++) {
    const f = logNdtr(z) - logp
    // d/dz log Φ(z) = φ(z)/Φ(z)
    const slope = Math.exp(logNormalPdf(z) - logNdtr(z))
    const step = f / slope
    z -= step
    if (Math.abs(step) <= 1e-14 * Math.max(1, Math.abs(z))) break
  }
  return z
}

/**
 * A draw from the standard normal truncated to `[a, b]`, by inverting the CDF at `Φ(a) + u·(Φ(b) − Φ(a))` in log
 * space; the upper tail is mapped to the lower one by symmetry, where logarithms keep their precision.
 */
export function truncatedNormalDraw(a: number, b: number, u: number): number {
  if (!(a < b)) return a
  if (a > 0) return -truncatedNormalDraw(-b, -a, 1 - u)
  const la = logNdtr(a)
  const lb = logNdtr(b)
  // log(Φ(a) + u(Φ(b) − Φ(a))) = lb + log(u + (1 − u)·Φ(a)/Φ(b))
  const logp = lb + Math.log(u + (1 - u) * Math.exp(la - lb))
  const z = ndtriExp(Math.min(logp, -1e-300))
  return Math.min(Math.max(z, a), b)
}
