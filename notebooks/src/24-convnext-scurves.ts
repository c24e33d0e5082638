// %% [markdown]
// # 24 · ConvNeXt: LayerNorm S-curves and DyT's α vs 1/std
//
// **Paper claims** (Zhu et al., CVPR 2025, §3 and §6.2): in trained models, LayerNorm's
// input→output map is mostly linear in early layers and tanh-like (S-shaped) in deeper ones
// (Figures 2-4: ViT-B, wav2vec 2.0, DiT); DyT's learned α tracks 1/std of its layer's input
// across layers (Figures 8-9, ViT-B and ConvNeXt-B). A reviewer asked whether the S-curves
// hold for ConvNeXt too. Notebooks 02 and 03 test both on the ViT; this one on ConvNeXt.
//
// **Here**: vision-families' 3-stage ConvNeXt on Fashion-MNIST (notebook 15), the LayerNorm and
// the DyT model each at the lr tuned there, on its evaluation seeds. Every norm is read on a fixed
// batch of validation images at init and at the end of training. Channels-first norms (stem,
// downsampling) are read per pixel over channels, as they normalise.
//
// **Rules** (written before the runs; `lib/experiments/convnext-scurves/spec.ts`):
// - claim 3 (ConvNeXt): the LNs in forward order without the final norm, first half = early,
//   second half = deep; deep − early ΔR² > 0 and deep ΔR² > 0.01, paired over seeds
//   (ΔR² = R²(k·tanh(s·x)) − R²(line) of the pre-affine output);
// - claim 4 (ConvNeXt): per seed, Pearson r of α vs 1/std across every DyT layer; supported when
//   the CI of the mean r lies above 0 and the mean r ≥ 0.5, not supported when it lies below 0.5.
//
// The scale comes from `DYT_SCALE`; `full` results are loaded, not re-run
// (`npm run exp -- convnext-scurves --scale full --workers 2` trains them).

// %%
import { initEngine, notebookScale, runConvnextScurves, lnMapsFigure, lnDeltaFigure, alphaInvStdFigure, lnTable, showFigure, showTable, toDataFrame, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Train (or load) both models with their readings

// %%
const { records, summary } = await runConvnextScurves({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
console.log(summary.setup);
console.log(`${records.length} runs; LN test accuracy ${summary.ln.testAcc.mean.toFixed(2)} ± ${summary.ln.testAcc.std.toFixed(2)} %, DyT ${summary.dyt.testAcc.mean.toFixed(2)} ± ${summary.dyt.testAcc.std.toFixed(2)} %`);

// %% [markdown]
// ## LayerNorm maps at the end of training (first seed)
// Each panel is one LN layer: the pre-affine output of the sampled tokens against the input, with
// the fitted k·tanh(s·x).

// %%
if (summary.ln.earlyDeep.length) await showFigure(lnMapsFigure(records), { savePath: resultPath("convnext-scurves", scale, "figures/ln-maps") });

// %% [markdown]
// ## How S-shaped each layer is, at init and at the end

// %%
await showFigure(lnDeltaFigure(summary), { savePath: resultPath("convnext-scurves", scale, "figures/ln-delta") });
showTable(toDataFrame(lnTable(summary)), { title: `ConvNeXt LayerNorm fits (${scale})`, digits: 4 });

// %% [markdown]
// ## DyT: α vs 1/std of each layer's input at the end

// %%
await showFigure(alphaInvStdFigure(summary), { savePath: resultPath("convnext-scurves", scale, "figures/alpha-inv-std") });

// %% [markdown]
// ## Verdicts (computed from the runs above; the claims table adds the Holm correction to claim 3)

// %%
console.log(`claim 3 (ConvNeXt): ${summary.ln.verdict.toUpperCase()}\n  ${summary.ln.statement}`);
console.log(`claim 4 (ConvNeXt): ${summary.dyt.verdict.toUpperCase()}\n  ${summary.dyt.statement}`);
