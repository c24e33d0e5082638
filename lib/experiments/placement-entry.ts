import type { ExperimentEntry } from "./entry";
import { csv } from "./entry";
import type { NormKind } from "../norms/types";
import { PLACEMENT, runPlacement, type PlacementSummary } from "./placement";

export const placementEntry: ExperimentEntry = {
  name: PLACEMENT,
  description: "Norm placement (pre / post / res-post) x LayerNorm vs DyT x depth on the same ViT",
  flags: "--norm layernorm,dyt",
  run: (ctx, flags) => {
    const norms = csv(flags.norm) as NormKind[] | undefined;
    return runPlacement(ctx, norms ? { norms } : {});
  },
  claims: (raw) => {
    const s = raw as PlacementSummary;
    return [
      {
        id: "R-placement",
        claim: "DyT replaces LayerNorm in pre-, post- and res-post-norm blocks at every depth tested",
        paper: "reviewer question; the paper uses each model's own (mostly pre-norm) placement",
        ours: `${s.setup}: ${s.statement}`,
        verdict: s.verdict,
        notebook: "notebooks/11-placement.ipynb",
        scale: s.scale,
      },
    ];
  },
};
