// %% [markdown]
// # 27 · MAE: LayerNorm vs DyT in a masked autoencoder
//
// **Paper claim** (Zhu et al., CVPR 2025, Table 1): MAE pretraining with DyT in place of every
// LayerNorm gives the same fine-tuned top-1 on ImageNet: ViT-B 83.2 / 83.2, ViT-L 85.5 / 85.4
// (LN / DyT).
//
// **Here**: a masked autoencoder around the lab's ViT (width 64, depth 4, 4×4 patches, 75 % of
// patches hidden, a width-32 one-block decoder, per-patch normalised targets), pretrained on
// Fashion-MNIST without labels, LN vs DyT in every norm of encoder and decoder. Each arm's
// pretraining lr is tuned on the validation reconstruction loss. Each run is then fine-tuned (the
// encoder with a fresh head, a small lr grid, the best on validation kept) and linearly probed on
// the frozen encoder's mean-pooled tokens; the same probe on the encoder at initialisation is shown
// beside it.
//
// **Rules** (written before the runs; `lib/experiments/mae-ln-dyt/spec.ts`):
// - MAE-ft: DyT − LN fine-tuned test accuracy > −1 point, paired over seeds (3, up to 5 while
//   inconclusive); every run learned (≥ 28 % on 10 classes);
// - MAE-probe: the same on the linear probe's test accuracy; every probe learned.
//
// The scale comes from `DYT_SCALE`; `full` results are loaded, not re-run
// (`npm run exp -- mae-ln-dyt --scale full --workers 2` trains them).

// %%
import { initEngine, notebookScale, runMaeLnDyt, maeHeldOutFigure, maeTuningFigure, maeAccuracyFigure, maeReconFigure, maeTable, showFigure, showTable, toDataFrame, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Pretrain (or load) both arms, then fine-tune and probe

// %%
const { records, summary } = await runMaeLnDyt({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
console.log(summary.setup);
console.log(`${records.length} runs`);
showTable(toDataFrame(maeTable(summary)), { title: `MAE arms (${scale}): mean over evaluation seeds`, digits: 4 });

// %% [markdown]
// ## Held-out reconstruction loss during pretraining

// %%
await showFigure(maeHeldOutFigure(records, summary), { savePath: resultPath("mae-ln-dyt", scale, "figures/held-out") });

// %% [markdown]
// ## lr tuning (tuning seed, validation reconstruction loss)

// %%
await showFigure(maeTuningFigure(summary), { savePath: resultPath("mae-ln-dyt", scale, "figures/tuning") });

// %% [markdown]
// ## Downstream: fine-tuned and linear-probe accuracy

// %%
await showFigure(maeAccuracyFigure(summary), { savePath: resultPath("mae-ln-dyt", scale, "figures/accuracy") });

// %% [markdown]
// ## Reconstructions (first evaluation seed of each arm): test image | masked input | output

// %%
for (const a of summary.arms) {
  const r = records.filter((x) => x.role === "eval" && x.arm === a.arm).sort((x, y) => x.seed - y.seed)[0];
  if (r) await showFigure(maeReconFigure(r), { savePath: resultPath("mae-ln-dyt", scale, `figures/recon-${a.arm}`) });
}

// %% [markdown]
// ## Verdicts (computed from the runs above; the claims table adds the Holm correction)

// %%
console.log(`MAE-ft: ${summary.finetune.verdict.toUpperCase()}\n  ${summary.finetune.statement}`);
console.log(`MAE-probe: ${summary.probe.verdict.toUpperCase()}\n  ${summary.probe.statement}`);
