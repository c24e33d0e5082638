import type { ExperimentEntry } from "./entry";
import { INVARIANCE, runInvariance, type InvarianceSummary } from "./invariance";

export const invarianceEntry: ExperimentEntry = {
  name: INVARIANCE,
  description: "Rescaling invariances of LN / RMSNorm / DyT (numerical) and LN vs DyT ViTs trained on 0.1x / 1x / 10x input images",
  flags: "(none)",
  run: (ctx) => runInvariance(ctx),
  claims: (raw) => {
    const s = raw as InvarianceSummary;
    return [
      {
        id: "R-invariance",
        claim: "LayerNorm's rescaling invariances (lost in DyT, which only reparameterises alpha) make training insensitive to the input scale; DyT's training is not",
        paper: "Not in the paper (reviewer question); theory: Ba et al. 2016, Table 1",
        ours: s.statement,
        verdict: s.verdict,
        notebook: "notebooks/07-rescaling-invariance.ipynb",
        scale: s.scale,
      },
    ];
  },
};
