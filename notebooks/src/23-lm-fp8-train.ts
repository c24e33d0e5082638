// %% [markdown]
// # 23 · FP8 training of the language model: does DyT pay more than RMSNorm?
//
// **Reviewer question** (issue 12): how is FP8 *training* affected by dropping the norm? The paper trains
// in bf16 and does not study FP8; notebook 19 measured post-training FP8 quantisation.
//
// **Method**: every block Linear of the LLaMA-style LM (q/k/v, output, gate/up, down) multiplies in
// emulated FP8, forward and backward (`lib/ops/fp8-matmul.ts`): E4M3 operands in the forward product,
// the incoming gradient in E5M2 in the two backward products, each tensor scaled by its own current amax
// (Transformer Engine's HYBRID formats; its default delayed scaling is not modelled). The rounding is
// passed straight through to the fp32 master weights. Embedding, head, norms and attention products stay
// fp32; the trained model is evaluated the same way.
//
// **Protocol** (pre-registered 2026-12-03; `lib/experiments/lm-fp8-train/spec.ts`): notebook 14's model,
// text and token budget; DyT (LLaMA recipe) and RMSNorm, each at its lr tuned in notebook 14 (not
// re-tuned for FP8); seeds 1–3, whose fp32 runs are notebook 14's. Per seed, a norm's *FP8 cost* is its
// FP8 test bits per byte minus its fp32 ones. *R-fp8-train (LM)*: DyT's cost is at most 0.02 bpb above
// RMSNorm's, paired over seeds; an FP8 run that fails to learn where its fp32 run learned decides the row
// first (DyT's alone: not supported; RMSNorm's alone: supported; both: not testable).
// The scale comes from `DYT_SCALE`; `full` results are loaded, not re-run
// (`npm run exp -- lm-fp8-train --scale full --workers 2` trains them).

// %%
import { initEngine, notebookScale, runLmFp8, trainLossFigure, heldOutFigure, findExperiment, showFigure, showTable, toDataFrame, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Train (or load) both norms in fp32 and in FP8

// %%
const { records, summary } = await runLmFp8({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
console.log(summary.setup);
for (const r of records) console.log(`${r.experiment}/${r.run}: ${r.result.status}, test bpb ${r.result.test ? r.result.test.bpb.toFixed(3) : "-"}, commit ${r.provenance.gitCommit.slice(0, 8)}`);

// %% [markdown]
// ## Curves (mean ± std over seeds) and the FP8 cost per seed

// %%
await showFigure(trainLossFigure(records, summary), { savePath: resultPath("lm-fp8-train", scale, "figures/train-loss") });
await showFigure(heldOutFigure(records, summary), { savePath: resultPath("lm-fp8-train", scale, "figures/held-out") });
const rows = summary.pairs.flatMap((p) => p.seeds.map((seed, i) => ({ norm: p.label, seed: seed, "fp32 test bpb": p.fp32.bpbs[p.fp32.seeds.indexOf(seed)], "FP8 test bpb": p.fp8.bpbs[p.fp8.seeds.indexOf(seed)], "FP8 cost (bpb)": p.cost[i] })));
showTable(toDataFrame(rows), { title: `lm-fp8-train (${scale}): FP8 cost per seed`, digits: 3 });

// %% [markdown]
// ## Verdict (computed from the runs above)

// %%
for (const row of findExperiment("lm-fp8-train").claims(summary)) console.log(`claim ${row.id}: ${row.verdict.toUpperCase()} by this experiment's test (${row.reason ?? ""}); the claims table then corrects all paired rows together (Holm)\n  ${row.ours}\n`);
