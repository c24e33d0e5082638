/**
 * Jobs of arm x seed x lr grids: the one way the experiments build their
 * runs from a RunBase (resolveRun: every default filled, the cache key), and
 * the per-arm lr tuning on the tuning seed with its picks.
 */
import type { ViTConfig } from "../../models/vit";
import { TRAIN_DEFAULTS, type TrainConfig } from "../../train/trainer";
import type { Scale } from "../scale";
import { arm, ARM_IDS, ARMS, deriveArm, type Arm } from "./arms";
import type { Placement } from "../../models/transformer";
import { RULES, type ProtocolRules } from "./rules";
import type { Job, ProtocolRecord } from "./runner";
import { resolveRun, stepsForEpochs, trainSize, type RunBase } from "./task";
import { lrId, pickLr, type LrPick, type LrTuningConfig } from "./tuning";

export interface ArmJobSpec {
  experiment: string;
  scale: Scale;
  base: RunBase;
}

/** One run of `a` at `seed` (lr, model and train overrides on top of the base). */
export function armJob(
  spec: ArmJobSpec,
  a: Arm,
  seed: number,
  o: { run: string; role: Job["role"]; axes?: Job["axes"]; lr?: number; model?: Partial<ViTConfig>; train?: Partial<TrainConfig> },
): Job {
  const resolved = resolveRun(spec.base, a, seed, { ...(o.lr !== undefined ? { lr: o.lr } : {}), ...(o.model ? { model: o.model } : {}), ...(o.train ? { train: o.train } : {}) });
  return { experiment: spec.experiment, scale: spec.scale, run: o.run, seed, role: o.role, axes: { ...o.axes, lr: resolved.train.lr }, label: a.label, resolved };
}

/** The tuning grid of every arm: run ids "tune-<arm>[-<suffix>]-lr<lr>-s<seed>". */
export function tuneJobs(spec: ArmJobSpec, arms: readonly Arm[], t: LrTuningConfig, o: { suffix?: string; axes?: Job["axes"]; model?: Partial<ViTConfig>; train?: Partial<TrainConfig> } = {}): Job[] {
  const sfx = o.suffix ? `-${o.suffix}` : "";
  return arms.flatMap((a) =>
    t.lrs.map((lr) => armJob(spec, a, t.seed, { run: `tune-${a.id}${sfx}-lr${lrId(lr)}-s${t.seed}`, role: "tune", lr, ...(o.axes ? { axes: o.axes } : {}), ...(o.model ? { model: o.model } : {}), ...(o.train ? { train: o.train } : {}) })),
  );
}

/** Each arm's lr pick from the tuning records (role "tune") among `records`. */
export function picksFor(records: readonly ProtocolRecord[], armIds: readonly string[], rules: ProtocolRules = RULES): Map<string, LrPick> {
  return new Map(armIds.map((id) => [id, pickLr(id, records.filter((r) => r.role === "tune" && r.arm === id), rules)]));
}

/** "DyT 3.2e-2 (at the grid's edge)" for the picks at an edge of their grid; "" when none is. */
export function edgeNote(picks: Iterable<LrPick>, label: (arm: string) => string): string {
  const edge = [...picks].filter((p) => p.atEdge && !p.noneLearned);
  return edge.length ? `best lr at the edge of the grid (the optimum may lie outside it): ${edge.map((p) => `${label(p.arm)} ${p.bestLr}`).join(", ")}` : "";
}

/**
 * The schedule of a budget in epochs over a base's training images: 5 %
 * warmup, `evals` validation evals (checkpoints with them) and about
 * `logLines` metrics lines (`logEvery: 1` where per-step losses are needed).
 */
export function epochSchedule(epochs: number, base: RunBase, o: { evals?: number; logLines?: number; logEvery?: number } = {}): Pick<TrainConfig, "steps" | "warmupSteps" | "evalEvery" | "checkpointEvery" | "logEvery"> {
  const steps = stepsForEpochs(epochs, base.data, base.train.batchSize ?? TRAIN_DEFAULTS.batchSize);
  const every = (n: number) => Math.max(1, Math.round(steps / n));
  const evalEvery = every(o.evals ?? 10);
  return { steps, warmupSteps: every(20), evalEvery, checkpointEvery: evalEvery, logEvery: o.logEvery ?? every(o.logLines ?? 300) };
}

/** "ViT width 32, depth 3, 4 heads, 7×7 patches; first 20,000 training images; 1.25 epochs (391 steps, batch 64); AdamW, 5 % warmup + cosine". */
export function describeBase(base: RunBase, epochs: number): string {
  const m = base.model;
  const t = epochSchedule(epochs, base);
  const depth = m.depth === undefined ? "" : `, depth ${m.depth}`;
  return `ViT width ${m.dim}${depth}, ${m.heads} heads, ${m.patchSize}×${m.patchSize} patches; first ${trainSize(base.data).toLocaleString("en")} training images; ${epochs} epoch(s) (${t.steps} steps, batch ${base.train.batchSize ?? TRAIN_DEFAULTS.batchSize}); AdamW, 5 % warmup + cosine`;
}

/** A registry arm by id, or "<arm>-<placement>" (e.g. "dyt-post") derived from one; unknown ids name the valid forms. */
export function armOrPlacement(id: string): Arm {
  if (ARMS.has(id)) return arm(id);
  const m = /^(.+)-(pre|post|res-post)$/.exec(id);
  if (m && ARMS.has(m[1]!)) return deriveArm(m[1]!, { placement: m[2] as Placement });
  throw new Error(`unknown arm "${id}"; valid: ${ARM_IDS.join(", ")}, or one of them with -pre, -post or -res-post`);
}
