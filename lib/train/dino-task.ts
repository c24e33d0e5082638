/**
 * DINO self-distillation as a trainer task (lib/models/dino.ts): each
 * batch's views (lib/data/multicrop.ts) are drawn from the seed and the
 * batch's example indices (a resumed run redraws exactly the same), the
 * objective is DINO's loss (the centre moves in the same step), and after
 * each update the teacher follows the student by EMA. Labels are used only
 * by the evaluation: k-NN accuracy (DINO's eval_knn) of the teacher's
 * features, with the first `bank` training images as the labelled bank.
 */
import * as tf from "@tensorflow/tfjs";
import { KNN_DEFAULTS, knnAccuracy, type KnnOptions } from "../analysis/knn";
import { gatherImages, gatherLabels, type ImageDataset } from "../data/dataset";
import { multiCrop } from "../data/multicrop";
import { outputEntropies, type DINO, type DinoViews } from "../models/dino";
import type { ForwardOptions } from "../models/transformer";
import { Rng } from "../util/rng";
import { batchSeed } from "./speech-task";
import type { TaskEval, TaskModel, TrainTask } from "./task";

function asDINO(m: TaskModel): DINO {
  if (typeof (m as Partial<DINO>).updateTeacher !== "function") throw new Error("dinoTask: the model must be a DINO (lib/models/dino.ts), with a student, a teacher and updateTeacher");
  return m as DINO;
}

/** A batch's multi-crop views as tensors (inside a tidy). */
function viewsOf(dino: DINO, ds: ImageDataset, idx: ArrayLike<number>, seed: number): DinoViews {
  const c = dino.config.crops;
  const B = idx.length;
  const v = multiCrop(ds, idx, c, new Rng(batchSeed(seed, idx)));
  const C = ds.channels;
  const globals = tf.tensor4d(new Float32Array([...v.globals[0], ...v.globals[1]]), [2 * B, c.globalSize, c.globalSize, C]);
  if (!v.locals.length) return { globals };
  const all = new Float32Array(v.locals.length * v.locals[0]!.length);
  v.locals.forEach((l, i) => all.set(l, i * l.length));
  return { globals, locals: tf.tensor4d(all, [v.locals.length * B, c.localSize, c.localSize, C]) };
}

/** The teacher's (default) or student's backbone features of the first n images of ds: [n, dim]. */
export function dinoFeatures(model: TaskModel, ds: ImageDataset, n: number, batchSize = 250, who: "teacher" | "student" = "teacher", forward?: ForwardOptions): { feats: Float32Array; dim: number } {
  const dino = asDINO(model);
  const dim = dino.student.config.dim;
  const m = Math.min(n, ds.n);
  const feats = new Float32Array(m * dim);
  for (let s = 0; s < m; s += batchSize) {
    const b = Math.min(batchSize, m - s);
    const idx = Int32Array.from({ length: b }, (_, i) => s + i);
    const f = tf.tidy(() => dino.features(tf.tensor4d(gatherImages(ds, idx), [b, ds.height, ds.width, ds.channels]), who, forward).dataSync() as Float32Array);
    feats.set(f, s * dim);
  }
  return { feats, dim };
}

/** Labels of the first n images of ds. */
export function firstLabels(ds: ImageDataset, n: number): Int32Array {
  return gatherLabels(ds, Int32Array.from({ length: Math.min(n, ds.n) }, (_, i) => i));
}

/** Weighted k-NN accuracy of the teacher's features: the first `bankSize` images of `bank` vote for the first `limit` of `query` (0 = all). */
export function dinoKnn(model: TaskModel, bank: ImageDataset, bankSize: number, query: ImageDataset, limit = 0, batchSize = 250, knn: Partial<KnnOptions> = {}): number {
  return dinoKnnSplits(model, bank, bankSize, [{ query, limit }], batchSize, knn)[0]!;
}

/** dinoKnn for several query sets against one bank, whose features are extracted once. */
export function dinoKnnSplits(model: TaskModel, bank: ImageDataset, bankSize: number, queries: readonly { query: ImageDataset; limit: number }[], batchSize = 250, knn: Partial<KnnOptions> = {}): number[] {
  const nb = bankSize > 0 ? Math.min(bankSize, bank.n) : bank.n;
  const fb = dinoFeatures(model, bank, nb, batchSize);
  const yb = firstLabels(bank, nb);
  return queries.map(({ query, limit }) => {
    const nq = limit > 0 ? Math.min(limit, query.n) : query.n;
    const fq = dinoFeatures(model, query, nq, batchSize);
    return knnAccuracy(fb.feats, yb, fq.feats, firstLabels(query, nq), fb.dim, bank.numClasses, { ...KNN_DEFAULTS, ...knn, batchSize });
  });
}

/**
 * Held-out evaluation of a DINO on the first `limit` images of evalSet (0 =
 * all): loss, DINO's loss on views drawn from `seed` and each batch's start
 * (the same at every evaluation); acc, the teacher's k-NN accuracy with the
 * bank; stats: the teacher's mean per-image output entropy and the entropy
 * of its mean output (nats; collapse to one prototype drives the second to
 * 0, collapse to uniform drives the first to ln outDim), and ln outDim.
 */
export function evaluateDino(model: TaskModel, bank: ImageDataset, bankSize: number, evalSet: ImageDataset, limit = 0, batchSize = 250, seed = 0x5eed, knn: Partial<KnnOptions> = {}): TaskEval {
  const dino = asDINO(model);
  const c = dino.config;
  const n = limit > 0 ? Math.min(limit, evalSet.n) : evalSet.n;
  let lossSum = 0;
  const probs: tf.Tensor[] = [];
  try {
    for (let s = 0; s < n; s += batchSize) {
      const m = Math.min(batchSize, n - s);
      const idx = Int32Array.from({ length: m }, (_, i) => s + i);
      const { l, p } = tf.tidy(() => {
        const { loss, teacher } = dino.lossAndTeacher(viewsOf(dino, evalSet, idx, batchSeed(seed, [s])));
        return { l: loss, p: tf.softmax(tf.div(tf.sub(teacher, dino.center), c.teacherTemp)) };
      });
      lossSum += l.dataSync()[0]! * m;
      l.dispose();
      probs.push(p);
    }
    const all = tf.concat(probs, 0) as tf.Tensor2D;
    const e = outputEntropies(all);
    all.dispose();
    const acc = dinoKnn(model, bank, bankSize, evalSet, n, batchSize, knn);
    return { loss: lossSum / n, acc, stats: { teacherEntropy: e.perSample, marginalEntropy: e.marginal, lnOutDim: Math.log(c.outDim) } };
  } finally {
    tf.dispose(probs);
  }
}

export interface DinoTaskOptions {
  seed?: number;
  /** Labelled training images of the k-NN bank used by evaluate (the first N; 0 = all). */
  bank?: number;
  knn?: Partial<KnnOptions>;
}

/** The DINO task on an image data set (see the header). */
export function dinoTask(train: ImageDataset, evalSet: ImageDataset, opts: DinoTaskOptions = {}): TrainTask {
  for (const d of [train, evalSet]) if (d.n < 1) throw new Error(`dinoTask: the ${d === train ? "training" : "evaluation"} set is empty; use a larger limit`);
  const seed = opts.seed ?? 0;
  let current: Int32Array = new Int32Array(0);
  return {
    kind: "self-distillation",
    trainSize: train.n,
    numOutputs: train.numClasses,
    outputsName: "classes",
    prepare(idx) {
      // The views' geometry comes from the model, known at the objective: draw there, from this seed and batch.
      current = idx.slice();
    },
    batch: () => ({ x: tf.zeros([current.length]), y: tf.zeros([current.length]) }),
    loss: () => {
      throw new Error("dinoTask: the loss needs the model; the trainer calls objective()");
    },
    objective: (model, _x, _y, forward) => {
      const dino = asDINO(model);
      return dino.loss(viewsOf(dino, train, current, seed), { ...forward, updateCenter: true });
    },
    afterUpdate: (model, step, steps) => {
      const dino = asDINO(model);
      dino.updateTeacher(dino.teacherMomentumAt(step, steps));
    },
    evaluate: (model, limit, batchSize, forward) => {
      void forward;
      return evaluateDino(model, train, opts.bank ?? 0, evalSet, limit, batchSize, seed ^ 0x5eed, opts.knn);
    },
    // Student scores are cosines over a temperature (|s| <= 1 / studentTemp), so the loss is bounded by 2 / studentTemp + ln outDim: only a non-finite value is a blow-up.
    divergenceCap: () => ({ cap: Infinity, why: "DINO's loss is bounded; only non-finite values count" }),
  };
}
