// %% [markdown]
// # 17 · LayerNorm vs DyT in a HyenaDNA-style model on real genomes
//
// **Paper claim** (Zhu et al., CVPR 2025, claim 2, DNA part): replacing every LayerNorm of HyenaDNA
// and Caduceus with Dynamic Tanh, `DyT(x) = γ · tanh(αx) + β`, keeps their downstream accuracy
// (85.2 / 86.9 % for both norms).
//
// **Here, in miniature, under the lab's protocol** (README, "Protocol"): a HyenaDNA-style decoder
// (implicit long convolutions, lib/models/hyena.ts) pretrained on next-nucleotide prediction over
// the train blocks of 10 genomes read from Debian packages (8 prokaryotes, fly chr2R, worm chrX;
// split by genome position), with LayerNorm and with DyT from the same seeds and data order, **each
// at its own learning rate** (picked on validation bits per base with a separate tuning seed).
// Two claims, paired over seeds:
// - **DNA-pretrain**: DyT's test bits per base are at most `RULES.dnaMatchMarginBits` (0.01) above
//   LayerNorm's;
// - **DNA-downstream**: a linear probe on the frozen model's mean-pooled features (coding vs
//   intergenic 200 bp windows) reaches DyT − LN test accuracy > −1 point. The same probe on the
//   model at initialisation is shown beside it: what pretraining bought.
//
// The scale comes from `DYT_SCALE` (`smoke`, `quick`, `full`); `full` results are loaded, not re-run
// (`npm run exp -- dna-hyena --scale full --workers 2` trains them).

// %%
import { initEngine, notebookScale, runDnaHyena, dnaTrainLossFigure, dnaHeldOutFigure, dnaTuningFigure, dnaProbeFigure, dnaArmTable, alphaTraceFigure, alphaTraces, showFigure, showTable, toDataFrame, resultPath, RULES } from "dyt-lab";

const scale = notebookScale();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);

// %% [markdown]
// ## Tune, then train (or load) both arms
// Each run is one record under `results/dna-hyena/<scale>/`, keyed on its fully resolved config
// (task "dna-lm": model, data, probe, training, every default written out) with its provenance.

// %%
const { records, summary } = await runDnaHyena({ scale: scale, cachedOnly: scale === "full" }); // tslab: no shorthand properties in cells with await
console.log(summary.setup);
console.log(`${records.length} runs (${records.filter((r) => r.role === "tune").length} tuning, ${records.filter((r) => r.role === "eval").length} evaluation)`);
const b = summary.baselines;
console.log(`test-split baselines: unigram ${b.unigramBpb.toFixed(4)}, order-${b.markovOrder} Markov ${b.markovBpb.toFixed(4)}, uniform ${b.uniformBpb.toFixed(4)} bits per base`);

// %% [markdown]
// ## lr tuning (validation bits per base of the tuning seed; lower is better)

// %%
await showFigure(dnaTuningFigure(summary), { savePath: resultPath("dna-hyena", scale, "figures/tuning") });
for (const p of summary.picks) console.log(`${p.arm}: lr ${p.bestLr}${p.atEdge ? " (at the grid's edge)" : ""}${p.noneLearned ? " (no lr learned)" : ""}`);

// %% [markdown]
// ## Pretraining: training loss and held-out bits per base (mean ± std over seeds)

// %%
await showFigure(dnaTrainLossFigure(records, summary), { savePath: resultPath("dna-hyena", scale, "figures/train-loss") });
await showFigure(dnaHeldOutFigure(records, summary), { savePath: resultPath("dna-hyena", scale, "figures/held-out") });
showTable(toDataFrame(dnaArmTable(summary)), { title: `dna-hyena (${scale})`, digits: 4 });

// %% [markdown]
// ## Downstream: linear probe on frozen features, pretrained vs at initialisation

// %%
await showFigure(dnaProbeFigure(summary), { savePath: resultPath("dna-hyena", scale, "figures/probe") });

// %% [markdown]
// ## α per layer during training (DyT, first seed)

// %%
const dytRun = records.find((r) => r.role === "eval" && r.config.model.norm === "dyt");
if (dytRun) await showFigure(alphaTraceFigure(alphaTraces(dytRun.result.log), { title: `DyT α per layer, seed ${dytRun.seed}` }), { savePath: resultPath("dna-hyena", scale, "figures/alpha") });

// %% [markdown]
// ## Verdicts (computed from the runs above, before the claims table's Holm correction)

// %%
console.log(`DNA-pretrain, DyT matches LayerNorm (margin ${RULES.dnaMatchMarginBits} bits per base): ${summary.pretrain.verdict.toUpperCase()} (${summary.pretrain.reason})`);
console.log(summary.pretrain.statement);
console.log(`\nDNA-downstream, DyT matches LayerNorm (margin ${RULES.matchMarginPoints} point): ${summary.downstream.verdict.toUpperCase()} (${summary.downstream.reason})`);
console.log(summary.downstream.statement);
