import * as tf from "@tensorflow/tfjs";

/** Global L2 norm of all gradients (one scalar tensor). */
export function globalNorm(grads: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
}

/** Scale gradients so their global norm is at most maxNorm (PyTorch clip_grad_norm_). Returns new tensors. */
export function clipByGlobalNorm(grads: tf.Tensor[], norm: number, maxNorm: number): tf.Tensor[] {
  const scale = maxNorm / (norm + 1e-6);
  if (!(scale < 1)) return grads.map((g) => g.clone());
  return grads.map((g) => tf.mul(g, scale));
}
