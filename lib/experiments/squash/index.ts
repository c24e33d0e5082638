import { claimRow, type ClaimRow } from "../claims";
import type { ExperimentEntry } from "../entry";
import { accCell, describeParts, type ArmResult } from "../protocol/compare";
import type { ClaimVerdict } from "../protocol/verdict";
import { runSquash, SQUASH, type SquashSummary } from "./spec";

export * from "./spec";
export * from "./figures";

const NOTEBOOK = "notebooks/05-squashing-functions.ipynb";

export const squashEntry: ExperimentEntry = {
  name: SQUASH,
  description: "DyT squashing-function ablation: tanh, hardtanh, sigmoid, identity (and more at full); α learned / frozen at 1; identity without clipping (paper Table 7)",
  flags: "(none)",
  run: (ctx) => runSquash(ctx),
  claims: (raw) => {
    const s = raw as SquashSummary;
    const acc = (id: string) => accCell(s.arms.find((a: ArmResult) => a.arm === id));
    const row = (id: string, claim: string, paper: string, ours: string, v: ClaimVerdict): ClaimRow => claimRow(v, { id, claim, paper, ours: `${ours.replace(/\.$/, "")}. Setup: ${s.setup}.`, notebook: NOTEBOOK, scale: s.scale });
    return [
      row(
        "5",
        "Squashing function: tanh beats hardtanh, hardtanh beats sigmoid (α learned; paired test accuracy, each arm at its lr)",
        "Table 7, ViT-B top-1: tanh 82.5, hardtanh 82.2, sigmoid 81.6",
        `test %: tanh ${acc("tanh-learn")}, hardtanh ${acc("hardtanh-learn")}, sigmoid ${acc("sigmoid-learn")}; ${describeParts(s.ordering.parts)}`,
        s.ordering,
      ),
      row("5-identity", "Without squashing (identity, no gradient clipping) training diverges", "Table 7: identity diverges", s.identity.statement, s.identity),
      row(
        "6",
        "Without α (α frozen at 1) is worse than with α learned (paired test accuracy, each arm at its lr)",
        "Table 7, ViT-B without α: tanh 81.1, hardtanh 80.7, sigmoid 80.7 (vs 82.5 / 82.2 / 81.6)",
        `test %: tanh learned ${acc("tanh-learn")} vs no α ${acc("tanh-fixed1")}; ${describeParts(s.removeAlpha.parts)}`,
        s.removeAlpha,
      ),
      row(
        "R-squash-scale",
        "A learnable scale alone (identity with learned α) is worse than DyT's tanh (paired test accuracy)",
        "reviewer question (not in the paper)",
        `test %: identity α learned ${acc("identity-learn")} vs tanh α learned ${acc("tanh-learn")}; ${describeParts([s.scaleAlone])}`,
        s.scaleAlone,
      ),
    ];
  },
};
