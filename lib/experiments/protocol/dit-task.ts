/**
 * The diffusion training path of the runner (task "image-diffusion"): a
 * class-conditional DiT (lib/models/dit.ts), its norm slots filled from the
 * one factory by the arm and its adaLN-Zero init set by the arm's `dit`
 * settings (default on, DiT's own), trained on Fashion-MNIST with the
 * denoising objective (lib/train/diffusion.ts). During training it is scored
 * on the held-out denoising loss of the validation split (lr tuning,
 * plateau); at the end on the test split's denoising loss, then it samples
 * `sample.n` images (an equal number per class, deterministic DDIM from a
 * fixed seed, the same for every run, so arms are paired) and scores them:
 *  - fd: the Fréchet distance between the samples' and `sample.n` real test
 *    images' features in a ViT classifier trained on the same data
 *    (fd-classifier.ts; a proxy for FID);
 *  - sampleAcc: the share of samples that classifier assigns to the class
 *    they were conditioned on (how recognisable they are; chance 10 %);
 *  - fdFloor: the same distance between `sample.n` real training and test
 *    images, the value a perfect sampler would reach at this sample size.
 * A few samples per class are kept as 8-bit pixels for the sample grids.
 * `resolveDitRun` writes every default out, so the resolved config is a
 * complete cache key, as for the other tasks.
 */
import { gatherImages, type ImageDataset } from "../../data/dataset";
import { alphaTraceHook } from "../../hooks/alpha";
import { frechetDistance, gaussianStats } from "../../analysis/frechet";
import { DIT_DEFAULTS, DiT, resolveDiTConfig, type DiTConfig } from "../../models/dit";
import { resolveNormOptions } from "../../norms/factory";
import type { NormOptions } from "../../norms/types";
import { DIFFUSION_DEFAULTS, alphaBars, ddimSample, diffusionTask, evaluateDiffusion, fromUnitRange, type DiffusionSchedule } from "../../train/diffusion";
import { train, TRAIN_DEFAULTS, validateTrainConfig, type TrainConfig } from "../../train/trainer";
import type { Arm } from "./arms";
import { classifierFeatures, fdClassifier, type FdClassifierSpec } from "./fd-classifier";
import { trainedFields } from "./trained";
// task.ts imports this module: only call-time uses of its exports here (no import cycle at load time).
import { fashionSplits, type TrainedRunResult } from "./task";

export interface DitDataConfig {
  dataset: "fashion-mnist";
  /** Training images used: the first N of the 55,000 (0 = all). */
  trainLimit: number;
  /** Test images for the final denoising loss (0 = all 10,000). */
  testLimit: number;
}

export interface DitSampleConfig {
  /** Images sampled (an equal number per class) and real test images compared; a multiple of the classes. */
  n: number;
  /** DDIM steps. */
  steps: number;
  /** Seed of the initial noise: the same for every run, so runs are compared on the same draws. */
  seed: number;
  /** Samples per class kept in the record for the sample grids. */
  keepPerClass: number;
  /** The Fréchet distance's feature extractor. */
  classifier: FdClassifierSpec;
}

/** Everything that determines a DiT run's result, every default written out: the cache key and the saved config. */
export interface DitResolvedRun {
  task: "image-diffusion";
  arm: string;
  data: DitDataConfig;
  model: DiTConfig;
  /** The norm options in effect, defaults filled. */
  normResolved: NormOptions;
  diffusion: DiffusionSchedule;
  sample: DitSampleConfig;
  train: TrainConfig;
}

/** The shared part of a DiT run's config at one scale, before an arm and a seed are applied. */
export interface DitRunBase {
  task: "image-diffusion";
  model: Partial<DiTConfig>;
  train: Partial<TrainConfig>;
  data: Omit<DitDataConfig, "dataset">;
  diffusion?: Partial<DiffusionSchedule>;
  sample: DitSampleConfig;
}

export interface DitSampleScores {
  /** Fréchet distance of the samples to `n` real test images, in the classifier's feature space. */
  fd: number;
  /** Fréchet distance of `n` real training images to the same test images (the floor at this n). */
  fdFloor: number;
  /** Share of samples classified as their conditioning class, 0..1. */
  sampleAcc: number;
  n: number;
  classifier: { testAcc: number; checksum: string; featureDim: number };
  /** keepPerClass samples of each class, class-major, 8-bit pixels (0 = -1, 255 = +1), base64. */
  grid: { perClass: number; classes: number; size: number; channels: number; pixels: string };
}

export interface DitRunResult extends TrainedRunResult {
  finalAlpha?: Record<string, number>;
  params: number;
  /** Completed runs: the samples' scores. */
  samples?: DitSampleScores;
}

export function isDitBase(b: object): b is DitRunBase {
  return (b as Partial<DitRunBase>).task === "image-diffusion";
}

/** The DiT defaults (so a test can change one and see the key change). */
export { DIT_DEFAULTS };

/** The fully resolved config of arm `a` at `seed` on a DiT base (every default written out: the cache key). */
export function resolveDitRun(base: DitRunBase, a: Arm, seed: number, overrides: { lr?: number; model?: Partial<DiTConfig>; train?: Partial<TrainConfig> } = {}): DitResolvedRun {
  if (a.lm) throw new Error(`arm "${a.id}" is a language-model arm; a DiT run needs a vision arm (e.g. "${a.norm}")`);
  if (a.method || a.placement) throw new Error(`arm "${a.id}" sets a residual method or a placement, which only the ViT has; DiT runs take norm arms`);
  const model = resolveDiTConfig({
    ...base.model,
    ...overrides.model,
    norm: a.norm,
    normOptions: { ...base.model.normOptions, ...overrides.model?.normOptions, ...a.normOptions },
    adaLNZero: a.dit?.adaLNZero ?? overrides.model?.adaLNZero ?? base.model.adaLNZero ?? DIT_DEFAULTS.adaLNZero,
    seed,
  });
  if (model.imageSize !== 28 || model.channels !== 1 || model.numClasses !== 10) throw new Error(`DiT task: the model's image (${model.imageSize} px, ${model.channels} ch, ${model.numClasses} classes) does not fit Fashion-MNIST (28 px, 1 ch, 10 classes)`);
  const trainCfg: TrainConfig = { ...TRAIN_DEFAULTS, ...base.train, ...a.train, ...overrides.train, seed };
  if (overrides.lr !== undefined) trainCfg.lr = overrides.lr;
  validateTrainConfig(trainCfg);
  const s = base.sample;
  if (!(Number.isInteger(s.n) && s.n >= 2 * model.numClasses && s.n % model.numClasses === 0)) throw new Error(`DiT task: sample.n must be a multiple of the ${model.numClasses} classes, at least ${2 * model.numClasses}; got ${s.n}`);
  if (!(Number.isInteger(s.keepPerClass) && s.keepPerClass >= 0 && s.keepPerClass <= s.n / model.numClasses)) throw new Error(`DiT task: sample.keepPerClass must lie in [0, ${s.n / model.numClasses}], got ${s.keepPerClass}`);
  return {
    task: "image-diffusion",
    arm: a.id,
    data: { dataset: "fashion-mnist", trainLimit: base.data.trainLimit, testLimit: base.data.testLimit },
    model,
    normResolved: resolveNormOptions(model.norm, { gain: false, bias: false, ...model.normOptions }),
    diffusion: { ...DIFFUSION_DEFAULTS, ...base.diffusion },
    sample: { n: s.n, steps: s.steps, seed: s.seed, keepPerClass: s.keepPerClass, classifier: { ...s.classifier, model: { ...s.classifier.model } } },
    train: trainCfg,
  };
}

/** Training images of a DiT base (for epochs -> steps). */
export function ditTrainSize(d: Pick<DitDataConfig, "trainLimit">): number {
  return d.trainLimit > 0 ? Math.min(d.trainLimit, 55_000) : 55_000;
}

/** "DiT width 64, depth 4, 4×4 patches; Fashion-MNIST, first 10,000 training images; ...". */
export function describeDitBase(base: DitRunBase, epochs: number, steps: number): string {
  const m = { ...DIT_DEFAULTS, ...base.model };
  const dif = { ...DIFFUSION_DEFAULTS, ...base.diffusion };
  const batch = base.train.batchSize ?? TRAIN_DEFAULTS.batchSize;
  return `DiT width ${m.dim}, depth ${m.depth}, ${m.heads} heads, ${m.patchSize}×${m.patchSize} patches; Fashion-MNIST, ${ditTrainSize(base.data).toLocaleString("en")} training images; ${epochs} epoch(s) (${steps} steps, batch ${batch}); AdamW, 5 % warmup + cosine; DDPM linear betas ${dif.betaStart}..${dif.betaEnd} over ${dif.T} steps, ε-prediction MSE; ${base.sample.n.toLocaleString("en")} DDIM samples (${base.sample.steps} steps) scored by a Fréchet distance in a ViT classifier's features (FID proxy)`;
}

/** Pixels in [-1, 1] -> 8-bit (0 = -1, 255 = +1), base64. */
function toBase64Pixels(x: Float32Array): string {
  const u8 = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) u8[i] = Math.max(0, Math.min(255, Math.round(((x[i]! + 1) / 2) * 255)));
  return Buffer.from(u8).toString("base64");
}

/** A record's sample grid as images in [0, 1], [class][k] -> H*W*C floats. */
export function gridImages(g: DitSampleScores["grid"]): Float32Array[][] {
  const u8 = Buffer.from(g.pixels, "base64");
  const ex = g.size * g.size * g.channels;
  return Array.from({ length: g.classes }, (_, c) => Array.from({ length: g.perClass }, (_, k) => Float32Array.from(u8.subarray((c * g.perClass + k) * ex, (c * g.perClass + k + 1) * ex), (v) => v / 255)));
}

/** n real images of a split, an equal number per class where the split has them (the first of each class). */
function balancedReal(ds: ImageDataset, n: number): Float32Array {
  const per = Math.floor(n / ds.numClasses);
  const picked: number[] = [];
  const count = new Array<number>(ds.numClasses).fill(0);
  for (let i = 0; i < ds.n && picked.length < n; i++) {
    const c = ds.labels[i]!;
    if (count[c]! < per) {
      count[c]!++;
      picked.push(i);
    }
  }
  if (picked.length < n) throw new Error(`DiT task: ${ds.name}/${ds.split} has too few images per class for ${n} balanced real images; lower sample.n`);
  return gatherImages(ds, Int32Array.from(picked));
}

/** Sample, classify and measure a trained DiT (see the header); real images come from `real` (the run's training images and the whole test split). */
export async function scoreDitSamples(model: DiT, r: Pick<DitResolvedRun, "sample" | "diffusion">, real: { train: ImageDataset; test: ImageDataset }): Promise<DitSampleScores> {
  const s = r.sample;
  const K = model.config.numClasses;
  const per = s.n / K;
  const labels = Int32Array.from({ length: s.n }, (_, i) => Math.floor(i / per));
  const unit = ddimSample(model, labels, { schedule: r.diffusion, steps: s.steps, seed: s.seed });
  const clf = await fdClassifier(s.classifier);
  const d = real;
  const gen = classifierFeatures(clf, fromUnitRange(d.test, unit), s.n);
  const realTest = classifierFeatures(clf, balancedReal(d.test, s.n), s.n);
  const realTrain = classifierFeatures(clf, balancedReal(d.train, s.n), s.n);
  const D = clf.featureDim;
  const testStats = gaussianStats(realTest.features, s.n, D);
  let hits = 0;
  for (let i = 0; i < s.n; i++) if (gen.predicted[i] === labels[i]) hits++;
  const H = model.config.imageSize;
  const C = model.config.channels;
  const ex = H * H * C;
  const kept = new Float32Array(K * s.keepPerClass * ex);
  for (let c = 0; c < K; c++) kept.set(unit.subarray(c * per * ex, (c * per + s.keepPerClass) * ex), c * s.keepPerClass * ex);
  return {
    fd: frechetDistance(gaussianStats(gen.features, s.n, D), testStats),
    fdFloor: frechetDistance(gaussianStats(realTrain.features, s.n, D), testStats),
    sampleAcc: hits / s.n,
    n: s.n,
    classifier: { testAcc: clf.testAcc, checksum: clf.checksum, featureDim: D },
    grid: { perClass: s.keepPerClass, classes: K, size: H, channels: C, pixels: toBase64Pixels(kept) },
  };
}

/** Train one DiT; validation denoising loss during training; test denoising loss and the samples' scores at the end. */
export async function runDitTask(r: DitResolvedRun, runDir: string | undefined, label: string): Promise<DitRunResult> {
  // The whole test split: the real images of the Fréchet distance; the denoising loss reads its first testLimit.
  const d = fashionSplits(r.data.trainLimit, 0);
  const model = new DiT(r.model);
  try {
    const res = await train(model, diffusionTask(d.train, d.val, { schedule: r.diffusion, seed: r.train.seed }), r.train, { runDir, hooks: [alphaTraceHook()], label });
    if (res.status !== "completed") return trainedFields(res, model);
    // Test draws from a fixed seed, independent of the run's: every run is scored on the same noise.
    const test = evaluateDiffusion(model, d.test, alphaBars(r.diffusion), r.data.testLimit, r.train.evalBatchSize);
    const samples = await scoreDitSamples(model, r, d);
    return { ...trainedFields(res, model), test, samples };
  } finally {
    model.dispose();
  }
}
