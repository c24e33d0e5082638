// %% [markdown]
// # 01 · DyT vs LayerNorm on a Vision Transformer
//
// **Paper claim** (Zhu et al., CVPR 2025, Table 1): replacing every LayerNorm of a ViT with
// Dynamic Tanh, `DyT(x) = γ · tanh(αx) + β` (α one learnable scalar per layer, α₀ = 0.5),
// gives the same ImageNet accuracy (ViT-B 82.3 → 82.5 %, ViT-L 83.1 → 83.6 %).
//
// **Here, in miniature**: a pre-norm ViT (7×7 patches, width 64, 4 blocks, 4 heads) on
// Fashion-MNIST, trained with LayerNorm and with DyT from the same seeds, the same schedule
// (AdamW, warmup + cosine, no weight decay on norm parameters) and the same data order.
// The scale comes from `DYT_SCALE` (`smoke`, `quick`, `full`); `full` results are committed
// under `results/vit-fashion/full/` and are loaded, not re-run (delete them or pass `force: true` to re-run).

// %%
import { initEngine, notebookScale, runVitFashion, vitFashionFigures, vitFashionTable, showFigure, showTable, toDataFrame, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Train (or load) both models
// Each run is cached by its configuration under `results/vit-fashion/<scale>/<norm>-s<seed>.json`
// with its provenance (git commit, engine, machine, seed, wall time); an interrupted run resumes
// from its checkpoint in `runs/`.

// %%
const { records, summary } = await runVitFashion({ scale: scale }); // tslab: no shorthand properties in cells with await
for (const r of records)
  console.log(`${r.run}: ${r.result.status}, test acc ${r.result.test ? (100 * r.result.test.acc).toFixed(2) + "%" : "-"}, ${r.result.msPerStep} ms/step, commit ${r.provenance.gitCommit.slice(0, 8)} on ${r.provenance.engine}`);

// %% [markdown]
// ## Training curves
// Mean over seeds with a ±1 std band (loss smoothed with an EMA of 0.6).

// %%
const figs = vitFashionFigures(records, scale);
await showFigure(figs.loss, { savePath: resultPath("vit-fashion", scale, "figures/train-loss") });
await showFigure(figs.acc, { savePath: resultPath("vit-fashion", scale, "figures/val-accuracy") });

// %% [markdown]
// ## Final test accuracy (Fashion-MNIST test set, 10,000 images at quick/full)

// %%
// A danfojs DataFrame: group, sort or export it (df.toCSV()) as you like.
const df = toDataFrame(vitFashionTable(summary));
showTable(df, { title: `vit-fashion (${scale})`, digits: 2 });

// %% [markdown]
// ## α per layer during training
// The paper finds α tracks 1/std of each layer's input (analysed in a later notebook).
// Here: how each DyT layer's α moves from α₀ = 0.5.

// %%
if (figs.alpha) await showFigure(figs.alpha, { savePath: resultPath("vit-fashion", scale, "figures/alpha") });

// %% [markdown]
// ## Verdict (computed from the runs above)

// %%
console.log(`Claim 1, DyT matches LayerNorm on ViT: ${summary.verdict.toUpperCase()}`);
console.log(summary.statement);

// %% [markdown]
// ## Reference result (`full` scale, committed)
// Read from `results/vit-fashion/full/summary.json` in the repository when this cell runs (no result is
// copied into this text); the per-run records beside it carry each run's config, seed and provenance.
// Run this notebook with `DYT_SCALE=full` to load them and draw their curves.

// %%
import * as fs from "fs";
import * as path from "path";
import { readJson, repoRoot, VIT_FASHION, type VitFashionSummary } from "dyt-lab";

// The repository's committed copy, also when DYT_RESULTS_DIR points elsewhere.
const committedFull = path.join(repoRoot(), "results", VIT_FASHION, "full", "summary.json");
if (fs.existsSync(committedFull)) {
  const ref = readJson<VitFashionSummary>(committedFull);
  showTable(vitFashionTable(ref), { title: "vit-fashion (full, committed)", digits: 2 });
  console.log(`Verdict: ${ref.verdict.toUpperCase()}. ${ref.statement}`);
} else {
  console.log(`No full-scale result is committed (${path.relative(repoRoot(), committedFull)} is absent): run \`npm run exp -- vit-fashion --scale full\` to make one.`);
}
