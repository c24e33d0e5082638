/**
 * Norm readings of an image classifier on a fixed probe batch, at init and at
 * the end of training (issue 13's ConvNeXt S-curve and alpha rows): per norm
 * layer, its input's spread and (DyT) its alpha, as alpha-std reads the ViT,
 * and (LayerNorm) the tanh-vs-line fit of its map, as scurves fits the ViT.
 * One forward pass per reading (hooks/capture.ts), in eval mode, outside the
 * training loop: reading cannot change the run. A run asks for readings with
 * `probe` in its config (absent by default, so the records of runs without
 * it keep their cache keys).
 */
import type * as tf from "@tensorflow/tfjs";
import { captureNorms } from "../../hooks/capture";
import { fitCapture, type LayerFit } from "../../analysis/scurves";
import { meanTokenStd } from "../../analysis/stats";
import type { Model } from "../../train/trainer";
import type { ProbeConfig } from "./probe";

/** The probe batch (validation images) and how many tokens per layer the saved scatter samples keep. */
export interface ImageProbeConfig extends ProbeConfig {
  /** Tokens per layer kept for scatter plots (0 = none; the fits use all maxRows tokens). */
  plotTokens: number;
}

/** One reading of every norm layer of a model, in forward order. */
export interface NormReading {
  /** Updates done when read (0 = init). */
  step: number;
  layers: string[];
  /** alpha per layer (NaN for layers without one, e.g. LayerNorm). */
  alpha: number[];
  /** Population std over all elements of the layer's input. */
  std: number[];
  /** Mean over the sampled tokens of each token's std over channels. */
  tokenStd: number[];
  /** LayerNorm models: y ~ k tanh(s x) vs a line, per layer (lib/analysis/scurves.ts). */
  fits?: LayerFit[];
}

export function assertImageProbe(p: ImageProbeConfig): void {
  const ok = (v: number, min: number) => Number.isInteger(v) && v >= min;
  if (!ok(p.images, 1) || !ok(p.maxRows, 1) || !ok(p.plotTokens, 0) || !Number.isInteger(p.seed))
    throw new Error(`image probe: images and maxRows must be positive integers, plotTokens a non-negative one, seed an integer; got ${JSON.stringify(p)}`);
}

/**
 * Read every norm of `model` on `probe` ([n, H, W, C]). `lnEps` set (a
 * LayerNorm model): the maps are fitted too, keeping `plotTokens` tokens of
 * each layer for plots.
 */
export function readNorms(model: Model, probe: tf.Tensor, cfg: ImageProbeConfig, step: number, lnEps?: number): NormReading {
  const caps = captureNorms(model, probe, { maxRows: cfg.maxRows, seed: cfg.seed });
  const alphaOf = new Map(model.norms().map((n) => [n.name, n.alpha ? n.alpha.dataSync()[0]! : NaN]));
  return {
    step,
    layers: caps.map((c) => c.layer),
    alpha: caps.map((c) => alphaOf.get(c.layer) ?? NaN),
    std: caps.map((c) => c.inputStd),
    tokenStd: caps.map((c) => meanTokenStd(c.input, c.rows, c.channels)),
    ...(lnEps !== undefined ? { fits: caps.map((c) => fitCapture(c, lnEps, cfg.plotTokens)) } : {}),
  };
}
