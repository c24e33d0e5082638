/**
 * Masked-autoencoder pretraining as a trainer task (lib/models/mae.ts): each
 * image's visible patches are drawn from the seed and the batch's example
 * indices (a resumed run redraws exactly the same), the objective is the MSE
 * on the hidden patches, and evaluation uses fixed draws per eval batch (the
 * same at every evaluation and for every model, so comparisons are paired).
 * Labels are not used.
 */
import * as tf from "@tensorflow/tfjs";
import { gatherImages, type ImageDataset } from "../data/dataset";
import { drawMaeMask, type MAE } from "../models/mae";
import type { ForwardOptions } from "../models/transformer";
import { Rng } from "../util/rng";
import { batchSeed } from "./speech-task";
import type { TaskEval, TaskModel, TrainTask } from "./task";

function asMAE(m: TaskModel): MAE {
  if (typeof (m as Partial<MAE>).reconstruct !== "function") throw new Error("maeTask: the model must be an MAE (lib/models/mae.ts), with reconstruct(images, visible)");
  return m as MAE;
}

/**
 * Held-out masked-reconstruction loss of an MAE on the first `limit` images
 * of ds (0 = all), masks drawn from `seed` and each batch's start. acc is
 * 1 - loss / mean(target^2 over hidden patches): the share of the hidden
 * pixels' second moment the reconstruction explains (0 for predicting 0).
 */
export function evaluateMae(model: TaskModel, ds: ImageDataset, limit = 0, batchSize = 250, forward?: ForwardOptions, seed = 0x5eed): TaskEval {
  const mae = asMAE(model);
  const n = limit > 0 ? Math.min(limit, ds.n) : ds.n;
  let se = 0;
  let tt = 0;
  let hidden = 0;
  for (let s = 0; s < n; s += batchSize) {
    const m = Math.min(batchSize, n - s);
    const idx = Int32Array.from({ length: m }, (_, i) => s + i);
    const visible = drawMaeMask(m, mae.numPatches, mae.keep, new Rng(batchSeed(seed, [s])));
    const [a, b, h] = tf.tidy(() => {
      const o = mae.reconstruct(tf.tensor4d(gatherImages(ds, idx), [m, ds.height, ds.width, ds.channels]), visible, forward);
      const w = tf.expandDims(o.mask, 2);
      return [tf.sum(tf.mul(tf.squaredDifference(o.pred, o.target), w)).dataSync()[0]!, tf.sum(tf.mul(tf.square(o.target), w)).dataSync()[0]!, tf.sum(o.mask).dataSync()[0]! * o.pred.shape[2]];
    });
    se += a;
    tt += b;
    hidden += h;
  }
  return { loss: se / hidden, acc: 1 - se / tt };
}

/** The MAE pretraining task on an image data set (see the header). A loss above 10 x divergenceFactor (the zero prediction scores ~1 with normPixLoss) counts as diverged. */
export function maeTask(train: ImageDataset, evalSet: ImageDataset, opts: { seed?: number } = {}): TrainTask {
  for (const d of [train, evalSet]) if (d.n < 1) throw new Error(`maeTask: the ${d === train ? "training" : "evaluation"} set is empty; use a larger limit`);
  const seed = opts.seed ?? 0;
  const ex = train.height * train.width * train.channels;
  let x = new Float32Array(0);
  let b = 0;
  let visible: Int32Array | undefined;
  let current: Int32Array = new Int32Array(0);
  return {
    kind: "masked-image",
    trainSize: train.n,
    numOutputs: train.numClasses,
    outputsName: "classes",
    prepare(idx, batchSize) {
      if (x.length !== batchSize * ex) x = new Float32Array(batchSize * ex);
      b = batchSize;
      gatherImages(train, idx, x);
      // The mask's geometry comes from the model, known at the first objective call; draw there from this seed.
      visible = undefined;
      current = idx.slice();
    },
    batch: () => ({ x: tf.tensor4d(x, [b, train.height, train.width, train.channels]), y: tf.zeros([b]) }),
    loss: (y, pred) => tf.mean(tf.squaredDifference(pred, y)) as tf.Scalar,
    objective: (model, xs, _y, forward) => {
      const mae = asMAE(model);
      if (xs.shape[0] !== b) throw new Error("maeTask: objective called before prepare() for this batch");
      visible ??= drawMaeMask(b, mae.numPatches, mae.keep, new Rng(batchSeed(seed, current)));
      return mae.reconstruct(xs, visible, forward).loss;
    },
    evaluate: (model, limit, batchSize, forward) => evaluateMae(model, evalSet, limit, batchSize, forward, seed ^ 0x5eed),
    divergenceCap: (f) => ({ cap: 10 * f, why: `10 x ${f} x the zero prediction's loss of ~1` }),
  };
}
