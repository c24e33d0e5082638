import { claimRow, type ClaimRow } from "../claims";
import type { ExperimentEntry } from "../entry";
import { csv } from "../entry";
import { describeEffect } from "../protocol/verdict";
import { NORM_FREE, NORM_FREE_ARMS, runNormFree, type Claim8Comparison, type NormFreeSummary } from "./spec";

export * from "./spec";
export * from "./figures";

const PAPER = "ViT-B ImageNet top-1: LN 82.3, Fixup 77.2, SkipInit 74.1, σ-Reparam 82.5, DyT 82.8 (Table 9)";

function row(s: NormFreeSummary, c: Claim8Comparison, how: string): ClaimRow {
  const e = c.evidence;
  const edge = [s.arms.find((a) => a.arm === "dyt"), s.arms.find((a) => a.arm === c.other)].filter((a) => a?.pick.atEdge).map((a) => `${a!.label}'s tuned lr ${a!.pick.bestLr} is at the grid's edge`);
  return claimRow({ outcome: c.outcome, reason: [c.reason, ...edge].join("; "), ...(e ? { evidence: e } : {}) }, {
    id: c.id,
    claim: `DyT ${c.prediction} ${c.b.label} on ViT test accuracy, ${how}`,
    paper: PAPER,
    ours: `DyT − ${c.b.label} ${e ? describeEffect(e) : "no paired evidence"} (lr ${c.a.lr} vs ${c.b.lr}). Setup: ${s.setup}.`,
    notebook: "notebooks/08-norm-free-head-to-head.ipynb",
    scale: s.scale,
  });
}

export const normFreeEntry: ExperimentEntry = {
  name: NORM_FREE,
  description: "DyT vs LN/RMSNorm and norm-free baselines (ReZero, SkipInit, Fixup, T-Fixup, σ-Reparam, NF), each at its tuned lr, on the same ViT (claim 8)",
  // The CLI knows --norm; here it selects arms of the registry.
  flags: `--norm ${NORM_FREE_ARMS.join(",")} (arm ids)`,
  run: (ctx, flags) => {
    const arms = csv(flags.norm);
    return runNormFree(ctx, arms ? { arms } : {});
  },
  claims: (raw) => {
    const s = raw as NormFreeSummary;
    return [
      ...s.comparisons.map((c) => row(s, c, `each at its own lr tuned on validation (seed ${s.tuningSeed})`)),
      ...s.sharedComparisons.map((c) => row(s, c, `secondary: both at ${s.sharedLrArm}'s tuned lr ${s.sharedLr} (the shared recipe)`)),
    ];
  },
};
