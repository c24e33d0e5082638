import * as tf from "@tensorflow/tfjs";
import { ParamStore, countParams, disposeParams, type Param } from "../ops/param";
import { Rng } from "../util/rng";
import { NORM_DEFAULTS, makeNorm, assertNormKind } from "../norms/factory";
import type { Norm, NormKind, NormOptions } from "../norms/types";
import { embedLookup } from "./embedding";
import { Linear } from "./linear";
import { FP8_HYBRID } from "../ops/fp8-matmul";
import { RESIDUAL_METHODS, assertResidualMethod, isNormFree, type MethodOptions, type ResidualMethod } from "./residual";
import { ROPE_THETA } from "./rope";
import { TransformerBlock, applyNorm, type ForwardOptions } from "./transformer";

export interface LlamaConfig {
  /** Tokens: 257 = the 256 bytes + the document separator of the byte tokenizer (lib/data/text.ts). */
  vocabSize: number;
  dim: number;
  depth: number;
  heads: number;
  /** SwiGLU hidden width; default LLaMA's rule 8d/3 rounded up to a multiple of 8. */
  ffnHidden: number;
  /** Longest sequence forward accepts (RoPE itself has no limit; this catches data/config mismatches). */
  maxSeqLen: number;
  /** Norm kind in every slot (default "rmsnorm"; "dyt" is the paper's arm). */
  norm: NormKind;
  /**
   * Options for every norm. Biases default to off (LLaMA has none; the
   * paper's DyT-LLaMA keeps gamma and drops beta); pass bias: true to add them.
   */
  normOptions: NormOptions;
  /**
   * DyT only: alpha0 of the norms before attention, before the FFN, and of
   * the final norm (the paper tunes attention vs the rest separately). Unset
   * ones take normOptions.alpha0, else the factory's 0.5.
   */
  alpha0Attn?: number;
  alpha0Ffn?: number;
  alpha0Final?: number;
  /** A learnable scalar, init sqrt(dim), multiplying the embedding output (paper's DyT-LLaMA; off by default for the ablation). */
  embedScale: boolean;
  ropeTheta: number;
  /**
   * Std of the truncated-normal init of the embedding and every linear.
   * Default: the paper's LLaMA init carried to this width (widthMatchedInitStd).
   */
  initStd: number;
  /** Seed of the parameter initialisation. */
  seed: number;
  /** Residual method (lib/models/residual.ts); the norm-free ones make every norm the identity. */
  method: ResidualMethod;
  methodOptions: MethodOptions;
  /**
   * "fp8": every block Linear multiplies in emulated FP8 (E4M3 forward, E5M2
   * backward, per-tensor scaling; lib/ops/fp8-matmul.ts), in training and at
   * evaluation; the embedding, head, norms and attention products stay fp32.
   * Unset = fp32 (kept out of the defaults, so older run configs are unchanged).
   */
  matmul?: "fp8";
}

/** LLaMA's FFN width rule: 2/3 of 4d, rounded up to a multiple of `multiple`. */
export function llamaFfnHidden(dim: number, multiple = 8): number {
  return multiple * Math.ceil((8 * dim) / 3 / multiple);
}

/**
 * The paper's LLaMA code (fms-fsdp) draws the embedding and every linear from
 * a truncated normal with std 0.02, at width 4096 for the 7B model: a fan-in
 * gain of 0.02·sqrt(4096) = 1.28. A model of width d gets the same gain,
 * std = 1.28 / sqrt(d) (0.16 at d = 64), so that the activations DyT's alpha0
 * sees, and the embedding scalar's sqrt(d) lifts to rms ~1.3, are the 7B's.
 * Std 0.02 at d = 64 would make them 8x smaller than the paper's: tanh is then
 * linear, the head's logits tiny, and DyT barely learns.
 */
export const PAPER_INIT = { std: 0.02, width: 4096 } as const;

export function widthMatchedInitStd(dim: number): number {
  return PAPER_INIT.std * Math.sqrt(PAPER_INIT.width / dim);
}

export const LLAMA_DEFAULTS: Omit<LlamaConfig, "ffnHidden" | "initStd"> = {
  vocabSize: 257,
  dim: 64,
  depth: 4,
  heads: 4,
  maxSeqLen: 256,
  norm: "rmsnorm",
  normOptions: {},
  embedScale: false,
  ropeTheta: ROPE_THETA,
  seed: 0,
  method: "norm",
  methodOptions: {},
};

/** DyT alpha0 of each LLaMA norm slot: before attention, before the FFN, the final norm. */
export interface LlamaAlpha0 {
  alpha0Attn: number;
  alpha0Ffn: number;
  alpha0Final: number;
}

/**
 * The paper's alpha0 for DyT-LLaMA by model width (paper.md: best alpha0 by
 * width, attention / other; "other" is the FFN and the final norm): 1024 ->
 * 1.0/1.0, 2048 -> 1.0/0.5, 4096 -> 0.8/0.2, 8192 -> 0.2/0.05. A width takes
 * the row of the smallest listed width at or above it, so every width up to
 * 1024 (all of the lab's) gets 1.0/1.0: the narrowest the paper reports,
 * since wider needs smaller alpha0 and the table gives no row below 1024.
 */
export function paperLlamaAlpha0(dim: number): LlamaAlpha0 {
  if (!(dim > 0)) throw new Error(`paperLlamaAlpha0: width must be positive, got ${dim}`);
  const rows: [number, number, number][] = [
    [1024, 1.0, 1.0],
    [2048, 1.0, 0.5],
    [4096, 0.8, 0.2],
    [8192, 0.2, 0.05],
  ];
  const [, attn, other] = rows.find(([w]) => dim <= w) ?? rows[rows.length - 1]!;
  return { alpha0Attn: attn, alpha0Ffn: other, alpha0Final: other };
}

/** Fill defaults and reject impossible configurations with a message that says what to change. */
export function resolveLlamaConfig(partial: Partial<LlamaConfig> = {}): LlamaConfig {
  const dim = partial.dim ?? LLAMA_DEFAULTS.dim;
  const c: LlamaConfig = {
    ...LLAMA_DEFAULTS,
    ffnHidden: Number.isInteger(dim) && dim > 0 ? llamaFfnHidden(dim) : 0,
    initStd: dim > 0 ? widthMatchedInitStd(dim) : NaN,
    ...partial,
    normOptions: { ...LLAMA_DEFAULTS.normOptions, ...partial.normOptions },
    methodOptions: { ...LLAMA_DEFAULTS.methodOptions, ...partial.methodOptions },
  };
  assertNormKind(c.norm);
  if (!(RESIDUAL_METHODS as readonly string[]).includes(c.method))
    throw new Error(`Llama config: unknown method "${c.method}"; valid: ${RESIDUAL_METHODS.join(", ")}`);
  assertResidualMethod(c.method);
  const posInt = ["vocabSize", "dim", "depth", "heads", "ffnHidden", "maxSeqLen"] as const;
  for (const k of posInt)
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new Error(`Llama config: ${k} must be a positive integer, got ${c[k]}`);
  if (c.dim % c.heads !== 0) throw new Error(`Llama config: dim ${c.dim} is not divisible by heads ${c.heads}; pick heads among the divisors of dim`);
  if ((c.dim / c.heads) % 2 !== 0) throw new Error(`Llama config: head dim ${c.dim / c.heads} (dim / heads) must be even for RoPE; change dim or heads`);
  if (!(c.ropeTheta > 0)) throw new Error(`Llama config: ropeTheta must be > 0, got ${c.ropeTheta}`);
  if (!(c.initStd > 0)) throw new Error(`Llama config: initStd must be > 0, got ${c.initStd}`);
  if (c.matmul !== undefined && c.matmul !== "fp8") throw new Error(`Llama config: matmul must be "fp8" or unset (fp32), got ${JSON.stringify(c.matmul)}`);
  const alphas = ["alpha0Attn", "alpha0Ffn", "alpha0Final"] as const;
  if (isNormFree(c.method)) {
    for (const k of alphas)
      if (c[k] !== undefined) throw new Error(`Llama config: ${k} is set but method "${c.method}" has no norms; drop it or use method "norm"`);
    c.norm = "identity";
    c.normOptions = {};
  } else if (c.norm === "dyt") {
    // Resolved to numbers so the recorded config says which alpha0 each slot used.
    const base = c.normOptions.alpha0 ?? NORM_DEFAULTS.alpha0;
    for (const k of alphas) {
      c[k] ??= base;
      if (!Number.isFinite(c[k])) throw new Error(`Llama config: ${k} must be a finite number, got ${c[k]}`);
    }
  } else {
    for (const k of alphas)
      if (c[k] !== undefined) throw new Error(`Llama config: ${k} applies to norm "dyt" only (norm is "${c.norm}"); drop it or set norm: "dyt"`);
  }
  return c;
}

/**
 * LLaMA-style decoder-only language model: token embedding (optionally times
 * a learnable scalar, init sqrt(d)), `depth` pre-norm blocks (RMSNorm by
 * default, causal attention with RoPE, SwiGLU MLP, no biases), a final norm
 * and an untied linear head. Blocks are lib/models/transformer.ts's
 * TransformerBlock with LLaMA options; every norm comes from makeNorm.
 * forward(tokens [B, T] int32) -> logits [B, T, vocabSize].
 */
export class Llama {
  readonly config: LlamaConfig;
  readonly params: Param[];
  readonly blocks: TransformerBlock[] = [];
  readonly finalNorm: Norm;
  readonly embed: tf.Variable;
  readonly embedScale: tf.Variable | undefined;
  readonly head: Linear;

  constructor(config: Partial<LlamaConfig> = {}) {
    const c = resolveLlamaConfig(config);
    this.config = c;
    const store = new ParamStore(new Rng(c.seed));
    const nopts: NormOptions = { bias: false, ...c.normOptions };
    const withAlpha = (a: number | undefined): NormOptions => (a === undefined ? nopts : { ...nopts, alpha0: a });
    this.embed = store.truncNormal("tok_embed", [c.vocabSize, c.dim], c.initStd, true);
    for (let i = 0; i < c.depth; i++) {
      this.blocks.push(
        new TransformerBlock(store.scope(`blocks.${i}`), {
          dim: c.dim,
          heads: c.heads,
          mlpRatio: c.ffnHidden / c.dim,
          hidden: c.ffnHidden,
          mlp: "swiglu",
          bias: false,
          causal: true,
          ropeTheta: c.ropeTheta,
          norm: c.norm,
          normOptions: nopts,
          normOptionsAttn: withAlpha(c.alpha0Attn),
          normOptionsFfn: withAlpha(c.alpha0Ffn),
          placement: "pre",
          initStd: c.initStd,
          method: c.method,
          methodOptions: c.methodOptions,
          depth: c.depth,
          index: i,
        }),
      );
    }
    this.finalNorm = makeNorm(c.norm, c.dim, withAlpha(c.alpha0Final), store, "norm");
    // Fixup zero-initialises the output layer (its rule 1).
    this.head = new Linear(store, "head", c.dim, c.vocabSize, c.method === "fixup" ? { kind: "zeros" } : { kind: "truncNormal", std: c.initStd }, c.method === "sigma-reparam" ? "sigma" : "plain", false);
    // A constant draws no random numbers: the other weights match the model without it.
    this.embedScale = c.embedScale ? store.constant("embed_scale", [1], Math.sqrt(c.dim)) : undefined;
    this.params = store.params;
  }

  /** Every norm layer, in forward order (hooks use the names). */
  norms(): Norm[] {
    return [...this.blocks.flatMap((b) => [b.n1, b.n2]), this.finalNorm];
  }

  parameterCount(): number {
    return countParams(this.params);
  }

  /** tokens [B, T] (int32, ids < vocabSize) -> logits [B, T, vocabSize]. */
  forward(tokens: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    const c = this.config;
    if (tokens.rank !== 2) throw new Error(`Llama.forward: expected tokens [B, T], got shape [${tokens.shape.join(",")}]`);
    const [B, T] = tokens.shape as [number, number];
    if (T > c.maxSeqLen) throw new Error(`Llama.forward: sequence length ${T} exceeds maxSeqLen ${c.maxSeqLen}; raise maxSeqLen or shorten the windows`);
    return tf.tidy(() => {
      const ids = tokens.dtype === "int32" ? tokens : tf.cast(tokens, "int32");
      let x: tf.Tensor = embedLookup(this.embed, ids.reshape([B * T])).reshape([B, T, c.dim]);
      if (this.embedScale) x = tf.mul(x, this.embedScale);
      const blockOpts: ForwardOptions | undefined = c.matmul === "fp8" ? { ...opts, fp8: FP8_HYBRID } : opts;
      for (const [i, b] of this.blocks.entries()) {
        x = b.forward(x, blockOpts);
        opts?.onBlock?.(i, x);
      }
      x = applyNorm(this.finalNorm, x, opts);
      return this.head.apply(x, opts);
    });
  }

  dispose(): void {
    disposeParams(this.params);
  }
}
