// %% [markdown]
// # 04 · How much does DyT's α₀ matter?
//
// **Paper claim** (Zhu et al., CVPR 2025, §7, claim 7): for vision models the
// initial α₀ matters little (a wide range trains to similar accuracy), while LLMs
// need a smaller α₀ as width grows; a large α₀ with a large learning rate can
// diverge, and α₀ affects early convergence.
//
// **Here**: DyT ViTs (7×7 patches) on Fashion-MNIST, at one or two widths
// (per scale). First a grid of α₀ × learning rate per width, run on a tuning seed
// that is never used for evaluation; each width's lr is picked on validation
// accuracy from that grid. Then every α₀ runs at its width's picked lr on the
// evaluation seeds, with the budget stated in epochs. Comparisons are paired over
// seeds (same seed, same data order for both arms).
//
// **Claims tested**: *7* every α₀ matches the grid's best α₀ (paired test accuracy,
// match margin), at each width; *7-early* the fastest α₀ beats the slowest in
// validation accuracy early in training; *7-width* wider models prefer a smaller α₀
// (the paper's evidence is for LLMs, so on a ViT this is reported as not testable).
// Each claim gets one of four outcomes (supported, contradicted, inconclusive, not
// testable), with the reason, computed from the runs below.

// %%
import { initEngine, notebookScale, runAlpha0, alpha0Heatmaps, alpha0Curves, alpha0Lines, alpha0Bars, alpha0Table, alpha0EvalTable, alpha0ComparisonTable, findExperiment, showFigure, showTable, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Train (or load) the grid and the evaluation runs
// Every run is cached by its full configuration under `results/alpha0/<scale>/` with provenance.

// %%
// At full scale the committed runs are loaded, never trained inside a notebook (`npm run exp -- alpha0 --scale full` trains).
const { records, summary } = await runAlpha0({ scale: scale, cachedOnly: scale === "full" });
console.log(`${records.length} runs. Setup: ${summary.setup}`);
for (const b of summary.bySize) console.log(`${b.size}: picked lr ${b.bestLr} (lr scores over α₀ on the tuning seed: ${b.lrScore.map((x) => x.toFixed(1)).join(" / ")})`);

// %% [markdown]
// ## The α₀ × learning-rate grid (tuning seed)
// Per width: final and early validation accuracy; ✕ marks runs that did not learn.

// %%
for (const h of alpha0Heatmaps(summary)) {
  await showFigure(h.final, { savePath: resultPath("alpha0", scale, `figures/heatmap-final-${h.size}`) });
  await showFigure(h.early, { savePath: resultPath("alpha0", scale, `figures/heatmap-early-${h.size}`) });
}
showTable(alpha0Table(summary), { title: `alpha0 grid (${scale})`, digits: 2 });

// %% [markdown]
// ## Every α₀ at each width's picked lr (evaluation seeds)

// %%
await showFigure(alpha0Bars(summary), { savePath: resultPath("alpha0", scale, "figures/accuracy-bars") });
await showFigure(alpha0Lines(summary), { savePath: resultPath("alpha0", scale, "figures/acc-vs-alpha0") });
for (const size of summary.sizes)
  await showFigure(alpha0Curves(records, summary, size), { savePath: resultPath("alpha0", scale, `figures/val-curves-${size}`) });
showTable(alpha0EvalTable(summary), { title: `alpha0 evaluation arms (${scale})`, digits: 2 });

// %% [markdown]
// ## Paired comparisons behind the claims

// %%
showTable(alpha0ComparisonTable(summary), { title: `alpha0 comparisons (${scale})`, digits: 2 });

// %% [markdown]
// ## Verdicts (computed from the runs above)

// %%
for (const row of findExperiment("alpha0").claims(summary)) console.log(`claim ${row.id}: ${row.verdict}\n  ${row.reason ?? ""}`);
