/**
 * The image-classification training path of the runner for the vision
 * families beyond the ViT (task "image-classify"): a ConvNeXt, an MLP-Mixer
 * or a ResNet (lib/models), its norm slot filled from the one factory by the
 * arm (LayerNorm / DyT / BatchNorm ...), trained on Fashion-MNIST or Emoji32
 * with the one trainer, scored on the validation split during training (lr
 * tuning, plateau) and on the test split at the end (the verdicts).
 * `resolveImageRun` writes every default out (the family's model config with
 * the data set's image size, channels and classes, the norm options in
 * effect, the training config), so the resolved config is a complete cache
 * key, as for the ViT and LM runs. The ViT task ("vit-fashion") is untouched:
 * its resolved configs, hence its saved records, stay as they were.
 */
import type { ImageDataset } from "../../data/dataset";
import { loadEmoji32 } from "../../data/emoji";
import { alphaTraceHook } from "../../hooks/alpha";
import { trainedFields } from "./trained";
import { assertImageProbe, readNorms, type ImageProbeConfig, type NormReading } from "./image-probe";
import { probeImages } from "./probe";
import { ConvNeXt, CONVNEXT_DEFAULTS, resolveConvNeXtConfig, type ConvNeXtConfig } from "../../models/convnext";
import { MIXER_DEFAULTS, MLPMixer, resolveMixerConfig, type MixerConfig } from "../../models/mixer";
import { RESNET_DEFAULTS, ResNet, resolveResNetConfig, type ResNetConfig } from "../../models/resnet";
import { resolveNormOptions } from "../../norms/factory";
import type { NormOptions } from "../../norms/types";
import { evaluate, train, TRAIN_DEFAULTS, validateTrainConfig, type TrainConfig } from "../../train/trainer";
import type { Arm } from "./arms";
// task.ts imports this module: only call-time uses of its exports here (no import cycle at load time).
import { fashionSplits, type TrainedRunResult } from "./task";

/** The model families of this task, and the config each resolves to. */
export interface ImageFamilyConfigs {
  convnext: ConvNeXtConfig;
  mixer: MixerConfig;
  resnet: ResNetConfig;
}
export type ImageFamily = keyof ImageFamilyConfigs;
export const IMAGE_FAMILIES: readonly ImageFamily[] = ["convnext", "mixer", "resnet"];
export const IMAGE_FAMILY_LABEL: Record<ImageFamily, string> = { convnext: "ConvNeXt", mixer: "MLP-Mixer", resnet: "ResNet" };

/** The image data sets of this task: Fashion-MNIST (28x28x1, 10 classes) and Emoji32 (32x32x3, 9 classes; base set, no skin tones). */
export type ImageDatasetName = "fashion-mnist" | "emoji32";
export const IMAGE_DATASETS: Record<ImageDatasetName, { imageSize: number; channels: number; numClasses: number; trainSize: number; label: string }> = {
  // 55,000 = FASHION_TRAIN_SIZE (task.ts; not imported here, which would read it before task.ts defines it).
  "fashion-mnist": { imageSize: 28, channels: 1, numClasses: 10, trainSize: 55_000, label: "Fashion-MNIST" },
  // 3,080 / 378 / 354 train / val / test (lib/data/emoji.ts; checked by test/vision-families.test.ts).
  emoji32: { imageSize: 32, channels: 3, numClasses: 9, trainSize: 3080, label: "Emoji32" },
};

export interface ImageDataConfig {
  dataset: ImageDatasetName;
  /** Training examples used: the first N of the train split (0 = all). */
  trainLimit: number;
  /** Test examples for the final accuracy (0 = all). */
  testLimit: number;
}

interface ImageResolvedRunOf<F extends ImageFamily> {
  task: "image-classify";
  arm: string;
  family: F;
  data: ImageDataConfig;
  /** The family's model config, every default written out (image size, channels and classes from the data set). */
  model: ImageFamilyConfigs[F];
  /** The norm options in effect, defaults filled (part of the key, so a changed default re-runs). */
  normResolved: NormOptions;
  train: TrainConfig;
  /** Norm readings on a probe batch at init and at the end (image-probe.ts); absent = none. */
  probe?: ImageProbeConfig;
}
/** Everything that determines an image-classification run's result: the cache key and the saved config. */
export type ImageResolvedRun = { [F in ImageFamily]: ImageResolvedRunOf<F> }[ImageFamily];

interface ImageRunBaseOf<F extends ImageFamily> {
  task: "image-classify";
  family: F;
  /** Model settings of this scale; image size, channels and classes come from the data set. */
  model: Partial<ImageFamilyConfigs[F]>;
  train: Partial<TrainConfig>;
  data: ImageDataConfig;
  probe?: ImageProbeConfig;
}
/** The shared part of an image run's config at one scale, before an arm and a seed are applied. */
export type ImageRunBase = { [F in ImageFamily]: ImageRunBaseOf<F> }[ImageFamily];

/** Any family's model config (what a run's model overrides patch). */
export type ImageModelConfig = ImageFamilyConfigs[ImageFamily];

export interface ImageRunResult extends TrainedRunResult {
  /** DyT alpha per layer at the end of training (DyT models only). */
  finalAlpha?: Record<string, number>;
  params: number;
  /** With `probe` in the config: the readings at init and (completed runs) at the end. */
  readings?: NormReading[];
}

export function isImageBase(b: object): b is ImageRunBase {
  return (b as Partial<ImageRunBase>).task === "image-classify";
}

/** The family defaults (so a test can change one and see the key change). */
export const IMAGE_FAMILY_DEFAULTS: ImageFamilyConfigs = { convnext: CONVNEXT_DEFAULTS, mixer: MIXER_DEFAULTS, resnet: RESNET_DEFAULTS };

function resolveModel<F extends ImageFamily>(family: F, partial: Partial<ImageFamilyConfigs[F]>): ImageFamilyConfigs[F] {
  switch (family) {
    case "convnext":
      return resolveConvNeXtConfig(partial as Partial<ConvNeXtConfig>) as ImageFamilyConfigs[F];
    case "mixer":
      return resolveMixerConfig(partial as Partial<MixerConfig>) as ImageFamilyConfigs[F];
    case "resnet":
      return resolveResNetConfig(partial as Partial<ResNetConfig>) as ImageFamilyConfigs[F];
    default:
      throw new Error(`image task: unknown model family "${String(family)}"; valid: ${IMAGE_FAMILIES.join(", ")}`);
  }
}

/** The fully resolved config of arm `a` at `seed` on an image base (every default written out: the cache key). */
export function resolveImageRun(base: ImageRunBase, a: Arm, seed: number, overrides: { lr?: number; model?: Partial<ImageModelConfig>; train?: Partial<TrainConfig> } = {}): ImageResolvedRun {
  if (a.lm) throw new Error(`arm "${a.id}" is a language-model arm; an image run needs a vision arm (e.g. "${a.norm}")`);
  if (a.method || a.placement) throw new Error(`arm "${a.id}" sets a residual method or a placement, which only the ViT has; ${IMAGE_FAMILY_LABEL[base.family] ?? base.family} runs take norm arms`);
  const ds = IMAGE_DATASETS[base.data.dataset];
  if (!ds) throw new Error(`image task: unknown data set "${base.data.dataset}"; valid: ${Object.keys(IMAGE_DATASETS).join(", ")}`);
  const data: ImageDataConfig = { dataset: base.data.dataset, trainLimit: base.data.trainLimit, testLimit: base.data.testLimit };
  const bm = base.model as Partial<ImageModelConfig>;
  const model = resolveModel(base.family, {
    imageSize: ds.imageSize,
    channels: ds.channels,
    numClasses: ds.numClasses,
    ...bm,
    ...overrides.model,
    norm: a.norm,
    normOptions: { ...bm.normOptions, ...overrides.model?.normOptions, ...a.normOptions },
    seed,
  } as Partial<ImageFamilyConfigs[typeof base.family]>);
  if (model.imageSize !== ds.imageSize || model.channels !== ds.channels || model.numClasses !== ds.numClasses)
    throw new Error(`image task: the ${base.family} config's image (${model.imageSize} px, ${model.channels} ch, ${model.numClasses} classes) does not fit ${ds.label} (${ds.imageSize} px, ${ds.channels} ch, ${ds.numClasses} classes); leave them to the data set`);
  const trainCfg: TrainConfig = { ...TRAIN_DEFAULTS, ...base.train, ...a.train, ...overrides.train, seed };
  if (overrides.lr !== undefined) trainCfg.lr = overrides.lr;
  validateTrainConfig(trainCfg);
  if (base.probe) assertImageProbe(base.probe);
  const probe = base.probe ? { probe: { images: base.probe.images, seed: base.probe.seed, maxRows: base.probe.maxRows, plotTokens: base.probe.plotTokens } } : {};
  return { task: "image-classify", arm: a.id, family: base.family, data, model, normResolved: resolveNormOptions(model.norm, model.normOptions), train: trainCfg, ...probe } as ImageResolvedRun;
}

/** Training images of an image data config (for epochs -> steps). */
export function imageTrainSize(d: Pick<ImageDataConfig, "dataset" | "trainLimit">): number {
  const n = IMAGE_DATASETS[d.dataset].trainSize;
  return d.trainLimit > 0 ? Math.min(d.trainLimit, n) : n;
}

let emojiCache: { key: string; train: ImageDataset; val: ImageDataset; test: ImageDataset } | undefined;
/** The train / val / test splits of a run's data config (kept in memory across the runs of one process). */
export function imageSplits(d: ImageDataConfig): { train: ImageDataset; val: ImageDataset; test: ImageDataset } {
  if (d.dataset === "fashion-mnist") return fashionSplits(d.trainLimit, d.testLimit);
  const key = `${d.trainLimit}/${d.testLimit}`;
  if (emojiCache?.key !== key) {
    emojiCache = {
      key,
      train: loadEmoji32({ split: "train", ...(d.trainLimit > 0 ? { limit: d.trainLimit } : {}) }),
      val: loadEmoji32({ split: "val" }),
      test: loadEmoji32({ split: "test", ...(d.testLimit > 0 ? { limit: d.testLimit } : {}) }),
    };
  }
  return emojiCache;
}

/** A fresh model of a resolved run (its family, config and seed). */
export function buildImageModel(r: ImageResolvedRun): ConvNeXt | MLPMixer | ResNet {
  switch (r.family) {
    case "convnext":
      return new ConvNeXt(r.model);
    case "mixer":
      return new MLPMixer(r.model);
    case "resnet":
      return new ResNet(r.model);
  }
}

/** "ConvNeXt dims 24/48/96, depths 1/1/1, 7×7 depthwise" and the like. */
export function describeImageModel(family: ImageFamily, m: Partial<ImageModelConfig>): string {
  switch (family) {
    case "convnext": {
      const c = { ...CONVNEXT_DEFAULTS, ...(m as Partial<ConvNeXtConfig>) };
      return `ConvNeXt dims ${c.dims.join("/")}, depths ${c.depths.join("/")}, ${c.kernelSize}×${c.kernelSize} depthwise, stem ${c.stemPatch}×${c.stemPatch}, layer scale ${c.layerScaleInit}`;
    }
    case "mixer": {
      const c = { ...MIXER_DEFAULTS, ...(m as Partial<MixerConfig>) };
      return `MLP-Mixer width ${c.dim}, depth ${c.depth}, ${c.patchSize}×${c.patchSize} patches`;
    }
    case "resnet": {
      const c = { ...RESNET_DEFAULTS, ...(m as Partial<ResNetConfig>) };
      return `ResNet widths ${c.widths.join("/")}, ${c.blocksPerStage.join("/")} basic blocks per stage`;
    }
  }
}

/** "ConvNeXt dims ...; Fashion-MNIST, first 10,000 training images; 3 epoch(s) (469 steps, batch 64); AdamW, 5 % warmup + cosine". */
export function describeImageBase(base: ImageRunBase, epochs: number, steps: number): string {
  const batch = base.train.batchSize ?? TRAIN_DEFAULTS.batchSize;
  const ds = IMAGE_DATASETS[base.data.dataset];
  return `${describeImageModel(base.family, base.model)}; ${ds.label}, first ${imageTrainSize(base.data).toLocaleString("en")} training images; ${epochs} epoch(s) (${steps} steps, batch ${batch}); AdamW, 5 % warmup + cosine`;
}

/** Train one image classifier on its data set's train split; validation during training, test accuracy at the end. */
export async function runImageTask(r: ImageResolvedRun, runDir: string | undefined, label: string): Promise<ImageRunResult> {
  const d = imageSplits(r.data);
  const model = buildImageModel(r);
  const probe = r.probe ? probeImages(d.val, r.probe.images, r.probe.seed) : undefined;
  // Read before train(): on a resumed run the model is still the seeded init here, so the init reading is the same.
  const read = (step: number) => readNorms(model, probe!, r.probe!, step, r.model.norm === "layernorm" ? r.normResolved.eps : undefined);
  try {
    const init = probe ? read(0) : undefined;
    const res = await train(model, { train: d.train, eval: d.val }, r.train, { runDir, hooks: [alphaTraceHook()], label });
    const done = res.status === "completed";
    const readings = init ? { readings: done ? [init, read(r.train.steps)] : [init] } : {};
    return { ...trainedFields(res, model), test: done ? evaluate(model, d.test, 0, r.train.evalBatchSize) : undefined, ...readings };
  } finally {
    probe?.dispose();
    model.dispose();
  }
}
