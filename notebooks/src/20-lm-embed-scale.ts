// %% [markdown]
// # 20 · The embedding scalar of DyT-LLaMA, ablated
//
// **Paper recipe** (Zhu et al., CVPR 2025, LLaMA): besides replacing every RMSNorm with DyT, the DyT
// LLaMA multiplies the embedding output by a learnable scalar initialised to √d. The paper reports no
// ablation of it. **Issue 12 asks for one.**
//
// **Protocol** (pre-registered 2026-12-03; `lib/experiments/lm-embed-scale/spec.ts`): the LLaMA-style
// byte-level LM of notebook 14 (`lm-rmsnorm-dyt`: its model, text and token budget at each scale), as a
// 2 × 2: {DyT in the paper's LLaMA recipe, RMSNorm} × {with the scalar, without it}. Every arm runs at
// lr 1e-2, `lm-rmsnorm-dyt`'s tuned pick at full for both norms (not re-tuned here), from the same seeds.
// *R-embed-scale (LM)*: "DyT-LLaMA needs its embedding scalar": DyT with the scalar has lower test bits
// per byte than DyT without it, paired over seeds; refuted when the data exclude a gain of 0.02 bpb or
// more (seeds 4 and 5 are added while it is inconclusive). The RMSNorm pair is descriptive.
// The scale comes from `DYT_SCALE`; `full` results are loaded, not re-run
// (`npm run exp -- lm-embed-scale --scale full --workers 2` trains them).

// %%
import { initEngine, notebookScale, runLmEmbedScale, trainLossFigure, heldOutFigure, lmArmTable, findExperiment, showFigure, showTable, toDataFrame, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Train (or load) the four arms

// %%
const { records, summary } = await runLmEmbedScale({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
console.log(summary.setup);
for (const r of records) console.log(`${r.run}: ${r.result.status}, test bpb ${r.result.test ? r.result.test.bpb.toFixed(3) : "-"}, commit ${r.provenance.gitCommit.slice(0, 8)}`);

// %% [markdown]
// ## Curves and final bits per byte (mean ± std over seeds)

// %%
await showFigure(trainLossFigure(records, summary), { savePath: resultPath("lm-embed-scale", scale, "figures/train-loss") });
await showFigure(heldOutFigure(records, summary), { savePath: resultPath("lm-embed-scale", scale, "figures/held-out") });
showTable(toDataFrame(lmArmTable(summary)), { title: `lm-embed-scale (${scale})`, digits: 3 });

// %% [markdown]
// ## Verdict (computed from the runs above)

// %%
for (const row of findExperiment("lm-embed-scale").claims(summary)) console.log(`claim ${row.id}: ${row.verdict.toUpperCase()} (${row.reason ?? ""})\n  ${row.ours}\n`);
