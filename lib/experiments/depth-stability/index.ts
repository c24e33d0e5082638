import { claimRow, summaryVerdict } from "../claims";
import type { ExperimentEntry } from "../entry";
import { csv } from "../entry";
import { describeEffect } from "../protocol/verdict";
import { DEPTH_ARM_IDS, DEPTH_STABILITY, runDepthStability, type DepthStabilitySummary } from "./spec";

export * from "./spec";
export * from "./figures";

export const depthStabilityEntry: ExperimentEntry = {
  name: DEPTH_STABILITY,
  description: "Stability with depth: LN/DyT pre/post and the norm-free methods at several depths (run classes, spikes, max activation, attention entropy)",
  flags: `--norm ${DEPTH_ARM_IDS.join(",")} (arm ids)`,
  run: (ctx, flags) => {
    const arms = csv(flags.norm);
    return runDepthStability(ctx, arms ? { arms } : {});
  },
  claims: (raw) => {
    const s = raw as DepthStabilitySummary;
    return [
      claimRow(summaryVerdict(s), {
        id: "R-depth",
        claim: "DyT trains stably at every depth where LayerNorm does (learns on every seed, DyT − LN test accuracy > −1 point, pre- and post-norm), and the norm-free methods break first as depth grows",
        paper: "reviewer question; the paper trains each model at its standard depth",
        ours: `${s.evidence ? `(a) weakest cell ${describeEffect(s.evidence)}. ` : ""}${s.statement} Setup: ${s.setup}.`,
        notebook: "notebooks/13-depth-stability.ipynb",
        scale: s.scale,
      }),
    ];
  },
};
