// %% [markdown]
// # 05 · Which squashing function, and does α matter?
//
// **Paper claims** (Zhu et al., CVPR 2025, Table 7, ViT-B on ImageNet):
// DyT's `tanh` beats other S-shaped functions, `tanh 82.5 > hardtanh 82.2 > sigmoid 81.6 %`;
// with `identity` (no squashing) training diverges (claim 5). Removing the learnable
// scalar α (`y = γ·φ(x) + β`) costs accuracy: 81.1 / 80.7 / 80.7 % (claim 6).
//
// **Reviewer question**: is the squashing needed at all, or does a learnable scale
// alone (`identity` with learned α, i.e. `y = γ·αx + β`) do the job?
//
// **Here**: `DyT(x) = γ·φ(αx) + β` in every norm slot of a small pre-norm ViT
// (width 32, 2 blocks, 7×7 patches) on Fashion-MNIST, for φ in tanh, hardtanh,
// sigmoid (plain, not zero-centred: its output mean is γ/2 at init), shifted sigmoid
// (2σ(z)−1 = tanh(z/2)), softsign, erf and identity; α learned from α₀ = 0.5, frozen
// at 1 (the paper's "without α"), or frozen at 0.5 (separates *learning* α from its
// *scale*). Same seeds, same data order, same schedule (AdamW, warmup + cosine,
// gradient clipping at 1). A run whose loss becomes non-finite or exceeds 3·ln 10 is
// recorded as diverged, with its step.
//
// Scale from `DYT_SCALE`; committed `full` results (3 seeds × 14 variants, 400 steps)
// are loaded from `results/squash/full/`, not re-run. At 400 steps (under one epoch)
// the models are far from converged (see the table), so this measures the ranking
// early in training, not at convergence; ImageNet-scale differences of 0.3-0.9 points
// are not resolvable here.

// %%
import { initEngine, notebookScale, runSquash, variantBars, variantCurves, variantTable, ALPHA_MODE_LABEL, showFigure, showTable, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Train (or load) every variant × seed
// Each run is cached by its full configuration under `results/squash/<scale>/<variant>-s<seed>.json` with provenance.

// %%
const { records, summary } = await runSquash({ scale: scale });
for (const r of records)
  console.log(`${r.run}: ${r.result.status}${r.result.diverged ? " at step " + r.result.diverged.step : ""}, test acc ${r.result.test ? (100 * r.result.test.acc).toFixed(2) + "%" : "-"}, commit ${r.provenance.gitCommit.slice(0, 8)}`);

// %% [markdown]
// ## Test accuracy by squashing function and α treatment
// Mean over seeds, error bar ±1 std. Diverged runs have no test accuracy; they are counted in the table below.

// %%
const bars = variantBars(summary.variants, {
  category: (s) => String(s.tags.squash),
  series: (s) => ALPHA_MODE_LABEL[s.tags.alpha as keyof typeof ALPHA_MODE_LABEL],
  title: `DyT squashing functions (${scale})`,
});
await showFigure(bars, { savePath: resultPath("squash", scale, "figures/accuracy-bars") });

// %%
showTable(variantTable(summary.variants), { title: `squash (${scale})`, digits: 2 });

// %% [markdown]
// ## Validation accuracy during training (α learned)

// %%
const curves = variantCurves(records, `Validation accuracy, α learned (${scale})`, (r) => r.config.tags.alpha === "learned");
await showFigure(curves, { savePath: resultPath("squash", scale, "figures/val-curves-learned") });

// %% [markdown]
// ## Verdicts (computed from the runs above)
// An ordering step counts only if the difference of mean test accuracy exceeds
// 2 standard errors over seeds (Welch, `withinNoise` in lib/analysis); an all-diverged
// variant ranks below any completed one.

// %%
console.log(`Claim 5, tanh > hardtanh > sigmoid: ${summary.ordering.verdict.toUpperCase()}\n  ${summary.ordering.statement}`);
console.log(`Claim 5, identity diverges: ${summary.identity.verdict.toUpperCase()}\n  ${summary.identity.statement}`);
console.log(`Claim 6, removing α hurts: ${summary.removeAlpha.verdict.toUpperCase()}\n  ${summary.removeAlpha.statement}`);
console.log(`Reviewer, a learnable scale alone falls short of tanh: ${summary.scaleAlone.verdict.toUpperCase()}\n  ${summary.scaleAlone.statement}`);
