import { claimRow } from "../claims";
import type { ExperimentEntry } from "../entry";
import { saveFigures } from "../protocol/figures";
import { heldOutFigure, trainLossFigure } from "../lm-rmsnorm-dyt/figures";
import { LM_NORM_FREE, runLmNormFree, type LmNormFreeSummary } from "./spec";

export * from "./spec";

const NOTEBOOK = "notebooks/22-lm-norm-free.ipynb";
const PAPER = "ViT-B ImageNet top-1: LN 82.3, Fixup 77.2, SkipInit 74.1, σ-Reparam 82.5, DyT 82.8 (Table 9); the paper has no norm-free LLM";

export const lmNormFreeEntry: ExperimentEntry = {
  name: LM_NORM_FREE,
  description: "Claim 8 on the LLaMA-style LM: DyT (LLaMA recipe) against Fixup and SkipInit (ReZero and RMSNorm beside), each at its lr tuned on validation bpb, paired over seeds on test bits per byte (8.fixup (LM), 8.skipinit (LM))",
  flags: "(none)",
  run: async (ctx) => {
    const out = await runLmNormFree(ctx);
    await saveFigures(LM_NORM_FREE, ctx.scale, {
      "train-loss": trainLossFigure(out.records, out.summary),
      "held-out": heldOutFigure(out.records, out.summary),
    });
    return out;
  },
  claims: (raw) => {
    const s = raw as LmNormFreeSummary;
    return s.claims.map((c) =>
      claimRow(
        { outcome: c.outcome, reason: c.reason, ...(c.evidence ? { evidence: c.evidence } : {}) },
        {
          id: c.id,
          claim: `DyT beats ${s.arms.find((a) => a.arm === c.arms[1])?.label ?? c.arms[1]} on the LLaMA-style LM: lower test bits per byte, each at its own lr tuned on validation (seed 101), paired over seeds (refuted when the data exclude a gain of ${c.evidence?.margin ?? 0.02} bpb or more)`,
          paper: PAPER,
          ours: `${c.text}. ${s.statement} Setup: ${s.setup}.`,
          notebook: NOTEBOOK,
          scale: s.scale,
        },
      ),
    );
  },
};
