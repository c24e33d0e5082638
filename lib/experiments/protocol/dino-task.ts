/**
 * The self-distillation path of the runner (task "image-dino"): DINO
 * (lib/models/dino.ts; the lab's ViT as backbone of student and teacher)
 * with every norm slot of the backbone filled by the arm, trained on
 * Fashion-MNIST's training images without labels (lib/train/dino-task.ts),
 * scored during training on the validation split: DINO's loss on fixed
 * views, the teacher's k-NN accuracy (the labelled bank: the first
 * `knn.bank` training images) and its output entropies (the collapse check).
 * After training:
 *  - `test`: the teacher's k-NN test accuracy (DINO's k-NN metric) and the
 *    test split's DINO loss;
 *  - `knn`: k-NN accuracies of the same network at initialisation (same
 *    seed) on validation and test, the reference of the learned rule;
 *  - `collapse`: the teacher's entropies on the test split;
 *  - `probe`: a linear probe (lib/train/probe.ts) on the frozen teacher's
 *    class token, on the first `probe.trainLimit` labelled training images,
 *    scored on the test split; the same probe at initialisation beside it.
 * `resolveDinoRun` writes every default out, so the resolved config is a
 * complete cache key, as for the other tasks.
 */
import { KNN_DEFAULTS, type KnnOptions } from "../../analysis/knn";
import { firstExamples, type ImageDataset } from "../../data/dataset";
import { alphaTraceHook } from "../../hooks/alpha";
import { DINO, DINO_DEFAULTS, resolveDINOConfig, type DINOConfig } from "../../models/dino";
import { resolveNormOptions } from "../../norms/factory";
import type { NormOptions } from "../../norms/types";
import { dinoFeatures, dinoKnnSplits, dinoTask, evaluateDino } from "../../train/dino-task";
import { linearProbeImages, type ProbeResult } from "../../train/probe";
import { train, TRAIN_DEFAULTS, validateTrainConfig, type TrainConfig } from "../../train/trainer";
import type { Arm } from "./arms";
import { trainedFields } from "./trained";
// task.ts imports this module: only call-time uses of its exports here (no import cycle at load time).
import { fashionSplits, type TrainedRunResult } from "./task";

export interface DinoDataConfig {
  dataset: "fashion-mnist";
  /** Training images: the first N of the 55,000 (0 = all); labels unused by training. */
  trainLimit: number;
  /** Test images for k-NN, the probe and the collapse check (0 = all 10,000). */
  testLimit: number;
}

export interface DinoKnnConfig extends KnnOptions {
  /** Labelled training images in the bank: the first N (0 = all of the training images). */
  bank: number;
}

export interface DinoProbeConfig {
  /** Labelled training images of the probe: the first N. */
  trainLimit: number;
  steps: number;
  lr: number;
  l2: number;
  batchSize: number;
}

export const DINO_KNN_DEFAULTS: DinoKnnConfig = { ...KNN_DEFAULTS, bank: 10_000 };
export const DINO_PROBE_DEFAULTS: DinoProbeConfig = { trainLimit: 10_000, steps: 300, lr: 0.05, l2: 1e-3, batchSize: 250 };

/** Everything that determines a DINO run's result, every default written out: the cache key and the saved config. */
export interface DinoResolvedRun {
  task: "image-dino";
  arm: string;
  data: DinoDataConfig;
  model: DINOConfig;
  normResolved: NormOptions;
  train: TrainConfig;
  knn: DinoKnnConfig;
  probe: DinoProbeConfig;
}

export interface DinoRunBase {
  task: "image-dino";
  model: Partial<DINOConfig>;
  train: Partial<TrainConfig>;
  data: Omit<DinoDataConfig, "dataset">;
  knn?: Partial<DinoKnnConfig>;
  probe?: Partial<DinoProbeConfig>;
}

export interface DinoProbeResult extends ProbeResult {
  nTrain: number;
  nTest: number;
  featureDim: number;
  init: ProbeResult;
}

export interface DinoRunResult extends TrainedRunResult {
  finalAlpha?: Record<string, number>;
  params: number;
  /** k-NN accuracy (fraction) of the same network at initialisation: the learned rule's reference. */
  knnInit?: { val: number; test: number };
  /** The teacher's entropies on the test split (nats) and ln outDim. */
  collapse?: { teacherEntropy: number; marginalEntropy: number; lnOutDim: number };
  probe?: DinoProbeResult;
}

export function isDinoBase(b: object): b is DinoRunBase {
  return (b as Partial<DinoRunBase>).task === "image-dino";
}

/** The fully resolved config of arm `a` at `seed` on a DINO base. */
export function resolveDinoRun(base: DinoRunBase, a: Arm, seed: number, overrides: { lr?: number; model?: Partial<DINOConfig>; train?: Partial<TrainConfig> } = {}): DinoResolvedRun {
  if (a.lm) throw new Error(`arm "${a.id}" is a language-model arm; a DINO run needs a vision arm (e.g. "${a.norm}")`);
  if (a.method || a.placement || a.dit) throw new Error(`arm "${a.id}" sets a residual method, a placement or DiT settings; DINO runs take norm arms`);
  const model = resolveDINOConfig({ ...base.model, ...overrides.model, norm: a.norm, normOptions: { ...base.model.normOptions, ...overrides.model?.normOptions, ...a.normOptions }, seed });
  const bb = { ...DINO_DEFAULTS.backbone, ...model.backbone };
  if (bb.imageSize !== 28 || bb.channels !== 1) throw new Error(`DINO task: the backbone's image (${bb.imageSize} px, ${bb.channels} ch) does not fit Fashion-MNIST (28 px, 1 ch)`);
  const trainCfg: TrainConfig = { ...TRAIN_DEFAULTS, ...base.train, ...a.train, ...overrides.train, seed };
  if (overrides.lr !== undefined) trainCfg.lr = overrides.lr;
  validateTrainConfig(trainCfg);
  const knn: DinoKnnConfig = { ...DINO_KNN_DEFAULTS, ...base.knn };
  if (!Number.isInteger(knn.k) || knn.k < 1 || !(knn.temperature > 0) || !(knn.bank >= 0)) throw new Error(`DINO task: knn needs k >= 1, temperature > 0 and bank >= 0, got k ${knn.k}, temperature ${knn.temperature}, bank ${knn.bank}`);
  return {
    task: "image-dino",
    arm: a.id,
    data: { dataset: "fashion-mnist", trainLimit: base.data.trainLimit, testLimit: base.data.testLimit },
    model,
    normResolved: resolveNormOptions(model.norm, model.normOptions),
    train: trainCfg,
    knn,
    probe: { ...DINO_PROBE_DEFAULTS, ...base.probe },
  };
}

/** Training images of a DINO base (for epochs -> steps). */
export function dinoTrainSize(d: Pick<DinoDataConfig, "trainLimit">): number {
  return d.trainLimit > 0 ? Math.min(d.trainLimit, 55_000) : 55_000;
}

export function describeDinoBase(base: DinoRunBase, epochs: number, steps: number): string {
  const m = resolveDINOConfig(base.model);
  const b = m.backbone;
  const c = m.crops;
  const k = { ...DINO_KNN_DEFAULTS, ...base.knn };
  return `DINO: ViT backbone width ${b.dim}, depth ${b.depth}, ${b.patchSize}×${b.patchSize} patches; head ${m.headHidden}-${m.headHidden}-${m.headBottleneck} to ${m.outDim} prototypes; 2 global ${c.globalSize}-px views (scale ${c.globalScale.join("-")}) + ${c.localCrops} local ${c.localSize}-px views (scale ${c.localScale.join("-")}); temperatures ${m.studentTemp} (student) / ${m.teacherTemp} (teacher), centre momentum ${m.centerMomentum}, teacher EMA ${m.teacherMomentum}→1; trained on ${dinoTrainSize(base.data).toLocaleString("en")} Fashion-MNIST images without labels for ${epochs} epoch(s) (${steps} steps, batch ${base.train.batchSize ?? TRAIN_DEFAULTS.batchSize}), AdamW, 5 % warmup + cosine; scored by the teacher's ${k.k}-NN accuracy (T ${k.temperature}, ${k.bank.toLocaleString("en")} labelled training images as the bank) and a linear probe on its frozen class token`;
}


/** Linear probe on the frozen teacher's class token. */
function probeTeacher(dino: DINO, p: DinoProbeConfig, tr: ImageDataset, te: ImageDataset): ProbeResult & { featureDim: number } {
  return linearProbeImages((ds) => dinoFeatures(dino, ds, ds.n, p.batchSize), tr, te, p);
}

/** Train one DINO, then score it: k-NN (and at init), collapse check, probe (and at init); see the header. */
export async function runDinoTask(r: DinoResolvedRun, runDir: string | undefined, label: string): Promise<DinoRunResult> {
  const all = fashionSplits(r.data.trainLimit, 0);
  const d = { ...all, test: firstExamples(all.test, r.data.testLimit) };
  const { bank, ...knn } = r.knn;
  const model = new DINO(r.model);
  try {
    const task = dinoTask(d.train, d.val, { seed: r.train.seed, bank, knn });
    const res = await train(model, task, r.train, { runDir, hooks: [alphaTraceHook()], label });
    if (res.status !== "completed") return trainedFields(res, model);
    const te = evaluateDino(model, d.train, bank, d.test, 0, r.train.evalBatchSize, r.train.seed ^ 0x7e57, knn);
    const ptr = firstExamples(d.train, r.probe.trainLimit);
    const { featureDim, ...scores } = probeTeacher(model, r.probe, ptr, d.test);
    const fresh = new DINO(r.model);
    let knnInit: { val: number; test: number };
    let init: ProbeResult;
    try {
      // One pass over the bank serves both splits.
      const [val, test] = dinoKnnSplits(fresh, d.train, bank, [{ query: d.val, limit: r.train.evalLimit }, { query: d.test, limit: 0 }], r.train.evalBatchSize, knn) as [number, number];
      knnInit = { val, test };
      const { featureDim: _unused, ...s } = probeTeacher(fresh, r.probe, ptr, d.test);
      init = s;
    } finally {
      fresh.dispose();
    }
    const s = te.stats!;
    return {
      ...trainedFields(res, model),
      test: { loss: te.loss, acc: te.acc },
      knnInit,
      collapse: { teacherEntropy: s.teacherEntropy!, marginalEntropy: s.marginalEntropy!, lnOutDim: s.lnOutDim! },
      probe: { ...scores, nTrain: ptr.n, nTest: d.test.n, featureDim, init },
    };
  } finally {
    model.dispose();
  }
}
