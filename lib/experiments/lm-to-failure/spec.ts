/**
 * The language model pushed to failure (issue 12, experiment 6): DyT (the
 * paper's LLaMA recipe) and RMSNorm on lm-rmsnorm-dyt's model and text, along
 * two ladders that start from lm-rmsnorm-dyt's own setting (its evaluation
 * runs are the ladders' first rung, read, not re-run):
 *  - steps: the training budget times 1, 2, 4 (full) at width 64, depth 2;
 *  - depth: 2, 4, 8 blocks (full) at the base budget.
 * Every run is at its norm's lr tuned in lm-rmsnorm-dyt (full: 1e-2 for
 * both), not re-tuned per rung: the question is where the tuned recipe
 * breaks when the model or the budget grows, and for which norm.
 *
 * Pre-registered 2026-12-03, before any run of this experiment:
 *  - A rung k of a ladder "breaks" DyT when
 *    (a) DyT's run did not learn (diverged, or stayed near the unigram
 *        baseline; protocol/classify.ts) on a seed where RMSNorm's learned; or
 *    (b) DyT falls further behind RMSNorm than at the first rung: per seed
 *        g_k = DyT − RMSNorm test bpb, and the widening g_k − g_0 is paired
 *        over seeds with "matches" (widening < rules.lmMatchMarginBpb, 0.02
 *        bpb): the data excluding a widening below the margin is a break,
 *        the data showing it below is "holds", else "inconclusive".
 *    A rung where RMSNorm did not learn on some seed is "not testable" (the
 *    norm broke first). A ladder climbs rung by rung and stops at its first
 *    break: the rungs above it are not trained.
 *  - R-to-failure (LM): "DyT keeps pace with RMSNorm as the LM is pushed":
 *    supported when every rung of both ladders holds; not supported when a
 *    rung breaks (the row names the first); inconclusive otherwise; not
 *    testable when the first rung is (an arm did not learn there).
 *    No extra seeds: the ladders already cost hours.
 */
import { meanStd } from "../stats-lite";
import { saveSummary, type ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { resolveArm, type Arm } from "../protocol/arms";
import { armJob, describeBase, epochSchedule } from "../protocol/jobs";
import type { LmResolvedRun, LmRunBase } from "../protocol/lm-task";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { runJobs, type Job, type LmProtocolRecord } from "../protocol/runner";
import type { ArmLr } from "../protocol/study";
import type { Outcome, PairedEvidence } from "../protocol/verdict";
import { compareLmArms, derivedLmRuns, describeBpbGap, LM_RMSNORM_DYT_SCALES, lmArmRuns, lmRmsnormDytLrs, lmSharedEvalJob, lmTestBaselines, type LmArmRuns, type LmStudySummary } from "../lm-rmsnorm-dyt/spec";
import { fixed, signed } from "../../util/format";

export const LM_TO_FAILURE = "lm-to-failure";

export type Ladder = "steps" | "depth";
export const LADDERS: readonly Ladder[] = ["steps", "depth"];

export interface LmToFailureScale {
  /** [DyT, norm]; both lm-rmsnorm-dyt arms. */
  arms: [string, string];
  seeds: number[];
  /** Budget multiples of lm-rmsnorm-dyt's budget, ascending; the first is 1 (its own runs). */
  steps: number[];
  /** Depths, ascending; the first is lm-rmsnorm-dyt's depth (its own runs). */
  depths: number[];
}

/**
 * Cost (full; width 64, batch 32 x 128, two runs side by side, 2026-12
 * measurements of lm-rmsnorm-dyt): ~0.25-0.6 s per step and depth-2 model,
 * about proportional to depth. Budget x2: 1,992 steps, ~10-20 min a run; x4:
 * ~20-40 min; depth 4 ~2x and depth 8 ~4x a base run. 24 new runs in all,
 * about 3-6 h on 2 workers if no rung breaks.
 */
export const LM_TO_FAILURE_SCALES: Record<Scale, LmToFailureScale> = {
  smoke: { arms: ["dyt-lm", "rmsnorm"], seeds: [1, 2], steps: [1, 2], depths: [1, 2] },
  quick: { arms: ["dyt-lm", "rmsnorm"], seeds: [1, 2, 3], steps: [1, 2], depths: [2, 4] },
  full: { arms: ["dyt-lm", "rmsnorm"], seeds: [1, 2, 3], steps: [1, 2, 4], depths: [2, 4, 8] },
};

/** One rung: its ladder, budget multiple and depth; rung 0 of either ladder is the shared first rung. */
export interface LadderRung {
  ladder: Ladder;
  index: number;
  budget: number;
  depth: number;
  /** "x2", "d4"; "base" for the first rung. */
  id: string;
}

export function ladderRungs(s: LmToFailureScale, scale: Scale, ladder: Ladder): LadderRung[] {
  const base = LM_RMSNORM_DYT_SCALES[scale].base.model.depth ?? 2;
  if (s.steps[0] !== 1) throw new Error(`${LM_TO_FAILURE}: the steps ladder must start at 1 (lm-rmsnorm-dyt's budget), got [${s.steps.join(", ")}]`);
  if (s.depths[0] !== base) throw new Error(`${LM_TO_FAILURE}: the depth ladder must start at lm-rmsnorm-dyt's depth ${base}, got [${s.depths.join(", ")}]`);
  for (const [name, v] of [["steps", s.steps], ["depths", s.depths]] as const)
    if (v.some((x, i) => !(x > 0) || (i > 0 && x <= v[i - 1]!))) throw new Error(`${LM_TO_FAILURE}: ${name} must be positive and ascending, got [${v.join(", ")}]`);
  return ladder === "steps"
    ? s.steps.map((b, i) => ({ ladder, index: i, budget: b, depth: base, id: i === 0 ? "base" : `x${b}` }))
    : s.depths.map((d, i) => ({ ladder, index: i, budget: 1, depth: d, id: i === 0 ? "base" : `d${d}` }));
}

/** The evaluation run of `a` on `seed` at rung `r`: lm-rmsnorm-dyt's own at the first rung. */
export function rungJob(scale: Scale, r: LadderRung, a: Arm, seed: number, lr: number, lmrLrs: Readonly<Record<string, ArmLr>>): Job<LmResolvedRun> {
  if (r.index === 0) return lmSharedEvalJob(LM_TO_FAILURE, scale, a, seed, lr, lmrLrs);
  const lm = LM_RMSNORM_DYT_SCALES[scale];
  const base: LmRunBase = { ...lm.base, model: { ...lm.base.model, depth: r.depth } };
  const epochs = lm.epochs * r.budget;
  return armJob({ experiment: LM_TO_FAILURE, scale, base }, a, seed, { run: `${a.id}-${r.id}-s${seed}`, role: "eval", lr, axes: { ladder: r.ladder, budget: r.budget, depth: r.depth, epochs }, train: epochSchedule(epochs, base) });
}

export type RungOutcome = "holds" | "breaks" | "inconclusive" | "not testable";

export interface RungResult {
  rung: LadderRung;
  steps: number;
  /** [DyT, norm] at this rung. */
  arms: [LmArmRuns, LmArmRuns];
  /** Per seed of the rung: DyT − norm test bpb, and its widening over the first rung. */
  seeds: number[];
  gap: number[];
  widening: number[];
  outcome: RungOutcome;
  reason: string;
  evidence?: PairedEvidence;
}

const f3 = fixed(3);
const s3 = signed(3);
const learnedOn = (r: LmArmRuns, s: number) => r.classes[r.seeds.indexOf(s)] === "learned";
const bpbOn = (r: LmArmRuns, s: number) => r.bpbs[r.seeds.indexOf(s)] ?? NaN;

/** The pre-registered rung rule (module header) against the first rung `base` (undefined for the first rung itself). */
export function rungVerdict(d: LmArmRuns, n: LmArmRuns, base: { d: LmArmRuns; n: LmArmRuns } | undefined, rules: ProtocolRules = RULES): Pick<RungResult, "seeds" | "gap" | "widening" | "outcome" | "reason" | "evidence"> {
  const seeds = d.seeds.filter((s) => n.seeds.includes(s));
  const gap = seeds.map((s) => bpbOn(d, s) - bpbOn(n, s));
  const widening = seeds.map((s, i) => (base ? gap[i]! - (bpbOn(base.d, s) - bpbOn(base.n, s)) : 0));
  const out = (outcome: RungOutcome, reason: string, evidence?: PairedEvidence) => ({ seeds, gap, widening, outcome, reason, ...(evidence ? { evidence } : {}) });
  if (!seeds.length) return out("not testable", "no seed with both arms' runs");
  const normFailed = seeds.filter((s) => !learnedOn(n, s));
  if (normFailed.length) return out("not testable", `${n.label} did not learn on seed(s) ${normFailed.join(", ")}: the norm broke first`);
  const dytFailed = seeds.filter((s) => !learnedOn(d, s));
  if (dytFailed.length) return out("breaks", `${d.label} did not learn on seed(s) ${dytFailed.join(", ")} where ${n.label} learned`);
  if (!base) return out("holds", "both arms learned on every seed (the first rung: the reference gap)");
  const baseSeeds = seeds.filter((s) => base.d.seeds.includes(s) && base.n.seeds.includes(s) && learnedOn(base.d, s) && learnedOn(base.n, s));
  // The widening as two arms the paired test reads: this rung's gap vs the first rung's, per seed (lower is better).
  const asRuns = (label: string, v: (s: number) => number): LmArmRuns => derivedLmRuns(d, label, baseSeeds, baseSeeds.map(v));
  const { outcome, reason, evidence } = compareLmArms(
    asRuns(`the gap at this rung`, (s) => bpbOn(d, s) - bpbOn(n, s)),
    asRuns(`the gap at the first rung`, (s) => bpbOn(base.d, s) - bpbOn(base.n, s)),
    rules,
    "matches",
  );
  const map: Record<Outcome, RungOutcome> = { supported: "holds", "not supported": "breaks", inconclusive: "inconclusive", "not testable": "not testable" };
  return out(map[outcome], reason, evidence);
}

export interface LadderResult {
  ladder: Ladder;
  rungs: RungResult[];
  /** The first rung that broke, if any (the ladder stops there). */
  brokeAt?: string;
  /** Rungs listed in the scale but not trained because a lower rung broke. */
  skipped: string[];
}

export interface LmToFailureSummary extends LmStudySummary {
  ladders: LadderResult[];
}

/** One rung's result from its own records (runJobs returns them in job order); `base` is the first rung's result. */
export function rungResult(r: LadderRung, records: readonly LmProtocolRecord[], arms: readonly [Arm, Arm], lrs: Readonly<Record<string, ArmLr>>, base: RungResult | undefined, rules: ProtocolRules = RULES): RungResult {
  const [d, n] = arms.map((a) => lmArmRuns(records, a, lrs[a.id], rules)) as [LmArmRuns, LmArmRuns];
  return { rung: r, steps: records[0]?.config.train.steps ?? 0, arms: [d, n], ...rungVerdict(d, n, base ? { d: base.arms[0], n: base.arms[1] } : undefined, rules) };
}

/** R-to-failure (LM) from both ladders (module header). */
export function toFailureVerdict(ladders: readonly LadderResult[]): { outcome: Outcome; reason: string } {
  const first = ladders[0]?.rungs[0];
  if (!first || first.outcome !== "holds") return { outcome: "not testable", reason: `the first rung: ${first ? first.reason : "no runs"}` };
  const rungs = ladders.flatMap((l) => l.rungs.slice(1).map((r) => ({ l, r })));
  const broke = ladders.filter((l) => l.brokeAt);
  if (broke.length) return { outcome: "not supported", reason: broke.map((l) => `the ${l.ladder} ladder broke at ${l.brokeAt} (${l.rungs.find((r) => r.rung.id === l.brokeAt)!.reason})`).join("; ") };
  const open = rungs.filter(({ r }) => r.outcome !== "holds");
  if (!open.length) return { outcome: "supported", reason: `every rung held (${rungs.map(({ l, r }) => `${l.ladder} ${r.rung.id}`).join(", ")})` };
  return { outcome: "inconclusive", reason: open.map(({ l, r }) => `${l.ladder} ${r.rung.id}: ${r.outcome} (${r.reason})`).join("; ") };
}

function rungText(r: RungResult): string {
  const m = (a: LmArmRuns) => {
    const v = meanStd(a.bpbs.filter(Number.isFinite));
    return `${f3(v.mean)} ± ${f3(v.std)}`;
  };
  const w = r.evidence ? `; widening ${describeBpbGap(r.evidence, "this rung's gap", "the first rung's")}` : "";
  return `${r.rung.id} (${r.steps} steps, depth ${r.rung.depth}): DyT ${m(r.arms[0])}, RMSNorm ${m(r.arms[1])} bpb, gap per seed ${r.gap.map(s3).join(" / ")}${w}: ${r.outcome}`;
}

export function summarizeLmToFailure(ladders: LadderResult[], records: readonly LmProtocolRecord[], lrs: Readonly<Record<string, ArmLr>>, s: LmToFailureScale, scale: Scale): LmToFailureSummary {
  const { outcome, reason } = toFailureVerdict(ladders);
  const lm = LM_RMSNORM_DYT_SCALES[scale];
  const setup = `${describeBase(lm.base, lm.epochs)}; ladders: budget x${s.steps.join(", x")} and depth ${s.depths.join(", ")}; each norm at its lr tuned in lm-rmsnorm-dyt (${s.arms.map((id) => `${resolveArm(id).label} ${lrs[id]?.lr}`).join(", ")}), not re-tuned per rung`;
  const baselines = lmTestBaselines(records.filter((r) => r.role === "eval"));
  const statement =
    ladders.map((l) => `${l.ladder[0]!.toUpperCase()}${l.ladder.slice(1)} ladder: ${l.rungs.map(rungText).join("; ")}${l.skipped.length ? `; not trained above the break: ${l.skipped.join(", ")}` : ""}.`).join(" ") +
    ` R-to-failure (LM): ${outcome} (${reason}).`;
  return { experiment: LM_TO_FAILURE, scale, setup, baselines, ladders, verdict: outcome, reason, statement };
}

/** Climb both ladders rung by rung (each stops at its first break), then summarise. */
export async function runLmToFailure(ctx: ExperimentContext, override: Partial<LmToFailureScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: LmProtocolRecord[]; summary: LmToFailureSummary }> {
  const s: LmToFailureScale = { ...LM_TO_FAILURE_SCALES[ctx.scale], ...override };
  if (s.arms.length !== 2 || s.arms[0] === s.arms[1]) throw new Error(`${LM_TO_FAILURE}: give two different norm arms [DyT, norm], got ${s.arms.join(", ")}`);
  const seeds = ctx.seeds ?? s.seeds;
  if (seeds.length === 0) throw new Error(`${LM_TO_FAILURE}: no seeds given; pass at least one (e.g. --seed 1)`);
  const arms = s.arms.map(resolveArm) as [Arm, Arm];
  const { lrs } = await lmRmsnormDytLrs(ctx, arms, rules);
  const climb = async (r: LadderRung, base?: RungResult): Promise<{ records: LmProtocolRecord[]; result: RungResult }> => {
    const got = await runJobs(seeds.flatMap((seed) => arms.map((a) => rungJob(ctx.scale, r, a, seed, lrs[a.id]!.lr, lrs))), ctx);
    return { records: got, result: rungResult(r, got, arms, lrs, base, rules) };
  };
  // Both ladders share their first rung (lm-rmsnorm-dyt's setting): train or load it once.
  const start = await climb(ladderRungs(s, ctx.scale, LADDERS[0]!)[0]!);
  const first = start.result;
  const records: LmProtocolRecord[] = [...start.records];
  const ladders: LadderResult[] = [];
  for (const ladder of LADDERS) {
    const rungs = ladderRungs(s, ctx.scale, ladder);
    const done: RungResult[] = [{ ...first, rung: rungs[0]! }];
    let brokeAt = first.outcome === "breaks" ? rungs[0]!.id : undefined;
    for (const r of rungs.slice(1)) {
      if (brokeAt) break;
      const { records: got, result } = await climb(r, first);
      records.push(...got);
      done.push(result);
      if (result.outcome === "breaks") brokeAt = r.id;
    }
    ladders.push({ ladder, rungs: done, ...(brokeAt ? { brokeAt } : {}), skipped: rungs.slice(done.length).map((r) => r.id) });
  }
  const summary = summarizeLmToFailure(ladders, records, lrs, s, ctx.scale);
  saveSummary(LM_TO_FAILURE, ctx.scale, summary);
  return { records, summary };
}
