// %% [markdown]
// # 19 · Activation outliers and post-training quantisation of a language model: RMSNorm vs DyT
//
// **Reviewer question** (the paper does not study it; notebook 10 asks it of ViTs): DyT bounds the
// norm output by `|γ|`, so in a pre-norm LLaMA block the inputs of q/k/v and of the SwiGLU gate/up
// projection are bounded. Does the language model then have fewer *outlier features* (the LLM.int8()
// phenomenon: a few channels with |x| ≥ 6 that break per-tensor int8), lighter tails, and a smaller
// loss in **bits per byte** under post-training int8 / FP8 quantisation?
//
// **Protocol** (pre-registered 2026-12-02; `lib/experiments/lm-quant/spec.ts`):
// - Models: the LLaMA-style byte-level LM of notebook 14 (`lm-rmsnorm-dyt`: width 64, depth 2, its
//   text and token budget), RMSNorm vs DyT in the paper's LLaMA recipe, each at the lr that
//   `lm-rmsnorm-dyt` tuned at full (not re-tuned here), 3 seeds; and the same model at width 128.
// - Tracked tensors: the inputs of every block's q/k/v, attention output projection and SwiGLU gate/up
//   projection (not the down projection), on a fixed batch of test windows, at ~5 steps of training.
// - Outlier feature: |x| ≥ 6 at that channel in ≥ 25 % of layers and at ≥ 6 % of the positions of some
//   tracked tensor; the RMS-relative variant uses 6·RMS. Kurtosis (Gaussian = 3) and max|X|/RMS.
// - Fake quantisation of every block Linear (weights and inputs) under each scheme; embedding, head and
//   norms stay fp32; the score is the increase of the test bits per byte over fp32.
// - Rules: *R-outliers (LM)* (DyT has fewer outlier features; not testable when neither arm has any)
//   and *R-quant (LM)* (DyT's bpb increase at most 0.02 bpb above RMSNorm's under every scheme),
//   paired over (width, seed). The scale comes from `DYT_SCALE`; `full` results are loaded, not re-run
//   (`npm run exp -- lm-quant --scale full --workers 2` trains them).

// %%
import { initEngine, notebookScale, runLmQuant, lmQuantIncreaseFigure, lmOutlierTrackFigure, lmTensorFigure, lmQuantTable, lmOutlierTable, findExperiment, QUANT_SCHEME_INFO, showFigure, showTable, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);
for (const [k, v] of Object.entries(QUANT_SCHEME_INFO)) console.log(`${k.padEnd(13)} ${v}`);

// %% [markdown]
// ## Train (or load) the models; measure outliers during training and quantise at the end

// %%
const { records, summary } = await runLmQuant({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
console.log(summary.setup);
for (const r of records) console.log(`${r.run}: ${r.result.status}, fp32 test bpb ${r.result.test ? r.result.test.bpb.toFixed(3) : "-"}, commit ${r.provenance.gitCommit.slice(0, 8)}`);

// %% [markdown]
// ## Outlier features and tails of the quantised Linears' inputs

// %%
showTable(lmOutlierTable(summary), { title: `outliers at the end of training (${scale}), mean over seeds`, digits: 2 });
await showFigure(lmOutlierTrackFigure(records, summary), { savePath: resultPath("lm-quant", scale, "figures/outliers-over-training") });
await showFigure(lmOutlierTrackFigure(records, summary, "maxOverRms"), { savePath: resultPath("lm-quant", scale, "figures/max-over-rms-over-training") });
await showFigure(lmTensorFigure(records, "kurtosis", scale), { savePath: resultPath("lm-quant", scale, "figures/kurtosis") });

// %% [markdown]
// ## Bits per byte lost to post-training quantisation

// %%
showTable(lmQuantTable(summary), { title: `fp32 test bpb and increase per scheme (${scale})`, digits: 3 });
await showFigure(lmQuantIncreaseFigure(summary), { savePath: resultPath("lm-quant", scale, "figures/increase") });

// %% [markdown]
// ## Verdicts (computed from the runs above)

// %%
for (const row of findExperiment("lm-quant").claims(summary)) console.log(`claim ${row.id}: ${row.verdict.toUpperCase()}\n  ${row.ours}\n`);
