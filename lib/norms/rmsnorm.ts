import * as tf from "@tensorflow/tfjs";
import { fusedNormUsable, fusedRmsNorm } from "../ops/fused-norm";
import { channelGeometry, checkChannels } from "./common";
import type { Layout } from "./types";

/** RMSNorm y = g * x / sqrt(mean(x^2) + eps): no re-centering, no bias by default. Autodiff gradient. */
export function rmsNorm(x: tf.Tensor, gamma: tf.Tensor | undefined, beta: tf.Tensor | undefined, eps: number, layout: Layout = "channels-last"): tf.Tensor {
  // Native engine: one fused kernel each way, hand-written backward (lib/ops/fused-norm.ts).
  if (layout === "channels-last" && fusedNormUsable(x, gamma, beta)) {
    checkChannels(x, gamma?.shape[0] ?? x.shape[x.rank - 1]!, x.rank - 1, "rmsnorm");
    return fusedRmsNorm(x, gamma, beta, eps);
  }
  return tf.tidy(() => {
    const dim = gamma?.shape[0] ?? x.shape[layout === "channels-last" ? x.rank - 1 : 1]!;
    const { axis, paramShape } = channelGeometry(x.rank, dim, layout);
    checkChannels(x, dim, axis, "rmsnorm");
    let y = tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), axis, true), eps)));
    if (gamma) y = tf.mul(y, gamma.reshape(paramShape));
    if (beta) y = tf.add(y, beta.reshape(paramShape));
    return y;
  });
}
