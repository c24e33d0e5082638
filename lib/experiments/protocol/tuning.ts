/**
 * Learning-rate tuning, the protocol's way: each arm's lr is picked on the
 * validation split from a grid run with a tuning seed that is never an
 * evaluation seed, so the pick is not scored on the runs that report it.
 * Classifiers are scored on final validation accuracy (higher is better),
 * language models on final validation bits per byte (lower is better), DNA
 * models on final validation bits per base (lower is better), wav2vec models
 * on final validation pretraining loss (lower is better; learned by the
 * contrastive-accuracy rule, classify.ts speechScore), DiT models on final
 * validation denoising loss (lower is better; learned by the sample-accuracy
 * rule, classify.ts ditScore), MAE models on final validation
 * reconstruction loss (lower is better; learned by their fine-tuned
 * validation accuracy, classify.ts maeScore), DINO models on the teacher's
 * final validation k-NN accuracy (higher is better; learned by its lift
 * over the same network at init, classify.ts dinoScore).
 */
import { bitsScore, classifyRun, dinoScore, ditScore, maeScore, speechScore } from "./classify";
import { isDinoRecord, isDitRecord, isMaeRecord, isDnaRecord, isLmRecord, isSpeechRecord, type AnyProtocolRecord } from "./runner";
import { RULES, type ProtocolRules } from "./rules";

export interface LrTuningConfig {
  lrs: number[];
  /** Seed of the tuning runs; must not be an evaluation seed. */
  seed: number;
}

export interface LrPick {
  arm: string;
  /**
   * Final validation accuracy (%) per grid lr; null for a run that diverged or
   * did not learn (never picked). Language models also give their final
   * validation bits per byte (`valBpb`, null likewise), on which they are picked.
   */
  grid: { lr: number; valAcc: number | null; class: string; valBpb?: number | null; valLoss?: number | null }[];
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

/** A tuning run's class on validation and its score (higher is better; -Infinity unless it learned). */
function tuningPoint(r: AnyProtocolRecord, rules: ProtocolRules): LrPick["grid"][number] & { score: number } {
  const last = r.result.evals.at(-1);
  if (isLmRecord(r) || isDnaRecord(r)) {
    const v = bitsScore(r, "val", rules);
    const ok = v.class === "learned";
    return { lr: r.config.train.lr, valAcc: ok ? 100 * last!.acc : null, class: v.class, valBpb: ok ? v.bpb : null, score: ok ? -v.bpb : -Infinity };
  }
  if (isSpeechRecord(r)) {
    const v = speechScore(r, "val", rules);
    const ok = v.class === "learned";
    // valAcc: the strict contrastive accuracy (%), the one the learned rule reads.
    return { lr: r.config.train.lr, valAcc: ok ? 100 * v.strictAcc : null, class: v.class, valLoss: ok ? v.loss : null, score: ok ? -v.loss : -Infinity };
  }
  if (isDitRecord(r)) {
    const v = ditScore(r, "val", rules);
    const ok = v.class === "learned";
    // valAcc: the share of samples recognised as their class (%), the one the learned rule reads.
    return { lr: r.config.train.lr, valAcc: ok ? 100 * v.sampleAcc : null, class: v.class, valLoss: ok ? v.loss : null, score: ok ? -v.loss : -Infinity };
  }
  if (isMaeRecord(r)) {
    const v = maeScore(r, "val", rules);
    const ok = v.class === "learned";
    // valAcc: the fine-tuned validation accuracy (%), the one the learned rule reads here.
    return { lr: r.config.train.lr, valAcc: ok ? 100 * v.acc : null, class: v.class, valLoss: ok ? v.loss : null, score: ok ? -v.loss : -Infinity };
  }
  if (isDinoRecord(r)) {
    const v = dinoScore(r, "val", rules);
    const ok = v.class === "learned";
    return { lr: r.config.train.lr, valAcc: ok ? 100 * v.acc : null, class: v.class, score: ok ? 100 * v.acc : -Infinity };
  }
  const cls = classifyRun({ status: r.result.status, acc: last?.acc, numClasses: r.config.model.numClasses }, rules);
  const ok = cls === "learned";
  return { lr: r.config.train.lr, valAcc: ok ? 100 * last!.acc : null, class: cls, score: ok ? 100 * last!.acc : -Infinity };
}

/**
 * The grid lr with the best final validation score (ties: the smaller lr):
 * accuracy for classifiers, lowest bits per byte (per base) for language (DNA) models; runs
 * that did not learn never win.
 */
export function pickLr(arm: string, grid: readonly AnyProtocolRecord[], rules: ProtocolRules = RULES): LrPick {
  if (grid.length === 0) throw new Error(`lr tuning: no tuning runs for arm "${arm}"`);
  const scored = grid.map((r) => tuningPoint(r, rules));
  const best = scored.reduce((a, b) => (b.score > a.score || (b.score === a.score && b.lr < a.lr) ? b : a));
  const lrs = scored.map((p) => p.lr);
  return {
    arm,
    grid: scored.map(({ score, ...p }) => (void score, p)),
    bestLr: best.lr,
    atEdge: lrs.length > 1 && (best.lr === Math.max(...lrs) || best.lr === Math.min(...lrs)),
    noneLearned: scored.every((p) => p.score === -Infinity),
  };
}

/** "1.6e-2" style, for run ids. */
export function lrId(lr: number): string {
  return lr.toExponential(1).replace("+", "");
}
