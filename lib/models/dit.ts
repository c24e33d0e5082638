import * as tf from "@tensorflow/tfjs";
import { ParamStore, countParams, disposeParams, type Param } from "../ops/param";
import { assertNormKind, makeNorm } from "../norms/factory";
import type { Norm, NormKind, NormOptions } from "../norms/types";
import { Rng } from "../util/rng";
import { embedLookup } from "./embedding";
import { Linear } from "./linear";
import { TransformerBlock, applyNorm, type ForwardOptions } from "./transformer";
import { asImages, checkPosInt, patchify } from "./vision-common";
import { gatedAdd, modulate } from "../ops/modulate";

export interface DiTBlockConfig {
  dim: number;
  heads: number;
  mlpRatio: number;
  /** LayerNorm (no affine, eps 1e-6, as DiT) or DyT (then tanh(alpha x): no gamma / beta either). */
  norm: NormKind;
  normOptions?: NormOptions;
  /**
   * adaLN-Zero: the modulation Linear starts at zero, so every gate is 0 and
   * the block is the identity at init (DiT's choice). The paper's DyT arm
   * drops it (Xavier init like DiT's other Linears); a reviewer asked for
   * both arms with DyT. Default true.
   */
  adaLNZero?: boolean;
  /**
   * Init of the attention / MLP Linears: "xavier" (DiT's initialize_weights,
   * what the DiT model uses) or trunc-normal(initStd) (the default here, the
   * ViT's).
   */
  linearInit?: "truncNormal" | "xavier";
  /** Std of the truncated-normal init of attention / MLP weights (0.02). */
  initStd?: number;
}

/**
 * A DiT block (Peebles & Xie 2023) with adaLN modulation:
 *   (s1, a1, g1, s2, a2, g2) = Linear(SiLU(c))            c: conditioning [B, D]
 *   h = x + g1 * Attn(N1(x) * (1 + a1) + s1)
 *   y = h + g2 * MLP(N2(h) * (1 + a2) + s2)
 * N1 / N2 come from the one factory without gain or bias (DiT's LayerNorms
 * have no affine; the modulation plays that role). Attention and MLP are the
 * lab's TransformerBlock's, built with identity norm slots.
 */
export class DiTBlock {
  readonly n1: Norm;
  readonly n2: Norm;
  readonly core: TransformerBlock;
  readonly adaLN: Linear;
  constructor(
    store: ParamStore,
    readonly cfg: DiTBlockConfig,
  ) {
    const nopts: NormOptions = { gain: false, bias: false, ...cfg.normOptions };
    this.n1 = makeNorm(cfg.norm, cfg.dim, nopts, store, "norm1");
    this.n2 = makeNorm(cfg.norm, cfg.dim, nopts, store, "norm2");
    this.core = new TransformerBlock(store, { dim: cfg.dim, heads: cfg.heads, mlpRatio: cfg.mlpRatio, norm: "identity", initStd: cfg.initStd ?? 0.02, linearInit: cfg.linearInit ?? "truncNormal" });
    this.adaLN = new Linear(store, "adaLN_modulation", cfg.dim, 6 * cfg.dim, cfg.adaLNZero === false ? { kind: "xavier" } : { kind: "zeros" });
  }

  /** x: tokens [B, T, D]; c: conditioning [B, D]. */
  forward(x: tf.Tensor, c: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    const D = this.cfg.dim;
    if (c.rank !== 2 || c.shape[1] !== D || c.shape[0] !== x.shape[0])
      throw new Error(`DiTBlock.forward: conditioning must be [B=${x.shape[0]}, ${D}], got [${c.shape.join(",")}]`);
    const [s1, a1, g1, s2, a2, g2] = tf.split(this.adaLN.apply(tf.mul(c, tf.sigmoid(c)), opts), 6, 1) as tf.Tensor[];
    const h = gatedAdd(x, g1!, this.core.attention(modulate(applyNorm(this.n1, x, opts), s1!, a1!), opts));
    return gatedAdd(h, g2!, this.core.mlp(modulate(applyNorm(this.n2, h, opts), s2!, a2!), opts));
  }

  norms(): Norm[] {
    return [this.n1, this.n2];
  }
}

/** A class-conditional DiT (Peebles & Xie 2023) for small images. */
export interface DiTConfig {
  imageSize: number;
  channels: number;
  /** Patch side: imageSize / patchSize tokens per side. */
  patchSize: number;
  dim: number;
  depth: number;
  heads: number;
  mlpRatio: number;
  numClasses: number;
  /** Every norm slot (the blocks' two and the final layer's), from the one factory, without gain or bias. */
  norm: NormKind;
  normOptions: NormOptions;
  /**
   * DiT's initialize_weights zeroes every adaLN modulation Linear and the
   * final output Linear (adaLN-Zero: the model predicts 0 and each block is
   * the identity at init). false leaves them Xavier like every other Linear:
   * the paper's DyT arm.
   */
  adaLNZero: boolean;
  /** Sinusoidal frequencies of the timestep embedding (DiT: 256). */
  freqDim: number;
  /** Seed of the parameter initialisation. */
  seed: number;
}

export const DIT_DEFAULTS: DiTConfig = {
  imageSize: 28,
  channels: 1,
  patchSize: 4,
  dim: 64,
  depth: 4,
  heads: 4,
  mlpRatio: 4,
  numClasses: 10,
  norm: "layernorm",
  normOptions: {},
  adaLNZero: true,
  freqDim: 256,
  seed: 0,
};

/** Fill defaults and reject impossible configurations with a message that says what to change. */
export function resolveDiTConfig(partial: Partial<DiTConfig> = {}): DiTConfig {
  const c: DiTConfig = { ...DIT_DEFAULTS, ...partial, normOptions: { ...partial.normOptions } };
  assertNormKind(c.norm);
  if (c.norm === "batchnorm") throw new Error(`DiT config: norm "batchnorm" does not fit a token slot; use layernorm, rmsnorm, dyt or identity`);
  for (const k of ["imageSize", "channels", "patchSize", "dim", "depth", "heads", "numClasses", "freqDim"] as const) checkPosInt("DiT", k, c[k]);
  if (c.imageSize % c.patchSize !== 0) throw new Error(`DiT config: patchSize ${c.patchSize} does not divide imageSize ${c.imageSize}; pick a divisor of ${c.imageSize}`);
  if (c.dim % c.heads !== 0) throw new Error(`DiT config: dim ${c.dim} is not divisible by heads ${c.heads}; pick heads among the divisors of dim`);
  // The 2-D sin-cos position embedding splits dim into 4 equal parts (sin / cos of rows / columns).
  if (c.dim % 4 !== 0) throw new Error(`DiT config: dim ${c.dim} must be a multiple of 4 (2-D sin-cos position embedding)`);
  if (c.freqDim % 2 !== 0) throw new Error(`DiT config: freqDim ${c.freqDim} must be even (cos and sin halves)`);
  if (!(c.mlpRatio > 0)) throw new Error(`DiT config: mlpRatio must be > 0, got ${c.mlpRatio}`);
  if (typeof c.adaLNZero !== "boolean") throw new Error(`DiT config: adaLNZero must be true or false, got ${String(c.adaLNZero)}`);
  return c;
}

/**
 * DiT's fixed 2-D sin-cos position embedding, [g*g, D]: the first D/2
 * channels encode the column, the rest the row, each as [sin | cos] of
 * position x 10000^(-k / (D/4)) (MAE's get_2d_sincos_pos_embed, which DiT uses).
 */
export function sincosPosEmbed2d(dim: number, g: number): Float32Array {
  const q = dim / 4;
  const out = new Float32Array(g * g * dim);
  for (let r = 0; r < g; r++)
    for (let col = 0; col < g; col++) {
      const o = (r * g + col) * dim;
      for (let k = 0; k < q; k++) {
        const w = 1 / Math.pow(10000, k / q);
        out[o + k] = Math.sin(col * w);
        out[o + q + k] = Math.cos(col * w);
        out[o + 2 * q + k] = Math.sin(r * w);
        out[o + 3 * q + k] = Math.cos(r * w);
      }
    }
  return out;
}

/** DiT's timestep embedding: [cos(t f_k) | sin(t f_k)], f_k = 10000^(-k / (dim/2)), t: [B] -> [B, dim]. */
export function timestepEmbedding(t: tf.Tensor, dim: number): tf.Tensor2D {
  return tf.tidy(() => {
    const half = dim / 2;
    const f = tf.tensor2d(Float32Array.from({ length: half }, (_, k) => Math.exp((-Math.log(10000) * k) / half)), [1, half]);
    const args = tf.mul(tf.reshape(tf.cast(t, "float32"), [-1, 1]), f);
    return tf.concat([tf.cos(args), tf.sin(args)], 1) as tf.Tensor2D;
  });
}

const silu = (x: tf.Tensor): tf.Tensor => tf.mul(x, tf.sigmoid(x));

/**
 * Class-conditional DiT: patchify (a p x p, stride-p conv = a Linear on
 * patches) + fixed 2-D sin-cos positions; conditioning c = MLP(sinusoid(t)) +
 * class embedding; `depth` DiT blocks with adaLN modulation; a final layer
 * (norm modulated by c, Linear to p*p*C) unpatchified to the noise prediction.
 * Every norm comes from makeNorm with no gain or bias; Linears are Xavier
 * with zero bias, the embeddings N(0, 0.02) (trunc-normal here), as DiT's
 * initialize_weights, and adaLNZero zeroes what DiT zeroes. No learned sigma
 * (the lab's sampler is deterministic DDIM) and no class dropout (no
 * classifier-free guidance).
 */
export class DiT {
  readonly config: DiTConfig;
  readonly params: Param[];
  readonly blocks: DiTBlock[] = [];
  readonly xEmbed: Linear;
  readonly tMlp1: Linear;
  readonly tMlp2: Linear;
  readonly yTable: tf.Variable;
  readonly finalNorm: Norm;
  readonly finalAdaLN: Linear;
  readonly finalLinear: Linear;
  readonly numPatches: number;
  private readonly pos: tf.Tensor;

  constructor(config: Partial<DiTConfig> = {}) {
    const c = resolveDiTConfig(config);
    this.config = c;
    const store = new ParamStore(new Rng(c.seed));
    const p = c.patchSize;
    const g = c.imageSize / p;
    this.numPatches = g * g;
    const pc = p * p * c.channels;
    this.xEmbed = new Linear(store, "x_embedder", pc, c.dim, { kind: "xavier" });
    this.pos = tf.tensor3d(sincosPosEmbed2d(c.dim, g), [1, this.numPatches, c.dim]);
    this.tMlp1 = new Linear(store, "t_embedder.mlp.0", c.freqDim, c.dim, { kind: "truncNormal", std: 0.02 });
    this.tMlp2 = new Linear(store, "t_embedder.mlp.2", c.dim, c.dim, { kind: "truncNormal", std: 0.02 });
    this.yTable = store.truncNormal("y_embedder.embedding_table", [c.numClasses, c.dim], 0.02);
    for (let i = 0; i < c.depth; i++)
      this.blocks.push(
        new DiTBlock(store.scope(`blocks.${i}`), { dim: c.dim, heads: c.heads, mlpRatio: c.mlpRatio, norm: c.norm, normOptions: c.normOptions, adaLNZero: c.adaLNZero, linearInit: "xavier" }),
      );
    const fs = store.scope("final_layer");
    this.finalNorm = makeNorm(c.norm, c.dim, { gain: false, bias: false, ...c.normOptions }, fs, "norm_final");
    const zero = c.adaLNZero ? ({ kind: "zeros" } as const) : ({ kind: "xavier" } as const);
    this.finalAdaLN = new Linear(fs, "adaLN_modulation", c.dim, 2 * c.dim, zero);
    this.finalLinear = new Linear(fs, "linear", c.dim, pc, zero);
    this.params = store.params;
  }

  /** Every norm layer, in forward order (hooks use the names). */
  norms(): Norm[] {
    return [...this.blocks.flatMap((b) => b.norms()), this.finalNorm];
  }

  parameterCount(): number {
    return countParams(this.params);
  }

  /** The conditioning vector c = MLP(sinusoid(t)) + y_embed(y): t [B] (float timesteps), y [B] int32 classes -> [B, D]. */
  condition(t: tf.Tensor, y: tf.Tensor, opts?: ForwardOptions): tf.Tensor2D {
    return tf.tidy(() => {
      const te = this.tMlp2.apply(silu(this.tMlp1.apply(timestepEmbedding(t, this.config.freqDim), opts)), opts);
      return tf.add(te, embedLookup(this.yTable, tf.cast(y, "int32").reshape([-1]))) as tf.Tensor2D;
    });
  }

  /** Noise prediction: x_t [B, H, W, C] (or flat), t [B], y [B] -> eps-hat [B, H, W, C]. */
  predict(xt: tf.Tensor, t: tf.Tensor, y: tf.Tensor, opts?: ForwardOptions): tf.Tensor4D {
    const c = this.config;
    const B = xt.shape[0]!;
    if (t.size !== B || y.size !== B) throw new Error(`DiT.predict: t and y must hold one entry per image (B=${B}), got t [${t.shape.join(",")}] and y [${y.shape.join(",")}]`);
    return tf.tidy(() => {
      const p = c.patchSize;
      const g = c.imageSize / p;
      const img = asImages(xt, c.imageSize, c.channels, "DiT");
      let x = tf.add(this.xEmbed.apply(patchify(img, p).reshape([B, this.numPatches, p * p * c.channels]), opts), this.pos);
      const cond = this.condition(t, y, opts);
      for (const [i, b] of this.blocks.entries()) {
        x = b.forward(x, cond, opts);
        opts?.onBlock?.(i, x);
      }
      const [shift, scale] = tf.split(this.finalAdaLN.apply(silu(cond), opts), 2, 1) as [tf.Tensor, tf.Tensor];
      const out = this.finalLinear.apply(modulate(applyNorm(this.finalNorm, x, opts), shift, scale), opts);
      // [B, g*g, p*p*C] -> [B, g, g, p, p, C] -> [B, g, p, g, p, C] -> [B, H, W, C]
      return tf.transpose(out.reshape([B, g, g, p, p, c.channels]), [0, 1, 3, 2, 4, 5]).reshape([B, c.imageSize, c.imageSize, c.channels]) as tf.Tensor4D;
    });
  }

  /** A DiT denoises (x_t, t, y), which one input cannot carry: use predict(), or train it through diffusionTask's objective. */
  forward(_x: tf.Tensor, _opts?: ForwardOptions): tf.Tensor {
    throw new Error("DiT.forward: a DiT needs the timestep and class too; call predict(x_t, t, y), or train it with diffusionTask (lib/train/diffusion.ts)");
  }

  dispose(): void {
    disposeParams(this.params);
    this.pos.dispose();
  }
}
