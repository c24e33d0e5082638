/**
 * The "diverged" rule (baselines.md, LR sensitivity): a run diverged if any
 * loss is non-finite, OR the mean loss over the last 5% of steps is >= l0,
 * the loss at init (ln(#classes) for classification): it ended no better
 * than chance.
 */

export interface DivergenceOptions {
  /** Tail fraction of steps averaged (default 0.05; at least one step). */
  tailFraction?: number;
}

export interface DivergenceResult {
  diverged: boolean;
  reason: "non-finite" | "tail-mean" | null;
  /** Mean loss over the tail (NaN/inf if non-finite values are there). */
  tailMean: number;
  tailSteps: number;
  /** First step with a non-finite loss, or -1. */
  firstNonFinite: number;
}

/** Loss at init for an N-way classifier: ln N. */
export function chanceLoss(numClasses: number): number {
  return Math.log(numClasses);
}

export function divergence(losses: ArrayLike<number>, l0: number, opts: DivergenceOptions = {}): DivergenceResult {
  const n = losses.length;
  if (n === 0) throw new Error("divergence: no losses");
  const tailSteps = Math.max(1, Math.ceil((opts.tailFraction ?? 0.05) * n));
  let firstNonFinite = -1;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(losses[i]!)) {
      firstNonFinite = i;
      break;
    }
  }
  let s = 0;
  for (let i = n - tailSteps; i < n; i++) s += losses[i]!;
  const tailMean = s / tailSteps;
  if (firstNonFinite >= 0) return { diverged: true, reason: "non-finite", tailMean, tailSteps, firstNonFinite };
  if (tailMean >= l0) return { diverged: true, reason: "tail-mean", tailMean, tailSteps, firstNonFinite };
  return { diverged: false, reason: null, tailMean, tailSteps, firstNonFinite };
}

/** True when divergence(...) says so. */
export function isDiverged(losses: ArrayLike<number>, l0: number, opts: DivergenceOptions = {}): boolean {
  return divergence(losses, l0, opts).diverged;
}
