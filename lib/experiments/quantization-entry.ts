import type { ExperimentEntry } from "./entry";
import { csv } from "./entry";
import type { NormKind } from "../norms/types";
import { QUANTIZATION, runQuantization, type QuantizationSummary } from "./quantization";

const NOTEBOOK = "notebooks/10-outliers-quantization.ipynb";

export const quantizationEntry: ExperimentEntry = {
  name: QUANTIZATION,
  description: "Activation outliers (LLM.int8 rule, kurtosis) and post-training int8/FP8 fake quantisation, LN vs DyT ViTs",
  flags: "--norm layernorm,dyt",
  run: (ctx, flags) => {
    const norms = csv(flags.norm) as NormKind[] | undefined;
    return runQuantization(ctx, norms ? { norms } : {});
  },
  claims: (raw) => {
    const s = raw as QuantizationSummary;
    const paper = "reviewer question (the paper does not study outliers or quantisation)";
    return [
      { id: "R-outliers", claim: "DyT models have fewer activation outliers (lower kurtosis) at the quantised Linear inputs than LN models", paper, ours: `${s.setup}: ${s.outliers.statement}`, verdict: s.outliers.verdict, notebook: NOTEBOOK, scale: s.scale },
      { id: "R-quant", claim: "DyT models lose no more accuracy than LN models under post-training W8A8 int8 / FP8 quantisation", paper, ours: `${s.setup}: ${s.quantization.statement}`, verdict: s.quantization.verdict, notebook: NOTEBOOK, scale: s.scale },
    ];
  },
};
