/**
 * `npm run bench`: training-step speed of the lab's transformer on every
 * available engine, against the same model in PyTorch (CPU), plus a
 * per-kernel profile.
 *
 * Step (--model lab, the default, or plain): pre-norm ViT on 28x28x1 images,
 * patch 4 -> 49 patches + class token = 50 tokens, width 64, 4 heads, MLP
 * ratio 4, 4 blocks, batch 64; forward + softmax cross-entropy + backward +
 * AdamW. Norm: LayerNorm and DyT.
 *
 * Step (--model llama): the lab's Llama (lib/models/llama.ts) at the LM
 * experiments' size (lib/bench/lm-step.ts): width 64, depth 2, 4 heads,
 * causal attention with RoPE, SwiGLU, no biases, untied head, vocab 257,
 * batch 32 x 128 tokens; next-token softmax cross-entropy + backward +
 * AdamW. Norm: RMSNorm and DyT in the paper's LLaMA recipe (gamma only,
 * alpha0 per slot, embedding scalar); --norms defaults to rmsnorm,dyt. Also
 * reported: tokens/s (batch x seqLen / step time). PyTorch runs
 * bench/torch_bench.py --model llama; both parameter counts are printed and
 * the bench stops when they differ.
 *
 * Step (--model convnext): the lab's ConvNeXt (lib/models/convnext.ts) at
 * vision-families' full size (lib/bench/convnext-step.ts): 28x28x1 images,
 * 2x2 stem, dims 24/48/96, one block per stage, 7x7 depthwise, MLP x4, layer
 * scale, channels-first norms in the stem and downsampling layers and
 * channels-last in the blocks and after pooling, batch 64; softmax
 * cross-entropy + backward + AdamW (decay 0.05).
 *
 * Step (--model dit): the lab's class-conditional DiT (lib/models/dit.ts) at
 * dit-ln-dyt's full size (lib/bench/dit-step.ts): 28x28x1, patch 4 (49
 * tokens), width 64, 4 heads, depth 4, adaLN modulation from the timestep +
 * class embedding, batch 64; the diffusion task's eps-prediction MSE at a
 * random timestep + backward + AdamW (no decay, as trained). LayerNorm with
 * adaLN-Zero, DyT as the paper's arm (tanh(alpha x), no adaLN-Zero).
 *
 * Step (--model hyena): the lab's HyenaDNA-style decoder (lib/models/hyena.ts)
 * at dna-hyena's full size (lib/bench/hyena-step.ts): width 64, depth 2,
 * order-2 Hyena operators (implicit long filter from a 64-wide MLP, causal FFT
 * convolution over 256 bases, 3-tap short conv), MLP x4, vocab 5, batch
 * 16 x 256 bases; next-nucleotide cross-entropy + backward + AdamW (decay
 * 0.1). LayerNorm and DyT (alpha0 0.5). Also reported: tokens/s.
 *
 * Step (--model wav2vec): the lab's wav2vec 2.0 (lib/models/wav2vec.ts) at
 * wav2vec-ln-dyt's full size (lib/bench/wav2vec-step.ts): batch 16 x 1 s
 * (16,000 samples -> 49 steps), 7 strided convs x 32 channels with
 * LayerNorm, width 64, 4 heads, depth 2, grouped positional conv, Gumbel
 * quantizer 2 x 32; contrastive loss over the masked steps (K = 10
 * distractors) + diversity, backward, AdamW (decay 0.01). LayerNorm, or DyT
 * (alpha0 0.5) in every transformer norm slot, the study's arms.
 *
 * For llama, convnext, dit, hyena and wav2vec a descriptor (lib/bench/step-model.ts) gives the
 * step, the hand count of the parameters and torch_bench.py's sizes; PyTorch
 * runs the same model (torch_bench.py --model NAME, every size passed from
 * here), both parameter counts are printed before any timing, and the bench
 * stops, naming the fix, when they differ.
 *
 * Each (engine, norm) runs in its own child process (fresh heap, no state
 * carried between engines). Reported: median ms/step over --steps steps after
 * --warmup steps, the matmul GFLOP/s that implies, and the share of the
 * machine's peak (lib/bench/peak.ts: measured by the native addon's FMA loop
 * when it loads, else the nominal estimate; the report says which).
 *
 * --isa avx2 (default native: whatever the CPU has) runs every child with
 * AVX2 kernels: the native engine on the addon built without its AVX-512 code
 * (native/build.sh, DYT_NATIVE_MAX_ISA=x86-64-v3; built here when missing or
 * stale), OPENBLAS_CORETYPE=Haswell for every child (the addon's OpenBLAS and
 * PyTorch's, which is the same Debian OpenBLAS), and for PyTorch
 * ATEN_CPU_CAPABILITY=avx2 (its own kernels) and DNNL_MAX_CPU_ISA=AVX2 (oneDNN:
 * its convolutions). On an AVX-512 CPU that emulates the ISA of an AVX2-only
 * CPU, not its clock or caches; the peak then counts 8 lanes.
 *
 *   npm run bench -- [--engines native,native-unfused,wasm,cpu] [--norms layernorm,dyt]
 *                    [--steps 10] [--warmup 3] [--cpu-steps 2] [--rounds 1] [--model lab|plain|llama|convnext|dit|hyena|wav2vec]
 *                    [--no-torch] [--no-profile] [--profile-clock cpu|wall] [--json out.json] [--save DIR]
 *                    [--isa native|avx2]
 *   npm run bench -- --layers [--engines ...] [--save DIR]   (norm layer speed, lib/bench/layers.ts)
 *   npm run bench -- --ab [--norms ...] [--steps 6] [--model ...]   (native fused vs unfused, alternating steps in one process)
 *   npm run bench -- --model llama --engines native,wasm [--norms rmsnorm,dyt] [--steps 10]   (the LM step)
 *   npm run bench -- --model convnext --engines native,wasm [--norms layernorm,dyt] [--steps 10]   (the ConvNeXt step)
 *   npm run bench -- --model dit --engines native,wasm [--norms layernorm,dyt] [--steps 10]   (the DiT step)
 *   npm run bench -- --model hyena --engines native,wasm [--norms layernorm,dyt] [--steps 10]   (the HyenaDNA step)
 *   npm run bench -- --model wav2vec --engines native,wasm [--norms layernorm,dyt] [--steps 10]   (the wav2vec 2.0 step)
 *
 * native-unfused: the native engine with DYT_FUSED=0 (no fused AdamW / norm
 * kernels), for before/after ratios taken in one run.
 * Memory: rss MB is the child's peak resident set (whole process, all
 * steps); tensors is tf.memory().numTensors after each timed step (max; flat
 * when nothing leaks); MB/step the wasm heap's or cpu backend's bytes held
 * by live tensors at the end of a step (tf.memory().numBytes).
 *
 * --save DIR writes DIR/step.json (DIR/lm-step.json with --model llama,
 * DIR/convnext-step.json, DIR/dit-step.json, DIR/hyena-step.json and
 * DIR/wav2vec-step.json with --model convnext / dit / hyena / wav2vec, so
 * the ViT's committed step.json is not overwritten; DIR/layers.json with --layers), with
 * provenance (commit, dirty flag, engines, tfjs, node, CPU, load, date),
 * atomically; e.g. --save results/efficiency/full (read by lib/bench/efficiency.ts).
 *
 * Timings on a shared machine are noisy: the load average at start is printed
 * with the results.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync, spawnSync } from "child_process";
import * as tf from "@tensorflow/tfjs";
import { initEngine, type EngineName } from "../lib/engine";
import { buildCappedAddon, cappedAddonPath } from "../lib/engine/native";
import { BENCH_ISAS, cpuFlags, machinePeak, peakGflops, peakLines, type BenchIsa } from "../lib/bench/peak";
import { ViT } from "../lib/models/vit";
import { AdamW } from "../lib/train/adamw";
import type { NormKind } from "../lib/norms/types";
import { benchNormLayers, medianOf, NORM_LAYER_SHAPES, NORM_LAYER_KINDS, type NormLayerBench } from "../lib/bench/layers";
import { matmulRates, torchReference, type BenchProvenance, type MatmulRates } from "../lib/bench/efficiency";
import { LM_STEP_MODEL } from "../lib/bench/lm-step";
import { CONVNEXT_STEP_MODEL } from "../lib/bench/convnext-step";
import { DIT_STEP_MODEL } from "../lib/bench/dit-step";
import { HYENA_STEP_MODEL } from "../lib/bench/hyena-step";
import { WAV2VEC_STEP_MODEL } from "../lib/bench/wav2vec-step";
import { PY, REPO, TORCH_BENCH, assertBenchNorm, benchUniform, checkBenchParams, torchImportable, torchParamCount, type BenchStep, type BenchStepModel } from "../lib/bench/step-model";
import { writeJsonAtomic } from "../lib/util/atomic";

// ---------------------------------------------------------------------------
// The model under test.

export interface BenchConfig {
  batch: number;
  image: number;
  patch: number;
  dim: number;
  depth: number;
  heads: number;
  mlpRatio: number;
  classes: number;
}
export const BENCH_CONFIG: BenchConfig = { batch: 64, image: 28, patch: 4, dim: 64, depth: 4, heads: 4, mlpRatio: 4, classes: 10 };

/** What the step needs from a model. */
interface StepModel {
  vars: tf.Variable[];
  forward(images: tf.Tensor): tf.Tensor;
  optimizer(): { apply(grads: (tf.Tensor | undefined)[], lr: number): void; dispose(): void };
  dispose(): void;
}

/** The lab's ViT (lib/models) with the lab's AdamW (lib/train). */
function labModel(c: BenchConfig, norm: NormKind): StepModel {
  const m = new ViT({ imageSize: c.image, channels: 1, patchSize: c.patch, dim: c.dim, depth: c.depth, heads: c.heads, mlpRatio: c.mlpRatio, numClasses: c.classes, norm, seed: 0 });
  return {
    vars: m.params.map((p) => p.variable),
    forward: (x) => m.forward(x),
    optimizer: () => new AdamW(m.params),
    dispose: () => m.dispose(),
  };
}

/**
 * The same math written with stock tfjs ops and autodiff (tf.matMul with
 * transposed operands, tf.moments, tf.tanh, autodiff everywhere): what naive
 * tfjs code costs, and so what the lab's rewrites (explicit transposes,
 * hand-written norm gradients) buy on each engine.
 */
function plainModel(c: BenchConfig, norm: NormKind): StepModel {
  const vars: tf.Variable[] = [];
  const decay: boolean[] = [];
  let seed = 1;
  const w = (shape: number[], d = true) => {
    const v = tf.variable(tf.truncatedNormal(shape, 0, 0.02, "float32", seed++));
    vars.push(v);
    decay.push(d);
    return v;
  };
  const cst = (shape: number[], value: number) => {
    const v = tf.variable(tf.fill(shape, value));
    vars.push(v);
    decay.push(false);
    return v;
  };
  const D = c.dim;
  const hidden = Math.round(D * c.mlpRatio);
  const normLayer = () => {
    const g = cst([D], 1);
    const b = cst([D], 0);
    if (norm === "dyt") {
      const a = cst([1], 0.5);
      return (x: tf.Tensor) => tf.add(tf.mul(tf.tanh(tf.mul(x, a)), g), b);
    }
    if (norm === "rmsnorm") return (x: tf.Tensor) => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-6))), g);
    return (x: tf.Tensor) => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-6))), g), b);
    };
  };
  const lin = (i: number, o: number) => {
    const W = w([i, o]);
    const B = cst([o], 0);
    return (x: tf.Tensor) => tf.add(tf.matMul(x.reshape([-1, i]), W), B).reshape([...x.shape.slice(0, -1), o]);
  };
  const g = c.image / c.patch;
  const P = g * g;
  const embed = lin(c.patch * c.patch, D);
  const cls = w([1, 1, D], false);
  const pos = w([1, P + 1, D], false);
  const blocks = Array.from({ length: c.depth }, () => ({ n1: normLayer(), qkv: lin(D, 3 * D), proj: lin(D, D), n2: normLayer(), fc1: lin(D, hidden), fc2: lin(hidden, D) }));
  const finalNorm = normLayer();
  const head = lin(D, c.classes);
  const gelu = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  const forward = (images: tf.Tensor) => {
    const B = images.shape[0]!;
    const H = c.heads;
    const dh = D / H;
    const T = P + 1;
    const patches = tf.transpose(images.reshape([B, g, c.patch, g, c.patch, 1]), [0, 1, 3, 2, 4, 5]).reshape([B, P, c.patch * c.patch]);
    let x = tf.add(tf.concat([tf.tile(cls, [B, 1, 1]), embed(patches)], 1), pos);
    for (const b of blocks) {
      const qkv = tf.transpose(b.qkv(b.n1(x)).reshape([B, T, 3, H, dh]), [2, 0, 3, 1, 4]);
      const [q, k, v] = tf.unstack(qkv, 0) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const attn = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), -1);
      x = tf.add(x, b.proj(tf.transpose(tf.matMul(attn, v), [0, 2, 1, 3]).reshape([B, T, D])));
      x = tf.add(x, b.fc2(gelu(b.fc1(b.n2(x)))));
    }
    const clsOut = tf.squeeze(tf.slice(x, [0, 0, 0], [B, 1, D]), [1]);
    return head(finalNorm(clsOut));
  };
  return {
    vars,
    forward,
    optimizer: () => new AdamW(vars.map((v, i) => ({ name: `p${i}`, variable: v, decay: decay[i]! }))),
    dispose: () => tf.dispose(vars),
  };
}

/** Swap the ViT under test here (one line). */
const MODELS = { lab: labModel, plain: plainModel } as const;
/**
 * The other models (lib/bench/step-model.ts): each descriptor builds its step,
 * counts its parameters for the check against PyTorch, gives torch_bench.py
 * its sizes and names the file --save writes.
 */
const STEP_MODELS = { llama: LM_STEP_MODEL, convnext: CONVNEXT_STEP_MODEL, dit: DIT_STEP_MODEL, hyena: HYENA_STEP_MODEL, wav2vec: WAV2VEC_STEP_MODEL } as const satisfies Record<string, BenchStepModel>;
/** Every --model: the two ViTs above and the descriptors. */
const MODEL_NAMES = [...(Object.keys(MODELS) as (keyof typeof MODELS)[]), ...(Object.keys(STEP_MODELS) as (keyof typeof STEP_MODELS)[])] as const;
type ModelName = (typeof MODEL_NAMES)[number];

/** The descriptor of a non-ViT model; undefined for the ViTs (lab, plain). */
function stepModel(model: ModelName): BenchStepModel | undefined {
  return model in STEP_MODELS ? STEP_MODELS[model as keyof typeof STEP_MODELS] : undefined;
}

/** One training step's pieces, built in the child: the variables, the loss on a fixed batch, the optimizer. */
type Workload = BenchStep;

function vitWorkload(make: (c: BenchConfig, norm: NormKind) => StepModel, norm: NormKind): Workload {
  const model = make(BENCH_CONFIG, norm);
  const optimizer = model.optimizer();
  const { x, y } = randomImages(BENCH_CONFIG);
  return {
    vars: model.vars,
    loss: () => tf.losses.softmaxCrossEntropy(y, model.forward(x)) as tf.Scalar,
    optimizer,
    params: model.vars.reduce((a, v) => a + v.size, 0),
    dispose: () => {
      model.dispose();
      optimizer.dispose();
      tf.dispose([x, y]);
    },
  };
}

function makeWorkload(model: ModelName, norm: NormKind): Workload {
  const m = stepModel(model);
  if (!m) return vitWorkload(MODELS[model as keyof typeof MODELS], norm);
  assertBenchNorm(m, norm);
  return m.step(norm);
}

/**
 * What the report says about a model: one line, matmul FLOPs per step, tokens
 * per step (LM only: tokens/s). The descriptors compute their FLOPs from their
 * configs (lmForwardMatmulFlops, convnextForwardFlops: convolutions too,
 * ditForwardMatmulFlops; 3x the forward's).
 */
interface ModelFacts {
  line: string;
  flopsPerStep: number;
  tokensPerStep?: number;
  config: object;
}

function modelFacts(model: ModelName): ModelFacts {
  const m = stepModel(model);
  if (m) {
    const f = m.facts();
    return { ...f, line: `${f.line}; ${f.work ?? "matmul"} work ${fmt(f.flopsPerStep / 1e9, 2)} GFLOP/step (3x forward)` };
  }
  const c = BENCH_CONFIG;
  const flopsPerStep = 3 * forwardMatmulFlops(c);
  const line = `${model} ViT, batch ${c.batch} x ${(c.image / c.patch) ** 2 + 1} tokens, width ${c.dim}, ${c.heads} heads, depth ${c.depth}`;
  return { line: `${line}; matmul work ${fmt(flopsPerStep / 1e9, 2)} GFLOP/step (3x forward)`, flopsPerStep, config: c };
}

/** Matmul FLOPs of one forward pass (2*M*N*K per product); a training step counts 3x. */
export function forwardMatmulFlops(c: BenchConfig): number {
  const T = (c.image / c.patch) ** 2 + 1;
  const N = c.batch * T;
  const D = c.dim;
  const hidden = Math.round(D * c.mlpRatio);
  const dh = D / c.heads;
  const embed = 2 * c.batch * (T - 1) * c.patch * c.patch * D;
  const perBlock = 2 * N * D * 3 * D + 2 * N * D * D + 2 * 2 * N * D * hidden + 2 * 2 * c.batch * c.heads * T * T * dh;
  return embed + c.depth * perBlock + 2 * c.batch * D * c.classes;
}

// ---------------------------------------------------------------------------
// One (engine, norm) measurement, run in a child process.

interface ChildTask {
  kind: "step";
  engine: EngineName;
  norm: NormKind;
  model: ModelName;
  steps: number;
  warmup: number;
  profile: boolean;
  profileClock: "cpu" | "wall";
}
interface KernelRow {
  name: string;
  ms: number;
  calls: number;
}
interface StepResult {
  engine: string;
  detail: string;
  norm: string;
  model: string;
  msPerStep: number;
  stepsMs: number[];
  /** Process CPU time (all threads) of each timed step. */
  cpuMs: number[];
  loss: number;
  /** Parameters of the model under test (the LM's, ConvNeXt's and DiT's are checked against PyTorch's). */
  params?: number;
  /** Peak resident set of the child (MB), live tensors after a step (max over steps), bytes held by them (MB). */
  rssMB?: number;
  tensors?: number;
  tensorMB?: number;
  profile?: { stepMs: number; kernelMs: number; nestedMs: number; kernels: KernelRow[]; shapes: KernelRow[] };
  /** The step's native matmuls (largest one and all together, lib/bench/efficiency.ts matmulRates); one per round in the parent. */
  matmul?: MatmulRates;
  matmulRounds?: MatmulRates[];
  /** Median of each round (parent only). */
  roundMs?: number[];
  stats?: Record<string, number>;
}

function randomImages(c: BenchConfig): { x: tf.Tensor; y: tf.Tensor } {
  // Deterministic data, identical on every engine.
  const xs = benchUniform(c.batch * c.image * c.image);
  const labels = Int32Array.from({ length: c.batch }, (_, i) => (i * 7) % c.classes);
  return { x: tf.tensor4d(xs, [c.batch, c.image, c.image, 1]), y: tf.oneHot(tf.tensor1d(labels, "int32"), c.classes) };
}

async function runStepTask(t: ChildTask): Promise<StepResult> {
  const info = await initEngine({ engine: t.engine, quiet: true });
  const w = makeWorkload(t.model, t.norm);
  let loss = NaN;
  const step = () => {
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => w.loss(), w.vars);
      w.optimizer.apply(
        w.vars.map((v) => grads[v.name]),
        1e-3,
      );
      loss = value.dataSync()[0]!;
    });
  };
  for (let i = 0; i < t.warmup; i++) step();
  const stepsMs: number[] = [];
  const cpuMs: number[] = [];
  let tensors = 0;
  let tensorMB = 0;
  for (let i = 0; i < t.steps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    step();
    stepsMs.push(performance.now() - t0);
    tensors = Math.max(tensors, tf.memory().numTensors);
    tensorMB = Math.max(tensorMB, tf.memory().numBytes / 2 ** 20);
    const c = process.cpuUsage(c0);
    cpuMs.push((c.user + c.system) / 1000);
  }
  const res: StepResult = { engine: info.name, detail: info.detail, norm: t.norm, model: t.model, msPerStep: median(stepsMs), stepsMs, cpuMs, loss, params: w.params, tensors, tensorMB };
  if (info.name === "native") {
    // Three more steps with every native matmul timed (after the timed steps: the log costs a little).
    const { matmulLog } = require("../lib/engine/native") as typeof import("../lib/engine/native");
    matmulLog.calls = [];
    matmulLog.on = true;
    for (let i = 0; i < 3; i++) step();
    matmulLog.on = false;
    res.matmul = matmulRates(matmulLog.calls, 3);
    matmulLog.calls = [];
  }
  if (t.profile) {
    if (t.profileClock === "cpu") {
      // Per-kernel process CPU time (all threads) instead of wall time: robust
      // to other processes taking the cores, which wall time is not.
      const be = tf.backend() as unknown as { time(f: () => void): Promise<{ kernelMs: number }> };
      be.time = async (f) => {
        const c0 = process.cpuUsage();
        f();
        const c = process.cpuUsage(c0);
        return { kernelMs: (c.user + c.system) / 1000 };
      };
    }
    const t0 = performance.now();
    const p = await tf.profile(() => {
      step();
    });
    const stepMs = performance.now() - t0;
    const by = new Map<string, KernelRow>();
    const byShape = new Map<string, KernelRow>();
    for (const k of p.kernels) {
      const ms = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
      const r = by.get(k.name) ?? { name: k.name, ms: 0, calls: 0 };
      r.ms += ms;
      r.calls++;
      by.set(k.name, r);
      if (k.name === NESTED) continue;
      const key = `${k.name} ${k.inputShapes.map((sh) => `[${sh}]`).join(" x ")}`;
      const q = byShape.get(key) ?? { name: key, ms: 0, calls: 0 };
      q.ms += ms;
      q.calls++;
      byShape.set(key, q);
    }
    // "unnamed scope" records are tf.customGrad wrappers: their time contains
    // the kernels run inside them, which are recorded too. Kept out of the sum.
    const nested = by.get(NESTED)?.ms ?? 0;
    by.delete(NESTED);
    const kernels = [...by.values()].sort((a, b) => b.ms - a.ms);
    const shapes = [...byShape.values()].sort((a, b) => b.ms - a.ms).slice(0, 10);
    res.profile = { stepMs, kernelMs: kernels.reduce((a, k) => a + k.ms, 0), nestedMs: nested, kernels, shapes };
  }
  if (info.name === "native") {
    const { nativeStats } = require("../lib/engine/native") as typeof import("../lib/engine/native");
    res.stats = { ...nativeStats };
  }
  w.dispose();
  res.rssMB = process.resourceUsage().maxRSS / 1024;
  return res;
}

const NESTED = "unnamed scope";

const median = medianOf;

// ---------------------------------------------------------------------------
// Norm layer speed (issue 4, step 5): forward and forward+backward of one
// LN / RMSNorm / DyT layer on [rows, C] inputs.

interface LayerTask {
  kind: "layers";
  engine: EngineName;
  shapes: [number, number][];
  reps: number;
}

interface AbTask {
  kind: "ab";
  norm: NormKind;
  model: ModelName;
  steps: number;
}
interface AbSide {
  wallMs: number;
  cpuMs: number;
  minWallMs: number;
  kernelsPerStep: number;
}
interface AbResult {
  norm: string;
  detail: string;
  fused: AbSide;
  unfused: AbSide;
}

/**
 * Before/after robust to a loaded machine: one process on the native engine
 * alternates fused (default) and unfused (DYT_FUSED=0) steps of the same
 * model, so load drift hits both alike; the order flips every pair.
 */
async function runAbTask(t: AbTask): Promise<AbResult> {
  const info = await initEngine({ engine: "native", quiet: true });
  const w = makeWorkload(t.model, t.norm);
  const step = () =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => w.loss(), w.vars);
      w.optimizer.apply(
        w.vars.map((v) => grads[v.name]),
        1e-3,
      );
    });
  const prev = process.env.DYT_FUSED;
  const mode = (fused: boolean) => {
    if (fused) delete process.env.DYT_FUSED;
    else process.env.DYT_FUSED = "0";
  };
  const side = { fused: { wall: [] as number[], cpu: [] as number[], kernels: 0 }, unfused: { wall: [] as number[], cpu: [] as number[], kernels: 0 } };
  for (const fused of [true, false]) {
    mode(fused);
    step();
    const p = await tf.profile(() => {
      step();
    });
    side[fused ? "fused" : "unfused"].kernels = p.kernels.filter((k) => k.name !== NESTED).length;
  }
  for (let i = 0; i < t.steps; i++)
    for (const fused of i % 2 ? [false, true] : [true, false]) {
      mode(fused);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      step();
      const s = side[fused ? "fused" : "unfused"];
      s.wall.push(performance.now() - t0);
      const cu = process.cpuUsage(c0);
      s.cpu.push((cu.user + cu.system) / 1000);
    }
  if (prev === undefined) delete process.env.DYT_FUSED;
  else process.env.DYT_FUSED = prev;
  w.dispose();
  const out = (s: typeof side.fused): AbSide => ({ wallMs: median(s.wall), cpuMs: median(s.cpu), minWallMs: Math.min(...s.wall), kernelsPerStep: s.kernels });
  return { norm: t.norm, detail: info.detail, fused: out(side.fused), unfused: out(side.unfused) };
}

/** One engine's norm layer timings (lib/bench/layers.ts), in a fresh process. */
async function runLayerTask(t: LayerTask): Promise<NormLayerBench> {
  await initEngine({ engine: t.engine, quiet: true });
  return benchNormLayers({ shapes: t.shapes, reps: t.reps, norms: NORM_LAYER_KINDS });
}

// ---------------------------------------------------------------------------
// Parent: run the children, PyTorch, print the report.

/** The native engine with its fused kernels off (DYT_FUSED=0): the "before" of a before/after in one run. */
const UNFUSED = "native-unfused";
type BenchEngine = EngineName | typeof UNFUSED;

function runChild<T>(task: ChildTask | LayerTask | AbTask, env: NodeJS.ProcessEnv = process.env): T | { error: string } {
  const r = spawnSync(process.execPath, [__filename, "--child", JSON.stringify(task)], { encoding: "utf8", env, maxBuffer: 64 << 20 });
  const line = r.stdout.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
  if (r.status === 0 && line) return JSON.parse(line.slice("BENCH_RESULT ".length)) as T;
  const err = (r.stderr || r.stdout || `exit ${r.status}`).trim().split("\n");
  return { error: err.find((l) => /Error|unavailable/.test(l)) ?? err[err.length - 1] ?? "failed" };
}

/** What --isa forced, in the printed header and the saved JSON ("isa"). */
interface IsaForce {
  isa: BenchIsa;
  /** The CPU has wider vectors than forced (AVX-512): the run emulates an AVX2-only CPU's ISA, not its clock or caches. */
  emulated: boolean;
  /** The native engine's addon (DYT_NATIVE_ADDON), relative to the repository, and why it could not be built. */
  addon?: string;
  addonError?: string;
  /** Set for every child (the native and wasm engines, PyTorch); with --isa native, those of them the environment already set. */
  env: Record<string, string>;
  note: string;
}

/**
 * Environment of --isa avx2. OPENBLAS_CORETYPE: Debian's OpenBLAS 0.3.21
 * (DYNAMIC_ARCH) accepts Haswell and Zen (both AVX2 + FMA; openblas_get_corename
 * reports either); Haswell is the generic one. PyTorch loads the same OpenBLAS
 * for its matmuls (Debian's torch: BLAS_INFO=generic, libblas.so.3 ->
 * OpenBLAS), ATen's own kernels follow ATEN_CPU_CAPABILITY, oneDNN's
 * (convolutions) DNNL_MAX_CPU_ISA.
 */
const AVX2_ENV = { OPENBLAS_CORETYPE: "Haswell", ATEN_CPU_CAPABILITY: "avx2", DNNL_MAX_CPU_ISA: "AVX2" } as const;

/**
 * --isa avx2: build (if needed) the addon capped at x86-64-v3 and put it and
 * AVX2_ENV into this process's environment, before anything loads the addon,
 * so that this process's peak measurement and every child use them.
 */
function forceIsa(isa: BenchIsa): IsaForce {
  if (isa === "native") {
    // An OPENBLAS_CORETYPE exported by the shell caps OpenBLAS (and PyTorch's) all the same: recorded, not hidden.
    const env = Object.fromEntries(["DYT_NATIVE_ADDON", ...Object.keys(AVX2_ENV)].flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
    const set = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(", ");
    return { isa, emulated: false, env, note: `the CPU's own ISA${set ? `, except what the environment sets: ${set}` : ""}` };
  }
  const flags = cpuFlags();
  if (flags.size && !(flags.has("avx2") && flags.has("fma"))) throw new Error("--isa avx2: this CPU has no AVX2 + FMA");
  const built = buildCappedAddon("x86-64-v3");
  const addon = cappedAddonPath("x86-64-v3");
  const replaced = Object.entries({ DYT_NATIVE_ADDON: addon, ...AVX2_ENV }).filter(([k, v]) => process.env[k] !== undefined && process.env[k] !== v);
  for (const [k] of replaced) console.log(`[bench] --isa avx2: ${k}=${process.env[k]} replaced`);
  process.env.DYT_NATIVE_ADDON = addon;
  Object.assign(process.env, AVX2_ENV);
  const emulated = flags.has("avx512f");
  const note = emulated
    ? "AVX2 kernels forced on an AVX-512 CPU: an emulation of the ISA, not of an AVX2-only CPU's clock or caches"
    : "AVX2 kernels on a CPU without AVX-512 (its own ISA)";
  return { isa, emulated, addon: path.relative(REPO, addon), ...("error" in built ? { addonError: built.error } : {}), env: { ...AVX2_ENV }, note };
}

/** Make sure Debian's python3-torch is there (apt, unless DYT_SKIP_APT=1); returns a reason when not. */
function ensureTorch(): string | undefined {
  if (!fs.existsSync(PY)) return `${PY} not found`;
  if (torchImportable()) return undefined;
  if (process.env.DYT_SKIP_APT === "1") return "python3-torch missing (DYT_SKIP_APT=1: not installing)";
  console.log("[bench] installing python3-torch with apt (one time)...");
  const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
  const run = (args: string[]) => spawnSync(sudo.length ? "sudo" : args[0]!, sudo.length ? args : args.slice(1), { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  run(["apt-get", "update", "-qq"]);
  const r = run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "python3-torch"]);
  if (r.status !== 0 || !torchImportable()) return "python3-torch could not be installed with apt";
  return undefined;
}

interface TorchResult {
  msPerStep: number;
  steps: number[];
  cpuSteps: number[];
  threads: number;
  torch: string;
  norm: string;
  ompWait: string;
  /** Loss of the first warm-up step (same seeds; a setting's kernels can move it through discrete choices, e.g. wav2vec's quantiser). */
  firstLoss?: number | null;
  /** torch_bench.py blas_check(): largest float32 mm / bmm error against float64, relative to |a| |b|. */
  blasCheck?: number;
  /** Parameters of PyTorch's model (checked against the lab's for the descriptor models: LM, ConvNeXt, DiT). */
  params?: number;
  /** LM only: how PyTorch ran causal attention ("sdpa" = F.scaled_dot_product_attention, torch >= 2; "explicit" = masked softmax). */
  attention?: string;
  /** ATen's CPU capability and the OpenBLAS core torch's process picked (torch_bench.py cpu_kernels()). */
  cpuCapability?: string | null;
  openblasCorename?: string | null;
  profile?: { op: string; ms: number; calls: number }[];
}

/** torch_bench.py's arguments for the model under test (its sizes come from here, not from the script's defaults). */
function torchModelArgs(model: ModelName, norm: NormKind): string[] {
  const m = stepModel(model);
  if (m) {
    assertBenchNorm(m, norm);
    return m.torchArgs(norm);
  }
  const c = BENCH_CONFIG;
  return ["--batch", String(c.batch), "--dim", String(c.dim), "--depth", String(c.depth), "--heads", String(c.heads), "--mlp-ratio", String(c.mlpRatio), "--patch", String(c.patch)];
}

/**
 * PyTorch's settings: as Debian ships it ("default"), OMP_WAIT_POLICY=PASSIVE,
 * and PASSIVE with OpenBLAS choosing its kernels for the CPU ("passive-cpublas":
 * OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, as the environment notes allow
 * for a benchmark command). The environment pins OpenBLAS to Haswell (AVX2)
 * kernels for the sake of older builds; the addon's own AVX-512 sgemm is not
 * bound by that pin, so PyTorch's best setting must not be either. The third
 * runs only when the pin is set and the ISA is not forced (--isa avx2 keeps it),
 * and counts only if torch_bench.py's float32 matmul check passes.
 */
type TorchPolicy = "default" | "passive" | "passive-cpublas";
const policyLabel = (w: string) => (w === "passive-cpublas" ? "OMP_WAIT_POLICY passive, OpenBLAS kernels for this CPU" : `OMP_WAIT_POLICY ${w}`);

function runTorch(model: ModelName, norm: NormKind, threads: number, steps: number, warmup: number, ompWait: TorchPolicy, profile: boolean): TorchResult | { error: string } {
  const env = { ...process.env };
  if (ompWait !== "default") env.OMP_WAIT_POLICY = "PASSIVE";
  if (ompWait === "passive-cpublas") {
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
  }
  const args = [TORCH_BENCH, "--norm", norm, "--threads", String(threads), "--steps", String(steps), "--warmup", String(warmup), ...torchModelArgs(model, norm)];
  if (profile) args.push("--profile");
  const r = spawnSync(PY, args, { encoding: "utf8", env, maxBuffer: 16 << 20 });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{")) return { error: (r.stderr || "torch bench failed").trim().split("\n").pop()! };
  return { ...(JSON.parse(line) as TorchResult), ompWait };
}

const USAGE = `npm run bench -- [options]     training-step speed per engine, against PyTorch in the same run
  --model lab|plain|llama|convnext|dit|hyena|wav2vec   the step (default lab: the ViT)
  --engines native,native-unfused,wasm,cpu             engines (default native,wasm,cpu)
  --norms layernorm,dyt                                norms (default: the model's own pair)
  --steps N --warmup N --cpu-steps N --rounds N        timed steps, warm-up steps, steps on cpu, rounds (10, 3, 2, 1)
  --isa native|avx2                                    avx2: AVX2 kernels forced everywhere (emulates an AVX2-only CPU's ISA)
  --no-torch --no-profile --profile-clock cpu|wall     skip PyTorch / the per-kernel profile; profile clock
  --json FILE --save DIR                               write the results (--save: atomically, with provenance)
  --layers                                             norm layer speed instead of the step
  --ab                                                 native fused vs unfused, alternating steps in one process
The header of scripts/bench.ts says what each model's step is and what every column means.`;

function parseArgs(argv: string[]) {
  const a = {
    engines: ["native", "wasm", "cpu"] as BenchEngine[],
    /** Empty until parsed: the model's own default (ViT layernorm,dyt; descriptors their norms: LM rmsnorm,dyt). */
    norms: [] as NormKind[],
    steps: 10,
    warmup: 3,
    cpuSteps: 2,
    rounds: 1,
    profileClock: "cpu" as "cpu" | "wall",
    model: "lab" as ModelName,
    torch: true,
    profile: true,
    layers: false,
    ab: false,
    json: "",
    save: "",
    isa: "native" as BenchIsa,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    if (k === "--help" || k === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else if (k === "--engines") a.engines = v().split(",") as BenchEngine[];
    else if (k === "--norms") a.norms = v().split(",") as NormKind[];
    else if (k === "--steps") a.steps = Number(v());
    else if (k === "--warmup") a.warmup = Number(v());
    else if (k === "--cpu-steps") a.cpuSteps = Number(v());
    else if (k === "--rounds") a.rounds = Math.max(1, Number(v()));
    else if (k === "--profile-clock") {
      const c = v();
      if (c !== "cpu" && c !== "wall") throw new Error("--profile-clock: cpu or wall");
      a.profileClock = c;
    }
    else if (k === "--model") {
      const m = v();
      if (!(MODEL_NAMES as readonly string[]).includes(m)) throw new Error(`--model: got "${m}"; use one of ${MODEL_NAMES.join(", ")}`);
      a.model = m as ModelName;
    } else if (k === "--no-torch") a.torch = false;
    else if (k === "--no-profile") a.profile = false;
    else if (k === "--layers") a.layers = true;
    else if (k === "--ab") a.ab = true;
    else if (k === "--json") a.json = v();
    else if (k === "--save") a.save = v();
    else if (k === "--isa") {
      const x = v();
      if (!(BENCH_ISAS as readonly string[]).includes(x)) throw new Error(`--isa: got "${x}"; use one of ${BENCH_ISAS.join(", ")}`);
      a.isa = x as BenchIsa;
    }
    else throw new Error(`unknown option ${k} (npm run bench -- --help lists them)`);
  }
  const m = stepModel(a.model);
  if (a.norms.length === 0) a.norms = m ? [...m.norms] : ["layernorm", "dyt"];
  // Checked here, before any child starts: a norm the model has no recipe for would fail in every child.
  if (m && !a.layers) for (const n of a.norms) assertBenchNorm(m, n);
  return a;
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "-");
const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : " ".repeat(n - s.length) + s);

function printProfile(title: string, p: NonNullable<StepResult["profile"]>, clock: string, top = 12): void {
  const what = clock === "cpu" ? "process CPU ms (all threads)" : "wall ms";
  console.log(`\n${title}: profiled step ${fmt(p.stepMs)} ms wall, in kernels ${fmt(p.kernelMs)} ${what}`);
  console.log(`  (per-kernel timing adds ~0.05 ms per kernel call, inflating the many small ops)`);
  console.log(`  ${pad("kernel", 22)} ${lpad("ms", 8)} ${lpad("%", 6)} ${lpad("calls", 6)}`);
  // Percentages of the kernel total under the cpu clock, of the step under wall.
  const base = clock === "cpu" ? p.kernelMs : p.stepMs;
  for (const k of p.kernels.slice(0, top))
    console.log(`  ${pad(k.name, 22)} ${lpad(fmt(k.ms), 8)} ${lpad(fmt((100 * k.ms) / base, 1), 6)} ${lpad(String(k.calls), 6)}`);
  const rest = p.kernels.slice(top);
  if (rest.length) {
    const ms = rest.reduce((a, k) => a + k.ms, 0);
    console.log(`  ${pad(`(${rest.length} other kernels)`, 22)} ${lpad(fmt(ms), 8)} ${lpad(fmt((100 * ms) / base, 1), 6)}`);
  }
  if (clock === "wall") console.log(`  ${pad("(outside kernels)", 22)} ${lpad(fmt(p.stepMs - p.kernelMs), 8)} ${lpad(fmt((100 * (p.stepMs - p.kernelMs)) / p.stepMs, 1), 6)}`);
  if (p.nestedMs) console.log(`  (custom-gradient scopes, ${fmt(p.nestedMs)} ms, contain kernels listed above)`);
  console.log(`  heaviest kernel calls by input shape:`);
  for (const k of p.shapes) console.log(`    ${lpad(fmt(k.ms), 7)} ${lpad(String(k.calls), 4)}x  ${k.name}`);
}

/** DIR/name with provenance in front of the raw results, written atomically (temp + rename). */
function saveResults(dir: string, name: string, json: Record<string, unknown>, engines: Record<string, string>, load: number[], cpuModel: string): void {
  const git = (args: string[]) => {
    try {
      return execFileSync("git", args, { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return "";
    }
  };
  const provenance: BenchProvenance = {
    gitCommit: git(["rev-parse", "HEAD"]) || "unknown",
    gitDirty: git(["status", "--porcelain", "--untracked-files=no"]).length > 0,
    engines,
    tfjs: tf.version.tfjs,
    node: process.version,
    cpuModel,
    load,
    date: String(json.date),
  };
  const file = path.resolve(dir, name);
  writeJsonAtomic(file, { provenance, ...json });
  console.log(`[bench] saved to ${path.relative(process.cwd(), file)}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === "--child") {
    const task = JSON.parse(argv[1]!) as ChildTask | LayerTask | AbTask;
    const res = task.kind === "layers" ? await runLayerTask(task) : task.kind === "ab" ? await runAbTask(task) : await runStepTask(task);
    console.log("BENCH_RESULT " + JSON.stringify(res));
    return;
  }
  const a = parseArgs(argv);
  const isa = forceIsa(a.isa);
  if (a.isa === "native" && Object.keys(isa.env).length) console.log(`[bench] ISA: ${isa.note}`);
  if (a.isa !== "native") {
    console.log(`[bench] --isa ${a.isa}: ${isa.note}`);
    console.log(`[bench]   native addon ${isa.addon}${isa.addonError ? ` NOT built (${isa.addonError})` : ""}; ${Object.entries(isa.env).map(([k, v]) => `${k}=${v}`).join(", ")} for every child`);
  }
  // Measured before any child runs (and each thread's CPU time counts, not wall time: robust to other processes).
  const peak = machinePeak(a.isa);
  const peakRef = peakGflops(peak);
  const peakWhat = peak.basis === "measured" ? "measured" : "nominal estimate";
  const threads = Number(process.env.OPENBLAS_NUM_THREADS) || os.cpus().length;
  const load = os.loadavg();
  console.log(`[bench] ${peak.model}, ${peak.cores} cores @ ${fmt(peak.ghz, 2)} GHz nominal`);
  for (const l of peakLines(peak)) console.log(l);
  console.log(`[bench] load average at start: ${load.map((l) => l.toFixed(2)).join(" ")} (${load[0]! > 0.5 ? "others are using the CPU: timings are noisy" : "machine idle"})`);

  if (a.ab) {
    console.log(`[bench] native fused vs unfused (DYT_FUSED=0), alternating steps in one process; median of ${a.steps} steps each`);
    console.log(`  ${pad("norm", 10)} ${lpad("fused ms", 9)} ${lpad("unfused", 9)} ${lpad("x", 6)} ${lpad("fused cpu", 10)} ${lpad("unfused", 9)} ${lpad("x", 6)} ${lpad("kernels", 8)} ${lpad("unfused", 8)}`);
    const abOut: AbResult[] = [];
    for (const norm of a.norms) {
      const r = runChild<AbResult>({ kind: "ab", norm, model: a.model, steps: a.steps });
      if ("error" in r) {
        console.log(`  ${norm}: unavailable (${r.error})`);
        continue;
      }
      abOut.push(r);
      const f = r.fused;
      const u = r.unfused;
      console.log(
        `  ${pad(norm, 10)} ${lpad(fmt(f.wallMs), 9)} ${lpad(fmt(u.wallMs), 9)} ${lpad(fmt(f.wallMs / u.wallMs, 2), 6)} ${lpad(fmt(f.cpuMs), 10)} ${lpad(fmt(u.cpuMs), 9)} ${lpad(fmt(f.cpuMs / u.cpuMs, 2), 6)} ${lpad(String(f.kernelsPerStep), 8)} ${lpad(String(u.kernelsPerStep), 8)}`,
      );
    }
    if (a.json) fs.writeFileSync(a.json, JSON.stringify({ date: new Date().toISOString(), load, peak, isa, results: abOut }, null, 1));
    return;
  }

  if (a.layers) {
    const shapes = NORM_LAYER_SHAPES;
    const norms = NORM_LAYER_KINDS;
    const layerOut: Record<string, NormLayerBench> = {};
    for (const engine of a.engines) {
      const unfused = engine === UNFUSED;
      const r = runChild<NormLayerBench>(
        { kind: "layers", engine: unfused ? "native" : engine, shapes: engine === "cpu" ? shapes.slice(0, 3) : shapes, reps: engine === "cpu" ? 3 : 7 },
        unfused ? { ...process.env, DYT_FUSED: "0" } : process.env,
      );
      if (!("error" in r) && unfused) r.engine = UNFUSED;
      if ("error" in r) {
        console.log(`\n${engine}: unavailable (${r.error})`);
        continue;
      }
      layerOut[engine] = r;
      console.log(`\nnorm layer speed on ${r.engine} (${r.detail}): median wall ms [CPU ms], forward (f) and forward+backward (f+b)`);
      console.log(`  ${pad("shape", 10)} ${norms.map((n) => lpad(n + " f", 18) + lpad("f+b", 17)).join("")}`);
      for (const [rows, ch] of shapes) {
        const cells = norms.map((n) => {
          const row = r.rows.find((x) => x.norm === n && x.rows === rows && x.channels === ch);
          if (!row) return "";
          return lpad(`${fmt(row.fwdMs, 2)} [${fmt(row.fwdCpu, 2)}]`, 18) + lpad(`${fmt(row.fwdBwdMs, 2)} [${fmt(row.fwdBwdCpu, 2)}]`, 17);
        });
        if (cells.some((c) => c)) console.log(`  ${pad(`${rows}x${ch}`, 10)} ${cells.join("")}`);
      }
    }
    const layerJson = { date: new Date().toISOString(), load, peak, isa, shapes, results: layerOut };
    const out = a.json || path.join(REPO, "runs", "bench", `layers-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(layerJson, null, 1));
    console.log(`\n[bench] results written to ${path.relative(process.cwd(), out)}`);
    if (a.save) saveResults(a.save, "layers.json", layerJson, Object.fromEntries(Object.entries(layerOut).map(([k, r]) => [k, r.detail])), load, os.cpus()[0]?.model ?? peak.model);
    return;
  }

  const facts = modelFacts(a.model);
  const flops = facts.flopsPerStep;
  const tokensPerSec = (ms: number) => (facts.tokensPerStep ? (facts.tokensPerStep * 1000) / ms : NaN);
  const tokText = (ms: number) => (facts.tokensPerStep ? `, ${fmt(tokensPerSec(ms), 0)} tokens/s` : "");
  console.log(`[bench] model: ${facts.line}`);

  // Rounds interleave every configuration (engines, norms, PyTorch) so that
  // load from other processes hits them alike; steps of all rounds are pooled.
  const results: StepResult[] = [];
  const failures: Record<string, string> = {};
  const torch: Record<
    string,
    TorchResult & { stepsMs: number[]; cpuMs: number[]; byPolicy: Record<string, number[]>; cpuByPolicy: Record<string, number[]>; fasterPolicy: TorchPolicy }
  > = {};
  let torchSkip: string | undefined = a.torch ? ensureTorch() : "--no-torch";
  if (a.torch && torchSkip) console.log(`[bench] pytorch: skipped (${torchSkip})`);
  // The descriptor models' parameter counts, lab and PyTorch, printed; a mismatch stops the bench
  // before any timing (and again on every PyTorch run's own count): a ratio between two different models means nothing.
  const sm = stepModel(a.model);
  if (sm)
    for (const norm of a.norms) {
      assertBenchNorm(sm, norm);
      const pt = torchSkip ? undefined : torchParamCount(["--norm", norm, ...sm.torchArgs(norm)]);
      if (typeof pt === "object") throw new Error(`--model ${sm.name}/${norm}: could not count PyTorch's parameters (${pt.error}); run bench/torch_bench.py --model ${sm.name} --params-only to see why, or pass --no-torch`);
      console.log(`[bench] parameters, ${sm.name}/${norm}: lab ${sm.paramCount(norm)}, pytorch ${pt ?? `- (${torchSkip})`}`);
      checkBenchParams(sm, norm, pt, "torch_bench.py --params-only");
    }
  for (let round = 0; round < a.rounds; round++) {
    for (const engine of a.engines) {
      if (failures[engine]) continue;
      for (const norm of a.norms) {
        const slow = engine === "cpu";
        if (slow && round > 0) continue; // one round of the slow reference is plenty
        const unfused = engine === UNFUSED;
        const r = runChild<StepResult>({
          kind: "step",
          engine: unfused ? "native" : engine,
          norm,
          model: a.model,
          steps: slow ? a.cpuSteps : a.steps,
          warmup: slow ? 1 : a.warmup,
          profile: round === 0 && a.profile && !slow && (engine === "native" || engine === UNFUSED || engine === "wasm"),
          profileClock: a.profileClock,
        }, unfused ? { ...process.env, DYT_FUSED: "0" } : process.env);
        if (!("error" in r) && unfused) r.engine = UNFUSED;
        if ("error" in r) {
          failures[engine] = r.error;
          console.log(`[bench] ${engine}/${norm}: unavailable (${r.error})`);
          break;
        }
        console.log(`[bench] round ${round + 1}: ${engine}/${norm}: ${fmt(r.msPerStep)} ms/step${tokText(r.msPerStep)} (${r.detail}; loss ${fmt(r.loss, 4)}${sm ? `; ${r.params} params` : ""})`);
        const prev = results.find((x) => x.engine === r.engine && x.norm === r.norm);
        if (prev) {
          prev.stepsMs.push(...r.stepsMs);
          prev.cpuMs.push(...r.cpuMs);
          prev.roundMs!.push(r.msPerStep);
          prev.rssMB = Math.max(prev.rssMB ?? 0, r.rssMB ?? 0);
          prev.tensors = Math.max(prev.tensors ?? 0, r.tensors ?? 0);
          prev.tensorMB = Math.max(prev.tensorMB ?? 0, r.tensorMB ?? 0);
          if (r.matmul) prev.matmulRounds!.push(r.matmul);
        } else results.push({ ...r, roundMs: [r.msPerStep], matmulRounds: r.matmul ? [r.matmul] : [] });
      }
    }
    if (!torchSkip)
      for (const norm of a.norms) {
        // OpenMP's default spin-wait collapses when other processes share the
        // cores (measured: ~8-15x slower at load 3-17 on 2 cores): both
        // policies run in the first round, the faster one counts, both are
        // printed; later rounds repeat only the faster one.
        const all: TorchPolicy[] = ["default", "passive", ...(process.env.OPENBLAS_CORETYPE && a.isa === "native" ? (["passive-cpublas"] as const) : [])];
        const policies = round === 0 || !torch[norm] ? all : [torch[norm]!.fasterPolicy];
        for (const w of policies) {
          const r = runTorch(a.model, norm, threads, a.steps, a.warmup, w, round === 0 && a.profile && w === "passive" && norm === a.norms[0]);
          if ("error" in r) {
            console.log(`[bench] pytorch/${norm} (${policyLabel(w)}): failed (${r.error})`);
            continue;
          }
          // Unpinned kernels count only if they compute right (older OpenBLAS builds did not on some CPUs):
          // float32 products within 1e-4 of float64, relative to |a| |b| (right kernels: ~1e-6).
          if (w === "passive-cpublas" && !(typeof r.blasCheck === "number" && r.blasCheck <= 1e-4)) {
            console.log(`[bench] pytorch/${norm} (${policyLabel(w)}): matmul check ${r.blasCheck ?? "missing"} (> 1e-4 against float64): not counted`);
            continue;
          }
          if (sm) checkBenchParams(sm, norm, r.params, `torch_bench.py run, OMP_WAIT_POLICY ${w}`);
          const paramText = sm ? `, ${r.params} params${r.attention ? `, attention ${r.attention}` : ""}` : "";
          const check = typeof r.blasCheck === "number" ? `, matmul check ${r.blasCheck.toExponential(1)}` : "";
          const loss = typeof r.firstLoss === "number" ? `, first loss ${fmt(r.firstLoss, 5)}` : "";
          console.log(`[bench] round ${round + 1}: pytorch/${norm} (${policyLabel(w)}): ${fmt(r.msPerStep)} ms/step${tokText(r.msPerStep)} (torch ${r.torch}, ${r.threads} threads${paramText}${r.cpuCapability ? `, ATen ${r.cpuCapability}` : ""}${r.openblasCorename ? `, OpenBLAS ${r.openblasCorename}` : ""}${check}${loss})`);
          const t = (torch[norm] ??= { ...r, stepsMs: [], cpuMs: [], byPolicy: {}, cpuByPolicy: {}, fasterPolicy: w });
          (t.byPolicy[w] ??= []).push(...r.steps);
          (t.cpuByPolicy[w] ??= []).push(...r.cpuSteps);
          if (r.profile) t.profile = r.profile;
        }
        const t = torch[norm];
        if (t) t.fasterPolicy = Object.entries(t.byPolicy).reduce((x, y) => (median(y[1]) < median(x[1]) ? y : x))[0] as TorchPolicy;
      }
  }
  for (const r of results) r.msPerStep = median(r.stepsMs);
  for (const t of Object.values(torch)) {
    const best = Object.entries(t.byPolicy).reduce((x, y) => (median(y[1]) < median(x[1]) ? y : x));
    t.ompWait = best[0];
    t.stepsMs = best[1];
    t.cpuMs = t.cpuByPolicy[best[0]]!;
    t.msPerStep = median(best[1]);
  }
  if (!torchSkip && Object.keys(torch).length === 0) torchSkip = "every PyTorch run failed";

  // Summary table.
  console.log(`\nms/step: median wall time of all steps (min); cpu ms: median process CPU time per step (all threads; robust to load).`);
  console.log(`GFLOP/s and %peak: matmul work / median wall time, vs the whole machine's peak (${peakWhat}, ${fmt(peakRef, 0)} GFLOP/s). GF/cpu-s and %core: work / CPU time, vs one core's peak.`);
  console.log(`rss MB: peak resident set of the engine's child process; tensors / MB: live tensors and their bytes after a step (max over steps).`);
  console.log(`x shipped: ratio to PyTorch as Debian ships it (OMP_WAIT_POLICY unset); x best: to PyTorch's best setting (fastest of default, PASSIVE${a.isa === "native" && process.env.OPENBLAS_CORETYPE ? ", and PASSIVE with OpenBLAS's kernels for this CPU (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE unset)" : ""});`);
  console.log(`  same norm, ${threads} threads; each by wall time and (cpu) by CPU time. < 1 = faster than PyTorch.`);
  // Tokens/s only where a step has a token count worth quoting (the LM: batch x seqLen).
  const tokCol = (ms: number | string) => (facts.tokensPerStep ? " " + lpad(typeof ms === "string" ? ms : fmt(tokensPerSec(ms), 0), 9) : "");
  if (facts.tokensPerStep) console.log(`tokens/s: ${facts.tokensPerStep} tokens per step (batch x seqLen) / median wall time.`);
  console.log(
    `  ${pad("engine", 14)} ${pad("norm", 10)} ${lpad("ms/step", 9)} ${lpad("(min)", 9)}${tokCol("tokens/s")} ${lpad("cpu ms", 8)} ${lpad("GFLOP/s", 8)} ${lpad("%peak", 6)} ${lpad("GF/cpu-s", 9)} ${lpad("%core", 6)} ${lpad("x shipped", 10)} ${lpad("(cpu)", 6)} ${lpad("x best", 7)} ${lpad("(cpu)", 6)} ${lpad("rss MB", 7)} ${lpad("tensors", 8)} ${lpad("MB", 6)}`,
  );
  const corePeak = peakRef / peak.cores;
  const row = (name: string, norm: string, ms: number, min: number, cpu: number, ratios: [number, number, number, number] | undefined, mem?: StepResult) => {
    const gf = flops / (ms * 1e6);
    const gfc = flops / (cpu * 1e6);
    const [s, sc, b, bc] = (ratios ?? [NaN, NaN, NaN, NaN]).map((x) => fmt(x, 2));
    console.log(
      `  ${pad(name, 14)} ${pad(norm, 10)} ${lpad(fmt(ms), 9)} ${lpad(`(${fmt(min)})`, 9)}${tokCol(ms)} ${lpad(fmt(cpu), 8)} ${lpad(fmt(gf, 1), 8)} ${lpad(fmt((100 * gf) / peakRef, 1), 6)} ${lpad(fmt(gfc, 1), 9)} ${lpad(fmt((100 * gfc) / corePeak, 1), 6)} ${lpad(s!, 10)} ${lpad(sc!, 6)} ${lpad(b!, 7)} ${lpad(bc!, 6)} ${lpad(mem?.rssMB ? fmt(mem.rssMB, 0) : "-", 7)} ${lpad(mem?.tensors ? String(mem.tensors) : "-", 8)} ${lpad(mem?.tensorMB ? fmt(mem.tensorMB, 1) : "-", 6)}`,
    );
  };
  const refs = Object.fromEntries(Object.entries(torch).filter(([, t]) => (t.byPolicy.default ?? []).length > 0).map(([n, t]) => [n, torchReference(t)]));
  const worst: Record<string, [number, number]> = {};
  for (const r of results) {
    const ref = refs[r.norm];
    const cpu = median(r.cpuMs);
    const ratios: [number, number, number, number] | undefined = ref ? [r.msPerStep / ref.shippedMs, cpu / ref.shippedCpu, r.msPerStep / ref.bestMs, cpu / ref.bestCpu] : undefined;
    if (ratios) {
      const w = (worst[r.engine] ??= [0, 0]);
      worst[r.engine] = [Math.max(w[0], ratios[0]), Math.max(w[1], ratios[2])];
    }
    row(r.engine, r.norm, r.msPerStep, Math.min(...r.stepsMs), cpu, ratios, r);
  }
  for (const [norm, ref] of Object.entries(refs)) {
    const t = torch[norm]!;
    row("pt-shipped", norm, ref.shippedMs, Math.min(...t.byPolicy.default!), ref.shippedCpu, [1, 1, ref.shippedMs / ref.bestMs, ref.shippedCpu / ref.bestCpu]);
    row("pt-best", norm, ref.bestMs, Math.min(...t.byPolicy[ref.bestPolicy]!), ref.bestCpu, [ref.bestMs / ref.shippedMs, ref.bestCpu / ref.shippedCpu, 1, 1]);
  }
  for (const [engine, [s, b]] of Object.entries(worst))
    console.log(
      `  ${engine}: goal (<= 1.0 x PyTorch as shipped, wall, every norm) ${s <= 1 ? "MET" : "NOT met"} (worst ${fmt(s, 2)}); stretch (<= 1.0 x PyTorch best setting) ${b <= 1 ? "MET" : "NOT met"} (worst ${fmt(b, 2)})`,
    );
  for (const r of results) {
    const mr = r.matmulRounds ?? [];
    if (mr.length === 0) continue;
    const lg = median(mr.map((m) => m.largestGflops));
    const all = median(mr.map((m) => m.allGflops));
    console.log(
      `  matmuls, ${r.engine}/${r.norm}: largest (batch x m x k x n) ${mr[0]!.largest} at ${fmt(lg, 1)} GFLOP/s (${fmt((100 * lg) / peakRef, 1)} % of the ${peakWhat} peak); ` +
        `all ${fmt(mr[0]!.callsPerStep, 0)} per step at ${fmt(all, 1)} GFLOP/s (${fmt((100 * all) / peakRef, 1)} %); median over ${mr.length} round(s), each call timed over 3 steps`,
    );
  }
  if (Object.keys(torch).length && Object.keys(refs).length === 0) console.log(`  (no PyTorch run with OMP_WAIT_POLICY unset succeeded: no ratios)`);
  if (Object.keys(torch).length)
    console.log(`  (pytorch: OMP_WAIT_POLICY ${Object.entries(torch).map(([n, t]) => `${n} ${t.ompWait}`).join(", ")} was faster; ${Object.entries(torch).map(([n, t]) => Object.entries(t.byPolicy).map(([w, st]) => `${n}/${w} ${fmt(median(st))}`).join(", ")).join(", ")} ms)`);

  if (a.profile) {
    for (const r of results) if (r.profile) printProfile(`per-kernel profile, ${r.engine}/${r.norm}`, r.profile, a.profileClock);
    const tp = torch[a.norms[0]!]?.profile;
    if (tp) {
      console.log(`\nPyTorch ops, ${a.norms[0]} (torch.profiler self CPU time, one step)`);
      for (const o of tp) console.log(`  ${pad(o.op, 30)} ${lpad(fmt(o.ms), 8)} ${lpad(String(o.calls), 6)}`);
    }
  }

  const out = a.json || path.join(REPO, "runs", "bench", `bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  let commit = "";
  try {
    commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: REPO, encoding: "utf8" }).trim();
  } catch {
    /* not a checkout */
  }
  const stepJson = {
    date: new Date().toISOString(),
    commit,
    load,
    peak,
    isa,
    model: a.model,
    config: facts.config,
    flopsPerStep: flops,
    ...(facts.tokensPerStep ? { tokensPerStep: facts.tokensPerStep } : {}),
    args: a,
    results,
    torch,
    torchSkip,
    failures,
  };
  fs.writeFileSync(out, JSON.stringify(stepJson, null, 1));
  console.log(`\n[bench] results written to ${path.relative(process.cwd(), out)}`);
  // A descriptor model's file (lm-step.json, convnext-step.json, dit-step.json, wav2vec-step.json) sits beside the ViT's
  // step.json (which lib/bench/efficiency.ts reads) instead of replacing it.
  if (a.save) saveResults(a.save, sm ? sm.saveName : "step.json", stepJson, Object.fromEntries(results.map((r) => [r.engine, r.detail])), load, os.cpus()[0]?.model ?? peak.model);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
