/**
 * Gradient-boosting objectives as pure kernels: per-row first and second derivatives of the loss with respect to
 * the margin (XGBoost 1.7's formulas, including its hessian floors), the mean loss used for early stopping, and the
 * constant margin boosting starts from. Caller-owned buffers; no allocation.
 * @module
 */

/** Floor on hessians, as XGBoost (`kRtEps`-style 1e-16), so a saturated row never yields a zero denominator. */
const HESS_FLOOR = 1e-16

/** `1 / (1 + e^−x)` without overflow. */
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x))
  const z = Math.exp(x)
  return z / (1 + z)
}

/**
 * Binary log-loss on labels 0/1: `g = (p − y)·w`, `h = max(p(1 − p), 1e-16)·w` with `p = σ(margin)`, for rows
 * `[0, n)`. `weight` may be empty (all 1).
 */
export function logisticGradients(
  margin: Float64Array,
  label: Float64Array,
  weight: Float64Array,
  n: number,
  grad: Float32Array,
  hess: Float32Array,
): void {
  const weighted = weight.length > 0
  for (let r = 0; r < n; r++) {
    const p = sigmoid(margin[r]!)
    const w = weighted ? weight[r]! : 1
    grad[r] = (p - label[r]!) * w
    hess[r] = Math.max(p * (1 - p), HESS_FLOOR) * w
  }
}

/**
 * Softmax cross-entropy for `k` classes, margins column-major (class `c` of row `r` at `margin[c * n + r]`, so each
 * class's margins are one contiguous block that tree updates touch), labels class indices. Writes class `c`'s
 * gradients to `grad[c * n + r]` and hessians to `hess[c * n + r]`: `g = (p_c − [y = c])·w`,
 * `h = max(2 p_c (1 − p_c), 1e-16)·w` (XGBoost's `multi:softprob`, factor 2 included). `expScratch` holds `k`
 * values, so each exponential is computed once.
 */
export function softmaxGradients(
  margin: Float64Array,
  label: Float64Array,
  weight: Float64Array,
  n: number,
  k: number,
  grad: Float32Array,
  hess: Float32Array,
  expScratch: Float64Array,
): void {
  const weighted = weight.length > 0
  for (let r = 0; r < n; r++) {
    let max = Number.NEGATIVE_INFINITY
    for (let c = 0, o = r; c < k; c++, o += n) if (margin[o]! > max) max = margin[o]!
    let sum = 0
    for (let c = 0, o = r; c < k; c++, o += n) {
      const e = Math.exp(margin[o]! - max)
      expScratch[c] = e
      sum += e
    }
    const w = weighted ? weight[r]! : 1
    const y = label[r]!
    for (let c = 0, o = r; c < k; c++, o += n) {
      const p = expScratch[c]! / sum
      grad[o] = (p - (c === y ? 1 : 0)) * w
      hess[o] = Math.max(2 * p * (1 - p), HESS_FLOOR) * w
    }
  }
}

/** Squared error `½(m − y)²`: `g = (m − y)·w`, `h = w`. */
export function squaredErrorGradients(
  margin: Float64Array,
  label: Float64Array,
  weight: Float64Array,
  n: number,
  grad: Float32Array,
  hess: Float32Array,
): void {
  const weighted = weight.length > 0
  for (let r = 0; r < n; r++) {
    const w = weighted ? weight[r]! : 1
    grad[r] = (margin[r]! - label[r]!) * w
    hess[r] = w
  }
}

/**
 * Pseudo-Huber `δ² (√(1 + ((m − y)/δ)²) − 1)` with slope `delta`: `g = r / √s · w`, `h = w / (s √s)` where
 * `r = m − y`, `s = 1 + (r/δ)²` (XGBoost's `reg:pseudohubererror`).
 */
export function pseudoHuberGradients(
  margin: Float64Array,
  label: Float64Array,
  weight: Float64Array,
  n: number,
  delta: number,
  grad: Float32Array,
  hess: Float32Array,
): void {
  const weighted = weight.length > 0
  for (let r = 0; r < n; r++) {
    const w = weighted ? weight[r]! : 1
    const z = (margin[r]! - label[r]!) / delta
    const s = 1 + z * z
    const root = Math.sqrt(s)
    grad[r] = ((margin[r]! - label[r]!) / root) * w
    hess[r] = Math.max(1 / (s * root), HESS_FLOOR) * w
  }
}

/** Probabilities are clipped to `[ε, 1 − ε]` in log-loss, as scikit-learn's `log_loss` does for float64. */
const PROBA_EPS = 1e-15

/**
 * Weighted mean loss of rows `[0, n)` for objective `kind`: log-loss (binary, `k = 1`), multi-class log-loss
 * (`k ≥ 2`, margins column-major as in {@link softmaxGradients}), half squared error reported as RMSE, or the mean
 * pseudo-Huber loss.
 */
export function meanLoss(
  kind: 'logistic' | 'softmax' | 'squared_error' | 'pseudo_huber',
  margin: Float64Array,
  label: Float64Array,
  weight: Float64Array,
  n: number,
  k: number,
  delta: number,
): number {
  const weighted = weight.length > 0
  let sum = 0
  let total = 0
  for (let r = 0; r < n; r++) {
    const w = weighted ? weight[r]! : 1
    let loss: number
    switch (kind) {
      case 'logistic': {
        const p = Math.min(Math.max(sigmoid(margin[r]!), PROBA_EPS), 1 - PROBA_EPS)
        loss = label[r] === 1 ? -Math.log(p) : -Math.log(1 - p)
        break
      }
      case 'softmax': {
        let max = Number.NEGATIVE_INFINITY
        for (let c = 0, o = r; c < k; c++, o += n) if (margin[o]! > max) max = margin[o]!
        let s = 0
        for (let c = 0, o = r; c < k; c++, o += n) s += Math.exp(margin[o]! - max)
        const p = Math.exp(margin[label[r]! * n + r]! - max) / s
        loss = -Math.log(Math.min(Math.max(p, PROBA_EPS), 1 - PROBA_EPS))
        break
      }
      case 'squared_error': {
        const d = margin[r]! - label[r]!
        loss = d * d
        break
      }
      case 'pseudo_huber': {
        const z = (margin[r]! - label[r]!) / delta
        loss = delta * delta * (Math.sqrt(1 + z * z) - 1)
        break
      }
    }
    sum += loss * w
    total += w
  }
  const mean = total > 0 ? sum / total : 0
  return kind === 'squared_error' ? Math.sqrt(mean) : mean
}
