/**
 * Denoising diffusion for the DiT (Ho et al. 2020, DiT's recipe): a linear
 * beta schedule over T steps, the epsilon-prediction MSE as the training
 * loss, a held-out denoising loss on fixed draws for validation, and
 * deterministic DDIM sampling (Song et al. 2021, eta = 0) for sample grids
 * and the Fréchet distance. Images live in [-1, 1] here; the lab's data sets
 * store standardised pixels, which `toUnitRange` / `fromUnitRange` convert.
 */
import * as tf from "@tensorflow/tfjs";
import { gatherImages, gatherLabels, type ImageDataset } from "../data/dataset";
import type { DiT } from "../models/dit";
import type { ForwardOptions } from "../models/transformer";
import { Rng } from "../util/rng";
import { batchSeed } from "./speech-task";
import type { TaskEval, TaskModel, TrainTask } from "./task";

export interface DiffusionSchedule {
  /** Diffusion steps (DiT: 1000). */
  T: number;
  /** Linear beta schedule from betaStart to betaEnd (DiT: 1e-4 .. 0.02). */
  betaStart: number;
  betaEnd: number;
}

export const DIFFUSION_DEFAULTS: DiffusionSchedule = { T: 1000, betaStart: 1e-4, betaEnd: 0.02 };

export function validateSchedule(s: DiffusionSchedule): void {
  if (!Number.isInteger(s.T) || s.T < 2) throw new Error(`diffusion schedule: T must be an integer >= 2, got ${s.T}`);
  if (!(s.betaStart > 0 && s.betaEnd < 1 && s.betaStart <= s.betaEnd)) throw new Error(`diffusion schedule: need 0 < betaStart <= betaEnd < 1, got ${s.betaStart} .. ${s.betaEnd}`);
}

/** alpha-bar_t = prod_{s <= t} (1 - beta_s), t = 0 .. T-1 (float64). */
export function alphaBars(s: DiffusionSchedule): Float64Array {
  validateSchedule(s);
  const out = new Float64Array(s.T);
  let prod = 1;
  for (let t = 0; t < s.T; t++) {
    prod *= 1 - (s.betaStart + ((s.betaEnd - s.betaStart) * t) / (s.T - 1));
    out[t] = prod;
  }
  return out;
}

/** Standardised pixels of `ds` -> [-1, 1] (pixel/255 mapped linearly). */
export function toUnitRange(ds: Pick<ImageDataset, "normalization">, x: Float32Array): Float32Array {
  const { mean, std } = ds.normalization;
  return x.map((v) => 2 * (v * std + mean) - 1);
}

/** [-1, 1] -> the standardised pixels of `ds` (what its classifiers were trained on). */
export function fromUnitRange(ds: Pick<ImageDataset, "normalization">, x: Float32Array): Float32Array {
  const { mean, std } = ds.normalization;
  return x.map((v) => ((v + 1) / 2 - mean) / std);
}

function asDiT(m: TaskModel): DiT {
  if (typeof (m as Partial<DiT>).predict !== "function") throw new Error("diffusionTask: the model must be a DiT (lib/models/dit.ts), with predict(x_t, t, y)");
  return m as DiT;
}

/** One batch's draws: timesteps, noise and the noised images x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) eps. */
interface Draws {
  t: Float32Array;
  eps: Float32Array;
  xt: Float32Array;
}

function drawNoised(x0: Float32Array, B: number, ab: Float64Array, rng: Rng, into?: Draws): Draws {
  const ex = x0.length / B;
  const d = into && into.t.length === B ? into : { t: new Float32Array(B), eps: new Float32Array(B * ex), xt: new Float32Array(B * ex) };
  for (let i = 0; i < B; i++) {
    const t = rng.int(ab.length);
    d.t[i] = t;
    const a = Math.sqrt(ab[t]!);
    const s = Math.sqrt(1 - ab[t]!);
    for (let j = i * ex; j < (i + 1) * ex; j++) {
      const e = rng.normal();
      d.eps[j] = e;
      d.xt[j] = a * x0[j]! + s * e;
    }
  }
  return d;
}

/** Mean squared error of the noise prediction (the DDPM "simple" loss). */
function epsLoss(model: DiT, xt: tf.Tensor, t: tf.Tensor, y: tf.Tensor, eps: tf.Tensor, forward?: ForwardOptions): tf.Scalar {
  return tf.mean(tf.squaredDifference(model.predict(xt, t, y, forward), eps)) as tf.Scalar;
}

/**
 * Held-out denoising loss of `model` on the first `limit` images of ds
 * (0 = all), with timesteps and noise drawn from `seed` and each batch's
 * start (the same at every evaluation, and for every model: comparisons are
 * paired). acc is 1 - loss / mean(eps^2): the share of the noise's variance
 * the prediction explains (0 for the all-zero prediction, 1 for a perfect one).
 */
export function evaluateDiffusion(model: TaskModel, ds: ImageDataset, ab: Float64Array, limit = 0, batchSize = 250, forward?: ForwardOptions, seed = 0x5eed): TaskEval {
  const dit = asDiT(model);
  const n = limit > 0 ? Math.min(limit, ds.n) : ds.n;
  const shape = [ds.height, ds.width, ds.channels];
  let se = 0;
  let ee = 0;
  let count = 0;
  for (let s = 0; s < n; s += batchSize) {
    const m = Math.min(batchSize, n - s);
    const idx = Int32Array.from({ length: m }, (_, i) => s + i);
    const d = drawNoised(toUnitRange(ds, gatherImages(ds, idx)), m, ab, new Rng(batchSeed(seed, [s])));
    const sum = tf.tidy(() => {
      const pred = dit.predict(tf.tensor4d(d.xt, [m, ...shape] as [number, number, number, number]), tf.tensor1d(d.t), tf.tensor1d(gatherLabels(ds, idx), "int32"), forward);
      return tf.sum(tf.squaredDifference(pred, tf.tensor4d(d.eps, [m, ...shape] as [number, number, number, number]))).dataSync()[0]!;
    });
    se += sum;
    for (const e of d.eps) ee += e * e;
    count += d.eps.length;
  }
  const loss = se / count;
  return { loss, acc: 1 - se / ee };
}

/**
 * The DiT's training task on an image data set: each example's timestep and
 * noise come from `seed` and the batch's example indices (a resumed run
 * redraws exactly the same), the objective is the noise-prediction MSE, and
 * evaluation is evaluateDiffusion. The zero prediction scores a loss of ~1,
 * so a loss above 10 x divergenceFactor counts as diverged.
 */
export function diffusionTask(train: ImageDataset, evalSet: ImageDataset, opts: { schedule?: Partial<DiffusionSchedule>; seed?: number } = {}): TrainTask {
  const schedule = { ...DIFFUSION_DEFAULTS, ...opts.schedule };
  const ab = alphaBars(schedule);
  for (const d of [train, evalSet]) if (d.n < 1) throw new Error(`diffusionTask: the ${d === train ? "training" : "evaluation"} set is empty; use a larger limit`);
  if (train.height !== evalSet.height || train.channels !== evalSet.channels) throw new Error(`diffusionTask: train images are ${train.height}x${train.width}x${train.channels}, eval images ${evalSet.height}x${evalSet.width}x${evalSet.channels}; use one data set`);
  const seed = opts.seed ?? 0;
  const shape = [train.height, train.width, train.channels];
  let draws: Draws | undefined;
  let labels: Int32Array = new Int32Array(0);
  let b = 0;
  return {
    kind: "diffusion",
    trainSize: train.n,
    numOutputs: train.numClasses,
    outputsName: "classes",
    prepare(idx, batchSize) {
      b = batchSize;
      draws = drawNoised(toUnitRange(train, gatherImages(train, idx)), batchSize, ab, new Rng(batchSeed(seed, idx)), draws);
      labels = gatherLabels(train, idx);
    },
    // x: the noised images; y: their classes (the conditioning). t and eps come from the same draws.
    batch: () => ({ x: tf.tensor4d(draws!.xt, [b, ...shape] as [number, number, number, number]), y: tf.tensor1d(labels, "int32") }),
    loss: (y, pred) => tf.mean(tf.squaredDifference(pred, y)) as tf.Scalar,
    objective: (model, x, y, forward) => {
      if (!draws || draws.t.length !== x.shape[0]) throw new Error("diffusionTask: objective called before prepare() for this batch");
      return epsLoss(asDiT(model), x, tf.tensor1d(draws.t), y, tf.tensor4d(draws.eps, x.shape as [number, number, number, number]), forward);
    },
    evaluate: (model, limit, batchSize, forward) => evaluateDiffusion(model, evalSet, ab, limit, batchSize, forward, seed ^ 0x5eed),
    divergenceCap: (f) => ({ cap: 10 * f, why: `10 x ${f} x the zero prediction's loss of 1` }),
  };
}

export interface SampleOptions {
  schedule?: Partial<DiffusionSchedule>;
  /** DDIM steps, evenly spaced over the T diffusion steps (default 50). */
  steps?: number;
  /** Seed of the initial noise. */
  seed?: number;
  batchSize?: number;
}

/** The DDIM timesteps, descending: round(k (T-1) / (steps-1)) for k = steps-1 .. 0. */
export function ddimTimesteps(T: number, steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 2 || steps > T) throw new Error(`DDIM steps must be an integer in [2, T=${T}], got ${steps}`);
  return Array.from({ length: steps }, (_, k) => Math.round(((steps - 1 - k) * (T - 1)) / (steps - 1)));
}

/**
 * Deterministic DDIM sampling (eta = 0) of one image per label: from
 * x_T ~ N(0, I) (drawn from `seed`), each step predicts eps, forms
 * x0-hat = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t) clipped to [-1, 1], takes
 * the noise consistent with the clipped x0-hat, eps' = (x_t - sqrt(ab_t)
 * x0-hat) / sqrt(1 - ab_t), and moves to x_s = sqrt(ab_s) x0-hat +
 * sqrt(1 - ab_s) eps'; the last step returns x0-hat. Returns images in [-1, 1], [N, H, W, C] flattened.
 */
export function ddimSample(model: DiT, labels: Int32Array, opts: SampleOptions = {}): Float32Array {
  const schedule = { ...DIFFUSION_DEFAULTS, ...opts.schedule };
  const ab = alphaBars(schedule);
  const ts = ddimTimesteps(schedule.T, opts.steps ?? 50);
  const { imageSize: H, channels: C, numClasses } = model.config;
  for (const l of labels) if (!(Number.isInteger(l) && l >= 0 && l < numClasses)) throw new Error(`ddimSample: label ${l} is not a class of this DiT (0 .. ${numClasses - 1})`);
  const ex = H * H * C;
  const out = new Float32Array(labels.length * ex);
  const rng = new Rng(opts.seed ?? 0);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  const bs = opts.batchSize ?? 250;
  for (let s = 0; s < labels.length; s += bs) {
    const m = Math.min(bs, labels.length - s);
    const x0 = tf.tidy(() => {
      let x: tf.Tensor = tf.tensor4d(out.subarray(s * ex, (s + m) * ex), [m, H, H, C]);
      const y = tf.tensor1d(labels.subarray(s, s + m), "int32");
      let x0hat: tf.Tensor = x;
      for (let k = 0; k < ts.length; k++) {
        const t = ts[k]!;
        const epsHat = model.predict(x, tf.fill([m], t), y);
        x0hat = tf.clipByValue(tf.div(tf.sub(x, tf.mul(epsHat, Math.sqrt(1 - ab[t]!))), Math.sqrt(ab[t]!)), -1, 1);
        if (k < ts.length - 1) {
          const prev = ab[ts[k + 1]!]!;
          // The noise consistent with the clipped x0-hat (diffusers' DDIM with clip_sample): at high
          // noise a small error in eps-hat is a large one in x0-hat, and stepping with the raw eps-hat
          // would carry it on into x.
          const eps = tf.div(tf.sub(x, tf.mul(x0hat, Math.sqrt(ab[t]!))), Math.sqrt(1 - ab[t]!));
          x = tf.add(tf.mul(x0hat, Math.sqrt(prev)), tf.mul(eps, Math.sqrt(1 - prev)));
        }
      }
      return x0hat.dataSync() as Float32Array;
    });
    out.set(x0, s * ex);
  }
  return out;
}
