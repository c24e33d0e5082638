import * as tf from "@tensorflow/tfjs";

/** Thrown when the live tensor count grows across steps that should be balanced. */
export class TensorLeakError extends Error {}

/**
 * Watches tf.memory().numTensors across repeated work (training steps).
 * The first `warmup` checks set the baseline (optimizer state and caches are
 * created lazily); after that any growth is a leak.
 */
export class LeakGuard {
  private baseline: number | undefined;
  private seen = 0;
  readonly counts: number[] = [];
  constructor(
    private readonly warmup = 2,
    private readonly label = "training step",
  ) {}

  /** Call after each step; throws TensorLeakError when the count grew. */
  check(): number {
    const n = tf.memory().numTensors;
    this.counts.push(n);
    this.seen++;
    if (this.seen <= this.warmup) {
      this.baseline = n;
      return n;
    }
    if (this.baseline !== undefined && n > this.baseline)
      throw new TensorLeakError(
        `tensor leak: ${n - this.baseline} tensors more after ${this.label} ${this.seen} than after ${this.warmup} (${this.baseline} -> ${n})`,
      );
    return n;
  }
}
