/**
 * Paired comparisons over seeds. The arms of an experiment share the
 * initialisation seed and the data order per seed, so the natural test of
 * "arm A vs arm B" is on the per-seed differences A_s - B_s (a paired t-test),
 * which removes the seed-to-seed variation both arms share.
 */
import { studentTTwoSided } from "./special";

/** P(T >= t) for Student's t with df degrees of freedom. */
export function studentTUpper(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  const two = studentTTwoSided(t, df);
  return t >= 0 ? two / 2 : 1 - two / 2;
}

/** The q-quantile of Student's t (bisection on the upper tail; q in (0, 1)). */
export function studentTQuantile(q: number, df: number): number {
  if (!(q > 0 && q < 1) || !(df > 0)) throw new RangeError(`studentTQuantile: need 0 < q < 1 and df > 0, got q=${q}, df=${df}`);
  if (q === 0.5) return 0;
  // Upper tail at x is decreasing in x: find x with P(T >= x) = 1 - q.
  const target = 1 - q;
  let lo = -1e3;
  let hi = 1e3;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (studentTUpper(mid, df) > target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface PairedTest {
  /** Number of complete pairs (seeds where both arms have a value). */
  n: number;
  /** Per-pair differences a - b, in input order. */
  diffs: number[];
  /** Mean difference (the effect). */
  mean: number;
  /** Sample std (ddof 1) of the differences; NaN for n < 2. */
  sd: number;
  /** Standard error of the mean difference. */
  se: number;
  df: number;
  level: number;
  /** Two-sided confidence interval of the mean difference at `level`. */
  ci: [number, number];
  /**
   * Smallest true effect this test detects with 80 % power at two-sided
   * alpha = 1 - level, given the observed spread: (t_{1-alpha/2} + t_{0.8}) * se.
   */
  detectable: number;
  /** Two-sided p-value of "mean difference = 0". */
  p: number;
}

/** Paired t-test of a vs b (same length, pair i = seed i). */
export function pairedTest(a: readonly number[], b: readonly number[], level = 0.95): PairedTest {
  if (a.length !== b.length) throw new Error(`pairedTest: ${a.length} values against ${b.length}; pass one value per seed for both arms, in the same seed order`);
  const diffs = a.map((x, i) => x - b[i]!);
  if (diffs.some((d) => !Number.isFinite(d))) throw new Error(`pairedTest: non-finite value among [${diffs.join(", ")}]; drop diverged runs before testing (they are classified, not averaged)`);
  const n = diffs.length;
  const mean = n ? diffs.reduce((s, d) => s + d, 0) / n : NaN;
  const df = n - 1;
  if (n < 2) return { n, diffs, mean, sd: NaN, se: NaN, df, level, ci: [NaN, NaN], detectable: NaN, p: NaN };
  const sd = Math.sqrt(diffs.reduce((s, d) => s + (d - mean) ** 2, 0) / df);
  const se = sd / Math.sqrt(n);
  const alpha = 1 - level;
  const tc = studentTQuantile(1 - alpha / 2, df);
  const ci: [number, number] = [mean - tc * se, mean + tc * se];
  const detectable = (tc + studentTQuantile(0.8, df)) * se;
  // A zero spread makes any non-zero mean certain and a zero mean uninformative.
  const p = se > 0 ? studentTTwoSided(mean / se, df) : mean === 0 ? 1 : 0;
  return { n, diffs, mean, sd, se, df, level, ci, detectable, p };
}

/**
 * One-sided p-value of "the true mean difference exceeds `bound`" against the
 * null "it is at most `bound`" (direction "above"), or of "it is below `bound`"
 * (direction "below").
 */
export function oneSidedP(t: PairedTest, bound: number, direction: "above" | "below"): number {
  if (!(t.n >= 2)) return NaN;
  if (!(t.se > 0)) return (direction === "above" ? t.mean > bound : t.mean < bound) ? 0 : 1;
  const stat = (t.mean - bound) / t.se;
  return direction === "above" ? studentTUpper(stat, t.df) : studentTUpper(-stat, t.df);
}

/**
 * Holm's step-down adjustment: adjusted p-values that control the
 * family-wise error rate over all of them. NaN entries are left NaN and do
 * not count towards the family.
 */
export function holm(ps: readonly number[]): number[] {
  const idx = ps.map((p, i) => ({ p, i })).filter((x) => Number.isFinite(x.p));
  idx.sort((x, y) => x.p - y.p);
  const m = idx.length;
  const out = ps.map(() => NaN);
  let running = 0;
  idx.forEach((x, k) => {
    running = Math.max(running, Math.min(1, (m - k) * x.p));
    out[x.i] = running;
  });
  return out;
}
