/**
 * The DiT training step of `npm run bench -- --model dit` (scripts/bench.ts):
 * the lab's class-conditional DiT (lib/models/dit.ts) at the size
 * dit-ln-dyt trains at full scale, resolved through the experiment's own
 * resolver (resolveDitRun: LayerNorm with adaLN-Zero, DyT as the paper's arm
 * without it), the denoising objective of lib/train/diffusion.ts
 * (diffusionTask: a uniform timestep and Gaussian noise per image, x_t =
 * sqrt(ab_t) x0 + sqrt(1 - ab_t) eps, the eps-prediction MSE), the lab's
 * AdamW with the experiment's weight decay. The same model in PyTorch is
 * bench/torch_bench.py --model dit; both sides print their parameter count
 * and the bench refuses to compare when they differ.
 */
import * as tf from "@tensorflow/tfjs";
import { DiT, type DiTConfig } from "../models/dit";
import { arm } from "../experiments/protocol/arms";
import { resolveDitRun, type DitRunBase } from "../experiments/protocol/dit-task";
import { DIT_SCALES } from "../experiments/dit-ln-dyt/spec";
import { resolveNormOptions } from "../norms/factory";
import type { NormKind } from "../norms/types";
import { AdamW, ADAMW_DEFAULTS } from "../train/adamw";
import { diffusionTask, type DiffusionSchedule } from "../train/diffusion";
import { assertBenchNorm, benchImageSet, checkLabParams, labBenchStep, type BenchStep, type BenchStepModel } from "./step-model";

export interface DiTBenchConfig {
  batch: number;
  imageSize: number;
  channels: number;
  numClasses: number;
  patchSize: number;
  dim: number;
  depth: number;
  heads: number;
  mlpRatio: number;
  /** Sinusoidal frequencies of the timestep embedding. */
  freqDim: number;
  /** AdamW decay on the weight matrices, as dit-ln-dyt trains (0: none). */
  weightDecay: number;
  diffusion: DiffusionSchedule;
}

/** dit-ln-dyt's full-scale DiT on Fashion-MNIST (test/vision-bench.test.ts keeps the two in step). */
export const DIT_BENCH_CONFIG: DiTBenchConfig = {
  batch: 64,
  imageSize: 28,
  channels: 1,
  numClasses: 10,
  patchSize: 4,
  dim: 64,
  depth: 4,
  heads: 4,
  mlpRatio: 4,
  freqDim: 256,
  weightDecay: 0,
  diffusion: { T: 1000, betaStart: 1e-4, betaEnd: 0.02 },
};

/** The bench's norms and the dit-ln-dyt arm that gives each its recipe (DyT: the paper's arm, no adaLN-Zero). */
export const DIT_BENCH_ARMS: Partial<Record<NormKind, string>> = { layernorm: "layernorm", dyt: "dyt-dit" };

/** The image-diffusion base of the bench's config (sampling settings: the experiment's, unused by a training step). */
export function ditBenchBase(c: DiTBenchConfig = DIT_BENCH_CONFIG): DitRunBase {
  const { imageSize, channels, numClasses, patchSize, dim, depth, heads, mlpRatio, freqDim } = c;
  return {
    task: "image-diffusion",
    model: { imageSize, channels, numClasses, patchSize, dim, depth, heads, mlpRatio, freqDim },
    train: { batchSize: c.batch, weightDecay: c.weightDecay },
    data: { trainLimit: 0, testLimit: 0 },
    diffusion: { ...c.diffusion },
    sample: DIT_SCALES.full.base.sample,
  };
}

/** The DiT config the experiment trains for this norm (its arm, seed 0), through resolveDitRun. */
export function ditBenchModelConfig(norm: NormKind, c: DiTBenchConfig = DIT_BENCH_CONFIG): DiTConfig {
  const armId = DIT_BENCH_ARMS[norm];
  if (!armId) throw new Error(`--model dit: no arm for norm "${norm}"`);
  return resolveDitRun(ditBenchBase(c), arm(armId), 0).model;
}

/**
 * Parameters of the model both sides build, counted from its parts (what
 * bench/torch_bench.py's DiT holds): the patch embedding p^2 C x D + bias;
 * the timestep MLP freqDim x D and D x D (with biases); the class table
 * classes x D; per block q|k|v, output, MLP D -> 4D -> D (with biases), the
 * adaLN Linear D x 6D + bias, and two norms; the final layer's norm, adaLN
 * D x 2D + bias and Linear D x p^2 C + bias. The norms have no affine
 * (LayerNorm: nothing; DyT: alpha [1]); the 2-D sin-cos positions are fixed.
 */
export function ditBenchParamCount(norm: NormKind, c: DiTBenchConfig = DIT_BENCH_CONFIG): number {
  const D = c.dim;
  const pc = c.patchSize * c.patchSize * c.channels;
  const h = Math.round(c.mlpRatio * D);
  const n = norm === "dyt" ? 1 : 0;
  const block = D * 3 * D + 3 * D + D * D + D + D * h + h + h * D + D + D * 6 * D + 6 * D + 2 * n;
  const embed = pc * D + D + c.freqDim * D + D + D * D + D + c.numClasses * D;
  return embed + c.depth * block + n + D * 2 * D + 2 * D + D * pc + pc;
}

/**
 * Matmul FLOPs of one forward pass (2 per multiply-add; a training step
 * counts 3x): the patch embedding and the final Linear over B x T tokens
 * (T = (image / patch)^2), the timestep MLP and every adaLN Linear once per
 * image, per block q|k|v, output and MLP over the tokens and both attention
 * products (T x T scores, all heads). The class embedding is a gather.
 */
export function ditForwardMatmulFlops(c: DiTBenchConfig = DIT_BENCH_CONFIG): number {
  const B = c.batch;
  const T = (c.imageSize / c.patchSize) ** 2;
  const N = B * T;
  const D = c.dim;
  const pc = c.patchSize * c.patchSize * c.channels;
  const h = Math.round(c.mlpRatio * D);
  const block = 2 * N * D * (3 * D + D + 2 * h) + 2 * 2 * B * T * T * D + 2 * B * D * 6 * D;
  return 2 * N * pc * D + 2 * B * (c.freqDim * D + D * D) + c.depth * block + 2 * B * D * 2 * D + 2 * N * D * pc;
}

/** The DiT step: model, a fixed batch noised by the task, the eps-MSE objective, AdamW (decay on weights only). */
export function ditBenchStep(norm: NormKind, c: DiTBenchConfig = DIT_BENCH_CONFIG): BenchStep & { model: DiT } {
  assertBenchNorm(DIT_STEP_MODEL, norm);
  const model = new DiT(ditBenchModelConfig(norm, c));
  checkLabParams(DIT_STEP_MODEL, norm, model.parameterCount(), ditBenchParamCount(norm, c), () => model.dispose());
  const data = benchImageSet(c.batch, c.imageSize, c.channels, c.numClasses);
  // The training task draws each image's timestep and noise once here (as the trainer's prepare() per batch).
  const task = diffusionTask(data, data, { schedule: c.diffusion, seed: 0 });
  task.prepare(Int32Array.from({ length: c.batch }, (_, i) => i), c.batch);
  const { x, y } = tf.tidy(() => task.batch());
  const optimizer = new AdamW(model.params, { ...ADAMW_DEFAULTS, weightDecay: c.weightDecay });
  return labBenchStep(model, () => task.objective!(model, x, y, { training: true }), optimizer, [x, y]);
}

export const DIT_STEP_MODEL: BenchStepModel = {
  name: "dit",
  label: "DiT",
  norms: ["layernorm", "dyt"],
  saveName: "dit-step.json",
  sources: { lab: "lib/models/dit.ts", torch: "DiT in bench/torch_bench.py", count: "ditBenchParamCount in lib/bench/dit-step.ts" },
  paramCount: (norm) => ditBenchParamCount(norm),
  step: (norm) => ditBenchStep(norm),
  torchArgs(norm) {
    const c = DIT_BENCH_CONFIG;
    const m = ditBenchModelConfig(norm, c);
    const o = resolveNormOptions(m.norm, { gain: false, bias: false, ...m.normOptions });
    const args = ["--model", "dit", "--batch", String(c.batch), "--image", String(m.imageSize), "--channels", String(m.channels), "--classes", String(m.numClasses)];
    args.push("--patch", String(m.patchSize), "--dim", String(m.dim), "--depth", String(m.depth), "--heads", String(m.heads), "--mlp-ratio", String(m.mlpRatio), "--freq-dim", String(m.freqDim));
    args.push("--diffusion-steps", String(c.diffusion.T), "--beta-start", String(c.diffusion.betaStart), "--beta-end", String(c.diffusion.betaEnd), "--weight-decay", String(c.weightDecay));
    // The norm as the lab resolved it (LayerNorm's eps, DyT's alpha0) and the arm's init (adaLN-Zero or Xavier).
    if (o.eps !== undefined) args.push("--eps", String(o.eps));
    if (o.alpha0 !== undefined) args.push("--alpha0", String(o.alpha0));
    if (m.adaLNZero) args.push("--ada-ln-zero");
    return args;
  },
  facts() {
    const c = DIT_BENCH_CONFIG;
    const T = (c.imageSize / c.patchSize) ** 2;
    return {
      line: `DiT, batch ${c.batch} x ${T} tokens (${c.imageSize}x${c.imageSize}x${c.channels}, patch ${c.patchSize}), width ${c.dim}, ${c.heads} heads, depth ${c.depth}, adaLN, ${c.numClasses} classes; eps-prediction MSE over ${c.diffusion.T} diffusion steps`,
      flopsPerStep: 3 * ditForwardMatmulFlops(c),
      config: c,
    };
  },
};
