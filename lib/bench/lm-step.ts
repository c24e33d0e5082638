/**
 * The language-model training step of `npm run bench -- --model llama`
 * (scripts/bench.ts): the lab's Llama (lib/models/llama.ts) at the LM
 * experiments' size, next-token softmax cross-entropy, the lab's AdamW. The
 * same model in PyTorch is bench/torch_bench.py --model llama; both sides
 * print their parameter count and the bench refuses to compare when they
 * differ. Kept here, not in the script, so a unit test can check the model
 * without running a benchmark; LM_STEP_MODEL is what the bench reads
 * (lib/bench/step-model.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { Llama, llamaFfnHidden, type LlamaConfig } from "../models/llama";
import { arm } from "../experiments/protocol/arms";
import { resolveLmRun, type LmRunBase } from "../experiments/protocol/lm-task";
import { AdamW, ADAMW_DEFAULTS } from "../train/adamw";
import { tokenLoss } from "../train/task";
import type { NormKind } from "../norms/types";
import { benchTokenWindows, checkLabParams, labBenchStep, type BenchStepModel } from "./step-model";

export interface LmBenchConfig {
  batch: number;
  seqLen: number;
  vocab: number;
  dim: number;
  depth: number;
  heads: number;
  /** AdamW decay on the weight matrices (embedding, linears, head), as the LM experiments train. */
  weightDecay: number;
}

/** lm-rmsnorm-dyt's full scale (a test keeps the two in step): 257 = the byte tokenizer's vocabulary. */
export const LM_BENCH_CONFIG: LmBenchConfig = { batch: 32, seqLen: 128, vocab: 257, dim: 64, depth: 2, heads: 4, weightDecay: 0.1 };

/** The LM's norms and the arm (lib/experiments/protocol/arms.ts) that gives each its recipe. */
export const LM_BENCH_ARMS = { rmsnorm: "rmsnorm", dyt: "dyt-lm" } as const;
export type LmBenchNorm = keyof typeof LM_BENCH_ARMS;
export const LM_BENCH_NORMS = Object.keys(LM_BENCH_ARMS) as LmBenchNorm[];

export function assertLmBenchNorm(norm: string): asserts norm is LmBenchNorm {
  if (!(norm in LM_BENCH_ARMS))
    throw new Error(`--model llama: norm "${norm}" is not one of the LM's norms (${LM_BENCH_NORMS.join(", ")}); pass --norms ${LM_BENCH_NORMS.join(",")}`);
}

/**
 * The Llama config an LM experiment trains for this norm, through the same
 * resolver (resolveLmRun), so DyT gets the dyt-lm arm's recipe: gamma and no
 * beta, the paper's alpha0 per slot for the width, the scalar after the
 * embedding; RMSNorm gets LLaMA's gamma-only RMSNorm.
 */
export function lmBenchLlamaConfig(norm: LmBenchNorm, c: LmBenchConfig = LM_BENCH_CONFIG): LlamaConfig {
  const base: LmRunBase = {
    task: "lm-text",
    model: { vocabSize: c.vocab, dim: c.dim, depth: c.depth, heads: c.heads },
    train: { batchSize: c.batch, weightDecay: c.weightDecay },
    data: { seqLen: c.seqLen },
  };
  return resolveLmRun(base, arm(LM_BENCH_ARMS[norm]), 0).model;
}

/**
 * Parameters of the model both sides build, counted from its parts (what
 * bench/torch_bench.py's LlamaLM holds): token embedding V x D; per block two
 * norms, q|k|v (D x 3D), output (D x D), SwiGLU gate|up (D x 2H) and down
 * (H x D), no biases; a final norm; the untied head D x V. A norm is gamma [D]
 * (DyT adds alpha [1], no beta); DyT's recipe adds the embedding scalar.
 */
export function lmBenchParamCount(norm: LmBenchNorm, c: LmBenchConfig = LM_BENCH_CONFIG): number {
  const D = c.dim;
  const H = llamaFfnHidden(D);
  const normParams = norm === "dyt" ? D + 1 : D;
  const block = 2 * normParams + D * 3 * D + D * D + D * 2 * H + H * D;
  const embedScale = norm === "dyt" ? 1 : 0;
  return c.vocab * D + embedScale + c.depth * block + normParams + D * c.vocab;
}

/**
 * Matmul FLOPs of one forward pass (2*M*N*K per product; a training step
 * counts 3x): the block linears, both attention products over the full T x T
 * scores (the masked half is computed too, then zeroed by the softmax), and
 * the head. The embedding is a gather: no FLOPs.
 */
export function lmForwardMatmulFlops(c: LmBenchConfig = LM_BENCH_CONFIG): number {
  const N = c.batch * c.seqLen;
  const D = c.dim;
  const H = llamaFfnHidden(D);
  const linears = 2 * N * D * (3 * D + D + 2 * H) + 2 * N * H * D;
  const attention = 2 * 2 * c.batch * c.seqLen * c.seqLen * D; // q k^T and p v, all heads
  return c.depth * (linears + attention) + 2 * N * D * c.vocab;
}

/** Tokens one step trains on (the tokens/s numerator). */
export function lmTokensPerStep(c: LmBenchConfig = LM_BENCH_CONFIG): number {
  return c.batch * c.seqLen;
}

/** A fixed batch, identical on every engine: token windows of the vocabulary (benchTokenWindows). */
export function lmBenchTokens(c: LmBenchConfig = LM_BENCH_CONFIG): { x: Int32Array; y: Int32Array } {
  return benchTokenWindows(c.batch, c.seqLen, (s) => s % c.vocab);
}

/** What the bench's training step needs: the model's variables, the loss on the fixed batch, the optimizer. */
export interface LmBenchStep {
  model: Llama;
  vars: tf.Variable[];
  /** Next-token softmax cross-entropy of the fixed batch (the trainer's loss, lib/train/task.ts tokenLoss). */
  loss(): tf.Scalar;
  optimizer: AdamW;
  dispose(): void;
}

/** The LM step's model, batch and AdamW (decay on the weight matrices only, as in training). */
export function lmBenchStep(norm: LmBenchNorm, c: LmBenchConfig = LM_BENCH_CONFIG): LmBenchStep {
  const model = new Llama(lmBenchLlamaConfig(norm, c));
  checkLabParams(LM_STEP_MODEL, norm, model.parameterCount(), lmBenchParamCount(norm, c), () => model.dispose());
  const { x, y } = lmBenchTokens(c);
  const xt = tf.tensor2d(x, [c.batch, c.seqLen], "int32");
  const yt = tf.oneHot(tf.tensor1d(y, "int32"), c.vocab);
  const optimizer = new AdamW(model.params, { ...ADAMW_DEFAULTS, weightDecay: c.weightDecay });
  return labBenchStep(model, () => tokenLoss(yt, model.forward(xt)) as tf.Scalar, optimizer, [xt, yt]);
}

export const LM_STEP_MODEL: BenchStepModel = {
  name: "llama",
  label: "Llama",
  norms: LM_BENCH_NORMS,
  saveName: "lm-step.json",
  sources: { lab: "lib/models/llama.ts", torch: "LlamaLM in bench/torch_bench.py", count: "lmBenchParamCount in lib/bench/lm-step.ts" },
  paramCount(norm: NormKind) {
    assertLmBenchNorm(norm);
    return lmBenchParamCount(norm);
  },
  step(norm: NormKind) {
    assertLmBenchNorm(norm);
    const s = lmBenchStep(norm);
    return { vars: s.vars, loss: s.loss, optimizer: s.optimizer, params: s.model.parameterCount(), dispose: s.dispose };
  },
  torchArgs(norm: NormKind) {
    assertLmBenchNorm(norm);
    const c = LM_BENCH_CONFIG;
    const m = lmBenchLlamaConfig(norm, c);
    const args = ["--model", "llama", "--batch", String(c.batch), "--seq-len", String(c.seqLen), "--vocab", String(c.vocab), "--dim", String(c.dim), "--depth", String(c.depth), "--heads", String(c.heads)];
    args.push("--weight-decay", String(c.weightDecay), "--rope-theta", String(m.ropeTheta), "--init-std", String(m.initStd));
    // DyT's recipe (alpha0 per slot, embedding scalar) as the lab resolved it, so both sides build the same model.
    if (m.norm === "dyt") args.push("--alpha0", [m.alpha0Attn, m.alpha0Ffn, m.alpha0Final].join(","));
    if (m.embedScale) args.push("--embed-scale");
    return args;
  },
  facts() {
    const c = LM_BENCH_CONFIG;
    const tokensPerStep = lmTokensPerStep(c);
    return {
      line: `llama LM, batch ${c.batch} x ${c.seqLen} tokens (${tokensPerStep} tokens/step), width ${c.dim}, ${c.heads} heads, depth ${c.depth}, vocab ${c.vocab}, causal + RoPE, SwiGLU`,
      flopsPerStep: 3 * lmForwardMatmulFlops(c),
      tokensPerStep,
      config: c,
    };
  },
};
