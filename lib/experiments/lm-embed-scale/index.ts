import { claimRow } from "../claims";
import type { ExperimentEntry } from "../entry";
import { saveFigures } from "../protocol/figures";
import { heldOutFigure, trainLossFigure } from "../lm-rmsnorm-dyt/figures";
import { describeBpbGap } from "../lm-rmsnorm-dyt/spec";
import { LM_EMBED_SCALE, runLmEmbedScale, type LmEmbedScaleSummary } from "./spec";

export * from "./spec";

const NOTEBOOK = "notebooks/20-lm-embed-scale.ipynb";

export const lmEmbedScaleEntry: ExperimentEntry = {
  name: LM_EMBED_SCALE,
  description: "The learnable scalar (init √d) after the LLaMA-style LM's embedding, ablated: {DyT (LLaMA recipe), RMSNorm} x {with, without}, at lm-rmsnorm-dyt's tuned lr, paired over seeds on test bits per byte (R-embed-scale)",
  flags: "(none)",
  run: async (ctx) => {
    const out = await runLmEmbedScale(ctx);
    await saveFigures(LM_EMBED_SCALE, ctx.scale, {
      "train-loss": trainLossFigure(out.records, out.summary),
      "held-out": heldOutFigure(out.records, out.summary),
    });
    return out;
  },
  claims: (raw) => {
    const s = raw as LmEmbedScaleSummary;
    const [a, b] = s.dyt.arms;
    return [
      claimRow(
        { outcome: s.verdict, reason: s.reason, ...(s.evidence ? { evidence: s.evidence } : {}) },
        {
          id: "R-embed-scale (LM)",
          claim: `DyT-LLaMA needs its learnable embedding scalar (init √d): with it, DyT's test bits per byte are lower than without it (refuted when the data exclude a gain of ${s.evidence?.margin ?? 0.02} bpb or more), at the recipe's lr, paired over seeds`,
          paper: "The DyT LLaMA recipe adds a learnable scalar, init √d, after the embedding (paper.md, The layer); no ablation is reported",
          ours: `${s.evidence ? `${describeBpbGap(s.evidence, a.label, b.label)}. ` : ""}${s.statement} Setup: ${s.setup}.`,
          notebook: NOTEBOOK,
          scale: s.scale,
        },
      ),
    ];
  },
};
