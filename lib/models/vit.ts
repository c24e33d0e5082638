import * as tf from "@tensorflow/tfjs";
import { tfixupScale } from "../analysis/reparam";
import { ParamStore, countParams, disposeParams, type Param } from "../ops/param";
import { Rng } from "../util/rng";
import { makeNorm, assertNormKind } from "../norms/factory";
import type { Norm, NormKind, NormOptions } from "../norms/types";
import { Linear } from "./linear";
import { RESIDUAL_METHODS, assertResidualMethod, isNormFree, type MethodOptions, type ResidualMethod } from "./residual";
import { PLACEMENTS, TransformerBlock, applyNorm, type ForwardOptions, type Placement } from "./transformer";

export interface ViTConfig {
  imageSize: number;
  channels: number;
  patchSize: number;
  dim: number;
  depth: number;
  heads: number;
  mlpRatio: number;
  numClasses: number;
  norm: NormKind;
  normOptions: NormOptions;
  placement: Placement;
  initStd: number;
  /** Seed of the parameter initialisation. */
  seed: number;
  /**
   * Residual method (lib/models/residual.ts). "norm" (default) is the
   * normalised ViT; the norm-free methods remove every norm, the final one
   * included, so `norm` resolves to "identity" for them.
   */
  method: ResidualMethod;
  methodOptions: MethodOptions;
}

export const VIT_DEFAULTS: ViTConfig = {
  imageSize: 28,
  channels: 1,
  patchSize: 7,
  dim: 64,
  depth: 4,
  heads: 4,
  mlpRatio: 4,
  numClasses: 10,
  norm: "layernorm",
  normOptions: {},
  placement: "pre",
  initStd: 0.02,
  seed: 0,
  method: "norm",
  methodOptions: {},
};

/** Fill defaults and reject impossible configurations with a message that says what to change. */
export function resolveViTConfig(partial: Partial<ViTConfig> = {}): ViTConfig {
  const c: ViTConfig = {
    ...VIT_DEFAULTS,
    ...partial,
    normOptions: { ...VIT_DEFAULTS.normOptions, ...partial.normOptions },
    methodOptions: { ...VIT_DEFAULTS.methodOptions, ...partial.methodOptions },
  };
  assertNormKind(c.norm);
  if (!(RESIDUAL_METHODS as readonly string[]).includes(c.method))
    throw new Error(`ViT config: unknown method "${c.method}"; valid: ${RESIDUAL_METHODS.join(", ")}`);
  assertResidualMethod(c.method);
  if (isNormFree(c.method)) {
    if (c.placement !== "pre")
      throw new Error(`ViT config: placement "${c.placement}" applies to method "norm" only; method "${c.method}" has no norms (use placement "pre")`);
    // Norm-free: every slot is the identity; recording that keeps result configs honest.
    c.norm = "identity";
    c.normOptions = {};
  }
  const posInt = ["imageSize", "channels", "patchSize", "dim", "depth", "heads", "numClasses"] as const;
  for (const k of posInt)
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new Error(`ViT config: ${k} must be a positive integer, got ${c[k]}`);
  if (c.dim % c.heads !== 0)
    throw new Error(`ViT config: dim ${c.dim} is not divisible by heads ${c.heads}; pick heads among the divisors of dim`);
  if (c.imageSize % c.patchSize !== 0)
    throw new Error(`ViT config: patchSize ${c.patchSize} does not divide imageSize ${c.imageSize}; pick a divisor of ${c.imageSize}`);
  if (!(c.mlpRatio > 0)) throw new Error(`ViT config: mlpRatio must be > 0, got ${c.mlpRatio}`);
  if (!(PLACEMENTS as readonly string[]).includes(c.placement))
    throw new Error(`ViT config: unknown placement "${c.placement}"; valid: ${PLACEMENTS.join(", ")}`);
  return c;
}

/**
 * Pre-norm Vision Transformer (timm-style): linear patch embedding, class
 * token, learned position embedding, `depth` blocks, final norm on the class
 * token, linear head. Every norm comes from makeNorm.
 */
export class ViT {
  readonly config: ViTConfig;
  readonly params: Param[];
  readonly blocks: TransformerBlock[] = [];
  readonly finalNorm: Norm | undefined;
  readonly patchEmbed: Linear;
  /** The class token [1, 1, dim] and the learned position embedding [1, 1 + N, dim] (read by the MAE encoder). */
  readonly cls: tf.Variable;
  readonly pos: tf.Variable;
  readonly head: Linear;
  readonly numPatches: number;

  constructor(config: Partial<ViTConfig> = {}) {
    const c = resolveViTConfig(config);
    this.config = c;
    const store = new ParamStore(new Rng(c.seed));
    const p = c.patchSize;
    const g = c.imageSize / p;
    this.numPatches = g * g;
    // timm's ViT (which the DyT code trains) leaves the patch-embedding Conv2d at
    // PyTorch's default init, U(+-1/sqrt(fan_in)), and applies trunc-normal 0.02
    // only to Linear layers. That keeps the residual stream at O(0.5) scale even
    // for small patches; a 0.02 init here would shrink it ~4x at 7x7 patches.
    // T-Fixup scales the embedding by (9N)^-1/4; sigma-Reparam reparameterises
    // every Linear, the patch embedding and the head included.
    const fanIn = p * p * c.channels;
    const sigma = c.method === "sigma-reparam" ? "sigma" : "plain";
    const embScale = c.method === "tfixup" ? tfixupScale(c.depth, "embedding") : 1;
    this.patchEmbed = new Linear(store, "patch_embed", fanIn, c.dim, { kind: "uniform", bound: embScale / Math.sqrt(fanIn), biasBound: 1 / Math.sqrt(fanIn) }, sigma);
    this.cls = store.truncNormal("cls_token", [1, 1, c.dim], c.initStd, false);
    this.pos = store.truncNormal("pos_embed", [1, this.numPatches + 1, c.dim], c.initStd, false);
    for (let i = 0; i < c.depth; i++) {
      this.blocks.push(
        new TransformerBlock(store.scope(`blocks.${i}`), {
          dim: c.dim,
          heads: c.heads,
          mlpRatio: c.mlpRatio,
          norm: c.norm,
          normOptions: c.normOptions,
          placement: c.placement,
          initStd: c.initStd,
          method: c.method,
          methodOptions: c.methodOptions,
          depth: c.depth,
          index: i,
        }),
      );
    }
    // Post-norm blocks end in a norm already; the others get a final norm.
    this.finalNorm = c.placement === "post" ? undefined : makeNorm(c.norm, c.dim, c.normOptions, store, "norm");
    // Fixup zero-initialises the classifier (its rule 1).
    this.head = new Linear(store, "head", c.dim, c.numClasses, c.method === "fixup" ? { kind: "zeros" } : { kind: "truncNormal", std: c.initStd }, sigma);
    this.params = store.params;
  }

  /** Every norm layer, in forward order (hooks use the names). */
  norms(): Norm[] {
    return [...this.blocks.flatMap((b) => [b.n1, b.n2]), ...(this.finalNorm ? [this.finalNorm] : [])];
  }

  parameterCount(): number {
    return countParams(this.params);
  }

  /** images: [B, H, W, C] (or flat [B, H*W*C]) -> logits [B, numClasses]. */
  forward(images: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    return tf.tidy(() => this.head.apply(this.features(images, opts), opts));
  }

  /** The head's input: the class token after the last block and the final norm, [B, dim] (e.g. the Fréchet distance's features). */
  features(images: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    const c = this.config;
    const B = images.shape[0]!;
    const expected = c.imageSize * c.imageSize * c.channels;
    if (images.size !== B * expected)
      throw new Error(`ViT.forward: expected images [B, ${c.imageSize}, ${c.imageSize}, ${c.channels}], got [${images.shape.join(",")}]`);
    return tf.tidy(() => this.classToken(images.reshape([B, c.imageSize, c.imageSize, c.channels]) as tf.Tensor4D, this.pos, opts));
  }

  /**
   * features() of square images of another size (a multiple of patchSize,
   * e.g. DINO's local crops): the learned patch positions are resampled
   * bilinearly to the new grid (DINO's interpolate_pos_encoding, which uses
   * bicubic), as a constant matrix product so gradients reach `pos`.
   */
  featuresAt(images: tf.Tensor4D, opts?: ForwardOptions): tf.Tensor {
    const c = this.config;
    const [, H, W, C] = images.shape;
    if (H !== W || C !== c.channels || H % c.patchSize !== 0)
      throw new Error(`ViT.featuresAt: expected square images [B, s, s, ${c.channels}] with s a multiple of patchSize ${c.patchSize}, got [${images.shape.join(",")}]`);
    if (H === c.imageSize) return this.features(images, opts);
    const g = c.imageSize / c.patchSize;
    const gs = H / c.patchSize;
    return tf.tidy(() => {
      const grid = tf.tensor2d(bilinearGridMatrix(g, gs), [gs * gs, g * g]);
      const patchPos = tf.matMul(grid, tf.reshape(tf.slice(this.pos, [0, 1, 0], [1, g * g, c.dim]), [g * g, c.dim]));
      const pos = tf.concat([tf.slice(this.pos, [0, 0, 0], [1, 1, c.dim]), tf.expandDims(patchPos, 0)], 1);
      return this.classToken(images, pos, opts);
    });
  }

  /** Class token after the blocks and the final norm, for NHWC images and positions [1, 1 + (s/p)^2, dim]. */
  private classToken(images: tf.Tensor4D, pos: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    const c = this.config;
    const p = c.patchSize;
    const [B, s] = images.shape;
    const g = s / p;
    // [B, g, p, g, p, C] -> [B, g, g, p, p, C] -> [B, N, p*p*C]
    const patches = tf.transpose(images.reshape([B, g, p, g, p, c.channels]), [0, 1, 3, 2, 4, 5]).reshape([B, g * g, p * p * c.channels]);
    let x = this.patchEmbed.apply(patches, opts);
    x = tf.concat([tf.tile(this.cls, [B, 1, 1]), x], 1);
    x = tf.add(x, pos);
    for (const [i, b] of this.blocks.entries()) {
      x = b.forward(x, opts);
      opts?.onBlock?.(i, x);
    }
    let clsOut = tf.squeeze(tf.slice(x, [0, 0, 0], [B, 1, c.dim]), [1]);
    if (this.finalNorm) clsOut = applyNorm(this.finalNorm, clsOut, opts);
    return clsOut;
  }

  dispose(): void {
    disposeParams(this.params);
  }
}

/**
 * Bilinear resampling of a g x g grid to gs x gs as a [gs*gs, g*g] matrix
 * (row-major cells; PyTorch's interpolate with align_corners=False: sample
 * centres at (i + 0.5) g / gs - 0.5, clamped to the grid).
 */
export function bilinearGridMatrix(g: number, gs: number): Float32Array {
  const axis = (i: number): [number, number, number] => {
    const src = Math.min(Math.max((i + 0.5) * (g / gs) - 0.5, 0), g - 1);
    const i0 = Math.floor(src);
    const i1 = Math.min(i0 + 1, g - 1);
    return [i0, i1, src - i0];
  };
  const m = new Float32Array(gs * gs * g * g);
  for (let r = 0; r < gs; r++)
    for (let q = 0; q < gs; q++) {
      const [r0, r1, wr] = axis(r);
      const [q0, q1, wq] = axis(q);
      const row = (r * gs + q) * g * g;
      m[row + r0 * g + q0] += (1 - wr) * (1 - wq);
      m[row + r0 * g + q1] += (1 - wr) * wq;
      m[row + r1 * g + q0] += wr * (1 - wq);
      m[row + r1 * g + q1] += wr * wq;
    }
  return m;
}
