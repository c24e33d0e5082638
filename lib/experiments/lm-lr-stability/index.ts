import { claimRow, summaryVerdict } from "../claims";
import type { ExperimentEntry } from "../entry";
import { csv } from "../entry";
import { saveFigures } from "../protocol/figures";
import { lmLrCurvesFigure, lmLrFigures } from "./figures";
import { LM_LR_STABILITY, runLmLrStability, type LmLrStabilitySummary } from "./spec";

export * from "./spec";
export * from "./figures";

const NOTEBOOK = "notebooks/21-lm-lr-stability.ipynb";

export const lmLrStabilityEntry: ExperimentEntry = {
  name: LM_LR_STABILITY,
  description: "Learning-rate sweep of the LLaMA-style LM: RMSNorm, DyT (LLaMA recipe) and the norm-free methods (ReZero, SkipInit, Fixup), runs classified, stable ranges and near-optimal intervals on test bits per byte, spikes and gradient norms (R-lr (LM))",
  flags: "--norm dyt-lm,rmsnorm,... (arm ids; the claim compares the first two)",
  run: async (ctx, flags) => {
    const arms = csv(flags.norm);
    const out = await runLmLrStability(ctx, arms ? { arms } : {});
    const f = lmLrFigures(out.summary);
    await saveFigures(LM_LR_STABILITY, ctx.scale, { "test-bpb": f.bpb, learned: f.learned, "grad-norm": f.gradNorm, curves: lmLrCurvesFigure(out.records, out.summary) });
    return out;
  },
  claims: (raw) => {
    const s = raw as LmLrStabilitySummary;
    return [
      claimRow(summaryVerdict(s), {
        id: "R-lr (LM)",
        claim: "On the LLaMA-style LM, DyT is as robust to the learning rate as RMSNorm: its largest lr that learns is no lower, and its near-optimal lr interval (test bpb within 2 LM match margins of its best) no narrower by more than one grid step",
        paper: "reviewer question; the paper notes that large α0 with large lr can diverge in LLMs and tunes α0 per width",
        ours: `${s.statement} Setup: ${s.setup}.`,
        notebook: NOTEBOOK,
        scale: s.scale,
      }),
      ...(s.alpha0Variant
        ? [
            claimRow(summaryVerdict(s.alpha0Variant), {
              id: "R-lr.α₀ (LM)",
              claim: `On the LLaMA-style LM, DyT at α₀ ${s.alpha0Variant.alpha0} (every slot) is as robust to the learning rate as RMSNorm, by R-lr (LM)'s rule (amendment pre-registered 2026-12-05, after R-lr (LM) was seen)`,
              paper: "the paper notes that large α0 with large lr can diverge in LLMs and tunes α0 per width; this row asks whether a smaller α0 widens DyT's lr range",
              ours: `${s.alpha0Variant.statement} Setup: ${s.setup}.`,
              notebook: NOTEBOOK,
              scale: s.scale,
            }),
          ]
        : []),
    ];
  },
};
