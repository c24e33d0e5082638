// %% [markdown]
// # 11 · Where the norm sits: pre-, post- and res-post-norm, LayerNorm vs DyT, with depth
//
// **Reviewer question**: the paper swaps DyT into each model's own norm slots (mostly pre-norm).
// Does DyT also work where LayerNorm sits *on* the residual stream (post-norm, the original
// Transformer) or at the end of each branch (res-post-norm, Swin-V2)?
//
// | placement | block |
// | --- | --- |
// | pre | `h = x + A(N₁ x)`, `y = h + F(N₂ h)`, final norm before the head |
// | post | `h = N₁(x + A x)`, `y = N₂(h + F h)`, no final norm |
// | res-post | `h = x + N₁(A x)`, `y = h + N₂(F h)`, N's gain starts at 0 (block = identity at init), final norm |
//
// Same ViT, recipe (warmup + cosine, AdamW, grad-clip 1) and seeds in every cell; depths from the
// scale's config. Diverged runs count at chance accuracy.

// %%
import { initEngine, notebookScale, runPlacement, placementFigure, placementTable, showFigure, showTable, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Train (or load) every cell

// %%
// At full scale the committed runs are loaded, never trained inside a notebook (`npm run exp -- placement --scale full` trains).
const { records, summary } = await runPlacement({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
for (const r of records)
  console.log(`${r.run}: ${r.result.status}, test acc ${r.result.test ? (100 * r.result.test.acc).toFixed(2) + "%" : "-"}, commit ${r.provenance.gitCommit.slice(0, 8)}`);

// %% [markdown]
// ## Accuracy by placement and depth

// %%
await showFigure(placementFigure(summary), { savePath: resultPath("placement", scale, "figures/placement-depth") });
showTable(placementTable(summary), { title: `placement (${scale})`, digits: 2 });

// %% [markdown]
// ## Verdict (computed from the runs above)

// %%
console.log(`DyT replaces LayerNorm in every placement and depth: ${summary.verdict.toUpperCase()} (${summary.setup}, ${scale} scale)`);
console.log(summary.statement);
