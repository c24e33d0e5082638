import { claimRow, summaryVerdict } from "../claims";
import type { ExperimentEntry } from "../entry";
import { csv } from "../entry";
import { describeEffect } from "../protocol/verdict";
import { PLACEMENT, runPlacement, type PlacementSummary } from "./spec";

export * from "./spec";
export * from "./figures";

export const placementEntry: ExperimentEntry = {
  name: PLACEMENT,
  description: "Norm placement (pre / post / res-post) x LayerNorm vs DyT x depth on the same ViT, each arm at its tuned lr",
  flags: "--norm dyt,layernorm (arm ids: the claim is that the first replaces the second)",
  run: (ctx, flags) => {
    const norms = csv(flags.norm);
    if (norms && norms.length !== 2) throw new Error(`${PLACEMENT}: --norm takes two arm ids (A,B: "A replaces B"), got ${norms.join(",")}`);
    return runPlacement(ctx, norms ? { norms: [norms[0]!, norms[1]!] } : {});
  },
  claims: (raw) => {
    const s = raw as PlacementSummary;
    return [
      claimRow(summaryVerdict(s), {
        id: "R-placement",
        claim: "DyT replaces LayerNorm in pre-, post- and res-post-norm blocks at every depth tested: where LN learns on every seed, DyT does too and DyT − LN test accuracy > −1 point (paired, each at its tuned lr)",
        paper: "reviewer question; the paper uses each model's own (mostly pre-norm) placement",
        ours: `${s.evidence ? `weakest cell ${describeEffect(s.evidence)}. ` : ""}${s.statement} Setup: ${s.setup}.`,
        notebook: "notebooks/11-placement.ipynb",
        scale: s.scale,
      }),
    ];
  },
};
