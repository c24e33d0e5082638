/**
 * Learning-rate tuning, the protocol's way: each arm's lr is picked on the
 * validation split from a grid run with a tuning seed that is never an
 * evaluation seed, so the pick is not scored on the runs that report it.
 */
import { classifyRun } from "./classify";
import type { ProtocolRecord } from "./runner";
import { RULES, type ProtocolRules } from "./rules";

export interface LrTuningConfig {
  lrs: number[];
  /** Seed of the tuning runs; must not be an evaluation seed. */
  seed: number;
}

export interface LrPick {
  arm: string;
  /** Final validation accuracy (%) per grid lr; null for a run that diverged or did not learn (never picked). */
  grid: { lr: number; valAcc: number | null; class: string }[];
  bestLr: number;
  /** The pick is the grid's largest or smallest lr: the optimum may lie outside the grid. */
  atEdge: boolean;
  /** No grid lr learned: the pick is meaningless and comparisons using it are not testable. */
  noneLearned: boolean;
}

export function assertTuning(t: LrTuningConfig, evalSeeds: readonly number[], what: string): void {
  if (t.lrs.length === 0 || t.lrs.some((lr) => !(lr > 0))) throw new Error(`${what}: tuning lrs must be positive learning rates, got [${t.lrs.join(", ")}]`);
  if (evalSeeds.includes(t.seed)) throw new Error(`${what}: tuning seed ${t.seed} is also an evaluation seed; pick a seed outside [${evalSeeds.join(", ")}]`);
}

/** The grid lr with the best final validation accuracy (ties: the smaller lr); runs that did not learn never win. */
export function pickLr(arm: string, grid: readonly ProtocolRecord[], rules: ProtocolRules = RULES): LrPick {
  if (grid.length === 0) throw new Error(`lr tuning: no tuning runs for arm "${arm}"`);
  const pts = grid.map((r) => {
    const last = r.result.evals.at(-1);
    const cls = classifyRun({ status: r.result.status, acc: last?.acc, numClasses: r.config.model.numClasses }, rules);
    return { lr: r.config.train.lr, valAcc: cls === "learned" ? 100 * last!.acc : null, class: cls };
  });
  const score = (p: { valAcc: number | null }) => p.valAcc ?? -Infinity;
  const best = pts.reduce((a, b) => (score(b) > score(a) || (score(b) === score(a) && b.lr < a.lr) ? b : a));
  const lrs = pts.map((p) => p.lr);
  return {
    arm,
    grid: pts,
    bestLr: best.lr,
    atEdge: lrs.length > 1 && (best.lr === Math.max(...lrs) || best.lr === Math.min(...lrs)),
    noneLearned: pts.every((p) => p.valAcc === null),
  };
}

/** "1.6e-2" style, for run ids. */
export function lrId(lr: number): string {
  return lr.toExponential(1).replace("+", "");
}
