import type { ExperimentEntry } from "./entry";
import { csv } from "./entry";
import { DEPTH_ARM_IDS, DEPTH_STABILITY, runDepthStability, type DepthStabilitySummary } from "./depth-stability";

export const depthStabilityEntry: ExperimentEntry = {
  name: DEPTH_STABILITY,
  description: "Stability with depth: LN/DyT pre/post and the norm-free methods at several depths (divergence, spikes, max activation, attention entropy)",
  flags: `--norm ${DEPTH_ARM_IDS.join(",")} (arm ids)`,
  run: (ctx, flags) => {
    const arms = csv(flags.norm);
    return runDepthStability(ctx, arms ? { arms } : {});
  },
  claims: (raw) => {
    const s = raw as DepthStabilitySummary;
    return [
      {
        id: "R-depth",
        claim: "DyT trains stably at every depth where LayerNorm does, and the norm-free methods break first as depth grows",
        paper: "reviewer question; the paper trains each model at its standard depth",
        ours: `${s.setup}: ${s.statement}`,
        verdict: s.verdict,
        notebook: "notebooks/13-depth-stability.ipynb",
        scale: s.scale,
      },
    ];
  },
};
