// %% [markdown]
// # 16 · DyT's α₀ by width in a LLaMA-style language model
//
// **Paper claim** (Zhu et al., CVPR 2025, §7, claim 7, LLM part): LLMs need a smaller α₀ as they get
// wider, and depth matters less. The paper's best α₀ (norm before attention / the others) for
// LLaMA: width 1024 → 1.0/1.0, 2048 → 1.0/0.5, 4096 → 0.8/0.2, 8192 → 0.2/0.05; a large α₀ with a
// large learning rate can diverge.
//
// **Here, in miniature**: the lab's LLaMA-style byte-level LM (notebook 14) with DyT in the paper's
// recipe, on a grid of α₀ before attention (a) × α₀ before the FFN and in the final norm (o), at
// widths 32, 64, 128 (depth 2) and width 64 at depth 4, two seeds per cell, **one fixed lr** for
// every run (the paper uses one lr per model size for both arms). Each pair is scored by its mean
// final validation bits per byte; the near-best set N holds the pairs within `RULES.lmMatchMarginBpb`
// (0.02 bpb) of a config's best, runs that diverged or did not learn never count; a config's
// *effective α₀* is the geometric mean of √(a·o) over N. The rules (written before any run) are in
// `lib/experiments/lm-alpha0/spec.ts`: *7-width (LM)* is supported when the effective α₀ strictly
// falls with width and the narrowest and widest N are disjoint; *7-depth (LM)* when depth moves the
// effective α₀ less (in log) than the width range does. The scale comes from `DYT_SCALE` (`smoke`,
// `quick`, `full`); `full` results are loaded, not re-run
// (`npm run exp -- lm-alpha0 --scale full --workers 2` trains them).
//
// **Width 256** (an amendment pre-registered 2026-12-05, written after the full results at widths
// 32-128 were seen, before any run at width 256): one more config, w256d2 (16 heads, the recipe's
// init std 0.08), on the same grid, lr, budget, seeds and scoring, shown in the tables and heat maps
// below. It has its own row, *7-width, to 256 (LM)*: 7-width (LM)'s rule unchanged over widths
// 32-256; 7-width (LM) and 7-depth (LM) keep reading widths 32-128. Until its runs exist, the full
// load says the row is not yet run. (At smoke and quick the next width up stands in for it.)

// %%
import { initEngine, notebookScale, runLmAlpha0, lmAlpha0Heatmaps, lmAlpha0WidthFigure, lmAlpha0CornerFigure, lmAlpha0ConfigTable, lmAlpha0PairTable, lmAlpha0CornerTable, findExperiment, showFigure, showTable, toDataFrame, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Train (or load) the grid and the corner
// Each run is one record under `results/lm-alpha0/<scale>/`, keyed on its fully resolved config
// (the α₀ of each norm slot written out) with its provenance.

// %%
const { records, summary } = await runLmAlpha0({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
console.log(summary.setup);
console.log(`${records.length} runs`);

// %% [markdown]
// ## Mean validation bits per byte over the α₀ grid, per config
// ★ the best pair, N the near-best set; ✕ a pair with a run that diverged or did not learn.

// %%
for (const h of lmAlpha0Heatmaps(summary)) await showFigure(h.figure, { savePath: resultPath("lm-alpha0", scale, `figures/heatmap-${h.size}`) });
showTable(toDataFrame(lmAlpha0PairTable(summary)), { title: `lm-alpha0 pairs (${scale})` });

// %% [markdown]
// ## The near-best α₀ against width (log-log), beside the paper's table

// %%
await showFigure(lmAlpha0WidthFigure(summary), { savePath: resultPath("lm-alpha0", scale, "figures/alpha0-vs-width") });
showTable(toDataFrame(lmAlpha0ConfigTable(summary)), { title: `lm-alpha0 configs (${scale})` });

// %% [markdown]
// ## Large α₀ × large lr (descriptive)

// %%
const corner = lmAlpha0CornerFigure(records, summary);
if (corner) {
  await showFigure(corner, { savePath: resultPath("lm-alpha0", scale, "figures/corner") });
  showTable(toDataFrame(lmAlpha0CornerTable(summary)), { title: `lm-alpha0 corner (${scale})` });
  console.log(summary.corner!.statement);
}

// %% [markdown]
// ## Verdicts (computed from the runs above)

// %%
for (const row of findExperiment("lm-alpha0").claims(summary)) console.log(`claim ${row.id}: ${row.verdict.toUpperCase()}\n  ${row.reason ?? ""}`);
