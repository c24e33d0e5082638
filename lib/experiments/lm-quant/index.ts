import { claimRow, summaryVerdict } from "../claims";
import type { ExperimentEntry } from "../entry";
import { saveFigures } from "../protocol/figures";
import { lmOutlierTrackFigure, lmQuantIncreaseFigure, lmTensorFigure } from "./figures";
import { LM_QUANT, runLmQuant, type LmQuantSummary } from "./spec";

export * from "./spec";
export * from "./figures";

const NOTEBOOK = "notebooks/19-lm-outliers-quant.ipynb";

export const lmQuantEntry: ExperimentEntry = {
  name: LM_QUANT,
  description: "LLM.int8() outlier features and post-training int8/FP8 fake quantisation of the LLaMA-style byte-level LM, RMSNorm vs DyT at lm-rmsnorm-dyt's tuned lrs, widths 64 and 128 (R-outliers, R-quant on the LM)",
  flags: "(none)",
  run: async (ctx) => {
    const out = await runLmQuant(ctx);
    await saveFigures(LM_QUANT, ctx.scale, {
      increase: lmQuantIncreaseFigure(out.summary),
      "outliers-over-training": lmOutlierTrackFigure(out.records, out.summary),
      "max-over-rms-over-training": lmOutlierTrackFigure(out.records, out.summary, "maxOverRms"),
      kurtosis: lmTensorFigure(out.records, "kurtosis", ctx.scale),
    });
    return out;
  },
  claims: (raw) => {
    const s = raw as LmQuantSummary;
    const paper = "reviewer question (the paper does not study outliers or quantisation); the ViT version is R-outliers / R-quant";
    const row = (id: string, claim: string, v: LmQuantSummary["outliers"]) => claimRow(summaryVerdict(v), { id, claim, paper, ours: `${s.setup}: ${v.statement}`, notebook: NOTEBOOK, scale: s.scale });
    return [
      row("R-outliers (LM)", "DyT language models have fewer activation outlier features (LLM.int8(): |x| ≥ 6) at the quantised Linear inputs than RMSNorm ones", s.outliers),
      row("R-quant (LM)", `DyT language models lose no more test bits per byte than RMSNorm ones under post-training W8A8 int8 / FP8 quantisation (every scheme, within ${s.quantization.evidence?.margin ?? 0.02} bpb)`, s.quantization),
    ];
  },
};
