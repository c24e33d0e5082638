import * as tf from "@tensorflow/tfjs";
import { gatherImages, gatherLabels, type ImageDataset } from "../data/dataset";
import { dnaWindowStarts, type DnaStream } from "../data/dna";
import { bitsPerByte, type TextDataset } from "../data/text";
import type { ForwardOptions } from "../models/transformer";

/** What a task needs of a model: a forward pass to logits. */
export interface TaskModel {
  forward(x: tf.Tensor, opts?: ForwardOptions): tf.Tensor;
}

export interface TaskEval {
  loss: number;
  acc: number;
  /** Language models: held-out loss in bits per byte. */
  bpb?: number;
  /** Further held-out statistics a task reports (e.g. DINO's teacher entropies), kept with the eval point. */
  stats?: Record<string, number>;
}

/**
 * What the trainer trains on: a set of `trainSize` examples the seeded
 * sampler permutes, a way to turn a batch of example indices into tensors,
 * the loss, and held-out evaluation. Image classification and next-token
 * prediction are the two kinds; the loop (AdamW, checkpoints, resume,
 * divergence, leak check) is shared.
 */
export interface TrainTask {
  readonly kind: "classification" | "next-token" | "contrastive" | "diffusion" | "masked-image" | "self-distillation";
  readonly trainSize: number;
  /** Classes or vocabulary: a loss above divergenceFactor * ln(numOutputs) counts as diverged. */
  readonly numOutputs: number;
  /** Names numOutputs in messages ("classes", "vocab"). */
  readonly outputsName: string;
  /** Copy the examples `idx` into host buffers (outside any tidy); `batchSize` is fixed per run. */
  prepare(idx: Int32Array, batchSize: number): void;
  /** The prepared batch as tensors (called inside tidy). */
  batch(): { x: tf.Tensor; y: tf.Tensor };
  /** Mean training loss of logits against batch().y. */
  loss(y: tf.Tensor, logits: tf.Tensor): tf.Scalar;
  evaluate(model: TaskModel, limit: number, batchSize: number, forward?: ForwardOptions): TaskEval;
  /**
   * The training loss when it needs more of the model than forward() (e.g.
   * wav2vec 2.0's masked contrastive pass, lib/train/speech-task.ts); when
   * absent the trainer uses loss(y, model.forward(x)).
   */
  objective?(model: TaskModel, x: tf.Tensor, y: tf.Tensor, forward: ForwardOptions): tf.Scalar;
  /**
   * The training loss above which a run counts as diverged, for a loss that
   * is no cross-entropy over numOutputs (e.g. a diffusion model's MSE); when
   * absent the cap is divergenceFactor x ln(numOutputs).
   */
  divergenceCap?(divergenceFactor: number): { cap: number; why: string };
  /**
   * Called after each applied update (inside the step's tidy), for state that
   * follows the trained weights without gradients (e.g. DINO's EMA teacher);
   * `step` is the step just done, of `steps`.
   */
  afterUpdate?(model: TaskModel, step: number, steps: number): void;
}

/** Mean loss and accuracy of `model` on the first `limit` examples of ds (0 = all). */
export function evaluateClassifier(model: TaskModel, ds: ImageDataset, limit = 0, batchSize = 250, forward?: ForwardOptions): { loss: number; acc: number } {
  const n = limit > 0 ? Math.min(limit, ds.n) : ds.n;
  let lossSum = 0;
  let correct = 0;
  for (let s = 0; s < n; s += batchSize) {
    const m = Math.min(batchSize, n - s);
    const idx = Int32Array.from({ length: m }, (_, i) => s + i);
    const [l, c] = tf.tidy(() => {
      const x = tf.tensor4d(gatherImages(ds, idx), [m, ds.height, ds.width, ds.channels]);
      const y = tf.tensor1d(gatherLabels(ds, idx), "int32");
      const logits = model.forward(x, forward);
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(y, ds.numClasses), logits, undefined, undefined, tf.Reduction.SUM);
      const acc = tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), y), "float32"));
      return [loss.dataSync()[0]!, acc.dataSync()[0]!];
    });
    lossSum += l;
    correct += c;
  }
  return { loss: lossSum / n, acc: correct / n };
}

/** Image classification with softmax cross-entropy (the ViT's task). */
export function classificationTask(train: ImageDataset, evalSet: ImageDataset): TrainTask {
  const ex = train.height * train.width * train.channels;
  let xbuf = new Float32Array(0);
  let ybuf = new Int32Array(0);
  let b = 0;
  return {
    kind: "classification",
    trainSize: train.n,
    numOutputs: train.numClasses,
    outputsName: "classes",
    prepare(idx, batchSize) {
      if (xbuf.length !== batchSize * ex) {
        xbuf = new Float32Array(batchSize * ex);
        ybuf = new Int32Array(batchSize);
      }
      b = batchSize;
      gatherImages(train, idx, xbuf);
      gatherLabels(train, idx, ybuf);
    },
    batch: () => ({
      x: tf.tensor4d(xbuf, [b, train.height, train.width, train.channels]),
      y: tf.oneHot(tf.tensor1d(ybuf, "int32"), train.numClasses),
    }),
    loss: (y, logits) => tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar,
    evaluate: (model, limit, batchSize, forward) => evaluateClassifier(model, evalSet, limit, batchSize, forward),
  };
}

/** Non-overlapping windows of seqLen + 1 tokens (inputs and shifted targets) a stream holds. */
export function textWindows(ds: TextDataset, seqLen: number): number {
  return Math.floor((ds.tokens.length - 1) / seqLen);
}

/**
 * A token stream and where its windows of seqLen + 1 tokens start (what a
 * next-token task draws from). Text: every seqLen tokens over the stream;
 * DNA (lib/data/dna.ts): inside each genome segment, so no window joins two.
 */
export interface TokenWindows {
  name: string;
  split: string;
  tokens: ArrayLike<number>;
  vocabSize: number;
  /** Start of window i in `tokens`. */
  starts: Int32Array;
  /** tokens per byte (text) for bits per byte; 1 for DNA, where bpb reads bits per base. */
  tokensPerByte: number;
}

/** Copy windows `idx` into x (inputs) and y (targets, shifted by one). */
function gatherWindows(ds: TokenWindows, seqLen: number, idx: ArrayLike<number>, x: Int32Array, y: Int32Array): void {
  const n = ds.starts.length;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    if (!(i >= 0 && i < n)) throw new RangeError(`window ${i} out of range for ${ds.name}/${ds.split} (${n} windows of ${seqLen})`);
    const s = ds.starts[i]!;
    for (let t = 0; t < seqLen; t++) {
      x[k * seqLen + t] = ds.tokens[s + t]!;
      y[k * seqLen + t] = ds.tokens[s + t + 1]!;
    }
  }
}

/** Mean next-token cross-entropy over [B, T, V] logits, targets one-hot [B*T, V] (exported for the LM bench, lib/bench/lm-step.ts). */
export function tokenLoss(y: tf.Tensor, logits: tf.Tensor, reduction?: tf.Reduction): tf.Tensor {
  const V = logits.shape[logits.rank - 1]!;
  return tf.losses.softmaxCrossEntropy(y, logits.reshape([-1, V]), undefined, undefined, reduction);
}

/**
 * Next-token prediction on a byte-token stream: the examples are the
 * non-overlapping windows of seqLen + 1 tokens (window i covers tokens
 * i*seqLen .. i*seqLen+seqLen), so the seeded sampler's epochs cover the
 * stream once. Evaluation runs over the first `limit` windows of the eval
 * stream (0 = all) and reports loss (nats/token), next-token accuracy and
 * bits per byte.
 */
export function nextTokenTask(train: TextDataset, evalSet: TextDataset, opts: { seqLen: number }): TrainTask {
  const T = opts.seqLen;
  if (!Number.isInteger(T) || T < 1) throw new Error(`nextTokenTask: seqLen must be a positive integer, got ${T}`);
  for (const d of [train, evalSet])
    if (textWindows(d, T) < 1) throw new Error(`nextTokenTask: ${d.name}/${d.split} has ${d.tokens.length} tokens, fewer than one window of seqLen + 1 = ${T + 1}; use more data or a shorter seqLen`);
  const windows = (d: TextDataset): TokenWindows => ({ ...d, starts: Int32Array.from({ length: textWindows(d, T) }, (_, i) => i * T) });
  return windowedNextTokenTask(windows(train), windows(evalSet), { seqLen: T });
}

/** Next-token prediction over the given windows (nextTokenTask's loop; any stream with window starts). */
export function windowedNextTokenTask(train: TokenWindows, evalSet: TokenWindows, opts: { seqLen: number }): TrainTask {
  const T = opts.seqLen;
  if (!Number.isInteger(T) || T < 1) throw new Error(`nextTokenTask: seqLen must be a positive integer, got ${T}`);
  for (const d of [train, evalSet]) if (d.starts.length < 1) throw new Error(`nextTokenTask: ${d.name}/${d.split} has no window of seqLen + 1 = ${T + 1} tokens; use more data or a shorter seqLen`);
  if (evalSet.vocabSize !== train.vocabSize) throw new Error(`nextTokenTask: train vocab ${train.vocabSize} != eval vocab ${evalSet.vocabSize}`);
  const V = train.vocabSize;
  let xbuf = new Int32Array(0);
  let ybuf = new Int32Array(0);
  let b = 0;
  return {
    kind: "next-token",
    trainSize: train.starts.length,
    numOutputs: V,
    outputsName: "vocab",
    prepare(idx, batchSize) {
      if (xbuf.length !== batchSize * T) {
        xbuf = new Int32Array(batchSize * T);
        ybuf = new Int32Array(batchSize * T);
      }
      b = batchSize;
      gatherWindows(train, T, idx, xbuf, ybuf);
    },
    batch: () => ({ x: tf.tensor2d(xbuf, [b, T], "int32"), y: tf.oneHot(tf.tensor1d(ybuf, "int32"), V) }),
    loss: (y, logits) => tokenLoss(y, logits) as tf.Scalar,
    evaluate(model, limit, batchSize, forward) {
      const total = evalSet.starts.length;
      const n = limit > 0 ? Math.min(limit, total) : total;
      let lossSum = 0;
      let correct = 0;
      for (let s = 0; s < n; s += batchSize) {
        const m = Math.min(batchSize, n - s);
        const x = new Int32Array(m * T);
        const y = new Int32Array(m * T);
        gatherWindows(evalSet, T, Int32Array.from({ length: m }, (_, i) => s + i), x, y);
        const [l, c] = tf.tidy(() => {
          const yt = tf.tensor1d(y, "int32");
          const logits = model.forward(tf.tensor2d(x, [m, T], "int32"), forward);
          const loss = tokenLoss(tf.oneHot(yt, V), logits, tf.Reduction.SUM);
          const acc = tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1).reshape([-1]), yt), "float32"));
          return [loss.dataSync()[0]!, acc.dataSync()[0]!];
        });
        lossSum += l;
        correct += c;
      }
      const loss = lossSum / (n * T);
      return { loss, acc: correct / (n * T), bpb: bitsPerByte(loss, evalSet.tokensPerByte) };
    },
  };
}

/**
 * Next-nucleotide prediction on DNA pretraining streams (lib/data/dna.ts):
 * windows of seqLen + 1 bases inside each genome segment, stride seqLen, so
 * none joins two genomes or leaves its split's block. bpb reads bits per base.
 */
export function dnaNextTokenTask(train: DnaStream, evalSet: DnaStream, opts: { seqLen: number }): TrainTask {
  const windows = (d: DnaStream): TokenWindows => ({ name: d.name, split: d.split, tokens: d.tokens, vocabSize: d.vocabSize, starts: dnaWindowStarts(d, opts.seqLen), tokensPerByte: 1 });
  return windowedNextTokenTask(windows(train), windows(evalSet), opts);
}
