import * as tf from "@tensorflow/tfjs";
import { DNA_COMPLEMENT, DNA_VOCAB_SIZE } from "../data/dna";
import { NORM_DEFAULTS, assertNormKind, makeNorm } from "../norms/factory";
import type { Norm, NormKind, NormOptions } from "../norms/types";
import { gelu } from "../ops/activations";
import { fftConv } from "../ops/fft-conv";
import { nativeDepthwiseUsable } from "../engine/native";
import { ParamStore, countParams, disposeParams, type Param } from "../ops/param";
import { Rng } from "../util/rng";
import { embedLookup } from "./embedding";
import { Linear } from "./linear";
import { applyNorm, type ForwardOptions } from "./transformer";

/**
 * HyenaDNA-style models (Nguyen et al. 2023; Poli et al. 2023, the Hyena
 * operator as in HazyResearch/safari `hyena.py`), with every norm from the
 * one factory (LayerNorm by default; "dyt" is the paper's arm).
 *
 * HyenaDNA (`new HyenaDNA(cfg)`): nucleotide embedding, `depth` pre-norm
 * blocks  h = x + Hyena(N1 x);  y = h + MLP(N2 h)  (GELU MLP, mlpRatio x),
 * a final norm and a head. The Hyena operator of order 2:
 *   [x0, x1, v] = split(shortConv(inProj(u)))   depthwise causal conv, k taps
 *   v = v * x1;  v = fftConv(v, h) + D * v;  y = outProj(v * x0)
 * with the long filter h [L, dim] implicit: an MLP (Linear-Sin-Linear-Sin-
 * Linear, learnable Sin frequencies) over positional features z(t) = [t,
 * cos(f_k w_t), -sin(f_k w_t)] (Hyena's PositionalEmbedding over maxSeqLen),
 * times an exponential decay window exp(-t |delta_c|), deltas spread per
 * channel between ln(target)/slow and ln(target)/fast (ExponentialModulation).
 * fftConv (lib/ops/fft-conv.ts) is causal, so the model is causal.
 *
 * Caduceus-style (`new Caduceus(cfg)` = bidirectional + rcEquivariant).
 * Caduceus (Schiff et al. 2024) builds on Mamba, which is out of reach here;
 * the stand-in keeps its two ideas on top of the same Hyena operator:
 *  - bidirectional (BiMamba's weight-tied directions): every mixer is
 *    Hyena(x) + rev(Hyena(rev(x))) with one set of weights;
 *  - reverse-complement equivariance by parameter sharing (Caduceus-PS): the
 *    trunk g (embedding, blocks, final norm) runs on x and on RC(x) =
 *    complement(reverse(x)) with the same weights; with h_f = g(x) and
 *    h_r = rev(g(RC x)) the LM head gives logits[t, v] = W h_f[t] (v) +
 *    W h_r[t] (comp v), so  f(RC x) = RC(f(x))  exactly (reverse the
 *    positions, complement the vocabulary: A<->T, C<->G, N<->N). The
 *    classification head pools mean_t(h_f + h_r): RC-invariant.
 * Bidirectional models see the whole sequence: train them on classification
 * or masked tasks, not next-token prediction.
 * forward(tokens [B, T] int32) -> logits [B, T, vocab] (head "lm") or
 * [B, numClasses] (head "classify", mean pooling over positions).
 */
export interface HyenaConfig {
  /** Tokens: 5 = A C G T N (lib/data/dna.ts). */
  vocabSize: number;
  dim: number;
  depth: number;
  /** Longest sequence (the implicit filter's positional grid spans it). */
  maxSeqLen: number;
  /** Width of the implicit filter MLP (HyenaDNA: 64). */
  filterOrder: number;
  /** Positional features of the filter MLP: t plus (filterEmbDim - 1) / 2 cos/sin bands; odd, >= 3. */
  filterEmbDim: number;
  /** Initial frequency of the filter MLP's Sin activations. */
  filterSinFreq: number;
  /** Decay window: channel c decays to `decayTarget` after a fraction in [fast, slow] of maxSeqLen. */
  decayFast: number;
  decaySlow: number;
  decayTarget: number;
  /** Taps of the short depthwise causal conv. */
  shortFilter: number;
  mlpRatio: number;
  norm: NormKind;
  normOptions: NormOptions;
  /** Weight-tied forward + reversed Hyena mixers (not causal). */
  bidirectional: boolean;
  /** RC-equivariant parameter sharing (needs vocabSize 5 with head "lm"). */
  rcEquivariant: boolean;
  head: "lm" | "classify";
  /** Classes of the "classify" head. */
  numClasses: number;
  initStd: number;
  seed: number;
}

export const HYENA_DEFAULTS: HyenaConfig = {
  vocabSize: DNA_VOCAB_SIZE,
  dim: 64,
  depth: 2,
  maxSeqLen: 1024,
  filterOrder: 64,
  filterEmbDim: 5,
  filterSinFreq: 1,
  decayFast: 0.3,
  decaySlow: 1.5,
  decayTarget: 1e-2,
  shortFilter: 3,
  mlpRatio: 4,
  norm: "layernorm",
  normOptions: {},
  bidirectional: false,
  rcEquivariant: false,
  head: "lm",
  numClasses: 2,
  initStd: 0.02,
  seed: 0,
};

/** Fill defaults and reject impossible configurations with a message that says what to change. */
export function resolveHyenaConfig(partial: Partial<HyenaConfig> = {}): HyenaConfig {
  const c: HyenaConfig = { ...HYENA_DEFAULTS, ...partial, normOptions: { ...HYENA_DEFAULTS.normOptions, ...partial.normOptions } };
  assertNormKind(c.norm);
  if (c.norm === "batchnorm") throw new Error(`Hyena config: norm "batchnorm" is a ResNet slot, not a sequence-model norm; use layernorm, rmsnorm, dyt or identity`);
  for (const k of ["vocabSize", "dim", "depth", "maxSeqLen", "filterOrder", "filterEmbDim", "shortFilter", "numClasses"] as const)
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new Error(`Hyena config: ${k} must be a positive integer, got ${c[k]}`);
  if (c.filterEmbDim < 3 || c.filterEmbDim % 2 === 0) throw new Error(`Hyena config: filterEmbDim must be odd and >= 3 (t plus cos/sin pairs), got ${c.filterEmbDim}`);
  if (!(c.mlpRatio > 0) || Math.round(c.dim * c.mlpRatio) < 1) throw new Error(`Hyena config: mlpRatio must be > 0, got ${c.mlpRatio}`);
  if (!(c.decayFast > 0 && c.decaySlow >= c.decayFast)) throw new Error(`Hyena config: need 0 < decayFast <= decaySlow, got ${c.decayFast}, ${c.decaySlow}`);
  if (!(c.decayTarget > 0 && c.decayTarget < 1)) throw new Error(`Hyena config: decayTarget must lie in (0, 1), got ${c.decayTarget}`);
  if (!(c.initStd > 0)) throw new Error(`Hyena config: initStd must be > 0, got ${c.initStd}`);
  if (!Number.isFinite(c.filterSinFreq)) throw new Error(`Hyena config: filterSinFreq must be finite, got ${c.filterSinFreq}`);
  if (c.head !== "lm" && c.head !== "classify") throw new Error(`Hyena config: head must be "lm" or "classify", got "${c.head}"`);
  if (c.rcEquivariant && c.head === "lm" && c.vocabSize !== DNA_VOCAB_SIZE)
    throw new Error(`Hyena config: rcEquivariant with head "lm" complements the vocabulary, which needs the ${DNA_VOCAB_SIZE} nucleotide codes (vocabSize ${DNA_VOCAB_SIZE}), got ${c.vocabSize}; use head "classify" or vocabSize ${DNA_VOCAB_SIZE}`);
  if (c.norm === "dyt") c.normOptions = { ...c.normOptions, alpha0: c.normOptions.alpha0 ?? NORM_DEFAULTS.alpha0 };
  return c;
}

/** Hyena's positional features over a grid of maxL positions: [maxL, embDim] row-major. */
function positionalFeatures(maxL: number, embDim: number): Float32Array {
  const bands = (embDim - 1) / 2;
  const z = new Float32Array(maxL * embDim);
  for (let p = 0; p < maxL; p++) {
    const t = maxL > 1 ? p / (maxL - 1) : 0;
    const w = (2 * Math.PI * p) / maxL;
    z[p * embDim] = t;
    for (let k = 0; k < bands; k++) {
      const f = bands > 1 ? 1e-4 + ((bands - 1 - 1e-4) * k) / (bands - 1) : 1e-4;
      z[p * embDim + 1 + k] = Math.cos(f * w);
      z[p * embDim + 1 + bands + k] = -Math.sin(f * w);
    }
  }
  return z;
}

/** Exponential decay window [maxL, dim]: exp(-t |delta_c|), deltas linear from ln(target)/slow to ln(target)/fast. */
function decayWindow(maxL: number, dim: number, c: HyenaConfig): Float32Array {
  const lo = Math.abs(Math.log(c.decayTarget) / c.decaySlow);
  const hi = Math.abs(Math.log(c.decayTarget) / c.decayFast);
  const out = new Float32Array(maxL * dim);
  for (let p = 0; p < maxL; p++) {
    const t = maxL > 1 ? p / (maxL - 1) : 0;
    for (let ch = 0; ch < dim; ch++) out[p * dim + ch] = Math.exp(-t * (dim > 1 ? lo + ((hi - lo) * ch) / (dim - 1) : lo));
  }
  return out;
}

/**
 * Depthwise causal conv over time: x [B, L, C], w [K, C], b [C]; y[t] = b + sum_k w[k] x[t - K + 1 + k].
 * On the native engine: its depthwise conv2d kernels (forward and both
 * gradients) over [B, 1, L, C] with K - 1 zeros on the left; elsewhere K
 * shifted slices (autodiff on every backend).
 */
export function causalDepthwiseConv1d(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const [B, L, C] = x.shape as [number, number, number];
  const K = w.shape[0]!;
  if (nativeDepthwiseUsable(x, w))
    return tf.tidy(() => {
      const y = tf.depthwiseConv2d(x.reshape([B, 1, L, C]) as tf.Tensor4D, w.reshape([1, K, C, 1]) as tf.Tensor4D, 1, [[0, 0], [0, 0], [K - 1, 0], [0, 0]]).reshape([B, L, C]);
      return b ? tf.add(y, b) : y;
    });
  return tf.tidy(() => {
    const xp = tf.pad(x, [
      [0, 0],
      [K - 1, 0],
      [0, 0],
    ]);
    let y: tf.Tensor = b ?? tf.zeros([C]);
    for (let k = 0; k < K; k++) y = tf.add(y, tf.mul(tf.slice(xp, [0, k, 0], [B, L, C]), tf.slice(w, [k, 0], [1, C]).reshape([C])));
    return y;
  });
}

/** The Hyena operator (order 2) with its implicit long filter. */
export class HyenaOperator {
  readonly inProj: Linear;
  readonly outProj: Linear;
  readonly shortW: tf.Variable;
  readonly shortB: tf.Variable;
  readonly filt: [Linear, Linear, Linear];
  readonly sinFreq: [tf.Variable, tf.Variable];
  /** Per-channel skip D of the long conv. */
  readonly bias: tf.Variable;
  private readonly z: Float32Array;
  private readonly decay: Float32Array;

  constructor(
    store: ParamStore,
    readonly c: HyenaConfig,
  ) {
    const d = c.dim;
    const tn = { kind: "truncNormal" as const, std: c.initStd };
    this.inProj = new Linear(store, "in_proj", d, 3 * d, tn);
    const kb = 1 / Math.sqrt(c.shortFilter); // PyTorch Conv1d default, fan_in = k (depthwise)
    this.shortW = store.uniform("short_filter.w", [c.shortFilter, 3 * d], kb);
    this.shortB = store.uniform("short_filter.b", [3 * d], kb, false);
    const u = (fanIn: number) => ({ kind: "uniform" as const, bound: 1 / Math.sqrt(fanIn), biasBound: 1 / Math.sqrt(fanIn) });
    this.filt = [
      new Linear(store, "filter.fc1", c.filterEmbDim, c.filterOrder, u(c.filterEmbDim)),
      new Linear(store, "filter.fc2", c.filterOrder, c.filterOrder, u(c.filterOrder)),
      new Linear(store, "filter.fc3", c.filterOrder, d, { kind: "uniform", bound: 1 / Math.sqrt(c.filterOrder) }, "plain", false),
    ];
    this.sinFreq = [store.constant("filter.sin1", [c.filterOrder], c.filterSinFreq), store.constant("filter.sin2", [c.filterOrder], c.filterSinFreq)];
    this.bias = store.truncNormal("filter.bias", [d], 1, false);
    this.outProj = new Linear(store, "out_proj", d, d, tn);
    this.z = positionalFeatures(c.maxSeqLen, c.filterEmbDim);
    this.decay = decayWindow(c.maxSeqLen, d, c);
  }

  /** The long filter h [L, dim] (differentiable in the filter MLP). */
  filter(L: number, opts?: ForwardOptions): tf.Tensor {
    const c = this.c;
    return tf.tidy(() => {
      const z = tf.tensor2d(this.z.subarray(0, L * c.filterEmbDim), [L, c.filterEmbDim]);
      let h = tf.sin(tf.mul(this.filt[0].apply(z, opts), this.sinFreq[0]));
      h = tf.sin(tf.mul(this.filt[1].apply(h, opts), this.sinFreq[1]));
      h = this.filt[2].apply(h, opts);
      return tf.mul(h, tf.tensor2d(this.decay.subarray(0, L * c.dim), [L, c.dim]));
    });
  }

  forward(u: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    const L = u.shape[1]!;
    return tf.tidy(() => {
      const p = causalDepthwiseConv1d(this.inProj.apply(u, opts), this.shortW, this.shortB);
      const [x0, x1, v0] = tf.split(p, 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const v = tf.mul(v0, x1);
      const y = tf.add(fftConv(v, this.filter(L, opts)), tf.mul(v, this.bias));
      return this.outProj.apply(tf.mul(y, x0), opts);
    });
  }
}

/** One pre-norm block: h = x + Mixer(N1 x); y = h + MLP(N2 h); the mixer is Hyena, or its weight-tied bidirectional form. */
export class HyenaBlock {
  readonly n1: Norm;
  readonly n2: Norm;
  readonly mixer: HyenaOperator;
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(
    store: ParamStore,
    readonly c: HyenaConfig,
  ) {
    const tn = { kind: "truncNormal" as const, std: c.initStd };
    const hidden = Math.round(c.dim * c.mlpRatio);
    this.n1 = makeNorm(c.norm, c.dim, c.normOptions, store, "norm1");
    this.mixer = new HyenaOperator(store.scope("hyena"), c);
    this.n2 = makeNorm(c.norm, c.dim, c.normOptions, store, "norm2");
    this.fc1 = new Linear(store, "mlp.fc1", c.dim, hidden, tn);
    this.fc2 = new Linear(store, "mlp.fc2", hidden, c.dim, tn);
  }

  mix(x: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    if (!this.c.bidirectional) return this.mixer.forward(x, opts);
    return tf.tidy(() => tf.add(this.mixer.forward(x, opts), tf.reverse(this.mixer.forward(tf.reverse(x, 1), opts), 1)));
  }

  forward(x: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    return tf.tidy(() => {
      const h = tf.add(x, this.mix(applyNorm(this.n1, x, opts), opts));
      return tf.add(h, this.fc2.apply(gelu(this.fc1.apply(applyNorm(this.n2, h, opts), opts)), opts));
    });
  }
}

/** HyenaDNA-style decoder (or, with bidirectional / rcEquivariant, the Caduceus-style stand-in); see the file comment. */
export class HyenaDNA {
  readonly config: HyenaConfig;
  readonly params: Param[];
  readonly embed: tf.Variable;
  readonly blocks: HyenaBlock[] = [];
  readonly finalNorm: Norm;
  readonly head: Linear;

  constructor(config: Partial<HyenaConfig> = {}) {
    const c = resolveHyenaConfig(config);
    this.config = c;
    const store = new ParamStore(new Rng(c.seed));
    this.embed = store.truncNormal("embed", [c.vocabSize, c.dim], c.initStd, true);
    for (let i = 0; i < c.depth; i++) this.blocks.push(new HyenaBlock(store.scope(`blocks.${i}`), c));
    this.finalNorm = makeNorm(c.norm, c.dim, c.normOptions, store, "norm");
    this.head =
      c.head === "lm"
        ? new Linear(store, "head", c.dim, c.vocabSize, { kind: "truncNormal", std: c.initStd }, "plain", false)
        : new Linear(store, "head", c.dim, c.numClasses, { kind: "truncNormal", std: c.initStd });
    this.params = store.params;
  }

  /** Every norm layer, in forward order. */
  norms(): Norm[] {
    return [...this.blocks.flatMap((b) => [b.n1, b.n2]), this.finalNorm];
  }

  parameterCount(): number {
    return countParams(this.params);
  }

  /** Embedding, blocks, final norm: tokens [B, T] -> features [B, T, dim]. */
  trunk(ids: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    const [B, T] = ids.shape as [number, number];
    return tf.tidy(() => {
      let x: tf.Tensor = embedLookup(this.embed, ids.reshape([B * T])).reshape([B, T, this.config.dim]);
      for (const [i, b] of this.blocks.entries()) {
        x = b.forward(x, opts);
        opts?.onBlock?.(i, x);
      }
      return applyNorm(this.finalNorm, x, opts);
    });
  }

  forward(tokens: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    const c = this.config;
    if (tokens.rank !== 2) throw new Error(`HyenaDNA.forward: expected tokens [B, T], got shape [${tokens.shape.join(",")}]`);
    const [B, T] = tokens.shape as [number, number];
    if (T > c.maxSeqLen) throw new Error(`HyenaDNA.forward: sequence length ${T} exceeds maxSeqLen ${c.maxSeqLen}; raise maxSeqLen or shorten the windows`);
    return tf.tidy(() => {
      const ids = tokens.dtype === "int32" ? tokens : tf.cast(tokens, "int32");
      const hf = this.trunk(ids, opts);
      const hr = c.rcEquivariant ? tf.reverse(this.trunk(reverseComplementTokens(ids), opts), 1) : undefined;
      if (c.head === "classify") {
        const pooled = tf.mean(hr ? tf.add(hf, hr) : hf, 1);
        return this.head.apply(pooled, opts);
      }
      const logits = this.head.apply(hf, opts);
      if (!hr) return logits;
      // logits[.., v] += head(h_r)[.., comp v]: a permutation matrix (gather's gradient is missing on wasm).
      const V = c.vocabSize;
      const perm = tf.tensor2d(
        Array.from({ length: V * V }, (_, i) => (DNA_COMPLEMENT[i % V] === Math.floor(i / V) ? 1 : 0)),
        [V, V],
      );
      const lr = tf.matMul(this.head.apply(hr, opts).reshape([B * T, V]), perm).reshape([B, T, V]);
      return tf.add(logits, lr);
    });
  }

  dispose(): void {
    disposeParams(this.params);
  }
}

/** Caduceus-style stand-in: HyenaDNA with weight-tied bidirectional mixers and RC-equivariant parameter sharing. */
export class Caduceus extends HyenaDNA {
  constructor(config: Partial<HyenaConfig> = {}) {
    super({ bidirectional: true, rcEquivariant: true, ...config });
  }
}

/** RC of int32 tokens [B, T] (codes of lib/data/dna.ts): reverse the positions, complement each code. */
export function reverseComplementTokens(ids: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.gather(tf.tensor1d(DNA_COMPLEMENT as number[], "int32"), tf.reverse(ids, 1)));
}
