/**
 * The HyenaDNA training step of `npm run bench -- --model hyena`
 * (scripts/bench.ts): the lab's HyenaDNA-style decoder (lib/models/hyena.ts)
 * at the size dna-hyena pretrains at full scale, resolved through the
 * experiment's own resolver (resolveDnaRun, so each norm gets its arm's
 * options and the task's maxSeqLen), next-nucleotide softmax cross-entropy
 * (the task's tokenLoss), the lab's AdamW with the experiment's weight decay.
 * The same model in PyTorch is bench/torch_bench.py --model hyena (its long
 * convolution by torch.fft, as HyenaDNA computes it); both sides print their
 * parameter count and the bench refuses to compare when they differ.
 */
import * as tf from "@tensorflow/tfjs";
import { DNA_VOCAB_SIZE } from "../data/dna";
import { HyenaDNA, type HyenaConfig } from "../models/hyena";
import { arm } from "../experiments/protocol/arms";
import { resolveDnaRun, type DnaRunBase } from "../experiments/protocol/dna-task";
import { DNA_HYENA_SCALES } from "../experiments/dna-hyena/spec";
import { resolveNormOptions } from "../norms/factory";
import type { NormKind } from "../norms/types";
import { AdamW, ADAMW_DEFAULTS } from "../train/adamw";
import { tokenLoss } from "../train/task";
import { assertBenchNorm, benchTokenWindows, checkLabParams, labBenchStep, type BenchStep, type BenchStepModel } from "./step-model";

export interface HyenaBenchConfig {
  batch: number;
  /** Bases per window (the model's context). */
  seqLen: number;
  dim: number;
  depth: number;
  /** AdamW decay on the weight matrices and kernels, as dna-hyena trains. */
  weightDecay: number;
}

/** dna-hyena's full-scale pretraining step (test/hyena-bench.test.ts keeps the two in step). */
export const HYENA_BENCH_CONFIG: HyenaBenchConfig = { batch: 16, seqLen: 256, dim: 64, depth: 2, weightDecay: 0.1 };

/** The bench's norms and the dna-hyena arm that gives each its options. */
export const HYENA_BENCH_ARMS: Partial<Record<NormKind, string>> = { layernorm: "layernorm", dyt: "dyt" };

/** The dna-lm base of the bench's config: dna-hyena's full base (init, probe task, so maxSeqLen) with the bench's sizes. */
export function hyenaBenchBase(c: HyenaBenchConfig = HYENA_BENCH_CONFIG): DnaRunBase {
  const full = DNA_HYENA_SCALES.full.base;
  return {
    ...full,
    model: { ...full.model, dim: c.dim, depth: c.depth },
    train: { ...full.train, batchSize: c.batch, weightDecay: c.weightDecay },
    data: { ...full.data, seqLen: c.seqLen },
  };
}

/** The HyenaDNA config dna-hyena trains for this norm (its arm, seed 0), through resolveDnaRun. */
export function hyenaBenchModelConfig(norm: NormKind, c: HyenaBenchConfig = HYENA_BENCH_CONFIG): HyenaConfig {
  const armId = HYENA_BENCH_ARMS[norm];
  if (!armId) throw new Error(`--model hyena: no arm for norm "${norm}"`);
  return resolveDnaRun(hyenaBenchBase(c), arm(armId), 0).model;
}

/**
 * Parameters of the model both sides build, counted from its parts (what
 * bench/torch_bench.py's HyenaDNA holds): the embedding V x d; per block two
 * norms, in_proj d x 3d + 3d, the short depthwise conv k x 3d + 3d, the
 * filter MLP (E x O + O, O x O + O, O x d without bias), two Sin frequency
 * vectors [O], the skip D [d], out_proj d x d + d, the MLP d x h + h and
 * h x d + d; a final norm; the head d x V without bias. A norm is gamma and
 * beta [d] (DyT adds alpha [1]).
 */
export function hyenaBenchParamCount(norm: NormKind, c: HyenaBenchConfig = HYENA_BENCH_CONFIG): number {
  const m = hyenaBenchModelConfig(norm, c);
  const d = m.dim;
  const O = m.filterOrder;
  const h = Math.round(d * m.mlpRatio);
  const n = 2 * d + (norm === "dyt" ? 1 : 0);
  const operator = d * 3 * d + 3 * d + m.shortFilter * 3 * d + 3 * d + (m.filterEmbDim * O + O) + (O * O + O) + O * d + 2 * O + d + d * d + d;
  const block = 2 * n + operator + d * h + h + h * d + d;
  return m.vocabSize * d + m.depth * block + n + d * m.vocabSize;
}

/**
 * Matmul FLOPs of one forward pass (2 per multiply-add; a step counts 3x):
 * per block in_proj, out_proj and the MLP on every token, the filter MLP on
 * the L positions, the short conv's k taps on 3d channels; the head. The
 * FFT convolution (~ 5 n log2 n per channel row, n = 2L) is not counted: it
 * is not a product either side runs on BLAS.
 */
export function hyenaForwardMatmulFlops(c: HyenaBenchConfig = HYENA_BENCH_CONFIG): number {
  const m = hyenaBenchModelConfig("layernorm", c);
  const N = c.batch * c.seqLen;
  const d = m.dim;
  const O = m.filterOrder;
  const h = Math.round(d * m.mlpRatio);
  const perToken = 2 * (d * 3 * d + d * d + 2 * d * h + m.shortFilter * 3 * d);
  const filter = 2 * c.seqLen * (m.filterEmbDim * O + O * O + O * d);
  return m.depth * (N * perToken + filter) + 2 * N * d * m.vocabSize;
}

/** A fixed batch of windows of A C G T codes (N is rare in the genomes), x the first seqLen, y the next code (benchTokenWindows). */
export function hyenaBenchTokens(c: HyenaBenchConfig = HYENA_BENCH_CONFIG): { x: Int32Array; y: Int32Array } {
  return benchTokenWindows(c.batch, c.seqLen, (s) => (s >>> 8) % 4);
}

/** The Hyena step: model, fixed batch, next-nucleotide cross-entropy, AdamW (decay on weights and kernels only, as in training). */
export function hyenaBenchStep(norm: NormKind, c: HyenaBenchConfig = HYENA_BENCH_CONFIG): BenchStep & { model: HyenaDNA } {
  assertBenchNorm(HYENA_STEP_MODEL, norm);
  const model = new HyenaDNA(hyenaBenchModelConfig(norm, c));
  checkLabParams(HYENA_STEP_MODEL, norm, model.parameterCount(), hyenaBenchParamCount(norm, c), () => model.dispose());
  const { x, y } = hyenaBenchTokens(c);
  const xt = tf.tensor2d(x, [c.batch, c.seqLen], "int32");
  const yt = tf.oneHot(tf.tensor1d(y, "int32"), DNA_VOCAB_SIZE);
  const optimizer = new AdamW(model.params, { ...ADAMW_DEFAULTS, weightDecay: c.weightDecay });
  return labBenchStep(model, () => tokenLoss(yt, model.forward(xt)) as tf.Scalar, optimizer, [xt, yt]);
}

export const HYENA_STEP_MODEL: BenchStepModel = {
  name: "hyena",
  label: "HyenaDNA",
  norms: ["layernorm", "dyt"],
  saveName: "hyena-step.json",
  sources: { lab: "lib/models/hyena.ts", torch: "HyenaDNA in bench/torch_bench.py", count: "hyenaBenchParamCount in lib/bench/hyena-step.ts" },
  paramCount: (norm) => hyenaBenchParamCount(norm),
  step: (norm) => hyenaBenchStep(norm),
  torchArgs(norm) {
    const c = HYENA_BENCH_CONFIG;
    const m = hyenaBenchModelConfig(norm, c);
    const o = resolveNormOptions(m.norm, m.normOptions);
    const args = ["--model", "hyena", "--batch", String(c.batch), "--seq-len", String(c.seqLen), "--vocab", String(m.vocabSize), "--dim", String(m.dim), "--depth", String(m.depth)];
    args.push("--mlp-ratio", String(m.mlpRatio), "--max-seq-len", String(m.maxSeqLen), "--filter-order", String(m.filterOrder), "--filter-emb-dim", String(m.filterEmbDim));
    args.push("--filter-sin-freq", String(m.filterSinFreq), "--short-filter", String(m.shortFilter), "--decay", [m.decayFast, m.decaySlow, m.decayTarget].join(","));
    args.push("--init-std", String(m.initStd), "--weight-decay", String(c.weightDecay));
    // The norm as the lab resolved it: LayerNorm's eps, DyT's alpha0.
    if (o.eps !== undefined) args.push("--eps", String(o.eps));
    if (o.alpha0 !== undefined) args.push("--alpha0", String(o.alpha0));
    return args;
  },
  facts() {
    const c = HYENA_BENCH_CONFIG;
    const m = hyenaBenchModelConfig("layernorm", c);
    const tokensPerStep = c.batch * c.seqLen;
    return {
      line: `HyenaDNA, batch ${c.batch} x ${c.seqLen} bases (${tokensPerStep} tokens/step), width ${m.dim}, depth ${m.depth}, order-2 Hyena (filter MLP ${m.filterOrder}, ${m.shortFilter}-tap short conv, FFT long conv), MLP x${m.mlpRatio}, vocab ${m.vocabSize}`,
      flopsPerStep: 3 * hyenaForwardMatmulFlops(c),
      work: "matmul (FFT conv not counted)",
      tokensPerStep,
      config: c,
    };
  },
};
