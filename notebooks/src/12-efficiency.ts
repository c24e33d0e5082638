// %% [markdown]
// # 12 · Efficiency: DyT vs LayerNorm layer speed, and the training step vs PyTorch
//
// **Question** (issue 4): is DyT faster than LayerNorm, as the paper reports on GPUs, and how fast is
// the lab's TypeScript/tfjs step against the same model in PyTorch on this CPU?
//
// - **Layer speed**: forward (f) and forward + backward (f+b: gradients for x and every parameter, read
//   back) of one LayerNorm, RMSNorm and DyT layer on x [rows, C], from 64x64 to 4096x1024, on every
//   engine (`native` = wasm SIMD + an OpenBLAS matmul addon, `wasm`, `cpu` = pure JS). Median of 7
//   repetitions after a warm-up; wall ms and process CPU ms (all threads).
// - **Training step**: the lab's ViT (4 blocks, width 64, batch 64 x 50 tokens, AdamW) vs the same model
//   in Debian's PyTorch 1.13. Two references: PyTorch **as Debian ships it** (OMP_WAIT_POLICY unset,
//   the goal: ratio <= 1.0) and PyTorch's **best setting** (the stretch goal): the fastest of as shipped,
//   OMP_WAIT_POLICY=PASSIVE, and (in the all-model benches of 2026-12-05c on) PASSIVE with OpenBLAS
//   choosing its kernels for the CPU (the environment pins them to AVX2 Haswell kernels; the lab's own
//   AVX-512 sgemm is not bound by that pin, so PyTorch's best is not either).
//
// The committed numbers (results/efficiency/full) were measured on an idle machine (its CPU, date and load
// are printed below); this notebook reads and shows them when it runs, and reruns a small layer bench live
// on the current engine. Timings on a shared machine are noisy: compare the live numbers with the
// committed ones, not across machines.

// %%
import { initEngine, notebookScale, loadLayerBench, loadStepBench, layerSpeedRows, layerSpeedFigure, dytVsLnAtLargest, stepVsTorchRows, stepGoals, kernelRows, torchOpRows, benchNormLayers, layerLiveVsCommittedRows, NORM_LAYER_SHAPES, showFigure, showTable, resultPath, writeJsonAtomic, allModelStepRows, ALL_MODELS_BENCH_DIR, AVX2_BENCH_DIR } from "dyt-lab";

const scale = notebookScale();
const layers = loadLayerBench();
const step = loadStepBench();

// %%
const engine = await initEngine();
console.log(`scale: ${scale}, engine: ${engine.name} (${engine.detail})`);
for (const [what, p] of [["layers", layers.provenance], ["step", step.provenance]] as const)
  if (p) console.log(`committed ${what}: ${p.date}, commit ${p.gitCommit.slice(0, 7)}, tfjs ${p.tfjs}, node ${p.node}, ${p.cpuModel}, load ${p.load.join(" ")}; ${Object.entries(p.engines).map(([k, v]) => `${k}: ${v}`).join("; ")}`);

// %% [markdown]
// ## Committed: norm layer speed on every engine
//
// `fwd+bwd vs LN` is the norm's forward+backward time over LayerNorm's on the same engine and shape
// (< 1: faster than LayerNorm). DyT-vs-LN speed is a **measured** result, not an assumption, and it depends
// on the engine: DyT needs one elementwise tanh pass and no row statistics, so it can win where tanh is
// cheap, and lose where tanh costs more than LayerNorm's mean/variance arithmetic (tanh is slow in wasm).
// The line under the table gives DyT / LayerNorm at the largest shape of each engine (the pure-JS `cpu`
// engine is measured on smaller shapes only).

// %%
showTable(layerSpeedRows(layers.results), { title: "Norm layer speed (committed, median of 7)", digits: 3 });

// %%
for (const r of dytVsLnAtLargest(layers.results))
  console.log(`${r.engine.padEnd(7)} ${r.shape.padEnd(10)} DyT / LayerNorm: forward ${r.fwd.toFixed(2)}x, forward+backward ${r.fwdBwd.toFixed(2)}x`);
await showFigure(layerSpeedFigure(layers.results), { savePath: resultPath("efficiency", scale, "figures/layer-speed-committed") });

// %% [markdown]
// ## Live: the same layer bench on the current engine
//
// At smoke scale: two tiny shapes, 2 repetitions (a check that the bench runs, not a measurement); at
// quick and full scale: the full shape list, 7 repetitions. `live / committed` > 1 means slower now
// (a busy machine, another engine or another CPU).

// %%
const liveShapes: [number, number][] = scale === "smoke" ? [[64, 64], [256, 256]] : NORM_LAYER_SHAPES;
const live = benchNormLayers({ shapes: liveShapes, reps: scale === "smoke" ? 2 : 7 });
writeJsonAtomic(resultPath("efficiency", scale, "layers-live.json"), { date: new Date().toISOString(), scale: scale, result: live });
showTable(layerLiveVsCommittedRows(live, layers.results), { title: `Live layer bench on ${live.engine} (${live.detail}), ${scale} scale`, digits: 3 });

// %%
const both = { ...layers.results, [`${live.engine} (live)`]: live };
await showFigure(layerSpeedFigure(both, { title: "Norm layer fwd+bwd: committed and live" }), { savePath: resultPath("efficiency", scale, "figures/layer-speed-live") });

// %% [markdown]
// ## Committed: the training step vs PyTorch
//
// `x shipped`: tfjs / PyTorch as Debian ships it (OMP_WAIT_POLICY unset); `x best`: tfjs / PyTorch with its
// fastest setting (OMP_WAIT_POLICY=PASSIVE in this older ViT file; OpenMP's default spin-wait can lose badly on
// a few shared cores).
// Each by wall time and by CPU time (all threads). < 1 means faster than PyTorch. The lines under the table
// say, per engine, whether the goal and the stretch are met, with the worst ratio over the norms.

// %%
showTable(stepVsTorchRows(step), { title: "Training step, ms/step and ratio tfjs / PyTorch (committed)", digits: 2 });
for (const g of stepGoals(step))
  console.log(`${g.engine}: goal (<= 1.0 x PyTorch as shipped) ${g.goalMet ? "MET" : "not met"}, worst ${g.vsShipped.toFixed(2)}x wall / ${g.vsShippedCpu.toFixed(2)}x CPU; stretch (<= 1.0 x best) ${g.stretchMet ? "MET" : "not met"}, worst ${g.vsBest.toFixed(2)}x wall / ${g.vsBestCpu.toFixed(2)}x CPU`);

// %% [markdown]
// ## Committed: every bench model's training step vs PyTorch
//
// The same comparison for each model the lab trains (`npm run bench -- --model vit|llama|convnext|dit|hyena|wav2vec`),
// measured in one session on one machine, each at its experiment's full-scale size against a PyTorch twin with the
// same parameter count. Ratios here are medians over every timed step of the three rounds, so they can differ in
// the second digit from the bench's own console table (a median of per-round medians). PyTorch's row is its
// fastest setting: `OMP passive-cpublas` is PASSIVE with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, counted
// only when its first loss equals the pinned run's.

// %%
showTable(allModelStepRows().filter((r) => r.engine === "native" || String(r.engine).includes("OMP")), { title: `Every bench model, native vs PyTorch's best setting (committed, ${ALL_MODELS_BENCH_DIR})`, digits: 2 });

// %% [markdown]
// The same bench with AVX2 kernels forced on both sides (`npm run bench -- --isa avx2`): the native addon built
// without its AVX-512 code (so no own AVX-512 sgemm: OpenBLAS's Haswell kernels on both sides), and PyTorch's ATen
// and oneDNN capped at AVX2. On this AVX-512 CPU that emulates an AVX2-only CPU's instruction set, not its clock
// or caches.

// %%
showTable(allModelStepRows(AVX2_BENCH_DIR).filter((r) => r.engine === "native" || String(r.engine).includes("OMP")), { title: `Every bench model with AVX2 kernels forced (committed, ${AVX2_BENCH_DIR})`, digits: 2 });

// %% [markdown]
// ## Where the time goes (per kernel)
//
// One profiled step per engine, each kernel's process CPU time (all threads), share of the kernel total;
// timing each kernel adds a small fixed cost per call, which inflates the many small ops. What to look for:
// how much of the step is BatchMatMul (on `native`, the addon's sgemm) against the many calls of small
// elementwise and layout kernels (Multiply, Add, Transpose, Identity, Reshape), whose time is per-kernel
// dispatch and JS overhead rather than arithmetic. A kernel with a large share from a few calls in one
// profile only is a one-off of that profiled step (the CPU clock also catches unrelated work, e.g.
// garbage collection). PyTorch spends its time in a few large GEMMs (bmm, mm, addmm), and OpenMP threads
// every op across all cores, which helps its wall time more than its CPU time.

// %%
for (const r of step.results.filter((x) => x.profile))
  showTable(kernelRows(step, r.engine, r.norm, 10), { title: `${r.engine}/${r.norm}: per-kernel CPU ms, one profiled step`, digits: 1 });
showTable(torchOpRows(step, 10), { title: "PyTorch ops (torch.profiler self CPU time, one step)", digits: 1 });

// %% [markdown]
// Regenerate the committed numbers on an idle machine (each takes a few minutes):
// `npm run bench -- --engines native,wasm --norms layernorm,dyt --steps 10 --save results/efficiency/full` and
// `npm run bench -- --layers --engines native,wasm,cpu --save results/efficiency/full`.
