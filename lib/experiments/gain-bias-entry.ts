import type { ExperimentEntry } from "./entry";
import { accCell, findVariant } from "./grid";
import { GAIN_BIAS, runGainBias, type GainBiasSummary } from "./gain-bias";

const NOTEBOOK = "notebooks/06-gain-and-bias.ipynb";

export const gainBiasEntry: ExperimentEntry = {
  name: GAIN_BIAS,
  description: "What γ, β (DyT and LN) and a learned α contribute; fixed tanh-estimator and fixed calibrated-α baselines",
  flags: "(none)",
  run: (ctx) => runGainBias(ctx),
  claims: (raw) => {
    const s = raw as GainBiasSummary;
    const acc = (name: string) => accCell(findVariant(s.variants, name));
    const n = Math.min(...s.variants.map((v) => v.seeds.length));
    const row = (id: string, claim: string, ours: string, verdict: string) => ({ id, claim, paper: "reviewer question (the paper keeps γ and β and does not ablate them)", ours: `${s.setup}: ${ours}`, verdict, notebook: NOTEBOOK, scale: s.scale });
    return [
      row("R-gain-bias.gamma", "DyT's per-channel gain γ contributes (removing it hurts)", `test % (n=${n}): DyT ${acc("dyt-gamma-beta")}, no γ ${acc("dyt-beta")}; ${s.dytGamma.statement}`, s.dytGamma.verdict),
      row("R-gain-bias.beta", "DyT's per-channel bias β contributes (removing it hurts)", `test %: DyT ${acc("dyt-gamma-beta")}, no β ${acc("dyt-gamma")}, neither ${acc("dyt-none")}; ${s.dytBeta.statement}`, s.dytBeta.verdict),
      row("R-gain-bias.ln", "For comparison: LayerNorm's γ and β contribute", `test %: LN ${acc("ln-gamma-beta")}, no β ${acc("ln-gamma")}, no γ ${acc("ln-beta")}, neither ${acc("ln-none")}; ${s.ln.statement}`, s.ln.verdict),
      row("R-gain-bias.tanh-estimator", "Learned DyT beats the classical fixed tanh-estimator 0.5(tanh(0.01(x−μ)/σ)+1)", `test %: DyT ${acc("dyt-gamma-beta")}, tanh-estimator ${acc("tanh-estimator")}; ${s.tanhEstimator.statement}`, s.tanhEstimator.verdict),
      row("R-gain-bias.alpha", "A learned α beats α fixed at 1/σ of the init statistics", `test %: DyT ${acc("dyt-gamma-beta")}, α = 1/σ fixed ${acc("dyt-calibrated-fixed")}; ${s.calibrated.statement}`, s.calibrated.verdict),
    ];
  },
};
