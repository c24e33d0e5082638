// %% [markdown]
// # 02 · Do LayerNorm layers act like tanh? (S-curves)
//
// **Paper claim** (Zhu et al., CVPR 2025, section 3, Figures 2-4; claim 3 here): plotting each LayerNorm's
// input against its output (before the affine) in trained ViT, wav2vec 2.0 and DiT models, early layers look
// mostly linear while deeper layers trace an S-shaped, tanh-like curve. Each token alone is a straight line
// (slope 1/σ_token); the S appears because tokens with large spread, and a few extreme channels, get squashed.
// This is the observation that motivates DyT.
//
// **Here**: a pre-norm LayerNorm ViT (7×7 patches, width 64, 4 blocks at quick/full) trained on Fashion-MNIST,
// one training per seed. At init, part-way and at the end of training, every LN layer's input and output are
// captured on a **fixed probe batch** (64 validation images chosen by seed 7 at quick/full), keeping a seeded
// sample of **256 tokens × all channels per layer** (baselines.md budget). For each layer we fit
// `y ≈ k·tanh(s·x)` and a straight line to the pooled points and report R² of both, s, k and the
// **S-shapedness ΔR² = R²(tanh) − R²(linear)** (0 for a line), plus `s·max|x|` (how far into saturation the
// fitted tanh reaches).

// %%
import { initEngine, notebookScale, runScurves, sampledRecord, scurveGridFigure, scurvesDeltaFigure, scurvesTable, showFigure, showTable, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name}`);

// %% [markdown]
// ## Train (or load) the LayerNorm ViTs and capture
// Each seed's run is cached under `results/scurves/<scale>/layernorm-s<seed>.json` with provenance; `full`
// results are committed and loaded, not re-run.

// %%
// At full scale the committed runs are loaded, never trained inside a notebook (`npm run exp -- scurves --scale full` trains).
const { records, summary } = await runScurves({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
for (const r of records)
  console.log(`${r.run}: ${r.result.status}, test acc ${r.result.test ? (100 * r.result.test.acc).toFixed(2) + "%" : "-"}, captures at steps ${r.result.captures.map((c) => c.step).join(", ")}, commit ${r.provenance.gitCommit.slice(0, 8)}`);

// %% [markdown]
// ## Output (before the affine) vs input, per layer: at init and at the end of training
// Rows are blocks (input side at the top), columns are `norm1` (before attention) and `norm2` (before the MLP).
// Grey: sampled tokens; coloured: four single tokens (each a straight line); faint red: the 4 channels with the
// largest |x|; black: the fitted `k·tanh(s·x)`. First seed only (the scatter samples are kept for one seed).

// %%
const rec = sampledRecord(records)!;
const sampled = rec.result.captures.filter((c) => c.fits.some((f) => f.sample)).map((c) => c.step);
await showFigure(scurveGridFigure(rec, sampled[0]!), { savePath: resultPath("scurves", scale, "figures/scurves-init") });
await showFigure(scurveGridFigure(rec, sampled[sampled.length - 1]!), { savePath: resultPath("scurves", scale, "figures/scurves-end") });

// %% [markdown]
// The same layers at the end of training, with the learned affine applied (the layer's actual output):

// %%
await showFigure(scurveGridFigure(rec, sampled[sampled.length - 1]!, { output: "post" }), { savePath: resultPath("scurves", scale, "figures/scurves-end-post-affine") });

// %% [markdown]
// ## S-shapedness by layer and training step (mean ± std over seeds)

// %%
await showFigure(scurvesDeltaFigure(summary), { savePath: resultPath("scurves", scale, "figures/delta-r2-by-layer") });
showTable(scurvesTable(summary), { title: `LayerNorm fit quality per layer at the end of training (${scale}, mean over seeds)`, digits: 4 });

// %% [markdown]
// ## Verdict (computed) and answers
// Rule: supported when, at the end of training, the deep blocks' mean ΔR² exceeds the early blocks' in every
// seed and the deep mean is ≥ 0.01. The slot line answers whether both LNs of a block are S-shaped, and how
// that changes with training.

// %%
console.log(`Claim 3, LN maps look tanh-like in deeper layers: ${summary.verdict.toUpperCase()}`);
console.log(summary.statement);
for (const s of summary.slots)
  console.log(`step ${s.step}: mean ΔR² norm1 ${s.norm1.toFixed(4)}, norm2 ${s.norm2.toFixed(4)}, final norm ${s.final.toFixed(4)}`);
for (const e of summary.earlyDeep) console.log(`seed ${e.seed}: early blocks ΔR² ${e.early.toFixed(4)}, deep blocks ${e.deep.toFixed(4)}`);
