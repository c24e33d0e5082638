import * as tf from "@tensorflow/tfjs";
import { gatherLabels, type ImageDataset } from "../data/dataset";
import type { ForwardOptions } from "../models/transformer";
import { newVariable } from "../ops/param";
import type { TaskModel } from "./task";

/**
 * Linear probes on frozen features (the downstream check of self-supervised
 * models: language ID on speech windows, lib/data/speech.ts).
 */

/**
 * Mean-pooled features of a frozen model: x holds n inputs of `inputSize`
 * values ([n, inputSize] row-major, e.g. waveforms); the model's forward gives
 * [B, T, D] (or the residual stream after block `layer` via onBlock), averaged
 * over T -> [n, D]. No gradients, no parameter changes.
 */
export function extractFeatures(model: TaskModel, x: Float32Array, n: number, inputSize: number, opts: { batchSize?: number; layer?: number; forward?: ForwardOptions } = {}): { feats: Float32Array; dim: number } {
  const bs = opts.batchSize ?? 16;
  let feats = new Float32Array(0);
  let dim = 0;
  for (let s = 0; s < n; s += bs) {
    const b = Math.min(bs, n - s);
    const out = tf.tidy(() => {
      let picked: tf.Tensor | undefined;
      const fwd: ForwardOptions = { ...opts.forward };
      if (opts.layer !== undefined) {
        const layer = opts.layer;
        fwd.onBlock = (i, t) => {
          if (i === layer) picked = tf.keep(tf.mean(t, 1));
          opts.forward?.onBlock?.(i, t);
        };
      }
      const y = model.forward(tf.tensor2d(x.subarray(s * inputSize, (s + b) * inputSize), [b, inputSize]), fwd);
      if (opts.layer !== undefined && !picked) throw new Error(`extractFeatures: the model reported no block ${opts.layer} (onBlock); use a layer index below its depth`);
      const r = picked ?? tf.mean(y, 1);
      return r;
    });
    if (dim === 0) {
      dim = out.shape[1]!;
      feats = new Float32Array(n * dim);
    }
    feats.set(out.dataSync() as Float32Array, s * dim);
    out.dispose();
  }
  return { feats, dim };
}

export interface ProbeResult {
  trainAcc: number;
  testAcc: number;
  testLoss: number;
  /** Test accuracy per class (NaN where the class has no test example). */
  perClassAcc: number[];
  /** Accuracy of always answering the most frequent training class, on the test set. */
  majorityAcc: number;
}

/**
 * Multinomial logistic regression on standardised features (train mean/std),
 * full batch, Adam, L2 on the weights. Deterministic (zero init, no sampling).
 */
export function linearProbe(
  train: { feats: Float32Array; labels: Int32Array },
  test: { feats: Float32Array; labels: Int32Array },
  dim: number,
  numClasses: number,
  opts: { steps?: number; lr?: number; l2?: number } = {},
): ProbeResult {
  const steps = opts.steps ?? 300;
  const lr = opts.lr ?? 0.05;
  const l2 = opts.l2 ?? 1e-3;
  const ntr = train.labels.length;
  const nte = test.labels.length;
  if (ntr < 1 || nte < 1) throw new Error(`linearProbe: need training and test examples, got ${ntr} and ${nte}`);
  if (train.feats.length !== ntr * dim || test.feats.length !== nte * dim) throw new Error(`linearProbe: features do not match labels x dim ${dim}`);
  const mean = new Float64Array(dim);
  const sd = new Float64Array(dim);
  for (let i = 0; i < ntr; i++) for (let j = 0; j < dim; j++) mean[j] += train.feats[i * dim + j]! / ntr;
  for (let i = 0; i < ntr; i++) for (let j = 0; j < dim; j++) sd[j] += (train.feats[i * dim + j]! - mean[j]!) ** 2 / ntr;
  const norm = (f: Float32Array, n: number) => {
    const o = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) o[i * dim + j] = (f[i * dim + j]! - mean[j]!) / Math.sqrt(sd[j]! + 1e-8);
    return o;
  };
  const xtr = tf.tensor2d(norm(train.feats, ntr), [ntr, dim]);
  const xte = tf.tensor2d(norm(test.feats, nte), [nte, dim]);
  const ytr = tf.tidy(() => tf.oneHot(tf.tensor1d(train.labels, "int32"), numClasses));
  const w = newVariable(tf.zeros([dim, numClasses]));
  const b = newVariable(tf.zeros([numClasses]));
  const opt = tf.train.adam(lr);
  try {
    for (let s = 0; s < steps; s++)
      tf.tidy(() => {
        opt.minimize(() => tf.add(tf.losses.softmaxCrossEntropy(ytr, tf.add(tf.matMul(xtr, w), b)), tf.mul(l2, tf.sum(tf.square(w)))) as tf.Scalar, false, [w, b]);
      });
    const predict = (x: tf.Tensor) => tf.tidy(() => Array.from(tf.argMax(tf.add(tf.matMul(x, w), b), -1).dataSync()));
    const ptr = predict(xtr);
    const pte = predict(xte);
    const testLoss = tf.tidy(() => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(test.labels, "int32"), numClasses), tf.add(tf.matMul(xte, w), b)).dataSync()[0]!);
    const acc = (p: number[], y: Int32Array) => p.reduce((a, v, i) => a + (v === y[i] ? 1 : 0), 0) / y.length;
    const counts = new Array<number>(numClasses).fill(0);
    for (const y of train.labels) counts[y]!++;
    const major = counts.indexOf(Math.max(...counts));
    const perClassAcc = Array.from({ length: numClasses }, (_, k) => {
      const ids = [...test.labels.keys()].filter((i) => test.labels[i] === k);
      return ids.length ? ids.filter((i) => pte[i] === k).length / ids.length : NaN;
    });
    return { trainAcc: acc(ptr, train.labels), testAcc: acc(pte, test.labels), testLoss, perClassAcc, majorityAcc: test.labels.filter((y) => y === major).length / nte };
  } finally {
    opt.dispose();
    tf.dispose([xtr, xte, ytr, w, b]);
  }
}


/**
 * A linear probe on frozen image features: `features` gives an [n, dim] block
 * for every image of a set; trained on every image of `train` with its
 * label, scored on every image of `test`. The DINO teacher's and the MAE
 * encoder's probes differ only in `features`.
 */
export function linearProbeImages(
  features: (ds: ImageDataset) => { feats: Float32Array; dim: number },
  train: ImageDataset,
  test: ImageDataset,
  opts: { steps?: number; lr?: number; l2?: number } = {},
): ProbeResult & { featureDim: number } {
  const labels = (ds: ImageDataset) => gatherLabels(ds, Int32Array.from({ length: ds.n }, (_, i) => i));
  const ftr = features(train);
  const fte = features(test);
  return { ...linearProbe({ feats: ftr.feats, labels: labels(train) }, { feats: fte.feats, labels: labels(test) }, ftr.dim, train.numClasses, opts), featureDim: ftr.dim };
}
