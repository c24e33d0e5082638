import * as tf from "@tensorflow/tfjs";
import { withCustomGrad } from "../ops/grad";
import { fusedLayerNorm, fusedNormUsable } from "../ops/fused-norm";
import { channelGeometry, checkChannels, reduceToParam } from "./common";
import type { Layout } from "./types";

/**
 * LayerNorm y = g * (x - mu) / sqrt(var + eps) + b over the channel axis,
 * biased variance (divide by C), as in PyTorch. The backward pass is written
 * out (one fused expression instead of autodiff's chain of small ops).
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
  const inputs = [x, ...(g ? [g] : []), ...(b ? [b] : [])];
  const f = withCustomGrad((ins, save) => {
    const xin = ins[0]!;
    const [xhat, rstd] = tf.tidy(() => {
      const mu = tf.mean(xin, axis, true);
      const xc = tf.sub(xin, mu);
      const rs = tf.rsqrt(tf.add(tf.mean(tf.square(xc), axis, true), eps));
      return [tf.mul(xc, rs), rs];
    }) as [tf.Tensor, tf.Tensor];
    const value = tf.tidy(() => {
      let y = xhat;
      if (g) y = tf.mul(y, ins[1]!);
      if (b) y = tf.add(y, ins[g ? 2 : 1]!);
      return y === xhat ? xhat.clone() : y;
    });
    save([xhat, rstd, ...(g ? [ins[1]!] : [])]);
    return {
      value,
      gradFunc: (dy, saved) => {
        const [sx, sr] = saved as [tf.Tensor, tf.Tensor];
        const dxhat = g ? tf.mul(dy, saved[2]!) : dy;
        const m1 = tf.mean(dxhat, axis, true);
        const m2 = tf.mean(tf.mul(dxhat, sx), axis, true);
        const dx = tf.mul(sr, tf.sub(tf.sub(dxhat, m1), tf.mul(sx, m2)));
        const grads = [dx];
        if (g) grads.push(reduceToParam(tf.mul(dy, sx), reduceAxes, paramShape));
        if (b) grads.push(reduceToParam(dy, reduceAxes, paramShape));
        return grads;
      },
    };
  });
  return f(...inputs);
}
