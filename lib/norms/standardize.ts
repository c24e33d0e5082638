import * as tf from "@tensorflow/tfjs";
import { withCustomGrad } from "../ops/grad";
import { reduceToParam } from "./common";

/**
 * y = g * xhat + b with xhat = (x - mu) * rstd, x - mu and the variance taken
 * over `statAxes` by `stats` (which may have side effects, e.g. BatchNorm's running
 * averages). The backward is written out, one expression instead of
 * autodiff's chain of small ops: dx = rstd (dxhat - mean(dxhat) - xhat
 * mean(dxhat xhat)), means over `statAxes`; it is the same for LayerNorm
 * (statistics over channels) and train-mode BatchNorm (over batch and space).
 */
export function standardizedAffine(
  x: tf.Tensor,
  g: tf.Tensor | undefined,
  b: tf.Tensor | undefined,
  statAxes: number[],
  paramReduceAxes: number[],
  paramShape: number[],
  stats: (x: tf.Tensor) => { centered: tf.Tensor; variance: tf.Tensor },
  eps: number,
): tf.Tensor {
  const inputs = [x, ...(g ? [g] : []), ...(b ? [b] : [])];
  const f = withCustomGrad((ins, save) => {
    const xin = ins[0]!;
    const [xhat, rstd] = tf.tidy(() => {
      const { centered, variance } = stats(xin);
      const rs = tf.rsqrt(tf.add(variance, eps));
      return [tf.mul(centered, rs), rs];
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
        const m1 = tf.mean(dxhat, statAxes, true);
        const m2 = tf.mean(tf.mul(dxhat, sx), statAxes, true);
        const dx = tf.mul(sr, tf.sub(tf.sub(dxhat, m1), tf.mul(sx, m2)));
        const grads = [dx];
        if (g) grads.push(reduceToParam(tf.mul(dy, sx), paramReduceAxes, paramShape));
        if (b) grads.push(reduceToParam(dy, paramReduceAxes, paramShape));
        return grads;
      },
    };
  });
  return f(...inputs);
}
