// %% [markdown]
// # 22 · The norm-free methods on the language model: DyT against Fixup, SkipInit and ReZero
//
// **Paper claim 8** (Table 9, ViT-B on ImageNet): DyT beats the norm-free methods: Fixup 77.2, SkipInit
// 74.1 against DyT 82.8 top-1. The paper has no norm-free language model; the reviewers ask for the
// norm-free baselines on large Transformers (issue 12).
//
// **Protocol** (pre-registered 2026-12-03; `lib/experiments/lm-norm-free/spec.ts`): the LLaMA-style
// byte-level LM of notebook 14 (`lm-rmsnorm-dyt`: its model, text and token budget at each scale). Each
// arm runs at its own lr, tuned on validation bits per byte with seed 101: DyT (LLaMA recipe) and
// RMSNorm take notebook 14's picks, each norm-free method the best of its grid in notebook 21
// (`lm-lr-stability`). Evaluation seeds 1–3 (DyT's and RMSNorm's are notebook 14's runs, read from its
// records), paired by seed on the final test bits per byte. *8.fixup (LM)*, *8.skipinit (LM)*: "DyT beats
// X": lower test bpb, refuted when the data exclude a gain of 0.02 bpb or more; seeds 4 and 5 are added
// while a claim is inconclusive. DyT vs ReZero and RMSNorm vs each method are descriptive.
// **Disclosed**: the seed-101 tuning results were seen before this design (notebook 21: every norm-free
// method below both norms on that seed).
// The scale comes from `DYT_SCALE`; `full` results are loaded, not re-run
// (`npm run exp -- lm-norm-free --scale full --workers 2` trains them).

// %%
import { initEngine, notebookScale, runLmNormFree, trainLossFigure, heldOutFigure, lmArmTable, findExperiment, showFigure, showTable, toDataFrame, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Train (or load) every arm at its tuned lr

// %%
const { records, picks, summary } = await runLmNormFree({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
console.log(summary.setup);
for (const p of picks) console.log(`${p.arm}: lr ${p.bestLr} from ${p.source} (validation bpb by lr: ${p.grid.map((g) => `${g.lr} ${g.valBpb == null ? g.class : g.valBpb.toFixed(3)}`).join(", ")})`);
for (const r of records) console.log(`${r.experiment}/${r.run}: ${r.result.status}, test bpb ${r.result.test ? r.result.test.bpb.toFixed(3) : "-"}, commit ${r.provenance.gitCommit.slice(0, 8)}`);

// %% [markdown]
// ## Curves and final bits per byte (mean ± std over seeds)

// %%
await showFigure(trainLossFigure(records, summary), { savePath: resultPath("lm-norm-free", scale, "figures/train-loss") });
await showFigure(heldOutFigure(records, summary), { savePath: resultPath("lm-norm-free", scale, "figures/held-out") });
showTable(toDataFrame(lmArmTable(summary)), { title: `lm-norm-free (${scale})`, digits: 3 });

// %% [markdown]
// ## Verdicts (computed from the runs above)

// %%
for (const row of findExperiment("lm-norm-free").claims(summary)) console.log(`claim ${row.id}: ${row.verdict.toUpperCase()} by this experiment's test (${row.reason ?? ""}); the claims table then corrects all paired rows together (Holm)`);
for (const c of summary.descriptive) console.log(`descriptive: ${c.text}`);
