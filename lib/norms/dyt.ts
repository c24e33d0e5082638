import * as tf from "@tensorflow/tfjs";
import { withCustomGrad } from "../ops/grad";
import { fusedDyt, fusedNormUsable } from "../ops/fused-norm";
import { channelGeometry, checkChannels, reduceToParam } from "./common";
import type { Layout, Squasher } from "./types";

/** phi(z) for each squasher (baselines.md, squasher family). */
export function squash(kind: Squasher, z: tf.Tensor): tf.Tensor {
  switch (kind) {
    case "tanh":
      return tf.tanh(z);
    case "hardtanh":
      return tf.clipByValue(z, -1, 1);
    case "sigmoid":
      return tf.sigmoid(z);
    case "shifted-sigmoid":
      return tf.sub(tf.mul(tf.sigmoid(z), 2), 1);
    case "softsign":
      return tf.div(z, tf.add(tf.abs(z), 1));
    case "erf":
      return tf.erf(z);
    case "identity":
      return z.clone();
  }
}

/**
 * DyT with tanh: y = g * tanh(a * x) + b, a a scalar. Hand-written backward
 * (one tanh, reused): with t = tanh(a x), dz = dy * g * (1 - t^2),
 * dx = a dz, da = sum(dz * x), dg = sum(dy * t), db = sum(dy).
 */
function dytTanh(x: tf.Tensor, alpha: tf.Tensor, g: tf.Tensor | undefined, b: tf.Tensor | undefined, reduceAxes: number[], paramShape: number[]): tf.Tensor {
  const inputs = [x, alpha, ...(g ? [g] : []), ...(b ? [b] : [])];
  const f = withCustomGrad((ins, save) => {
    const [xin, a] = ins as [tf.Tensor, tf.Tensor];
    const t = tf.tanh(tf.mul(xin, a));
    const value = tf.tidy(() => {
      let y = t;
      if (g) y = tf.mul(y, ins[2]!);
      if (b) y = tf.add(y, ins[g ? 3 : 2]!);
      return y === t ? t.clone() : y;
    });
    save([xin, a, t, ...(g ? [ins[2]!] : [])]);
    t.dispose();
    return {
      value,
      gradFunc: (dy, saved) => {
        const [sx, sa, st] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dt = g ? tf.mul(dy, saved[3]!) : dy;
        const dz = tf.mul(dt, tf.sub(1, tf.square(st)));
        const grads = [tf.mul(dz, sa), tf.sum(tf.mul(dz, sx)).reshape(sa.shape)];
        if (g) grads.push(reduceToParam(tf.mul(dy, st), reduceAxes, paramShape));
        if (b) grads.push(reduceToParam(dy, reduceAxes, paramShape));
        return grads;
      },
    };
  });
  return f(...inputs);
}

/**
 * DyT(x) = gamma * phi(alpha * x) + beta with a scalar alpha (shape [1]).
 * No statistics, no epsilon. tanh uses the hand-written gradient; the other
 * squashers (ablations) use autodiff.
 */
export function dyt(
  x: tf.Tensor,
  alpha: tf.Tensor,
  gamma: tf.Tensor | undefined,
  beta: tf.Tensor | undefined,
  phi: Squasher = "tanh",
  layout: Layout = "channels-last",
): tf.Tensor {
  const dim = gamma?.shape[0] ?? beta?.shape[0] ?? x.shape[layout === "channels-last" ? x.rank - 1 : 1]!;
  const { axis, paramShape, reduceAxes } = channelGeometry(x.rank, dim, layout);
  checkChannels(x, dim, axis, "dyt");
  const g = gamma?.reshape(paramShape);
  const b = beta?.reshape(paramShape);
  // Native engine: one fused kernel each way (lib/ops/fused-norm.ts).
  if (phi === "tanh" && layout === "channels-last" && fusedNormUsable(x, alpha, g, b)) return fusedDyt(x, alpha, g, b);
  if (phi === "tanh") return dytTanh(x, alpha, g, b, reduceAxes, paramShape);
  return tf.tidy(() => {
    let y = squash(phi, tf.mul(x, alpha));
    if (g) y = tf.mul(y, g);
    if (b) y = tf.add(y, b);
    return y;
  });
}
