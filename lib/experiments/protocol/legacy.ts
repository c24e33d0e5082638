/**
 * The pre-protocol experiments' entry into the one training path: their
 * configs (partial model/train + data limits) resolved exactly as before and
 * handed to runVitTask. Kept until each of them moves onto the runner.
 */
import type { NormKind } from "../../norms/types";
import { resolveViTConfig, type ViTConfig } from "../../models/vit";
import { resolveNormOptions } from "../../norms/factory";
import { TRAIN_DEFAULTS, type TrainConfig, type TrainHook } from "../../train/trainer";
import { runVitTask, type PrepareModel, type VitRunResult } from "./task";

export type { TrainedRunResult, VitRunResult, PrepareModel } from "./task";
export { fashionSplits, CALIBRATION_BATCH } from "./task";

/** A pre-protocol experiment's run config (partial model and train settings, data limits). */
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

/** Train one ViT with `norm` and `seed` on Fashion-MNIST and evaluate it on the test split. */
export async function runVitFashionOne(
  cfg: Pick<VitFashionConfig, "model" | "train" | "trainLimit" | "testLimit">,
  norm: NormKind,
  seed: number,
  runDir: string | undefined,
  label: string,
  prepare?: PrepareModel,
  hooks: TrainHook[] = [],
): Promise<VitRunResult> {
  const model = resolveViTConfig({ ...cfg.model, norm, seed });
  return runVitTask(
    {
      task: "vit-fashion",
      arm: norm,
      data: { dataset: "fashion-mnist", trainLimit: cfg.trainLimit, testLimit: cfg.testLimit },
      model,
      normResolved: resolveNormOptions(model.norm, model.normOptions),
      train: { ...TRAIN_DEFAULTS, ...cfg.train, seed },
      hooks: [],
    },
    runDir,
    label,
    { ...(prepare ? { prepare } : {}), hooks },
  );
}
