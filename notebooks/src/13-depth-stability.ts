// %% [markdown]
// # 13 · Stability with depth: LN and DyT (pre / post) against the norm-free methods
//
// **Reviewer question**: "DyT trains stably at every depth where LayerNorm does (4-24), and the norm-free
// methods break first as depth grows." The same small-width ViT at several depths, one recipe for every
// arm (AdamW, warmup + cosine, grad-clip 1, the same lr and seeds):
//
// | arm | block |
// | --- | --- |
// | LN / DyT pre | `h = x + A(N₁ x)`, `y = h + F(N₂ h)`, final norm |
// | LN / DyT post | `h = N₁(x + A x)`, `y = N₂(h + F h)` |
// | ReZero, SkipInit, Fixup, σ-Reparam, NF-style | no norms; gates / init / weight reparameterisation (baselines.md §1) |
//
// **Measured** (baselines.md §2): every step's loss and gradient norm; every 10th step a separate forward
// pass on a fixed probe batch of validation images (`activationStatsHook`) records per block the max |h| and
// RMS of the residual stream and the mean attention entropy (nats; uniform over the 17 tokens = ln 17 ≈ 2.83).
// - *Run classes* (one rule for every experiment): diverged (the trainer stopped it: non-finite loss or loss > 3·ln 10),
//   did not learn (final accuracy below 28 %, chance + 20 % of the way to 100 %), or learned.
// - *Loss spikes*: L_t > 1.1·median and > median + 5·MAD over the previous 50 steps.
// - *Broken cell*: any seed of that arm and depth diverged or did not learn.

// %%
import { initEngine, notebookScale, runDepthStability, depthAccuracyFigure, depthDivergenceFigure, depthActivationFigures, depthEntropyFigure, depthStabilityTable, showFigure, showTable, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Train (or load) every (arm, depth, seed) run

// %%
// At full scale the committed runs are loaded, never trained inside a notebook (`npm run exp -- depth-stability --scale full` trains).
const { records, summary } = await runDepthStability({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
for (const r of records)
  console.log(`${r.run}: ${r.result.status}${r.result.diverged ? ` at step ${r.result.diverged.step}` : ""}, test acc ${r.result.test ? (100 * r.result.test.acc).toFixed(2) + "%" : "-"}, commit ${r.provenance.gitCommit.slice(0, 8)}`);
console.log(`${records.length} runs; missing: ${summary.missing.length ? summary.missing.join("; ") : "none"}`);

// %% [markdown]
// ## Accuracy and divergence by depth

// %%
await showFigure(depthAccuracyFigure(summary), { savePath: resultPath("depth-stability", scale, "figures/accuracy-vs-depth") });
await showFigure(depthDivergenceFigure(summary), { savePath: resultPath("depth-stability", scale, "figures/divergence-map") });

// %% [markdown]
// ## Residual-stream max activation during training (probe batch)

// %%
for (const f of depthActivationFigures(summary))
  await showFigure(f.figure, { savePath: resultPath("depth-stability", scale, `figures/max-activation-d${f.depth}`) });

// %% [markdown]
// ## Attention entropy at the end of training

// %%
await showFigure(depthEntropyFigure(summary), { savePath: resultPath("depth-stability", scale, "figures/attention-entropy-vs-depth") });

// %% [markdown]
// ## Summary table

// %%
showTable(depthStabilityTable(summary), { title: `depth stability (${scale})`, digits: 3 });

// %% [markdown]
// ## Verdict (computed from the runs above)

// %%
console.log(`DyT trains stably at every depth where LayerNorm does, and the norm-free methods break first: ${summary.verdict.toUpperCase()} (${summary.setup}, ${scale} scale)`);
console.log(summary.statement);
