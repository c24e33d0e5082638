/**
 * The feature extractor of the DiT's Fréchet distance: the lab's ViT
 * (LayerNorm) trained on Fashion-MNIST, its features the class token after
 * the final norm (the head's input), in place of FID's Inception pool
 * features, so the distance is a proxy for FID, not FID.
 *
 * The extractor is part of the metric, so every run of a study must use the
 * same weights, whichever machine or session trains it: the first use trains
 * it with the one trainer (resumable, in the runs directory) and writes its
 * weights to results/fd-classifier/<store>/<key>.bin with a JSON beside it
 * (spec, parameter names and shapes, test accuracy, SHA-256); later uses, on
 * any machine, load those committed weights. The key hashes the spec, which
 * is part of each DiT run's resolved config; the record carries the test
 * accuracy and checksum. `store` is the scale's name, so smoke and quick
 * classifiers stay out of git (results/*\/smoke/, results/*\/quick/ are ignored).
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { ViT, type ViTConfig } from "../../models/vit";
import { evaluate, train, TRAIN_DEFAULTS, type TrainConfig } from "../../train/trainer";
import { writeFileAtomic, writeJsonAtomic } from "../../util/atomic";
import { resultsDir, runsDir } from "../../util/paths";
import { fashionSplits } from "./task";

export interface FdClassifierSpec {
  /** Where its weights live: results/fd-classifier/<store>/ (the scale's name). */
  store: "smoke" | "quick" | "full";
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
  for (const p of model.params) {
    // dataSync may be a view into a larger buffer (e.g. after assigning from a subarray).
    const a = p.variable.dataSync() as Float32Array;
    h.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  }
  return h.digest("hex").slice(0, 16);
}

/** What results/fd-classifier/<store>/<key>.json holds beside the weights. */
interface StoredClassifier {
  key: string;
  spec: FdClassifierSpec;
  params: { name: string; shape: number[] }[];
  testAcc: number;
  checksum: string;
  trainedAt: string;
}

/** The committed weights' files of a spec. */
export function fdClassifierFiles(spec: FdClassifierSpec): { weights: string; meta: string } {
  const base = path.join(resultsDir(), "fd-classifier", spec.store, specKey(spec));
  return { weights: `${base}.bin`, meta: `${base}.json` };
}

const cache = new Map<string, FdClassifier>();

/** Drop the process's loaded classifiers (tests; the weights on disk stay). */
export function forgetFdClassifiers(): void {
  for (const c of cache.values()) c.model.dispose();
  cache.clear();
}

function buildViT(spec: FdClassifierSpec): ViT {
  return new ViT({ ...spec.model, norm: "layernorm", seed: spec.seed });
}

/** Load the stored weights into a fresh ViT, checking names, shapes and checksum. */
function loadStored(spec: FdClassifierSpec, files: { weights: string; meta: string }): { model: ViT; meta: StoredClassifier } {
  const meta = JSON.parse(fs.readFileSync(files.meta, "utf8")) as StoredClassifier;
  const buf = fs.readFileSync(files.weights);
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const model = buildViT(spec);
  try {
    let o = 0;
    model.params.forEach((p, i) => {
      const m = meta.params[i];
      if (!m || m.name !== p.name || m.shape.join("x") !== p.variable.shape.join("x")) throw new Error(`parameter ${i} is ${m ? `${m.name} [${m.shape.join(",")}]` : "missing"}, the model's is ${p.name} [${p.variable.shape.join(",")}]`);
      const n = p.variable.size;
      tf.tidy(() => p.variable.assign(tf.tensor(all.subarray(o, o + n), p.variable.shape)));
      o += n;
    });
    if (o !== all.length) throw new Error(`${all.length - o} values left over`);
    const sum = weightsChecksum(model);
    if (sum !== meta.checksum) throw new Error(`weights checksum ${sum}, the JSON says ${meta.checksum}`);
  } catch (e) {
    model.dispose();
    throw new Error(`the Fréchet-distance classifier in ${files.weights} does not load (${(e as Error).message}); it is corrupt or from another model: delete ${files.weights} and ${files.meta} to retrain it, knowing FDs then change`);
  }
  return { model, meta };
}

/** The trained classifier of `spec`: the committed weights when present, else trained and stored (kept for the process). */
export async function fdClassifier(spec: FdClassifierSpec, log: (line: string) => void = console.log): Promise<FdClassifier> {
  const key = specKey(spec);
  const hit = cache.get(key);
  if (hit) return hit;
  const files = fdClassifierFiles(spec);
  let out: FdClassifier;
  if (fs.existsSync(files.weights) && fs.existsSync(files.meta)) {
    const { model, meta } = loadStored(spec, files);
    out = { spec, model, testAcc: meta.testAcc, checksum: meta.checksum, featureDim: model.config.dim };
  } else {
    const d = fashionSplits(spec.trainLimit, 0);
    const model = buildViT(spec);
    const steps = Math.ceil((spec.epochs * d.train.n) / spec.batchSize);
    const every = Math.max(1, Math.round(steps / 4));
    const cfg: TrainConfig = { ...TRAIN_DEFAULTS, steps, batchSize: spec.batchSize, lr: spec.lr, warmupSteps: Math.max(1, Math.round(steps / 20)), evalEvery: every, checkpointEvery: every, logEvery: every, evalLimit: 1000, seed: spec.seed };
    const runDir = path.join(runsDir(), "fd-classifier", spec.store, key);
    log(`   training the Fréchet-distance classifier ${spec.store}/${key} (${steps} steps; once, then loaded from ${path.relative(process.cwd(), files.weights)})`);
    const res = await train(model, { train: d.train, eval: d.val }, cfg, { runDir, label: `fd-classifier/${key}`, progress: false });
    if (res.status !== "completed") {
      model.dispose();
      throw new Error(`the Fréchet-distance classifier (${runDir}) did not train: ${res.status}${res.diverged ? ` (${res.diverged.reason})` : ""}; delete that folder to retrain it`);
    }
    const testAcc = evaluate(model, d.test, 0, 250).acc;
    const checksum = weightsChecksum(model);
    const parts = model.params.map((p) => p.variable.dataSync() as Float32Array);
    const all = new Float32Array(parts.reduce((n, a) => n + a.length, 0));
    parts.reduce((o, a) => (all.set(a, o), o + a.length), 0);
    fs.mkdirSync(path.dirname(files.weights), { recursive: true });
    writeFileAtomic(files.weights, new Uint8Array(all.buffer));
    const meta: StoredClassifier = { key, spec, params: model.params.map((p) => ({ name: p.name, shape: p.variable.shape })), testAcc, checksum, trainedAt: new Date().toISOString() };
    writeJsonAtomic(files.meta, meta);
    out = { spec, model, testAcc, checksum, featureDim: model.config.dim };
  }
  log(`   Fréchet-distance classifier ${spec.store}/${key}: ViT width ${out.model.config.dim}, test accuracy ${(100 * out.testAcc).toFixed(2)} %, weights ${out.checksum}`);
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
