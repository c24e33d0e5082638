/**
 * Reviewer studies R-outliers and R-quant: do DyT models have fewer
 * activation outlier features than LN models, and do they lose no more
 * accuracy under post-training quantisation? LN and DyT (arm registry) are
 * trained each at its own lr tuned on validation (tuning seed); a named hook
 * measures, at the end of training, the tracked Linear inputs (LLM.int8()
 * outlier features, |x| >= 6 and the RMS-relative variant, max|X|/RMS,
 * kurtosis; lib/analysis) and the test accuracy under each fake-quantisation
 * scheme (measure.ts). The fp32 accuracy is the run's test accuracy (same
 * weights, same test images).
 *
 * Rules (stated before the runs), paired over seeds, both arms learned on
 * every seed (classifyRun) and at least 2 paired seeds:
 *   R-outliers: precondition "outlier features (LLM.int8() definition) exist
 *     in at least one arm" (a count > 0 on some seed); else not testable, with
 *     the model tried. Effect: DyT − LN outlier feature count per seed,
 *     prediction "worse" (DyT has fewer; refuted when the data exclude one
 *     feature fewer).
 *   R-quant: per scheme, effect = DyT's accuracy change under quantisation −
 *     LN's (points), prediction "matches" (> −margin); the claim is "every
 *     scheme" (allOf).
 */
import * as tf from "@tensorflow/tfjs";
import { gatherImages } from "../../data/dataset";
import type { ViT } from "../../models/vit";
import { evaluate, type Model, type TrainHook } from "../../train/trainer";
import { saveSummary, type ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { VIT_SMALL } from "../sizes";
import { meanStd } from "../stats-lite";
import { resolveArm } from "../protocol/arms";
import { classifyRun, type RunClass } from "../protocol/classify";
import { allOf } from "../protocol/combine";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { runJobs, type Job, type ProtocolRecord } from "../protocol/runner";
import { budgetSchedule, registerHook, runSplits, stepRef, trainSize, type RunBase, type VitRunResult } from "../protocol/task";
import { armJob, describePicks, picksOf, tuneArms } from "../protocol/jobs";
import type { LrPick, LrTuningConfig } from "../protocol/tuning";
import { claimOutcome, describeEffect, pairedEvidence, type Outcome, type PairedEvidence, type Precondition } from "../protocol/verdict";
import { measureOutliers, quantHooks, QUANT_SCHEMES, type OutlierMeasures, type QuantScheme } from "./measure";
import { fixed } from "../../util/format";

export const QUANTIZATION = "quantization";

export interface QuantizationScale {
  base: RunBase;
  /** [LN arm, DyT arm]. */
  arms: [string, string];
  epochs: number;
  tuning: LrTuningConfig;
  seeds: number[];
  /** Test images in the activation-capture batch. */
  captureImages: number;
}

const TRAIN = { batchSize: 64, weightDecay: 0.05, clipNorm: 1.0 };
/** The ViT of the norm-free comparison (3 blocks, 4 heads), so the two studies speak of the same model size. */
const VIT_NF = { dim: 32, depth: 3, heads: 4, patchSize: 7 };

export const QUANTIZATION_SCALES: Record<Scale, QuantizationScale> = {
  smoke: {
    base: { model: { ...VIT_SMALL }, train: { ...TRAIN, batchSize: 32, evalLimit: 128 }, data: { trainLimit: 1000, testLimit: 250 } },
    arms: ["layernorm", "dyt"],
    epochs: 0.25,
    tuning: { lrs: [1e-3, 4e-3], seed: 101 },
    seeds: [1],
    captureImages: 32,
  },
  quick: {
    base: { model: { ...VIT_NF }, train: { ...TRAIN, evalLimit: 1000 }, data: { trainLimit: 20_000, testLimit: 2000 } },
    arms: ["layernorm", "dyt"],
    epochs: 1,
    tuning: { lrs: [1e-3, 4e-3, 1.6e-2], seed: 101 },
    seeds: [1, 2],
    captureImages: 128,
  },
  full: {
    base: { model: { ...VIT_NF }, train: { ...TRAIN, evalLimit: 1000 }, data: { trainLimit: 20_000, testLimit: 5000 } },
    arms: ["layernorm", "dyt"],
    epochs: 1.3,
    tuning: { lrs: [1e-3, 4e-3, 1.6e-2, 6.4e-2], seed: 101 },
    seeds: [1, 2, 3],
    captureImages: 256,
  },
};

// ---------------------------------------------------------------------------------------------
// The measuring hook (at the last step, after the final update)

export interface QuantMeasures extends OutlierMeasures {
  /** Test accuracy (fraction) per scheme. */
  quantAcc: Partial<Record<QuantScheme, number>>;
}

/** Outliers and quantised accuracy of a trained model on the first `captureImages` / all test images of its run. */
export function measureQuantization(model: ViT, test: ReturnType<typeof runSplits>["test"], captureImages: number): QuantMeasures {
  const n = Math.min(captureImages, test.n);
  const images = tf.tensor4d(gatherImages(test, Int32Array.from({ length: n }, (_, i) => i)), [n, test.height, test.width, test.channels]);
  let outliers: OutlierMeasures;
  try {
    outliers = measureOutliers(model, images);
  } finally {
    images.dispose();
  }
  const quantAcc: QuantMeasures["quantAcc"] = {};
  for (const scheme of QUANT_SCHEMES) quantAcc[scheme] = evaluate(model, test, 0, 250, quantHooks(scheme)).acc;
  return { ...outliers, quantAcc };
}

registerHook("quantization", (r, params) => {
  const captureImages = Number(params?.captureImages);
  if (!(captureImages > 0)) throw new Error(`quantization hook: needs captureImages > 0 (build the run with quantizationJobs)`);
  const last = r.train.steps - 1;
  return {
    name: "quantization",
    onLog(step: number, m: Model) {
      return step === last ? { quant: measureQuantization(m as ViT, runSplits(r.data).test, captureImages) } : undefined;
    },
  } satisfies TrainHook;
});

/** A record with its measures in view (result.quant), as the figures and notebooks read it. */
export type QuantRecord = ProtocolRecord & { result: VitRunResult & { quant?: QuantMeasures } };
export function withQuant(rec: ProtocolRecord): QuantRecord {
  const q = [...rec.result.log].reverse().find((l) => l.quant)?.quant as QuantMeasures | undefined;
  return { ...rec, result: { ...rec.result, ...(q ? { quant: q } : {}) } };
}

function schedule(s: QuantizationScale) {
  return budgetSchedule(s.epochs, s.base.data, s.base.train.batchSize ?? 64);
}

export function quantizationEvalJobs(s: QuantizationScale, scale: Scale, seeds: readonly number[], picks: readonly LrPick[]): Job[] {
  const sch = schedule(s);
  const base: RunBase = { ...s.base, hooks: [stepRef("quantization", { captureImages: s.captureImages })] };
  return seeds.flatMap((seed) =>
    s.arms.map((id) => {
      const a = resolveArm(id);
      const lr = picks.find((p) => p.arm === a.id)!.bestLr;
      return armJob({ experiment: QUANTIZATION, scale, base }, a, seed, { run: `${a.id}-s${seed}`, role: "eval", lr, train: sch });
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Summary and verdicts

export interface QuantSeed {
  seed: number;
  class: RunClass;
  /** fp32 test accuracy (%). */
  fp32: number;
  /** Accuracy change under each scheme, quantised − fp32 (points; negative = lost). */
  change: Partial<Record<QuantScheme, number>>;
  outliersAbs: number;
  outliersRel: number;
  /** Mean over tracked tensors of kurtosis. */
  kurtosis: number;
  /** Max over tracked tensors of max|X|/RMS. */
  maxOverRms: number;
}

export interface QuantArmSummary {
  arm: string;
  label: string;
  lr: number;
  perSeed: QuantSeed[];
  fp32Acc: { mean: number; std: number; n: number };
  /** Accuracy drop (fp32 − quantised), points, per scheme. */
  drop: Record<string, { mean: number; std: number; n: number }>;
  outliersAbs: { mean: number; std: number; n: number };
  outliersRel: { mean: number; std: number; n: number };
  kurtosis: { mean: number; std: number; n: number };
  maxOverRms: { mean: number; std: number; n: number };
}

export interface QuantVerdict {
  verdict: Outcome;
  reason: string;
  statement: string;
  evidence?: PairedEvidence;
}

export interface QuantizationSummary {
  experiment: string;
  scale: Scale;
  /** The models and budget the verdicts hold for. */
  setup: string;
  /** "ViT width 32, depth 3 (N parameters)": the model the outlier precondition was tried on. */
  model: string;
  picks: LrPick[];
  byArm: QuantArmSummary[];
  outliers: QuantVerdict;
  quantization: QuantVerdict;
  /** The quantisation verdict (the headline); the outlier verdict is in `outliers`. */
  verdict: Outcome;
  statement: string;
}

export function armSummary(recs: readonly ProtocolRecord[], armId: string, rules: ProtocolRules = RULES): QuantArmSummary {
  const a = resolveArm(armId);
  const rs = recs.filter((r) => r.role === "eval" && r.arm === a.id).sort((x, y) => x.seed - y.seed);
  const perSeed: QuantSeed[] = rs.map((r) => {
    const q = withQuant(r).result.quant;
    const fp32 = r.result.test ? 100 * r.result.test.acc : NaN;
    const change: QuantSeed["change"] = {};
    for (const s of QUANT_SCHEMES) if (q?.quantAcc[s] !== undefined) change[s] = 100 * q.quantAcc[s]! - fp32;
    return {
      seed: r.seed,
      class: classifyRun({ status: r.result.status, acc: r.result.test?.acc, numClasses: r.config.model.numClasses }, rules),
      fp32,
      change,
      outliersAbs: q?.outliersAbs.count ?? NaN,
      outliersRel: q?.outliersRel.count ?? NaN,
      kurtosis: q ? q.tensors.reduce((x, t) => x + t.kurtosis, 0) / Math.max(1, q.tensors.length) : NaN,
      maxOverRms: q ? Math.max(...q.tensors.map((t) => t.maxOverRms)) : NaN,
    };
  });
  const ok = perSeed.filter((p) => Number.isFinite(p.outliersAbs));
  const drop: QuantArmSummary["drop"] = {};
  for (const s of QUANT_SCHEMES) drop[s] = meanStd(ok.filter((p) => p.change[s] !== undefined).map((p) => -p.change[s]!));
  return {
    arm: a.id,
    label: a.label,
    lr: rs[0]?.config.train.lr ?? NaN,
    perSeed,
    fp32Acc: meanStd(ok.map((p) => p.fp32)),
    drop,
    outliersAbs: meanStd(ok.map((p) => p.outliersAbs)),
    outliersRel: meanStd(ok.map((p) => p.outliersRel)),
    kurtosis: meanStd(ok.map((p) => p.kurtosis)),
    maxOverRms: meanStd(ok.map((p) => p.maxOverRms)),
  };
}

function modelText(recs: readonly ProtocolRecord[]): string {
  const r = recs.find((x) => x.role === "eval");
  return r ? `ViT width ${r.config.model.dim}, depth ${r.config.model.depth} (${r.result.params.toLocaleString("en")} parameters)` : "no model";
}

export function summarizeQuantization(scale: Scale, records: readonly ProtocolRecord[], arms: readonly [string, string], rules: ProtocolRules = RULES): QuantizationSummary {
  const tune = records.filter((r) => r.role === "tune");
  const picks = tune.length ? picksOf(tune, arms, rules) : [];
  const [ln, dy] = arms.map((a) => armSummary(records, a, rules)) as [QuantArmSummary, QuantArmSummary];
  const model = modelText(records);
  const outliers = outlierVerdict(ln, dy, model, rules);
  const quantization = quantVerdict(ln, dy, rules);
  const m = records.find((r) => r.role === "eval")?.config;
  const setup = m
    ? `${model}; first ${trainSize(m.data).toLocaleString("en")} training images, ${m.train.steps} steps (batch ${m.train.batchSize}); each arm at its lr tuned on validation (${describePicks(picks)})`
    : "no runs";
  return {
    experiment: QUANTIZATION,
    scale,
    setup,
    model,
    picks,
    byArm: [ln, dy],
    outliers,
    quantization,
    verdict: quantization.verdict,
    statement: `Quantisation (${quantization.verdict}): ${quantization.statement} Outliers (${outliers.verdict}): ${outliers.statement}`,
  };
}

/** Seeds on which both arms have measures, and the common preconditions. */
function paired(ln: QuantArmSummary | undefined, dy: QuantArmSummary | undefined): { seeds: number[]; pre: Precondition[] } {
  if (!ln || !dy) return { seeds: [], pre: [{ ok: false, reason: "LayerNorm or DyT runs are missing" }] };
  const seeds = ln.perSeed.map((p) => p.seed).filter((s) => dy.perSeed.some((q) => q.seed === s));
  const pre: Precondition[] = [ln, dy].map((a) => {
    const bad = a.perSeed.filter((p) => p.class !== "learned");
    return { ok: a.perSeed.length > 0 && bad.length === 0, reason: `${a.label} did not learn on ${bad.length} of ${a.perSeed.length} seeds (${bad.map((p) => p.class).join(", ")})` };
  });
  pre.push({ ok: seeds.length >= 2, reason: `${seeds.length} paired seed(s): no noise estimate` });
  return { seeds, pre };
}

const at = (a: QuantArmSummary, seeds: number[], f: (p: QuantSeed) => number) => seeds.map((s) => f(a.perSeed.find((p) => p.seed === s)!));
const f2 = fixed(2);

/** R-outliers (module header). `model` names the model tried, for the not-testable reason. */
export function outlierVerdict(ln: QuantArmSummary | undefined, dy: QuantArmSummary | undefined, model: string, rules: ProtocolRules = RULES): QuantVerdict {
  const { seeds, pre } = paired(ln, dy);
  if (!ln || !dy) {
    const { outcome, reason } = claimOutcome(pre, undefined, rules);
    return { verdict: outcome, reason, statement: "LayerNorm or DyT runs are missing." };
  }
  const any = [ln, dy].some((a) => a.perSeed.some((p) => p.outliersAbs > 0));
  pre.unshift({ ok: any, reason: `no outlier features at this size (LLM.int8(): |x| ≥ 6 in ≥ 25 % of layers and ≥ 6 % of positions; 0 on every seed of both arms); largest model tried: ${model}` });
  const ready = pre.every((p) => p.ok);
  const evidence = ready ? pairedEvidence(at(dy, seeds, (p) => p.outliersAbs), at(ln, seeds, (p) => p.outliersAbs), "worse", "outlier features", rules) : undefined;
  const { outcome, reason } = claimOutcome(pre, evidence, rules);
  const facts =
    `outlier features |x| ≥ 6: LN ${f2(ln.outliersAbs.mean)}, DyT ${f2(dy.outliersAbs.mean)}; ≥ 6 RMS: LN ${f2(ln.outliersRel.mean)}, DyT ${f2(dy.outliersRel.mean)}; ` +
    `mean kurtosis of q/k/v, Wo, fc1 inputs: LN ${f2(ln.kurtosis.mean)}, DyT ${f2(dy.kurtosis.mean)}; max|X|/RMS: LN ${f2(ln.maxOverRms.mean)}, DyT ${f2(dy.maxOverRms.mean)} (means over seeds)`;
  return { verdict: outcome, reason, statement: `${evidence ? `DyT − LN outlier features ${describeEffect(evidence)}; ` : ""}${facts}. ${outcome}: ${reason}.`, ...(evidence ? { evidence } : {}) };
}

/** R-quant (module header): DyT's accuracy change under every scheme is not worse than LN's by more than the margin. */
export function quantVerdict(ln: QuantArmSummary | undefined, dy: QuantArmSummary | undefined, rules: ProtocolRules = RULES): QuantVerdict {
  const { seeds, pre } = paired(ln, dy);
  if (!ln || !dy) {
    const { outcome, reason } = claimOutcome(pre, undefined, rules);
    return { verdict: outcome, reason, statement: "LayerNorm or DyT runs are missing." };
  }
  const ready = pre.every((p) => p.ok) && seeds.every((s) => QUANT_SCHEMES.every((q) => [ln, dy].every((a) => Number.isFinite(a.perSeed.find((p) => p.seed === s)!.change[q] ?? NaN))));
  const parts = ready ? QUANT_SCHEMES.map((q) => ({ q, e: pairedEvidence(at(dy, seeds, (p) => p.change[q]!), at(ln, seeds, (p) => p.change[q]!), "matches", "points", rules) })) : [];
  const evidence = parts.length ? allOf(parts.map((p) => p.e)) : undefined;
  const { outcome, reason } = claimOutcome(pre, evidence, rules);
  // The fp32 accuracies frame the drops: a weaker model can lose less simply because it has less to lose.
  const facts = `fp32 test acc LN ${f2(ln.fp32Acc.mean)} %, DyT ${f2(dy.fp32Acc.mean)} %; ` + QUANT_SCHEMES.map((q) => `${q}: drop LN ${f2(ln.drop[q]!.mean)}, DyT ${f2(dy.drop[q]!.mean)} pts`).join("; ");
  const effects = parts.map((p) => `${p.q} ${describeEffect(p.e)}`).join("; ");
  return { verdict: outcome, reason, statement: `${effects ? `DyT's accuracy change − LN's, per scheme: ${effects}. ` : ""}${facts}. ${outcome}: ${reason}.`, ...(evidence ? { evidence } : {}) };
}

export async function runQuantization(ctx: ExperimentContext, override: Partial<QuantizationScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: QuantRecord[]; summary: QuantizationSummary }> {
  const s: QuantizationScale = { ...QUANTIZATION_SCALES[ctx.scale], ...override };
  const seeds = ctx.seeds ?? s.seeds;
  const { records: tuneRecs, picks } = await tuneArms({ experiment: QUANTIZATION, scale: ctx.scale, base: s.base, train: schedule(s), tuning: s.tuning }, s.arms, seeds, ctx, rules);
  const evals = await runJobs(quantizationEvalJobs(s, ctx.scale, seeds, picks), ctx);
  const summary = summarizeQuantization(ctx.scale, [...tuneRecs, ...evals], s.arms, rules);
  saveSummary(QUANTIZATION, ctx.scale, summary);
  return { records: evals.map(withQuant), summary };
}
