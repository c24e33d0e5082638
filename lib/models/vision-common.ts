import * as tf from "@tensorflow/tfjs";
import type { Norm } from "../norms/types";
import { applyNorm, type ForwardOptions } from "./transformer";

/** Check and reshape a batch of images to [B, H, W, C] (flat [B, H*W*C] accepted, as ViT.forward does). */
export function asImages(images: tf.Tensor, size: number, channels: number, model: string): tf.Tensor4D {
  const B = images.shape[0]!;
  if (images.size !== B * size * size * channels)
    throw new Error(`${model}.forward: expected images [B, ${size}, ${size}, ${channels}], got [${images.shape.join(",")}]`);
  return images.rank === 4 ? (images as tf.Tensor4D) : images.reshape([B, size, size, channels]);
}

/**
 * Non-overlapping p x p patches of an NHWC map, [B, H/p, W/p, p*p*C] (a
 * stride-p, kernel-p convolution is a Linear on these; PyTorch's floor drops
 * trailing rows/columns that do not fill a patch, and so does this).
 */
export function patchify(x: tf.Tensor4D, p: number): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  const h = Math.floor(H / p);
  const w = Math.floor(W / p);
  if (h < 1 || w < 1) throw new Error(`patchify: a ${H}x${W} map has no ${p}x${p} patch`);
  const xc = h * p === H && w * p === W ? x : tf.slice(x, [0, 0, 0, 0], [B, h * p, w * p, C]);
  return tf.transpose(xc.reshape([B, h, p, w, p, C]), [0, 1, 3, 2, 4, 5]).reshape([B, h, w, p * p * C]);
}

/**
 * Apply a norm to an NHWC map. A channels-first norm (ConvNeXt's
 * LayerNorm(data_format="channels_first") in the stem and downsampling
 * layers) sees the map as [B, C, H, W], as in PyTorch; the result is moved
 * back to NHWC. For LN and DyT the numbers equal the channels-last norm's
 * (the statistic / scale is per pixel over C either way); the layout decides
 * what hooks see and which factory path runs.
 */
export function applyNormNHWC(n: Norm, x: tf.Tensor, opts?: ForwardOptions): tf.Tensor {
  if (n.layout !== "channels-first" || x.rank !== 4) return applyNorm(n, x, opts);
  // Same numbers without the two transposes (and fused on native); a hook still sees the [B, C, H, W] view.
  if (n.applyChannelsLast && !opts?.onNorm) return n.applyChannelsLast(x);
  return tf.transpose(applyNorm(n, tf.transpose(x, [0, 3, 1, 2]), opts), [0, 2, 3, 1]);
}

/** Positive-integer check with the message style of resolveViTConfig. */
export function checkPosInt(model: string, name: string, v: unknown): void {
  if (!Number.isInteger(v) || (v as number) <= 0) throw new Error(`${model} config: ${name} must be a positive integer, got ${String(v)}`);
}
