/**
 * What `npm run bench -- --model NAME` (scripts/bench.ts) needs of a model
 * beyond the bench's own ViT: one descriptor per model (lib/bench/lm-step.ts,
 * convnext-step.ts, dit-step.ts) says which norms it has a recipe for, builds
 * its training step, counts its parameters from their parts, gives
 * bench/torch_bench.py the arguments that build the same model in PyTorch,
 * and describes the step for the report. The bench treats every descriptor
 * alike: the parameter check (lab vs PyTorch, before any timing and on every
 * PyTorch run), the rows, the ratios, the file --save writes.
 */
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import type * as tf from "@tensorflow/tfjs";
import type { ImageDataset } from "../data/dataset";
import type { NormKind } from "../norms/types";

/** One training step's pieces: the variables, the loss on a fixed batch, the optimizer, the model's parameter count. */
export interface BenchStep {
  vars: tf.Variable[];
  loss(): tf.Scalar;
  optimizer: { apply(grads: (tf.Tensor | undefined)[], lr: number): void; dispose(): void };
  params: number;
  dispose(): void;
}

/** What the report says about a model's step (the bench appends the GFLOP/step). */
export interface BenchStepFacts {
  /** One line: the model and its sizes. */
  line: string;
  /** Matmul / convolution FLOPs of one training step (3x the forward's, 2 per multiply-add). */
  flopsPerStep: number;
  /** What flopsPerStep counts, for the report ("matmul" unless said). */
  work?: string;
  /** Tokens one step trains on (LMs only: the report adds tokens/s). */
  tokensPerStep?: number;
  config: object;
}

export interface BenchStepModel {
  /** The --model name. */
  name: string;
  /** "ConvNeXt", "DiT", "the LM's Llama": names the model in messages. */
  label: string;
  /** The norms it has a recipe for, in report order: the default --norms. */
  norms: readonly NormKind[];
  /** File --save DIR writes (beside the ViT's step.json). */
  saveName: string;
  /** Where the two models and the hand count live: the mismatch message names them. */
  sources: { lab: string; torch: string; count: string };
  /** The parameters of the model both sides build, counted from its parts. */
  paramCount(norm: NormKind): number;
  /** The lab's step: its model (checked against paramCount), fixed batch, loss, AdamW. */
  step(norm: NormKind): BenchStep;
  /** bench/torch_bench.py's arguments for the same model (every size; --norm and timing flags are added by the caller). */
  torchArgs(norm: NormKind): string[];
  facts(): BenchStepFacts;
}

/** Throw, naming the fix, when `model` has no recipe for `norm`. */
export function assertBenchNorm(model: BenchStepModel, norm: string): asserts norm is NormKind {
  if (!(model.norms as readonly string[]).includes(norm))
    throw new Error(`--model ${model.name}: norm "${norm}" is not one of ${model.label}'s norms (${model.norms.join(", ")}); pass --norms ${model.norms.join(",")}`);
}

/**
 * Throw when PyTorch's model has another parameter count than the lab's (a
 * ratio between two different models means nothing); `where` says which
 * PyTorch run counted. `torchParams` undefined (PyTorch skipped): no check.
 */
export function checkBenchParams(model: BenchStepModel, norm: NormKind, torchParams: number | undefined, where: string): void {
  assertBenchNorm(model, norm);
  const lab = model.paramCount(norm);
  if (torchParams !== undefined && torchParams !== lab)
    throw new Error(
      `--model ${model.name}/${norm}: PyTorch's model has ${torchParams} parameters, the lab's ${model.label} ${lab} (${where}); ` +
        `the two models differ, so no ratio is reported: make ${model.sources.torch} match ${model.sources.lab} (${model.sources.count} lists the parts)`,
    );
}

/**
 * The lab's model checked against the hand count (`expected`, the model's
 * paramCount for the step's config): a mismatch disposes the model and
 * throws, else the PyTorch check would compare against a stale list.
 */
export function checkLabParams(model: BenchStepModel, norm: NormKind, actual: number, expected: number, dispose: () => void): void {
  if (actual === expected) return;
  dispose();
  throw new Error(
    `${model.name} bench: the lab's ${model.label} (${norm}) has ${actual} parameters, the bench's count of its parts ${expected}; ` +
      `${model.sources.lab} changed shape: update ${model.sources.count} and ${model.sources.torch} together`,
  );
}

/** The repository root (holds package.json and bench/), from this file in lib/bench or build/lib/bench. */
export const REPO = (() => {
  let d = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(d, "package.json")) && fs.existsSync(path.join(d, "bench"))) return d;
    d = path.dirname(d);
  }
  return process.cwd();
})();
/** Debian's interpreter, which python3-torch installs into. */
export const PY = "/usr/bin/python3";
export const TORCH_BENCH = path.join(REPO, "bench", "torch_bench.py");

/** Whether `import torch` works in Debian's python (no install attempted). */
export function torchImportable(): boolean {
  return fs.existsSync(PY) && spawnSync(PY, ["-c", "import torch"], { stdio: "ignore" }).status === 0;
}

/** PyTorch's parameter count for `args` (torch_bench.py --params-only: builds the model, times nothing), or why not. */
export function torchParamCount(args: string[]): number | { error: string } {
  const r = spawnSync(PY, [TORCH_BENCH, "--params-only", ...args], { encoding: "utf8", maxBuffer: 1 << 20 });
  const line = (r.stdout ?? "").trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{")) return { error: (r.stderr || "torch_bench.py --params-only failed").trim().split("\n").pop()! };
  return (JSON.parse(line) as { params: number }).params;
}

/** A deterministic pseudo-random stream in [0, 1) (the bench's data: identical on every engine and run). */
export function benchUniform(n: number, seed = 12345): Float32Array {
  const xs = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    xs[i] = s / 2 ** 32;
  }
  return xs;
}

/**
 * A fixed batch of token windows, identical on every engine: one LCG stream
 * cut into `batch` windows of seqLen + 1 tokens (`token` maps the LCG state
 * to a token); x is each window's first seqLen tokens, y the next token of
 * each (as lib/train/task.ts windows text and genomes).
 */
export function benchTokenWindows(batch: number, seqLen: number, token: (state: number) => number): { x: Int32Array; y: Int32Array } {
  const T = seqLen;
  const x = new Int32Array(batch * T);
  const y = new Int32Array(batch * T);
  let s = 12345;
  for (let b = 0; b < batch; b++) {
    const w = new Int32Array(T + 1);
    for (let i = 0; i <= T; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      w[i] = token(s);
    }
    x.set(w.subarray(0, T), b * T);
    y.set(w.subarray(1), b * T);
  }
  return { x, y };
}

/**
 * A fixed batch of `n` images as an ImageDataset (what the lab's tasks take):
 * pixels from benchUniform in [0, 1] with normalization mean 0 / std 1, so a
 * diffusion task maps them to [-1, 1]; label i is (7 i) mod classes, as the
 * ViT's batch.
 */
export function benchImageSet(n: number, size: number, channels: number, classes: number): ImageDataset {
  return {
    name: "bench",
    split: "train",
    n,
    height: size,
    width: size,
    channels,
    numClasses: classes,
    classNames: Array.from({ length: classes }, (_, i) => String(i)),
    images: benchUniform(n * size * size * channels),
    labels: Int32Array.from({ length: n }, (_, i) => (i * 7) % classes),
    normalization: { kind: "bench", mean: 0, std: 1 },
    origin: "memory",
  };
}

/**
 * A step around a lab model: its variables, `loss` on a fixed batch, the
 * model's AdamW; dispose() frees the model, the optimizer and the batch
 * tensors it owns (`owned`).
 */
export function labBenchStep<M extends { params: readonly { variable: tf.Variable }[]; parameterCount(): number; dispose(): void }, O extends BenchStep["optimizer"]>(
  model: M,
  loss: () => tf.Scalar,
  optimizer: O,
  owned: tf.Tensor[],
): BenchStep & { model: M; optimizer: O } {
  return {
    model,
    vars: model.params.map((p) => p.variable),
    loss,
    optimizer,
    params: model.parameterCount(),
    dispose: () => {
      model.dispose();
      optimizer.dispose();
      for (const t of owned) t.dispose();
    },
  };
}
