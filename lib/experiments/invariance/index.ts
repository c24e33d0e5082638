import { claimRow, summaryVerdict } from "../claims";
import type { ExperimentEntry } from "../entry";
import { INVARIANCE, runInvariance, type InvarianceSummary } from "./spec";

export * from "./spec";
export * from "./numeric";
export * from "./figures";

export const invarianceEntry: ExperimentEntry = {
  name: INVARIANCE,
  description: "Rescaling invariances of LN / RMSNorm / DyT (numerical) and LN vs DyT ViTs, each at its tuned lr, trained on 0.1x / 1x / 10x input images",
  flags: "(none)",
  run: (ctx) => runInvariance(ctx),
  claims: (raw) => {
    const s = raw as InvarianceSummary;
    return [
      claimRow(summaryVerdict(s), {
        id: "R-invariance",
        claim: "LayerNorm's rescaling invariances (lost in DyT, which only reparameterises alpha) make training insensitive to the input scale (LN at x0.1 and x10 within 1 point of x1); DyT's is not (DyT below x1 at some scale)",
        paper: "Not in the paper (reviewer question); theory: Ba et al. 2016, Table 1",
        ours: `${s.setup}: ${s.statement}`,
        notebook: "notebooks/07-rescaling-invariance.ipynb",
        scale: s.scale,
      }),
    ];
  },
};
