import * as tf from "@tensorflow/tfjs";
import { withCustomGrad } from "./grad";

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Exact (erf) GELU, as in timm's ViT. tfjs 4.22 has no gelu op; the gradient
 * is written out so backward costs one erf and one exp, not a chain of ops.
 */
export const gelu: (x: tf.Tensor) => tf.Tensor = withCustomGrad(([x], save) => {
  save([x!]);
  const value = tf.tidy(() => tf.mul(tf.mul(x!, 0.5), tf.add(1, tf.erf(tf.mul(x!, INV_SQRT2)))));
  return {
    value,
    gradFunc: (dy, [sx]) => {
      const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(sx!, INV_SQRT2))));
      const pdf = tf.mul(tf.exp(tf.mul(tf.square(sx!), -0.5)), INV_SQRT_2PI);
      return [tf.mul(dy, tf.add(cdf, tf.mul(sx!, pdf)))];
    },
  };
});
