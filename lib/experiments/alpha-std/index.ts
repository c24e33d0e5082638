import { claimRow, summaryVerdict } from "../claims";
import type { ExperimentEntry } from "../entry";
import { ALPHA_STD, ALPHA_STD_RULE, runAlphaStd, type AlphaStdSummary } from "./spec";

export * from "./spec";
export * from "./figures";

export const alphaStdEntry: ExperimentEntry = {
  name: ALPHA_STD,
  description: "Does DyT's learned alpha track 1/std of its input, across layers (block norms, and with the final norm) and during training? (claim 4)",
  flags: "(none)",
  run: (ctx) => runAlphaStd(ctx),
  claims: (raw) => {
    const s = raw as AlphaStdSummary;
    return [
      claimRow(summaryVerdict(s), {
        id: "4",
        claim: `DyT's learned alpha tracks 1/std of the layer's input across layers: mean r(alpha, 1/std) over the block DyT layers ≥ ${ALPHA_STD_RULE.minR} with its CI above 0, the same with the final norm included`,
        paper: "Figures 8-9: alpha and 1/std move together during training and correlate across layers (ViT-B, ConvNeXt-B)",
        ours: `${s.setup}; test acc ${s.testAcc.mean.toFixed(1)} %: ${s.statement}`,
        notebook: "notebooks/03-alpha-tracks-inv-std.ipynb",
        scale: s.scale,
      }),
    ];
  },
};
