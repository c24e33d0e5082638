/** Mean and sample std (n-1); std is 0 for n < 2. */
export function meanStd(xs: number[]): { mean: number; std: number; n: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/** Mean and std of the finite values only (a diverged run's NaN does not poison a layer's average). */
export function finiteMeanStd(xs: number[]): { mean: number; std: number } {
  const m = meanStd(xs.filter(Number.isFinite));
  return { mean: m.mean, std: m.std };
}
