import * as tf from "@tensorflow/tfjs";
import { NORM_DEFAULTS, assertNormKind, makeNorm } from "../norms/factory";
import type { Norm, NormKind, NormOptions } from "../norms/types";
import { gelu } from "../ops/activations";
import { conv1d, conv1dOutLength, groupedConv1dSame, straightThroughOneHot, weightNorm } from "../ops/conv1d";
import { bmm } from "../ops/matmul";
import { ParamStore, countParams, disposeParams, type Param } from "../ops/param";
import { Rng } from "../util/rng";
import { Linear } from "./linear";
import { TransformerBlock, applyNorm, type ForwardOptions } from "./transformer";

/**
 * A small wav2vec 2.0 (Baevski et al. 2020; fairseq `wav2vec2.py`), every
 * norm from the one factory (LayerNorm by default; "dyt" is the paper's arm).
 *
 *   wave [B, L] -> feature encoder: 7 strided 1-D convs (no bias), each
 *       followed by a norm over channels and GELU. This is fairseq's
 *       "layer_norm" extractor mode (wav2vec 2.0 Large), chosen because every
 *       one of its norms is a per-token norm the factory makes; the Base
 *       model's "default" mode has one GroupNorm (per channel over time) in
 *       the first layer only, which the factory has no kind for. The encoder's
 *       norms use `convNorm` (default: the same kind as `norm`).
 *   -> features f [B, T, C] -> norm (fairseq's layer_norm on the features)
 *   -> post_extract_proj (Linear C -> dim); masked time steps replaced by a
 *       learned mask embedding
 *   -> x + GELU(pos_conv(x)): grouped conv, kernel posConvKernel, weight
 *       normalisation over the kernel axis (fairseq's weight_norm(dim=2))
 *   -> `depth` pre-norm transformer blocks (lib/models/transformer.ts,
 *       layer_norm_first as in Large) -> a final norm -> context c [B, T, dim]
 *   -> final_proj (dim -> finalDim) at the masked steps.
 *   Targets: the Gumbel-softmax product quantizer on the unmasked normed
 *   features: weight_proj (C -> G V), per group a hard Gumbel-softmax (tau)
 *   with straight-through gradients picks one of V codewords (dim
 *   finalDim / G); groups concatenated, then project_q (finalDim -> finalDim).
 *   Evaluation (no draws given) picks argmax codewords without noise.
 *   Loss: for each masked step, cosine similarities of c_t with its quantized
 *   target q_t and K distractors q_j (other masked steps of the same
 *   utterance), divided by logitTemp (0.1), cross-entropy with the true
 *   target first (distractors equal to the target get -1e9, fairseq's -inf);
 *   plus diversityWeight x (G V - perplexity) / (G V), the perplexity of the
 *   batch-averaged softmax over codewords; plus featurePenaltyWeight x
 *   mean(f^2) (0 by default, as Large: its features are normed).
 *
 * Masking (drawWav2VecBatch): per utterance, max(minMasks, floor(maskProb T +
 * U)) span starts chosen without replacement from [0, T - span], spans of
 * `span = min(maskLength, max(1, floor(T / 4)))` steps (the paper's p = 0.065,
 * M = 10 masks ~49 % of steps; the cap keeps several spans in short inputs:
 * a 1 s window has T = 49 and keeps M = 10); every utterance of a batch then
 * keeps the same number of masked steps (fairseq's require_same_masks), drawn
 * at random from its own. Distractors: K indices uniform over the utterance's
 * other masked steps. All draws (masks, distractors, Gumbel noise) come from
 * a seeded Rng on the host, so a batch is reproduced exactly.
 * Gathers are one-hot matmuls (tf.gather's gradient is missing on wasm).
 */
export interface Wav2VecConfig {
  /** Feature encoder: [channels, kernel, stride] per conv layer. */
  convLayers: readonly (readonly [number, number, number])[];
  /** Transformer width, depth, heads. */
  dim: number;
  depth: number;
  heads: number;
  mlpRatio: number;
  /** Positional conv: kernel and groups (wav2vec 2.0: 128, 16). */
  posConvKernel: number;
  posConvGroups: number;
  /** Quantizer: G groups x V codewords; codewords of finalDim / G. */
  quantGroups: number;
  quantEntries: number;
  /** Dimension of the space where c and q are compared (wav2vec 2.0 Base: 256). */
  finalDim: number;
  /** Distractors per masked step (wav2vec 2.0: 100). */
  numNegatives: number;
  /** Probability that a step starts a masked span, and the span length (0.065, 10). */
  maskProb: number;
  maskLength: number;
  minMasks: number;
  /** Gumbel-softmax temperature (wav2vec 2.0 anneals 2 -> 0.5 by 0.999995 per update; at our step counts it stays ~2). */
  gumbelTemp: number;
  /** Cosine-similarity temperature kappa (0.1). */
  logitTemp: number;
  diversityWeight: number;
  featurePenaltyWeight: number;
  norm: NormKind;
  normOptions: NormOptions;
  /**
   * Norm of the feature encoder's conv layers (default: `norm`). Measured at
   * init on 1 s windows (default config): with LN there the features have rms
   * 0.63; with DyT (alpha0 0.5) they shrink through the 7 unnormalised conv +
   * GELU layers to rms 4e-4 (context rms 0.06), so the quantizer's logits are
   * ~0 and its perplexity starts at the maximum. Whether the DyT arm keeps a
   * real norm in the conv stack (convNorm "layernorm") is a protocol choice.
   */
  convNorm?: NormKind;
  /**
   * Norm of the encoder's features (fairseq's `layer_norm`), which feed both
   * the projection into the transformer and the quantizer (default: `norm`).
   * A separate kind lets a probe keep LayerNorm before the quantizer while
   * the transformer's norms change (wav2vec-ln-dyt's feature-norm probe).
   */
  featureNorm?: NormKind;
  initStd: number;
  seed: number;
}

/** Scaled-down defaults: 7 conv layers with wav2vec 2.0's kernels and strides (320x down, 20 ms steps), 32 channels; 1 s -> 49 steps. */
export const WAV2VEC_DEFAULTS: Wav2VecConfig = {
  convLayers: [
    [32, 10, 5],
    [32, 3, 2],
    [32, 3, 2],
    [32, 3, 2],
    [32, 3, 2],
    [32, 2, 2],
    [32, 2, 2],
  ],
  dim: 64,
  depth: 2,
  heads: 4,
  mlpRatio: 4,
  posConvKernel: 16,
  posConvGroups: 4,
  quantGroups: 2,
  quantEntries: 32,
  finalDim: 32,
  numNegatives: 10,
  maskProb: 0.065,
  maskLength: 10,
  minMasks: 2,
  gumbelTemp: 2,
  logitTemp: 0.1,
  diversityWeight: 0.1,
  featurePenaltyWeight: 0,
  norm: "layernorm",
  normOptions: {},
  initStd: 0.02,
  seed: 0,
};

export function resolveWav2VecConfig(partial: Partial<Wav2VecConfig> = {}): Wav2VecConfig {
  const c: Wav2VecConfig = { ...WAV2VEC_DEFAULTS, ...partial, normOptions: { ...WAV2VEC_DEFAULTS.normOptions, ...partial.normOptions } };
  assertNormKind(c.norm);
  if (c.convNorm !== undefined) assertNormKind(c.convNorm);
  if (c.featureNorm !== undefined) assertNormKind(c.featureNorm);
  for (const k of [c.norm, c.convNorm, c.featureNorm])
    if (k === "batchnorm") throw new Error(`wav2vec config: norm "batchnorm" is a ResNet slot, not a sequence-model norm; use layernorm, rmsnorm, dyt or identity`);
  for (const k of ["dim", "depth", "heads", "posConvKernel", "posConvGroups", "quantGroups", "quantEntries", "finalDim", "numNegatives", "maskLength"] as const)
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new Error(`wav2vec config: ${k} must be a positive integer, got ${c[k]}`);
  if (!Number.isInteger(c.minMasks) || c.minMasks < 0) throw new Error(`wav2vec config: minMasks must be a non-negative integer, got ${c.minMasks}`);
  if (c.convLayers.length === 0 || c.convLayers.some((l) => l.length !== 3 || l.some((v) => !Number.isInteger(v) || v <= 0)))
    throw new Error(`wav2vec config: convLayers must be a non-empty list of [channels, kernel, stride] positive integers`);
  if (c.dim % c.heads !== 0) throw new Error(`wav2vec config: dim ${c.dim} is not divisible by heads ${c.heads}`);
  if (c.dim % c.posConvGroups !== 0) throw new Error(`wav2vec config: dim ${c.dim} is not divisible by posConvGroups ${c.posConvGroups}`);
  if (c.finalDim % c.quantGroups !== 0) throw new Error(`wav2vec config: finalDim ${c.finalDim} is not divisible by quantGroups ${c.quantGroups}`);
  if (!(c.maskProb > 0 && c.maskProb < 1)) throw new Error(`wav2vec config: maskProb must lie in (0, 1), got ${c.maskProb}`);
  for (const k of ["gumbelTemp", "logitTemp", "initStd"] as const) if (!(c[k] > 0)) throw new Error(`wav2vec config: ${k} must be > 0, got ${c[k]}`);
  for (const k of ["diversityWeight", "featurePenaltyWeight"] as const) if (!(c[k] >= 0)) throw new Error(`wav2vec config: ${k} must be >= 0, got ${c[k]}`);
  if (!(c.mlpRatio > 0)) throw new Error(`wav2vec config: mlpRatio must be > 0, got ${c.mlpRatio}`);
  if (c.norm === "dyt") c.normOptions = { ...c.normOptions, alpha0: c.normOptions.alpha0 ?? NORM_DEFAULTS.alpha0 };
  return c;
}

/** Feature-encoder steps for L samples (throws if L is too short). */
export function wav2vecFrames(c: Pick<Wav2VecConfig, "convLayers">, L: number): number {
  let T = L;
  for (const [, k, s] of c.convLayers) {
    T = conv1dOutLength(T, k, s);
    if (T < 1) throw new Error(`wav2vec: ${L} samples are too short for the feature encoder (a conv layer with kernel ${k} gets fewer inputs); use longer windows`);
  }
  return T;
}

/** Host-side random draws of one batch: masks, distractors, Gumbel noise. */
export interface Wav2VecDraws {
  B: number;
  T: number;
  /** Masked steps per utterance (the same for all). */
  M: number;
  /** [B, T] 1 = masked. */
  mask: Float32Array;
  /** [B, M] the masked steps of each utterance, ascending. */
  masked: Int32Array;
  /** [B, M, K] distractor indices into the utterance's M masked steps, never the step itself. */
  negatives: Int32Array;
  /** [B, M, G, V] standard Gumbel noise for the masked steps; absent = no noise (evaluation). */
  gumbel?: Float32Array;
}

/** Span masking, distractor sampling and Gumbel noise for a batch of B utterances of T steps (see the file comment). */
export function drawWav2VecBatch(c: Wav2VecConfig, B: number, T: number, rng: Rng, opts: { gumbel?: boolean } = {}): Wav2VecDraws {
  const span = Math.min(c.maskLength, Math.max(1, Math.floor(T / 4)));
  const sets: number[][] = [];
  for (let b = 0; b < B; b++) {
    const starts = T - span + 1; // valid starts 0 .. T - span
    let num = Math.max(c.minMasks, Math.floor(c.maskProb * T + rng.next()));
    num = Math.min(num, starts);
    // num distinct starts (partial Fisher-Yates).
    const pool = Array.from({ length: starts }, (_, i) => i);
    for (let i = 0; i < num; i++) {
      const j = i + rng.int(starts - i);
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    const on = new Uint8Array(T);
    for (let i = 0; i < num; i++) for (let o = 0; o < span; o++) on[pool[i]! + o] = 1;
    sets.push([...on.keys()].filter((t) => on[t]));
  }
  const M = Math.min(...sets.map((s) => s.length));
  if (M < 2) throw new Error(`wav2vec: only ${M} masked step(s) in an utterance of ${T} steps; distractors need >= 2 (use longer windows or raise minMasks)`);
  const mask = new Float32Array(B * T);
  const masked = new Int32Array(B * M);
  for (let b = 0; b < B; b++) {
    let s = sets[b]!;
    if (s.length > M) {
      // keep M of them at random (require_same_masks)
      const p = s.slice();
      for (let i = 0; i < M; i++) {
        const j = i + rng.int(p.length - i);
        [p[i], p[j]] = [p[j]!, p[i]!];
      }
      s = p.slice(0, M).sort((x, y) => x - y);
    }
    s.forEach((t, i) => {
      masked[b * M + i] = t;
      mask[b * T + t] = 1;
    });
  }
  const K = c.numNegatives;
  const negatives = new Int32Array(B * M * K);
  for (let i = 0; i < B * M; i++) {
    const self = i % M;
    for (let k = 0; k < K; k++) {
      const j = rng.int(M - 1);
      negatives[i * K + k] = j >= self ? j + 1 : j;
    }
  }
  let gumbel: Float32Array | undefined;
  if (opts.gumbel !== false) {
    gumbel = new Float32Array(B * M * c.quantGroups * c.quantEntries);
    for (let i = 0; i < gumbel.length; i++) {
      let u = 0;
      while (u === 0) u = rng.next();
      gumbel[i] = -Math.log(-Math.log(u));
    }
  }
  return { B, T, M, mask, masked, negatives, gumbel };
}

/** One-hot selection matrices [B, M, T] picking the masked steps (a differentiable gather). */
function selectMasked(d: Wav2VecDraws): tf.Tensor3D {
  const sel = new Float32Array(d.B * d.M * d.T);
  for (let b = 0; b < d.B; b++) for (let i = 0; i < d.M; i++) sel[(b * d.M + i) * d.T + d.masked[b * d.M + i]!] = 1;
  return tf.tensor3d(sel, [d.B, d.M, d.T]);
}

/**
 * Contrastive loss of wav2vec 2.0 over the masked steps: c, q [B, M, D] (context
 * and quantized target at each masked step), negatives [B, M, K] indices into M.
 * Returns the mean cross-entropy (true target = class 0) and the accuracy
 * (share of steps whose true target has the highest similarity, ties lost),
 * and the share of distractors equal to their target (left out of the
 * softmax; near 1 means the codebook has collapsed and the loss means little).
 * `acc` is fairseq's: identical distractors are left out, so a collapsed
 * codebook scores 1. `strictAcc` keeps them in: an identical distractor ties
 * with the target and a tie is lost, so a collapsed codebook scores 0; it is
 * the accuracy the protocol's "learned" rule reads (wav2vec-ln-dyt).
 * `strictLoss` is the cross-entropy with the same ties kept in the softmax
 * (nothing masked): a collapsed codebook scores ln(K + 1), chance, where
 * fairseq's `loss` falls to 0. It is measured, never trained on; the
 * wav2vec-ln-dyt claim reads it (amendment of 2026-12-02, before any run).
 */
export function contrastiveLoss(c: tf.Tensor, q: tf.Tensor, negatives: Int32Array, K: number, logitTemp: number): { loss: tf.Scalar; strictLoss: tf.Scalar; acc: tf.Scalar; strictAcc: tf.Scalar; distractorsEqual: tf.Scalar } {
  const [B, M, D] = q.shape as [number, number, number];
  return tf.tidy(() => {
    // distractors: [B, M*K, M] one-hot rows x q [B, M, D]
    const sel = new Float32Array(B * M * K * M);
    for (let b = 0; b < B; b++) for (let r = 0; r < M * K; r++) sel[(b * M * K + r) * M + negatives[b * M * K + r]!] = 1;
    const negs = bmm(tf.tensor3d(sel, [B, M * K, M]), q).reshape([B, M, K, D]);
    const targets = tf.concat([q.reshape([B, M, 1, D]), negs], 2); // [B, M, K+1, D]
    const c4 = c.reshape([B, M, 1, D]);
    const dot = tf.sum(tf.mul(c4, targets), -1);
    const nc = tf.sqrt(tf.sum(tf.square(c4), -1));
    const nt = tf.sqrt(tf.sum(tf.square(targets), -1));
    let logits = tf.div(tf.div(dot, tf.maximum(tf.mul(nc, nt), 1e-8)), logitTemp);
    const rawBest = tf.max(tf.slice(logits, [0, 0, 1], [B, M, K]), -1, true);
    // distractors identical to the target are not distractors (fairseq: -inf)
    // (a constant of the pass: read back and re-created off the tape, as comparisons have no gradient)
    const gap = tf.sum(tf.abs(tf.sub(negs, q.reshape([B, M, 1, D]))), -1).dataSync(); // [B, M, K]
    const sameHost = new Uint8Array(B * M * (K + 1));
    for (let r = 0; r < B * M; r++) for (let k = 0; k < K; k++) sameHost[r * (K + 1) + 1 + k] = gap[r * K + k]! < 1e-12 ? 1 : 0;
    const isNegSame = tf.tensor3d(sameHost, [B, M, K + 1], "bool");
    const distractorsEqual = tf.scalar(sameHost.reduce((a, v) => a + v, 0) / (B * M * K));
    const strictLoss = tf.neg(tf.mean(tf.slice(tf.logSoftmax(logits, -1), [0, 0, 0], [B, M, 1]))) as tf.Scalar;
    logits = tf.where(isNegSame, tf.fill([B, M, K + 1], -1e9), logits);
    const lsm = tf.logSoftmax(logits, -1);
    const loss = tf.neg(tf.mean(tf.slice(lsm, [0, 0, 0], [B, M, 1]))) as tf.Scalar;
    const pos = tf.slice(logits, [0, 0, 0], [B, M, 1]);
    const best = tf.max(tf.slice(logits, [0, 0, 1], [B, M, K]), -1, true);
    const acc = tf.mean(tf.cast(tf.greater(pos, best), "float32")) as tf.Scalar;
    // Identical vectors give bitwise-identical cosines, so an identical distractor is an exact tie here.
    const strictAcc = tf.mean(tf.cast(tf.greater(pos, rawBest), "float32")) as tf.Scalar;
    return { loss, strictLoss, acc, strictAcc, distractorsEqual };
  });
}

/** Gumbel-softmax product quantizer (fairseq GumbelVectorQuantizer, combine_groups off). */
export class GumbelQuantizer {
  readonly proj: Linear;
  /** Codewords [G, V, finalDim / G]. */
  readonly codebook: tf.Variable;
  constructor(
    store: ParamStore,
    readonly inDim: number,
    readonly groups: number,
    readonly entries: number,
    readonly outDim: number,
  ) {
    // fairseq: weight_proj ~ N(0, 1), bias 0; codevars ~ U(0, 1).
    const s = store.scope("quantizer");
    this.proj = new Linear(s, "weight_proj", inDim, groups * entries, { kind: "truncNormal", std: 1 });
    const n = groups * entries * (outDim / groups);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = s.rng.next();
    this.codebook = s.add("codevars", v, [groups, entries, outDim / groups], false);
  }

  /**
   * x [B, T, inDim] -> { q [B, T, outDim], perplexity (of the batch-averaged
   * softmax, summed over groups), onehot [B*T, G, V] hard choices }. With `gumbel`
   * noise ([B, T, G, V] flattened) the choice is a straight-through hard Gumbel-softmax
   * at temperature tau; without it, the argmax (evaluation).
   */
  forward(x: tf.Tensor, tau: number, gumbel?: Float32Array, opts?: ForwardOptions): { q: tf.Tensor; perplexity: tf.Scalar; onehot: tf.Tensor } {
    const [B, T] = x.shape as [number, number];
    const G = this.groups;
    const V = this.entries;
    return tf.tidy(() => {
      const logits = this.proj.apply(x, opts).reshape([B * T, G, V]);
      const avg = tf.mean(tf.softmax(logits, -1), 0); // [G, V]
      const perplexity = tf.sum(tf.exp(tf.neg(tf.sum(tf.mul(avg, tf.log(tf.add(avg, 1e-7))), -1)))) as tf.Scalar;
      const onehot = gumbel ? straightThroughOneHot(tf.softmax(tf.div(tf.add(logits, tf.tensor3d(gumbel, [B * T, G, V])), tau), -1)) : tf.oneHot(tf.argMax(logits, -1), V).toFloat();
      const per = bmm(tf.transpose(onehot, [1, 0, 2]), this.codebook); // [G, B*T, d]
      const q = tf.transpose(per, [1, 0, 2]).reshape([B, T, this.outDim]);
      return { q, perplexity, onehot };
    });
  }
}

/** What a pretraining pass returns (scalars). */
export interface Wav2VecLosses {
  /** contrastive + diversityWeight * diversity + featurePenaltyWeight * featurePenalty */
  loss: tf.Scalar;
  contrastive: tf.Scalar;
  /** The contrastive loss with identical distractors kept in the softmax as ties (see contrastiveLoss; not trained on). */
  strictContrastive: tf.Scalar;
  diversity: tf.Scalar;
  featurePenalty: tf.Scalar;
  /** Share of masked steps whose true target scores highest (fairseq's: identical distractors left out). */
  accuracy: tf.Scalar;
  /** The same with identical distractors kept in as ties, and ties lost (a collapsed codebook scores 0). */
  strictAccuracy: tf.Scalar;
  /** Perplexity of the batch-averaged codeword distribution (max G V). */
  perplexity: tf.Scalar;
  /** Share of distractors identical to their target (left out; see contrastiveLoss). */
  distractorsEqual: tf.Scalar;
}

export class Wav2Vec2 {
  readonly config: Wav2VecConfig;
  readonly params: Param[];
  readonly convW: tf.Variable[] = [];
  readonly convNorms: Norm[] = [];
  readonly featNorm: Norm;
  readonly postProj: Linear;
  readonly maskEmb: tf.Variable;
  readonly posV: tf.Variable;
  readonly posG: tf.Variable;
  readonly posB: tf.Variable;
  readonly blocks: TransformerBlock[] = [];
  readonly encNorm: Norm;
  readonly finalProj: Linear;
  readonly quantizer: GumbelQuantizer;
  readonly projectQ: Linear;

  constructor(config: Partial<Wav2VecConfig> = {}) {
    const c = resolveWav2VecConfig(config);
    this.config = c;
    const store = new ParamStore(new Rng(c.seed));
    const convNorm = c.convNorm ?? c.norm;
    let cin = 1;
    c.convLayers.forEach(([ch, k], i) => {
      // kaiming_normal_ (fan_in, ReLU gain), as fairseq's ConvFeatureExtractionModel
      this.convW.push(store.truncNormal(`feature_extractor.${i}.w`, [k, cin, ch], Math.sqrt(2 / (k * cin))));
      this.convNorms.push(makeNorm(convNorm, ch, c.normOptions, store, `feature_extractor.${i}.norm`));
      cin = ch;
    });
    const C = cin;
    const pt = (fanIn: number) => ({ kind: "uniform" as const, bound: 1 / Math.sqrt(fanIn), biasBound: 1 / Math.sqrt(fanIn) }); // PyTorch Linear default
    this.featNorm = makeNorm(c.featureNorm ?? c.norm, C, c.normOptions, store, "layer_norm");
    this.postProj = new Linear(store, "post_extract_proj", C, c.dim, pt(C));
    const me = new Float32Array(c.dim);
    for (let i = 0; i < c.dim; i++) me[i] = store.rng.next(); // uniform_(0, 1)
    this.maskEmb = store.add("mask_emb", me, [c.dim], false);
    const G = c.posConvGroups;
    const cg = c.dim / G;
    // fairseq: normal(0, sqrt(4 / (K * C))), bias 0, weight_norm(dim=2) with g = ||v|| per tap (so w = v at init)
    this.posV = store.truncNormal("pos_conv.v", [G, c.posConvKernel, cg, cg], Math.sqrt(4 / (c.posConvKernel * c.dim)));
    const g = tf.tidy(() => tf.sqrt(tf.sum(tf.square(this.posV), [0, 2, 3])).dataSync() as Float32Array);
    this.posG = store.add("pos_conv.g", Float32Array.from(g), [c.posConvKernel], false);
    this.posB = store.constant("pos_conv.b", [c.dim], 0);
    for (let i = 0; i < c.depth; i++)
      this.blocks.push(new TransformerBlock(store.scope(`blocks.${i}`), { dim: c.dim, heads: c.heads, mlpRatio: c.mlpRatio, norm: c.norm, normOptions: c.normOptions, placement: "pre", initStd: c.initStd, depth: c.depth, index: i }));
    this.encNorm = makeNorm(c.norm, c.dim, c.normOptions, store, "encoder.layer_norm");
    this.finalProj = new Linear(store, "final_proj", c.dim, c.finalDim, pt(c.dim));
    this.quantizer = new GumbelQuantizer(store, C, c.quantGroups, c.quantEntries, c.finalDim);
    this.projectQ = new Linear(store, "project_q", c.finalDim, c.finalDim, pt(c.finalDim));
    this.params = store.params;
  }

  /** Every norm layer, in forward order. */
  norms(): Norm[] {
    return [...this.convNorms, this.featNorm, ...this.blocks.flatMap((b) => [b.n1, b.n2]), this.encNorm];
  }

  parameterCount(): number {
    return countParams(this.params);
  }

  /** Steps the feature encoder makes of L samples. */
  frames(L: number): number {
    return wav2vecFrames(this.config, L);
  }

  /** Feature encoder: wave [B, L] -> features [B, T, C] (before the feature norm). */
  featureEncoder(wave: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    const [B, L] = wave.shape as [number, number];
    this.frames(L);
    return tf.tidy(() => {
      let x: tf.Tensor = wave.reshape([B, L, 1]);
      this.config.convLayers.forEach(([, , s], i) => {
        x = gelu(applyNorm(this.convNorms[i]!, conv1d(x, this.convW[i]!, s), opts));
      });
      return x;
    });
  }

  /** Positional conv: x + GELU(grouped conv(x)). */
  positional(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.add(x, gelu(groupedConv1dSame(x, weightNorm(this.posV, this.posG, 1), this.posB))));
  }

  /** Context network on projected features x [B, T, dim] (masked or not) -> [B, T, dim]. */
  context(x: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    return tf.tidy(() => {
      let h = this.positional(x);
      for (const [i, b] of this.blocks.entries()) {
        h = b.forward(h, opts);
        opts?.onBlock?.(i, h);
      }
      return applyNorm(this.encNorm, h, opts);
    });
  }

  /** Inference: wave [B, L] -> context [B, T, dim], nothing masked (the probe's features). */
  forward(wave: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    if (wave.rank !== 2) throw new Error(`Wav2Vec2.forward: expected a wave [B, L], got shape [${wave.shape.join(",")}]`);
    return tf.tidy(() => {
      const f = applyNorm(this.featNorm, this.featureEncoder(wave, opts), opts);
      return this.context(this.postProj.apply(f, opts), opts);
    });
  }

  /**
   * Self-supervised pretraining pass on wave [B, L] with the batch's draws
   * (drawWav2VecBatch; without draws.gumbel the quantizer takes the argmax:
   * evaluation). Returns scalars; see the file comment.
   */
  pretrain(wave: tf.Tensor, d: Wav2VecDraws, opts?: ForwardOptions): Wav2VecLosses {
    const c = this.config;
    const [B, L] = wave.shape as [number, number];
    const T = this.frames(L);
    if (d.B !== B || d.T !== T) throw new Error(`Wav2Vec2.pretrain: draws are for [${d.B}, ${d.T}] but the batch gives [${B}, ${T}] (B utterances x T steps); draw them with drawWav2VecBatch(config, ${B}, ${T}, rng)`);
    return tf.tidy(() => {
      const feats = this.featureEncoder(wave, opts);
      const featurePenalty = tf.mean(tf.square(feats)) as tf.Scalar;
      const f = applyNorm(this.featNorm, feats, opts);
      const m = tf.tensor3d(d.mask, [B, T, 1]);
      const x = this.postProj.apply(f, opts);
      const xm = tf.add(tf.mul(x, tf.sub(1, m)), tf.mul(m, this.maskEmb));
      const ctx = this.context(xm, opts);
      const sel = selectMasked(d);
      const cm = this.finalProj.apply(bmm(sel, ctx), opts); // [B, M, finalDim]
      const fm = bmm(sel, f); // quantizer input at the masked steps only
      // As fairseq, only the masked steps are quantized (and enter the perplexity).
      const qz = this.quantizer.forward(fm, c.gumbelTemp, d.gumbel, opts);
      const q = this.projectQ.apply(qz.q, opts);
      const { loss: contrastive, strictLoss: strictContrastive, acc, strictAcc, distractorsEqual } = contrastiveLoss(cm, q, d.negatives, c.numNegatives, c.logitTemp);
      const GV = c.quantGroups * c.quantEntries;
      const diversity = tf.div(tf.sub(GV, qz.perplexity), GV) as tf.Scalar;
      const loss = tf.addN([contrastive, tf.mul(diversity, c.diversityWeight), tf.mul(featurePenalty, c.featurePenaltyWeight)]) as tf.Scalar;
      return { loss, contrastive, strictContrastive, diversity, featurePenalty, accuracy: acc, strictAccuracy: strictAcc, perplexity: qz.perplexity, distractorsEqual };
    });
  }

  dispose(): void {
    disposeParams(this.params);
  }
}
