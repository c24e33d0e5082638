/**
 * The lr-tuning runs of an experiment's arms as jobs for the runner, and the
 * picks read back from their records: each arm's grid on the tuning seed,
 * scored on validation (tuning.ts), before the evaluation seeds run at the pick.
 */
import type { TrainConfig } from "../../train/trainer";
import type { ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { resolveArm, type ArmRef } from "./arms";
import { RULES, type ProtocolRules } from "./rules";
import { runJobs, type Job, type ProtocolRecord } from "./runner";
import { resolveRun, type RunBase } from "./task";
import { assertTuning, lrId, pickLr, type LrPick, type LrTuningConfig } from "./tuning";

export interface TuningPlan {
  experiment: string;
  scale: Scale;
  /** The runs' base; give the tuning runs no observers (prepare steps, hooks) that only measure. */
  base: RunBase;
  /** Schedule (steps, warmup, evals) of the budget being tuned. */
  train: Partial<TrainConfig>;
  tuning: LrTuningConfig;
}

export function tuningJobs(p: TuningPlan, arms: readonly ArmRef[]): Job[] {
  const seed = p.tuning.seed;
  return arms.flatMap((ref) => {
    const a = resolveArm(ref);
    return p.tuning.lrs.map((lr) => ({
      experiment: p.experiment,
      scale: p.scale,
      run: `tune-${a.id}-lr${lrId(lr)}-s${seed}`,
      seed,
      role: "tune" as const,
      axes: { lr },
      label: a.label,
      resolved: resolveRun(p.base, a, seed, { lr, train: p.train }),
    }));
  });
}

/** Each arm's pick from the tuning records among `records`. */
export function picksOf(records: readonly ProtocolRecord[], arms: readonly ArmRef[], rules: ProtocolRules = RULES): LrPick[] {
  return arms.map((ref) => {
    const id = resolveArm(ref).id;
    return pickLr(id, records.filter((r) => r.role === "tune" && r.arm === id), rules);
  });
}

/** Run (or load) the tuning grid of every arm and pick each arm's lr; the tuning seed must not be an evaluation seed. */
export async function tuneArms(p: TuningPlan, arms: readonly ArmRef[], evalSeeds: readonly number[], ctx: ExperimentContext, rules: ProtocolRules = RULES): Promise<{ records: ProtocolRecord[]; picks: LrPick[] }> {
  assertTuning(p.tuning, evalSeeds, p.experiment);
  const records = await runJobs(tuningJobs(p, arms), ctx);
  return { records, picks: picksOf(records, arms, rules) };
}

/** "LayerNorm 4e-3 (grid 1e-3..1.6e-2, at the grid edge)" for setups and reasons. */
export function describePicks(picks: readonly LrPick[], label: (arm: string) => string = (a) => resolveArm(a).label): string {
  return picks.map((p) => `${label(p.arm)} ${p.bestLr}${p.noneLearned ? " (no grid lr learned)" : p.atEdge ? " (at the grid edge)" : ""}`).join(", ");
}
