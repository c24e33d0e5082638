import * as tf from "@tensorflow/tfjs";
import { fusedKernelsUsable } from "../engine/native";
import { withCustomGrad } from "./grad";

/**
 * Matrix products that stay on the fast path of every engine.
 *
 * The wasm backend runs matMul with a transposed operand on a scalar loop
 * (~10x slower, measured: 512^3 takes 9 ms plain vs 116 ms with transposeB),
 * and tfjs's own matMul gradient uses exactly those transposed products. These
 * versions transpose explicitly instead, in the forward and in the gradient.
 * Same math, so results match tf.matMul within float32 rounding. On the
 * native engine the gradient's products pass the transpose flags instead:
 * its BatchMatMul is cblas_sgemm, which reads a transposed operand in place,
 * so the two explicit transposes per product (15-17 % of a Hyena or ConvNeXt
 * step's kernel time) are skipped.
 */
export function swapLast(t: tf.Tensor): tf.Tensor {
  const r = t.rank;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(t, perm);
}

/** Batched a @ b for rank >= 2 with equal batch dims. */
export const bmm: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor = withCustomGrad(([a, b], save) => {
  save([a!, b!]);
  return {
    value: tf.matMul(a!, b!),
    gradFunc: (dy, [sa, sb]) =>
      fusedKernelsUsable(dy, sa, sb) ? [tf.matMul(dy, sb!, false, true), tf.matMul(sa!, dy, true, false)] : [tf.matMul(dy, swapLast(sb!)), tf.matMul(swapLast(sa!), dy)],
  };
});

/** x[..., in] @ w[in, out] (+ bias[out]); flattens leading dims into one matmul, `mm` (default bmm; FP8 training passes fp8Matmul). */
export function linear(x: tf.Tensor, w: tf.Tensor, bias?: tf.Tensor, mm: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor = bmm): tf.Tensor {
  const inDim = w.shape[0]!;
  const outDim = w.shape[1]!;
  if (x.shape[x.rank - 1] !== inDim)
    throw new Error(`linear: input last dim ${x.shape[x.rank - 1]} does not match weight [${w.shape.join(",")}]`);
  const lead = x.shape.slice(0, -1);
  const x2 = x.rank === 2 ? x : x.reshape([-1, inDim]);
  let y = mm(x2, w);
  if (bias) y = tf.add(y, bias);
  return x.rank === 2 ? y : y.reshape([...lead, outDim]);
}
