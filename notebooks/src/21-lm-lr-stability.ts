// %% [markdown]
// # 21 · Learning-rate stability of the language model: RMSNorm, DyT and the norm-free methods
//
// **Reviewer question** (issue 12): is DyT as stable as the norm under the learning rate, on a language
// model, and how do the norm-free methods (ReZero, SkipInit, Fixup) fare on the same model? The paper
// notes that for LLMs a large α₀ with a large learning rate can diverge, and tunes α₀ per width.
//
// **Protocol** (pre-registered 2026-12-03; `lib/experiments/lm-lr-stability/spec.ts`): the LLaMA-style
// byte-level LM of notebook 14 (`lm-rmsnorm-dyt`: its model, text and token budget at each scale), one
// run per (arm, peak lr) on a half-decade ladder (full: 1e-3 … 3e-1), seed 101. A grid grows by one
// ladder step upward while its top run learned, and downward while its best run is the bottom one
// (within 1e-4 … 1). A run *learned* when its final test bits per byte are at least 0.25 below the
// unigram baseline; *diverged* when the trainer stopped it (loss above 3 · ln 257) or its bpb is not
// finite. *R-lr (LM)* applies notebook 09's rule unchanged, with test bpb for accuracy: DyT's largest
// lr that learns is no lower than RMSNorm's, and its near-optimal interval (test bpb within 0.04 of its
// best) no narrower by more than one grid step. The norm-free arms are descriptive. Runs that
// `lm-rmsnorm-dyt` already has (the same config and seed: its tuning runs) are read from its records.
//
// **The α₀ variant** (amendment pre-registered 2026-12-05, after R-lr (LM) was seen, before any run of
// the variant): DyT with α₀ 0.25 in every slot (`lm-alpha0`'s best at width 64) is swept over the same
// grid by the same extension rule, and *R-lr.α₀ (LM)* applies the same rule against RMSNorm's runs.
// R-lr (LM) reads the sweep without it, so its row is unchanged.
// The scale comes from `DYT_SCALE`; `full` results are loaded, not re-run
// (`npm run exp -- lm-lr-stability --scale full --workers 2` trains them).

// %%
import { initEngine, notebookScale, runLmLrStability, lmLrFigures, lmLrCurvesFigure, lmLrTable, findExperiment, showFigure, showTable, toDataFrame, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Run (or load) the sweep

// %%
const { records, summary } = await runLmLrStability({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
console.log(summary.setup);
for (const r of summary.runs)
  console.log(`${r.arm.padEnd(9)} lr ${r.lr.toExponential(1)}: ${r.class.padEnd(13)} test ${Number.isFinite(r.testBpb) ? r.testBpb.toFixed(3) : "  -  "} bpb, ${r.spikes} spikes, max grad norm ${r.maxGradNorm.toFixed(2)} (${r.source})`);

// %% [markdown]
// ## Test bits per byte vs learning rate, which runs learned, gradient norms, training curves

// %%
const figs = lmLrFigures(summary);
await showFigure(figs.bpb, { savePath: resultPath("lm-lr-stability", scale, "figures/test-bpb") });
await showFigure(figs.learned, { savePath: resultPath("lm-lr-stability", scale, "figures/learned") });
await showFigure(figs.gradNorm, { savePath: resultPath("lm-lr-stability", scale, "figures/grad-norm") });
await showFigure(lmLrCurvesFigure(records, summary), { savePath: resultPath("lm-lr-stability", scale, "figures/curves") });
showTable(toDataFrame(lmLrTable(summary)), { title: `lm-lr-stability (${scale})`, digits: 3 });

// %% [markdown]
// ## Verdict (computed from the runs above)

// %%
for (const row of findExperiment("lm-lr-stability").claims(summary)) console.log(`claim ${row.id}: ${row.verdict.toUpperCase()} (${row.reason ?? ""})\n  ${row.ours}\n`);
