import * as tf from "@tensorflow/tfjs";
import type { Model } from "../train/trainer";
import { Rng } from "../util/rng";

export interface NormCapture {
  /** Norm layer name, e.g. "blocks.2.norm1". */
  layer: string;
  /** Shape of the full input as the norm saw it ([B, T, C], [B, C], [B, H, W, C], or [B, C, H, W] for a channels-first norm). */
  shape: number[];
  /** The norm's layout; rows are always channels-last (a channels-first input is moved to [B, H, W, C] before sampling). */
  layout?: "channels-last" | "channels-first";
  /** Sampled rows (tokens): `rows` x C values of the input and output. */
  rows: number;
  channels: number;
  input: Float32Array;
  output: Float32Array;
  /** Statistics over the whole (unsampled) input. */
  inputStd: number;
  inputMean: number;
}

export interface CaptureOptions {
  /** Only these layers (default: all norms). */
  layers?: string[];
  /** At most this many tokens (rows) kept per layer: bounds memory (default 256, as baselines.md S-curves). */
  maxRows?: number;
  /** Seed of the token sample. */
  seed?: number;
}

/**
 * Run one forward pass on `x` and record each norm layer's input and output
 * (a seeded sample of at most maxRows tokens, all channels) plus the full
 * input's mean and std. The pass is separate from training and only reads
 * activations, so capturing cannot change a training run; memory is bounded
 * by layers x maxRows x C floats.
 * The pass is in eval mode (no `training` flag): a BatchNorm applies its
 * running statistics, i.e. the fixed per-channel linear map of the trained
 * model, and its running statistics are left unchanged.
 */
export function captureNorms(model: Model, x: tf.Tensor, opts: CaptureOptions = {}): NormCapture[] {
  const maxRows = opts.maxRows ?? 256;
  const want = opts.layers ? new Set(opts.layers) : undefined;
  const out: NormCapture[] = [];
  // Channels-first norms (ConvNeXt's stem / downsampling LNs) see [B, C, H, W]: a row is then one pixel's C values.
  const layouts = new Map(model.norms().map((n) => [n.name, n.layout ?? "channels-last"] as const));
  tf.tidy(() => {
    model.forward(x, {
      onNorm(layer, inputSeen, outputSeen) {
        if (want && !want.has(layer)) return;
        const layout = layouts.get(layer) ?? "channels-last";
        const toLast = (t: tf.Tensor) => (layout === "channels-first" && t.rank > 2 ? tf.transpose(t, [0, ...Array.from({ length: t.rank - 2 }, (_, i) => i + 2), 1]) : t);
        const input = toLast(inputSeen);
        const output = toLast(outputSeen);
        const C = input.shape[input.rank - 1]!;
        const rowsAll = input.size / C;
        const rng = new Rng((opts.seed ?? 0) + out.length);
        const pick = rowsAll <= maxRows ? Int32Array.from({ length: rowsAll }, (_, i) => i) : rng.permutation(rowsAll).slice(0, maxRows).sort();
        const idx = tf.tensor1d(pick, "int32");
        const xi = tf.gather(input.reshape([rowsAll, C]), idx);
        const yi = tf.gather(output.reshape([rowsAll, C]), idx);
        const mom = tf.moments(input);
        out.push({
          layer,
          shape: inputSeen.shape,
          layout,
          rows: pick.length,
          channels: C,
          input: xi.dataSync() as Float32Array,
          output: yi.dataSync() as Float32Array,
          inputMean: mom.mean.dataSync()[0]!,
          inputStd: Math.sqrt(mom.variance.dataSync()[0]!),
        });
      },
    });
  });
  return out;
}
