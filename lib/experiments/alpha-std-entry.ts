import type { ExperimentEntry } from "./entry";
import { ALPHA_STD, runAlphaStd, type AlphaStdSummary } from "./alpha-std";

export const alphaStdEntry: ExperimentEntry = {
  name: ALPHA_STD,
  description: "Does DyT's learned alpha track 1/std of its input, across layers and during training? (claim 4)",
  flags: "(none)",
  run: (ctx) => runAlphaStd(ctx),
  claims: (raw) => {
    const s = raw as AlphaStdSummary;
    return [
      {
        id: "4",
        claim: "DyT's learned alpha tracks 1/std of the layer's input (across layers and during training)",
        paper: "Figures 8-9: alpha and 1/std move together during training and correlate across layers (ViT-B, ConvNeXt-B)",
        ours: `DyT ViT on Fashion-MNIST (${s.seeds.length} seeds, test acc ${s.testAcc.mean.toFixed(1)}%): ${s.statement}`,
        verdict: s.verdict,
        notebook: "notebooks/03-alpha-tracks-inv-std.ipynb",
        scale: s.scale,
      },
    ];
  },
};
