// %% [markdown]
// # 25 · The language model pushed to failure
//
// **Reviewer request** (issue 12): push DyT "to failure" with longer training and larger sizes, and
// report where it breaks, or the largest setting tried without a break.
//
// **Design** (pre-registered 2026-12-03; `lib/experiments/lm-to-failure/spec.ts`): notebook 14's
// LLaMA-style byte LM, DyT (LLaMA recipe) and RMSNorm, each at its lr tuned in notebook 14 (not
// re-tuned per rung), seeds 1–3, up two ladders that start from notebook 14's runs:
// - **steps**: the training budget ×1, ×2, ×4 at width 64, depth 2;
// - **depth**: 2, 4, 8 blocks at the base budget.
//
// A rung **breaks** when DyT does not learn on a seed where RMSNorm learned, or when DyT's test-bpb gap
// to RMSNorm widens over the first rung's: the widening, paired over seeds, must be shown below
// 0.02 bpb for the rung to **hold**; shown above, it breaks; otherwise the rung is inconclusive. A
// ladder stops at its first break. *R-to-failure (LM)*: supported when every rung holds.
//
// **The re-tuned depth rung** (pre-registered 2026-12-04, after the ladders were seen): at depth 4
// both norms are tuned again on validation bpb (RMSNorm over 3e-3, 1e-2, 3e-2; DyT over the same lrs ×
// α₀ ∈ {the recipe's 1, 0.25}), their picks run on seeds 1–3, and the same rung rule judges the rung:
// *R-to-failure.retuned (LM)*. It asks whether DyT at that depth needed its own lr or α₀.
//
// **The width ladder** (an amendment pre-registered 2026-12-05, before any run of it; the rows
// above are unchanged): widths 64, 128, 256 at depth 2 and the base budget, heads unchanged, each norm
// at its notebook-14 lr, DyT's α₀ and the init std as the recipe sets them for the width; the same
// rung rule and climb. It has its own row, *R-to-failure, width (LM)*, and does not enter
// *R-to-failure (LM)*. At `full` it reports "not yet run" until its runs exist.
//
// **The width ladder re-tuned** (an amendment pre-registered 2026-12-05, after the width ladder's runs
// were seen, before any run of it; every row above is unchanged): at widths 128 and 256 both norms ran
// at their width-64 lr and both got worse from 128 to 256, so each norm is tuned again per width (lrs
// 3e-3, 1e-2, 3e-2 on seed 101, DyT at the recipe's α₀), its pick runs on seeds 1–3 (a pick of 1e-2
// reads the width ladder's runs), and the same rung rule judges each width, with no climb-stop:
// *R-to-failure, width re-tuned (LM)*. At `full` it reports "not yet run" until its runs exist.
//
// The scale comes from `DYT_SCALE`; `full` results are loaded, not re-run
// (`npm run exp -- lm-to-failure --scale full --workers 2` trains them: hours).

// %%
import { initEngine, notebookScale, runLmToFailure, gapLadderFigure, retuneTable, rungTable, widthRecipeTable, widthRetuneTable, showFigure, showTable, toDataFrame, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Climb the ladders (or load them)

// %%
const { records, summary } = await runLmToFailure({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
console.log(summary.setup);
console.log(`${records.length} runs`);

// %% [markdown]
// ## DyT − RMSNorm test bits per byte along each ladder

// %%
await showFigure(gapLadderFigure(summary), { savePath: resultPath("lm-to-failure", scale, "figures/gap-ladder") });
showTable(toDataFrame(rungTable(summary)), { title: `lm-to-failure (${scale})`, digits: 3 });
if (summary.retuned) showTable(toDataFrame(retuneTable(summary)), { title: `depth ${summary.retuned.depth} re-tuned: the tuning grid (seed 101)`, digits: 3 });

// %% [markdown]
// ## Verdict (computed from the runs above)

// %%
console.log(`R-to-failure (LM): ${summary.verdict.toUpperCase()} (${summary.reason})`);
console.log(summary.statement);
if (summary.retuned) {
  console.log(`R-to-failure.retuned (LM): ${summary.retuned.verdict.toUpperCase()} (${summary.retuned.reason})`);
  console.log(summary.retuned.statement);
}

// %% [markdown]
// ## The width ladder (amendment 2026-12-05)
//
// What the recipe gives DyT at each width (from the resolved run configs), each rung's outcome (its
// gaps are the width panel of the figure above), and the row's verdict.

// %%
if (summary.width) {
  showTable(toDataFrame(widthRecipeTable(summary)), { title: `the width ladder: DyT's recipe per width (${scale})`, digits: 3 });
  console.log(`R-to-failure, width (LM): ${summary.width.verdict.toUpperCase()} (${summary.width.reason})`);
  console.log(summary.width.statement);
}

// %% [markdown]
// ## The width ladder re-tuned (amendment 2026-12-05, after the width ladder was seen)
//
// Each norm's tuning grid per width (validation bpb on seed 101; the picks marked), then the row's
// verdict. The picks' gaps are the diamonds in the width panel of the figure above, and their rows
// ("width, re-tuned") close the rung table.

// %%
if (summary.widthRetuned) {
  if (summary.widthRetuned.rungs.length) showTable(toDataFrame(widthRetuneTable(summary)), { title: `the width ladder re-tuned: tuning grids (seed ${summary.widthRetuned.seed}, ${scale})`, digits: 3 });
  console.log(`R-to-failure, width re-tuned (LM): ${summary.widthRetuned.verdict.toUpperCase()} (${summary.widthRetuned.reason})`);
  console.log(summary.widthRetuned.statement);
}
