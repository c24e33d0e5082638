import { claimRow, summaryVerdict } from "../claims";
import type { ExperimentEntry } from "../entry";
import { saveFigures } from "../protocol/figures";
import { heldOutFigure, trainLossFigure } from "../lm-rmsnorm-dyt/figures";
import { LM_FP8_TRAIN, runLmFp8, type LmFp8Summary } from "./spec";

export * from "./spec";

const NOTEBOOK = "notebooks/23-lm-fp8-train.ipynb";

export const lmFp8TrainEntry: ExperimentEntry = {
  name: LM_FP8_TRAIN,
  description: "FP8 training of the LLaMA-style LM: every block Linear in emulated FP8 (E4M3 forward, E5M2 backward, per-tensor scaling) for DyT (LLaMA recipe) and RMSNorm at their tuned lrs, against their fp32 runs, paired over seeds on test bits per byte (R-fp8-train (LM))",
  flags: "(none)",
  run: async (ctx) => {
    const out = await runLmFp8(ctx);
    await saveFigures(LM_FP8_TRAIN, ctx.scale, {
      "train-loss": trainLossFigure(out.records, out.summary),
      "held-out": heldOutFigure(out.records, out.summary),
    });
    return out;
  },
  claims: (raw) => {
    const s = raw as LmFp8Summary;
    return [
      claimRow(summaryVerdict(s), {
        id: "R-fp8-train (LM)",
        claim: "FP8 training costs DyT no more than RMSNorm on the LLaMA-style LM: with every block matmul in emulated FP8 (E4M3 forward, E5M2 backward), DyT's rise in test bits per byte over its fp32 run is at most 0.02 bpb above RMSNorm's, paired over seeds; an FP8 run that fails to learn where its fp32 run learned decides the row",
        paper: "reviewer question (the paper trains in bf16 and does not study FP8); the post-training FP8 rows are R-quant (LM)",
        ours: `${s.statement} Setup: ${s.setup}.`,
        notebook: NOTEBOOK,
        scale: s.scale,
      }),
    ];
  },
};
