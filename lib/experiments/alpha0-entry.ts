import type { ExperimentEntry } from "./entry";
import { ALPHA0, runAlpha0, type Alpha0Summary } from "./alpha0";

const NOTEBOOK = "notebooks/04-alpha0-sensitivity.ipynb";

export const alpha0Entry: ExperimentEntry = {
  name: ALPHA0,
  description: "DyT α₀ sensitivity: α₀ x learning rate x model width grid, early convergence, divergence (paper §7, claim 7)",
  flags: "(none)",
  run: (ctx) => runAlpha0(ctx),
  claims: (raw) => {
    const s = raw as Alpha0Summary;
    const row = (id: string, claim: string, paper: string, ours: string, verdict: string) => ({ id, claim, paper, ours, verdict, notebook: NOTEBOOK, scale: s.scale });
    const cells = s.bySize
      .map((b) => `${b.size} (best lr ${b.bestLr}): ${s.alpha0s.map((a, j) => `α₀ ${a} ${fmt(b.acc[s.lrs.indexOf(b.bestLr)]![j]!)}`).join(", ")}`)
      .join("; ");
    return [
      row("7", "Vision models are insensitive to α₀ (a wide range trains to similar accuracy)", "§7 / Fig. 9-10: ViT trains over α₀ 0.5-1.2+ with little change; large α₀ with large lr diverges", `Fashion-MNIST test %: ${cells}. ${s.insensitive.statement}`, s.insensitive.verdict),
      row("7-early", "α₀ affects early convergence", "§7: α₀ changes early training speed", s.early.statement, s.early.verdict),
      row("7-width", "Larger (wider) models prefer smaller α₀", "§7 / Table 11: LLMs need smaller α₀ as width grows (the paper reports this for LLMs, not ViTs)", s.width.statement, s.width.verdict),
    ];
  },
};

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toFixed(1) : "div.";
}
