import * as tf from "@tensorflow/tfjs";
import { gelu } from "../ops/activations";
import { ParamStore, countParams, disposeParams, type Param } from "../ops/param";
import { Rng } from "../util/rng";
import { makeNorm, assertNormKind } from "../norms/factory";
import type { Norm, NormKind, NormOptions } from "../norms/types";
import { Linear } from "./linear";
import { applyNorm, type ForwardOptions } from "./transformer";
import { asImages, checkPosInt, patchify } from "./vision-common";

export interface MixerConfig {
  imageSize: number;
  channels: number;
  patchSize: number;
  dim: number;
  depth: number;
  /** Token-mixing MLP width = tokenMlpRatio x dim (Mixer-B: 384 / 768 = 0.5). */
  tokenMlpRatio: number;
  /** Channel-mixing MLP width = channelMlpRatio x dim (4). */
  channelMlpRatio: number;
  numClasses: number;
  norm: NormKind;
  normOptions: NormOptions;
  initStd: number;
  seed: number;
}

export const MIXER_DEFAULTS: MixerConfig = {
  imageSize: 28,
  channels: 1,
  patchSize: 4,
  dim: 64,
  depth: 4,
  tokenMlpRatio: 0.5,
  channelMlpRatio: 4,
  numClasses: 10,
  norm: "layernorm",
  normOptions: {},
  initStd: 0.02,
  seed: 0,
};

export function resolveMixerConfig(partial: Partial<MixerConfig> = {}): MixerConfig {
  const c: MixerConfig = { ...MIXER_DEFAULTS, ...partial, normOptions: { ...MIXER_DEFAULTS.normOptions, ...partial.normOptions } };
  assertNormKind(c.norm);
  for (const k of ["imageSize", "channels", "patchSize", "dim", "depth", "numClasses"] as const) checkPosInt("MLP-Mixer", k, c[k]);
  if (c.imageSize % c.patchSize !== 0)
    throw new Error(`MLP-Mixer config: patchSize ${c.patchSize} does not divide imageSize ${c.imageSize}; pick a divisor of ${c.imageSize}`);
  for (const k of ["tokenMlpRatio", "channelMlpRatio"] as const)
    if (!(c[k] > 0) || Math.round(c[k] * c.dim) < 1) throw new Error(`MLP-Mixer config: ${k} x dim must round to >= 1 unit, got ${c[k]} x ${c.dim}`);
  return c;
}

/** Mixer block: x + TokenMLP(N1(x)^T)^T, then + ChannelMLP(N2(.)) (pre-norm, as in the Mixer paper). */
export class MixerBlock {
  readonly n1: Norm;
  readonly n2: Norm;
  readonly tok1: Linear;
  readonly tok2: Linear;
  readonly ch1: Linear;
  readonly ch2: Linear;
  constructor(store: ParamStore, tokens: number, c: MixerConfig) {
    const tn = { kind: "truncNormal", std: c.initStd } as const;
    const dt = Math.round(c.tokenMlpRatio * c.dim);
    const dc = Math.round(c.channelMlpRatio * c.dim);
    this.n1 = makeNorm(c.norm, c.dim, c.normOptions, store, "norm1");
    this.tok1 = new Linear(store, "mlp_tokens.fc1", tokens, dt, tn);
    this.tok2 = new Linear(store, "mlp_tokens.fc2", dt, tokens, tn);
    this.n2 = makeNorm(c.norm, c.dim, c.normOptions, store, "norm2");
    this.ch1 = new Linear(store, "mlp_channels.fc1", c.dim, dc, tn);
    this.ch2 = new Linear(store, "mlp_channels.fc2", dc, c.dim, tn);
  }

  forward(x: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    const t = tf.transpose(applyNorm(this.n1, x, opts), [0, 2, 1]); // [B, C, T]: mix along tokens
    const h = tf.add(x, tf.transpose(this.tok2.apply(gelu(this.tok1.apply(t, opts)), opts), [0, 2, 1]));
    return tf.add(h, this.ch2.apply(gelu(this.ch1.apply(applyNorm(this.n2, h, opts), opts)), opts));
  }
}

/**
 * MLP-Mixer (Tolstikhin et al. 2021), named in the DyT paper: linear patch
 * embedding, `depth` Mixer blocks, final norm, mean over tokens, linear head.
 * Every norm comes from makeNorm.
 */
export class MLPMixer {
  readonly config: MixerConfig;
  readonly params: Param[];
  readonly patchEmbed: Linear;
  readonly blocks: MixerBlock[] = [];
  readonly finalNorm: Norm;
  readonly head: Linear;
  readonly numPatches: number;

  constructor(config: Partial<MixerConfig> = {}) {
    const c = resolveMixerConfig(config);
    this.config = c;
    const store = new ParamStore(new Rng(c.seed));
    const g = c.imageSize / c.patchSize;
    this.numPatches = g * g;
    const fanIn = c.patchSize * c.patchSize * c.channels;
    // PyTorch's default Conv2d init for the patch embedding, as the lab's ViT (lib/models/vit.ts).
    this.patchEmbed = new Linear(store, "stem", fanIn, c.dim, { kind: "uniform", bound: 1 / Math.sqrt(fanIn), biasBound: 1 / Math.sqrt(fanIn) });
    for (let i = 0; i < c.depth; i++) this.blocks.push(new MixerBlock(store.scope(`blocks.${i}`), this.numPatches, c));
    this.finalNorm = makeNorm(c.norm, c.dim, c.normOptions, store, "norm");
    this.head = new Linear(store, "head", c.dim, c.numClasses, { kind: "truncNormal", std: c.initStd });
    this.params = store.params;
  }

  norms(): Norm[] {
    return [...this.blocks.flatMap((b) => [b.n1, b.n2]), this.finalNorm];
  }

  parameterCount(): number {
    return countParams(this.params.filter((p) => p.variable.trainable));
  }

  forward(images: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    const c = this.config;
    return tf.tidy(() => {
      const x4 = asImages(images, c.imageSize, c.channels, "MLPMixer");
      const B = x4.shape[0];
      let x: tf.Tensor = this.patchEmbed.apply(patchify(x4, c.patchSize).reshape([B, this.numPatches, -1]), opts);
      for (const [i, b] of this.blocks.entries()) {
        x = b.forward(x, opts);
        opts?.onBlock?.(i, x);
      }
      return this.head.apply(tf.mean(applyNorm(this.finalNorm, x, opts), 1), opts);
    });
  }

  dispose(): void {
    disposeParams(this.params);
  }
}
