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
 * set, since an earlier layer's alpha changes the later layers' inputs. Both
 * calibrations are named prepare steps (registerPrepare), so worker processes
 * can run them. Every comparison needs both arms to have learned: a frozen
 * arm stuck at chance makes its row "not testable", never "supported".
 */
import * as tf from "@tensorflow/tfjs";
import { captureNorms } from "../../hooks/capture";
import type { ViT } from "../../models/vit";
import type { Norm } from "../../norms/types";
import type { ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { VIT_SMALL } from "../sizes";
import { arm, deriveArm, type Arm } from "../protocol/arms";
import { allOf, armComparer, describeComparison, describeVerdict, type ArmResult, type CombinedVerdict, type Comparison } from "../protocol/compare";
import { RULES, type ProtocolRules } from "../protocol/rules";
import type { ProtocolRecord } from "../protocol/runner";
import { armStudy, runComparisonStudy, studyArms, type ArmStudy, type StudyScale } from "../protocol/study";
import { describeBase } from "../protocol/jobs";
import { registerPrepare, type PrepareModel } from "../protocol/task";
import type { LrPick } from "../protocol/tuning";

export const GAIN_BIAS = "gain-bias";

/** The classical tanh-estimator's spread factor. */
export const TANH_ESTIMATOR_SCALE = 0.01;

/** Names of the registered prepare steps (part of each calibrated run's resolved config). */
export const TANH_ESTIMATOR_PREPARE = "gain-bias/tanh-estimator";
export const CALIBRATED_ALPHA_PREPARE = "gain-bias/calibrated-alpha";

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

export const tanhEstimatorPrepare: PrepareModel = (model, calib) =>
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
  });

export const calibratedAlphaPrepare: PrepareModel = (model, calib) =>
  calibrate(model, calib, (n, _mu, sigma) => {
    const alpha = 1 / sigma;
    assignScalar(n.alpha!, alpha);
    n.alpha!.trainable = false;
    return { alpha };
  });

registerPrepare(TANH_ESTIMATOR_PREPARE, tanhEstimatorPrepare);
registerPrepare(CALIBRATED_ALPHA_PREPARE, calibratedAlphaPrepare);

/** Every arm of the study; the claims' comparisons name them by id. */
export const GAIN_BIAS_ARMS: Arm[] = [
  arm("dyt"),
  deriveArm("dyt", { id: "dyt-no-beta", label: "DyT, no β", normOptions: { bias: false } }),
  deriveArm("dyt", { id: "dyt-no-gamma", label: "DyT, no γ", normOptions: { gain: false } }),
  deriveArm("dyt", { id: "dyt-no-gamma-beta", label: "DyT, no γ, no β", normOptions: { gain: false, bias: false } }),
  arm("layernorm"),
  deriveArm("layernorm", { id: "ln-no-beta", label: "LN, no β", normOptions: { bias: false } }),
  deriveArm("layernorm", { id: "ln-no-gamma", label: "LN, no γ", normOptions: { gain: false } }),
  deriveArm("layernorm", { id: "ln-no-gamma-beta", label: "LN, no γ, no β", normOptions: { gain: false, bias: false } }),
  deriveArm("dyt", { id: "tanh-estimator", label: "tanh-estimator (fixed)", normOptions: { learnAlpha: false } }),
  deriveArm("dyt", { id: "dyt-calibrated-fixed", label: "DyT, α = 1/σ fixed", normOptions: { learnAlpha: false } }),
];

const PREPARE: Record<string, string> = { "tanh-estimator": TANH_ESTIMATOR_PREPARE, "dyt-calibrated-fixed": CALIBRATED_ALPHA_PREPARE };

function armAxes(a: Arm): Record<string, string> {
  const fam = a.id === "tanh-estimator" ? "tanh-estimator" : a.id === "dyt-calibrated-fixed" ? "dyt-fixed" : a.norm;
  const fixed = a.id === "tanh-estimator";
  return { norm: fam, gamma: !fixed && a.normOptions?.gain !== false ? "learned" : "none", beta: !fixed && a.normOptions?.bias !== false ? "learned" : "none" };
}

export interface GainBiasScale extends StudyScale {
  /** Arm ids (from GAIN_BIAS_ARMS). */
  arms: string[];
}

const TRAIN = { batchSize: 64, weightDecay: 0.05, clipNorm: 1.0 };
const ALL = GAIN_BIAS_ARMS.map((a) => a.id);

/** The small ViT on the first 20,000 training images, 1 epoch per run (as the squash study). */
export const GAIN_BIAS_SCALES: Record<Scale, GainBiasScale> = {
  smoke: {
    base: { model: { dim: 16, depth: 1, heads: 2, patchSize: 7 }, train: { ...TRAIN, batchSize: 32, evalLimit: 200 }, data: { trainLimit: 1000, testLimit: 300 } },
    epochs: 0.5,
    seeds: [1, 2],
    extraSeeds: [],
    lr: { kind: "shared", lr: 2e-3, why: "smoke runs only check the plumbing" },
    arms: ["dyt", "dyt-no-gamma-beta", "layernorm", "tanh-estimator"],
  },
  quick: {
    base: { model: { ...VIT_SMALL }, train: { ...TRAIN, evalLimit: 1000 }, data: { trainLimit: 10_000, testLimit: 5000 } },
    epochs: 1,
    seeds: [1, 2, 3],
    extraSeeds: [],
    lr: { kind: "shared", lr: 2e-3, why: "quick keeps the reproduce run short; full tunes each arm's lr" },
    arms: ["dyt", "dyt-no-gamma-beta", "layernorm", "ln-no-gamma-beta", "tanh-estimator", "dyt-calibrated-fixed"],
  },
  full: {
    base: { model: { ...VIT_SMALL }, train: { ...TRAIN, evalLimit: 0 }, data: { trainLimit: 20_000, testLimit: 0 } },
    epochs: 1,
    seeds: [1, 2, 3],
    extraSeeds: [4, 5],
    // The grid spans 1e-3..6.4e-2 in factors of 4, as the other tuned studies: squash's first full run with
    // this study's old grid (1e-3..4e-3) put every pick at its top edge. Set before any gain-bias full run.
    lr: { kind: "tuned", tuning: { lrs: [1e-3, 4e-3, 1.6e-2, 6.4e-2], seed: 101 } },
    arms: ALL,
    // 9 tuned arms are what the full budget affords; the estimator's norms are frozen, so it takes DyT's lr.
    lrFrom: { "tanh-estimator": { arm: "dyt", why: "its norms are frozen; it runs in DyT's recipe" } },
  },
};

export function gainBiasStudy(s: GainBiasScale): ArmStudy {
  const arms = s.arms.map((id) => {
    const a = GAIN_BIAS_ARMS.find((x) => x.id === id);
    if (!a) throw new Error(`gain-bias: unknown arm "${id}"; valid: ${ALL.join(", ")}`);
    return a;
  });
  return armStudy(GAIN_BIAS, s, arms, { prepare: PREPARE, axes: armAxes });
}

export interface GainBiasSummary {
  experiment: string;
  scale: Scale;
  /** Model and budget the verdicts hold for. */
  setup: string;
  picks: LrPick[];
  arms: ArmResult[];
  comparisons: Comparison[];
  /** DyT beats DyT without gamma. */
  dytGamma: CombinedVerdict;
  /** DyT beats DyT without beta (and, descriptively, without both). */
  dytBeta: CombinedVerdict;
  /** LN beats LN without beta, without gamma, and without both. */
  ln: CombinedVerdict;
  /** Learned DyT beats the fixed tanh-estimator (not testable when the estimator did not learn). */
  tanhEstimator: CombinedVerdict;
  /** Mean over layers and seeds of the tanh-estimator's frozen slope gamma * alpha = 0.5 * 0.01 / sigma (computed from the calibration). */
  tanhEstimatorSlope?: number;
  /** Learned alpha beats alpha fixed at 1/sigma (calibrated at init). */
  calibrated: CombinedVerdict;
  verdict: string;
  statement: string;
}

export async function runGainBias(ctx: ExperimentContext, override: Partial<GainBiasScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: ProtocolRecord[]; summary: GainBiasSummary }> {
  const s: GainBiasScale = { ...GAIN_BIAS_SCALES[ctx.scale], ...override };
  return runComparisonStudy(ctx, gainBiasStudy(s), (arms) => gainBiasComparisons(arms, rules).all, (records) => summarizeGainBias(ctx.scale, records, s, rules), rules);
}

function gainBiasComparisons(arms: ArmResult[], rules: ProtocolRules) {
  const cmp = armComparer(arms, rules);
  // "Removing X hurts" = the full arm beats the reduced one.
  const beats = (a: string, b: string) => cmp(a, b, "beats");
  const c = {
    gamma: beats("dyt", "dyt-no-gamma"),
    beta: beats("dyt", "dyt-no-beta"),
    both: beats("dyt", "dyt-no-gamma-beta"),
    ln: [...beats("layernorm", "ln-no-beta"), ...beats("layernorm", "ln-no-gamma"), ...beats("layernorm", "ln-no-gamma-beta")],
    tanhEstimator: beats("dyt", "tanh-estimator"),
    calibrated: beats("dyt", "dyt-calibrated-fixed"),
  };
  return { ...c, all: [...c.gamma, ...c.beta, ...c.both, ...c.ln, ...c.tanhEstimator, ...c.calibrated] };
}

/** Mean frozen slope gamma * alpha of the tanh-estimator's norms over layers and seeds (from the saved calibration). */
function estimatorSlope(records: ProtocolRecord[]): number | undefined {
  const alphas = records
    .filter((r) => r.role === "eval" && r.arm === "tanh-estimator" && r.result.prepared)
    .flatMap((r) => Object.values((r.result.prepared as { layers: Record<string, { alpha: number; gamma: number }> }).layers).map((l) => l.gamma * l.alpha));
  return alphas.length ? alphas.reduce((a, b) => a + b, 0) / alphas.length : undefined;
}

export function summarizeGainBias(scale: Scale, records: ProtocolRecord[], s: GainBiasScale = GAIN_BIAS_SCALES[scale], rules: ProtocolRules = RULES): GainBiasSummary {
  const { picks, arms } = studyArms(gainBiasStudy(s), records, rules);
  const c = gainBiasComparisons(arms, rules);
  const dytGamma = allOf(c.gamma, rules);
  const dytBeta = allOf(c.beta, rules);
  const ln = allOf(c.ln, rules);
  const tanhEstimator = allOf(c.tanhEstimator, rules);
  const calibrated = allOf(c.calibrated, rules);
  const slope = estimatorSlope(records);
  if (slope !== undefined && tanhEstimator.outcome === "not testable") tanhEstimator.reason += ` (its norms are frozen at mean slope γ·α = ${slope.toPrecision(2)} around 0.5)`;
  const both = c.both[0];
  const parts: [string, string, CombinedVerdict][] = [
    ["R-gain-bias.gamma", "Removing γ from DyT hurts", dytGamma],
    ["R-gain-bias.beta", "Removing β from DyT hurts", dytBeta],
    ["R-gain-bias.ln", "LayerNorm: removing β, γ, or both hurts", ln],
    ["R-gain-bias.tanh-estimator", "Learned DyT beats the fixed tanh-estimator", tanhEstimator],
    ["R-gain-bias.alpha", "Learned α beats α fixed at 1/σ from init statistics", calibrated],
  ];
  return {
    experiment: GAIN_BIAS,
    scale,
    setup: describeBase(s.base, s.epochs),
    picks,
    arms,
    comparisons: c.all,
    dytGamma,
    dytBeta,
    ln,
    tanhEstimator,
    ...(slope !== undefined ? { tanhEstimatorSlope: slope } : {}),
    calibrated,
    verdict: parts.map(([id, , v]) => `${id}: ${v.outcome}`).join("; "),
    statement: [...parts.map(([, what, v]) => describeVerdict(what, v)), ...(both ? [`Both removed from DyT: ${describeComparison(both)}.`] : [])].join(" "),
  };
}
