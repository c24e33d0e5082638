import { claimRow, summaryVerdict } from "../claims";
import type { ExperimentEntry } from "../entry";
import { saveFigures } from "../protocol/figures";
import { ALPHA_STD_RULE } from "../alpha-std/spec";
import { SCURVES_RULE } from "../scurves/spec";
import { alphaInvStdFigure, lnDeltaFigure, lnMapsFigure } from "./figures";
import { CONVNEXT_SCURVES, runConvnextScurves, type ConvnextScurvesSummary } from "./spec";

export * from "./spec";
export * from "./figures";

const NOTEBOOK = "notebooks/24-convnext-scurves.ipynb";

export const convnextScurvesEntry: ExperimentEntry = {
  name: CONVNEXT_SCURVES,
  description: "ConvNeXt S-curves and alpha: LayerNorm maps early vs deep (claim 3, ConvNeXt) and DyT alpha vs 1/std across layers (claim 4, ConvNeXt), vision-families' ConvNeXt at its tuned lrs",
  flags: "(none)",
  run: async (ctx) => {
    const out = await runConvnextScurves(ctx);
    const s = out.summary;
    const figs: Record<string, ReturnType<typeof lnDeltaFigure>> = { "ln-delta": lnDeltaFigure(s), "alpha-inv-std": alphaInvStdFigure(s) };
    if (s.ln.earlyDeep.length) figs["ln-maps"] = lnMapsFigure(out.records);
    await saveFigures(CONVNEXT_SCURVES, ctx.scale, figs);
    return out;
  },
  claims: (raw) => {
    const s = raw as ConvnextScurvesSummary;
    return [
      claimRow(summaryVerdict(s.ln), {
        id: "3 (ConvNeXt)",
        claim: `ConvNeXt's LayerNorm maps look tanh-like (S-shaped) in deeper layers, linear in early ones: deep − early ΔR² > 0 and deep ΔR² > ${SCURVES_RULE.minDeltaR2}, paired over seeds (layers in forward order without the final norm, first half vs second half)`,
        paper: "Figures 2-4 show ViT-B, wav2vec 2.0 and DiT; a reviewer asked whether it holds for ConvNeXt",
        ours: `${s.setup}; LN test acc ${s.ln.testAcc.mean.toFixed(1)} %: ${s.ln.statement}`,
        notebook: NOTEBOOK,
        scale: s.scale,
      }),
      claimRow(summaryVerdict(s.dyt), {
        id: "4 (ConvNeXt)",
        claim: `ConvNeXt's DyT alpha tracks 1/std of the layer's input across layers: mean r(alpha, 1/std) over every DyT layer ≥ ${ALPHA_STD_RULE.minR} with its CI above 0`,
        paper: "Figures 8-9: alpha and 1/std correlate across layers (ViT-B, ConvNeXt-B)",
        ours: `${s.setup}; DyT test acc ${s.dyt.testAcc.mean.toFixed(1)} %: ${s.dyt.statement}`,
        notebook: NOTEBOOK,
        scale: s.scale,
      }),
    ];
  },
};
