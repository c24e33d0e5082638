/**
 * S-curve analysis of one LayerNorm layer (paper section 3, Figures 2-4):
 * how tanh-like is the map from a layer's input x to its output y, pooled
 * over tokens and channels? Pure numbers in, numbers out (no tensors), so it
 * is unit-testable and runs on captures made by lib/hooks/captureNorms.
 */
import { fitTanh } from "./tanhfit";
import { linearFit } from "./stats";
import type { NormCapture } from "../hooks/capture";

/** How well y ~ k*tanh(s*x) and y ~ a*x + b describe one layer's pooled (x, y) points. */
export interface FitStats {
  s: number;
  k: number;
  r2Tanh: number;
  r2Linear: number;
  /**
   * The S-shapedness measure: R^2(tanh) - R^2(linear), both with 2 free
   * parameters. 0 = a straight line explains as much; > 0 = the points bend
   * like a tanh (a linear relation gives ~0 because tanh(s x) ~ s x for small s).
   */
  deltaR2: number;
  /** s * max|x|: how far into tanh's saturation the fitted curve reaches (< ~1: effectively linear). */
  maxArg: number;
  /** Fraction of points with |s x| > 1 (in the bent part of the fitted tanh). */
  satFrac: number;
}

export function fitStats(x: ArrayLike<number>, y: ArrayLike<number>): FitStats {
  if (x.length !== y.length) throw new Error(`fitStats: x has ${x.length} values, y has ${y.length}`);
  if (x.length < 3) throw new Error(`fitStats: need at least 3 points, got ${x.length}`);
  const t = fitTanh(x, y);
  const l = linearFit(x, y);
  let sat = 0;
  for (let i = 0; i < x.length; i++) if (Math.abs(t.s * x[i]!) > 1) sat++;
  return { s: t.s, k: t.k, r2Tanh: t.r2, r2Linear: l.r2, deltaR2: t.r2 - l.r2, maxArg: t.maxArg, satFrac: sat / x.length };
}

/**
 * LayerNorm's output before the affine, (x - mu_t) / sqrt(var_t + eps), for
 * `rows` tokens of C channels (biased variance, as the layer computes it).
 * Recomputed from the captured input in float64 so the fit sees exactly the
 * normalisation and not the learned per-channel gamma/beta.
 */
export function layerNormPreAffine(input: ArrayLike<number>, rows: number, C: number, eps: number): Float64Array {
  if (input.length !== rows * C) throw new Error(`layerNormPreAffine: ${input.length} values is not rows ${rows} x C ${C}`);
  const out = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < C; c++) m += input[r * C + c]!;
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (input[r * C + c]! - m) ** 2;
    const rs = 1 / Math.sqrt(v / C + eps);
    for (let c = 0; c < C; c++) out[r * C + c] = (input[r * C + c]! - m) * rs;
  }
  return out;
}

/** Where a norm sits: block index and slot (norm1 before attention, norm2 before the MLP, final before the head). */
export interface NormSlot {
  block: number | null;
  slot: "norm1" | "norm2" | "final" | "other";
}

export function normSlot(layer: string): NormSlot {
  const m = /blocks\.(\d+)\.(norm[12])$/.exec(layer);
  if (m) return { block: Number(m[1]), slot: m[2] as "norm1" | "norm2" };
  if (layer === "norm" || layer.endsWith(".norm") || layer === "final") return { block: null, slot: "final" };
  return { block: null, slot: "other" };
}

/** A few of the layer's points, kept for plotting (rounded to 4 significant digits to keep result files small). */
export interface PlotSample {
  /** Token index (within the captured sample) of each point. */
  token: number[];
  channel: number[];
  x: number[];
  yPre: number[];
  yPost: number[];
}

export interface LayerFit extends NormSlot {
  layer: string;
  /** Captured tokens x channels. */
  rows: number;
  channels: number;
  /** Std and max|x| of the whole (unsampled) input / of the sampled input. */
  inputStd: number;
  inputAbsMax: number;
  /** The 4 channels with the largest max|x| in the sample (baselines.md: highlight them). */
  topChannels: number[];
  /** Fit to the pre-affine output (the paper's plots). */
  pre: FitStats;
  /** Fit to the layer's actual output (after gamma, beta). */
  post: FitStats;
  sample?: PlotSample;
}

const r4 = (v: number) => Number(v.toPrecision(4));

/**
 * Fit one captured LN layer. `plotTokens` > 0 keeps that many tokens (all
 * channels, evenly strided over the sample) plus the top channels' points of
 * every token, for scatter plots.
 */
export function fitCapture(cap: NormCapture, eps: number, plotTokens = 0): LayerFit {
  const { rows, channels: C } = cap;
  const pre = layerNormPreAffine(cap.input, rows, C, eps);
  const chanMax = new Float64Array(C);
  let absMax = 0;
  for (let i = 0; i < rows * C; i++) {
    const a = Math.abs(cap.input[i]!);
    const c = i % C;
    if (a > chanMax[c]!) chanMax[c] = a;
    if (a > absMax) absMax = a;
  }
  const topChannels = [...chanMax.keys()].sort((a, b) => chanMax[b]! - chanMax[a]!).slice(0, Math.min(4, C));
  const fit: LayerFit = {
    layer: cap.layer,
    ...normSlot(cap.layer),
    rows,
    channels: C,
    inputStd: cap.inputStd,
    inputAbsMax: absMax,
    topChannels,
    pre: fitStats(cap.input, pre),
    post: fitStats(cap.input, cap.output),
  };
  if (plotTokens > 0) {
    const sample: PlotSample = { token: [], channel: [], x: [], yPre: [], yPost: [] };
    const stride = Math.max(1, Math.floor(rows / plotTokens));
    const top = new Set(topChannels);
    for (let r = 0; r < rows; r++) {
      const whole = r % stride === 0 && r / stride < plotTokens;
      for (let c = 0; c < C; c++) {
        if (!whole && !top.has(c)) continue;
        const i = r * C + c;
        sample.token.push(r);
        sample.channel.push(c);
        sample.x.push(r4(cap.input[i]!));
        sample.yPre.push(r4(pre[i]!));
        sample.yPost.push(r4(cap.output[i]!));
      }
    }
    fit.sample = sample;
  }
  return fit;
}

/** Mean of a per-layer statistic over a set of block norms (NaN when the set is empty). */
export function meanOver(fits: readonly LayerFit[], pick: (f: LayerFit) => boolean, stat: (f: LayerFit) => number): number {
  const v = fits.filter(pick).map(stat);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
}

/**
 * Early vs deep blocks for the depth trend: the first half of the blocks vs
 * the second half (a middle block of an odd depth belongs to neither).
 */
export function depthGroups(depth: number): { early: (b: number) => boolean; deep: (b: number) => boolean } {
  if (!Number.isInteger(depth) || depth < 2) throw new Error(`depthGroups: need depth >= 2 to compare early and deep blocks, got ${depth}`);
  return { early: (b) => b < Math.floor(depth / 2), deep: (b) => b >= Math.ceil(depth / 2) };
}

/** Mean S-shapedness (pre-affine deltaR2) of the early and the deep block norms. */
export function earlyVsDeep(fits: readonly LayerFit[], depth: number): { early: number; deep: number } {
  const g = depthGroups(depth);
  const isBlock = (f: LayerFit) => f.block !== null;
  return {
    early: meanOver(fits, (f) => isBlock(f) && g.early(f.block!), (f) => f.pre.deltaR2),
    deep: meanOver(fits, (f) => isBlock(f) && g.deep(f.block!), (f) => f.pre.deltaR2),
  };
}
