import { claimRow } from "../claims";
import type { ExperimentEntry } from "../entry";
import { saveFigures } from "../protocol/figures";
import { heldOutFigure, lmTuningFigure, trainLossFigure } from "./figures";
import { describeBpbGap, LM_RMSNORM_DYT, runLmRmsnormDyt, type LmRmsnormDytSummary } from "./spec";

export * from "./spec";
export * from "./figures";

export const lmRmsnormDytEntry: ExperimentEntry = {
  name: LM_RMSNORM_DYT,
  description: "LLaMA-style byte-level LM on English text, RMSNorm vs DyT (paper's LLaMA recipe) at each one's tuned lr, paired over seeds on test bits per byte (claim 2, LLM)",
  flags: "(none)",
  run: async (ctx) => {
    const out = await runLmRmsnormDyt(ctx);
    await saveFigures(LM_RMSNORM_DYT, ctx.scale, {
      "train-loss": trainLossFigure(out.records, out.summary),
      "held-out": heldOutFigure(out.records, out.summary),
      tuning: lmTuningFigure(out.summary),
    });
    return out;
  },
  claims: (raw) => {
    const s = raw as LmRmsnormDytSummary;
    const [a, b] = s.arms;
    return [
      claimRow({ outcome: s.verdict, reason: s.reason, ...(s.evidence ? { evidence: s.evidence } : {}) }, {
        id: "LM-1",
        claim: `DyT matches RMSNorm on a LLaMA-style LM: DyT's test bits per byte at most ${s.evidence?.margin ?? 0.02} above RMSNorm's, each at its own tuned lr, paired over seeds`,
        paper: "LLaMA 7B, 13B, 34B, 70B (200B tokens): DyT and RMSNorm reach equal training loss and equal average zero-shot accuracy on 15 tasks (paper.md, Results)",
        ours: `${s.evidence ? `${describeBpbGap(s.evidence, a.label, b.label)}. ` : ""}${s.statement} Setup: ${s.setup}.`,
        notebook: "notebooks/14-lm-rmsnorm-vs-dyt.ipynb",
        scale: s.scale,
      }),
    ];
  },
};
