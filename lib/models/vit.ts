import * as tf from "@tensorflow/tfjs";
import { linear } from "../ops/matmul";
import { ParamStore, countParams, disposeParams, type Param } from "../ops/param";
import { Rng } from "../util/rng";
import { makeNorm, assertNormKind } from "../norms/factory";
import type { Norm, NormKind, NormOptions } from "../norms/types";
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
};

/** Fill defaults and reject impossible configurations with a message that says what to change. */
export function resolveViTConfig(partial: Partial<ViTConfig> = {}): ViTConfig {
  const c: ViTConfig = { ...VIT_DEFAULTS, ...partial, normOptions: { ...VIT_DEFAULTS.normOptions, ...partial.normOptions } };
  assertNormKind(c.norm);
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
  private readonly patchW: tf.Variable;
  private readonly patchB: tf.Variable;
  private readonly cls: tf.Variable;
  private readonly pos: tf.Variable;
  private readonly headW: tf.Variable;
  private readonly headB: tf.Variable;
  readonly numPatches: number;

  constructor(config: Partial<ViTConfig> = {}) {
    const c = resolveViTConfig(config);
    this.config = c;
    const store = new ParamStore(new Rng(c.seed));
    const p = c.patchSize;
    const g = c.imageSize / p;
    this.numPatches = g * g;
    const pe = store.scope("patch_embed");
    // timm's ViT (which the DyT code trains) leaves the patch-embedding Conv2d at
    // PyTorch's default init, U(+-1/sqrt(fan_in)), and applies trunc-normal 0.02
    // only to Linear layers. That keeps the residual stream at O(0.5) scale even
    // for small patches; a 0.02 init here would shrink it ~4x at 7x7 patches.
    const fanIn = p * p * c.channels;
    this.patchW = pe.uniform("w", [fanIn, c.dim], 1 / Math.sqrt(fanIn), true);
    this.patchB = pe.uniform("b", [c.dim], 1 / Math.sqrt(fanIn), false);
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
        }),
      );
    }
    // Post-norm blocks end in a norm already; the others get a final norm.
    this.finalNorm = c.placement === "post" ? undefined : makeNorm(c.norm, c.dim, c.normOptions, store, "norm");
    const head = store.scope("head");
    this.headW = head.truncNormal("w", [c.dim, c.numClasses], c.initStd, true);
    this.headB = head.constant("b", [c.numClasses], 0, false);
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
    const c = this.config;
    const p = c.patchSize;
    const g = c.imageSize / p;
    const B = images.shape[0]!;
    const expected = c.imageSize * c.imageSize * c.channels;
    if (images.size !== B * expected)
      throw new Error(`ViT.forward: expected images [B, ${c.imageSize}, ${c.imageSize}, ${c.channels}], got [${images.shape.join(",")}]`);
    return tf.tidy(() => {
      // [B, g, p, g, p, C] -> [B, g, g, p, p, C] -> [B, N, p*p*C]
      const patches = tf
        .transpose(images.reshape([B, g, p, g, p, c.channels]), [0, 1, 3, 2, 4, 5])
        .reshape([B, this.numPatches, p * p * c.channels]);
      let x = linear(patches, this.patchW, this.patchB);
      x = tf.concat([tf.tile(this.cls, [B, 1, 1]), x], 1);
      x = tf.add(x, this.pos);
      for (const b of this.blocks) x = b.forward(x, opts);
      let clsOut = tf.squeeze(tf.slice(x, [0, 0, 0], [B, 1, c.dim]), [1]);
      if (this.finalNorm) clsOut = applyNorm(this.finalNorm, clsOut, opts);
      return linear(clsOut, this.headW, this.headB);
    });
  }

  dispose(): void {
    disposeParams(this.params);
  }
}
