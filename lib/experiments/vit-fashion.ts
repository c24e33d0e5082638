import { loadFashionMnist } from "../data/fashion-mnist";
import { gatherImages, type ImageDataset } from "../data/dataset";
import * as tf from "@tensorflow/tfjs";
import { alphaTraceHook, readAlphas } from "../hooks/alpha";
import { ViT, type ViTConfig } from "../models/vit";
import type { NormKind } from "../norms/types";
import { evaluate, train, type EvalPoint, type LogLine, type RunStatus, type TrainConfig, type TrainHook } from "../train/trainer";
import { cachedRun, saveSummary, type ExperimentContext, type RunRecord } from "./runner";
import type { Scale } from "./scale";
import { meanStd } from "./stats-lite";
import { VIT_SMALL, VIT_MAIN } from "./sizes";

export const VIT_FASHION = "vit-fashion";

export interface VitFashionConfig {
  model: Partial<ViTConfig>;
  train: Partial<TrainConfig>;
  norms: NormKind[];
  seeds: number[];
  /** Training examples used (0 = all 55,000). */
  trainLimit: number;
  /** Test examples for the final accuracy (0 = all 10,000). */
  testLimit: number;
}

/** Sizes per scale. quick/full: 4-layer, width-64 ViT with 7x7 patches (16 tokens + class token). */
export const VIT_FASHION_SCALES: Record<Scale, VitFashionConfig> = {
  smoke: {
    model: { ...VIT_SMALL },
    train: { steps: 30, batchSize: 32, warmupSteps: 5, evalEvery: 15, evalLimit: 256, logEvery: 5, checkpointEvery: 15, lr: 1e-3 },
    norms: ["layernorm", "dyt"],
    seeds: [1],
    trainLimit: 2000,
    testLimit: 500,
  },
  quick: {
    model: { ...VIT_MAIN },
    train: { steps: 500, batchSize: 64, warmupSteps: 50, evalEvery: 100, evalLimit: 2000, logEvery: 10, checkpointEvery: 100, lr: 1e-3 },
    norms: ["layernorm", "dyt"],
    seeds: [1, 2],
    trainLimit: 0,
    testLimit: 0,
  },
  full: {
    model: { ...VIT_MAIN },
    train: { steps: 3000, batchSize: 64, warmupSteps: 150, evalEvery: 250, evalLimit: 5000, logEvery: 10, checkpointEvery: 250, lr: 1e-3 },
    norms: ["layernorm", "dyt"],
    seeds: [1, 2, 3],
    trainLimit: 0,
    testLimit: 0,
  },
};

/** What every experiment saves of one training run (its own extras come on top). */
export interface TrainedRunResult {
  status: RunStatus;
  diverged?: { step: number; reason: string };
  log: LogLine[];
  evals: EvalPoint[];
  test?: { loss: number; acc: number };
  msPerStep: number;
  trainWallTimeSec: number;
}

export interface VitRunResult extends TrainedRunResult {
  /** DyT alpha per layer at the end of training (DyT models only). */
  finalAlpha?: Record<string, number>;
  /** What the run's prepare step recorded, if it had one. */
  prepared?: Record<string, unknown>;
  params: number;
}

export interface NormSummary {
  norm: NormKind;
  seeds: number[];
  testAcc: { mean: number; std: number; n: number };
  diverged: number;
  wallTimeSec: number;
}

export interface VitFashionSummary {
  experiment: string;
  scale: Scale;
  byNorm: NormSummary[];
  /** DyT minus LayerNorm mean test accuracy, percentage points. */
  diffPoints?: number;
  verdict: string;
  statement: string;
}

let dataCache: { train: ImageDataset; val: ImageDataset; test: ImageDataset; key: string } | undefined;
/** Fashion-MNIST train/val/test for a run, kept in memory across the runs of one process. */
export function fashionSplits(trainLimit: number, testLimit: number): { train: ImageDataset; val: ImageDataset; test: ImageDataset } {
  const key = `${trainLimit}/${testLimit}`;
  if (dataCache?.key !== key) {
    dataCache = {
      key,
      train: loadFashionMnist({ split: "train", limit: trainLimit || undefined }),
      val: loadFashionMnist({ split: "val" }),
      test: loadFashionMnist({ split: "test", limit: testLimit || undefined }),
    };
  }
  return dataCache;
}

/** Number of training images given to a run's prepare step (calibration before training). */
export const CALIBRATION_BATCH = 256;

/** Adjusts a freshly built model before training (e.g. calibrates fixed parameters); may return facts to record. */
export type PrepareModel = (model: ViT, calibration: tf.Tensor) => Record<string, unknown> | undefined;

/**
 * Train one ViT on Fashion-MNIST and evaluate on the test split; `prepare`
 * runs on the new model first; `hooks` observe training next to the alpha trace.
 */
export async function runVitFashionOne(
  cfg: Pick<VitFashionConfig, "model" | "train" | "trainLimit" | "testLimit">,
  norm: NormKind,
  seed: number,
  runDir: string | undefined,
  label: string,
  prepare?: PrepareModel,
  hooks: TrainHook[] = [],
): Promise<VitRunResult> {
  const d = fashionSplits(cfg.trainLimit, cfg.testLimit);
  const model = new ViT({ ...cfg.model, norm, seed });
  try {
    let prepared: Record<string, unknown> | undefined;
    if (prepare) {
      const n = Math.min(CALIBRATION_BATCH, d.train.n);
      const x = tf.tensor4d(gatherImages(d.train, Int32Array.from({ length: n }, (_, i) => i)), [n, d.train.height, d.train.width, d.train.channels]);
      try {
        prepared = prepare(model, x);
      } finally {
        x.dispose();
      }
    }
    const r = await train(model, { train: d.train, eval: d.val }, { ...cfg.train, seed }, { runDir, hooks: [alphaTraceHook(), ...hooks], label });
    const completed = r.status === "completed";
    const alphas = completed ? readAlphas(model) : {};
    return {
      status: r.status,
      diverged: r.diverged,
      log: r.log,
      evals: r.evals,
      test: completed ? evaluate(model, d.test, 0, 250) : undefined,
      params: model.parameterCount(),
      msPerStep: r.msPerStep,
      trainWallTimeSec: r.wallTimeSec,
      ...(Object.keys(alphas).length ? { finalAlpha: alphas } : {}),
      ...(prepared ? { prepared } : {}),
    };
  } finally {
    model.dispose();
  }
}

/**
 * The paper's first experiment in miniature: the same ViT trained with
 * LayerNorm and with DyT (alpha0 0.5), same seeds, same schedule.
 */
export async function runVitFashion(ctx: ExperimentContext, override: Partial<VitFashionConfig> = {}): Promise<{ records: RunRecord<VitFashionConfig, VitRunResult>[]; summary: VitFashionSummary }> {
  const cfg: VitFashionConfig = { ...VIT_FASHION_SCALES[ctx.scale], ...override };
  const seeds = ctx.seeds ?? cfg.seeds;
  const records: RunRecord<VitFashionConfig, VitRunResult>[] = [];
  for (const seed of seeds) {
    for (const norm of cfg.norms) {
      const run = `${norm}-s${seed}`;
      const runCfg = { ...cfg, norms: [norm], seeds: [seed] };
      records.push(await cachedRun(VIT_FASHION, ctx, run, seed, runCfg, (dir) => runVitFashionOne(runCfg, norm, seed, dir, `${VIT_FASHION}/${ctx.scale}/${run}`)));
    }
  }
  const summary = summarizeVitFashion(ctx.scale, records);
  saveSummary(VIT_FASHION, ctx.scale, summary);
  return { records, summary };
}

export function summarizeVitFashion(scale: Scale, records: RunRecord<VitFashionConfig, VitRunResult>[]): VitFashionSummary {
  const norms = [...new Set(records.map((r) => r.config.norms[0]!))];
  const byNorm: NormSummary[] = norms.map((norm) => {
    const rs = records.filter((r) => r.config.norms[0] === norm);
    const accs = rs.filter((r) => r.result.test).map((r) => 100 * r.result.test!.acc);
    return {
      norm,
      seeds: rs.map((r) => r.seed),
      testAcc: meanStd(accs),
      diverged: rs.filter((r) => r.result.status === "diverged").length,
      // Training time including work done before a resume (the record only times its own process).
      wallTimeSec: rs.reduce((a, r) => a + r.result.trainWallTimeSec, 0),
    };
  });
  const ln = byNorm.find((b) => b.norm === "layernorm");
  const dy = byNorm.find((b) => b.norm === "dyt");
  let verdict = "not testable at this scale";
  let statement = "LayerNorm or DyT runs are missing.";
  let diffPoints: number | undefined;
  if (ln && dy && ln.testAcc.n > 0 && dy.testAcc.n > 0) {
    diffPoints = dy.testAcc.mean - ln.testAcc.mean;
    const n = Math.min(ln.testAcc.n, dy.testAcc.n);
    // Noise band: two standard errors of the difference of means (seed-to-seed spread).
    const se = Math.sqrt(ln.testAcc.std ** 2 / ln.testAcc.n + dy.testAcc.std ** 2 / dy.testAcc.n);
    const band = 2 * se;
    const d = diffPoints.toFixed(2);
    if (n < 2) {
      verdict = "not testable at this scale";
      statement = `DyT - LN = ${d} points on one seed; a single seed cannot separate the methods from seed noise.`;
    } else if (diffPoints >= -band) {
      verdict = "supported";
      statement =
        Math.abs(diffPoints) <= band
          ? `DyT matched LayerNorm: DyT - LN = ${d} points, within seed noise (2 SE = ${band.toFixed(2)}) over ${n} seeds.`
          : `DyT exceeded LayerNorm: DyT - LN = ${d} points, beyond seed noise (2 SE = ${band.toFixed(2)}) over ${n} seeds.`;
    } else {
      verdict = "not supported";
      statement = `DyT fell short of LayerNorm: DyT - LN = ${d} points, beyond seed noise (2 SE = ${band.toFixed(2)}) over ${n} seeds.`;
    }
    if (dy.diverged || ln.diverged) statement += ` Diverged runs: LN ${ln.diverged}, DyT ${dy.diverged}.`;
  }
  return { experiment: VIT_FASHION, scale, byNorm, diffPoints, verdict, statement };
}
