// %% [markdown]
// # 01 · DyT vs LayerNorm on a Vision Transformer, over a budget ladder
//
// **Paper claim** (Zhu et al., CVPR 2025, Table 1): replacing every LayerNorm of a ViT with
// Dynamic Tanh, `DyT(x) = γ · tanh(αx) + β` (α one learnable scalar per layer, α₀ = 0.5),
// gives the same ImageNet accuracy (ViT-B 82.3 → 82.5 %, ViT-L 83.1 → 83.6 %).
//
// **Here, in miniature, under the lab's protocol** (README, "Protocol"): a small pre-norm ViT
// on Fashion-MNIST, trained with LayerNorm and with DyT from the same seeds and data order,
// **each at its own learning rate** (picked on the validation split with a separate tuning seed),
// at several budgets in epochs (the budget ladder). DyT − LN is tested paired over seeds; the
// claim ("DyT − LN > −1 point") is judged at the largest budget where every run plateaued.
// The scale comes from `DYT_SCALE` (`smoke`, `quick`, `full`); `full` results are committed under
// `results/vit-fashion/full/` and are loaded, not re-run.

// %%
import { initEngine, notebookScale, runVitFashion, ladderFigure, ladderTable, rungCurvesFigure, tuningFigure, alphaTraceFigure, alphaTraces, showFigure, showTable, toDataFrame, resultPath, RULES } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Tune, then train (or load) every rung
// Each run is one record under `results/vit-fashion/<scale>/`, keyed on its fully resolved config
// with its provenance; an interrupted run resumes from its checkpoint in `runs/`.

// %%
// At full scale the committed runs are loaded, never trained inside a notebook (`npm run exp -- vit-fashion --scale full` trains).
const { records, summary } = await runVitFashion({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
console.log(summary.setup);
console.log(`${records.length} runs (${records.filter((r) => r.role === "tune").length} tuning, ${records.filter((r) => r.role === "eval").length} evaluation)`);

// %% [markdown]
// ## lr tuning (validation accuracy of the tuning seed)

// %%
await showFigure(tuningFigure(summary), { savePath: resultPath("vit-fashion", scale, "figures/tuning") });
for (const p of summary.picks) console.log(`${p.arm} at ${p.epochs} epochs: lr ${p.bestLr}${p.atEdge ? " (at the grid's edge)" : ""}${p.noneLearned ? " (no lr learned)" : ""}`);

// %% [markdown]
// ## The budget ladder
// DyT − LN test accuracy at each budget (mean and 95 % CI over paired seeds), with the match margin.

// %%
showTable(toDataFrame(ladderTable(summary)), { title: `vit-fashion ladder (${scale})`, digits: 2 });
if (summary.rungs.some((r) => r.evidence)) await showFigure(ladderFigure(summary, RULES.matchMarginPoints), { savePath: resultPath("vit-fashion", scale, "figures/ladder") });

// %% [markdown]
// ## Validation curves at the budget the claim is judged at (or the largest budget)

// %%
const rung = summary.claimEpochs ?? summary.rungs[summary.rungs.length - 1]!.epochs;
await showFigure(rungCurvesFigure(records, summary, rung), { savePath: resultPath("vit-fashion", scale, "figures/curves") });

// %% [markdown]
// ## α per layer during training (DyT, first seed at that budget)

// %%
const dytRun = records.find((r) => r.role === "eval" && r.arm === "dyt" && r.axes.epochs === rung && !r.run.includes("-at-"));
if (dytRun) await showFigure(alphaTraceFigure(alphaTraces(dytRun.result.log), { title: `DyT α per layer, ${rung} epochs, seed ${dytRun.seed}` }), { savePath: resultPath("vit-fashion", scale, "figures/alpha") });

// %% [markdown]
// ## Verdict (computed from the runs above)

// %%
console.log(`Claim 1, DyT matches LayerNorm on ViT: ${summary.verdict.toUpperCase()} (${summary.reason})`);
console.log(summary.statement);
