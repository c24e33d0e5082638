import * as tf from "@tensorflow/tfjs";
import { fusedLayerNorm, fusedNormUsable } from "../ops/fused-norm";
import { channelGeometry, checkChannels } from "./common";
import { standardizedAffine } from "./standardize";
import type { Layout } from "./types";

/**
 * LayerNorm y = g * (x - mu) / sqrt(var + eps) + b over the channel axis,
 * biased variance (divide by C), as in PyTorch. The backward pass is written
 * out (standardize.ts).
 * gamma / beta may be undefined (no affine: "LayerNorm-simple").
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor | undefined, beta: tf.Tensor | undefined, eps: number, layout: Layout = "channels-last"): tf.Tensor {
  const dim = gamma?.shape[0] ?? beta?.shape[0] ?? x.shape[layout === "channels-last" ? x.rank - 1 : 1]!;
  const { axis, paramShape, reduceAxes } = channelGeometry(x.rank, dim, layout);
  checkChannels(x, dim, axis, "layernorm");
  const g = gamma?.reshape(paramShape);
  const b = beta?.reshape(paramShape);
  // Native engine: one fused kernel each way (lib/ops/fused-norm.ts).
  if (layout === "channels-last" && fusedNormUsable(x, g, b)) return fusedLayerNorm(x, g, b, eps);
  return standardizedAffine(x, g, b, [axis], reduceAxes, paramShape, (xin) => {
    const centered = tf.sub(xin, tf.mean(xin, axis, true));
    return { centered, variance: tf.mean(tf.square(centered), axis, true) };
  }, eps);
}
