/**
 * Reviewer study: do DyT models have fewer activation outliers than LN
 * models, and do they survive post-training quantisation better?
 *
 * For each trained model (same ViT, budget and seeds per norm):
 *   1. capture the inputs of every block's q/k/v (= norm1 output in pre-norm),
 *      Wo and fc1 on a fixed test batch, through the Linear input hook;
 *   2. LLM.int8 outlier features (|x| >= 6) and the RMS-relative variant
 *      (|x| >= 6 RMS), max|X|/RMS and kurtosis per tensor (lib/analysis);
 *   3. post-training fake quantisation of every block Linear (weights and
 *      inputs; norms, softmax, residuals, embedding and head stay fp32) and
 *      the test accuracy under each scheme.
 */
import * as tf from "@tensorflow/tfjs";
import { loadFashionMnist } from "../data/fashion-mnist";
import { gatherImages, type ImageDataset } from "../data/dataset";
import { outlierFeatures, type FeatureMatrix } from "../analysis/outliers";
import { fakeQuantFp8, fakeQuantInt8 } from "../analysis/quant";
import { ViT } from "../models/vit";
import type { ForwardOptions } from "../models/transformer";
import { assertNormKind } from "../norms/factory";
import type { NormKind } from "../norms/types";
import { evaluate, train, type RunStatus } from "../train/trainer";
// The pre-protocol norm-free setup (norm-free moved onto the protocol; this import goes when quantization does too).
import { NORM_FREE, NORM_FREE_V1_SCALES as NORM_FREE_SCALES, vitRunSetup } from "./norm-free";
import { cachedRun, runDirFor, saveSummary, type ExperimentContext, type RunRecord } from "./runner";
import type { Scale } from "./scale";
import { meanStd } from "./stats-lite";
import { VIT_SMALL } from "./sizes";
import type { VitFashionConfig } from "./protocol/legacy";

export const QUANTIZATION = "quantization";

/** Post-training fake-quantisation schemes for the block Linears (baselines.md, fake quantisation). */
export const QUANT_SCHEMES = ["w8a8-tensor", "w8a8-channel", "w8a8-token", "fp8-e4m3", "fp8-e5m2"] as const;
export type QuantScheme = (typeof QUANT_SCHEMES)[number];
export const QUANT_SCHEME_INFO: Record<QuantScheme, string> = {
  "w8a8-tensor": "int8 weights per tensor, int8 inputs per tensor (dynamic)",
  "w8a8-channel": "int8 weights per output channel, int8 inputs per tensor (dynamic)",
  "w8a8-token": "int8 weights per output channel, int8 inputs per token (dynamic)",
  "fp8-e4m3": "FP8 E4M3FN weights and inputs, per-tensor scale amax/448",
  "fp8-e5m2": "FP8 E5M2 weights and inputs, per-tensor scale amax/57344",
};

/** The tracked Linears of a block (LLM.int8 protocol: skip fc2's input and the attention internals). */
export const TRACKED = ["attn.qkv", "attn.proj", "mlp.fc1"] as const;

/** A vit-fashion config (testLimit: test images for fp32 and quantised accuracy) plus the capture size. */
export interface QuantizationConfig extends VitFashionConfig {
  /** Test images in the activation-capture batch. */
  captureImages: number;
}

/**
 * quick/full train exactly the LN and DyT models of the norm-free experiment
 * at the same scale (same model, recipe, data, seeds), so the run directory
 * is shared: whichever experiment runs first trains, the other resumes from
 * the final checkpoint and spends no extra compute.
 */
export const QUANTIZATION_SCALES: Record<Scale, QuantizationConfig> = {
  smoke: {
    model: { ...VIT_SMALL },
    train: { steps: 12, batchSize: 32, warmupSteps: 3, evalEvery: 12, evalLimit: 128, logEvery: 4, checkpointEvery: 0, lr: 1e-3 },
    norms: ["layernorm", "dyt"],
    seeds: [1],
    trainLimit: 1000,
    testLimit: 250,
    captureImages: 32,
  },
  quick: {
    model: NORM_FREE_SCALES.quick.model,
    train: NORM_FREE_SCALES.quick.train,
    norms: ["layernorm", "dyt"],
    seeds: [1, 2],
    trainLimit: NORM_FREE_SCALES.quick.trainLimit,
    testLimit: 2000,
    captureImages: 128,
  },
  full: {
    model: NORM_FREE_SCALES.full.model,
    train: NORM_FREE_SCALES.full.train,
    norms: ["layernorm", "dyt"],
    seeds: [1, 2, 3],
    trainLimit: NORM_FREE_SCALES.full.trainLimit,
    testLimit: 5000,
    captureImages: 256,
  },
};

/** The norm-free run directory holding the same training run, when the training setup is identical. */
export function sharedTrainingDir(scale: Scale, cfg: QuantizationConfig, norm: NormKind, seed: number): string | undefined {
  const nf = NORM_FREE_SCALES[scale];
  const same = JSON.stringify([cfg.model, cfg.train, cfg.trainLimit]) === JSON.stringify([nf.model, nf.train, nf.trainLimit]);
  return same && (norm === "layernorm" || norm === "dyt" || norm === "rmsnorm") ? runDirFor(NORM_FREE, scale, `${norm}-s${seed}`) : undefined;
}

export interface TensorStats {
  layer: number;
  tensor: string;
  maxAbs: number;
  rms: number;
  maxOverRms: number;
  kurtosis: number;
}

export interface OutlierSummary {
  count: number;
  features: number[];
}

export interface QuantRunResult {
  status: RunStatus;
  diverged?: { step: number; reason: string };
  /** fp32 test accuracy (fraction). */
  fp32Acc?: number;
  /** Test accuracy (fraction) per scheme. */
  quantAcc: Partial<Record<QuantScheme, number>>;
  outliersAbs?: OutlierSummary;
  outliersRel?: OutlierSummary;
  tensors: TensorStats[];
  trainWallTimeSec: number;
}

/** Forward hooks that fake-quantise every block Linear's weight and input under `scheme`. */
export function quantHooks(scheme: QuantScheme): ForwardOptions {
  const inBlock = (name: string) => name.startsWith("blocks.");
  const q = (kind: "weight" | "input") => (name: string, t: tf.Tensor): tf.Tensor | void => {
    if (!inBlock(name)) return;
    switch (scheme) {
      case "w8a8-tensor":
        return fakeQuantInt8(t);
      case "w8a8-channel":
        // Kernel [in, out]: one scale per output channel = amax over axis 0.
        return kind === "weight" ? fakeQuantInt8(t, { amaxAxis: 0 }) : fakeQuantInt8(t);
      case "w8a8-token":
        return kind === "weight" ? fakeQuantInt8(t, { amaxAxis: 0 }) : fakeQuantInt8(t, { amaxAxis: -1 });
      case "fp8-e4m3":
        return fakeQuantFp8(t, "e4m3fn");
      case "fp8-e5m2":
        return fakeQuantFp8(t, "e5m2");
    }
  };
  return { linearWeight: q("weight"), linearInput: q("input") };
}

/** Inputs of the tracked Linears on one batch, grouped per block: layers[l] = [qkv, proj, fc1]. */
export function captureLinearInputs(model: ViT, images: tf.Tensor): FeatureMatrix[][] {
  const layers: FeatureMatrix[][] = model.blocks.map(() => []);
  const y = model.forward(images, {
    linearInput(name, x) {
      const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
      if (!m || !(TRACKED as readonly string[]).includes(m[2]!)) return;
      const C = x.shape[x.rank - 1]!;
      layers[Number(m[1])]!.push({ data: x.dataSync().slice(), positions: x.size / C, features: C });
    },
  });
  y.dispose();
  return layers;
}

let dataCache: { train: ImageDataset; val: ImageDataset; test: ImageDataset; key: string } | undefined;
function data(trainLimit: number, testLimit: number) {
  const key = `${trainLimit}/${testLimit}`;
  if (dataCache?.key !== key)
    dataCache = {
      key,
      train: loadFashionMnist({ split: "train", limit: trainLimit || undefined }),
      val: loadFashionMnist({ split: "val" }),
      test: loadFashionMnist({ split: "test", limit: testLimit || undefined }),
    };
  return dataCache;
}

/** Train one model, then measure outliers and quantised accuracy on it. */
export async function runQuantizationOne(cfg: QuantizationConfig, norm: NormKind, seed: number, runDir: string | undefined, label: string): Promise<QuantRunResult> {
  const d = data(cfg.trainLimit, cfg.testLimit);
  const model = new ViT({ ...cfg.model, norm, seed });
  try {
    const r = await train(model, { train: d.train, eval: d.val }, { ...cfg.train, seed }, { runDir, label });
    const base: QuantRunResult = { status: r.status, diverged: r.diverged, quantAcc: {}, tensors: [], trainWallTimeSec: r.wallTimeSec };
    if (r.status !== "completed") return base;
    const n = Math.min(cfg.captureImages, d.test.n);
    const images = tf.tensor4d(gatherImages(d.test, Int32Array.from({ length: n }, (_, i) => i)), [n, d.test.height, d.test.width, d.test.channels]);
    const layers = captureLinearInputs(model, images);
    images.dispose();
    const abs = outlierFeatures(layers);
    const rel = outlierFeatures(layers, { relative: true });
    base.outliersAbs = { count: abs.count, features: abs.outliers };
    base.outliersRel = { count: rel.count, features: rel.outliers };
    base.tensors = abs.tensors.map((t) => ({ layer: t.layer, tensor: TRACKED[t.index] ?? String(t.index), maxAbs: t.maxAbs, rms: t.rms, maxOverRms: t.maxOverRms, kurtosis: t.kurtosis }));
    base.fp32Acc = evaluate(model, d.test, 0, 250).acc;
    for (const scheme of QUANT_SCHEMES) base.quantAcc[scheme] = evaluate(model, d.test, 0, 250, quantHooks(scheme)).acc;
    return base;
  } finally {
    model.dispose();
  }
}

export interface QuantNormSummary {
  norm: NormKind;
  seeds: number[];
  diverged: number;
  fp32Acc: { mean: number; std: number; n: number };
  /** Accuracy drop (fp32 - quantised), percentage points, per scheme. */
  drop: Record<string, { mean: number; std: number; n: number }>;
  outliersAbs: { mean: number; std: number; n: number };
  outliersRel: { mean: number; std: number; n: number };
  /** Mean over tracked tensors of kurtosis, then over seeds. */
  kurtosis: { mean: number; std: number; n: number };
  /** Max over tracked tensors of max|X|/RMS, then mean over seeds. */
  maxOverRms: { mean: number; std: number; n: number };
}

export interface QuantVerdict {
  verdict: string;
  statement: string;
}

export interface QuantizationSummary {
  experiment: string;
  scale: Scale;
  /** The models and budget the verdicts hold for. */
  setup: string;
  byNorm: QuantNormSummary[];
  outliers: QuantVerdict;
  quantization: QuantVerdict;
  /** The quantisation verdict (the headline); the outlier verdict is in `outliers`. */
  verdict: string;
  statement: string;
}

export async function runQuantization(
  ctx: ExperimentContext,
  override: Partial<QuantizationConfig> = {},
): Promise<{ records: RunRecord<QuantizationConfig, QuantRunResult>[]; summary: QuantizationSummary }> {
  const cfg: QuantizationConfig = { ...QUANTIZATION_SCALES[ctx.scale], ...override };
  cfg.norms.forEach((n) => assertNormKind(n));
  const seeds = ctx.seeds ?? cfg.seeds;
  const records: RunRecord<QuantizationConfig, QuantRunResult>[] = [];
  for (const seed of seeds)
    for (const norm of cfg.norms) {
      const run = `${norm}-s${seed}`;
      const runCfg = { ...cfg, norms: [norm], seeds: [seed] };
      const shared = sharedTrainingDir(ctx.scale, runCfg, norm, seed);
      records.push(await cachedRun(QUANTIZATION, ctx, run, seed, runCfg, (dir) => runQuantizationOne(runCfg, norm, seed, shared ?? dir, `${QUANTIZATION}/${ctx.scale}/${run}`)));
    }
  const summary = summarizeQuantization(ctx.scale, records);
  saveSummary(QUANTIZATION, ctx.scale, summary);
  return { records, summary };
}

export function summarizeQuantization(scale: Scale, records: RunRecord<QuantizationConfig, QuantRunResult>[]): QuantizationSummary {
  const norms = [...new Set(records.map((r) => r.config.norms[0]!))];
  const byNorm: QuantNormSummary[] = norms.map((norm) => {
    const rs = records.filter((r) => r.config.norms[0] === norm);
    const ok = rs.filter((r) => r.result.fp32Acc !== undefined);
    const drop: QuantNormSummary["drop"] = {};
    for (const s of QUANT_SCHEMES) drop[s] = meanStd(ok.filter((r) => r.result.quantAcc[s] !== undefined).map((r) => 100 * (r.result.fp32Acc! - r.result.quantAcc[s]!)));
    return {
      norm,
      seeds: rs.map((r) => r.seed),
      diverged: rs.filter((r) => r.result.status === "diverged").length,
      fp32Acc: meanStd(ok.map((r) => 100 * r.result.fp32Acc!)),
      drop,
      outliersAbs: meanStd(ok.map((r) => r.result.outliersAbs!.count)),
      outliersRel: meanStd(ok.map((r) => r.result.outliersRel!.count)),
      kurtosis: meanStd(ok.map((r) => r.result.tensors.reduce((a, t) => a + t.kurtosis, 0) / Math.max(1, r.result.tensors.length))),
      maxOverRms: meanStd(ok.map((r) => Math.max(...r.result.tensors.map((t) => t.maxOverRms)))),
    };
  });
  const ln = byNorm.find((b) => b.norm === "layernorm");
  const dy = byNorm.find((b) => b.norm === "dyt");
  const outliers = outlierVerdict(ln, dy);
  const quantization = quantVerdict(ln, dy);
  return {
    experiment: QUANTIZATION,
    scale,
    setup: vitRunSetup(records[0]?.config),
    byNorm,
    outliers,
    quantization,
    verdict: quantization.verdict,
    statement: `Quantisation (${quantization.verdict}): ${quantization.statement} Outliers (${outliers.verdict}): ${outliers.statement}`,
  };
}

const band2se = (a: { std: number; n: number }, b: { std: number; n: number }) => 2 * Math.sqrt(a.std ** 2 / a.n + b.std ** 2 / b.n);

/** Does DyT show smaller activation outliers (kurtosis of the tracked Linear inputs) than LN, beyond seed noise? */
export function outlierVerdict(ln: QuantNormSummary | undefined, dy: QuantNormSummary | undefined): QuantVerdict {
  if (!ln || !dy || ln.kurtosis.n === 0 || dy.kurtosis.n === 0) return { verdict: "not testable at this scale", statement: "LayerNorm or DyT runs are missing (or all diverged)." };
  const diff = dy.kurtosis.mean - ln.kurtosis.mean;
  const band = band2se(ln.kurtosis, dy.kurtosis);
  const facts =
    `mean kurtosis of q/k/v, Wo, fc1 inputs: LN ${ln.kurtosis.mean.toFixed(2)}, DyT ${dy.kurtosis.mean.toFixed(2)} (2 SE ${band.toFixed(2)}); ` +
    `max|X|/RMS: LN ${ln.maxOverRms.mean.toFixed(1)}, DyT ${dy.maxOverRms.mean.toFixed(1)}; ` +
    `outlier features |x|>=6: LN ${ln.outliersAbs.mean.toFixed(1)}, DyT ${dy.outliersAbs.mean.toFixed(1)}; >=6 RMS: LN ${ln.outliersRel.mean.toFixed(1)}, DyT ${dy.outliersRel.mean.toFixed(1)}`;
  const n = Math.min(ln.kurtosis.n, dy.kurtosis.n);
  if (n < 2) return { verdict: "not testable at this scale", statement: `One seed cannot separate the norms from seed noise; ${facts}.` };
  const verdict = diff < -band ? "supported" : "not supported";
  const why = diff < -band ? "DyT's Linear inputs are less heavy-tailed than LN's" : diff > band ? "DyT's Linear inputs are MORE heavy-tailed than LN's" : "no kurtosis difference beyond seed noise";
  return { verdict, statement: `${why} (n = ${n} seeds): ${facts}.` };
}

/** Does DyT lose no more accuracy than LN under every post-training quantisation scheme? */
export function quantVerdict(ln: QuantNormSummary | undefined, dy: QuantNormSummary | undefined): QuantVerdict {
  if (!ln || !dy || ln.fp32Acc.n === 0 || dy.fp32Acc.n === 0) return { verdict: "not testable at this scale", statement: "LayerNorm or DyT runs are missing (or all diverged)." };
  const n = Math.min(ln.fp32Acc.n, dy.fp32Acc.n);
  // Band: two standard errors over seeds, floored at 0.1 point (a handful of
  // test images) so near-zero drops with near-zero spread do not decide.
  const parts = QUANT_SCHEMES.map((s) => {
    const a = ln.drop[s]!;
    const b = dy.drop[s]!;
    const band = Math.max(0.1, band2se(a, b));
    const diff = b.mean - a.mean;
    return { s, diff, band, worse: diff > band, text: `${s}: drop LN ${a.mean.toFixed(2)}, DyT ${b.mean.toFixed(2)} pts (band ${band.toFixed(2)})` };
  });
  // The fp32 accuracies frame the drops: a weaker model can lose less simply because it has less to lose.
  const facts = `fp32 test acc LN ${ln.fp32Acc.mean.toFixed(2)}%, DyT ${dy.fp32Acc.mean.toFixed(2)}%; ` + parts.map((p) => p.text).join("; ");
  if (n < 2) return { verdict: "not testable at this scale", statement: `One seed cannot separate the norms from seed noise; ${facts}.` };
  const worse = parts.filter((p) => p.worse).map((p) => p.s);
  return worse.length === 0
    ? { verdict: "supported", statement: `DyT loses no more accuracy than LN under any scheme (n = ${n} seeds): ${facts}.` }
    : { verdict: "not supported", statement: `DyT loses more accuracy than LN under ${worse.join(", ")} (n = ${n} seeds): ${facts}.` };
}
