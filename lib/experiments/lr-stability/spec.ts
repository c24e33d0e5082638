/**
 * Reviewer study: is DyT as robust to the learning rate as LayerNorm? The
 * same ViT at lr = baseLr * 2^k, the same warmup + cosine schedule for every
 * arm, the loss logged every step. Every run gets the one classification
 * (diverged / did not learn / learned, from its final test accuracy); an
 * arm's stable range is the contiguous set of grid lrs around its best at
 * which every seed learned, and its near-optimal interval the lrs whose mean
 * test accuracy is within NEAR_OPTIMAL_MARGINS match margins of its best.
 * Loss spikes and the largest gradient norm are reported beside.
 */
import { chanceLoss, divergence } from "../../analysis/divergence";
import { detectSpikes } from "../../analysis/spikes";
import type { Scale } from "../scale";
import { saveSummary, type ExperimentContext } from "../runner";
import { arm } from "../protocol/arms";
import { armJob, describeBase, epochSchedule, type ArmJobSpec } from "../protocol/jobs";
import type { RunClass } from "../protocol/classify";
import { recordClass } from "../protocol/compare";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { runJobs, type ProtocolRecord } from "../protocol/runner";
import type { RunBase } from "../protocol/task";
import { lrId } from "../protocol/tuning";
import type { Outcome } from "../protocol/verdict";

export const LR_STABILITY = "lr-stability";

/** Near-optimal: mean test accuracy within this many match margins (RULES.matchMarginPoints) of the arm's best. */
export const NEAR_OPTIMAL_MARGINS = 2;

export interface LrStabilityScale {
  base: RunBase;
  /** Arm ids of the registry; the claim compares the first (DyT) with the second (LayerNorm). */
  arms: string[];
  epochs: number;
  baseLr: number;
  /** Grid exponents k: lr = baseLr * 2^k. */
  exponents: number[];
  seeds: number[];
}

const TRAIN = { batchSize: 64, weightDecay: 0.05, clipNorm: 1.0 };

/**
 * full: width 32, 3 blocks, 1 epoch of the first 20,000 training images (313
 * steps at batch 64; the old budget was 300), lr 5e-4 .. 1.024 (twelve
 * points) x 3 seeds x 2 arms = 72 runs. The first run's grid stopped at 0.128,
 * where LayerNorm still learned on every seed, so its stable range was not
 * bracketed and R-lr was not testable; the grid was extended upward by three
 * doublings (that outcome is kept in results/lr-stability/full-grid-5e-4-0.128/).
 */
export const LR_STABILITY_SCALES: Record<Scale, LrStabilityScale> = {
  smoke: {
    base: { model: { dim: 32, depth: 2, heads: 2, patchSize: 7 }, train: { ...TRAIN, batchSize: 32, evalLimit: 128 }, data: { trainLimit: 1000, testLimit: 250 } },
    arms: ["dyt", "layernorm"],
    epochs: 0.25,
    baseLr: 1e-3,
    exponents: [-1, 0, 4],
    seeds: [1],
  },
  quick: {
    base: { model: { dim: 32, depth: 2, heads: 4, patchSize: 7 }, train: { ...TRAIN, evalLimit: 1000 }, data: { trainLimit: 20_000, testLimit: 1000 } },
    arms: ["dyt", "layernorm"],
    epochs: 0.5,
    baseLr: 1e-3,
    exponents: [-2, -1, 0, 1, 2, 3, 4, 5, 6],
    seeds: [1],
  },
  full: {
    base: { model: { dim: 32, depth: 3, heads: 4, patchSize: 7 }, train: { ...TRAIN, evalLimit: 1000 }, data: { trainLimit: 20_000, testLimit: 2000 } },
    arms: ["dyt", "layernorm"],
    epochs: 1,
    baseLr: 1e-3,
    exponents: [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    seeds: [1, 2, 3],
  },
};

export function lrGrid(s: Pick<LrStabilityScale, "baseLr" | "exponents">): number[] {
  return [...new Set(s.exponents)].sort((a, b) => a - b).map((k) => s.baseLr * 2 ** k);
}

export interface LrRunSummary {
  arm: string;
  label: string;
  lr: number;
  seed: number;
  status: string;
  class: RunClass;
  /** Test accuracy (%); NaN when the run has none (diverged). */
  testAcc: number;
  /** Mean training loss over the last 5 % of steps (NaN/inf when it blew up). */
  finalLoss: number;
  spikes: number;
  maxSpikeRatio: number;
  maxGradNorm: number;
}

export interface LrGridPoint {
  lr: number;
  runs: number;
  learned: number;
  diverged: number;
  didNotLearn: number;
  /** Mean test accuracy (%) over the seeds that learned; NaN when none did. */
  meanAcc: number;
}

/** A contiguous range of grid lrs, and whether a grid lr outside it on each side exists (the range is bracketed there). */
export interface LrRange {
  lo: number;
  hi: number;
  decades: number;
  bracketedBelow: boolean;
  bracketedAbove: boolean;
}

export interface LrArmView {
  /** Where every seed learned ("strict") or at least one did ("lenient"). */
  stable: LrRange | null;
  bestLr: number | null;
  bestAcc: number;
  nearOptimal: LrRange | null;
}

export interface LrArmSummary {
  arm: string;
  label: string;
  grid: LrGridPoint[];
  strict: LrArmView;
  lenient: LrArmView;
  spikes: number;
  runs: number;
}

export interface LrStabilitySummary {
  experiment: string;
  scale: Scale;
  setup: string;
  runs: LrRunSummary[];
  byArm: LrArmSummary[];
  /** The claim's rule, as applied (grid step in decades, near-optimal tolerance in points). */
  rule: { stepDecades: number; nearOptimalPoints: number };
  verdict: Outcome;
  reason: string;
  statement: string;
}

export async function runLrStability(ctx: ExperimentContext, override: Partial<LrStabilityScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: ProtocolRecord[]; summary: LrStabilitySummary }> {
  const s: LrStabilityScale = { ...LR_STABILITY_SCALES[ctx.scale], ...override };
  const arms = s.arms.map((id) => arm(id));
  if (!(s.baseLr > 0)) throw new Error(`${LR_STABILITY}: baseLr must be > 0, got ${s.baseLr}`);
  const seeds = ctx.seeds ?? s.seeds;
  const spec: ArmJobSpec = { experiment: LR_STABILITY, scale: ctx.scale, base: { ...s.base, train: { ...s.base.train, ...epochSchedule(s.epochs, s.base, { logEvery: 1 }) } } };
  // Seeds outermost: an interrupted run still has whole grids for the first seeds.
  const jobs = seeds.flatMap((seed) => lrGrid(s).flatMap((lr) => arms.map((a) => armJob(spec, a, seed, { run: `${a.id}-lr${lrId(lr)}-s${seed}`, role: "eval", lr }))));
  const records = await runJobs(jobs, ctx);
  const summary = summarizeLrStability(records, { ...s, seeds }, ctx.scale, rules);
  saveSummary(LR_STABILITY, ctx.scale, summary);
  return { records, summary };
}

/** What a run's loss log says about stability: the mean loss over its last 5 % (NaN with no log), loss spikes, and the largest gradient norm. */
export function logStability(log: readonly { loss: number; gradNorm: number }[], l0: number): Pick<LrRunSummary, "finalLoss" | "spikes" | "maxSpikeRatio" | "maxGradNorm"> {
  const losses = log.map((l) => l.loss);
  const spikes = detectSpikes(losses.filter(Number.isFinite));
  return {
    finalLoss: losses.length ? divergence(losses, l0).tailMean : NaN,
    spikes: spikes.count,
    maxSpikeRatio: spikes.events.reduce((m, e) => Math.max(m, e.peakRatio), 0),
    maxGradNorm: log.reduce((m, l) => (Number.isFinite(l.gradNorm) ? Math.max(m, l.gradNorm) : m), 0),
  };
}

export function lrRunSummary(r: ProtocolRecord, rules: ProtocolRules = RULES): LrRunSummary {
  const { finalLoss, spikes, maxSpikeRatio, maxGradNorm } = logStability(r.result.log, chanceLoss(r.config.model.numClasses));
  return {
    arm: r.arm,
    label: r.label,
    lr: r.config.train.lr,
    seed: r.seed,
    status: r.result.status,
    class: recordClass(r, rules),
    testAcc: r.result.test ? 100 * r.result.test.acc : NaN,
    finalLoss,
    spikes,
    maxSpikeRatio,
    maxGradNorm,
  };
}

/** A grid point the stable-range rule can read: how many runs at this lr, and how many learned. */
export interface RankablePoint {
  lr: number;
  runs: number;
  learned: number;
}

/** Per grid lr: how many runs, how many learned / diverged / did not learn, and the mean of `value` over the runs that learned (NaN when none did). */
export function lrClassCounts<R extends { lr: number; class: RunClass }>(runs: readonly R[], value: (r: R) => number): (RankablePoint & { diverged: number; didNotLearn: number; mean: number })[] {
  return [...new Set(runs.map((r) => r.lr))]
    .sort((a, b) => a - b)
    .map((lr) => {
      const rs = runs.filter((r) => r.lr === lr);
      const ok = rs.filter((r) => r.class === "learned");
      return {
        lr,
        runs: rs.length,
        learned: ok.length,
        diverged: rs.filter((r) => r.class === "diverged").length,
        didNotLearn: rs.filter((r) => r.class === "did not learn").length,
        mean: ok.length ? ok.reduce((a, r) => a + value(r), 0) / ok.length : NaN,
      };
    });
}

export function lrPoints(runs: readonly LrRunSummary[]): LrGridPoint[] {
  return lrClassCounts(runs, (r) => r.testAcc).map(({ mean, ...p }) => ({ ...p, meanAcc: mean }));
}

/** The contiguous run of grid points satisfying `ok` that contains index `at`. */
function rangeAround<P extends RankablePoint>(grid: readonly P[], at: number, ok: (p: P) => boolean): LrRange {
  let i = at;
  let j = at;
  while (i > 0 && ok(grid[i - 1]!)) i--;
  while (j + 1 < grid.length && ok(grid[j + 1]!)) j++;
  return { lo: grid[i]!.lr, hi: grid[j]!.lr, decades: Math.log10(grid[j]!.lr / grid[i]!.lr), bracketedBelow: i > 0, bracketedAbove: j < grid.length - 1 };
}

/** A view with the best score instead of the best accuracy (higher score is better; a language model ranks by −bpb). */
export interface RankedView {
  stable: LrRange | null;
  bestLr: number | null;
  best: number;
  nearOptimal: LrRange | null;
}

/**
 * The stable range and near-optimal interval of any grid, ranked by `score`
 * (higher is better): an lr is stable when every seed learned (strict) or any
 * did (lenient); near-optimal when stable and within `tolerance` of the best.
 */
export function rankedView<P extends RankablePoint>(grid: readonly P[], mode: "strict" | "lenient", tolerance: number, score: (p: P) => number): RankedView {
  const stable = (p: P) => (mode === "strict" ? p.learned === p.runs && p.runs > 0 : p.learned > 0);
  let best = -1;
  grid.forEach((p, i) => {
    if (stable(p) && (best < 0 || score(p) > score(grid[best]!))) best = i;
  });
  if (best < 0) return { stable: null, bestLr: null, best: NaN, nearOptimal: null };
  const top = score(grid[best]!);
  return {
    stable: rangeAround(grid, best, stable),
    bestLr: grid[best]!.lr,
    best: top,
    nearOptimal: rangeAround(grid, best, (p) => stable(p) && score(p) >= top - tolerance),
  };
}

/** An arm's stable range and near-optimal interval, counting an lr as stable when every seed learned (strict) or any did (lenient). */
export function armView(grid: readonly LrGridPoint[], mode: "strict" | "lenient", nearOptimalPoints: number): LrArmView {
  const v = rankedView(grid, mode, nearOptimalPoints, (p) => p.meanAcc);
  return { stable: v.stable, bestLr: v.bestLr, bestAcc: v.best, nearOptimal: v.nearOptimal };
}

export function summarizeLrStability(records: readonly ProtocolRecord[], s: LrStabilityScale, scale: Scale, rules: ProtocolRules = RULES): LrStabilitySummary {
  const runs = records.map((r) => lrRunSummary(r, rules));
  const nearOptimalPoints = NEAR_OPTIMAL_MARGINS * rules.matchMarginPoints;
  const byArm: LrArmSummary[] = s.arms.flatMap((id) => {
    const rs = runs.filter((r) => r.arm === id);
    if (!rs.length) return [];
    const grid = lrPoints(rs);
    return [{ arm: id, label: rs[0]!.label, grid, strict: armView(grid, "strict", nearOptimalPoints), lenient: armView(grid, "lenient", nearOptimalPoints), spikes: rs.reduce((a, r) => a + r.spikes, 0), runs: rs.length }];
  });
  const lrs = lrGrid(s);
  const stepDecades = lrs.length > 1 ? Math.log10(lrs[1]! / lrs[0]!) : Math.log10(2);
  const { outcome, reason } = lrVerdict(byArm, s.arms, stepDecades);
  const setup = `${describeBase(s.base, s.epochs)}; lr ${lrs.map((x) => x.toExponential(1)).join(", ")}; ${s.seeds.length} seed(s)`;
  const facts = byArm.map(armFacts).join("; ");
  return { experiment: LR_STABILITY, scale, setup, runs, byArm, rule: { stepDecades, nearOptimalPoints }, verdict: outcome, reason, statement: `${outcome}: ${reason}. ${facts}.` };
}

const e1 = (x: number | null | undefined) => (x === null || x === undefined ? "none" : x.toExponential(1));
function armFacts(b: LrArmSummary): string {
  const v = b.strict;
  return `${b.label}: every seed learned at ${v.stable ? `${e1(v.stable.lo)}..${e1(v.stable.hi)}` : "no lr"}, best lr ${e1(v.bestLr)} (${Number.isFinite(v.bestAcc) ? v.bestAcc.toFixed(2) : "—"} %), near-optimal ${v.nearOptimal ? `${e1(v.nearOptimal.lo)}..${e1(v.nearOptimal.hi)} (${v.nearOptimal.decades.toFixed(2)} decades)` : "none"}, ${b.spikes} loss spikes in ${b.runs} runs`;
}

/** What the rule reads of an arm: its label, grid size and both views (the ViT's LrArmSummary and the LM's arm summary both have them). */
export interface RuleArm {
  arm: string;
  label: string;
  grid: readonly unknown[];
  strict: Pick<LrArmView, "stable" | "nearOptimal">;
  lenient: Pick<LrArmView, "stable" | "nearOptimal">;
}

/**
 * R-lr, "A (DyT) is as robust to the lr as B (LayerNorm)", on one view (strict or lenient):
 *  - not testable when an arm learned at no grid lr, when the grid has < 4
 *    lrs, or when it does not bracket an arm's stable range from above (every
 *    lr up to the grid's top learned: extend the grid upward);
 *  - (stable) A's largest stable lr >= B's;
 *  - (wide) A's near-optimal interval is no narrower than B's by more than
 *    one grid step; judged only when the interval the conclusion rests on is
 *    bracketed on both sides (else not testable: a grid end cut it);
 *  - supported when both hold, not supported when either fails.
 */
export function lrRule(a: RuleArm, b: RuleArm, mode: "strict" | "lenient", stepDecades: number): { outcome: Outcome; reason: string } {
  const va = a[mode];
  const vb = b[mode];
  for (const [x, v] of [[a, va], [b, vb]] as [RuleArm, RuleArm["strict"]][]) {
    if (!v.stable || !v.nearOptimal) return { outcome: "not testable", reason: `${x.label} learned on every seed at no grid lr` };
    if (x.grid.length < 4) return { outcome: "not testable", reason: `${x.grid.length} lr points are too few to measure a stable range` };
    if (!v.stable.bracketedAbove) return { outcome: "not testable", reason: `the grid does not bracket ${x.label}'s stable range from above (every lr up to ${e1(v.stable.hi)}, the grid's top, learned): extend the grid upward` };
  }
  const stable = va.stable!.hi >= vb.stable!.hi;
  const wide = va.nearOptimal!.decades >= vb.nearOptimal!.decades - stepDecades - 1e-9;
  // The interval the "wide" conclusion rests on must not be cut by the grid: B's when A is wide enough, A's when it is not.
  const [restsOn, restsView] = wide ? [b, vb] : [a, va];
  const no = restsView.nearOptimal!;
  if (!no.bracketedBelow || !no.bracketedAbove)
    return { outcome: "not testable", reason: `${restsOn.label}'s near-optimal interval reaches the grid's ${!no.bracketedBelow ? "bottom" : "top"} (${e1(no.lo)}..${e1(no.hi)}), so its width is unknown: extend the grid` };
  const why = [
    `largest stable lr ${a.label} ${e1(va.stable!.hi)} ${stable ? ">=" : "<"} ${b.label} ${e1(vb.stable!.hi)}`,
    `near-optimal interval ${a.label} ${va.nearOptimal!.decades.toFixed(2)} vs ${b.label} ${vb.nearOptimal!.decades.toFixed(2)} decades (${wide ? "no narrower than" : "narrower than"} ${b.label}'s minus one grid step)`,
  ].join("; ");
  return { outcome: stable && wide ? "supported" : "not supported", reason: why };
}

/**
 * The verdict: the rule on the strict view (every seed learned) and on the
 * lenient one (any seed learned). When they agree, that outcome; when they
 * differ, the answer hinges on lrs where seeds disagree: inconclusive (add seeds).
 */
export function lrVerdict(byArm: readonly RuleArm[], armIds: readonly string[], stepDecades: number): { outcome: Outcome; reason: string } {
  const [A, B] = armIds;
  const a = byArm.find((x) => x.arm === A);
  const b = byArm.find((x) => x.arm === B);
  if (!a || !b) return { outcome: "not testable", reason: `${!a ? A : B} runs are missing` };
  const strict = lrRule(a, b, "strict", stepDecades);
  const lenient = lrRule(a, b, "lenient", stepDecades);
  if (strict.outcome === lenient.outcome) return strict;
  return { outcome: "inconclusive", reason: `counting an lr as stable when every seed learned gives ${strict.outcome} (${strict.reason}), when any seed learned ${lenient.outcome} (${lenient.reason}): the answer hinges on lrs where seeds disagree; add seeds` };
}
