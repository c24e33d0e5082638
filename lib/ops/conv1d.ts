import * as tf from "@tensorflow/tfjs";
import { FUSED_KERNELS, fusedKernelsUsable } from "../engine/native";
import { withCustomGrad } from "./grad";
import { bmm, linear } from "./matmul";

/**
 * 1-D convolutions for the wav2vec 2.0 feature encoder and its convolutional
 * positional embedding, channels last ([B, L, C]), written with reshape,
 * slice, concat and matmul only, so autodiff gives their gradients on every
 * engine (tfjs 4.22's wasm backend has no Conv2DBackpropFilter, see
 * lib/ops/conv.ts) and the products run on the fast matmul path.
 *
 * Strided conv (kernel k, stride s, no padding, PyTorch's Conv1d): with
 * m = ceil(k / s), the input is cut into frames of s samples, [B, L/s, s C];
 * output t reads samples t s .. t s + k - 1, i.e. frames t .. t + m - 1 laid
 * side by side and cut to the first k C values. So the patches are m
 * contiguous slices of the frame tensor concatenated on the last axis (no
 * strided slices), then one [k C, Cout] matmul.
 */

/** Output length of a valid strided conv. */
export function conv1dOutLength(L: number, k: number, stride: number): number {
  return Math.floor((L - k) / stride) + 1;
}

/**
 * The native engine's patches: each output row is k C contiguous floats of x
 * (one copy), the gradient an overlap-add (native/dyt_native.cc unfold1d).
 * The slice / concat version below costs ~60 % of a wav2vec step there
 * (Slice, SplitV and Concat on the 1,599- and 3,199-step layers).
 */
function nativeUnfold1d(x: tf.Tensor, k: number, stride: number, outLength: number): tf.Tensor {
  const L = x.shape[1]!;
  return withCustomGrad(([xx]) => ({
    value: tf.engine().runKernel(FUSED_KERNELS.unfold1dFwd, { x: xx! }, { k, stride, outLength }) as tf.Tensor,
    gradFunc: (dy) => [tf.engine().runKernel(FUSED_KERNELS.unfold1dBwd, { dcols: dy }, { k, stride, length: L }) as tf.Tensor],
  }))(x);
}

/** Patches [B, To, k*C] of x [B, L, C] for kernel k and stride s (ordered tap, channel). */
export function unfold1d(x: tf.Tensor, k: number, stride: number): tf.Tensor {
  const [B, L, C] = x.shape as [number, number, number];
  const To = conv1dOutLength(L, k, stride);
  if (To < 1) throw new Error(`conv1d: input length ${L} is shorter than the kernel ${k}`);
  if (x.size > 0 && fusedKernelsUsable(x)) return nativeUnfold1d(x, k, stride, To);
  return tf.tidy(() => {
    const m = Math.ceil(k / stride);
    const need = (To - 1 + m) * stride;
    const xp = need <= L ? tf.slice(x, [0, 0, 0], [B, need, C]) : tf.pad(x, [[0, 0], [0, need - L], [0, 0]]);
    const frames = xp.reshape([B, To - 1 + m, stride * C]);
    const parts = Array.from({ length: m }, (_, j) => (m === 1 ? frames : tf.slice(frames, [0, j, 0], [B, To, stride * C])));
    const cols = m === 1 ? frames : tf.concat(parts, 2);
    return m * stride === k ? cols : tf.slice(cols, [0, 0, 0], [B, To, k * C]);
  });
}

/** Valid 1-D convolution: x [B, L, Cin], w [k, Cin, Cout], optional bias [Cout] -> [B, To, Cout]. */
export function conv1d(x: tf.Tensor, w: tf.Tensor, stride = 1, bias?: tf.Tensor): tf.Tensor {
  if (x.rank !== 3 || w.rank !== 3) throw new Error(`conv1d: expected x [B, L, C] and w [k, Cin, Cout], got [${x.shape.join(",")}] and [${w.shape.join(",")}]`);
  const [k, cin, cout] = w.shape as [number, number, number];
  if (x.shape[2] !== cin) throw new Error(`conv1d: input has ${x.shape[2]} channels, kernel [${w.shape.join(",")}] expects ${cin}`);
  if (!Number.isInteger(stride) || stride < 1) throw new Error(`conv1d: stride must be a positive integer, got ${stride}`);
  return tf.tidy(() => linear(unfold1d(x, k, stride), w.reshape([k * cin, cout]), bias));
}

/**
 * Grouped "same" 1-D convolution, stride 1 (wav2vec 2.0's positional conv):
 * x [B, T, C], w [G, K, C/G, C/G] (group g maps its C/G input channels to its
 * C/G outputs), bias [C]. Padding floor(K/2) left and K - 1 - floor(K/2)
 * right, so the output has T steps (for even K this is PyTorch's padding K/2
 * followed by dropping the last step, fairseq's SamePad).
 */
export function groupedConv1dSame(x: tf.Tensor, w: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const [B, T, C] = x.shape as [number, number, number];
  const [G, K, cg, cg2] = w.shape as [number, number, number, number];
  if (G * cg !== C || cg !== cg2) throw new Error(`groupedConv1dSame: kernel [${w.shape.join(",")}] does not fit ${C} channels (need [G, K, C/G, C/G])`);
  return tf.tidy(() => {
    const left = Math.floor(K / 2);
    const xp = tf.pad(x, [[0, 0], [left, K - 1 - left], [0, 0]]);
    const cols = unfold1d(xp, K, 1); // [B, T, K*C], (tap, channel)
    const g = tf.transpose(cols.reshape([B * T, K, G, cg]), [2, 0, 1, 3]).reshape([G, B * T, K * cg]);
    const y = bmm(g, w.reshape([G, K * cg, cg])); // [G, B*T, cg]
    const out = tf.transpose(y, [1, 0, 2]).reshape([B, T, C]);
    return bias ? tf.add(out, bias) : out;
  });
}

/**
 * Weight normalisation over every axis but `axis` (PyTorch weight_norm(dim=axis)):
 * w = g * v / ||v||, g of length v.shape[axis].
 */
export function weightNorm(v: tf.Tensor, g: tf.Tensor, axis: number): tf.Tensor {
  return tf.tidy(() => {
    const axes = v.shape.map((_, i) => i).filter((i) => i !== axis);
    const n = tf.sqrt(tf.sum(tf.square(v), axes, true));
    const shape = v.shape.map((d, i) => (i === axis ? d : 1));
    return tf.mul(v, tf.div(g.reshape(shape), n));
  });
}

/**
 * Straight-through one-hot: the forward value is one_hot(argmax(y, -1)), the
 * gradient passes to y unchanged (hard Gumbel-softmax: y_hard - sg(y) + y).
 */
export const straightThroughOneHot: (y: tf.Tensor) => tf.Tensor = withCustomGrad(([y]) => {
  const V = y!.shape[y!.rank - 1]!;
  return {
    value: tf.oneHot(tf.argMax(y!, -1), V).toFloat(),
    gradFunc: (dy) => [dy],
  };
});
