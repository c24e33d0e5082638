// %% [markdown]
// # 10 · Activation outliers and post-training quantisation: LayerNorm vs DyT
//
// **Reviewer question** (the paper does not study it): DyT squashes the norm output into
// `|y| ≤ |γ| + |β|`, so in a pre-norm block the inputs of q/k/v and fc1 are bounded. Does that give
// fewer *outlier features* (the LLM.int8 phenomenon: a few channels with |x| ≥ 6 that break per-tensor
// int8), lighter tails, and a smaller accuracy loss under post-training quantisation?
//
// **Protocol** (baselines.md §2):
// - Models: the LayerNorm and DyT ViTs of the `norm-free` experiment (same config, recipe, seeds;
//   the training run is shared, so nothing is trained twice).
// - Tracked tensors: the inputs of every block's q/k/v (= norm1 output), Wo and fc1, captured by a
//   forward hook on the Linears on a fixed test batch. fc2's input and the attention internals are skipped.
// - Outlier feature: |x| ≥ 6 at that channel in ≥ 25 % of layers and at ≥ 6 % of the positions of some
//   tracked tensor; the RMS-relative variant uses 6·RMS of each tensor (LN and DyT outputs have different scales).
// - Kurtosis `mean((x−m)^4)/mean((x−m)^2)^2` over all elements (Gaussian = 3) and max|X|/RMS per tensor.
// - Post-training fake quantisation of every block Linear (weights and inputs); norms, softmax,
//   residuals, patch embedding and head stay fp32. Rounding is round-half-even, verified against the
//   reference vectors in `test/analysis-quant.test.ts`.

// %%
import { initEngine, notebookScale, runQuantization, quantizationFigures, quantizationTable, outlierTable, QUANT_SCHEME_INFO, showFigure, showTable, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);
for (const [k, v] of Object.entries(QUANT_SCHEME_INFO)) console.log(`${k.padEnd(13)} ${v}`);

// %% [markdown]
// ## Train (or load) the models, capture activations, quantise

// %%
// At full scale the committed runs are loaded, never trained inside a notebook (`npm run exp -- quantization --scale full` trains).
const { records, summary } = await runQuantization({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
for (const r of records)
  console.log(`${r.run}: ${r.result.status}, fp32 test acc ${r.result.test ? (100 * r.result.test.acc).toFixed(2) + "%" : "-"}, outliers ${r.result.quant?.outliersAbs?.count ?? "-"} (abs) / ${r.result.quant?.outliersRel?.count ?? "-"} (6·RMS), commit ${r.provenance.gitCommit.slice(0, 8)}`);

// %% [markdown]
// ## Outlier features and tails of the quantised Linears' inputs

// %%
const figs = quantizationFigures(records, summary, scale);
showTable(outlierTable(summary), { title: `outliers (${scale}), mean over seeds`, digits: 2 });
await showFigure(figs.kurtosis, { savePath: resultPath("quantization", scale, "figures/kurtosis") });
await showFigure(figs.maxOverRms, { savePath: resultPath("quantization", scale, "figures/max-over-rms") });

// %% [markdown]
// ## Accuracy lost to post-training quantisation

// %%
showTable(quantizationTable(summary), { title: `fp32 accuracy and drop per scheme, points (${scale})`, digits: 2 });
await showFigure(figs.drop, { savePath: resultPath("quantization", scale, "figures/accuracy-drop") });

// %% [markdown]
// ## Verdicts (computed from the runs above)

// %%
console.log(`Outliers, DyT has lighter-tailed Linear inputs than LN: ${summary.outliers.verdict.toUpperCase()}`);
console.log(summary.outliers.statement);
console.log(`\nQuantisation, DyT loses no more accuracy than LN: ${summary.quantization.verdict.toUpperCase()}`);
console.log(`(setup: ${summary.setup}, ${scale} scale)`);
console.log(summary.quantization.statement);
