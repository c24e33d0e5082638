import { claimRow, summaryVerdict } from "../claims";
import type { ExperimentEntry } from "../entry";
import { QUANTIZATION, runQuantization, type QuantizationSummary } from "./spec";

export * from "./spec";
export * from "./measure";
export * from "./figures";

const NOTEBOOK = "notebooks/10-outliers-quantization.ipynb";

export const quantizationEntry: ExperimentEntry = {
  name: QUANTIZATION,
  description: "Activation outliers (LLM.int8 rule, kurtosis) and post-training int8/FP8 fake quantisation, LN vs DyT ViTs each at its tuned lr",
  flags: "(none)",
  run: (ctx) => runQuantization(ctx),
  claims: (raw) => {
    const s = raw as QuantizationSummary;
    const paper = "reviewer question (the paper does not study outliers or quantisation)";
    const row = (id: string, claim: string, v: QuantizationSummary["outliers"]) => claimRow(summaryVerdict(v), { id, claim, paper, ours: `${s.setup}: ${v.statement}`, notebook: NOTEBOOK, scale: s.scale });
    return [
      row("R-outliers", "DyT models have fewer activation outlier features (LLM.int8(): |x| ≥ 6) at the quantised Linear inputs than LN models", s.outliers),
      row("R-quant", "DyT models lose no more accuracy than LN models under post-training W8A8 int8 / FP8 quantisation (every scheme, within 1 point)", s.quantization),
    ];
  },
};
