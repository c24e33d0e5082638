/**
 * Kurtosis k = mean((x-m)^4) / mean((x-m)^2)^2 over all elements (Gaussian 3;
 * excess = k - 3). Computed in float64 on the host: the 4th moment of
 * float32 data summed in float32 loses digits on large tensors, and the
 * captured activations are small enough to read back.
 */
import * as tf from "@tensorflow/tfjs";

export interface Kurtosis {
  k: number;
  /** k - 3 (0 for a Gaussian). */
  excess: number;
  n: number;
}

/** Host copy of a tensor or array (reads tensor data synchronously). */
export function hostValues(x: ArrayLike<number> | tf.Tensor): ArrayLike<number> {
  return x instanceof tf.Tensor ? x.dataSync() : x;
}

/** Kurtosis of all elements. Constant or empty input gives NaN (0/0). */
export function kurtosis(x: ArrayLike<number> | tf.Tensor): Kurtosis {
  const v = hostValues(x);
  const n = v.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += v[i]!;
  const m = s / n;
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = v[i]! - m;
    const d2 = d * d;
    m2 += d2;
    m4 += d2 * d2;
  }
  m2 /= n;
  m4 /= n;
  const k = m4 / (m2 * m2);
  return { k, excess: k - 3, n };
}
