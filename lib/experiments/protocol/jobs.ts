/**
 * Jobs of arm x seed x lr grids: the one way the experiments build their
 * runs from a RunBase (resolveRun: every default filled, the cache key), the
 * per-arm lr tuning on the tuning seed with its picks (tuning.ts decides the
 * pick), and the schedule of a budget in epochs. Arm studies (study.ts) and
 * the hand-laid grids of the other experiments all build their jobs here.
 * A base is a ViT base or a language-model base (task "lm-text"); the jobs
 * it gives carry that task's resolved config.
 */
import { TRAIN_DEFAULTS, type TrainConfig } from "../../train/trainer";
import type { Scale } from "../scale";
import type { ExperimentContext } from "../runner";
import { arm, ARM_IDS, ARMS, deriveArm, resolveArm, type Arm, type ArmRef } from "./arms";
import type { Placement } from "../../models/transformer";
import { RULES, type ProtocolRules } from "./rules";
import { runJobs, type AnyProtocolRecord, type Job, type ProtocolRecord } from "./runner";
import { describeLmBase, isLmBase } from "./lm-task";
import { describeImageBase, isImageBase } from "./image-task";
import { describeDnaBase, isDnaBase } from "./dna-task";
import { describeSpeechBase, isSpeechBase } from "./speech-task";
import { describeDitBase, isDitBase } from "./dit-task";
import { describeMaeBase, isMaeBase } from "./mae-task";
import { describeDinoBase, isDinoBase } from "./dino-task";
import { resolveRun, trainExamples, trainSize, type AnyRunBase, type ResolvedOf, type RunBase, type RunOverrides } from "./task";
import { assertTuning, lrId, pickLr, type LrPick, type LrTuningConfig } from "./tuning";

export interface ArmJobSpec<B extends AnyRunBase = RunBase> {
  experiment: string;
  scale: Scale;
  base: B;
}

/** One run of `a` at `seed` (lr, model and train overrides on top of the base). */
export function armJob<B extends AnyRunBase = RunBase>(
  spec: ArmJobSpec<B>,
  a: Arm,
  seed: number,
  o: { run: string; role: Job["role"]; axes?: Job["axes"] } & RunOverrides<B>,
): Job<ResolvedOf<B>> {
  const overrides: RunOverrides<B> = { ...(o.lr !== undefined ? { lr: o.lr } : {}), ...(o.model ? { model: o.model } : {}), ...(o.train ? { train: o.train } : {}) };
  const resolved = resolveRun(spec.base, a, seed, overrides);
  return { experiment: spec.experiment, scale: spec.scale, run: o.run, seed, role: o.role, axes: { ...o.axes, lr: resolved.train.lr }, label: a.label, resolved };
}

/** The tuning grid of every arm: run ids "tune-<arm>[-<suffix>]-lr<lr>-s<seed>"; `axes` may depend on the arm. */
export function tuneJobs<B extends AnyRunBase = RunBase>(
  spec: ArmJobSpec<B>,
  arms: readonly Arm[],
  t: LrTuningConfig,
  o: { suffix?: string; axes?: Job["axes"] | ((a: Arm) => Job["axes"]) } & Omit<RunOverrides<B>, "lr"> = {},
): Job<ResolvedOf<B>>[] {
  const sfx = o.suffix ? `-${o.suffix}` : "";
  const axesOf = (a: Arm) => (typeof o.axes === "function" ? o.axes(a) : o.axes);
  return arms.flatMap((a) =>
    t.lrs.map((lr) => {
      const axes = axesOf(a);
      return armJob(spec, a, t.seed, { run: `tune-${a.id}${sfx}-lr${lrId(lr)}-s${t.seed}`, role: "tune", lr, ...(axes ? { axes } : {}), ...(o.model ? { model: o.model } : {}), ...(o.train ? { train: o.train } : {}) });
    }),
  );
}

/** Each arm's lr pick from the tuning records (role "tune") among `records`. */
export function picksFor(records: readonly AnyProtocolRecord[], armIds: readonly string[], rules: ProtocolRules = RULES): Map<string, LrPick> {
  return new Map(armIds.map((id) => [id, pickLr(id, records.filter((r) => r.role === "tune" && r.arm === id), rules)]));
}

/** Each arm's pick from the tuning records among `records`, in the order of `arms`. */
export function picksOf(records: readonly AnyProtocolRecord[], arms: readonly ArmRef[], rules: ProtocolRules = RULES): LrPick[] {
  return [...picksFor(records, arms.map((a) => resolveArm(a).id), rules).values()];
}

/**
 * Run (or load) the tuning grid of every arm and pick each arm's lr. The
 * tuning seed must not be an evaluation seed. `train` is the schedule of the
 * budget being tuned; give the base no observers (prepare steps, hooks) that
 * only measure.
 */
export async function tuneArms<B extends AnyRunBase = RunBase>(
  p: ArmJobSpec<B> & { train: Partial<TrainConfig>; tuning: LrTuningConfig },
  arms: readonly ArmRef[],
  evalSeeds: readonly number[],
  ctx: ExperimentContext,
  rules: ProtocolRules = RULES,
): Promise<{ records: ProtocolRecord<ResolvedOf<B>>[]; picks: LrPick[] }> {
  assertTuning(p.tuning, evalSeeds, p.experiment);
  const records = await runJobs(tuneJobs<B>(p, arms.map(resolveArm), p.tuning, { train: p.train } as Omit<RunOverrides<B>, "lr">), ctx);
  // A record of ResolvedOf<B> is a record of one of the two tasks (TypeScript cannot see it for a generic B).
  return { records, picks: picksOf(records as readonly AnyProtocolRecord[], arms, rules) };
}

/** "LayerNorm 4e-3 (at the grid edge), DyT 1.6e-2" for setups and reasons. */
export function describePicks(picks: readonly LrPick[], label: (arm: string) => string = (a) => resolveArm(a).label): string {
  return picks.map((p) => `${label(p.arm)} ${p.bestLr}${p.noneLearned ? " (no grid lr learned)" : p.atEdge ? " (at the grid edge)" : ""}`).join(", ");
}

/** "DyT 3.2e-2 (at the grid's edge)" for the picks at an edge of their grid; "" when none is. */
export function edgeNote(picks: Iterable<LrPick>, label: (arm: string) => string): string {
  const edge = [...picks].filter((p) => p.atEdge && !p.noneLearned);
  return edge.length ? `best lr at the edge of the grid (the optimum may lie outside it): ${edge.map((p) => `${label(p.arm)} ${p.bestLr}`).join(", ")}` : "";
}

/**
 * The schedule of a budget in epochs over a base's training examples (images;
 * windows of the text or DNA train split for a language model): 5 % warmup, `evals`
 * validation evals (checkpoints with them) and about `logLines` metrics lines
 * (`logEvery: 1` where per-step losses are needed).
 */
export function epochSchedule(epochs: number, base: AnyRunBase, o: { evals?: number; logLines?: number; logEvery?: number } = {}): Pick<TrainConfig, "steps" | "warmupSteps" | "evalEvery" | "checkpointEvery" | "logEvery"> {
  if (!(epochs > 0)) throw new Error(`budget must be a positive number of epochs, got ${epochs}`);
  const steps = Math.ceil((epochs * trainExamples(base)) / (base.train.batchSize ?? TRAIN_DEFAULTS.batchSize));
  const every = (n: number) => Math.max(1, Math.round(steps / n));
  const evalEvery = every(o.evals ?? 10);
  return { steps, warmupSteps: every(20), evalEvery, checkpointEvery: evalEvery, logEvery: o.logEvery ?? every(o.logLines ?? 300) };
}

/** "ViT width 32, depth 3, 4 heads, 7×7 patches; first 20,000 training images; 1.25 epochs (391 steps, batch 64); AdamW, 5 % warmup + cosine". */
export function describeBase(base: AnyRunBase, epochs: number): string {
  if (isLmBase(base)) return describeLmBase(base, epochSchedule(epochs, base).steps);
  if (isImageBase(base)) return describeImageBase(base, epochs, epochSchedule(epochs, base).steps);
  if (isDnaBase(base)) return describeDnaBase(base, epochSchedule(epochs, base).steps);
  if (isSpeechBase(base)) return describeSpeechBase(base, epochSchedule(epochs, base).steps);
  if (isDitBase(base)) return describeDitBase(base, epochs, epochSchedule(epochs, base).steps);
  if (isMaeBase(base)) return describeMaeBase(base, epochs, epochSchedule(epochs, base).steps);
  if (isDinoBase(base)) return describeDinoBase(base, epochs, epochSchedule(epochs, base).steps);
  const m = base.model;
  const t = epochSchedule(epochs, base);
  const depth = m.depth === undefined ? "" : `, depth ${m.depth}`;
  const clip = base.train.clipNorm;
  const clipping = clip === undefined ? "" : `, gradient clipping ${clip > 0 ? `at ${clip}` : "off"}`;
  return `ViT width ${m.dim}${depth}, ${m.heads} heads, ${m.patchSize}×${m.patchSize} patches; first ${trainSize(base.data).toLocaleString("en")} training images; ${epochs} epoch(s) (${t.steps} steps, batch ${base.train.batchSize ?? TRAIN_DEFAULTS.batchSize}); AdamW, 5 % warmup + cosine${clipping}`;
}

/** A registry arm by id, or "<arm>-<placement>" (e.g. "dyt-post") derived from one; unknown ids name the valid forms. */
export function armOrPlacement(id: string): Arm {
  if (ARMS.has(id)) return arm(id);
  const m = /^(.+)-(pre|post|res-post)$/.exec(id);
  if (m && ARMS.has(m[1]!)) return deriveArm(m[1]!, { placement: m[2] as Placement });
  throw new Error(`unknown arm "${id}"; valid: ${ARM_IDS.join(", ")}, or one of them with -pre, -post or -res-post`);
}
