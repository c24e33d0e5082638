import * as tf from "@tensorflow/tfjs";
import { channelGeometry, checkChannels } from "./common";
import { standardizedAffine } from "./standardize";
import type { Layout } from "./types";

/** Running statistics of a BatchNorm: updated in train mode, used in eval mode. */
export interface BatchNormState {
  runningMean: tf.Variable;
  runningVar: tf.Variable;
  /** PyTorch's momentum: running = (1 - m) running + m batch (default 0.1). */
  momentum: number;
}

/**
 * BatchNorm (Ioffe & Szegedy 2015) over every axis but the channel axis, as
 * PyTorch's BatchNorm2d (channels-first [B, C, H, W]) or its NHWC twin
 * (channels-last [B, H, W, C], what tfjs convolutions produce).
 *
 * Train mode (`training` true): normalise with the batch mean and biased
 * variance; update the running mean and the unbiased running variance
 * (n / (n - 1)), as PyTorch does. Eval mode: y = g (x - mean_run) /
 * sqrt(var_run + eps) + b, a fixed per-channel affine (linear) map.
 * The train-mode backward is written out (same form as LayerNorm's, with
 * the reduction over batch and space instead of channels).
 */
export function batchNorm(
  x: tf.Tensor,
  gamma: tf.Tensor | undefined,
  beta: tf.Tensor | undefined,
  state: BatchNormState,
  eps: number,
  training: boolean,
  layout: Layout = "channels-last",
): tf.Tensor {
  const dim = state.runningMean.shape[0]!;
  const { axis, paramShape, reduceAxes } = channelGeometry(x.rank, dim, layout);
  checkChannels(x, dim, axis, "batchnorm");
  const g = gamma?.reshape(paramShape);
  const b = beta?.reshape(paramShape);
  if (!training) {
    return tf.tidy(() => {
      const rs = tf.rsqrt(tf.add(state.runningVar, eps)).reshape(paramShape);
      let y = tf.mul(tf.sub(x, state.runningMean.reshape(paramShape)), rs);
      if (g) y = tf.mul(y, g);
      if (b) y = tf.add(y, b);
      return y;
    });
  }
  const count = x.size / dim;
  if (count < 2) throw new Error(`batchnorm: train mode needs more than one value per channel, got input shape [${x.shape.join(",")}]`);
  return standardizedAffine(x, g, b, reduceAxes, reduceAxes, paramShape, (xin) => {
    const mu = tf.mean(xin, reduceAxes, true);
    const centered = tf.sub(xin, mu);
    const variance = tf.mean(tf.square(centered), reduceAxes, true);
    // Running statistics: a side effect of the train-mode forward (not differentiated).
    const m = state.momentum;
    state.runningMean.assign(tf.add(tf.mul(state.runningMean, 1 - m), tf.mul(mu.reshape([dim]), m)));
    state.runningVar.assign(tf.add(tf.mul(state.runningVar, 1 - m), tf.mul(variance.reshape([dim]), (m * count) / (count - 1))));
    return { centered, variance };
  }, eps);
}
