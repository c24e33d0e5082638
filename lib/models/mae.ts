import * as tf from "@tensorflow/tfjs";
import { ParamStore, countParams, disposeParams, type Param } from "../ops/param";
import { makeNorm } from "../norms/factory";
import type { Norm, NormKind, NormOptions } from "../norms/types";
import { Rng } from "../util/rng";
import { Linear } from "./linear";
import { TransformerBlock, applyNorm, type ForwardOptions } from "./transformer";
import { asImages, checkPosInt, patchify } from "./vision-common";
import { ViT, resolveViTConfig, type ViTConfig } from "./vit";

/** A masked autoencoder (He et al. 2022) around the lab's ViT. */
export interface MAEConfig {
  /** The encoder: the lab's ViT (its norm and normOptions are overridden by `norm` / `normOptions`). */
  encoder: Partial<ViTConfig>;
  /** Every norm slot of encoder and decoder, from the one factory. */
  norm: NormKind;
  normOptions: NormOptions;
  decoderDim: number;
  decoderDepth: number;
  decoderHeads: number;
  /** Share of patches hidden from the encoder (MAE: 0.75). */
  maskRatio: number;
  /** Reconstruct each patch's pixels standardised over the patch (MAE's norm_pix_loss, its better setting). */
  normPixLoss: boolean;
  seed: number;
}

export const MAE_DEFAULTS: MAEConfig = {
  encoder: { imageSize: 28, channels: 1, patchSize: 4, dim: 64, depth: 4, heads: 4 },
  norm: "layernorm",
  normOptions: {},
  decoderDim: 32,
  decoderDepth: 1,
  decoderHeads: 2,
  maskRatio: 0.75,
  normPixLoss: true,
  seed: 0,
};

/** The encoder config an MAE config builds (the norm, options and seed written in). */
export function maeEncoderConfig(c: MAEConfig): ViTConfig {
  return resolveViTConfig({ ...c.encoder, norm: c.norm, normOptions: { ...c.encoder.normOptions, ...c.normOptions }, seed: c.seed });
}

/** Fill defaults and reject impossible configurations with a message that says what to change. */
export function resolveMAEConfig(partial: Partial<MAEConfig> = {}): MAEConfig {
  const c: MAEConfig = { ...MAE_DEFAULTS, ...partial, encoder: { ...MAE_DEFAULTS.encoder, ...partial.encoder }, normOptions: { ...partial.normOptions } };
  const enc = maeEncoderConfig(c);
  if (enc.method !== "norm" || enc.placement !== "pre") throw new Error(`MAE config: the encoder must be a pre-norm ViT (method "norm", placement "pre"), got method "${enc.method}", placement "${enc.placement}"`);
  if (c.norm === "batchnorm") throw new Error(`MAE config: norm "batchnorm" does not fit a token slot; use layernorm, rmsnorm, dyt or identity`);
  for (const k of ["decoderDim", "decoderDepth", "decoderHeads"] as const) checkPosInt("MAE", k, c[k]);
  if (c.decoderDim % c.decoderHeads !== 0) throw new Error(`MAE config: decoderDim ${c.decoderDim} is not divisible by decoderHeads ${c.decoderHeads}`);
  const n = (enc.imageSize / enc.patchSize) ** 2;
  const keep = maeVisiblePatches(n, c.maskRatio);
  if (!(c.maskRatio > 0 && c.maskRatio < 1) || keep < 1 || keep >= n) throw new Error(`MAE config: maskRatio ${c.maskRatio} must hide some and keep some of the ${n} patches (0 < ratio < 1, at least one each)`);
  return c;
}

/** Patches the encoder sees: floor(N (1 - ratio)), as MAE's int(L * (1 - mask_ratio)). */
export function maeVisiblePatches(numPatches: number, maskRatio: number): number {
  return Math.floor(numPatches * (1 - maskRatio));
}

/**
 * Per image, `keep` visible patch indices in increasing order, drawn as the
 * first `keep` of a random permutation of the N patches (MAE's per-sample
 * random masking); [B * keep].
 */
export function drawMaeMask(B: number, numPatches: number, keep: number, rng: Rng): Int32Array {
  const out = new Int32Array(B * keep);
  for (let b = 0; b < B; b++) out.set(rng.permutation(numPatches).subarray(0, keep).sort(), b * keep);
  return out;
}

/** The masked reconstruction: predicted and target patch pixels [B, N, p*p*C] and the 0/1 mask [B, N] (1 = hidden). */
export interface MaeOutput {
  loss: tf.Scalar;
  pred: tf.Tensor3D;
  target: tf.Tensor3D;
  mask: tf.Tensor2D;
}

/**
 * A masked autoencoder: the encoder is the lab's ViT (the same object that is
 * fine-tuned afterwards: `encoder.forward` classifies) run on the visible
 * patches only (with its class token and learned positions), its final norm
 * on every token; a light decoder (its own width and depth, norms from the
 * same factory) sees the encoded tokens and a shared mask token at each
 * hidden position, with its own learned positions, and predicts every
 * patch's pixels. The loss is the MSE on the hidden patches only, against
 * pixels standardised per patch when normPixLoss (MAE's default in its best
 * results). Differences from MAE: learned (not fixed sin-cos) positions, as
 * the lab's ViT; the selection of visible patches is a one-hot matmul (the
 * wasm engine has no gather gradient).
 */
export class MAE {
  readonly config: MAEConfig;
  readonly encoder: ViT;
  /** What pretraining trains: the encoder without its classification head, and the decoder. */
  readonly params: Param[];
  readonly decoderParams: Param[];
  readonly decoderEmbed: Linear;
  readonly maskToken: tf.Variable;
  readonly decoderPos: tf.Variable;
  readonly decoderBlocks: TransformerBlock[] = [];
  readonly decoderNorm: Norm;
  readonly decoderPred: Linear;
  readonly numPatches: number;
  readonly keep: number;

  constructor(config: Partial<MAEConfig> = {}) {
    const c = resolveMAEConfig(config);
    this.config = c;
    this.encoder = new ViT(maeEncoderConfig(c));
    const e = this.encoder.config;
    this.numPatches = this.encoder.numPatches;
    this.keep = maeVisiblePatches(this.numPatches, c.maskRatio);
    // Its own stream of random numbers, so the encoder's init equals a plain ViT's of the same seed.
    const store = new ParamStore(new Rng((c.seed ^ 0x3ae0000) >>> 0)).scope("decoder");
    const P = e.patchSize * e.patchSize * e.channels;
    this.decoderEmbed = new Linear(store, "embed", e.dim, c.decoderDim, { kind: "xavier" });
    this.maskToken = store.truncNormal("mask_token", [1, 1, c.decoderDim], 0.02, false);
    this.decoderPos = store.truncNormal("pos_embed", [1, this.numPatches + 1, c.decoderDim], 0.02, false);
    for (let i = 0; i < c.decoderDepth; i++)
      this.decoderBlocks.push(new TransformerBlock(store.scope(`blocks.${i}`), { dim: c.decoderDim, heads: c.decoderHeads, mlpRatio: 4, norm: c.norm, normOptions: c.normOptions, linearInit: "xavier" }));
    this.decoderNorm = makeNorm(c.norm, c.decoderDim, c.normOptions, store, "norm");
    this.decoderPred = new Linear(store, "pred", c.decoderDim, P, { kind: "xavier" });
    this.decoderParams = store.params;
    this.params = [...this.encoder.params.filter((p) => !p.name.startsWith("head.")), ...this.decoderParams];
  }

  /** Every norm, encoder then decoder, in forward order. */
  norms(): Norm[] {
    return [...this.encoder.norms(), ...this.decoderBlocks.flatMap((b) => [b.n1, b.n2]), this.decoderNorm];
  }

  parameterCount(): number {
    return countParams(this.params);
  }

  /** Patch pixels [B, N, p*p*C] of a batch of images. */
  patches(images: tf.Tensor): tf.Tensor3D {
    const e = this.encoder.config;
    const B = images.shape[0]!;
    return patchify(asImages(images, e.imageSize, e.channels, "MAE"), e.patchSize).reshape([B, this.numPatches, e.patchSize * e.patchSize * e.channels]) as tf.Tensor3D;
  }

  /** Encode the visible patches: [B, 1 + keep, dim] after the encoder's final norm; `select` from selection(). */
  encode(images: tf.Tensor, select: tf.Tensor3D, opts?: ForwardOptions): tf.Tensor3D {
    const enc = this.encoder;
    const B = images.shape[0]!;
    return tf.tidy(() => {
      const N = this.numPatches;
      const D = enc.config.dim;
      const tokens = tf.add(enc.patchEmbed.apply(this.patches(images), opts), tf.slice(enc.pos, [0, 1, 0], [1, N, D]));
      let x: tf.Tensor = tf.concat([tf.tile(tf.add(enc.cls, tf.slice(enc.pos, [0, 0, 0], [1, 1, D])), [B, 1, 1]), tf.matMul(select, tokens)], 1);
      for (const [i, b] of enc.blocks.entries()) {
        x = b.forward(x, opts);
        opts?.onBlock?.(i, x);
      }
      return (enc.finalNorm ? applyNorm(enc.finalNorm, x, opts) : x) as tf.Tensor3D;
    });
  }

  /** Every patch encoded, nothing hidden: [B, 1 + N, dim] after the final norm (linear-probe features, mean-pooled). */
  encodeAll(images: tf.Tensor, opts?: ForwardOptions): tf.Tensor3D {
    const B = images.shape[0]!;
    return tf.tidy(() => this.encode(images, tf.tile(tf.expandDims(tf.eye(this.numPatches), 0), [B, 1, 1]) as tf.Tensor3D, opts));
  }

  /** One-hot selection [B, keep, N] of the visible patches, and the 0/1 hidden mask [B, N]. */
  selection(visible: Int32Array, B: number): { select: tf.Tensor3D; mask: tf.Tensor2D } {
    const N = this.numPatches;
    const k = this.keep;
    if (visible.length !== B * k) throw new Error(`MAE: ${visible.length} visible indices are not ${B} images x ${k} visible patches`);
    const sel = new Float32Array(B * k * N);
    const mask = new Float32Array(B * N).fill(1);
    for (let b = 0; b < B; b++)
      for (let j = 0; j < k; j++) {
        const i = visible[b * k + j]!;
        if (!(i >= 0 && i < N)) throw new Error(`MAE: visible patch index ${i} outside 0..${N - 1}`);
        sel[(b * k + j) * N + i] = 1;
        mask[b * N + i] = 0;
      }
    return { select: tf.tensor3d(sel, [B, k, N]), mask: tf.tensor2d(mask, [B, N]) };
  }

  /** The masked reconstruction of a batch (images [B, H, W, C]; visible from drawMaeMask). */
  reconstruct(images: tf.Tensor, visible: Int32Array, opts?: ForwardOptions): MaeOutput {
    const B = images.shape[0]!;
    const c = this.config;
    return tf.tidy(() => {
      const { select, mask } = this.selection(visible, B);
      const latent = this.encode(images, select, opts);
      const y = this.decoderEmbed.apply(latent, opts);
      const dd = c.decoderDim;
      const cls = tf.slice(y, [0, 0, 0], [B, 1, dd]);
      const vis = tf.slice(y, [0, 1, 0], [B, this.keep, dd]);
      // Visible tokens back in place (the transpose of the selection), the mask token elsewhere.
      const full = tf.add(tf.matMul(select, vis, true, false), tf.mul(this.maskToken, tf.expandDims(mask, 2)));
      let x: tf.Tensor = tf.add(tf.concat([cls, full], 1), this.decoderPos);
      for (const b of this.decoderBlocks) x = b.forward(x, opts);
      x = applyNorm(this.decoderNorm, x, opts);
      const pred = this.decoderPred.apply(tf.slice(x, [0, 1, 0], [B, this.numPatches, dd]), opts) as tf.Tensor3D;
      const px = this.patches(images);
      let target: tf.Tensor = px;
      if (c.normPixLoss) {
        const { mean, variance } = tf.moments(px, -1, true);
        target = tf.div(tf.sub(px, mean), tf.sqrt(tf.add(variance, 1e-6)));
      }
      const perPatch = tf.mean(tf.squaredDifference(pred, target), -1);
      const loss = tf.div(tf.sum(tf.mul(perPatch, mask)), tf.sum(mask)) as tf.Scalar;
      return { loss, pred, target: target as tf.Tensor3D, mask };
    });
  }

  /** An MAE is trained through maeTask's objective and fine-tuned as `encoder` (a ViT): it has no forward of its own. */
  forward(_x: tf.Tensor, _opts?: ForwardOptions): tf.Tensor {
    throw new Error("MAE.forward: an MAE reconstructs masked images (reconstruct(images, visible)); train it with maeTask (lib/train/mae-task.ts), classify with mae.encoder.forward");
  }

  dispose(): void {
    this.encoder.dispose();
    disposeParams(this.decoderParams);
  }
}
