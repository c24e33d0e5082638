// %% [markdown]
// # 15 · ConvNeXt, MLP-Mixer and ResNet: LayerNorm / BatchNorm vs DyT
//
// **Paper claims** (Zhu et al., CVPR 2025, Table 1 and §4): replacing every LayerNorm with Dynamic
// Tanh, `DyT(x) = γ · tanh(αx) + β`, keeps ConvNeXt's accuracy (ConvNeXt-B / L on ImageNet: LN
// 83.7 / 84.3, DyT 83.7 / 84.4), and works in MLP-Mixer too; but DyT **cannot replace BatchNorm**:
// in ResNet-50 top-1 falls from 76.2 to 68.9.
//
// **Here, in miniature, under the lab's protocol** (README, "Protocol"): three small models on
// Fashion-MNIST (or, with `dataset = "emoji32"`, on the 32×32 colour Emoji32 set), each norm slot
// filled by the one norm factory:
// - a 3-stage **ConvNeXt** (depthwise 7×7 conv, inverted bottleneck, layer scale) with
//   channels-first norms in the stem and downsampling layers and channels-last norms in the blocks,
//   as ConvNeXt places its LNs: LayerNorm vs DyT;
// - a 4-block **MLP-Mixer**: LayerNorm vs DyT;
// - a narrow **ResNet-8**: BatchNorm vs DyT (the paper's failure case).
//
// Each arm runs at its own learning rate (picked on validation accuracy with a separate tuning seed),
// then on ≥ 3 evaluation seeds. ConvNeXt and Mixer test "DyT matches LN" (DyT − LN > −1 point, paired
// over seeds); the ResNet tests "DyT is worse than BN" (DyT − BN < 0; or DyT fails to learn where BN
// learns). The scale comes from `DYT_SCALE` (`smoke`, `quick`, `full`); `full` results are loaded, not
// re-run (`npm run exp -- vision-families --scale full --workers 2` trains them).

// %%
import { initEngine, notebookScale, runVisionFamilies, familyCurvesFigure, familyLossFigure, visionTuningFigure, familyArmTable, verdictTable, alphaTraceFigure, alphaTraces, showFigure, showTable, toDataFrame, resultPath } from "dyt-lab";

const scale = notebookScale();
const dataset = "fashion-mnist" as "fashion-mnist" | "emoji32"; // or "emoji32"
const sfx = dataset === "fashion-mnist" ? "" : `-${dataset}`;

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, data: ${dataset}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Tune, then train (or load) every family's arms
// Each run is one record under `results/vision-families/<scale>/`, keyed on its fully resolved
// config (task "image-classify": family, model, data, norm options, training; every default written
// out) with its provenance.

// %%
const { records, summary } = await runVisionFamilies({ scale: scale, cachedOnly: scale === "full" }, { dataset: dataset }); // tslab: no shorthand properties in cells with await
for (const f of summary.families) console.log(`${f.label}: ${f.setup}`);
console.log(`${records.length} runs (${records.filter((r) => r.role === "tune").length} tuning, ${records.filter((r) => r.role === "eval").length} evaluation)`);

// %% [markdown]
// ## lr tuning (validation accuracy of the tuning seed)

// %%
await showFigure(visionTuningFigure(summary), { savePath: resultPath("vision-families", scale, `figures/tuning${sfx}`) });

// %% [markdown]
// ## Validation accuracy and training loss per family (mean ± std over seeds)

// %%
for (const f of summary.families) {
  await showFigure(familyCurvesFigure(records, summary, f.family), { savePath: resultPath("vision-families", scale, `figures/curves-${f.family}${sfx}`) });
  await showFigure(familyLossFigure(records, summary, f.family), { savePath: resultPath("vision-families", scale, `figures/loss-${f.family}${sfx}`) });
}
showTable(toDataFrame(familyArmTable(summary)), { title: `vision-families (${scale}, ${dataset})`, digits: 2 });

// %% [markdown]
// ## α per layer during training (DyT ConvNeXt, first seed)
// The stem and downsampling DyT layers are channels-first, the block and final ones channels-last.

// %%
const dytConvnext = records.find((r) => r.role === "eval" && r.config.family === "convnext" && r.config.model.norm === "dyt");
if (dytConvnext) await showFigure(alphaTraceFigure(alphaTraces(dytConvnext.result.log), { title: `DyT ConvNeXt α per layer, seed ${dytConvnext.seed}` }), { savePath: resultPath("vision-families", scale, `figures/alpha-convnext${sfx}`) });

// %% [markdown]
// ## Verdicts (computed from the runs above)

// %%
showTable(toDataFrame(verdictTable(summary)), { title: `verdicts (${scale}, ${dataset}), before the claims table's Holm correction` });
for (const f of summary.families) console.log(`${f.label}: ${f.verdict.toUpperCase()} (${f.reason})\n  ${f.statement}`);
