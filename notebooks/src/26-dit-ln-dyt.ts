// %% [markdown]
// # 26 · DiT: LayerNorm vs DyT, with and without adaLN-Zero
//
// **Paper claim** (Zhu et al., CVPR 2025, Table 1 and §4): replacing LayerNorm with DyT in DiT
// keeps image quality: FID 64.9 → 63.9 (DiT-B/4), 45.9 → 45.7 (L/4), 19.9 → 20.8 (XL/2). DiT's
// LayerNorms have no affine parameters, so they become tanh(αx); adaLN's scale and shift from the
// conditioning are kept, and the DyT arm drops adaLN-Zero's zero init. A reviewer asked whether
// that changed two things at once, so a third arm keeps adaLN-Zero with DyT.
//
// **Here**: a class-conditional DiT (width 64, depth 4, 4×4 patches) trained to denoise
// Fashion-MNIST (DDPM, linear betas, ε-prediction), each arm at the lr tuned on the validation
// denoising loss. Quality is a Fréchet distance (FD) between DDIM samples and real test images in
// the features of a ViT classifier trained on the same data: a proxy for FID, not FID.
//
// **Rules** (written before the runs; `lib/experiments/protocol/rules.ts`, `ditMatchFdRatio`):
// - DIT-1 / DIT-2: the DyT arm matches LayerNorm when its FD is at most 1.10× LayerNorm's,
//   compared as ln FD, paired over seeds (3, up to 5 while inconclusive);
// - a run learned when the classifier assigns at least 28 % of its samples to the class they were
//   conditioned on (chance 10 %); a verdict never rests on a run that did not.
//
// The scale comes from `DYT_SCALE`; `full` results are loaded, not re-run
// (`npm run exp -- dit-ln-dyt --scale full --workers 2` trains them).

// %%
import { initEngine, notebookScale, runDitLnDyt, ditHeldOutFigure, ditFdFigure, ditTuningFigure, ditSamplesFigure, ditTable, showFigure, showTable, toDataFrame, resultPath } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Train (or load) the three arms

// %%
const { records, summary } = await runDitLnDyt({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
console.log(summary.setup);
console.log(`${records.length} runs`);
showTable(toDataFrame(ditTable(summary)), { title: `DiT arms (${scale}): mean over evaluation seeds`, digits: 4 });

// %% [markdown]
// ## Held-out denoising loss during training

// %%
await showFigure(ditHeldOutFigure(records, summary), { savePath: resultPath("dit-ln-dyt", scale, "figures/held-out") });

// %% [markdown]
// ## lr tuning (tuning seed, validation denoising loss)

// %%
await showFigure(ditTuningFigure(summary), { savePath: resultPath("dit-ln-dyt", scale, "figures/tuning") });

// %% [markdown]
// ## Sample quality: Fréchet distance per arm

// %%
await showFigure(ditFdFigure(summary), { savePath: resultPath("dit-ln-dyt", scale, "figures/fd") });

// %% [markdown]
// ## Samples (first evaluation seed of each arm; a row per class)

// %%
for (const a of summary.arms) {
  const r = records.filter((x) => x.role === "eval" && x.arm === a.arm).sort((x, y) => x.seed - y.seed)[0];
  if (r) await showFigure(ditSamplesFigure(r), { savePath: resultPath("dit-ln-dyt", scale, `figures/samples-${a.arm}`) });
}

// %% [markdown]
// ## Verdicts (computed from the runs above; the claims table adds the Holm correction)

// %%
for (const c of summary.claims) console.log(`${c.id}: ${c.verdict.toUpperCase()}\n  ${c.statement}`);
