import { claimRow, type ClaimRow } from "../claims";
import type { ExperimentEntry } from "../entry";
import { saveFigures } from "../protocol/figures";
import type { ClaimVerdict } from "../protocol/verdict";
import { lmAlpha0CornerFigure, lmAlpha0Heatmaps, lmAlpha0WidthFigure } from "./figures";
import { amendmentNote, DEPTH_RULE, LM_ALPHA0, runLmAlpha0, WIDTH_RULE, type LmAlpha0Summary } from "./spec";

export * from "./spec";
export * from "./figures";

const NOTEBOOK = "notebooks/16-lm-alpha0-width.ipynb";
const PAPER = "§7 / Table 11, LLaMA: best α₀ (attention / other) by width 1024 -> 1.0/1.0, 2048 -> 1.0/0.5, 4096 -> 0.8/0.2, 8192 -> 0.2/0.05; wider needs smaller α₀, depth matters less (paper.md)";

export const lmAlpha0Entry: ExperimentEntry = {
  name: LM_ALPHA0,
  description: "DyT α₀ (attention x other) grid on the LLaMA-style byte-level LM at widths 32-128 (depth 2) and width 64 at depth 4, one fixed lr; wider needs smaller α₀, depth matters less, the large-α₀ x large-lr corner (claim 7, LLM part); width 256 (amendment 2026-12-05) has its own row (7-width, to 256 (LM))",
  flags: "(none)",
  run: async (ctx) => {
    const out = await runLmAlpha0(ctx);
    await saveFigures(LM_ALPHA0, ctx.scale, {
      ...Object.fromEntries(lmAlpha0Heatmaps(out.summary).map((h) => [`heatmap-${h.size}`, h.figure])),
      "alpha0-vs-width": lmAlpha0WidthFigure(out.summary),
      corner: lmAlpha0CornerFigure(out.records, out.summary),
    });
    return out;
  },
  claims: (raw) => {
    const s = raw as LmAlpha0Summary;
    const ext = s.widthExtended;
    const row = (id: string, claim: string, v: ClaimVerdict, ours: string): ClaimRow => claimRow(v, { id, claim, paper: PAPER, ours: `${ours} Setup: ${s.setup}.`, notebook: NOTEBOOK, scale: s.scale });
    return [
      row("7-width (LM)", `Wider LLaMA-style LMs need a smaller DyT α₀: ${WIDTH_RULE}`, s.width, s.statement),
      row("7-depth (LM)", `For the α₀ of a LLaMA-style LM, depth matters less than width: ${DEPTH_RULE}`, s.depth, `${s.depth.reason}.${s.depthAsFirstWritten ? ` ${amendmentNote(s.depthAsFirstWritten)}` : ""}`),
      // The width amendment (2026-12-05): its own row, never folded into 7-width (LM). A summary without it (saved
      // before the amendment) gives a not-testable row that says so.
      row(
        "7-width, to 256 (LM)",
        `Wider LLaMA-style LMs need a smaller DyT α₀, with the widest width the amendment of 2026-12-05 adds (full: width 256) on 7-width (LM)'s ladder: ${WIDTH_RULE}`,
        ext ? { outcome: ext.verdict, reason: ext.reason } : { outcome: "not testable", reason: "not in this summary (saved before the width amendment of 2026-12-05)" },
        `${ext?.statement ?? "The width amendment is not in this summary (saved before it)."} Pre-registered 2026-12-05 after the results at widths 32-128 were seen, before any width-256 run (7-width (LM) and 7-depth (LM) are unchanged).`,
      ),
    ];
  },
};
