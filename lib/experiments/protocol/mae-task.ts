/**
 * The masked-autoencoder path of the runner (task "image-mae"): an MAE
 * (lib/models/mae.ts; the lab's ViT as encoder, a light decoder) with every
 * norm slot of encoder and decoder filled by the arm, pretrained on
 * Fashion-MNIST's training images without labels (lib/train/mae-task.ts),
 * scored during training on the validation split's masked-reconstruction
 * loss (lr tuning, plateau). After pretraining:
 *  - `pretrainTest`: the test split's reconstruction loss (fixed masks);
 *  - `probe`: a linear probe (lib/train/probe.ts) on the frozen encoder's
 *    mean-pooled tokens of all patches, on the first `probe.trainLimit`
 *    labelled training images, scored on the test split; the same probe on
 *    the encoder at initialisation (same seed) is its reference;
 *  - fine-tuning: the encoder (a ViT, its head fresh) trained on the first
 *    `finetune.trainLimit` labelled training images at each lr of
 *    `finetune.lrs` from the same pretrained weights; the lr with the best
 *    validation accuracy is kept and its test accuracy is the run's `test`
 *    (the paper's MAE metric is fine-tuned top-1);
 *  - reconstructions of the first `keepImages` test images (original,
 *    masked input, output with each hidden patch's own mean and std put
 *    back, as MAE shows them), 8-bit, for the figure.
 * `resolveMaeRun` writes every default out, so the resolved config is a
 * complete cache key, as for the other tasks.
 */
import * as tf from "@tensorflow/tfjs";
import { firstExamples, gatherImages, type ImageDataset } from "../../data/dataset";
import { alphaTraceHook } from "../../hooks/alpha";
import { MAE, MAE_DEFAULTS, drawMaeMask, resolveMAEConfig, type MAEConfig } from "../../models/mae";
import { ViT } from "../../models/vit";
import { resolveNormOptions } from "../../norms/factory";
import type { NormOptions } from "../../norms/types";
import { evaluateMae, maeTask } from "../../train/mae-task";
import { extractFeatures, linearProbeImages, type ProbeResult } from "../../train/probe";
import { batchSeed } from "../../train/speech-task";
import { evaluate, train, TRAIN_DEFAULTS, validateTrainConfig, type TrainConfig } from "../../train/trainer";
import { Rng } from "../../util/rng";
import type { Arm } from "./arms";
import { trainedFields } from "./trained";
// task.ts imports this module: only call-time uses of its exports here (no import cycle at load time).
import { fashionSplits, type TrainedRunResult } from "./task";

export interface MaeDataConfig {
  dataset: "fashion-mnist";
  /** Pretraining images: the first N of the 55,000 training images, labels unused (0 = all). */
  trainLimit: number;
  /** Test images for the reconstruction loss, the probe and the fine-tuned accuracy (0 = all 10,000). */
  testLimit: number;
}

export interface MaeProbeConfig {
  /** Labelled training images of the probe: the first N (0 = all of the pretraining images). */
  trainLimit: number;
  steps: number;
  lr: number;
  l2: number;
  batchSize: number;
  /** Also probe the encoder at initialisation (same seed). */
  init: boolean;
}

export interface MaeFinetuneConfig {
  /** Labelled training images: the first N of the training split. */
  trainLimit: number;
  epochs: number;
  /** Each run fine-tunes at every lr here and keeps the one with the best validation accuracy. */
  lrs: number[];
  batchSize: number;
  weightDecay: number;
}

export const MAE_PROBE_DEFAULTS: MaeProbeConfig = { trainLimit: 10_000, steps: 300, lr: 0.05, l2: 1e-3, batchSize: 250, init: true };

/** Everything that determines an MAE run's result, every default written out: the cache key and the saved config. */
export interface MaeResolvedRun {
  task: "image-mae";
  arm: string;
  data: MaeDataConfig;
  model: MAEConfig;
  normResolved: NormOptions;
  /** Pretraining. */
  train: TrainConfig;
  probe: MaeProbeConfig;
  finetune: MaeFinetuneConfig;
  /** Test images whose reconstructions the record keeps. */
  keepImages: number;
}

export interface MaeRunBase {
  task: "image-mae";
  model: Partial<MAEConfig>;
  train: Partial<TrainConfig>;
  data: Omit<MaeDataConfig, "dataset">;
  probe?: Partial<MaeProbeConfig>;
  finetune: MaeFinetuneConfig;
  keepImages: number;
}

export interface MaeProbeResult extends ProbeResult {
  nTrain: number;
  nTest: number;
  featureDim: number;
  init?: ProbeResult;
}

export interface MaeFinetuneResult {
  /** Per grid lr: final validation accuracy and status. */
  grid: { lr: number; valAcc: number | null; status: string }[];
  bestLr: number;
  /** The kept lr's test loss and accuracy (also the run's `test`). */
  test: { loss: number; acc: number };
  steps: number;
}

export interface MaeRunResult extends TrainedRunResult {
  finalAlpha?: Record<string, number>;
  params: number;
  /** Completed runs: the test reconstruction loss (acc: share of the hidden pixels' second moment explained). */
  pretrainTest?: { loss: number; acc: number };
  probe?: MaeProbeResult;
  finetune?: MaeFinetuneResult;
  /** keepImages x [original | masked input | reconstruction], 8-bit (0..255 over each image's min..max), base64. */
  recon?: { n: number; size: number; pixels: string };
}

export function isMaeBase(b: object): b is MaeRunBase {
  return (b as Partial<MaeRunBase>).task === "image-mae";
}

/** The fully resolved config of arm `a` at `seed` on an MAE base. */
export function resolveMaeRun(base: MaeRunBase, a: Arm, seed: number, overrides: { lr?: number; model?: Partial<MAEConfig>; train?: Partial<TrainConfig> } = {}): MaeResolvedRun {
  if (a.lm) throw new Error(`arm "${a.id}" is a language-model arm; an MAE run needs a vision arm (e.g. "${a.norm}")`);
  if (a.method || a.placement || a.dit) throw new Error(`arm "${a.id}" sets a residual method, a placement or DiT settings; MAE runs take norm arms`);
  const model = resolveMAEConfig({ ...base.model, ...overrides.model, norm: a.norm, normOptions: { ...base.model.normOptions, ...overrides.model?.normOptions, ...a.normOptions }, seed });
  const enc = { ...MAE_DEFAULTS.encoder, ...model.encoder };
  if (enc.imageSize !== 28 || enc.channels !== 1 || (enc.numClasses ?? 10) !== 10) throw new Error(`MAE task: the encoder's image (${enc.imageSize} px, ${enc.channels} ch, ${enc.numClasses ?? 10} classes) does not fit Fashion-MNIST (28 px, 1 ch, 10 classes)`);
  const trainCfg: TrainConfig = { ...TRAIN_DEFAULTS, ...base.train, ...a.train, ...overrides.train, seed };
  if (overrides.lr !== undefined) trainCfg.lr = overrides.lr;
  validateTrainConfig(trainCfg);
  const f = base.finetune;
  if (f.lrs.length === 0 || f.lrs.some((x) => !(x > 0))) throw new Error(`MAE task: finetune.lrs must be positive learning rates, got [${f.lrs.join(", ")}]`);
  if (!(f.epochs > 0) || !(f.trainLimit > 0)) throw new Error(`MAE task: finetune needs epochs > 0 and trainLimit > 0, got ${f.epochs} and ${f.trainLimit}`);
  return {
    task: "image-mae",
    arm: a.id,
    data: { dataset: "fashion-mnist", trainLimit: base.data.trainLimit, testLimit: base.data.testLimit },
    model,
    normResolved: resolveNormOptions(model.norm, model.normOptions),
    train: trainCfg,
    probe: { ...MAE_PROBE_DEFAULTS, ...base.probe },
    finetune: { ...f, lrs: [...f.lrs] },
    keepImages: base.keepImages,
  };
}

/** Pretraining images of an MAE base (for epochs -> steps). */
export function maeTrainSize(d: Pick<MaeDataConfig, "trainLimit">): number {
  return d.trainLimit > 0 ? Math.min(d.trainLimit, 55_000) : 55_000;
}

export function describeMaeBase(base: MaeRunBase, epochs: number, steps: number): string {
  const m = resolveMAEConfig(base.model);
  const e = { ...MAE_DEFAULTS.encoder, ...m.encoder };
  const f = base.finetune;
  return `MAE: ViT encoder width ${e.dim}, depth ${e.depth}, ${e.patchSize}×${e.patchSize} patches; decoder width ${m.decoderDim}, depth ${m.decoderDepth}; ${100 * m.maskRatio} % masked${m.normPixLoss ? ", per-patch normalised targets" : ""}; pretrained on ${maeTrainSize(base.data).toLocaleString("en")} Fashion-MNIST images for ${epochs} epoch(s) (${steps} steps, batch ${base.train.batchSize ?? TRAIN_DEFAULTS.batchSize}), AdamW, 5 % warmup + cosine; then a linear probe on the frozen encoder's mean-pooled tokens and fine-tuning on the first ${f.trainLimit.toLocaleString("en")} labelled images for ${f.epochs} epoch(s) at the best of lr ${f.lrs.join(", ")} on validation`;
}

/** Per-image min..max scaled to 0..255. */
function bytesOf(img: Float32Array): Uint8Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of img) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const s = hi > lo ? 255 / (hi - lo) : 0;
  return Uint8Array.from(img, (v) => Math.round((v - lo) * s));
}

/** Original, masked input (hidden patches at the image's minimum) and reconstruction of the first n test images, each [H*W]. */
export function reconstructions(mae: MAE, ds: ImageDataset, n: number, seed: number): Float32Array[][] {
  const e = mae.encoder.config;
  const H = e.imageSize;
  const p = e.patchSize;
  const g = H / p;
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const x = gatherImages(ds, idx);
  const visible = drawMaeMask(n, mae.numPatches, mae.keep, new Rng(batchSeed(seed, [0])));
  const { pred, hiddenMask } = tf.tidy(() => {
    const o = mae.reconstruct(tf.tensor4d(x, [n, H, H, e.channels]), visible);
    let out: tf.Tensor = o.pred;
    if (mae.config.normPixLoss) {
      // MAE's visualisation: each predicted patch gets the true patch's mean and std back.
      const { mean, variance } = tf.moments(mae.patches(tf.tensor4d(x, [n, H, H, e.channels])), -1, true);
      out = tf.add(tf.mul(o.pred, tf.sqrt(tf.add(variance, 1e-6))), mean);
    }
    return { pred: out.arraySync() as number[][][], hiddenMask: o.mask.arraySync() };
  });
  const toImage = (patches: (k: number, j: number) => number): Float32Array => {
    const img = new Float32Array(H * H);
    for (let k = 0; k < g * g; k++)
      for (let j = 0; j < p * p; j++) img[(Math.floor(k / g) * p + Math.floor(j / p)) * H + (k % g) * p + (j % p)] = patches(k, j);
    return img;
  };
  return Array.from({ length: n }, (_, i) => {
    const orig = x.subarray(i * H * H, (i + 1) * H * H);
    const lo = Math.min(...orig);
    const at = (k: number, j: number) => orig[(Math.floor(k / g) * p + Math.floor(j / p)) * H + (k % g) * p + (j % p)]!;
    const masked = toImage((k, j) => (hiddenMask[i]![k] ? lo : at(k, j)));
    const rec = toImage((k, j) => (hiddenMask[i]![k] ? pred[i]![k]![j]! : at(k, j)));
    return [Float32Array.from(orig), masked, rec];
  });
}

/** The record's reconstructions as images in [0, 1]: [image][original | masked | reconstruction] -> H*W floats. */
export function reconImages(r: NonNullable<MaeRunResult["recon"]>): Float32Array[][] {
  const u8 = Buffer.from(r.pixels, "base64");
  const ex = r.size * r.size;
  return Array.from({ length: r.n }, (_, i) => Array.from({ length: 3 }, (_, k) => Float32Array.from(u8.subarray((i * 3 + k) * ex, (i * 3 + k + 1) * ex), (v) => v / 255)));
}


/** Linear probe on frozen mean-pooled encoder tokens (all patches visible). */
function probeEncoder(mae: MAE, p: MaeProbeConfig, tr: ImageDataset, te: ImageDataset): ProbeResult & { featureDim: number } {
  const e = mae.encoder.config;
  const size = e.imageSize * e.imageSize * e.channels;
  const enc = { forward: (x: tf.Tensor) => mae.encodeAll(x.reshape([x.shape[0]!, e.imageSize, e.imageSize, e.channels])) };
  return linearProbeImages((ds) => extractFeatures(enc, ds.images, ds.n, size, { batchSize: p.batchSize }), tr, te, p);
}

/** Fine-tune copies of the pretrained encoder at each grid lr; keep the best on validation. */
async function finetune(mae: MAE, r: MaeResolvedRun, d: { train: ImageDataset; val: ImageDataset; test: ImageDataset }, label: string): Promise<MaeFinetuneResult> {
  const f = r.finetune;
  const tr = firstExamples(d.train, f.trainLimit);
  const steps = Math.ceil((f.epochs * tr.n) / f.batchSize);
  const every = Math.max(1, Math.round(steps / 4));
  const grid: MaeFinetuneResult["grid"] = [];
  let best: { lr: number; acc: number; test: { loss: number; acc: number } } | undefined;
  for (const lr of f.lrs) {
    // The encoder's config and seed (a fresh head, as MAE fine-tuning adds one), then the pretrained weights.
    const vit = new ViT(mae.encoder.config);
    try {
      mae.encoder.params.forEach((p, i) => {
        // A copy of the data: an optimiser that updates in place must not reach the pretrained weights.
        if (!p.name.startsWith("head.")) tf.tidy(() => vit.params[i]!.variable.assign(tf.tensor((p.variable.dataSync() as Float32Array).slice(), p.variable.shape)));
      });
      const cfg: TrainConfig = { ...TRAIN_DEFAULTS, steps, batchSize: f.batchSize, lr, weightDecay: f.weightDecay, warmupSteps: Math.max(1, Math.round(steps / 20)), evalEvery: every, checkpointEvery: 0, logEvery: every, evalLimit: r.train.evalLimit, evalBatchSize: r.train.evalBatchSize, seed: r.train.seed };
      const res = await train(vit, { train: tr, eval: d.val }, cfg, { label: `${label}/finetune-${lr}`, progress: false });
      const acc = res.status === "completed" ? res.final!.acc : null;
      grid.push({ lr, valAcc: acc, status: res.status });
      if (acc !== null && (!best || acc > best.acc)) best = { lr, acc, test: evaluate(vit, d.test, 0, r.train.evalBatchSize) };
    } finally {
      vit.dispose();
    }
  }
  return { grid, bestLr: best?.lr ?? NaN, test: best?.test ?? { loss: NaN, acc: NaN }, steps };
}

/** Pretrain one MAE, then score it: reconstruction, probe, fine-tuning (see the header). */
export async function runMaeTask(r: MaeResolvedRun, runDir: string | undefined, label: string): Promise<MaeRunResult> {
  const all = fashionSplits(r.data.trainLimit, 0);
  const d = { ...all, test: firstExamples(all.test, r.data.testLimit) };
  const model = new MAE(r.model);
  try {
    const res = await train(model, maeTask(d.train, d.val, { seed: r.train.seed }), r.train, { runDir, hooks: [alphaTraceHook()], label });
    if (res.status !== "completed") return trainedFields(res, model);
    const pretrainTest = evaluateMae(model, d.test, 0, r.train.evalBatchSize);
    const ptr = firstExamples(d.train, r.probe.trainLimit);
    const { featureDim, ...scores } = probeEncoder(model, r.probe, ptr, d.test);
    let init: ProbeResult | undefined;
    if (r.probe.init) {
      const fresh = new MAE(r.model);
      try {
        const { featureDim: _unused, ...s } = probeEncoder(fresh, r.probe, ptr, d.test);
        init = s;
      } finally {
        fresh.dispose();
      }
    }
    const probe: MaeProbeResult = { ...scores, nTrain: ptr.n, nTest: d.test.n, featureDim, ...(init ? { init } : {}) };
    const ft = await finetune(model, r, d, label);
    const n = Math.min(r.keepImages, d.test.n);
    const imgs = n > 0 ? reconstructions(model, d.test, n, 0x5eed) : [];
    const bytes = new Uint8Array(n * 3 * d.test.height * d.test.width);
    imgs.flat().forEach((im, k) => bytes.set(bytesOf(im), k * im.length));
    return { ...trainedFields(res, model), test: ft.test, pretrainTest, probe, finetune: ft, ...(n > 0 ? { recon: { n, size: d.test.height, pixels: Buffer.from(bytes).toString("base64") } } : {}) };
  } finally {
    model.dispose();
  }
}
