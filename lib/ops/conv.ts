import * as tf from "@tensorflow/tfjs";
import { nativeDepthwiseUsable } from "../engine/native";
import { withCustomGrad } from "./grad";

/**
 * Convolutions with gradients on every engine.
 *
 * tfjs 4.22's wasm backend (and so the native engine, which is wasm plus
 * OpenBLAS kernels) registers Conv2D, Conv2DBackpropInput and
 * DepthwiseConv2dNative but not Conv2DBackpropFilter nor either depthwise
 * backprop kernel, so tf.grads through tf.conv2d / tf.depthwiseConv2d throws
 * "Kernel ... not registered for backend 'wasm'" there (checked in
 * test/vision-models.test.ts). These wrappers keep tfjs's own forward kernels
 * (XNNPACK on wasm) and write every backward product as another forward
 * convolution, so it runs on the same fast kernels:
 *   conv2d      dx: conv of the dilated, padded dy with the flipped kernel
 *               dw: conv contracting the batch (x as [Cin, H, W, B], dy as the kernel)
 *   depthwise   dx: depthwise conv of the padded dy with the flipped kernel
 *               dw: depthwise conv of the batch stacked along H with dy stacked alike
 * Padding is explicit and symmetric (PyTorch's Conv2d(padding=p)), applied
 * with tf.pad outside the custom gradient so autodiff handles it.
 * Layout NHWC; kernels [k, k, in, out] (conv2d) and [k, k, C, 1] (depthwise).
 *
 * Exception: on the native engine, which registers native depthwise backprop
 * kernels on wasm (lib/engine/native.ts), depthwiseConv2d is plain
 * tf.depthwiseConv2d with the padding inside the kernel and tfjs's own gradient.
 */

function padSpatial(x: tf.Tensor4D, pad: number): tf.Tensor4D {
  return pad > 0 ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
}

function outSize(n: number, k: number, stride: number): number {
  return Math.floor((n - k) / stride) + 1;
}

/** [B, Ho, Wo, k*k*C] patches of a (padded) input, ordered (i, j, c) like a [k, k, C, out] kernel. */
export function im2col(xp: tf.Tensor4D, k: number, stride: number): tf.Tensor4D {
  const [B, H, W, C] = xp.shape;
  const Ho = outSize(H, k, stride);
  const Wo = outSize(W, k, stride);
  if (k === 1 && stride === 1) return xp;
  return tf.tidy(() => {
    const cols: tf.Tensor[] = [];
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) cols.push(tf.stridedSlice(xp, [0, i, j, 0], [B, i + (Ho - 1) * stride + 1, j + (Wo - 1) * stride + 1, C], [1, stride, stride, 1]));
    return tf.concat(cols, 3) as tf.Tensor4D;
  });
}

/** Insert s-1 zeros between rows and between columns: [B, H, W, C] -> [B, (H-1)s+1, (W-1)s+1, C]. */
function dilate(x: tf.Tensor4D, s: number): tf.Tensor4D {
  if (s === 1) return x;
  const [B, H, W, C] = x.shape;
  const z = tf.pad(x.reshape([B, H, 1, W, 1, C]), [[0, 0], [0, 0], [0, s - 1], [0, 0], [0, s - 1], [0, 0]]).reshape([B, H * s, W * s, C]);
  return tf.slice(z, [0, 0, 0, 0], [B, (H - 1) * s + 1, (W - 1) * s + 1, C]) as tf.Tensor4D;
}

const convValid = (stride: number) =>
  withCustomGrad(([xp, w], save) => {
    save([xp!, w!]);
    return {
      value: tf.conv2d(xp as tf.Tensor4D, w as tf.Tensor4D, stride, "valid"),
      gradFunc: (dy, [sx, sw]) => {
        const x4 = sx as tf.Tensor4D;
        const w4 = sw as tf.Tensor4D;
        const d4 = dy as tf.Tensor4D;
        const [k, , cin, cout] = w4.shape;
        const [, Hp, Wp] = x4.shape;
        const [, Ho, Wo] = d4.shape;
        // Rows / columns of the input no output window reached (stride remainder).
        const rh = Hp - k - (Ho - 1) * stride;
        const rw = Wp - k - (Wo - 1) * stride;
        // dx: full correlation of the dilated dy with the flipped, in/out-swapped kernel.
        // (tf.conv2dTranspose computes the same on wasm, ~10x slower: not XNNPACK.)
        const wT = tf.transpose(tf.reverse(w4, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
        const dyp = tf.pad(dilate(d4, stride), [[0, 0], [k - 1, k - 1 + rh], [k - 1, k - 1 + rw], [0, 0]]);
        const dx = tf.conv2d(dyp, wT, 1, "valid");
        // dw: a convolution contracting the batch: input [Cin, Hp, Wp, B], kernel dy as
        // [Ho, Wo, B, Cout] dilated by the stride -> [Cin, k (+ remainder), k, Cout]
        // (~6x faster than im2col + matmul on wasm, whose strided slices are slow).
        const xt = tf.transpose(x4, [3, 1, 2, 0]) as tf.Tensor4D;
        const ft = tf.transpose(d4, [1, 2, 0, 3]) as tf.Tensor4D;
        const full = tf.conv2d(xt, ft, 1, "valid", "NHWC", stride);
        const dw = tf.transpose(tf.slice(full, [0, 0, 0, 0], [cin, k, k, cout]), [1, 2, 0, 3]);
        return [dx, dw];
      },
    };
  });
const convCache = new Map<number, ReturnType<typeof convValid>>();

/** 2-D convolution, NHWC, kernel [k, k, in, out], stride s, symmetric zero padding `pad`. */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, stride = 1, pad = 0): tf.Tensor4D {
  const [k, k2, cin] = w.shape;
  if (k !== k2) throw new Error(`conv2d: square kernels only, got [${w.shape.join(",")}]`);
  if (x.shape[3] !== cin) throw new Error(`conv2d: input has ${x.shape[3]} channels, kernel [${w.shape.join(",")}] expects ${cin}`);
  if (!Number.isInteger(stride) || stride < 1 || !Number.isInteger(pad) || pad < 0) throw new Error(`conv2d: stride must be >= 1 and pad >= 0 (integers), got ${stride}, ${pad}`);
  let f = convCache.get(stride);
  if (!f) {
    f = convValid(stride);
    convCache.set(stride, f);
  }
  const conv = f;
  return tf.tidy(() => conv(padSpatial(x, pad), w) as tf.Tensor4D);
}

const depthwiseValid = withCustomGrad(([xp, w], save) => {
  save([xp!, w!]);
  return {
    value: tf.depthwiseConv2d(xp as tf.Tensor4D, w as tf.Tensor4D, 1, "valid"),
    gradFunc: (dy, [sx, sw]) => {
      const x4 = sx as tf.Tensor4D;
      const w4 = sw as tf.Tensor4D;
      const k = w4.shape[0];
      const C = w4.shape[2];
      const [B, Ho, Wo] = dy.shape as [number, number, number, number];
      // Full correlation with the flipped kernel gives d/dx of a valid correlation.
      const dx = tf.depthwiseConv2d(padSpatial(dy as tf.Tensor4D, k - 1), tf.reverse(w4, [0, 1]) as tf.Tensor4D, 1, "valid");
      // dw[i, j, c] = sum_{b,h,w} x[b, h+i, w+j, c] dy[b, h, w, c]: one depthwise
      // correlation of the batch stacked along H (each image padded to Hp rows) with dy
      // stacked the same way; the zero rows between images keep the batches apart.
      const Hp = x4.shape[1];
      const Wp = x4.shape[2];
      const tall = x4.reshape([1, B * Hp, Wp, C]) as tf.Tensor4D;
      const rows = (B - 1) * Hp + Ho;
      const f = tf.slice(tf.pad(dy, [[0, 0], [0, Hp - Ho], [0, 0], [0, 0]]).reshape([B * Hp, Wo, C]), [0, 0, 0], [rows, Wo, C]).reshape([rows, Wo, C, 1]);
      const dw = tf.depthwiseConv2d(tall, f as tf.Tensor4D, 1, "valid").reshape([k, k, C, 1]);
      return [dx, dw];
    },
  };
});

/**
 * Depthwise 2-D convolution, stride 1, NHWC, kernel [k, k, C, 1] (channel
 * multiplier 1, as ConvNeXt's dwconv), symmetric zero padding `pad`
 * (pad = (k - 1) / 2 keeps the spatial size).
 */
export function depthwiseConv2d(x: tf.Tensor4D, w: tf.Tensor4D, pad = 0): tf.Tensor4D {
  const [k, k2, C, mult] = w.shape;
  if (k !== k2 || mult !== 1) throw new Error(`depthwiseConv2d: kernel must be [k, k, C, 1], got [${w.shape.join(",")}]`);
  if (x.shape[3] !== C) throw new Error(`depthwiseConv2d: input has ${x.shape[3]} channels, kernel expects ${C}`);
  if (!Number.isInteger(pad) || pad < 0) throw new Error(`depthwiseConv2d: pad must be a non-negative integer, got ${pad}`);
  if (nativeDepthwiseUsable(x, w))
    return tf.depthwiseConv2d(x, w, 1, pad > 0 ? [[0, 0], [pad, pad], [pad, pad], [0, 0]] : "valid");
  return tf.tidy(() => depthwiseValid(padSpatial(x, pad), w) as tf.Tensor4D);
}

/** Global average pool over H and W: [B, H, W, C] -> [B, C]. */
export function globalAvgPool(x: tf.Tensor4D): tf.Tensor2D {
  return tf.mean(x, [1, 2]) as tf.Tensor2D;
}
