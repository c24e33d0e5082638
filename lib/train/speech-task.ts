import * as tf from "@tensorflow/tfjs";
import type { SpeechWindows } from "../data/speech";
import { drawWav2VecBatch, resolveWav2VecConfig, wav2vecFrames, type Wav2VecConfig, type Wav2VecDraws, type Wav2VecLosses } from "../models/wav2vec";
import type { ForwardOptions } from "../models/transformer";
import { Rng } from "../util/rng";
import type { TaskEval, TaskModel, TrainTask } from "./task";

/** What the wav2vec task needs of a model: the pretraining pass (lib/models/wav2vec.ts). */
export interface Wav2VecTaskModel extends TaskModel {
  pretrain(wave: tf.Tensor, draws: Wav2VecDraws, opts?: ForwardOptions): Wav2VecLosses;
}

function asWav2Vec(model: TaskModel): Wav2VecTaskModel {
  if (typeof (model as Partial<Wav2VecTaskModel>).pretrain !== "function")
    throw new Error(`wav2vecPretrainTask: the model has no pretrain(wave, draws) method; train a Wav2Vec2 (lib/models/wav2vec.ts) with this task`);
  return model as Wav2VecTaskModel;
}

/** A 32-bit seed from a base seed and a batch's example indices (FNV-1a), so a batch's draws depend on nothing else. */
export function batchSeed(seed: number, idx: ArrayLike<number>): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < idx.length; i++) {
    let v = idx[i]! >>> 0;
    for (let b = 0; b < 4; b++, v >>>= 8) h = Math.imul(h ^ (v & 0xff), 0x01000193) >>> 0;
  }
  return h;
}

export interface Wav2VecEval extends TaskEval {
  /**
   * `loss` (TaskEval's) is the objective's total with the contrastive term
   * counting ties: strictContrastive + diversity and feature-penalty terms.
   * `fairseqLoss` is the total as trained and as fairseq reports it, whose
   * contrastive term leaves identical distractors out and so falls to 0 on a
   * collapsed codebook (amendment of 2026-12-02, wav2vec-ln-dyt spec).
   */
  fairseqLoss: number;
  /** Mean contrastive loss (fairseq's), its tie-counting version, diversity term and codebook perplexity over the evaluated windows. */
  contrastive: number;
  strictContrastive: number;
  diversity: number;
  perplexity: number;
  /** Share of distractors equal to their target (see contrastiveLoss). */
  distractorsEqual: number;
  /** Contrastive accuracy with identical distractors as ties, ties lost (`acc` is fairseq's, which leaves them out). */
  strictAcc: number;
}

/**
 * Held-out pretraining loss on the first `limit` windows of `ds` (0 = all):
 * masks and distractors drawn from `seed` and the batch's first index (the
 * same every time, so evaluations at different steps compare), quantizer
 * argmax without Gumbel noise (fairseq's eval mode). loss = the training
 * objective's total with ties counted in its contrastive term (see
 * Wav2VecEval); fairseqLoss = the total as trained; acc = fairseq's
 * contrastive accuracy, strictAcc = ties lost.
 */
export function evaluateWav2Vec(model: TaskModel, ds: SpeechWindows, config: Partial<Wav2VecConfig>, limit = 0, batchSize = 16, forward?: ForwardOptions, seed = 0x5eed): Wav2VecEval {
  const m = asWav2Vec(model);
  const c = resolveWav2VecConfig(config);
  const W = ds.windowSamples;
  const T = wav2vecFrames(c, W);
  const n = limit > 0 ? Math.min(limit, ds.n) : ds.n;
  if (n < 1) throw new Error(`evaluateWav2Vec: ${ds.name}/${ds.split} has no windows`);
  const sums = { fairseqLoss: 0, acc: 0, contrastive: 0, strictContrastive: 0, diversity: 0, perplexity: 0, distractorsEqual: 0, strictAcc: 0 };
  for (let s = 0; s < n; s += batchSize) {
    const b = Math.min(batchSize, n - s);
    const wave = new Float32Array(b * W);
    for (let i = 0; i < b; i++) ds.read(s + i, wave, i * W);
    const d = drawWav2VecBatch(c, b, T, new Rng(batchSeed(seed, [s])), { gumbel: false });
    const v = tf.tidy(() => {
      const r = m.pretrain(tf.tensor2d(wave, [b, W]), d, forward);
      return [r.loss, r.accuracy, r.contrastive, r.strictContrastive, r.diversity, r.perplexity, r.distractorsEqual, r.strictAccuracy].map((t) => t.dataSync()[0]!);
    });
    const keys = ["fairseqLoss", "acc", "contrastive", "strictContrastive", "diversity", "perplexity", "distractorsEqual", "strictAcc"] as const;
    keys.forEach((k, i) => (sums[k] += v[i]! * b));
  }
  const mean = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / n])) as typeof sums;
  // The total with the tie-counting contrastive term: the other terms of the objective are unchanged.
  return { loss: mean.fairseqLoss - mean.contrastive + mean.strictContrastive, ...mean };
}

/**
 * wav2vec 2.0 self-supervised pretraining as a TrainTask: the examples are
 * fixed-length speech windows (lib/data/speech.ts); each batch draws its
 * masks, distractors and Gumbel noise from `seed` and its example indices
 * (so a resumed run redraws exactly the same), and the objective is the
 * model's pretrain() loss (contrastive + diversity). numOutputs = K + 1
 * candidates: the loss at init is about ln(K + 1), and a loss above
 * divergenceFactor x ln(K + 1) counts as diverged. `loss(y, logits)` reads
 * logits as [N, K + 1] candidate scores with the target first.
 */
export function wav2vecPretrainTask(train: SpeechWindows, evalSet: SpeechWindows, config: Partial<Wav2VecConfig>, opts: { seed?: number } = {}): TrainTask {
  const c = resolveWav2VecConfig(config);
  const W = train.windowSamples;
  if (evalSet.windowSamples !== W) throw new Error(`wav2vecPretrainTask: train windows have ${W} samples, eval windows ${evalSet.windowSamples}; use one window length`);
  for (const d of [train, evalSet]) if (d.n < 1) throw new Error(`wav2vecPretrainTask: ${d.name}/${d.split} has no windows of ${W} samples; build more data or use shorter windows`);
  const T = wav2vecFrames(c, W);
  const seed = opts.seed ?? 0;
  let wave = new Float32Array(0);
  let b = 0;
  let draws: Wav2VecDraws | undefined;
  return {
    kind: "contrastive",
    trainSize: train.n,
    numOutputs: c.numNegatives + 1,
    outputsName: "candidates",
    prepare(idx, batchSize) {
      if (wave.length !== batchSize * W) wave = new Float32Array(batchSize * W);
      b = batchSize;
      for (let i = 0; i < idx.length; i++) train.read(idx[i]!, wave, i * W);
      draws = drawWav2VecBatch(c, batchSize, T, new Rng(batchSeed(seed, idx)));
    },
    batch: () => ({ x: tf.tensor2d(wave, [b, W]), y: tf.tensor2d(draws!.mask, [b, T]) }),
    loss: (_y, logits) => {
      const K1 = logits.shape[logits.rank - 1]!;
      const l = logits.reshape([-1, K1]);
      return tf.neg(tf.mean(tf.slice(tf.logSoftmax(l, -1), [0, 0], [l.shape[0]!, 1]))) as tf.Scalar;
    },
    objective: (model, x, _y, forward) => {
      if (!draws || draws.B !== x.shape[0]) throw new Error(`wav2vecPretrainTask: objective called before prepare() for this batch`);
      const r = asWav2Vec(model).pretrain(x, draws, forward);
      return r.loss;
    },
    evaluate: (model, limit, batchSize, forward) => evaluateWav2Vec(model, evalSet, c, limit, batchSize, forward, seed ^ 0x5eed),
  };
}
