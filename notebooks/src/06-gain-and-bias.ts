// %% [markdown]
// # 06 · What do γ, β and a learned α contribute?
//
// DyT is `γ · tanh(αx) + β`: a learned scalar α, and per-channel gain γ and bias β
// inherited from LayerNorm. The paper keeps γ and β and does not ablate them.
// **Reviewers asked**: what does each part contribute, and is DyT more than the
// classical, non-adaptive *tanh-estimator* normalization
// `y = 0.5 · (tanh(0.01 · (x − μ)/σ) + 1)`?
//
// **Here** (same small ViT and schedule as notebook 05: width 32, 2 blocks,
// Fashion-MNIST, 400 steps, 3 seeds at `full`):
// - DyT and LayerNorm with γ and β, without β, without γ, and without both;
// - **tanh-estimator**, built from DyT with every constant frozen: α_l = 0.01/σ_l,
//   γ = 0.5, β = 0.5 − 0.005·μ_l/σ_l, where μ_l and σ_l are the mean and std of
//   layer l's input over a 256-image calibration batch at initialization
//   (one number per layer, not per token). Folding μ into β is exact to first
//   order, because 0.01·x/σ stays in tanh's linear range;
// - **DyT with α fixed at 1/σ_l** (same calibration, γ and β learned): DyT whose
//   scale is set from data once instead of learned.
//
// Layers are calibrated in forward order. Note that the 0.01 factor makes the
// tanh-estimator an almost linear map with a tiny slope, so it mostly tests
// whether a network without any learned or adaptive scale in its norm slots trains.

// %%
import { initEngine, notebookScale, runGainBias, variantBars, variantCurves, variantTable, showFigure, showTable, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Train (or load) every variant × seed
// Cached under `results/gain-bias/<scale>/<variant>-s<seed>.json` with provenance; the calibrated constants are saved with each calibrated run (`result.prepared`).

// %%
const { records, summary } = await runGainBias({ scale: scale });
for (const r of records)
  console.log(`${r.run}: ${r.result.status}${r.result.diverged ? " at step " + r.result.diverged.step : ""}, test acc ${r.result.test ? (100 * r.result.test.acc).toFixed(2) + "%" : "-"}, commit ${r.provenance.gitCommit.slice(0, 8)}`);

// %% [markdown]
// ## Test accuracy
// Mean over seeds, error bar ±1 std.

// %%
const NORM_LABEL: Record<string, string> = { dyt: "DyT", layernorm: "LayerNorm", "tanh-estimator": "tanh-estimator (all fixed)", "dyt-fixed": "DyT, α = 1/σ fixed" };
const bars = variantBars(summary.variants, {
  category: (s) => NORM_LABEL[String(s.tags.norm)] ?? String(s.tags.norm),
  series: (s) => (s.tags.gamma ? "learned γ" : "no learned γ") + ", " + (s.tags.beta ? "learned β" : "no learned β"),
  title: `γ / β ablation and fixed tanh schemes (${scale})`,
});
await showFigure(bars, { savePath: resultPath("gain-bias", scale, "figures/accuracy-bars") });
showTable(variantTable(summary.variants), { title: `gain-bias (${scale})`, digits: 2 });

// %% [markdown]
// ## Validation accuracy during training

// %%
const curves = variantCurves(records, `Validation accuracy (${scale})`, (r) => ["dyt-gamma-beta", "dyt-none", "ln-gamma-beta", "ln-none", "tanh-estimator", "dyt-calibrated-fixed"].includes(r.config.variant));
await showFigure(curves, { savePath: resultPath("gain-bias", scale, "figures/val-curves") });

// %% [markdown]
// ## Calibrated constants (first seed)
// The fixed α per layer that the calibration chose, and the input std it came from.

// %%
const calibRows = records.filter((r) => r.result.prepared && r.seed === records[0]!.seed).flatMap((r) =>
  Object.entries((r.result.prepared as { layers: Record<string, { inputMean: number; inputStd: number; alpha: number }> }).layers).map(([layer, c]) => ({ variant: r.config.label, layer: layer, "input mean": c.inputMean, "input std": c.inputStd, "fixed α": c.alpha })));
showTable(calibRows, { title: "calibration", digits: 4 });

// %% [markdown]
// ## Verdicts (computed from the runs above)
// A part "contributes" if removing it lowers mean test accuracy by more than 2 standard errors over seeds (Welch, `withinNoise`).

// %%
for (const [name, p] of [["removing γ from DyT hurts", summary.dytGamma], ["removing β from DyT hurts", summary.dytBeta], ["LN: removing β, γ or both hurts", summary.ln], ["learned DyT beats the tanh-estimator", summary.tanhEstimator], ["learned α beats α = 1/σ fixed", summary.calibrated]] as const)
  console.log(`${name}: ${p.verdict.toUpperCase()}\n  ${p.statement}`);
