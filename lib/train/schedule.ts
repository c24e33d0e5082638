export interface ScheduleConfig {
  lr: number;
  warmupSteps: number;
  steps: number;
  /** Final lr as a fraction of the peak (cosine floor). */
  minLrRatio: number;
}

/** Linear warmup from lr/warmup to lr, then cosine decay to lr*minLrRatio at `steps`. step is 0-based. */
export function lrAt(step: number, c: ScheduleConfig): number {
  if (c.warmupSteps > 0 && step < c.warmupSteps) return (c.lr * (step + 1)) / c.warmupSteps;
  const span = Math.max(1, c.steps - c.warmupSteps);
  const t = Math.min(1, (step - c.warmupSteps) / span);
  const min = c.lr * c.minLrRatio;
  return min + 0.5 * (c.lr - min) * (1 + Math.cos(Math.PI * t));
}
