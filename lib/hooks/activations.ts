import * as tf from "@tensorflow/tfjs";
import type { Model, TrainHook } from "../train/trainer";

/** Per-block activation statistics of one probe forward pass (index = block). */
export interface ActivationStats {
  /** max |h| of the residual stream after each block. */
  actMax: number[];
  /** RMS of the residual stream after each block. */
  actRms: number[];
  /** Mean attention entropy of each block's softmax, nats (mean over batch, heads and queries). */
  attnEntropy: number[];
}

/**
 * Attention entropy -sum_j A_ij ln A_ij of probabilities [..., T] (last axis
 * sums to 1), averaged over every other axis: uniform attention over T
 * keys gives ln T, one-hot attention gives 0. Returns a scalar tensor.
 */
export function attentionEntropy(probs: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    // 0 * ln(tiny) = 0: zero probabilities contribute nothing, as in the limit.
    const plogp = tf.mul(probs, tf.log(tf.maximum(probs, 1e-30)));
    return tf.mean(tf.neg(tf.sum(plogp, -1))) as tf.Scalar;
  });
}

/**
 * One forward pass of `model` on `x` (eval mode, under tf.tidy) recording
 * per-block max |h|, RMS of h and mean attention entropy. Read-only: it uses
 * the forward observers and never touches parameters or optimizer state, so
 * it cannot change training; every tensor it makes is freed before it returns.
 */
export function activationStats(model: Model, x: tf.Tensor): ActivationStats {
  // The model's forward runs its own tf.tidy, which would free the per-block
  // scalars on return: they are kept, and freed here once packed.
  const kept: tf.Tensor[] = [];
  const keep = (t: tf.Tensor) => {
    kept.push(tf.keep(t));
    return t;
  };
  try {
    const packed = tf.tidy(() => {
      const maxs: tf.Tensor[] = [];
      const rmss: tf.Tensor[] = [];
      const ents: tf.Tensor[] = [];
      model.forward(x, {
        onBlock(i, h) {
          maxs[i] = keep(tf.max(tf.abs(h)));
          rmss[i] = keep(tf.sqrt(tf.mean(tf.square(h))));
        },
        onAttention(i, p) {
          ents[i] = keep(attentionEntropy(p));
        },
      });
      const n = Math.max(maxs.length, ents.length);
      const fill = (ts: tf.Tensor[]) => Array.from({ length: n }, (_, i) => ts[i] ?? tf.scalar(NaN));
      // One read for every number: [3, blocks].
      return n ? tf.stack([tf.stack(fill(maxs)), tf.stack(fill(rmss)), tf.stack(fill(ents))]) : undefined;
    });
    if (!packed) return { actMax: [], actRms: [], attnEntropy: [] };
    const v = packed.dataSync();
    const n = packed.shape[1]!;
    packed.dispose();
    const row = (r: number) => Array.from(v.subarray(r * n, (r + 1) * n));
    return { actMax: row(0), actRms: row(1), attnEntropy: row(2) };
  } finally {
    for (const t of kept) t.dispose();
  }
}

export interface ActivationStatsHookOptions {
  /** Probe images, flat (n x height x width x channels values), taken once by the caller (e.g. a seeded sample). */
  images: Float32Array;
  /** [n, height, width, channels]. */
  shape: [number, number, number, number];
  /** Only on logged steps that are multiples of this (default 1: every logged step); the last step is always probed. */
  every?: number;
  /** The run's last step (so it is always probed); optional. */
  lastStep?: number;
}

/**
 * Adds `actMax`, `actRms` and `attnEntropy` (one number per block) to the
 * metrics lines of the steps it probes, from a separate forward pass on a
 * fixed probe batch. The probe tensor is rebuilt inside each call, so the
 * hook holds no tensors between steps (the trainer's leak check stays flat).
 */
export function activationStatsHook(opts: ActivationStatsHookOptions): TrainHook {
  const every = opts.every ?? 1;
  if (!Number.isInteger(every) || every < 1) throw new Error(`activationStatsHook: every must be a positive integer, got ${every}`);
  const size = opts.shape.reduce((a, b) => a * b, 1);
  if (opts.images.length !== size) throw new Error(`activationStatsHook: ${opts.images.length} probe values do not fill shape [${opts.shape.join(",")}]`);
  return {
    name: "activation-stats",
    onLog(step, model) {
      if (step % every !== 0 && step !== opts.lastStep) return undefined;
      const x = tf.tensor4d(opts.images, opts.shape);
      try {
        return { ...activationStats(model, x) };
      } finally {
        x.dispose();
      }
    },
  };
}

/** The probed steps of a metrics log and their per-block series. */
export function activationTraces(log: { step: number; actMax?: unknown; actRms?: unknown; attnEntropy?: unknown }[]): ({ step: number } & ActivationStats)[] {
  return log
    .filter((l) => Array.isArray(l.actMax))
    .map((l) => ({ step: l.step, actMax: l.actMax as number[], actRms: (l.actRms as number[]) ?? [], attnEntropy: (l.attnEntropy as number[]) ?? [] }));
}
