/**
 * An arm study: a set of arms (drawn from the arm registry) trained for one
 * budget in epochs over evaluation seeds, each arm at its own lr tuned on a
 * tuning seed, or all at a stated shared lr. The ablation experiments (squash,
 * gain-bias) are arm studies; their claims compare arms with `compareArms`
 * (protocol/compare.ts). Every run is a Job executed by runJobs. A study's
 * base is a ViT base or a language-model base (lm-task.ts); its budget is in
 * epochs over that base's training examples.
 */
import type { Scale } from "../scale";
import { saveSummary, type ExperimentContext } from "../runner";
import type { Arm } from "./arms";
import { armResults, type ArmResult, type Comparison } from "./compare";
import { RULES, type ProtocolRules } from "./rules";
import { runJobs, type AnyProtocolRecord, type Job, type ProtocolRecord } from "./runner";
import { armJob, epochSchedule, tuneJobs } from "./jobs";
import { isLmBase } from "./lm-task";
import { isImageBase } from "./image-task";
import { isDnaBase } from "./dna-task";
import { isSpeechBase } from "./speech-task";
import { isDitBase } from "./dit-task";
import { isMaeBase } from "./mae-task";
import { isDinoBase } from "./dino-task";
import type { AnyRunBase, ResolvedOf, RunBase } from "./task";
import { assertTuning, pickLr, type LrPick, type LrTuningConfig } from "./tuning";

/** How a study's arms get their lr; the policy is written into every comparison that uses it. */
export type LrPolicy = { kind: "tuned"; tuning: LrTuningConfig } | { kind: "shared"; lr: number; why: string };

export interface ArmStudy<B extends AnyRunBase = RunBase> {
  experiment: string;
  base: B;
  arms: Arm[];
  /** Training budget of every run (tuning and evaluation), in epochs over the training images used. */
  epochs: number;
  seeds: number[];
  /** Seeds added (up to the rules' maximum) to the arms `needsMoreSeeds` names. */
  extraSeeds: number[];
  lr: LrPolicy;
  /** Arms that are not tuned but run at another arm's tuned lr, and why (with a tuned policy). */
  lrFrom?: Record<string, { arm: string; why: string }>;
  /** Named prepare step (registerPrepare) per arm id. */
  prepare?: Record<string, string>;
  /** Grid coordinates of each arm (for figures and tables), saved in its records' axes. */
  axes?: (a: Arm) => Record<string, string | number>;
  /**
   * Appended to every run id ("<arm>-<suffix>-s<seed>", "tune-<arm>-<suffix>-lr..."), so
   * several studies (e.g. one per model family) can share one experiment's results directory.
   */
  runSuffix?: string;
}

/** The part of an experiment's scale that configures its arm study (the experiment adds its arms). */
export type StudyScale<B extends AnyRunBase = RunBase> = Pick<ArmStudy<B>, "base" | "epochs" | "seeds" | "extraSeeds" | "lr" | "lrFrom">;

/** The study of `arms` at one scale. */
export function armStudy<B extends AnyRunBase = RunBase>(experiment: string, s: StudyScale<B>, arms: Arm[], extra: Pick<ArmStudy<B>, "prepare" | "axes" | "runSuffix"> = {}): ArmStudy<B> {
  return { experiment, base: s.base, arms, epochs: s.epochs, seeds: s.seeds, extraSeeds: s.extraSeeds, lr: s.lr, ...(s.lrFrom ? { lrFrom: s.lrFrom } : {}), ...extra };
}

/** The lr every arm runs at, and how it got it. */
export interface ArmLr {
  lr: number;
  /** "tuned", "shared: <why>", or "<arm>'s tuned lr: <why>". */
  note: string;
}

export interface StudyRun<B extends AnyRunBase = RunBase> {
  records: ProtocolRecord<ResolvedOf<B>>[];
  picks: LrPick[];
  lrs: Record<string, ArmLr>;
}

/** The study's base for arm `a`, with the arm's named prepare step if it has one. */
function armBase<B extends AnyRunBase>(s: ArmStudy<B>, a: Arm): B {
  const prepare = s.prepare?.[a.id];
  const other = isLmBase(s.base) ? "language-model" : isImageBase(s.base) ? "image-classification" : isDnaBase(s.base) ? "DNA" : isSpeechBase(s.base) ? "speech" : isDitBase(s.base) ? "DiT" : isMaeBase(s.base) ? "MAE" : isDinoBase(s.base) ? "DINO" : undefined;
  if (prepare && other) throw new Error(`${s.experiment}: prepare steps are for ViT runs; the ${other} arm ${a.id} cannot have one`);
  return prepare ? { ...s.base, prepare } : s.base;
}

/** The evaluation run of arm `a` on `seed` at `lr`, exactly as runArmStudy makes it (another study may read it instead of training its own). */
export function studyEvalJob<B extends AnyRunBase>(s: ArmStudy<B>, scale: Scale, a: Arm, seed: number, lr: number): Job<ResolvedOf<B>> {
  const run = `${a.id}${s.runSuffix ? `-${s.runSuffix}` : ""}-s${seed}`;
  return armJob({ experiment: s.experiment, scale, base: armBase(s, a) }, a, seed, { run, role: "eval", lr, axes: { ...s.axes?.(a), epochs: s.epochs }, train: epochSchedule(s.epochs, s.base) });
}

/** The tuning jobs of a study (none with a shared lr); an arm's prepare step runs in its tuning too. */
export function studyTuneJobs<B extends AnyRunBase>(s: ArmStudy<B>, scale: Scale): Job<ResolvedOf<B>>[] {
  const policy = s.lr;
  if (policy.kind !== "tuned") return [];
  return s.arms
    .filter((a) => !s.lrFrom?.[a.id])
    .flatMap((a) => tuneJobs({ experiment: s.experiment, scale, base: armBase(s, a) }, [a], policy.tuning, { ...(s.runSuffix ? { suffix: s.runSuffix } : {}), axes: { ...s.axes?.(a), epochs: s.epochs }, train: epochSchedule(s.epochs, s.base) }));
}

/**
 * The extra seeds a study may add after its evaluation seeds: none when the
 * caller fixed the seeds (ctx.seeds), else the configured ones not already
 * run, up to rules.maxSeeds in all.
 */
export function extraSeedsFor(ctx: Pick<ExperimentContext, "seeds">, extraSeeds: readonly number[], seeds: readonly number[], rules: ProtocolRules = RULES): number[] {
  return ctx.seeds ? [] : extraSeeds.filter((x) => !seeds.includes(x)).slice(0, Math.max(0, rules.maxSeeds - seeds.length));
}

/** Each arm's lr from the tuning records (or the shared lr). */
export function studyLrs<B extends AnyRunBase>(s: ArmStudy<B>, records: readonly AnyProtocolRecord[], rules: ProtocolRules = RULES): { picks: LrPick[]; lrs: Record<string, ArmLr> } {
  const lrs: Record<string, ArmLr> = {};
  const policy = s.lr;
  if (policy.kind === "shared") {
    for (const a of s.arms) lrs[a.id] = { lr: policy.lr, note: `shared: ${policy.why}` };
    return { picks: [], lrs };
  }
  const picks = s.arms.filter((a) => !s.lrFrom?.[a.id]).map((a) => pickLr(a.id, records.filter((r) => r.role === "tune" && r.arm === a.id), rules));
  for (const p of picks) lrs[p.arm] = { lr: p.bestLr, note: `tuned on grid ${policy.tuning.lrs.join(", ")}${p.atEdge ? ", at the grid's edge" : ""}${p.noneLearned ? ", no grid lr learned" : ""}` };
  for (const a of s.arms) {
    const from = s.lrFrom?.[a.id];
    if (!from) continue;
    const src = lrs[from.arm];
    if (!src) throw new Error(`${s.experiment}: arm ${a.id} takes the lr of arm ${from.arm}, which is not a tuned arm of the study`);
    const label = s.arms.find((x) => x.id === from.arm)?.label ?? from.arm;
    lrs[a.id] = { lr: src.lr, note: `${label}'s tuned lr: ${from.why}` };
  }
  return { picks, lrs };
}

/**
 * Run (or load) a study: tuning runs, then every arm on the evaluation seeds
 * at its lr, then the extra seeds for the arms `needsMoreSeeds` names
 * (typically the arms of inconclusive comparisons).
 */
export async function runArmStudy<B extends AnyRunBase = RunBase>(
  ctx: ExperimentContext,
  s: ArmStudy<B>,
  needsMoreSeeds: (records: ProtocolRecord<ResolvedOf<B>>[], lrs: Record<string, ArmLr>) => string[] = () => [],
  rules: ProtocolRules = RULES,
): Promise<StudyRun<B>> {
  const ids = new Set<string>();
  for (const a of s.arms) {
    if (ids.has(a.id)) throw new Error(`${s.experiment}: two arms share the id "${a.id}"`);
    ids.add(a.id);
  }
  const seeds = ctx.seeds ?? s.seeds;
  if (seeds.length === 0) throw new Error(`${s.experiment}: no seeds given; pass at least one (e.g. --seed 1)`);
  if (s.lr.kind === "tuned") assertTuning(s.lr.tuning, [...seeds, ...s.extraSeeds], s.experiment);
  const records = await runJobs(studyTuneJobs(s, ctx.scale), ctx);
  const { picks, lrs } = studyLrs(s, records as readonly AnyProtocolRecord[], rules);
  const evalJob = (a: Arm, seed: number) => studyEvalJob(s, ctx.scale, a, seed, lrs[a.id]!.lr);
  // Seed-major, so a partial run already has every arm once.
  records.push(...(await runJobs(seeds.flatMap((seed) => s.arms.map((a) => evalJob(a, seed))), ctx)));
  const extra = extraSeedsFor(ctx, s.extraSeeds, seeds, rules);
  if (extra.length) {
    const more = new Set(needsMoreSeeds(records, lrs));
    const arms = s.arms.filter((a) => more.has(a.id));
    if (arms.length) records.push(...(await runJobs(extra.flatMap((seed) => arms.map((a) => evalJob(a, seed))), ctx)));
  }
  return { records, picks, lrs };
}

/** Each arm's lr pick and its results over the evaluation seeds. */
export function studyArms(s: ArmStudy, records: readonly ProtocolRecord[], rules: ProtocolRules = RULES): { picks: LrPick[]; arms: ArmResult[] } {
  const { picks, lrs } = studyLrs(s, records, rules);
  return { picks, arms: armResults(records, lrs, rules) };
}

/** A `needsMoreSeeds` for runArmStudy: the arms of the comparisons that are still inconclusive. */
export function armsOfInconclusive(comparisons: (arms: ArmResult[]) => Comparison[], rules: ProtocolRules = RULES): (records: ProtocolRecord[], lrs: Record<string, ArmLr>) => string[] {
  return (records, lrs) =>
    comparisons(armResults(records, lrs, rules))
      .filter((c) => c.outcome === "inconclusive")
      .flatMap((c) => c.arms);
}

/**
 * A comparison study from start to saved summary: run it (extra seeds for the
 * arms of comparisons still inconclusive), summarise the records, save the
 * summary. The squash and gain-bias studies are this with their own arms,
 * comparisons and summaries.
 */
export async function runComparisonStudy<S>(
  ctx: ExperimentContext,
  study: ArmStudy,
  comparisons: (arms: ArmResult[]) => Comparison[],
  summarize: (records: ProtocolRecord[]) => S,
  rules: ProtocolRules = RULES,
): Promise<{ records: ProtocolRecord[]; summary: S }> {
  const { records } = await runArmStudy(ctx, study, armsOfInconclusive(comparisons, rules), rules);
  const summary = summarize(records);
  saveSummary(study.experiment, ctx.scale, summary);
  return { records, summary };
}
