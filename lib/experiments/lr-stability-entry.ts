import type { ExperimentEntry } from "./entry";
import { csv } from "./entry";
import { LR_STABILITY, runLrStability, type LrStabilitySummary } from "./lr-stability";

export const lrStabilityEntry: ExperimentEntry = {
  name: LR_STABILITY,
  description: "Learning-rate sweep: divergence map, LR sensitivity, loss spikes and gradient norms, LN vs DyT (any norm-free variant via --norm)",
  flags: "--norm layernorm,dyt (variant ids of norm-free)",
  run: (ctx, flags) => {
    const variants = csv(flags.norm);
    return runLrStability(ctx, variants ? { variants } : {});
  },
  claims: (raw) => {
    const s = raw as LrStabilitySummary;
    return [
      {
        id: "R-lr",
        claim: "DyT is as robust to the learning rate as LayerNorm (same stable range, no narrower near-optimal interval)",
        paper: "reviewer question; the paper notes large α0 with large lr can diverge (LLMs)",
        ours: `${s.setup}: ${s.statement}`,
        verdict: s.verdict,
        notebook: "notebooks/09-lr-stability.ipynb",
        scale: s.scale,
      },
    ];
  },
};
