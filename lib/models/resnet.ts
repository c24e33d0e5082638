import * as tf from "@tensorflow/tfjs";
import { conv2d } from "../ops/conv";
import { ParamStore, countParams, disposeParams, type Param } from "../ops/param";
import { Rng } from "../util/rng";
import { makeNorm, assertNormKind } from "../norms/factory";
import type { Norm, NormKind, NormOptions } from "../norms/types";
import { Linear } from "./linear";
import { applyNorm, type ForwardOptions } from "./transformer";
import { asImages, checkPosInt } from "./vision-common";

export interface ResNetConfig {
  imageSize: number;
  channels: number;
  numClasses: number;
  /** Channels per stage; stages after the first halve the resolution (CIFAR ResNet: 16, 32, 64). */
  widths: number[];
  /** Basic blocks per stage (CIFAR ResNet-(6n+2): n each; 1 -> ResNet-8). */
  blocksPerStage: number[];
  /** The norm slot: "batchnorm" (the ResNet's own) or "dyt" (the paper's failure case), or any kind. */
  norm: NormKind;
  normOptions: NormOptions;
  seed: number;
}

export const RESNET_DEFAULTS: ResNetConfig = {
  imageSize: 28,
  channels: 1,
  numClasses: 10,
  widths: [16, 32, 64],
  blocksPerStage: [1, 1, 1],
  norm: "batchnorm",
  normOptions: {},
  seed: 0,
};

export function resolveResNetConfig(partial: Partial<ResNetConfig> = {}): ResNetConfig {
  const c: ResNetConfig = {
    ...RESNET_DEFAULTS,
    ...partial,
    widths: [...(partial.widths ?? RESNET_DEFAULTS.widths)],
    blocksPerStage: [...(partial.blocksPerStage ?? RESNET_DEFAULTS.blocksPerStage)],
    normOptions: { ...RESNET_DEFAULTS.normOptions, ...partial.normOptions },
  };
  assertNormKind(c.norm);
  for (const k of ["imageSize", "channels", "numClasses"] as const) checkPosInt("ResNet", k, c[k]);
  if (c.widths.length === 0 || c.widths.length !== c.blocksPerStage.length)
    throw new Error(`ResNet config: widths (${c.widths.length} stages) and blocksPerStage (${c.blocksPerStage.length}) must have the same non-zero length`);
  c.widths.forEach((w, i) => checkPosInt("ResNet", `widths[${i}]`, w));
  c.blocksPerStage.forEach((n, i) => checkPosInt("ResNet", `blocksPerStage[${i}]`, n));
  if (c.normOptions.layout === "channels-first")
    throw new Error(`ResNet config: the ResNet runs NHWC, so its norms are channels-last; drop normOptions.layout`);
  return c;
}

/** Kaiming-normal (fan_out, ReLU) conv kernel [k, k, in, out], as torchvision's ResNet init. */
function kaimingConv(store: ParamStore, name: string, k: number, cin: number, cout: number): tf.Variable {
  return store.truncNormal(name, [k, k, cin, cout], Math.sqrt(2 / (k * k * cout)));
}

/** Basic block: conv3x3(s) -> N -> ReLU -> conv3x3 -> N, + shortcut (1x1 conv(s) -> N when the shape changes), ReLU. */
export class BasicBlock {
  readonly n1: Norm;
  readonly n2: Norm;
  readonly nShort: Norm | undefined;
  private readonly w1: tf.Variable;
  private readonly w2: tf.Variable;
  private readonly wShort: tf.Variable | undefined;
  constructor(
    store: ParamStore,
    cin: number,
    cout: number,
    readonly stride: number,
    c: ResNetConfig,
  ) {
    const nopts = { ...c.normOptions, layout: "channels-last" as const };
    this.w1 = kaimingConv(store, "conv1.weight", 3, cin, cout);
    this.n1 = makeNorm(c.norm, cout, nopts, store, "bn1");
    this.w2 = kaimingConv(store, "conv2.weight", 3, cout, cout);
    this.n2 = makeNorm(c.norm, cout, nopts, store, "bn2");
    if (stride !== 1 || cin !== cout) {
      this.wShort = kaimingConv(store, "downsample.conv.weight", 1, cin, cout);
      this.nShort = makeNorm(c.norm, cout, nopts, store, "downsample.bn");
    }
  }

  forward(x: tf.Tensor4D, opts?: ForwardOptions): tf.Tensor4D {
    let h = tf.relu(applyNorm(this.n1, conv2d(x, this.w1 as tf.Tensor4D, this.stride, 1), opts)) as tf.Tensor4D;
    h = applyNorm(this.n2, conv2d(h, this.w2 as tf.Tensor4D, 1, 1), opts) as tf.Tensor4D;
    const s = this.wShort ? applyNorm(this.nShort!, conv2d(x, this.wShort as tf.Tensor4D, this.stride, 0), opts) : x;
    return tf.relu(tf.add(h, s)) as tf.Tensor4D;
  }

  norms(): Norm[] {
    return [this.n1, this.n2, ...(this.nShort ? [this.nShort] : [])];
  }
}

/**
 * A small CIFAR-style ResNet (He et al. 2016) with a `norm` slot: the DyT
 * paper's failure case replaces every BatchNorm of a ResNet-50 with DyT
 * (76.2 -> 68.9 top-1). Stem conv3x3 -> N -> ReLU, stages of basic blocks
 * (stride 2 at each later stage's first block), global average pool, linear
 * head. Convolutions are lib/ops/conv (gradients on every engine).
 * Train/eval mode reaches BatchNorm through ForwardOptions.training (the
 * trainer passes training: true on update steps only; evaluation, capture
 * hooks and plain forward calls run in eval mode with the running statistics).
 */
export class ResNet {
  readonly config: ResNetConfig;
  readonly params: Param[];
  readonly stemNorm: Norm;
  readonly blocks: BasicBlock[] = [];
  readonly head: Linear;
  private readonly stemW: tf.Variable;

  constructor(config: Partial<ResNetConfig> = {}) {
    const c = resolveResNetConfig(config);
    this.config = c;
    const store = new ParamStore(new Rng(c.seed));
    this.stemW = kaimingConv(store, "conv1.weight", 3, c.channels, c.widths[0]!);
    this.stemNorm = makeNorm(c.norm, c.widths[0]!, { ...c.normOptions, layout: "channels-last" }, store, "bn1");
    let cin = c.widths[0]!;
    c.widths.forEach((w, i) => {
      for (let j = 0; j < c.blocksPerStage[i]!; j++) {
        this.blocks.push(new BasicBlock(store.scope(`layer${i + 1}.${j}`), cin, w, i > 0 && j === 0 ? 2 : 1, c));
        cin = w;
      }
    });
    const last = c.widths.at(-1)!;
    // PyTorch's default Linear init (torchvision leaves the fc layer at it).
    this.head = new Linear(store, "fc", last, c.numClasses, { kind: "uniform", bound: 1 / Math.sqrt(last), biasBound: 1 / Math.sqrt(last) });
    this.params = store.params;
  }

  norms(): Norm[] {
    return [this.stemNorm, ...this.blocks.flatMap((b) => b.norms())];
  }

  /** Trainable parameters (BatchNorm's running statistics are buffers, not counted). */
  parameterCount(): number {
    return countParams(this.params.filter((p) => p.variable.trainable));
  }

  forward(images: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
    const c = this.config;
    return tf.tidy(() => {
      const x0 = asImages(images, c.imageSize, c.channels, "ResNet");
      let x = tf.relu(applyNorm(this.stemNorm, conv2d(x0, this.stemW as tf.Tensor4D, 1, 1), opts)) as tf.Tensor4D;
      for (const [i, b] of this.blocks.entries()) {
        x = b.forward(x, opts);
        opts?.onBlock?.(i, x);
      }
      return this.head.apply(tf.mean(x, [1, 2]), opts);
    });
  }

  dispose(): void {
    disposeParams(this.params);
  }
}
