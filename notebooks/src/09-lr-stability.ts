// %% [markdown]
// # 09 · Learning-rate sensitivity and training stability: LayerNorm vs DyT
//
// **Reviewer question**: does removing the normalisation statistics make training more fragile?
// The paper reports that vision models train over a wide range of α₀, and that for LLMs a large α₀
// with a large learning rate can diverge. Here we sweep the peak learning rate for the same ViT with
// LayerNorm and with DyT (any norm-free method can be added: `runLrStability({ scale: scale }, { variants: [...] })`).
//
// **Protocol** (baselines.md §2): lr = base · 2^k on a grid, the same warmup + cosine schedule for every
// arm, the loss logged at every step.
// - *Diverged*: a non-finite loss, a loss above 3·ln 10 (the trainer stops the run), or a mean loss over
//   the last 5 % of steps ≥ l₀ = ln 10.
// - *Sensitivity*: the mean over the grid of l(lr) − l*, diverged runs capped at l₀; the widest lr interval
//   within 1.05·l*, in decades; the largest lr without a divergence.
// - *Loss spikes*: L_t > 1.1·median and > median + 5·MAD over the previous 50 steps.

// %%
import { initEngine, notebookScale, runLrStability, lrStabilityFigures, lrStabilityTable, showFigure, showTable, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Run (or load) the sweep

// %%
// At full scale the committed runs are loaded, never trained inside a notebook (`npm run exp -- lr-stability --scale full` trains).
const { records, summary } = await runLrStability({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
for (const r of summary.runs)
  console.log(`${r.arm.padEnd(10)} lr ${r.lr.toExponential(1)} seed ${r.seed}: ${r.class}, final loss ${r.finalLoss.toFixed(3)}, ${r.spikes} spikes, max grad norm ${r.maxGradNorm.toFixed(2)}`);
console.log(`${records.length} runs, commit ${records[0]?.provenance.gitCommit.slice(0, 8)}`);

// %% [markdown]
// ## Final loss and accuracy vs learning rate, which runs learned, gradient norms

// %%
const figs = lrStabilityFigures(summary);
await showFigure(figs.loss, { savePath: resultPath("lr-stability", scale, "figures/loss-vs-lr") });
await showFigure(figs.accuracy, { savePath: resultPath("lr-stability", scale, "figures/accuracy-vs-lr") });
await showFigure(figs.learned, { savePath: resultPath("lr-stability", scale, "figures/learned-map") });
await showFigure(figs.gradNorm, { savePath: resultPath("lr-stability", scale, "figures/grad-norm-vs-lr") });

// %%
showTable(lrStabilityTable(summary), { title: `LR sensitivity (${scale})`, digits: 3 });

// %% [markdown]
// ## Verdict (computed from the runs above)

// %%
console.log(`DyT is as robust to the learning rate as LayerNorm: ${summary.verdict.toUpperCase()} (${summary.setup}, ${scale} scale)`);
console.log(summary.statement);
