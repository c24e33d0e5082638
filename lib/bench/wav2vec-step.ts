/**
 * The wav2vec 2.0 training step of `npm run bench -- --model wav2vec`
 * (scripts/bench.ts): the lab's Wav2Vec2 (lib/models/wav2vec.ts) as
 * wav2vec-ln-dyt trains it at full scale (amendment 2: batch 16 of 1 s
 * windows), resolved through the experiment's own resolver
 * (resolveSpeechRun, so each norm gets its study arm's options: LayerNorm, or
 * DyT at alpha0 0.5 in every transformer norm slot, LayerNorm kept in the
 * conv encoder of both), the self-supervised objective of Wav2Vec2.pretrain
 * (contrastive loss over the masked steps + the codebook diversity term) on a
 * fixed batch, the lab's AdamW with the experiment's weight decay. The same
 * model in PyTorch is bench/torch_bench.py --model wav2vec; both sides print
 * their parameter count and the bench refuses to compare when they differ.
 */
import * as tf from "@tensorflow/tfjs";
import { SPEECH_SAMPLE_RATE } from "../data/speech";
import { arm } from "../experiments/protocol/arms";
import { resolveSpeechRun, type SpeechResolvedRun, type SpeechRunBase } from "../experiments/protocol/speech-task";
import { Wav2Vec2, drawWav2VecBatch, wav2vecFrames, type Wav2VecConfig, type Wav2VecDraws } from "../models/wav2vec";
import { resolveNormOptions } from "../norms/factory";
import type { NormKind } from "../norms/types";
import { conv1dOutLength } from "../ops/conv1d";
import { AdamW, ADAMW_DEFAULTS } from "../train/adamw";
import { Rng } from "../util/rng";
import { assertBenchNorm, benchUniform, checkLabParams, labBenchStep, type BenchStep, type BenchStepModel } from "./step-model";

export interface Wav2VecBenchConfig {
  batch: number;
  /** Samples per window (16,000: 1 s at 16 kHz, as the experiment's data). */
  windowSamples: number;
  /** The experiment's model settings over WAV2VEC_DEFAULTS (it sets only convNorm: LayerNorm in the conv encoder, both arms). */
  model: SpeechRunBase["model"];
  /** AdamW decay on the conv kernels and weight matrices, as wav2vec-ln-dyt trains. */
  weightDecay: number;
  /** Seed of the fixed batch's masks, distractors and Gumbel noise (drawWav2VecBatch). */
  drawSeed: number;
}

/** wav2vec-ln-dyt's full-scale model and batch (test/wav2vec-bench.test.ts keeps the two in step). */
export const WAV2VEC_BENCH_CONFIG: Wav2VecBenchConfig = {
  batch: 16,
  windowSamples: 16000,
  model: { convNorm: "layernorm" },
  weightDecay: 0.01,
  drawSeed: 0,
};

/** The bench's norms and the wav2vec-ln-dyt study arm that gives each its options (DyT: alpha0 0.5, the pre-registered arm). */
export const WAV2VEC_BENCH_ARMS: Partial<Record<NormKind, string>> = { layernorm: "layernorm", dyt: "dyt" };

/** The speech-pretrain base of the bench's config (data and probe settings: defaults, unused by a training step). */
export function wav2vecBenchBase(c: Wav2VecBenchConfig = WAV2VEC_BENCH_CONFIG): SpeechRunBase {
  return { task: "speech-pretrain", model: { ...c.model }, train: { batchSize: c.batch, weightDecay: c.weightDecay }, data: { windowSamples: c.windowSamples } };
}

/** The run the experiment trains for this norm (its arm, seed 0), through resolveSpeechRun. */
export function wav2vecBenchRun(norm: NormKind, c: Wav2VecBenchConfig = WAV2VEC_BENCH_CONFIG): SpeechResolvedRun {
  const armId = WAV2VEC_BENCH_ARMS[norm];
  if (!armId) throw new Error(`--model wav2vec: no arm for norm "${norm}"`);
  return resolveSpeechRun(wav2vecBenchBase(c), arm(armId), 0);
}

/** The model config the experiment trains for this norm. */
export function wav2vecBenchModelConfig(norm: NormKind, c: Wav2VecBenchConfig = WAV2VEC_BENCH_CONFIG): SpeechResolvedRun["model"] {
  return wav2vecBenchRun(norm, c).model;
}

/** The fixed batch's draws: masks, distractors (K per masked step), Gumbel noise; M masked steps per utterance. */
export function wav2vecBenchDraws(m: Wav2VecConfig, c: Wav2VecBenchConfig = WAV2VEC_BENCH_CONFIG): Wav2VecDraws {
  return drawWav2VecBatch(m, c.batch, wav2vecFrames(m, c.windowSamples), new Rng(c.drawSeed));
}

/** Parameters of one norm of `kind` over `dim` (gamma, beta as resolved; DyT adds alpha [1]). */
function normParams(kind: NormKind, dim: number, m: Wav2VecConfig): number {
  if (kind === "identity") return 0;
  const o = resolveNormOptions(kind, m.normOptions);
  return (o.gain ? dim : 0) + (o.bias ? dim : 0) + (kind === "dyt" ? 1 : 0);
}

/**
 * Parameters of the model both sides build, counted from its parts (what
 * bench/torch_bench.py's Wav2Vec2 holds): per conv layer a kernel k x cin x
 * ch (no bias) and its norm (the conv encoder's kind); the feature norm (C =
 * the last conv's channels); post_extract_proj C x dim + bias; mask_emb [dim];
 * the positional conv's v (G groups of K x dim/G x dim/G), g per tap [K] and
 * bias [dim]; per block two norms, q|k|v, output, MLP dim -> h -> dim (with
 * biases); the encoder's final norm; final_proj dim x finalDim + bias; the
 * quantizer's weight_proj C x G V + bias and codewords G x V x finalDim / G;
 * project_q finalDim x finalDim + bias. A norm is gamma and beta [d]; DyT
 * adds alpha [1] (so only the DyT slots: the conv encoder keeps LayerNorm).
 */
export function wav2vecBenchParamCount(norm: NormKind, c: Wav2VecBenchConfig = WAV2VEC_BENCH_CONFIG): number {
  const m = wav2vecBenchModelConfig(norm, c);
  const n = (kind: NormKind, d: number) => normParams(kind, d, m);
  let total = 0;
  let cin = 1;
  for (const [ch, k] of m.convLayers) {
    total += k * cin * ch + n(m.convNorm, ch);
    cin = ch;
  }
  const C = cin;
  const D = m.dim;
  const h = Math.round(m.mlpRatio * D);
  const cg = D / m.posConvGroups;
  total += n(m.featureNorm ?? m.norm, C) + C * D + D + D;
  total += m.posConvGroups * m.posConvKernel * cg * cg + m.posConvKernel + D;
  total += m.depth * (2 * n(m.norm, D) + D * 3 * D + 3 * D + D * D + D + D * h + h + h * D + D);
  const GV = m.quantGroups * m.quantEntries;
  total += n(m.norm, D) + D * m.finalDim + m.finalDim;
  total += C * GV + GV + GV * (m.finalDim / m.quantGroups);
  return total + m.finalDim * m.finalDim + m.finalDim;
}

/**
 * Convolution and matmul FLOPs of one forward pass on B windows of L samples
 * with M masked steps per window (2 per multiply-add; a training step counts
 * 3x): the 7 strided convs (k cin ch per output step), post_extract_proj and
 * the grouped positional conv over the B T steps, per block q|k|v, output and
 * MLP over the steps and both attention products (T x T, all heads); over the
 * B M masked steps final_proj, the quantizer's weight_proj and codeword
 * product (one-hot [G V] x codewords: V finalDim per step) and project_q.
 * Not counted: the gathers of masked steps and distractors (one-hot matmuls
 * in the lab, indexing in PyTorch) and the cosine similarities (B M (K+1)
 * finalDim multiply-adds, elementwise).
 */
export function wav2vecForwardFlops(m: Wav2VecConfig, B: number, L: number, M: number): number {
  let f = 0;
  let T = L;
  let cin = 1;
  for (const [ch, k, s] of m.convLayers) {
    T = conv1dOutLength(T, k, s);
    f += 2 * B * T * k * cin * ch;
    cin = ch;
  }
  const C = cin;
  const N = B * T;
  const D = m.dim;
  const h = Math.round(m.mlpRatio * D);
  f += 2 * N * C * D + 2 * N * m.posConvKernel * (D / m.posConvGroups) * D;
  f += m.depth * (2 * N * D * (3 * D + D + 2 * h) + 2 * 2 * B * T * T * D);
  const NM = B * M;
  return f + 2 * NM * (D * m.finalDim + C * m.quantGroups * m.quantEntries + m.quantEntries * m.finalDim + m.finalDim * m.finalDim);
}

/** The fixed batch of waves [B, L]: benchUniform mapped to [-1, 1] (audio's range). */
function benchWaves(c: Wav2VecBenchConfig): tf.Tensor2D {
  return tf.tensor2d(
    benchUniform(c.batch * c.windowSamples).map((u) => 2 * u - 1),
    [c.batch, c.windowSamples],
  );
}

/** The wav2vec step: model, fixed waves and draws, the pretraining loss (contrastive + diversity), AdamW (decay on kernels and matrices only). */
export function wav2vecBenchStep(norm: NormKind, c: Wav2VecBenchConfig = WAV2VEC_BENCH_CONFIG): BenchStep & { model: Wav2Vec2; draws: Wav2VecDraws } {
  assertBenchNorm(WAV2VEC_STEP_MODEL, norm);
  const m = wav2vecBenchModelConfig(norm, c);
  const model = new Wav2Vec2(m);
  checkLabParams(WAV2VEC_STEP_MODEL, norm, model.parameterCount(), wav2vecBenchParamCount(norm, c), () => model.dispose());
  // Drawn once, as the trainer's prepare() draws a batch's: every step trains on the same masks and noise.
  const draws = wav2vecBenchDraws(m, c);
  const wave = benchWaves(c);
  const optimizer = new AdamW(model.params, { ...ADAMW_DEFAULTS, weightDecay: c.weightDecay });
  return { ...labBenchStep(model, () => model.pretrain(wave, draws, { training: true }).loss, optimizer, [wave]), draws };
}

export const WAV2VEC_STEP_MODEL: BenchStepModel = {
  name: "wav2vec",
  label: "wav2vec 2.0",
  norms: ["layernorm", "dyt"],
  saveName: "wav2vec-step.json",
  sources: { lab: "lib/models/wav2vec.ts", torch: "Wav2Vec2 in bench/torch_bench.py", count: "wav2vecBenchParamCount in lib/bench/wav2vec-step.ts" },
  paramCount: (norm) => wav2vecBenchParamCount(norm),
  step: (norm) => wav2vecBenchStep(norm),
  torchArgs(norm) {
    const c = WAV2VEC_BENCH_CONFIG;
    const m = wav2vecBenchModelConfig(norm, c);
    const d = wav2vecBenchDraws(m, c);
    if (m.featureNorm !== undefined && m.featureNorm !== m.norm)
      throw new Error(`--model wav2vec: torch_bench.py's Wav2Vec2 puts --norm in the feature norm, the lab's config has featureNorm "${m.featureNorm}" with norm "${m.norm}"; add a --feature-norm to torch_bench.py`);
    const o = resolveNormOptions(m.norm, m.normOptions);
    const oc = resolveNormOptions(m.convNorm, m.normOptions);
    const args = ["--model", "wav2vec", "--batch", String(c.batch), "--samples", String(c.windowSamples), "--conv-layers", m.convLayers.map((l) => l.join(":")).join(",")];
    args.push("--dim", String(m.dim), "--depth", String(m.depth), "--heads", String(m.heads), "--mlp-ratio", String(m.mlpRatio), "--pos-conv-kernel", String(m.posConvKernel), "--pos-conv-groups", String(m.posConvGroups));
    args.push("--quant-groups", String(m.quantGroups), "--quant-entries", String(m.quantEntries), "--final-dim", String(m.finalDim), "--gumbel-temp", String(m.gumbelTemp), "--logit-temp", String(m.logitTemp));
    // The lab's draws fix how many steps are masked (M) and the distractors per step (K); PyTorch draws which ones itself.
    args.push("--masked", String(d.M), "--negatives", String(m.numNegatives), "--diversity-weight", String(m.diversityWeight), "--feature-penalty", String(m.featurePenaltyWeight));
    args.push("--conv-norm", m.convNorm, "--init-std", String(m.initStd), "--weight-decay", String(c.weightDecay));
    // The norms as the lab resolved them: LayerNorm's eps (conv encoder and, for the LayerNorm arm, the rest), DyT's alpha0.
    const eps = o.eps ?? oc.eps;
    if (eps !== undefined) args.push("--eps", String(eps));
    if (o.alpha0 !== undefined) args.push("--alpha0", String(o.alpha0));
    return args;
  },
  facts() {
    const c = WAV2VEC_BENCH_CONFIG;
    const m = wav2vecBenchModelConfig("layernorm", c);
    const d = wav2vecBenchDraws(m, c);
    const ch = [...new Set(m.convLayers.map((l) => l[0]))].join("/");
    return {
      line:
        `wav2vec 2.0, batch ${c.batch} x ${c.windowSamples / SPEECH_SAMPLE_RATE} s (${c.windowSamples} samples -> ${d.T} steps), ${m.convLayers.length} strided convs x ${ch} channels (${m.convNorm} in the conv encoder), ` +
        `width ${m.dim}, ${m.heads} heads, depth ${m.depth}, positional conv ${m.posConvKernel} taps / ${m.posConvGroups} groups, quantizer ${m.quantGroups} x ${m.quantEntries} -> ${m.finalDim}; ` +
        `contrastive loss over ${d.M} masked steps per window with K = ${m.numNegatives} distractors + diversity`,
      flopsPerStep: 3 * wav2vecForwardFlops(m, c.batch, c.windowSamples, d.M),
      work: "conv + matmul",
      config: { ...c, masked: d.M, steps: d.T },
    };
  },
};
