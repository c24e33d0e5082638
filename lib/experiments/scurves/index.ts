import { claimRow, summaryVerdict } from "../claims";
import type { ExperimentEntry } from "../entry";
import { runScurves, SCURVES, type ScurvesSummary } from "./spec";

export * from "./spec";
export * from "./figures";

export const scurvesEntry: ExperimentEntry = {
  name: SCURVES,
  description: "LayerNorm input->output S-curves per layer (tanh vs linear fits), LN ViT at its tuned lr on Fashion-MNIST (claim 3)",
  flags: "(none)",
  run: (ctx) => runScurves(ctx),
  claims: (raw) => {
    const s = raw as ScurvesSummary;
    return [
      claimRow(summaryVerdict(s), {
        id: "3",
        claim: "LayerNorm input-output maps look tanh-like (S-shaped) in deeper layers, linear in early ones: deep − early ΔR² > 0 and deep ΔR² > 0.01, paired over seeds",
        paper: "Figures 2-4: ViT-B, wav2vec 2.0, DiT; early LN layers mostly linear, deeper ones S-shaped",
        ours: `${s.setup}; ${s.tokensPerLayer} tokens/layer on a fixed probe batch; test acc ${s.testAcc.mean.toFixed(1)} %: ${s.statement}`,
        notebook: "notebooks/02-layernorm-s-curves.ipynb",
        scale: s.scale,
      }),
    ];
  },
};
