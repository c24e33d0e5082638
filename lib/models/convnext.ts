import * as tf from "@tensorflow/tfjs";
import { gelu } from "../ops/activations";
import { depthwiseConv2d } from "../ops/conv";
import { ParamStore, countParams, disposeParams, type Param } from "../ops/param";
import { Rng } from "../util/rng";
import { makeNorm, assertNormKind } from "../norms/factory";
import type { Layout, Norm, NormKind, NormOptions } from "../norms/types";
import { Linear } from "./linear";
import { applyNorm, type ForwardOptions } from "./transformer";
import { applyNormNHWC, asImages, checkPosInt, patchify } from "./vision-common";

export interface ConvNeXtConfig {
  imageSize: number;
  channels: number;
  numClasses: number;
  /** Stem: a stride = kernel = stemPatch convolution (ConvNeXt: 4 at 224 px; 2 for 28-32 px). */
  stemPatch: number;
  /** Channels per stage; stages after the first start with a 2x2 stride-2 downsampling layer. */
  dims: number[];
  /** Blocks per stage (ConvNeXt-T: 3, 3, 9, 3). */
  depths: number[];
  /** Depthwise kernel (7 in ConvNeXt; odd). */
  kernelSize: number;
  /** Inverted bottleneck width = mlpRatio x dim (4). */
  mlpRatio: number;
  /** Layer scale init (1e-6 in ConvNeXt); 0 disables layer scale. */
  layerScaleInit: number;
  norm: NormKind;
  normOptions: NormOptions;
  /**
   * Layout of the stem and downsampling norms. ConvNeXt uses
   * LayerNorm(channels_first) there and channels-last LN inside the blocks;
   * "channels-last" gives the same numbers (test/vision-models.test.ts).
   */
  downsampleLayout: Layout;
  /** Std of the truncated-normal init of conv and linear weights (ConvNeXt: 0.02). */
  initStd: number;
  seed: number;
}

/** Sized for 28x28 (Fashion-MNIST) and 32x32 (Emoji32): 14x14 -> 7x7 -> 3x3 (or 16 -> 8 -> 4). */
export const CONVNEXT_DEFAULTS: ConvNeXtConfig = {
  imageSize: 28,
  channels: 1,
  numClasses: 10,
  stemPatch: 2,
  dims: [32, 64, 128],
  depths: [2, 2, 2],
  kernelSize: 7,
  mlpRatio: 4,
  layerScaleInit: 1e-6,
  norm: "layernorm",
  normOptions: {},
  downsampleLayout: "channels-first",
  initStd: 0.02,
  seed: 0,
};

export function resolveConvNeXtConfig(partial: Partial<ConvNeXtConfig> = {}): ConvNeXtConfig {
  const c: ConvNeXtConfig = {
    ...CONVNEXT_DEFAULTS,
    ...partial,
    dims: [...(partial.dims ?? CONVNEXT_DEFAULTS.dims)],
    depths: [...(partial.depths ?? CONVNEXT_DEFAULTS.depths)],
    normOptions: { ...CONVNEXT_DEFAULTS.normOptions, ...partial.normOptions },
  };
  assertNormKind(c.norm);
  for (const k of ["imageSize", "channels", "numClasses", "stemPatch", "kernelSize"] as const) checkPosInt("ConvNeXt", k, c[k]);
  if (c.dims.length === 0 || c.dims.length !== c.depths.length)
    throw new Error(`ConvNeXt config: dims (${c.dims.length} stages) and depths (${c.depths.length}) must have the same non-zero length`);
  c.dims.forEach((d, i) => checkPosInt("ConvNeXt", `dims[${i}]`, d));
  c.depths.forEach((d, i) => checkPosInt("ConvNeXt", `depths[${i}]`, d));
  if (c.kernelSize % 2 !== 1) throw new Error(`ConvNeXt config: kernelSize must be odd (same padding), got ${c.kernelSize}`);
  if (!(c.mlpRatio > 0)) throw new Error(`ConvNeXt config: mlpRatio must be > 0, got ${c.mlpRatio}`);
  if (!(c.layerScaleInit >= 0)) throw new Error(`ConvNeXt config: layerScaleInit must be >= 0 (0 disables it), got ${c.layerScaleInit}`);
  if (c.downsampleLayout !== "channels-first" && c.downsampleLayout !== "channels-last")
    throw new Error(`ConvNeXt config: downsampleLayout must be "channels-first" or "channels-last", got "${c.downsampleLayout}"`);
  const last = Math.floor(c.imageSize / c.stemPatch / 2 ** (c.dims.length - 1));
  if (last < 1)
    throw new Error(`ConvNeXt config: a ${c.imageSize}px image after a ${c.stemPatch}x stem and ${c.dims.length - 1} downsamplings is empty; use fewer stages or a smaller stemPatch`);
  return c;
}

/** One ConvNeXt block: dwconv7x7 -> LN (channels-last) -> Linear 4x -> GELU -> Linear -> layer scale -> + input. */
export class ConvNeXtBlock {
  readonly norm: Norm;
  readonly pw1: Linear;
  readonly pw2: Linear;
  private readonly dwW: tf.Variable;
  private readonly dwB: tf.Variable;
  private readonly scale: tf.Variable | undefined;
  constructor(
    store: ParamStore,
    readonly dim: number,
    c: ConvNeXtConfig,
  ) {
    const k = c.kernelSize;
    this.dwW = store.truncNormal("dwconv.weight", [k, k, dim, 1], c.initStd);
    this.dwB = store.constant("dwconv.bias", [dim], 0);
    this.norm = makeNorm(c.norm, dim, { ...c.normOptions, layout: "channels-last" }, store, "norm");
    const hidden = Math.round(c.mlpRatio * dim);
    this.pw1 = new Linear(store, "pwconv1", dim, hidden, { kind: "truncNormal", std: c.initStd });
    this.pw2 = new Linear(store, "pwconv2", hidden, dim, { kind: "truncNormal", std: c.initStd });
    this.scale = c.layerScaleInit > 0 ? store.constant("gamma", [dim], c.layerScaleInit) : undefined;
  }

  forward(x: tf.Tensor4D, opts?: ForwardOptions): tf.Tensor4D {
    const k = this.dwW.shape[0]!;
    let h: tf.Tensor = tf.add(depthwiseConv2d(x, this.dwW as tf.Tensor4D, (k - 1) / 2), this.dwB);
    h = applyNorm(this.norm, h, opts);
    h = this.pw2.apply(gelu(this.pw1.apply(h, opts)), opts);
    if (this.scale) h = tf.mul(h, this.scale);
    return tf.add(x, h) as tf.Tensor4D;
  }
}

/**
 * ConvNeXt (Liu et al. 2022), the paper's second vision family, sized down:
 * patchify stem + norm, stages of ConvNeXt blocks, 2x2 stride-2
 * downsampling layers (norm then conv), global average pool, final norm,
 * linear head. Every norm comes from makeNorm (`norm`: layernorm / dyt / ...).
 * NHWC throughout (tfjs convolutions); the stride = kernel convolutions are
 * Linear layers on patches (same weights as a [p, p, C, out] kernel).
 */
export class ConvNeXt {
  readonly config: ConvNeXtConfig;
  readonly params: Param[];
  readonly stem: Linear;
  readonly stemNorm: Norm;
  readonly downsample: { norm: Norm; conv: Linear }[] = [];
  readonly stages: ConvNeXtBlock[][] = [];
  readonly finalNorm: Norm;
  readonly head: Linear;

  constructor(config: Partial<ConvNeXtConfig> = {}) {
    const c = resolveConvNeXtConfig(config);
    this.config = c;
    const store = new ParamStore(new Rng(c.seed));
    const tn = { kind: "truncNormal", std: c.initStd } as const;
    const cf = { ...c.normOptions, layout: c.downsampleLayout };
    this.stem = new Linear(store, "stem.conv", c.stemPatch * c.stemPatch * c.channels, c.dims[0]!, tn);
    this.stemNorm = makeNorm(c.norm, c.dims[0]!, cf, store, "stem.norm");
    c.dims.forEach((dim, i) => {
      if (i > 0) {
        const prev = c.dims[i - 1]!;
        const norm = makeNorm(c.norm, prev, cf, store, `downsample.${i}.norm`);
        this.downsample.push({ norm, conv: new Linear(store, `downsample.${i}.conv`, 4 * prev, dim, tn) });
      }
      const blocks: ConvNeXtBlock[] = [];
      for (let j = 0; j < c.depths[i]!; j++) blocks.push(new ConvNeXtBlock(store.scope(`stages.${i}.${j}`), dim, c));
      this.stages.push(blocks);
    });
    const last = c.dims.at(-1)!;
    this.finalNorm = makeNorm(c.norm, last, { ...c.normOptions, layout: "channels-last" }, store, "norm");
    this.head = new Linear(store, "head", last, c.numClasses, tn);
    this.params = store.params;
  }

  /** Every norm layer in forward order: stem, then per stage its downsampling norm and block norms, then the final one. */
  norms(): Norm[] {
    const out: Norm[] = [this.stemNorm];
    this.stages.forEach((blocks, i) => {
      if (i > 0) out.push(this.downsample[i - 1]!.norm);
      out.push(...blocks.map((b) => b.norm));
    });
    out.push(this.finalNorm);
    return out;
  }

  /** Trainable parameters (BatchNorm's running statistics are buffers, not counted). */
  parameterCount(): number {
    return countParams(this.params.filter((p) => p.variable.trainable));
  }

  /** images [B, H, W, C] (or flat) -> logits [B, numClasses]. */
  forward(images: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    const c = this.config;
    return tf.tidy(() => {
      let x = this.stem.apply(patchify(asImages(images, c.imageSize, c.channels, "ConvNeXt"), c.stemPatch), opts) as tf.Tensor4D;
      x = applyNormNHWC(this.stemNorm, x, opts) as tf.Tensor4D;
      this.stages.forEach((blocks, i) => {
        if (i > 0) {
          const ds = this.downsample[i - 1]!;
          x = ds.conv.apply(patchify(applyNormNHWC(ds.norm, x, opts) as tf.Tensor4D, 2), opts) as tf.Tensor4D;
        }
        for (const b of blocks) x = b.forward(x, opts);
      });
      const pooled = tf.mean(x, [1, 2]);
      return this.head.apply(applyNorm(this.finalNorm, pooled, opts), opts);
    });
  }

  dispose(): void {
    disposeParams(this.params);
  }
}
