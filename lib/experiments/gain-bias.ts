import * as tf from "@tensorflow/tfjs";
import { captureNorms } from "../hooks/capture";
import type { ViT } from "../models/vit";
import type { Norm } from "../norms/types";
import { saveSummary, type ExperimentContext } from "./runner";
import type { Scale } from "./scale";
import { SQUASH_SCALES, type VerdictPart } from "./squash";
import { gridSetup, compareVariants, describeComparison, runGrid, summarizeVariants, type GridComparison, type GridBase, type GridPrepare, type GridRecord, type GridVariant, type GridVariantSummary } from "./grid";

/**
 * What each part of DyT (and of LayerNorm) contributes: the per-channel gain
 * gamma and bias beta switched off one at a time, for DyT and LN, plus two
 * non-adaptive tanh schemes whose constants come from data statistics at init
 * and are never trained:
 *
 *  - the tanh-estimator (Hampel et al.; Jain et al. 2005, score normalization):
 *    y = 0.5 * (tanh(0.01 * (x - mu) / sigma) + 1). We build it from DyT with
 *    everything frozen: alpha_l = 0.01 / sigma_l, gamma = 0.5,
 *    beta = 0.5 - 0.005 * mu_l / sigma_l. The mean is folded into beta, which
 *    is exact to first order because 0.01 x / sigma is deep in tanh's linear
 *    range. mu_l, sigma_l: mean and std of layer l's input over all elements
 *    of a 256-image calibration batch at init (not per token: that would be
 *    LayerNorm).
 *  - "fixed calibrated DyT": alpha_l = 1 / sigma_l frozen, gamma and beta
 *    learned: DyT whose scale is set from data rather than learned.
 *
 * Layers are calibrated in forward order, each after the ones before it are
 * set, since an earlier layer's alpha changes the later layers' inputs.
 */
export const GAIN_BIAS = "gain-bias";

/** The classical tanh-estimator's spread factor. */
export const TANH_ESTIMATOR_SCALE = 0.01;

export interface GainBiasConfig {
  base: GridBase;
  seeds: number[];
  variants: string[];
}

export const GAIN_BIAS_VARIANTS: GridVariant[] = [
  { name: "dyt-gamma-beta", label: "DyT (γ, β)", norm: "dyt", normOptions: {}, tags: { norm: "dyt", gamma: true, beta: true } },
  { name: "dyt-gamma", label: "DyT, no β", norm: "dyt", normOptions: { bias: false }, tags: { norm: "dyt", gamma: true, beta: false } },
  { name: "dyt-beta", label: "DyT, no γ", norm: "dyt", normOptions: { gain: false }, tags: { norm: "dyt", gamma: false, beta: true } },
  { name: "dyt-none", label: "DyT, no γ, no β", norm: "dyt", normOptions: { gain: false, bias: false }, tags: { norm: "dyt", gamma: false, beta: false } },
  { name: "ln-gamma-beta", label: "LN (γ, β)", norm: "layernorm", normOptions: {}, tags: { norm: "layernorm", gamma: true, beta: true } },
  { name: "ln-gamma", label: "LN, no β", norm: "layernorm", normOptions: { bias: false }, tags: { norm: "layernorm", gamma: true, beta: false } },
  { name: "ln-beta", label: "LN, no γ", norm: "layernorm", normOptions: { gain: false }, tags: { norm: "layernorm", gamma: false, beta: true } },
  { name: "ln-none", label: "LN, no γ, no β", norm: "layernorm", normOptions: { gain: false, bias: false }, tags: { norm: "layernorm", gamma: false, beta: false } },
  { name: "tanh-estimator", label: "tanh-estimator (fixed)", norm: "dyt", normOptions: { learnAlpha: false }, prepare: "tanh-estimator", tags: { norm: "tanh-estimator", gamma: false, beta: false } },
  { name: "dyt-calibrated-fixed", label: "DyT, α = 1/σ fixed", norm: "dyt", normOptions: { learnAlpha: false }, prepare: "calibrated-alpha", tags: { norm: "dyt-fixed", gamma: true, beta: true } },
];

const ALL_NAMES = GAIN_BIAS_VARIANTS.map((v) => v.name);

/** Same model and schedule as the squash grid, so "DyT (γ, β)" here is the same run as its "tanh, α learned". */
export const GAIN_BIAS_SCALES: Record<Scale, GainBiasConfig> = {
  smoke: { base: SQUASH_SCALES.smoke.base, seeds: [1], variants: ["dyt-gamma-beta", "dyt-none", "ln-gamma-beta", "tanh-estimator"] },
  quick: { base: SQUASH_SCALES.quick.base, seeds: [1, 2], variants: ["dyt-gamma-beta", "dyt-none", "ln-gamma-beta", "ln-none", "tanh-estimator", "dyt-calibrated-fixed"] },
  full: { base: SQUASH_SCALES.full.base, seeds: [1, 2, 3], variants: ALL_NAMES },
};

function param(norm: Norm, leaf: string): tf.Variable | undefined {
  return norm.params.find((p) => p.name.endsWith(`.${leaf}`))?.variable;
}

/** Set each DyT layer's frozen constants from its input statistics, layer by layer in forward order. */
function calibrate(model: ViT, calib: tf.Tensor, set: (n: Norm, mean: number, std: number) => Record<string, number>): Record<string, unknown> {
  const out: Record<string, Record<string, number>> = {};
  for (const n of model.norms()) {
    if (!n.alpha) throw new Error(`calibration needs DyT layers, but ${n.name} is ${n.kind}`);
    const [c] = captureNorms(model, calib, { layers: [n.name], maxRows: 1 });
    if (!c) throw new Error(`calibration: layer ${n.name} was not reached by the forward pass`);
    if (!(c.inputStd > 0)) throw new Error(`calibration: layer ${n.name} has input std ${c.inputStd}; cannot set alpha = k / std`);
    out[n.name] = { inputMean: c.inputMean, inputStd: c.inputStd, ...set(n, c.inputMean, c.inputStd) };
  }
  return { layers: out };
}

function assignScalar(v: tf.Variable, value: number): void {
  tf.tidy(() => v.assign(tf.fill(v.shape, value)));
}

export const GAIN_BIAS_PREPARES: Record<string, GridPrepare> = {
  "tanh-estimator": (model, calib) =>
    calibrate(model, calib, (n, mu, sigma) => {
      const alpha = TANH_ESTIMATOR_SCALE / sigma;
      const beta0 = 0.5 - 0.5 * alpha * mu;
      const g = param(n, "gamma");
      const b = param(n, "beta");
      if (!g || !b) throw new Error(`tanh-estimator: ${n.name} needs gamma and beta slots (gain and bias true) to hold the fixed 0.5 scale and shift`);
      assignScalar(n.alpha!, alpha);
      assignScalar(g, 0.5);
      assignScalar(b, beta0);
      for (const v of [n.alpha!, g, b]) v.trainable = false;
      return { alpha, gamma: 0.5, beta: beta0 };
    }),
  "calibrated-alpha": (model, calib) =>
    calibrate(model, calib, (n, _mu, sigma) => {
      const alpha = 1 / sigma;
      assignScalar(n.alpha!, alpha);
      n.alpha!.trainable = false;
      return { alpha };
    }),
};

export interface GainBiasSummary {
  experiment: string;
  scale: Scale;
  /** Model and budget the verdicts hold for. */
  setup: string;
  variants: GridVariantSummary[];
  comparisons: GridComparison[];
  /** Removing gamma hurts DyT. */
  dytGamma: VerdictPart;
  /** Removing beta hurts DyT. */
  dytBeta: VerdictPart;
  /** Removing both from LN, for comparison. */
  ln: VerdictPart;
  /** Learned DyT beats the fixed tanh-estimator. */
  tanhEstimator: VerdictPart;
  /** Learned alpha beats alpha fixed at 1/sigma (calibrated at init). */
  calibrated: VerdictPart;
  verdict: string;
  statement: string;
}

export async function runGainBias(ctx: ExperimentContext, override: Partial<GainBiasConfig> = {}): Promise<{ records: GridRecord[]; summary: GainBiasSummary }> {
  const cfg: GainBiasConfig = { ...GAIN_BIAS_SCALES[ctx.scale], ...override };
  const variants = cfg.variants.map((name) => {
    const v = GAIN_BIAS_VARIANTS.find((x) => x.name === name);
    if (!v) throw new Error(`gain-bias: unknown variant "${name}"; valid: ${ALL_NAMES.join(", ")}`);
    return v;
  });
  const records = await runGrid(GAIN_BIAS, ctx, cfg.base, variants, ctx.seeds ?? cfg.seeds, GAIN_BIAS_PREPARES);
  const summary = summarizeGainBias(ctx.scale, records);
  saveSummary(GAIN_BIAS, ctx.scale, summary);
  return { records, summary };
}

/** "hurts" = the full variant beats the reduced one beyond seed noise. */
function hurts(cs: GridComparison[], what: string): VerdictPart {
  const statement = `${what}? ${cs.map((c) => describeComparison(c)).join("; ")}.`;
  if (cs.some((c) => c.outcome === "untestable")) return { verdict: "not testable at this scale", statement };
  return { verdict: cs.every((c) => c.outcome === "a>b") ? "supported" : "not supported", statement };
}

export function summarizeGainBias(scale: Scale, records: GridRecord[]): GainBiasSummary {
  const variants = summarizeVariants(records);
  const comparisons: GridComparison[] = [];
  const cmp = (a: string, b: string) => {
    const c = compareVariants(variants, a, b);
    comparisons.push(c);
    return c;
  };
  const dytGamma = hurts([cmp("dyt-gamma-beta", "dyt-beta")], "Removing γ from DyT hurts");
  const dytBeta = hurts([cmp("dyt-gamma-beta", "dyt-gamma")], "Removing β from DyT hurts");
  const dytBoth = cmp("dyt-gamma-beta", "dyt-none");
  dytBeta.statement += ` Both removed: ${describeComparison(dytBoth)}.`;
  const ln = hurts([cmp("ln-gamma-beta", "ln-gamma"), cmp("ln-gamma-beta", "ln-beta"), cmp("ln-gamma-beta", "ln-none")], "LayerNorm: removing β, γ, or both hurts");
  const tanhEstimator = hurts([cmp("dyt-gamma-beta", "tanh-estimator")], "Learned DyT beats the fixed tanh-estimator");
  const calibrated = hurts([cmp("dyt-gamma-beta", "dyt-calibrated-fixed")], "Learned α beats α fixed at 1/σ from init statistics");
  const parts = [dytGamma, dytBeta, tanhEstimator];
  const verdict = parts.some((p) => p.verdict === "not testable at this scale") ? "not testable at this scale" : parts.every((p) => p.verdict === "supported") ? "supported" : "not supported";
  return {
    experiment: GAIN_BIAS,
    scale,
    setup: gridSetup(records),
    variants,
    comparisons,
    dytGamma,
    dytBeta,
    ln,
    tanhEstimator,
    calibrated,
    verdict,
    statement: [dytGamma, dytBeta, ln, tanhEstimator, calibrated].map((p) => p.statement).join(" "),
  };
}
