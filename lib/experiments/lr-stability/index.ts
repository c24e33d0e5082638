import { claimRow, summaryVerdict } from "../claims";
import type { ExperimentEntry } from "../entry";
import { csv } from "../entry";
import { LR_STABILITY, runLrStability, type LrStabilitySummary } from "./spec";

export * from "./spec";
export * from "./figures";

export const lrStabilityEntry: ExperimentEntry = {
  name: LR_STABILITY,
  description: "Learning-rate sweep: runs classified (diverged / did not learn / learned), stable ranges and near-optimal intervals, loss spikes and gradient norms, DyT vs LN",
  flags: "--norm dyt,layernorm (arm ids; the claim compares the first two)",
  run: (ctx, flags) => {
    const arms = csv(flags.norm);
    return runLrStability(ctx, arms ? { arms } : {});
  },
  claims: (raw) => {
    const s = raw as LrStabilitySummary;
    return [
      claimRow(summaryVerdict(s), {
        id: "R-lr",
        claim: "DyT is as robust to the learning rate as LayerNorm: its largest lr where every seed learns is no lower, and its near-optimal lr interval no narrower by more than one grid step",
        paper: "reviewer question; the paper notes large α0 with large lr can diverge (LLMs)",
        ours: `${s.statement} Setup: ${s.setup}.`,
        notebook: "notebooks/09-lr-stability.ipynb",
        scale: s.scale,
      }),
    ];
  },
};
