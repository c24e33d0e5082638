/**
 * Learning-rate sensitivity over an lr grid (Wortsman et al. 2023 style;
 * formulas fixed in baselines.md):
 *   l(lr) = mean over seeds of min(final loss, l0), a diverged or
 *           non-finite run counting as l0 (capped, so one blow-up does not
 *           dominate);
 *   l*    = min over the grid of l(lr);
 *   sens  = mean over the grid of (l(lr) - l*);
 *   widest interval: the longest run of CONSECUTIVE grid points with
 *           l(lr) <= 1.05 l*, its width log10(lr_hi/lr_lo) in decades
 *           (one point = 0 decades);
 *   maxStableLr: the largest lr at which no seed diverged.
 */
import { divergence, type DivergenceOptions } from "./divergence";

export interface LrRun {
  lr: number;
  /** Final loss (e.g. the tail mean from divergence()). */
  loss: number;
  diverged: boolean;
  seed?: number;
}

export interface LrPoint {
  lr: number;
  /** l(lr): mean capped loss over seeds. */
  loss: number;
  runs: number;
  diverged: number;
}

export interface LrSensitivity {
  grid: LrPoint[];
  lStar: number;
  lrStar: number;
  sens: number;
  /** Widest contiguous lr interval within within*l*. */
  widest: { lo: number; hi: number; decades: number };
  /** Largest lr with zero diverged seeds (null if every lr had a divergence). */
  maxStableLr: number | null;
  /** Largest lr such that no lr at or below it diverged (null if the smallest did). */
  maxStableLrBelow: number | null;
  l0: number;
}

/** A run's final loss and diverged flag from its loss curve, by the divergence rule. */
export function summarizeRun(lr: number, losses: ArrayLike<number>, l0: number, opts: DivergenceOptions = {}, seed?: number): LrRun {
  const d = divergence(losses, l0, opts);
  const run: LrRun = { lr, loss: d.tailMean, diverged: d.diverged };
  if (seed !== undefined) run.seed = seed;
  return run;
}

/**
 * `within` is the tolerance factor (1.05). The 1.05 l* band assumes a
 * positive loss (cross-entropy); it is computed as l* + (within-1)|l*|.
 */
export function lrSensitivity(runs: readonly LrRun[], l0: number, within = 1.05): LrSensitivity {
  if (runs.length === 0) throw new Error("lrSensitivity: no runs");
  const byLr = new Map<number, LrRun[]>();
  for (const r of runs) {
    const list = byLr.get(r.lr) ?? [];
    list.push(r);
    byLr.set(r.lr, list);
  }
  const grid: LrPoint[] = [...byLr.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([lr, rs]) => {
      let s = 0;
      let div = 0;
      for (const r of rs) {
        const bad = r.diverged || !Number.isFinite(r.loss); // non-finite is divergence by the rule
        if (bad) div++;
        s += bad ? l0 : Math.min(r.loss, l0);
      }
      return { lr, loss: s / rs.length, runs: rs.length, diverged: div };
    });
  let best = 0;
  grid.forEach((p, i) => {
    if (p.loss < grid[best]!.loss) best = i;
  });
  const lStar = grid[best]!.loss;
  const sens = grid.reduce((acc, p) => acc + (p.loss - lStar), 0) / grid.length;
  const band = lStar + (within - 1) * Math.abs(lStar);
  let widest = { lo: grid[best]!.lr, hi: grid[best]!.lr, decades: 0 };
  for (let i = 0; i < grid.length; i++) {
    if (grid[i]!.loss > band) continue;
    let j = i;
    while (j + 1 < grid.length && grid[j + 1]!.loss <= band) j++;
    const decades = Math.log10(grid[j]!.lr / grid[i]!.lr);
    if (decades > widest.decades) widest = { lo: grid[i]!.lr, hi: grid[j]!.lr, decades };
    i = j;
  }
  let maxStableLr: number | null = null;
  for (const p of grid) if (p.diverged === 0) maxStableLr = p.lr;
  let maxStableLrBelow: number | null = null;
  for (const p of grid) {
    if (p.diverged > 0) break;
    maxStableLrBelow = p.lr;
  }
  return { grid, lStar, lrStar: grid[best]!.lr, sens, widest, maxStableLr, maxStableLrBelow, l0 };
}
