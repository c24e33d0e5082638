// %% [markdown]
// # 06 · What do γ, β and a learned α contribute?
//
// DyT is `γ · tanh(αx) + β`: a learned scalar α, and per-channel gain γ and bias β
// inherited from LayerNorm. The paper keeps γ and β and does not ablate them.
// **Reviewers asked**: what does each part contribute, and is DyT more than the
// classical, non-adaptive *tanh-estimator* normalization
// `y = 0.5 · (tanh(0.01 · (x − μ)/σ) + 1)`?
//
// **Here** (the small ViT on Fashion-MNIST, as in notebook 05; which arms run
// depends on the scale):
// - DyT and LayerNorm with γ and β, without β, without γ, and without both;
// - **tanh-estimator**, built from DyT with every constant frozen: α_l = 0.01/σ_l,
//   γ = 0.5, β = 0.5 − 0.005·μ_l/σ_l, where μ_l and σ_l are the mean and std of
//   layer l's input over a calibration batch at initialization (one number per
//   layer, calibrated in forward order);
// - **DyT with α fixed at 1/σ_l** (same calibration, γ and β learned).
//
// Each arm trains at its own lr tuned on validation with a tuning seed never used
// for evaluation (the tanh-estimator, whose norms are frozen, takes DyT's), or, at
// scales that say so, at one stated shared lr; the budget is stated in epochs.
// Comparisons are paired over seeds (same seed, same data order). Each claim gets
// one of four outcomes (supported, contradicted, inconclusive, not testable), with
// the reason, computed from the runs below.

// %%
import { initEngine, notebookScale, runGainBias, gainBiasBars, gainBiasCurves, gainBiasTable, gainBiasComparisonTable, calibrationTable, findExperiment, showFigure, showTable, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Train (or load) every arm × seed
// Every run is cached by its full configuration under `results/gain-bias/<scale>/` with provenance; the calibrated constants are saved with each calibrated run (`result.prepared`).

// %%
// At full scale the committed runs are loaded, never trained inside a notebook (`npm run exp -- gain-bias --scale full` trains).
const { records, summary } = await runGainBias({ scale: scale, cachedOnly: scale === "full" });
console.log(`${records.length} runs. Setup: ${summary.setup}`);

// %% [markdown]
// ## Test accuracy
// Mean over seeds, error bar ±1 std.

// %%
await showFigure(gainBiasBars(summary), { savePath: resultPath("gain-bias", scale, "figures/accuracy-bars") });
showTable(gainBiasTable(summary), { title: `gain-bias (${scale})`, digits: 2 });

// %% [markdown]
// ## Validation accuracy during training

// %%
await showFigure(gainBiasCurves(records, summary), { savePath: resultPath("gain-bias", scale, "figures/val-curves") });

// %% [markdown]
// ## Calibrated constants (first evaluation seed)
// The fixed α per layer that the calibration chose, and the input statistics it came from.

// %%
showTable(calibrationTable(records), { title: "calibration", digits: 4 });

// %% [markdown]
// ## Paired comparisons behind the claims

// %%
showTable(gainBiasComparisonTable(summary), { title: `gain-bias comparisons (${scale})`, digits: 2 });

// %% [markdown]
// ## Verdicts (computed from the runs above)

// %%
for (const row of findExperiment("gain-bias").claims(summary)) console.log(`claim ${row.id}: ${row.verdict}\n  ${row.reason ?? ""}`);
