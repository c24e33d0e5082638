// %% [markdown]
// # 05 · Which squashing function, and does α matter?
//
// **Paper claims** (Zhu et al., CVPR 2025, Table 7, ViT-B on ImageNet):
// DyT's `tanh` beats other S-shaped functions (tanh > hardtanh > sigmoid), and with
// `identity` (no squashing) training diverges (claim 5). Removing the learnable
// scalar α (`y = γ·φ(x) + β`) costs accuracy (claim 6).
//
// **Reviewer question**: is the squashing needed at all, or does a learnable scale
// alone (`identity` with learned α, i.e. `y = γ·αx + β`) do the job?
//
// **Here**: `DyT(x) = γ·φ(αx) + β` in every norm slot of a small pre-norm ViT on
// Fashion-MNIST, one arm per squasher φ and α treatment (learned from α₀ = 0.5, or
// frozen at 1: the paper's "without α"); which arms run depends on the scale. Each
// arm trains at its own lr tuned on validation with a tuning seed never used for
// evaluation, or, at scales that say so, at one stated shared lr; the budget is
// stated in epochs. Comparisons are paired over seeds (same seed, same data order).
// "Identity diverges" is tested on an identity arm without gradient clipping, as in
// the paper.
//
// Each claim gets one of four outcomes (supported, contradicted, inconclusive, not
// testable), with the reason, computed from the runs below.

// %%
import { initEngine, notebookScale, runSquash, squashBars, squashCurves, squashTable, squashComparisonTable, findExperiment, showFigure, showTable, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Train (or load) every arm × seed
// Every run is cached by its full configuration under `results/squash/<scale>/` with provenance.

// %%
// At full scale the committed runs are loaded, never trained inside a notebook (`npm run exp -- squash --scale full` trains).
const { records, summary } = await runSquash({ scale: scale, cachedOnly: scale === "full" });
console.log(`${records.length} runs. Setup: ${summary.setup}`);

// %% [markdown]
// ## Test accuracy by squashing function and α treatment
// Mean over seeds, error bar ±1 std; runs that did not learn are counted in the table.

// %%
await showFigure(squashBars(summary), { savePath: resultPath("squash", scale, "figures/accuracy-bars") });
showTable(squashTable(summary), { title: `squash (${scale})`, digits: 2 });

// %% [markdown]
// ## Validation accuracy during training (α learned)

// %%
await showFigure(squashCurves(records, summary), { savePath: resultPath("squash", scale, "figures/val-curves-learned") });

// %% [markdown]
// ## Paired comparisons behind the claims

// %%
showTable(squashComparisonTable(summary), { title: `squash comparisons (${scale})`, digits: 2 });

// %% [markdown]
// ## Verdicts (computed from the runs above)

// %%
for (const row of findExperiment("squash").claims(summary)) console.log(`claim ${row.id}: ${row.verdict}\n  ${row.reason ?? ""}`);
