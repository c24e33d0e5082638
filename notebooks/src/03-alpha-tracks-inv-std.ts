// %% [markdown]
// # 03 · Does DyT's α track 1/std of its input?
//
// **Paper claim** (Zhu et al., CVPR 2025, section 6.2, Figures 8-9; claim 4 here): the learnable scalar α of
// each DyT layer ends up close to 1/std of that layer's input activations: α and 1/std move together during
// training, and across layers α correlates with 1/std. So DyT learns the scale that LayerNorm would have
// computed, but as one global number per layer instead of a per-token statistic.
//
// **Here**: DyT ViTs (α₀ = 0.5; 7×7 patches, width 64, 4 blocks at quick/full; ≥ 3 seeds at full) on
// Fashion-MNIST. Every K steps a hook reads each DyT layer's α and the std of its input on a **fixed probe
// batch** (64 validation images, seed 7): the population std over **all** B·T·C elements (primary), and the
// mean per-token std over a seeded 256-token sample (secondary). At each checkpoint we compute Pearson r of
// α_l vs 1/std_l across layers per seed, its mean with a bootstrap CI over seeds, and the log-log slope
// (1 = α proportional to 1/std). We also compare α₀ with 1/std of the LayerNorm model's norm inputs at init.

// %%
import { initEngine, notebookScale, runAlphaStd, alphaStdTraceFigures, alphaStdRFigure, alphaVsInvStdFigure, lnInitFigure, alphaStdTable, showFigure, showTable, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name}`);

// %% [markdown]
// ## Train (or load) the DyT ViTs
// Cached per seed under `results/alpha-std/<scale>/dyt-s<seed>.json` with provenance.

// %%
// At full scale the committed runs are loaded, never trained inside a notebook (`npm run exp -- alpha-std --scale full` trains).
const { records, summary } = await runAlphaStd({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
for (const r of records)
  console.log(`${r.run}: ${r.result.status}, test acc ${r.result.test ? (100 * r.result.test.acc).toFixed(2) + "%" : "-"}, ${r.result.points.length} readings, commit ${r.provenance.gitCommit.slice(0, 8)}`);

// %% [markdown]
// ## α(t) and 1/std(t) per layer (first seed)
// Same colours for the same layer in both figures (dark = input side).

// %%
const tr = alphaStdTraceFigures(records[0]!);
await showFigure(tr.alpha, { savePath: resultPath("alpha-std", scale, "figures/alpha-trace") });
await showFigure(tr.invStd, { savePath: resultPath("alpha-std", scale, "figures/inv-std-trace") });

// %% [markdown]
// ## Across-layer correlation over training, and α vs 1/std at the end (one point per seed)

// %%
await showFigure(alphaStdRFigure(records), { savePath: resultPath("alpha-std", scale, "figures/r-over-training") });
await showFigure(alphaVsInvStdFigure(records), { savePath: resultPath("alpha-std", scale, "figures/alpha-vs-inv-std") });
showTable(alphaStdTable(summary), { title: `r(α, 1/std) across layers per checkpoint (${scale})`, digits: 3 });

// %% [markdown]
// ## α₀ vs 1/std of the LayerNorm model's norm inputs at init

// %%
await showFigure(lnInitFigure(summary), { savePath: resultPath("alpha-std", scale, "figures/alpha0-vs-ln-init") });

// %% [markdown]
// ## Verdict (computed)
// Rule: supported when, at the last checkpoint, the mean across-layer r over seeds is > 0.5, every seed's r is
// > 0 and the bootstrap CI over seeds lies above 0 (needs ≥ 3 seeds). The per-layer temporal r (α(t) vs
// 1/std(t) within one layer) is reported alongside.

// %%
console.log(`Claim 4, α tracks 1/std: ${summary.verdict.toUpperCase()}`);
console.log(summary.statement);
for (const t of summary.temporal) console.log(`${t.layer}: r(α(t), 1/std(t)) = ${t.r.mean.toFixed(2)} ± ${t.r.std.toFixed(2)} (n=${t.r.n})`);
