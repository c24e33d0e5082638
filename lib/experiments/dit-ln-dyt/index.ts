import { claimRow } from "../claims";
import type { ExperimentEntry } from "../entry";
import { saveFigures } from "../protocol/figures";
import { RULES } from "../protocol/rules";
import { ditFdFigure, ditHeldOutFigure, ditSamplesFigure, ditTuningFigure } from "./figures";
import { DIT_LN_DYT, runDitLnDyt, type DitSummary } from "./spec";
import { runDitSizing } from "./sizing";

export * from "./spec";
export * from "./figures";
export * from "./sizing";

const NOTEBOOK = "notebooks/26-dit-ln-dyt.ipynb";
const PAPER = "DiT-B/4, L/4, XL/2 on ImageNet 256: FID LN 64.9 / 45.9 / 19.9, DyT 63.9 / 45.7 / 20.8 (paper.md, Results); the DyT arm drops adaLN-Zero's zero init";

export const ditLnDytEntry: ExperimentEntry = {
  name: DIT_LN_DYT,
  description: "class-conditional DiT denoising Fashion-MNIST: LayerNorm (adaLN-Zero) vs DyT without adaLN-Zero (the paper's arm) and DyT with it (a reviewer's), each at its tuned lr, paired over seeds on the Fréchet distance of DDIM samples in a ViT classifier's features (an FID proxy) (claim 2, DiT)",
  flags: "--sizing (only the budget probe: one LayerNorm DiT on the tuning seed, samples scored at each quarter of 8 epochs; results/dit-ln-dyt-sizing/)",
  run: async (ctx, flags) => {
    if (flags.sizing !== undefined) {
      if (flags.sizing !== "true") throw new Error(`${DIT_LN_DYT}: --sizing takes no value, got "${flags.sizing}"`);
      return runDitSizing(ctx);
    }
    const out = await runDitLnDyt(ctx);
    const first = (arm: string) => out.records.filter((r) => r.role === "eval" && r.arm === arm).sort((a, b) => a.seed - b.seed)[0];
    const samples = Object.fromEntries(
      out.summary.arms.flatMap((a) => {
        const r = first(a.arm);
        return r ? [[`samples-${a.arm}`, ditSamplesFigure(r)]] : [];
      }),
    );
    await saveFigures(DIT_LN_DYT, ctx.scale, { "held-out": ditHeldOutFigure(out.records, out.summary), fd: ditFdFigure(out.summary), tuning: ditTuningFigure(out.summary), ...samples });
    return out;
  },
  claims: (raw) => {
    const s = raw as DitSummary;
    const ln = s.arms[0];
    return s.claims.map((c, i) => {
      const a = s.arms[i + 1]!;
      return claimRow(
        { outcome: c.verdict, reason: c.reason, ...(c.evidence ? { evidence: c.evidence } : {}) },
        {
          id: `${c.id} (${a.label})`,
          claim: `${a.label} matches ${ln.label} in a class-conditional DiT: the Fréchet distance of its samples (ViT features, an FID proxy) at most ${RULES.ditMatchFdRatio}× ${ln.label}'s, each at its own tuned lr, paired over seeds`,
          paper: PAPER,
          ours: `${c.statement} Setup: ${s.setup}.`,
          notebook: NOTEBOOK,
          scale: s.scale,
        },
      );
    });
  },
};
