// %% [markdown]
// # 14 · RMSNorm vs DyT in a LLaMA-style language model
//
// **Paper claim** (Zhu et al., CVPR 2025, LLaMA 7B–70B): replacing every RMSNorm of LLaMA with
// Dynamic Tanh, `DyT(x) = γ · tanh(αx)` (γ only, no β; α₀ per slot by width: attention 1.0 and
// FFN/final 1.0 up to width 1024; a learnable scalar, init √d, after the embedding), gives the same
// training loss and the same zero-shot accuracy.
//
// **Here, in miniature, under the lab's protocol** (README, "Protocol"): a LLaMA-style decoder
// (pre-norm, RoPE, SwiGLU, no biases, untied head) trained for next-byte prediction on English
// text (KJV, Brown, SOTU, Moby-Dick; split by document), with RMSNorm and with DyT from the same
// seeds and data order, **each at its own learning rate** (picked on validation bits per byte with a
// separate tuning seed). DyT vs RMSNorm is tested paired over seeds on the final test bits per byte:
// "DyT matches RMSNorm" means DyT's bpb is at most `RULES.lmMatchMarginBpb` (0.02) above RMSNorm's.
// The scale comes from `DYT_SCALE` (`smoke`, `quick`, `full`); `full` results are loaded, not re-run
// (`npm run exp -- lm-rmsnorm-dyt --scale full` trains them).

// %%
import { initEngine, notebookScale, runLmRmsnormDyt, trainLossFigure, heldOutFigure, lmTuningFigure, lmArmTable, alphaTraceFigure, alphaTraces, showFigure, showTable, toDataFrame, resultPath, RULES } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Tune, then train (or load) both arms
// Each run is one record under `results/lm-rmsnorm-dyt/<scale>/`, keyed on its fully resolved
// config (task "lm-text": model, data, training, every default written out) with its provenance.

// %%
const { records, summary } = await runLmRmsnormDyt({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
console.log(summary.setup);
console.log(`${records.length} runs (${records.filter((r) => r.role === "tune").length} tuning, ${records.filter((r) => r.role === "eval").length} evaluation)`);
console.log(`test-split baselines: unigram ${summary.baselines.unigramBpb.toFixed(3)} bpb, uniform ${summary.baselines.uniformBpb.toFixed(3)} bpb`);

// %% [markdown]
// ## lr tuning (validation bits per byte of the tuning seed; lower is better)

// %%
await showFigure(lmTuningFigure(summary), { savePath: resultPath("lm-rmsnorm-dyt", scale, "figures/tuning") });
for (const p of summary.picks) console.log(`${p.arm}: lr ${p.bestLr}${p.atEdge ? " (at the grid's edge)" : ""}${p.noneLearned ? " (no lr learned)" : ""}`);

// %% [markdown]
// ## Training and held-out loss (mean ± std over seeds)

// %%
await showFigure(trainLossFigure(records, summary), { savePath: resultPath("lm-rmsnorm-dyt", scale, "figures/train-loss") });
await showFigure(heldOutFigure(records, summary), { savePath: resultPath("lm-rmsnorm-dyt", scale, "figures/held-out") });
showTable(toDataFrame(lmArmTable(summary)), { title: `lm-rmsnorm-dyt (${scale})`, digits: 3 });

// %% [markdown]
// ## α per layer during training (DyT, first seed)

// %%
const dytRun = records.find((r) => r.role === "eval" && r.config.model.norm === "dyt");
if (dytRun) await showFigure(alphaTraceFigure(alphaTraces(dytRun.result.log), { title: `DyT α per layer, seed ${dytRun.seed}` }), { savePath: resultPath("lm-rmsnorm-dyt", scale, "figures/alpha") });

// %% [markdown]
// ## Verdict (computed from the runs above)

// %%
console.log(`LM-1, DyT matches RMSNorm (margin ${RULES.lmMatchMarginBpb} bpb): ${summary.verdict.toUpperCase()} (${summary.reason})`);
console.log(summary.statement);
