/**
 * Claim 3 (paper section 3): in trained models, LayerNorm's input->output map
 * looks tanh-like (S-shaped) in deeper layers and mostly linear in early ones.
 * We train a LayerNorm ViT per seed, capture every LN layer's input/output on
 * a fixed, seeded probe batch at init, mid-training and the end, and fit
 * y ~ k tanh(s x) and a line to the pooled points of each layer.
 */
import * as tf from "@tensorflow/tfjs";
import { loadFashionMnist } from "../data/fashion-mnist";
import { gatherImages, type ImageDataset } from "../data/dataset";
import { captureNorms } from "../hooks/capture";
import { ViT, type ViTConfig } from "../models/vit";
import { NORM_DEFAULTS } from "../norms/factory";
import { evaluate, train, type Model, type TrainConfig, type TrainHook } from "../train/trainer";
import { Rng } from "../util/rng";
import { cachedRun, saveSummary, type ExperimentContext, type RunRecord } from "./runner";
import type { Scale } from "./scale";
import { earlyVsDeep, fitCapture, meanOver, type LayerFit } from "./scurves-fit";
import { meanStd } from "./stats-lite";
import { VIT_SMALL, VIT_MAIN } from "./sizes";
import type { TrainedRunResult } from "./protocol/legacy";

export const SCURVES = "scurves";

/** Which images the captures see: the same ones at every checkpoint and seed. */
export interface ProbeConfig {
  /** Validation images in the probe batch. */
  images: number;
  /** Seed of the image choice and of the token sample. */
  seed: number;
  /** Tokens kept per layer (baselines.md: 256 tokens x all channels). */
  maxRows: number;
}

export interface ScurvesConfig {
  model: Partial<ViTConfig>;
  train: Partial<TrainConfig>;
  seeds: number[];
  /** Training examples used (0 = all 55,000). */
  trainLimit: number;
  testLimit: number;
  probe: ProbeConfig;
  /** Steps after which to capture (0 = at init, before any update; must be 0, steps, or a multiple of logEvery). */
  captureSteps: number[];
  /** Tokens per layer kept for the scatter plots (first seed only). */
  plotTokens: number;
}


export const SCURVES_SCALES: Record<Scale, ScurvesConfig> = {
  smoke: {
    model: { ...VIT_SMALL, norm: "layernorm" },
    train: { steps: 20, batchSize: 32, warmupSteps: 4, evalEvery: 20, evalLimit: 256, logEvery: 5, checkpointEvery: 0, lr: 1e-3 },
    seeds: [1],
    trainLimit: 2000,
    testLimit: 500,
    probe: { images: 16, seed: 7, maxRows: 256 },
    captureSteps: [0, 10, 20],
    plotTokens: 8,
  },
  quick: {
    model: { ...VIT_MAIN, norm: "layernorm" },
    train: { steps: 300, batchSize: 64, warmupSteps: 30, evalEvery: 100, evalLimit: 2000, logEvery: 10, checkpointEvery: 100, lr: 1e-3 },
    seeds: [1, 2],
    trainLimit: 0,
    testLimit: 2000,
    probe: { images: 64, seed: 7, maxRows: 256 },
    captureSteps: [0, 150, 300],
    plotTokens: 16,
  },
  full: {
    model: { ...VIT_MAIN, norm: "layernorm" },
    train: { steps: 600, batchSize: 64, warmupSteps: 50, evalEvery: 200, evalLimit: 2000, logEvery: 10, checkpointEvery: 200, lr: 1e-3 },
    seeds: [1, 2, 3],
    trainLimit: 0,
    testLimit: 0,
    probe: { images: 64, seed: 7, maxRows: 256 },
    captureSteps: [0, 100, 300, 600],
    plotTokens: 16,
  },
};

/** A fixed probe batch: `n` validation images chosen by `seed` (sorted indices), [n, H, W, C]. */
export function probeImages(ds: ImageDataset, n: number, seed: number): tf.Tensor4D {
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`probe: images must be a positive integer, got ${n}`);
  const m = Math.min(n, ds.n);
  const idx = new Rng(seed).permutation(ds.n).slice(0, m).sort();
  return tf.tensor4d(gatherImages(ds, idx), [m, ds.height, ds.width, ds.channels]);
}

export interface ScurvesCapture {
  step: number;
  fits: LayerFit[];
}

export interface ScurvesRunResult extends TrainedRunResult {
  captures: ScurvesCapture[];
}

/** Capture and fit every LN layer of `model` on the probe batch. */
export function captureFits(model: Model, probe: tf.Tensor, cfg: ScurvesConfig, eps: number, plotTokens: number): LayerFit[] {
  const caps = captureNorms(model, probe, { maxRows: cfg.probe.maxRows, seed: cfg.probe.seed });
  return caps.map((c) => fitCapture(c, eps, plotTokens));
}

/** Train one LN ViT and capture S-curves at cfg.captureSteps. */
export async function runScurvesOne(cfg: ScurvesConfig, seed: number, runDir: string | undefined, label: string, withSamples: boolean): Promise<ScurvesRunResult> {
  const steps = cfg.train.steps ?? 0;
  const logEvery = cfg.train.logEvery ?? 10;
  for (const s of cfg.captureSteps)
    if (!(s === 0 || s === steps || (s > 0 && s < steps && s % logEvery === 0)))
      throw new Error(`scurves: capture step ${s} must be 0, ${steps} (the end) or a multiple of logEvery ${logEvery} below it`);
  if (cfg.model.norm && cfg.model.norm !== "layernorm") throw new Error(`scurves: the S-curve analysis is of LayerNorm; set model.norm to "layernorm", got "${cfg.model.norm}"`);
  const trainSet = loadFashionMnist({ split: "train", limit: cfg.trainLimit || undefined });
  const val = loadFashionMnist({ split: "val" });
  const test = loadFashionMnist({ split: "test", limit: cfg.testLimit || undefined });
  const eps = cfg.model.normOptions?.eps ?? NORM_DEFAULTS.layernormEps;
  const model = new ViT({ ...cfg.model, norm: "layernorm", seed });
  const probe = probeImages(val, cfg.probe.images, cfg.probe.seed);
  const plotTokens = withSamples ? cfg.plotTokens : 0;
  try {
    const captures: ScurvesCapture[] = [];
    if (cfg.captureSteps.includes(0)) captures.push({ step: 0, fits: captureFits(model, probe, cfg, eps, plotTokens) });
    // The hook runs after the update of step s, i.e. once s+1 updates are done.
    // Its fits go into the metrics line, so they survive a resume from checkpoint.
    const mid = new Set(cfg.captureSteps.filter((s) => s > 0 && s < steps));
    const hook: TrainHook = {
      name: "scurves",
      onLog(step, m) {
        if (!mid.has(step)) return undefined;
        return { scurves: captureFits(m, probe, cfg, eps, 0) };
      },
    };
    const r = await train(model, { train: trainSet, eval: val }, { ...cfg.train, seed }, { runDir, hooks: [hook], label });
    for (const l of r.log) if (l.scurves) captures.push({ step: l.step, fits: l.scurves as LayerFit[] });
    for (const l of r.log) delete l.scurves; // kept once, in captures
    if (r.status === "completed" && cfg.captureSteps.includes(steps)) captures.push({ step: steps, fits: captureFits(model, probe, cfg, eps, plotTokens) });
    return {
      status: r.status,
      diverged: r.diverged,
      log: r.log,
      evals: r.evals,
      test: r.status === "completed" ? evaluate(model, test, 0, 250) : undefined,
      captures,
      msPerStep: r.msPerStep,
      trainWallTimeSec: r.wallTimeSec,
    };
  } finally {
    probe.dispose();
    model.dispose();
  }
}

/** Per layer and capture step: mean and std over seeds of the fit statistics. */
export interface LayerSummary {
  layer: string;
  block: number | null;
  slot: string;
  step: number;
  n: number;
  deltaR2: { mean: number; std: number };
  r2Tanh: { mean: number; std: number };
  r2Linear: { mean: number; std: number };
  s: { mean: number; std: number };
  k: { mean: number; std: number };
  maxArg: { mean: number; std: number };
  postDeltaR2: { mean: number; std: number };
}

export interface ScurvesSummary {
  experiment: string;
  scale: Scale;
  seeds: number[];
  depth: number;
  captureSteps: number[];
  tokensPerLayer: number;
  layers: LayerSummary[];
  /** Per seed, at the last capture: mean pre-affine deltaR2 of early and deep block norms. */
  earlyDeep: { seed: number; step: number; early: number; deep: number }[];
  /** Mean deltaR2 of norm1 vs norm2 over blocks, per capture step (mean over seeds). */
  slots: { step: number; norm1: number; norm2: number; final: number }[];
  testAcc: { mean: number; std: number; n: number };
  diverged: number;
  verdict: string;
  statement: string;
}

/** Deep-block S-shapedness (deltaR2) above which we call the map clearly tanh-like (tanh explains 1% more variance than a line). */
export const S_SHAPE_MIN_DELTA = 0.01;

export function summarizeScurves(scale: Scale, records: RunRecord<ScurvesConfig, ScurvesRunResult>[]): ScurvesSummary {
  const depth = records[0]?.config.model.depth ?? 0;
  const ok = records.filter((r) => r.result.status === "completed");
  const steps = [...new Set(ok.flatMap((r) => r.result.captures.map((c) => c.step)))].sort((a, b) => a - b);
  const layers: LayerSummary[] = [];
  const ms = (v: number[]) => {
    const m = meanStd(v.filter(Number.isFinite));
    return { mean: m.mean, std: m.std };
  };
  for (const step of steps) {
    const caps = ok.map((r) => r.result.captures.find((c) => c.step === step)).filter((c): c is ScurvesCapture => !!c);
    const names = caps[0]?.fits.map((f) => f.layer) ?? [];
    for (const layer of names) {
      const fs = caps.map((c) => c.fits.find((f) => f.layer === layer)).filter((f): f is LayerFit => !!f);
      layers.push({
        layer,
        block: fs[0]!.block,
        slot: fs[0]!.slot,
        step,
        n: fs.length,
        deltaR2: ms(fs.map((f) => f.pre.deltaR2)),
        r2Tanh: ms(fs.map((f) => f.pre.r2Tanh)),
        r2Linear: ms(fs.map((f) => f.pre.r2Linear)),
        s: ms(fs.map((f) => f.pre.s)),
        k: ms(fs.map((f) => f.pre.k)),
        maxArg: ms(fs.map((f) => f.pre.maxArg)),
        postDeltaR2: ms(fs.map((f) => f.post.deltaR2)),
      });
    }
  }
  const last = steps.at(-1);
  const earlyDeep = depth >= 2 && last !== undefined
    ? ok.flatMap((r) => {
        const c = r.result.captures.find((x) => x.step === last);
        return c ? [{ seed: r.seed, step: last, ...earlyVsDeep(c.fits, depth) }] : [];
      })
    : [];
  const slots = steps.map((step) => {
    const caps = ok.map((r) => r.result.captures.find((c) => c.step === step)).filter((c): c is ScurvesCapture => !!c);
    const avg = (slot: string) => meanStd(caps.map((c) => meanOver(c.fits, (f) => f.slot === slot, (f) => f.pre.deltaR2)).filter(Number.isFinite)).mean;
    return { step, norm1: avg("norm1"), norm2: avg("norm2"), final: avg("final") };
  });
  const testAcc = meanStd(ok.filter((r) => r.result.test).map((r) => 100 * r.result.test!.acc));
  const diverged = records.filter((r) => r.result.status === "diverged").length;
  const { verdict, statement } = scurvesVerdict(earlyDeep, slots, diverged);
  return {
    experiment: SCURVES,
    scale,
    seeds: records.map((r) => r.seed),
    depth,
    captureSteps: steps,
    tokensPerLayer: records[0]?.config.probe.maxRows ?? 0,
    layers,
    earlyDeep,
    slots,
    testAcc,
    diverged,
    verdict,
    statement,
  };
}

/**
 * Verdict rule for claim 3 (stated so it is reproducible): at the end of
 * training, in every seed the deep blocks' mean deltaR2 exceeds the early
 * blocks', and the deep blocks' mean over seeds is >= S_SHAPE_MIN_DELTA.
 * Fewer than 2 trained seeds: not testable.
 */
export function scurvesVerdict(
  earlyDeep: { seed: number; step: number; early: number; deep: number }[],
  slots: { step: number; norm1: number; norm2: number; final: number }[],
  diverged: number,
): { verdict: string; statement: string } {
  const n = earlyDeep.length;
  const f = (v: number) => v.toFixed(4);
  const slotText = (() => {
    const first = slots[0];
    const last = slots.at(-1);
    if (!first || !last) return "";
    return ` Mean deltaR2 by slot, step ${first.step} -> ${last.step}: norm1 ${f(first.norm1)} -> ${f(last.norm1)}, norm2 ${f(first.norm2)} -> ${f(last.norm2)}, final norm ${f(first.final)} -> ${f(last.final)}.`;
  })();
  const div = diverged ? ` ${diverged} run(s) diverged and were left out.` : "";
  if (n < 2) return { verdict: "not testable at this scale", statement: `Only ${n} trained seed(s): the depth trend cannot be separated from seed noise.${slotText}${div}` };
  const deeper = earlyDeep.filter((e) => e.deep > e.early).length;
  const deepMean = earlyDeep.reduce((a, e) => a + e.deep, 0) / n;
  const earlyMean = earlyDeep.reduce((a, e) => a + e.early, 0) / n;
  const core = `S-shapedness (R^2 tanh - R^2 linear, pre-affine) at the end of training: deep blocks ${f(deepMean)}, early blocks ${f(earlyMean)} (mean of ${n} seeds); deep > early in ${deeper}/${n} seeds.`;
  if (deeper === n && deepMean >= S_SHAPE_MIN_DELTA)
    return { verdict: "supported", statement: `${core} Deep-layer LN maps are tanh-like beyond a line (>= ${S_SHAPE_MIN_DELTA}).${slotText}${div}` };
  const why =
    deeper === 0
      ? "the trend is reversed: the early blocks' LN maps are more S-shaped than the deep blocks' in every seed"
      : deeper < n
        ? "the depth trend is not consistent over seeds"
        : `the deep maps are barely bent (deltaR2 < ${S_SHAPE_MIN_DELTA})`;
  return { verdict: "not supported", statement: `${core} Not supported here: ${why}.${slotText}${div}` };
}

/** Train (or load) every seed and summarise. */
export async function runScurves(ctx: ExperimentContext, override: Partial<ScurvesConfig> = {}): Promise<{ records: RunRecord<ScurvesConfig, ScurvesRunResult>[]; summary: ScurvesSummary }> {
  const cfg: ScurvesConfig = { ...SCURVES_SCALES[ctx.scale], ...override };
  const seeds = ctx.seeds ?? cfg.seeds;
  const records: RunRecord<ScurvesConfig, ScurvesRunResult>[] = [];
  for (const [i, seed] of seeds.entries()) {
    const run = `layernorm-s${seed}`;
    const runCfg = { ...cfg, seeds: [seed] };
    // Scatter samples only for the first seed: they are for the figures, and keep the other result files small.
    records.push(await cachedRun(SCURVES, ctx, run, seed, runCfg, (dir) => runScurvesOne(runCfg, seed, dir, `${SCURVES}/${ctx.scale}/${run}`, i === 0)));
  }
  const summary = summarizeScurves(ctx.scale, records);
  saveSummary(SCURVES, ctx.scale, summary);
  return { records, summary };
}
