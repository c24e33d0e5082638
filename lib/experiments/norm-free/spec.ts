/**
 * Claim 8 in miniature: DyT against the norm-free baselines (ReZero,
 * SkipInit, Fixup, T-Fixup, σ-Reparam, NF-style with and without AGC) and the
 * two norms, all on the same ViT, data, optimizer, schedule, budget (epochs)
 * and seeds. Every arm runs at its own lr, tuned on validation with a tuning
 * seed that is never an evaluation seed (the paper reports each method at its
 * own recipe); the claim is judged per comparison on paired test accuracy:
 * DyT beats Fixup, beats SkipInit, matches σ-Reparam. A secondary set of rows
 * keeps the shared recipe: every arm at LayerNorm's tuned lr.
 */
import { VIT_SMALL } from "../sizes";
import type { Scale } from "../scale";
import { saveSummary, type ExperimentContext } from "../runner";
import { arm, type Arm } from "../protocol/arms";
import { armJob, describeBase, edgeNote, epochSchedule, picksFor, tuneJobs, type ArmJobSpec } from "../protocol/jobs";
import { plateaued } from "../protocol/classify";
import { armSeeds, compareSeeds, conjunction, type ArmComparison, type ArmSeeds } from "../protocol/compare";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { extraSeedsFor } from "../protocol/study";
import { runJobs, type ProtocolRecord } from "../protocol/runner";
import type { RunBase } from "../protocol/task";
import { assertTuning, type LrPick, type LrTuningConfig } from "../protocol/tuning";
import { describeEffect, type Outcome, type Prediction } from "../protocol/verdict";

export const NORM_FREE = "norm-free";

/** Every arm of the head-to-head (ids of the arm registry). */
export const NORM_FREE_ARMS = ["layernorm", "rmsnorm", "dyt", "rezero", "skipinit", "fixup", "tfixup", "sigma-reparam", "nf", "nf-agc"];
/** The arms claim 8 names; they run first so an interrupted run still answers the claim. */
export const CLAIM8_ARMS = ["layernorm", "dyt", "fixup", "skipinit", "sigma-reparam"];
/** Claim 8, one paired comparison per baseline (each its own row, so Holm applies per comparison). */
export const CLAIM8: readonly { other: string; prediction: Prediction }[] = [
  { other: "fixup", prediction: "beats" },
  { other: "skipinit", prediction: "beats" },
  { other: "sigma-reparam", prediction: "matches" },
];

export interface NormFreeScale {
  base: RunBase;
  arms: string[];
  /** Budget in epochs over the training images used. */
  epochs: number;
  tuning: LrTuningConfig;
  seeds: number[];
  /** Seeds added (up to the rules' maximum) to the arms of comparisons still inconclusive after `seeds`. */
  extraSeeds?: number[];
  /** Secondary rows: every arm at this arm's tuned lr (the shared LN recipe). */
  sharedLrArm: string;
}

const TRAIN = { batchSize: 64, weightDecay: 0.05, clipNorm: 1.0 };
const MODEL = { dim: 32, depth: 3, heads: 4, patchSize: 7 };

/**
 * full: width 32, 3 blocks, 1.25 epochs of the first 20,000 training images
 * (391 steps at batch 64, the old 400-step budget), 10 arms x 7 tuning lrs
 * (1e-3 .. 6.4e-2 in factors of 2: the old tuning found LN best at 4e-3 to
 * 1.6e-2 and DyT, σ-Reparam at 3.2e-2, inside the grid) + 10 arms x 3 seeds
 * at the tuned lr + the shared-lr rows: ~130 runs, as before.
 */
export const NORM_FREE_SCALES: Record<Scale, NormFreeScale> = {
  smoke: {
    base: { model: { ...VIT_SMALL }, train: { ...TRAIN, batchSize: 32, evalLimit: 128 }, data: { trainLimit: 1000, testLimit: 250 } },
    arms: CLAIM8_ARMS,
    epochs: 0.25,
    tuning: { lrs: [1e-3, 4e-3], seed: 101 },
    seeds: [1, 2],
    sharedLrArm: "layernorm",
  },
  quick: {
    base: { model: { ...MODEL }, train: { ...TRAIN, evalLimit: 1000 }, data: { trainLimit: 20_000, testLimit: 2000 } },
    arms: CLAIM8_ARMS,
    epochs: 0.5,
    tuning: { lrs: [4e-3, 1.6e-2, 6.4e-2], seed: 101 },
    seeds: [1, 2],
    sharedLrArm: "layernorm",
  },
  full: {
    base: { model: { ...MODEL }, train: { ...TRAIN, evalLimit: 1000 }, data: { trainLimit: 20_000, testLimit: 5000 } },
    arms: NORM_FREE_ARMS,
    epochs: 1.25,
    tuning: { lrs: [1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2, 3.2e-2, 6.4e-2], seed: 101 },
    seeds: [1, 2, 3],
    // The protocol's extra seeds; missing from the first full run under it (commit d4a50f4), added after it.
    extraSeeds: [4, 5],
    sharedLrArm: "layernorm",
  },
};

/** The base with the budget's schedule filled in. */
export function normFreeBase(s: NormFreeScale): RunBase {
  return { ...s.base, train: { ...s.base.train, ...epochSchedule(s.epochs, s.base) } };
}

export interface NormFreeArmSummary {
  arm: string;
  label: string;
  paperViTB?: number;
  pick: LrPick;
  /** Evaluation runs at the arm's tuned lr. */
  tuned: ArmSeeds;
  /** Evaluation runs at the shared lr (the tuned runs when the lrs coincide). */
  shared?: ArmSeeds;
  /** Evaluation runs (tuned lr) whose validation accuracy plateaued by the protocol's rule. */
  plateaued: number;
  msPerStep: number;
}

export interface Claim8Comparison extends ArmComparison {
  /** Claims-table id, e.g. "8.fixup" or "8-shared.fixup". */
  id: string;
  other: string;
}

export interface NormFreeSummary {
  experiment: string;
  scale: Scale;
  setup: string;
  epochs: number;
  tuningSeed: number;
  sharedLrArm: string;
  sharedLr: number;
  arms: NormFreeArmSummary[];
  /** Claim 8, each arm at its tuned lr (the primary rows). */
  comparisons: Claim8Comparison[];
  /** Claim 8 at the shared lr (secondary rows). */
  sharedComparisons: Claim8Comparison[];
  /** The three primary comparisons together (before the table's Holm correction). */
  verdict: Outcome;
  reason: string;
  statement: string;
}

function resolveArms(ids: readonly string[]): Arm[] {
  return ids.map((id) => arm(id));
}

/** Tune every arm's lr, run the evaluation seeds at it and at the shared lr, summarise. */
export async function runNormFree(ctx: ExperimentContext, override: Partial<NormFreeScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: ProtocolRecord[]; summary: NormFreeSummary }> {
  const s: NormFreeScale = { ...NORM_FREE_SCALES[ctx.scale], ...override };
  const seeds = ctx.seeds ?? s.seeds;
  // Checked before any training so a bad config costs nothing.
  const arms = resolveArms([...s.arms.filter((a) => CLAIM8_ARMS.includes(a)), ...s.arms.filter((a) => !CLAIM8_ARMS.includes(a))]);
  assertTuning(s.tuning, [...seeds, ...(s.extraSeeds ?? [])], NORM_FREE);
  if (!s.arms.includes(s.sharedLrArm)) throw new Error(`${NORM_FREE}: sharedLrArm "${s.sharedLrArm}" is not among the arms [${s.arms.join(", ")}]; add it or pick one of them`);
  const spec: ArmJobSpec = { experiment: NORM_FREE, scale: ctx.scale, base: normFreeBase(s) };
  const tuneRecs = await runJobs(tuneJobs(spec, arms, s.tuning), ctx);
  const picks = picksFor(tuneRecs, s.arms, rules);
  const sharedLr = picks.get(s.sharedLrArm)!.bestLr;
  const tunedJob = (a: Arm, seed: number) => armJob(spec, a, seed, { run: `${a.id}-tuned-s${seed}`, role: "eval", lr: picks.get(a.id)!.bestLr, axes: { lrFrom: "tuned" } });
  // At the shared lr an arm whose tuned lr is the same has already run: its tuned runs stand for both.
  const sharedJob = (a: Arm, seed: number) => armJob(spec, a, seed, { run: `${a.id}-at-${s.sharedLrArm}-lr-s${seed}`, role: "eval", lr: sharedLr, axes: { lrFrom: "shared" } });
  const atShared = arms.filter((a) => picks.get(a.id)!.bestLr !== sharedLr);
  const records = [...tuneRecs, ...(await runJobs([...seeds.flatMap((seed) => arms.map((a) => tunedJob(a, seed))), ...seeds.flatMap((seed) => atShared.map((a) => sharedJob(a, seed)))], ctx))];
  // Extra seeds for the arms of every comparison (tuned or shared) still inconclusive.
  const extra = extraSeedsFor(ctx, s.extraSeeds ?? [], seeds, rules);
  if (extra.length) {
    const first = summarizeNormFree(records, { ...s, seeds }, ctx.scale, rules);
    const open = (cs: Claim8Comparison[]) => new Set(cs.filter((c) => c.outcome === "inconclusive").flatMap((c) => [c.a.arm, c.b.arm]));
    const tunedMore = open(first.comparisons);
    const sharedMore = open(first.sharedComparisons);
    const more = extra.flatMap((seed) => [...arms.filter((a) => tunedMore.has(a.id)).map((a) => tunedJob(a, seed)), ...atShared.filter((a) => sharedMore.has(a.id)).map((a) => sharedJob(a, seed))]);
    if (more.length) records.push(...(await runJobs(more, ctx)));
  }
  const summary = summarizeNormFree(records, { ...s, seeds }, ctx.scale, rules);
  saveSummary(NORM_FREE, ctx.scale, summary);
  return { records, summary };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** The per-arm table and the claim-8 comparisons, from the records alone. */
export function summarizeNormFree(records: readonly ProtocolRecord[], s: NormFreeScale, scale: Scale, rules: ProtocolRules = RULES): NormFreeSummary {
  const ids = s.arms.filter((id) => records.some((r) => r.arm === id && r.role === "tune"));
  const picks = picksFor(records, ids, rules);
  const sharedLr = picks.get(s.sharedLrArm)?.bestLr ?? NaN;
  const evals = (id: string, from: string) => records.filter((r) => r.role === "eval" && r.arm === id && r.axes.lrFrom === from);
  const arms: NormFreeArmSummary[] = ids.flatMap((id) => {
    const tunedRecs = evals(id, "tuned");
    if (!tunedRecs.length) return [];
    const pick = picks.get(id)!;
    const sharedRecs = pick.bestLr === sharedLr ? tunedRecs : evals(id, "shared");
    const a = arm(id);
    return [
      {
        arm: id,
        label: a.label,
        ...(a.paperViTB !== undefined ? { paperViTB: a.paperViTB } : {}),
        pick,
        tuned: armSeeds(tunedRecs, rules),
        ...(sharedRecs.length ? { shared: armSeeds(sharedRecs, rules) } : {}),
        plateaued: tunedRecs.filter((r) => plateaued(r.result.evals, rules).plateaued).length,
        msPerStep: mean(tunedRecs.map((r) => r.result.msPerStep)),
      },
    ];
  });
  const get = (id: string) => arms.find((a) => a.arm === id);
  const compare = (which: "tuned" | "shared", idPrefix: string): Claim8Comparison[] =>
    CLAIM8.flatMap(({ other, prediction }) => {
      const d = get("dyt")?.[which];
      const o = get(other)?.[which];
      return d && o ? [{ ...compareSeeds(d, o, prediction, rules), id: `${idPrefix}.${other}`, other }] : [];
    });
  const comparisons = compare("tuned", "8");
  const sharedComparisons = compare("shared", "8-shared");
  const missing = CLAIM8.filter((c) => !comparisons.some((x) => x.other === c.other)).map((c) => c.other);
  const { outcome, reason } = missing.length
    ? { outcome: "not testable" as Outcome, reason: `DyT or ${missing.join(", ")} were not run` }
    : conjunction(comparisons.map((c) => ({ name: `DyT ${c.prediction} ${c.b.label}`, outcome: c.outcome, reason: c.reason })));
  const edges = edgeNote(picks.values(), (id) => arm(id).label);
  const setup = `${describeBase(s.base, s.epochs)}; lr tuned per arm on validation (seed ${s.tuning.seed}, grid ${s.tuning.lrs.join(", ")}); ${s.seeds.length} evaluation seeds`;
  const statement = [
    comparisons.map((c) => `DyT − ${c.b.label} at each one's tuned lr (${c.a.lr} vs ${c.b.lr}): ${c.evidence ? describeEffect(c.evidence) : "no paired evidence"}, ${c.outcome}`).join("; "),
    sharedComparisons.length ? `at ${arm(s.sharedLrArm).label}'s lr ${sharedLr}: ${sharedComparisons.map((c) => `DyT − ${c.b.label} ${c.evidence ? describeEffect(c.evidence) : "no paired evidence"}`).join("; ")}` : "",
    edges,
  ]
    .filter(Boolean)
    .join(". ");
  return { experiment: NORM_FREE, scale, setup, epochs: s.epochs, tuningSeed: s.tuning.seed, sharedLrArm: s.sharedLrArm, sharedLr, arms, comparisons, sharedComparisons, verdict: outcome, reason, statement: statement + "." };
}
