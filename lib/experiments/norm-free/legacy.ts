/**
 * The pre-protocol norm-free training setup, kept only for quantization.ts,
 * which trains "the LN and DyT models of the norm-free experiment" with it
 * until it moves onto the protocol; delete this file then.
 */
import type { ViTConfig } from "../../models/vit";
import type { TrainConfig } from "../../train/trainer";
import type { Scale } from "../scale";
import { VIT_SMALL } from "../sizes";

export const NORM_FREE_V1_SCALES: Record<Scale, { model: Partial<ViTConfig>; train: Partial<TrainConfig>; trainLimit: number }> = {
  smoke: {
    model: { ...VIT_SMALL },
    train: { steps: 12, batchSize: 32, warmupSteps: 3, evalEvery: 12, evalLimit: 128, logEvery: 4, checkpointEvery: 0, lr: 1e-3 },
    trainLimit: 1000,
  },
  quick: {
    model: { dim: 32, depth: 3, heads: 4, patchSize: 7 },
    train: { steps: 250, batchSize: 64, warmupSteps: 25, evalEvery: 125, evalLimit: 1000, logEvery: 10, checkpointEvery: 125, lr: 1e-3 },
    trainLimit: 0,
  },
  full: {
    model: { dim: 32, depth: 3, heads: 4, patchSize: 7 },
    train: { steps: 400, batchSize: 64, warmupSteps: 40, evalEvery: 100, evalLimit: 1000, logEvery: 10, checkpointEvery: 100, lr: 1e-3 },
    trainLimit: 0,
  },
};

/** "ViT width 32, depth 3, 400 steps (batch 64, lr 0.001), 3 seeds": what a pre-protocol verdict holds for. */
export function vitRunSetup(c: { model: Partial<ViTConfig>; train: Partial<TrainConfig> } | undefined, seeds?: number): string {
  if (!c) return "no runs";
  const m = c.model;
  const base = `ViT width ${m.dim ?? "?"}, depth ${m.depth ?? "?"}, ${c.train.steps ?? "?"} steps (batch ${c.train.batchSize ?? "?"}, lr ${c.train.lr ?? "?"})`;
  return seeds ? `${base}, ${seeds} seeds` : base;
}
