import { claimRow, type ClaimRow } from "../claims";
import type { ExperimentEntry } from "../entry";
import { accCell, describeParts } from "../protocol/compare";
import type { ClaimVerdict } from "../protocol/verdict";
import { GAIN_BIAS, runGainBias, type GainBiasSummary } from "./spec";

export * from "./spec";
export * from "./figures";

const NOTEBOOK = "notebooks/06-gain-and-bias.ipynb";

export const gainBiasEntry: ExperimentEntry = {
  name: GAIN_BIAS,
  description: "What γ, β (DyT and LN) and a learned α contribute; fixed tanh-estimator and fixed calibrated-α baselines",
  flags: "(none)",
  run: (ctx) => runGainBias(ctx),
  claims: (raw) => {
    const s = raw as GainBiasSummary;
    const acc = (id: string) => accCell(s.arms.find((a) => a.arm === id));
    const paper = "reviewer question (the paper keeps γ and β and does not ablate them)";
    const row = (id: string, claim: string, ours: string, v: ClaimVerdict & { parts: GainBiasSummary["comparisons"] }): ClaimRow =>
      claimRow(v, { id, claim, paper, ours: `test %: ${ours}; ${describeParts(v.parts)}. Setup: ${s.setup}.`, notebook: NOTEBOOK, scale: s.scale });
    return [
      row("R-gain-bias.gamma", "DyT's per-channel gain γ contributes: DyT beats DyT without γ", `DyT ${acc("dyt")}, no γ ${acc("dyt-no-gamma")}`, s.dytGamma),
      row("R-gain-bias.beta", "DyT's per-channel bias β contributes: DyT beats DyT without β", `DyT ${acc("dyt")}, no β ${acc("dyt-no-beta")}, neither ${acc("dyt-no-gamma-beta")}`, s.dytBeta),
      row("R-gain-bias.ln", "For comparison: LayerNorm beats LN without β, without γ, and without both", `LN ${acc("layernorm")}, no β ${acc("ln-no-beta")}, no γ ${acc("ln-no-gamma")}, neither ${acc("ln-no-gamma-beta")}`, s.ln),
      row("R-gain-bias.tanh-estimator", "Learned DyT beats the classical fixed tanh-estimator 0.5(tanh(0.01(x−μ)/σ)+1)", `DyT ${acc("dyt")}, tanh-estimator ${acc("tanh-estimator")}`, s.tanhEstimator),
      row("R-gain-bias.alpha", "A learned α beats α fixed at 1/σ of the init statistics", `DyT ${acc("dyt")}, α = 1/σ fixed ${acc("dyt-calibrated-fixed")}`, s.calibrated),
    ];
  },
};
