import { claimRow } from "../claims";
import type { ExperimentEntry } from "../entry";
import { describeEffect } from "../protocol/verdict";
import { saveFigures } from "../protocol/figures";
import { RULES } from "../protocol/rules";
import { ladderFigure, rungCurvesFigure, tuningFigure } from "./figures";
import { runVitFashion, VIT_FASHION, type VitFashionSummary } from "./spec";

export * from "./spec";
export * from "./figures";

export const vitFashionEntry: ExperimentEntry = {
  name: VIT_FASHION,
  description: "ViT on Fashion-MNIST, LayerNorm vs DyT at each one's tuned lr over a budget ladder (paper Table 1 in miniature)",
  flags: "(none)",
  run: async (ctx) => {
    const out = await runVitFashion(ctx);
    const s = out.summary;
    const rung = s.claimEpochs ?? s.rungs.at(-1)?.epochs;
    await saveFigures(VIT_FASHION, ctx.scale, {
      ladder: s.rungs.some((r) => r.evidence) ? ladderFigure(s, RULES.matchMarginPoints) : undefined,
      curves: rung !== undefined ? rungCurvesFigure(out.records, s, rung) : undefined,
      tuning: tuningFigure(s),
    });
    return out;
  },
  claims: (raw) => {
    const s = raw as VitFashionSummary;
    const claimRung = s.rungs.find((r) => r.epochs === s.claimEpochs);
    const rows = [
      claimRow({ outcome: s.verdict, reason: s.reason, ...(claimRung?.evidence ? { evidence: claimRung.evidence } : {}) }, {
        id: "1",
        claim: "DyT matches LayerNorm on ViT: DyT − LN test accuracy > −1 point, each at its own tuned lr, at the largest budget where every run plateaued",
        paper: "Table 1, ImageNet top-1: ViT-B 82.3 → 82.5, ViT-L 83.1 → 83.6",
        ours: `${claimRung?.evidence ? `DyT − LN ${describeEffect(claimRung.evidence)} at ${claimRung.epochs} epochs. ` : ""}${s.statement} Setup: ${s.setup}.`,
        notebook: "notebooks/01-dyt-vs-layernorm.ipynb",
        scale: s.scale,
      }),
    ];
    if (s.shared) {
      const e = s.shared.evidence;
      rows.push(
        claimRow(s.shared, {
          id: "1-shared",
          claim: `Secondary (shared recipe): DyT matches LayerNorm when trained at LayerNorm's tuned lr (${s.shared.arms[0].lr}), ${s.shared.epochs} epochs`,
          paper: "Table 1 (the paper trains DyT with LN's recipe for ViT)",
          ours: e ? `DyT − LN ${describeEffect(e)}` : "no paired evidence",
          notebook: "notebooks/01-dyt-vs-layernorm.ipynb",
          scale: s.scale,
        }),
      );
    }
    return rows;
  },
};
