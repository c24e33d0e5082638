import { claimRow, type ClaimRow } from "../claims";
import type { ExperimentEntry } from "../entry";
import { describeParts } from "../protocol/compare";
import type { ClaimVerdict } from "../protocol/verdict";
import { ALPHA0, runAlpha0, type Alpha0Summary } from "./spec";

export * from "./spec";
export * from "./figures";

const NOTEBOOK = "notebooks/04-alpha0-sensitivity.ipynb";

export const alpha0Entry: ExperimentEntry = {
  name: ALPHA0,
  description: "DyT α₀ sensitivity: α₀ × lr grid per width on a tuning seed, then every α₀ at the picked lr over seeds; early convergence (paper §7, claim 7)",
  flags: "(none)",
  run: (ctx) => runAlpha0(ctx),
  claims: (raw) => {
    const s = raw as Alpha0Summary;
    const row = (id: string, claim: string, paper: string, ours: string, v: ClaimVerdict): ClaimRow => claimRow(v, { id, claim, paper, ours: `${ours} Setup: ${s.setup}.`, notebook: NOTEBOOK, scale: s.scale });
    const cells = s.bySize.map((b) => `${b.size} (lr ${b.bestLr}, reference α₀ ${b.reference ?? "—"}): ${b.arms.map((a) => `α₀ ${a.axes.alpha0} ${a.testAcc.n ? a.testAcc.mean.toFixed(1) : "—"}${a.diverged ? ` (${a.diverged} div.)` : ""}`).join(", ")}`).join("; ");
    return [
      row(
        "7",
        "Vision models are insensitive to α₀: every α₀ matches the best α₀ (paired test accuracy, match margin), at each width's picked lr",
        "§7 / Fig. 9-10: ViT trains over α₀ 0.5-1.2+ with little change; large α₀ with large lr diverges",
        `test %: ${cells}. ${describeParts(s.insensitive.parts)}.`,
        s.insensitive,
      ),
      row("7-early", "α₀ affects early convergence: the grid's fastest α₀ beats its slowest in early validation accuracy", "§7: α₀ changes early training speed", `${describeParts(s.early.parts)}.`, s.early),
      row("7-width", "Larger (wider) models prefer smaller α₀", "§7 / Table 11: LLMs need smaller α₀ as width grows (the paper reports this for LLMs, not ViTs)", s.width.statement, s.width),
    ];
  },
};
