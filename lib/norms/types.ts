import * as tf from "@tensorflow/tfjs";
import type { Param } from "../ops/param";

/**
 * Every normalization (or its replacement) the lab can put in a norm slot.
 * "batchnorm" normalises over the batch (and space), per channel: it is the
 * norm of the ResNet slot (the paper's BN -> DyT failure case), not of
 * transformers.
 */
export const NORM_KINDS = ["layernorm", "rmsnorm", "dyt", "identity", "batchnorm"] as const;
export type NormKind = (typeof NORM_KINDS)[number];

/** S-shaped functions DyT can use (paper ablation, Table 7). */
export const SQUASHERS = ["tanh", "hardtanh", "sigmoid", "shifted-sigmoid", "softsign", "erf", "identity"] as const;
export type Squasher = (typeof SQUASHERS)[number];

export type Layout = "channels-last" | "channels-first";

export interface NormOptions {
  /** DyT: initial alpha (paper default 0.5). */
  alpha0?: number;
  /** DyT: learn alpha (true) or freeze it at alpha0 (the "no alpha" ablation). */
  learnAlpha?: boolean;
  /** DyT: the squashing function (default tanh). */
  squash?: Squasher;
  /** LayerNorm / RMSNorm / BatchNorm epsilon (LN default 1e-6 as in timm ViT, RMS 1e-6, BN 1e-5 as PyTorch). */
  eps?: number;
  /** Learnable per-channel gain gamma (default true). */
  gain?: boolean;
  /** Learnable per-channel bias beta (default true; RMSNorm has none). */
  bias?: boolean;
  /** Initial gamma (default 1; res-post-norm uses 0). */
  gain0?: number;
  /** Which axis holds the channels: last ([B,T,C]) or 1 ([B,C,H,W]). */
  layout?: Layout;
  /** BatchNorm: running-statistics momentum, PyTorch's convention (default 0.1). */
  momentum?: number;
}

/** Per-call options of a norm: train/eval mode (only BatchNorm reads it). */
export interface NormCallOptions {
  /** Train mode: BatchNorm uses batch statistics and updates its running ones. Default false (eval). */
  training?: boolean;
}

export interface Norm {
  readonly kind: NormKind;
  readonly name: string;
  readonly dim: number;
  readonly params: Param[];
  /** DyT's alpha; undefined for other kinds. */
  readonly alpha?: tf.Variable;
  /** Which axis holds the channels (hooks move channels-first inputs to channels-last). Default channels-last. */
  readonly layout?: Layout;
  /** BatchNorm's running mean / variance (non-trainable; checkpointed with the params). */
  readonly runningMean?: tf.Variable;
  readonly runningVar?: tf.Variable;
  /** `opts.training` selects BatchNorm's mode; every other kind ignores it. */
  apply(x: tf.Tensor, opts?: NormCallOptions): tf.Tensor;
  /**
   * A channels-first norm whose statistic or scale is per position over C
   * (LayerNorm, RMSNorm, DyT, identity; not BatchNorm): the same norm, same
   * parameters, over the last axis of a channels-last input. The numbers
   * equal apply() on the transposed input, and an NHWC model skips the two
   * transposes (and, on the native engine, runs the fused kernel).
   */
  readonly applyChannelsLast?: (x: tf.Tensor) => tf.Tensor;
}
