// %% [markdown]
// # 28 · DINO: LayerNorm vs DyT in self-distillation
//
// **Paper claim** (Zhu et al., CVPR 2025, Table 1): DINO pretraining with DyT in place of every
// LayerNorm gives the same top-1 on ImageNet: ViT-B/16 83.2 / 83.4, ViT-B/8 84.1 / 84.5 (LN / DyT).
//
// **Here**: DINO around the lab's ViT (width 64, depth 4, 7×7 patches): a student and an EMA
// teacher of the same architecture, two global 28-px views and two local 14-px views per image
// (the local views use the learned positions resampled to their grid), a projection head to 1,024
// weight-normalised prototypes, the teacher's outputs centred and sharpened. Trained on 10,000
// Fashion-MNIST images without labels for 19 epochs (the budget a LayerNorm-only sizing probe set,
// `results/dino-ln-dyt-sizing/`), LN vs DyT in every backbone norm of student and teacher, each arm
// at its lr tuned on the teacher's validation k-NN accuracy. Each run is scored by the teacher's
// 20-NN accuracy (DINO's label-free readout) and a linear probe on its frozen class token, both
// beside the same network at initialisation, and checked for collapse (the teacher's output
// entropies).
//
// **Rules** (written before the runs; `lib/experiments/dino-ln-dyt/spec.ts`, `rules.ts`):
// - DINO-knn: DyT − LN k-NN test accuracy > −1 point, paired over seeds (3, up to 5 while
//   inconclusive); every run learned: its k-NN accuracy at least 20 % of the way from the same
//   network's at initialisation to 100 %, and its teacher not collapsed (the entropy of its mean
//   output ≤ 5 % of ln 1,024: one prototype for all; or its per-image entropy ≥ 95 % of it:
//   uniform);
// - DINO-probe: the same on the linear probe's test accuracy; every probe learned (≥ 28 %).
//
// The scale comes from `DYT_SCALE`; `full` results are loaded, not re-run
// (`npm run exp -- dino-ln-dyt --scale full --workers 2` trains them).

// %%
import { initEngine, notebookScale, runDinoLnDyt, dinoKnnFigure, dinoEntropyFigure, dinoTuningFigure, dinoAccuracyFigure, dinoTable, showFigure, showTable, toDataFrame, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Train (or load) both arms, then k-NN and probe

// %%
const { records, summary } = await runDinoLnDyt({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
console.log(summary.setup);
console.log(`${records.length} runs`);
showTable(toDataFrame(dinoTable(summary)), { title: `DINO arms (${scale}): mean over evaluation seeds`, digits: 4 });

// %% [markdown]
// ## The teacher's k-NN accuracy during training

// %%
await showFigure(dinoKnnFigure(records, summary), { savePath: resultPath("dino-ln-dyt", scale, "figures/knn") });

// %% [markdown]
// ## Collapse check: the teacher's output entropies

// %%
await showFigure(dinoEntropyFigure(records, summary), { savePath: resultPath("dino-ln-dyt", scale, "figures/entropy") });

// %% [markdown]
// ## lr tuning (tuning seed, validation k-NN accuracy)

// %%
await showFigure(dinoTuningFigure(summary), { savePath: resultPath("dino-ln-dyt", scale, "figures/tuning") });

// %% [markdown]
// ## Downstream: k-NN and linear-probe accuracy, each beside the network at initialisation

// %%
await showFigure(dinoAccuracyFigure(summary), { savePath: resultPath("dino-ln-dyt", scale, "figures/accuracy") });

// %% [markdown]
// ## Verdicts (computed from the runs above; the claims table adds the Holm correction)

// %%
console.log(`DINO-knn: ${summary.knn.verdict.toUpperCase()}\n  ${summary.knn.statement}`);
console.log(`DINO-probe: ${summary.probe.verdict.toUpperCase()}\n  ${summary.probe.statement}`);
