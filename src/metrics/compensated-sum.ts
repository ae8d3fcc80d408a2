/**
 * Neumaier's compensated summation: a running sum whose rounding error stays O(ε) instead of O(n·ε), so a metric
 * summed over millions of rows (and merged across shards) still agrees with a pairwise-summing reference to ~1e-15.
 * @module
 */

/** A running sum with its rounding compensation; `add` allocates nothing. */
export class CompensatedSum {
  /** The naive running sum. */
  sum = 0
  /** The accumulated rounding error of `sum` (Neumaier's correction term). */
  compensation = 0

  /** Adds one term. */
  add(x: number): void {
    const s = this.sum
    const t = s + x
    // Whichever operand is larger in magnitude lost no bits; recover the low bits of the other.
    if (Math.abs(s) >= Math.abs(x)) this.compensation += s - t + x
    else this.compensation += x - t + s
    this.sum = t
  }

  /** Adds another compensated sum (shard merge). */
  addSum(other: CompensatedSum): void {
    this.add(other.sum)
    this.compensation += other.compensation
  }

  /** The corrected total. */
  get value(): number {
    return this.sum + this.compensation
  }

  /** Back to zero. */
  reset(): void {
    this.sum = 0
    this.compensation = 0
  }

  /** `[sum, compensation]`, for checkpoints (both are kept so accumulation resumes bit-identically). */
  toJSON(): [number, number] {
    return [this.sum, this.compensation]
  }

  /** Restores from {@link CompensatedSum.toJSON}'s pair. */
  static from(pair: ArrayLike<number>): CompensatedSum {
    const out = new CompensatedSum()
    out.sum = pair[0] ?? 0
    out.compensation = pair[1] ?? 0
    return out
  }
}
