/**
 * A fixed probe batch for the experiments that read activations during
 * training (S-curves, alpha vs 1/std): the same validation images at every
 * checkpoint and seed.
 */
import * as tf from "@tensorflow/tfjs";
import { gatherImages, type ImageDataset } from "../../data/dataset";
import { Rng } from "../../util/rng";

/** Which images the captures see, and how many tokens per layer they keep. */
export interface ProbeConfig {
  /** Validation images in the probe batch. */
  images: number;
  /** Seed of the image choice and of the token sample. */
  seed: number;
  /** Tokens kept per layer (baselines.md: 256 tokens x all channels). */
  maxRows: number;
}

/** A fixed probe batch: `n` images of `ds` chosen by `seed` (sorted indices), [n, H, W, C]. */
export function probeImages(ds: ImageDataset, n: number, seed: number): tf.Tensor4D {
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`probe: images must be a positive integer, got ${n}`);
  const m = Math.min(n, ds.n);
  const idx = new Rng(seed).permutation(ds.n).slice(0, m).sort();
  return tf.tensor4d(gatherImages(ds, idx), [m, ds.height, ds.width, ds.channels]);
}

/**
 * Logged step indices (0-based; the trainer calls hooks on multiples of
 * logEvery and on the last step) closest to fractions of a budget. The hook at
 * index s sees the model after s + 1 updates.
 */
export function loggedStepsAt(fractions: readonly number[], steps: number, logEvery: number): number[] {
  const out = new Set<number>();
  for (const f of fractions) {
    if (!(f > 0 && f <= 1)) throw new Error(`capture fraction ${f} must be in (0, 1] (0 = at init is captured by the prepare step)`);
    if (f === 1) {
      out.add(steps - 1);
      continue;
    }
    const s = Math.round((Math.round(f * steps) - 1) / logEvery) * logEvery;
    out.add(Math.min(steps - 1, Math.max(0, s)));
  }
  return [...out].sort((a, b) => a - b);
}
