/**
 * Descriptive statistics, correlation and seed-noise tests, in float64 on
 * plain arrays. Experiments report numbers across seeds and layers; the
 * inputs are small (tens to thousands of values), so no tensors here.
 */
import { Rng } from "../util/rng";
import { normalQuantile, studentTTwoSided } from "./special";

export type Numbers = ArrayLike<number>;

function toArray(x: Numbers): number[] {
  return Array.from(x as ArrayLike<number>);
}

/** Arithmetic mean (NaN for an empty input). */
export function mean(x: Numbers): number {
  const n = x.length;
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i]!;
  return s / n;
}

/** Variance. ddof=0: population (divide by n); ddof=1: sample (n-1). Two-pass for accuracy. */
export function variance(x: Numbers, ddof: 0 | 1 = 0): number {
  const n = x.length;
  if (n - ddof <= 0) return NaN;
  const m = mean(x);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i]! - m;
    s += d * d;
  }
  return s / (n - ddof);
}

/** Standard deviation; population by default (as baselines.md's std_l), `ddof: 1` for the sample std. */
export function std(x: Numbers, ddof: 0 | 1 = 0): number {
  return Math.sqrt(variance(x, ddof));
}

/** Sample standard deviation (n-1), the usual spread across seeds. */
export function sampleStd(x: Numbers): number {
  return std(x, 1);
}

/** Quantile with linear interpolation between order statistics (numpy's default, "type 7"). */
export function quantile(x: Numbers, q: number): number {
  const a = toArray(x).sort((u, v) => u - v);
  return quantileSorted(a, q);
}

function quantileSorted(a: number[], q: number): number {
  const n = a.length;
  if (n === 0) return NaN;
  const h = (n - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return a[lo]! + (h - lo) * (a[hi]! - a[lo]!);
}

export function median(x: Numbers): number {
  return quantile(x, 0.5);
}

export interface Summary {
  mean: number;
  /** Sample std (n-1) across the values, the spread to draw as error bars; 0 when n = 1. */
  std: number;
  min: number;
  max: number;
  n: number;
}

/** mean / sample std / min / max / n of e.g. a metric over seeds. */
export function summarize(values: Numbers): Summary {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, min: NaN, max: NaN, n: 0 };
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    min = Math.min(min, values[i]!);
    max = Math.max(max, values[i]!);
  }
  // One seed has no spread estimate; report 0 (n=1 tells the reader) rather than NaN, which JSON turns into null.
  return { mean: mean(values), std: n > 1 ? std(values, 1) : 0, min, max, n };
}

export interface PearsonResult {
  r: number;
  n: number;
  /** Two-sided p-value of r = 0 (t with n-2 df). */
  p: number;
  /** Fisher-z confidence interval [lo, hi]; NaN when n < 4. */
  ci: [number, number];
  level: number;
}

/** Means and centred sums of squares / cross-products (shared by pearson and linearFit). */
function centeredSums(x: Numbers, y: Numbers): { mx: number; my: number; sxy: number; sxx: number; syy: number } {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return { mx, my, sxy, sxx, syy };
}

/** Pearson correlation; CI by the Fisher z transform: tanh(atanh(r) +- z_(1-a/2) / sqrt(n-3)) (as scipy.stats.pearsonr). */
export function pearson(x: Numbers, y: Numbers, level = 0.95): PearsonResult {
  const n = x.length;
  if (y.length !== n) throw new Error(`pearson: x has ${n} values, y has ${y.length}`);
  const { sxy, sxx, syy } = centeredSums(x, y);
  let r = sxy / Math.sqrt(sxx * syy);
  if (r > 1) r = 1; // rounding can push |r| a hair past 1
  if (r < -1) r = -1;
  let p = NaN;
  if (n > 2 && Number.isFinite(r)) {
    p = Math.abs(r) === 1 ? 0 : studentTTwoSided(r * Math.sqrt((n - 2) / (1 - r * r)), n - 2);
  }
  let ci: [number, number] = [NaN, NaN];
  if (n > 3 && Number.isFinite(r)) {
    const z = Math.atanh(r);
    const half = normalQuantile(1 - (1 - level) / 2) / Math.sqrt(n - 3);
    ci = [Math.tanh(z - half), Math.tanh(z + half)];
  }
  return { r, n, p, ci, level };
}

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  iters?: number;
  /** Confidence level (default 0.95). */
  level?: number;
  /** Seed of the resampling RNG, so a report is reproducible (default 0). */
  seed?: number;
}

export interface BootstrapCI {
  estimate: number;
  lo: number;
  hi: number;
  level: number;
  iters: number;
  n: number;
}

/**
 * Percentile bootstrap CI of stat(items) by resampling items with
 * replacement. Items are the unit of replication, i.e. seeds.
 */
export function bootstrap<T>(items: readonly T[], stat: (sample: T[]) => number, opts: BootstrapOptions = {}): BootstrapCI {
  const iters = opts.iters ?? 2000;
  const level = opts.level ?? 0.95;
  const rng = new Rng(opts.seed ?? 0);
  const n = items.length;
  const estimate = stat(items.slice());
  if (n === 0) return { estimate, lo: NaN, hi: NaN, level, iters, n };
  const stats: number[] = [];
  const sample: T[] = new Array(n);
  for (let b = 0; b < iters; b++) {
    for (let i = 0; i < n; i++) sample[i] = items[rng.int(n)]!;
    const v = stat(sample);
    if (Number.isFinite(v)) stats.push(v); // e.g. r of a resample with zero variance
  }
  stats.sort((u, v) => u - v);
  const a = (1 - level) / 2;
  return { estimate, lo: quantileSorted(stats, a), hi: quantileSorted(stats, 1 - a), level, iters, n };
}

/** Bootstrap CI of the mean over seeds. */
export function bootstrapMeanCI(values: Numbers, opts: BootstrapOptions = {}): BootstrapCI {
  return bootstrap(toArray(values), (s) => mean(s), opts);
}

export interface SeedSeries {
  x: Numbers;
  y: Numbers;
}

export interface PearsonOverSeeds {
  /** r within each seed (e.g. across layers). */
  perSeed: number[];
  /** Mean of the per-seed r: the headline number. */
  meanR: number;
  /** Pearson (Fisher CI) on all seeds' pairs pooled. */
  pooled: PearsonResult;
  /** Bootstrap over seeds of the mean per-seed r (resampling seeds, not points: points within a seed are not independent). */
  bootstrap: BootstrapCI;
}

/** Pearson r with a CI over seeds: each seed gives one (x, y) series, e.g. (1/std_l, a_l) over layers. */
export function pearsonOverSeeds(series: readonly SeedSeries[], opts: BootstrapOptions & { level?: number } = {}): PearsonOverSeeds {
  const perSeed = series.map((s) => pearson(s.x, s.y).r);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of series) {
    xs.push(...toArray(s.x));
    ys.push(...toArray(s.y));
  }
  return {
    perSeed,
    meanR: mean(perSeed),
    pooled: pearson(xs, ys, opts.level ?? 0.95),
    bootstrap: bootstrap(perSeed, (s) => mean(s), opts),
  };
}

export interface NoiseTest {
  /** mean(a) - mean(b). */
  diff: number;
  /** Standard error of the difference, sqrt(va/na + vb/nb), sample variances (Welch). */
  se: number;
  t: number;
  /** Welch-Satterthwaite degrees of freedom. */
  df: number;
  /** Welch two-sided p-value. */
  p: number;
  /** The rule: |diff| < k * se (k = 2 by default), i.e. |t| < 2. */
  within: boolean;
  rule: string;
  /** Set when a side has one value and borrowed the other side's variance, or when no variance exists. */
  note?: string;
}

/**
 * Is the difference between two sets of seeds within seed noise?
 *
 * Rule (stated so verdicts are reproducible): within = |mean(a) - mean(b)| <
 * k * se with se = sqrt(s_a^2/n_a + s_b^2/n_b), k = 2 (about a 95% band).
 * The Welch p-value is reported alongside. A side with a single seed has no
 * variance of its own: it borrows the other side's sample variance (equal
 * noise assumed; df from the other side). With one seed on both sides there
 * is no noise estimate: within = false, p = NaN.
 */
export function withinNoise(a: Numbers, b: Numbers, k = 2): NoiseTest {
  const na = a.length;
  const nb = b.length;
  const rule = `|mean(a)-mean(b)| < ${k}*sqrt(var_a/n_a + var_b/n_b) (sample variances)`;
  const diff = mean(a) - mean(b);
  let va = variance(a, 1);
  let vb = variance(b, 1);
  let note: string | undefined;
  let df: number;
  if (na < 2 && nb < 2) {
    return { diff, se: NaN, t: NaN, df: NaN, p: NaN, within: false, rule, note: "one value per side: no noise estimate" };
  } else if (na < 2) {
    va = vb;
    df = nb - 1;
    note = "a has one value: used b's variance";
  } else if (nb < 2) {
    vb = va;
    df = na - 1;
    note = "b has one value: used a's variance";
  } else {
    const ga = va / na;
    const gb = vb / nb;
    df = (ga + gb) ** 2 / ((ga * ga) / (na - 1) + (gb * gb) / (nb - 1));
  }
  const se = Math.sqrt(va / na + vb / nb);
  if (se === 0) {
    // No spread on either side: identical means are within noise, any difference is not.
    return { diff, se, t: diff === 0 ? 0 : Math.sign(diff) * Infinity, df: NaN, p: diff === 0 ? 1 : 0, within: diff === 0, rule, ...(note ? { note } : {}) };
  }
  const t = diff / se;
  const res: NoiseTest = { diff, se, t, df, p: studentTTwoSided(t, df), within: Math.abs(diff) < k * se, rule };
  if (note) res.note = note;
  return res;
}

export interface LinearFit {
  slope: number;
  intercept: number;
  /** Coefficient of determination of the fit (in the fitted coordinates). */
  r2: number;
  n: number;
}

/** Ordinary least squares y = slope*x + intercept. */
export function linearFit(x: Numbers, y: Numbers): LinearFit {
  const n = x.length;
  if (y.length !== n) throw new Error(`linearFit: x has ${n} values, y has ${y.length}`);
  const { mx, my, sxy, sxx, syy } = centeredSums(x, y);
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept, r2, n };
}

/**
 * Least-squares fit of log(y) = slope*log(x) + intercept, i.e. y ~ C x^slope.
 * For a vs 1/std: slope 1 means a tracks 1/std proportionally. All values
 * must be > 0 (a log of a non-positive value is an error, not a silent drop).
 */
export function logLogSlope(x: Numbers, y: Numbers): LinearFit {
  const lx: number[] = [];
  const ly: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (!(x[i]! > 0) || !(y[i]! > 0)) throw new Error(`logLogSlope: value ${i} is not positive (x=${x[i]}, y=${y[i]})`);
    lx.push(Math.log(x[i]!));
    ly.push(Math.log(y[i]!));
  }
  return linearFit(lx, ly);
}

export interface AlphaVsInvStd {
  /** Pearson r of a_l vs 1/std_l (linear scale), with Fisher CI. */
  pearson: PearsonResult;
  /** log-log fit of a_l vs 1/std_l. */
  logLog: LinearFit;
}

/** The a-vs-1/std analysis at one checkpoint: alphas[l] and stds[l] per DyT layer l. */
export function alphaVsInvStd(alphas: Numbers, stds: Numbers, level = 0.95): AlphaVsInvStd {
  const inv = Array.from(stds as ArrayLike<number>, (s) => 1 / s);
  return { pearson: pearson(inv, alphas, level), logLog: logLogSlope(inv, alphas) };
}

/** Mean over rows of the population std over each row's C values (the per-token std of a [rows, C] matrix). */
export function meanTokenStd(x: ArrayLike<number>, rows: number, C: number): number {
  if (x.length !== rows * C) throw new Error(`meanTokenStd: ${x.length} values is not rows ${rows} x C ${C}`);
  let acc = 0;
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < C; c++) m += x[r * C + c]!;
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (x[r * C + c]! - m) ** 2;
    acc += Math.sqrt(v / C);
  }
  return acc / rows;
}
