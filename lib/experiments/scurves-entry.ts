import type { ExperimentEntry } from "./entry";
import { runScurves, SCURVES, type ScurvesSummary } from "./scurves";

export const scurvesEntry: ExperimentEntry = {
  name: SCURVES,
  description: "LayerNorm input->output S-curves per layer (tanh vs linear fits), LN ViT on Fashion-MNIST (claim 3)",
  flags: "(none)",
  run: (ctx) => runScurves(ctx),
  claims: (raw) => {
    const s = raw as ScurvesSummary;
    return [
      {
        id: "3",
        claim: "LayerNorm input-output maps look tanh-like (S-shaped) in deeper layers, linear in early ones",
        paper: "Figures 2-4: ViT-B, wav2vec 2.0, DiT; early LN layers mostly linear, deeper ones S-shaped",
        ours: `LN ViT (depth ${s.depth}) on Fashion-MNIST, ${s.tokensPerLayer} tokens/layer on a fixed probe batch, test acc ${s.testAcc.mean.toFixed(1)}%: ${s.statement}`,
        verdict: s.verdict,
        notebook: "notebooks/02-layernorm-s-curves.ipynb",
        scale: s.scale,
      },
    ];
  },
};
