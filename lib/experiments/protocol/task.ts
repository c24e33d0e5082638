/**
 * The runner's training paths, one per task, told apart by the resolved
 * config's `task`: "vit-fashion" (build a ViT from a fully resolved config,
 * train on Fashion-MNIST, evaluate on the test split: `runVitTask`, here) and
 * "lm-text" (a LLaMA-style decoder on English text, scored in bits per byte:
 * `runLmTask`, lm-task.ts) and "image-classify" (a ConvNeXt, MLP-Mixer or
 * ResNet on Fashion-MNIST or Emoji32: `runImageTask`, image-task.ts) and
 * "dna-lm" (a HyenaDNA-style decoder pretrained on next-nucleotide prediction,
 * scored in bits per base, then probed downstream: `runDnaTask`, dna-task.ts) and
 * "speech-pretrain" (a wav2vec 2.0 pretrained self-supervised on speech, scored
 * on its pretraining loss, then probed: `runSpeechTask`, speech-task.ts) and
 * "image-diffusion" (a class-conditional DiT trained to denoise Fashion-MNIST,
 * scored on its denoising loss and its samples' Fréchet distance: `runDitTask`,
 * dit-task.ts) and "image-mae" (a masked autoencoder pretrained on
 * Fashion-MNIST, then probed and fine-tuned: `runMaeTask`, mae-task.ts) and
 * "image-dino" (DINO self-distillation on Fashion-MNIST, scored by k-NN and
 * a linear probe: `runDinoTask`, dino-task.ts).
 * `resolveRun` and `runTask` dispatch on the base and the resolved config. Named prepare steps and hooks (ViT runs,
 * registered by the experiments that need them) keep jobs serialisable, so a
 * worker process can run any job.
 */
import * as tf from "@tensorflow/tfjs";
import { gatherImages, type ImageDataset } from "../../data/dataset";
import { loadFashionMnist } from "../../data/fashion-mnist";
import { alphaTraceHook } from "../../hooks/alpha";
import { resolveViTConfig, ViT, type ViTConfig } from "../../models/vit";
import { resolveNormOptions } from "../../norms/factory";
import type { NormOptions } from "../../norms/types";
import { evaluate, train, TRAIN_DEFAULTS, validateTrainConfig, type EvalPoint, type LogLine, type RunStatus, type TrainConfig, type TrainHook } from "../../train/trainer";
import type { Arm } from "./arms";
import { trainedFields } from "./trained";
import { isLmBase, lmTrainWindows, resolveLmRun, runLmTask, type LmResolvedRun, type LmRunBase, type LmRunResult } from "./lm-task";
import type { LlamaConfig } from "../../models/llama";
import { imageTrainSize, isImageBase, resolveImageRun, runImageTask, type ImageModelConfig, type ImageResolvedRun, type ImageRunBase, type ImageRunResult } from "./image-task";
import { dnaTrainWindows, isDnaBase, resolveDnaRun, runDnaTask, type DnaResolvedRun, type DnaRunBase, type DnaRunResult } from "./dna-task";
import type { HyenaConfig } from "../../models/hyena";
import { isSpeechBase, resolveSpeechRun, runSpeechTask, speechTrainWindows, type SpeechResolvedRun, type SpeechRunBase, type SpeechRunResult } from "./speech-task";
import type { Wav2VecConfig } from "../../models/wav2vec";
import { ditTrainSize, isDitBase, resolveDitRun, runDitTask, type DitResolvedRun, type DitRunBase, type DitRunResult } from "./dit-task";
import type { DiTConfig } from "../../models/dit";
import { isMaeBase, maeTrainSize, resolveMaeRun, runMaeTask, type MaeResolvedRun, type MaeRunBase, type MaeRunResult } from "./mae-task";
import type { MAEConfig } from "../../models/mae";
import { dinoTrainSize, isDinoBase, resolveDinoRun, runDinoTask, type DinoResolvedRun, type DinoRunBase, type DinoRunResult } from "./dino-task";
import type { DINOConfig } from "../../models/dino";

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

export interface DataConfig {
  dataset: "fashion-mnist";
  /** Training examples used: the first N of the 55,000-image train split (0 = all). */
  trainLimit: number;
  /** Test examples for the final accuracy (0 = all 10,000). */
  testLimit: number;
  /** Every image (train, val, test) multiplied by this after standardisation (absent = 1). */
  inputScale?: number;
}

/** Everything that determines a ViT run's result, every default written out: the cache key and the saved config. */
export interface VitResolvedRun {
  task: "vit-fashion";
  arm: string;
  data: DataConfig;
  model: ViTConfig;
  /** The norm options in effect, defaults filled (part of the key, so a changed default re-runs). */
  normResolved: NormOptions;
  train: TrainConfig;
  prepare?: string;
  hooks: string[];
}

/** A resolved run of any task (the `task` field tells which). */
export type ResolvedRun = VitResolvedRun | LmResolvedRun | ImageResolvedRun | DnaResolvedRun | SpeechResolvedRun | DitResolvedRun | MaeResolvedRun | DinoResolvedRun;

/** What a run of resolved config R saves as its result. */
export type RunResultOf<R extends ResolvedRun> = R extends LmResolvedRun ? LmRunResult : R extends ImageResolvedRun ? ImageRunResult : R extends DnaResolvedRun ? DnaRunResult : R extends SpeechResolvedRun ? SpeechRunResult : R extends DitResolvedRun ? DitRunResult : R extends MaeResolvedRun ? MaeRunResult : R extends DinoResolvedRun ? DinoRunResult : VitRunResult;

/** The shared part of a ViT run's config at one scale, before an arm and a seed are applied. */
export interface RunBase {
  model: Partial<ViTConfig>;
  train: Partial<TrainConfig>;
  data: Omit<DataConfig, "dataset">;
  prepare?: string;
  hooks?: string[];
}

/** A base of any task: a ViT base (RunBase), a language-model base (LmRunBase, task "lm-text"), an image-classification base (ImageRunBase, task "image-classify") a DNA base (DnaRunBase, task "dna-lm"), a speech base (SpeechRunBase, task "speech-pretrain"), a diffusion base (DitRunBase, task "image-diffusion"), an MAE base (MaeRunBase, task "image-mae") or a DINO base (DinoRunBase, task "image-dino"). */
export type AnyRunBase = RunBase | LmRunBase | ImageRunBase | DnaRunBase | SpeechRunBase | DitRunBase | MaeRunBase | DinoRunBase;
/** The resolved config a base gives, and the model config its overrides patch. */
export type ResolvedOf<B extends AnyRunBase> = B extends LmRunBase ? LmResolvedRun : B extends ImageRunBase ? ImageResolvedRun : B extends DnaRunBase ? DnaResolvedRun : B extends SpeechRunBase ? SpeechResolvedRun : B extends DitRunBase ? DitResolvedRun : B extends MaeRunBase ? MaeResolvedRun : B extends DinoRunBase ? DinoResolvedRun : VitResolvedRun;
export type ModelConfigOf<B extends AnyRunBase> = B extends LmRunBase ? LlamaConfig : B extends ImageRunBase ? ImageModelConfig : B extends DnaRunBase ? HyenaConfig : B extends SpeechRunBase ? Wav2VecConfig : B extends DitRunBase ? DiTConfig : B extends MaeRunBase ? MAEConfig : B extends DinoRunBase ? DINOConfig : ViTConfig;
export interface RunOverrides<B extends AnyRunBase = RunBase> {
  lr?: number;
  model?: Partial<ModelConfigOf<B>>;
  train?: Partial<TrainConfig>;
}

/** The fully resolved config of arm `a` at `seed` on `base` (every default written out: the cache key). */
export function resolveRun<B extends AnyRunBase>(base: B, a: Arm, seed: number, overrides: RunOverrides<B> = {}): ResolvedOf<B> {
  if (isLmBase(base)) return resolveLmRun(base, a, seed, overrides as RunOverrides<LmRunBase>) as ResolvedOf<B>;
  if (isImageBase(base)) return resolveImageRun(base, a, seed, overrides as RunOverrides<ImageRunBase>) as ResolvedOf<B>;
  if (isDnaBase(base)) return resolveDnaRun(base, a, seed, overrides as RunOverrides<DnaRunBase>) as ResolvedOf<B>;
  if (isSpeechBase(base)) return resolveSpeechRun(base, a, seed, overrides as RunOverrides<SpeechRunBase>) as ResolvedOf<B>;
  if (isDitBase(base)) return resolveDitRun(base, a, seed, overrides as RunOverrides<DitRunBase>) as ResolvedOf<B>;
  if (isMaeBase(base)) return resolveMaeRun(base, a, seed, overrides as RunOverrides<MaeRunBase>) as ResolvedOf<B>;
  if (isDinoBase(base)) return resolveDinoRun(base, a, seed, overrides as RunOverrides<DinoRunBase>) as ResolvedOf<B>;
  return resolveVitRun(base as RunBase, a, seed, overrides as RunOverrides<RunBase>) as ResolvedOf<B>;
}

function resolveVitRun(base: RunBase, a: Arm, seed: number, overrides: RunOverrides<RunBase>): VitResolvedRun {
  if (a.lm) throw new Error(`arm "${a.id}" is a language-model arm; a ViT run needs a ViT arm (e.g. "${a.norm}")`);
  const model = resolveViTConfig({
    ...base.model,
    ...overrides.model,
    norm: a.norm,
    normOptions: { ...base.model.normOptions, ...overrides.model?.normOptions, ...a.normOptions },
    ...(a.method ? { method: a.method } : {}),
    ...(a.placement ? { placement: a.placement } : {}),
    seed,
  });
  const trainCfg: TrainConfig = { ...TRAIN_DEFAULTS, ...base.train, ...a.train, ...overrides.train, seed };
  if (overrides.lr !== undefined) trainCfg.lr = overrides.lr;
  validateTrainConfig(trainCfg);
  const r: VitResolvedRun = {
    task: "vit-fashion",
    arm: a.id,
    data: { dataset: "fashion-mnist", ...base.data },
    model,
    normResolved: resolveNormOptions(model.norm, model.normOptions),
    train: trainCfg,
    hooks: [...(base.hooks ?? [])],
  };
  if (base.prepare) r.prepare = base.prepare;
  return r;
}

/** Training images of a data config (for epochs -> steps). */
export const FASHION_TRAIN_SIZE = 55_000;
export function trainSize(d: Pick<DataConfig, "trainLimit">): number {
  return d.trainLimit > 0 ? Math.min(d.trainLimit, FASHION_TRAIN_SIZE) : FASHION_TRAIN_SIZE;
}

/** Training examples of a base of any task: images (ViT, image classifiers), or windows of the train split (LM, DNA, speech). */
export function trainExamples(base: AnyRunBase): number {
  if (isLmBase(base)) return lmTrainWindows(base);
  if (isImageBase(base)) return imageTrainSize(base.data);
  if (isDnaBase(base)) return dnaTrainWindows(base);
  if (isSpeechBase(base)) return speechTrainWindows(base);
  if (isDitBase(base)) return ditTrainSize(base.data);
  if (isMaeBase(base)) return maeTrainSize(base.data);
  if (isDinoBase(base)) return dinoTrainSize(base.data);
  return trainSize(base.data);
}

/** Optimizer steps for a budget in epochs (rounded up). */
export function stepsForEpochs(epochs: number, d: Pick<DataConfig, "trainLimit">, batchSize: number): number {
  if (!(epochs > 0)) throw new Error(`budget must be a positive number of epochs, got ${epochs}`);
  return Math.ceil((epochs * trainSize(d)) / batchSize);
}

/** Schedule settings that scale with a budget in epochs: 5 % warmup, 10 evals (and checkpoints), ~300 log lines. */
export function budgetSchedule(epochs: number, d: Pick<DataConfig, "trainLimit">, batchSize: number): { steps: number; warmupSteps: number; evalEvery: number; checkpointEvery: number; logEvery: number } {
  const steps = stepsForEpochs(epochs, d, batchSize);
  const evalEvery = Math.max(1, Math.round(steps / 10));
  return { steps, warmupSteps: Math.max(1, Math.round(0.05 * steps)), evalEvery, checkpointEvery: evalEvery, logEvery: Math.max(1, Math.round(steps / 300)) };
}

// ---------------------------------------------------------------------------------------------
// Data, prepare steps and hooks

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

/** A split multiplied by `c` (a copy; the normalisation record says so). */
export function scaleImages(ds: ImageDataset, c: number): ImageDataset {
  if (!(Number.isFinite(c) && c > 0)) throw new Error(`scaleImages: the input scale must be a positive number, got ${c}`);
  if (c === 1) return ds;
  const images = new Float32Array(ds.images.length);
  for (let i = 0; i < images.length; i++) images[i] = ds.images[i]! * c;
  return { ...ds, images, normalization: { ...ds.normalization, kind: `${ds.normalization.kind} x${c}` } };
}

/** The splits of a run's data config (scaled when it asks for an input scale). */
export function runSplits(d: DataConfig): { train: ImageDataset; val: ImageDataset; test: ImageDataset } {
  const s = fashionSplits(d.trainLimit, d.testLimit);
  const c = d.inputScale ?? 1;
  return c === 1 ? s : { train: scaleImages(s.train, c), val: scaleImages(s.val, c), test: scaleImages(s.test, c) };
}

/** Number of training images given to a run's prepare step (calibration before training). */
export const CALIBRATION_BATCH = 256;

/** What a named step is told about its run: the resolved config and the parameters in its reference. */
export interface NamedStepContext {
  run: VitResolvedRun;
  params?: StepParams;
}

/** Adjusts a freshly built model before training (e.g. calibrates fixed parameters); may return facts to record. */
export type PrepareModel = (model: ViT, calibration: tf.Tensor, ctx?: NamedStepContext) => Record<string, unknown> | undefined;

const PREPARES = new Map<string, PrepareModel>();
const HOOKS = new Map<string, (r: VitResolvedRun, params?: StepParams) => TrainHook>();

/** Make a prepare step available to runs by name (experiments register theirs when loaded). */
export function registerPrepare(name: string, fn: PrepareModel): void {
  PREPARES.set(name, fn);
}
/** Make a training hook available to runs by name; the factory sees the run's resolved config and its reference's parameters. */
export function registerHook(name: string, make: (r: VitResolvedRun, params?: StepParams) => TrainHook): void {
  HOOKS.set(name, make);
}

/** Parameters of a named prepare step or hook: flat, JSON-safe values. */
export type StepParams = Record<string, number | string | boolean | number[]>;

/**
 * A reference to a named step with parameters, "name:{json}" (keys sorted).
 * The parameters are part of the resolved config, hence of the cache key: a
 * changed probe size or capture schedule re-runs the run.
 */
export function stepRef(name: string, params?: StepParams): string {
  if (name.includes(":")) throw new Error(`step name "${name}" must not contain ":"`);
  return params ? `${name}:${JSON.stringify(params, Object.keys(params).sort())}` : name;
}

export function parseStepRef(ref: string): { name: string; params?: StepParams } {
  const i = ref.indexOf(":");
  return i < 0 ? { name: ref } : { name: ref.slice(0, i), params: JSON.parse(ref.slice(i + 1)) as StepParams };
}

/**
 * The training hooks a run's config names (stepRef strings), built by the
 * factories registered under those names (ViT runs: registerHook; LM runs:
 * registerLmHook). An unregistered name fails before training, listing the
 * registered ones.
 */
export function namedHooks<R>(registry: ReadonlyMap<string, (r: R, params?: StepParams) => TrainHook>, refs: readonly string[], r: R, label: string, what = "hook"): TrainHook[] {
  return refs.map((h) => {
    const ref = parseStepRef(h);
    const make = registry.get(ref.name);
    if (!make) throw new Error(`run ${label} needs ${what} "${ref.name}", but only [${[...registry.keys()].join(", ")}] are registered (import the experiment that defines it)`);
    return make(r, ref.params);
  });
}

/**
 * Train one ViT on Fashion-MNIST and evaluate it on the test split. `prepare`
 * (default: the config's named step) runs on the new model first; `hooks`
 * observe training next to the alpha trace.
 */
export async function runVitTask(r: VitResolvedRun, runDir: string | undefined, label: string, extra: { prepare?: PrepareModel; hooks?: TrainHook[] } = {}): Promise<VitRunResult> {
  const prepRef = r.prepare ? parseStepRef(r.prepare) : undefined;
  const prep = extra.prepare ?? (prepRef ? PREPARES.get(prepRef.name) : undefined);
  if (prepRef && !prep) throw new Error(`run ${label} needs prepare step "${prepRef.name}", but only [${[...PREPARES.keys()].join(", ")}] are registered (import the experiment that defines it)`);
  const named = namedHooks(HOOKS, r.hooks, r, label);
  const d = runSplits(r.data);
  const model = new ViT(r.model);
  try {
    let prepared: Record<string, unknown> | undefined;
    if (prep) {
      const n = Math.min(CALIBRATION_BATCH, d.train.n);
      const x = tf.tensor4d(gatherImages(d.train, Int32Array.from({ length: n }, (_, i) => i)), [n, d.train.height, d.train.width, d.train.channels]);
      try {
        prepared = prep(model, x, { run: r, ...(prepRef?.params ? { params: prepRef.params } : {}) });
      } finally {
        x.dispose();
      }
    }
    const res = await train(model, { train: d.train, eval: d.val }, r.train, { runDir, hooks: [alphaTraceHook(), ...named, ...(extra.hooks ?? [])], label });
    return {
      ...trainedFields(res, model),
      test: res.status === "completed" ? evaluate(model, d.test, 0, 250) : undefined,
      ...(prepared ? { prepared } : {}),
    };
  } finally {
    model.dispose();
  }
}

/** Train one run of any task (dispatch on the resolved config's `task`). */
export async function runTask<R extends ResolvedRun>(r: R, runDir: string | undefined, label: string): Promise<RunResultOf<R>> {
  const out =
    r.task === "lm-text"
      ? await runLmTask(r, runDir, label)
      : r.task === "image-classify"
        ? await runImageTask(r, runDir, label)
        : r.task === "dna-lm"
          ? await runDnaTask(r, runDir, label)
          : r.task === "speech-pretrain"
            ? await runSpeechTask(r, runDir, label)
            : r.task === "image-diffusion"
              ? await runDitTask(r, runDir, label)
              : r.task === "image-mae"
                ? await runMaeTask(r, runDir, label)
                : r.task === "image-dino"
                  ? await runDinoTask(r, runDir, label)
                  : await runVitTask(r, runDir, label);
  return out as RunResultOf<R>;
}
