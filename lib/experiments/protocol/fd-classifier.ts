/**
 * The feature extractor of the DiT's Fréchet distance: the lab's ViT
 * (LayerNorm) trained on Fashion-MNIST, its features the class token after
 * the final norm (the head's input), in place of FID's Inception pool
 * features, so the distance is a proxy for FID, not FID. It is trained once
 * per spec with the one trainer into the runs directory (git-ignored) and
 * reloaded from its final checkpoint afterwards (the trainer resumes a
 * finished run without a step), so every DiT run of a spec shares it. Its
 * spec is part of each DiT run's resolved config; its test accuracy and a
 * SHA-256 of its weights go into each record, so a classifier retrained on
 * another machine (same seed, other rounding) is visible in the provenance.
 */
import { createHash } from "crypto";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { ViT, type ViTConfig } from "../../models/vit";
import { evaluate, train, TRAIN_DEFAULTS, type TrainConfig } from "../../train/trainer";
import { runsDir } from "../../util/paths";
import { fashionSplits } from "./task";

export interface FdClassifierSpec {
  /** ViT settings (Fashion-MNIST's 28 px, 1 channel, 10 classes; LayerNorm). */
  model: Partial<ViTConfig>;
  /** Training images: the first N of the 55,000 (0 = all). */
  trainLimit: number;
  epochs: number;
  lr: number;
  batchSize: number;
  seed: number;
}

export interface FdClassifier {
  spec: FdClassifierSpec;
  model: ViT;
  /** Test accuracy on all 10,000 Fashion-MNIST test images, 0..1. */
  testAcc: number;
  /** SHA-256 (hex, first 16) of the trained weights. */
  checksum: string;
  featureDim: number;
}

function specKey(spec: FdClassifierSpec): string {
  return createHash("sha256").update(JSON.stringify(spec, Object.keys(spec).sort())).update(JSON.stringify(spec.model, Object.keys(spec.model).sort())).digest("hex").slice(0, 16);
}

function weightsChecksum(model: ViT): string {
  const h = createHash("sha256");
  for (const p of model.params) h.update(Buffer.from((p.variable.dataSync() as Float32Array).buffer));
  return h.digest("hex").slice(0, 16);
}

const cache = new Map<string, FdClassifier>();

/** The trained classifier of `spec` (trained on first use, then loaded; kept for the process). */
export async function fdClassifier(spec: FdClassifierSpec, log: (line: string) => void = console.log): Promise<FdClassifier> {
  const key = specKey(spec);
  const hit = cache.get(key);
  if (hit) return hit;
  const d = fashionSplits(spec.trainLimit, 0);
  const model = new ViT({ ...spec.model, norm: "layernorm", seed: spec.seed });
  const steps = Math.ceil((spec.epochs * d.train.n) / spec.batchSize);
  const every = Math.max(1, Math.round(steps / 4));
  const cfg: TrainConfig = { ...TRAIN_DEFAULTS, steps, batchSize: spec.batchSize, lr: spec.lr, warmupSteps: Math.max(1, Math.round(steps / 20)), evalEvery: every, checkpointEvery: every, logEvery: every, evalLimit: 1000, seed: spec.seed };
  const runDir = path.join(runsDir(), "fd-classifier", key);
  const res = await train(model, { train: d.train, eval: d.val }, cfg, { runDir, label: `fd-classifier/${key}`, progress: false });
  if (res.status !== "completed") {
    model.dispose();
    throw new Error(`the Fréchet-distance classifier (${runDir}) did not train: ${res.status}${res.diverged ? ` (${res.diverged.reason})` : ""}; delete that folder to retrain it`);
  }
  const testAcc = evaluate(model, d.test, 0, 250).acc;
  const out: FdClassifier = { spec, model, testAcc, checksum: weightsChecksum(model), featureDim: model.config.dim };
  log(`   Fréchet-distance classifier ${key}: ViT width ${model.config.dim}, test accuracy ${(100 * testAcc).toFixed(2)} %, weights ${out.checksum}`);
  cache.set(key, out);
  return out;
}

/** Features [n, dim] of n images (the classifier's standardised pixels, [n, 28, 28, 1] flattened). */
export function classifierFeatures(c: FdClassifier, images: Float32Array, n: number, batchSize = 250): { features: Float32Array; predicted: Int32Array } {
  const { imageSize: H, channels: C } = c.model.config;
  const ex = H * H * C;
  if (images.length !== n * ex) throw new Error(`classifierFeatures: ${images.length} values are not ${n} images of ${H}x${H}x${C}`);
  const features = new Float32Array(n * c.featureDim);
  const predicted = new Int32Array(n);
  for (let s = 0; s < n; s += batchSize) {
    const m = Math.min(batchSize, n - s);
    tf.tidy(() => {
      const f = c.model.features(tf.tensor4d(images.subarray(s * ex, (s + m) * ex), [m, H, H, C]));
      features.set(f.dataSync() as Float32Array, s * c.featureDim);
      predicted.set(tf.argMax(c.model.head.apply(f), -1).dataSync() as Int32Array, s);
    });
  }
  return { features, predicted };
}
