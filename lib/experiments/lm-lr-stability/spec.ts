/**
 * Language-model stability under the learning rate (issue 12, experiment 3):
 * the LLaMA-style byte LM of lm-rmsnorm-dyt (its model, text and budget at
 * each scale) trained at a ladder of peak lrs, with RMSNorm, with DyT in the
 * paper's LLaMA recipe, and with the norm-free methods that run on this model
 * (ReZero, SkipInit, Fixup; NF-style needs a gamma for GELU and the LM's
 * SwiGLU has none). Every run is classified (diverged / did not learn /
 * learned, protocol/classify.ts: learned = final test bpb at least
 * rules.lmLearnedBelowUnigramBpb below the unigram baseline); loss spikes and
 * the largest gradient norm are reported beside.
 *
 * Pre-registered 2026-12-03, before any run of this study:
 *  - R-lr (LM): "DyT is as robust to the lr as RMSNorm", R-lr's rule
 *    (lr-stability/spec.ts, lrRule, written for the ViT before its runs)
 *    applied unchanged, with test bits per byte for test accuracy: the
 *    near-optimal interval is the contiguous stable lrs whose test bpb is
 *    within NEAR_OPTIMAL_MARGINS x rules.lmMatchMarginBpb of the arm's best.
 *  - Grid: half-decades 1e-3 .. 3e-1 for every arm at full (LM-1's tuning
 *    grid plus 3e-1, since RMSNorm learned at that grid's top, 1e-1). An
 *    arm's grid grows by one ladder step upward while its topmost run
 *    learned, and downward while its best run sits at the bottom, within
 *    [1e-4, 1] (so a grid end never decides the rule when the ladder allows).
 *  - One seed (101), as LM-1's tuning: strict and lenient views coincide.
 *  - The norm-free arms are descriptive (no claim row): their stable ranges
 *    and best bpb sit beside the two norms. A paired head-to-head needs
 *    evaluation seeds at each method's pick, which this budget does not buy.
 *  - Disclosed: at full, the DyT and RMSNorm runs at 1e-3 .. 1e-1 are
 *    lm-rmsnorm-dyt's tuning runs (same resolved config and seed; read from
 *    its records, not re-run), so those ten results were seen before this
 *    study was designed: RMSNorm learned at every lr up to 1e-1, DyT at 1e-1
 *    reached test bpb 4.244, just above the learned threshold 4.241.
 *
 * Cost at full: 996 steps per run, ~275-480 s with two side by side
 * (lm-rmsnorm-dyt, lm-embed-scale); 2 + 3 x 6 = 20 new runs before any
 * extension, at most ~80 min on 2 workers (diverging runs stop early).
 *
 * The α₀ variant, an amendment pre-registered 2026-12-05, AFTER the full
 * sweep above was run and seen (R-lr (LM) not supported: DyT learned up to
 * 3e-2, RMSNorm up to 3e-1) and before any run of the variant. R-lr (LM) and
 * every run above are unchanged. The paper notes that in LLMs a large α₀
 * with a large lr can diverge and tunes α₀ per model; the recipe's α₀ at
 * width 64 is 1 (paperLlamaAlpha0). The variant asks whether DyT's lr range
 * is a matter of α₀.
 *  - Arm: DyT (LLaMA recipe) with α₀ `alpha0Variant` in all three slots
 *    (full: 0.25, lm-alpha0's best at w64d2, chosen there on validation bpb
 *    at lr 3e-3 and a shorter budget; also lm-to-failure's depth-4 pick),
 *    everything else as the recipe (embedding scalar, init std).
 *  - Also seen before this was written: lm-alpha0's corner runs at w64d2
 *    (α₀ 1/1 learned at lr 1e-2 and 3e-2, α₀ 4/4 did not learn at 3e-2) and
 *    lm-to-failure's depth-4 tuning (α₀ 0.25 learned at 3e-3 .. 3e-2 there).
 *  - The same grid, seed, extension rule and classification as the arms
 *    above; RMSNorm's runs are this study's, read, not re-run.
 *  - R-lr.α₀ (LM): "DyT at α₀ `alpha0Variant` is as robust to the lr as
 *    RMSNorm", R-lr (LM)'s rule unchanged (lrVerdict). The row is separate;
 *    R-lr (LM) keeps the recipe's α₀.
 *  - Cost at full: 6 new runs before any extension, ~15-25 min on 2 workers.
 */
import { chanceLoss } from "../../analysis/divergence";
import { fixed } from "../../util/format";
import { saveSummary, type ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { dytAlpha0Arm, resolveArm, type Arm } from "../protocol/arms";
import { bitsScore, type RunClass } from "../protocol/classify";
import { armJob, describeBase, epochSchedule, tuneJobs } from "../protocol/jobs";
import type { LmResolvedRun, LmRunBase } from "../protocol/lm-task";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { runJobs, stableStringify, type Job, type LmProtocolRecord } from "../protocol/runner";
import { lrId } from "../protocol/tuning";
import type { Outcome } from "../protocol/verdict";
import { logStability, lrClassCounts, lrVerdict, NEAR_OPTIMAL_MARGINS, rankedView, type LrRange, type RankablePoint } from "../lr-stability/spec";
import { LM_RMSNORM_DYT, LM_RMSNORM_DYT_SCALES, lmTestBaselines } from "../lm-rmsnorm-dyt/spec";

export const LM_LR_STABILITY = "lm-lr-stability";

/** The claim's arms [A, B]: "A is as robust to the lr as B". */
export const LM_LR_CLAIM_ARMS = ["dyt-lm", "rmsnorm"] as const;
/** Norm-free methods that run on the LLaMA-style model (descriptive rows). */
export const LM_LR_NORM_FREE_ARMS = ["rezero", "skipinit", "fixup"] as const;

/** Every lr a grid may hold, in half-decades; extensions step along it. */
export const LR_LADDER = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1] as const;

/** Where `lr` sits on LR_LADDER (within float rounding), or −1. */
function ladderIndex(lr: number): number {
  return LR_LADDER.findIndex((l) => Math.abs(l - lr) <= 1e-12 * l);
}

export interface LmLrStabilityScale {
  base: LmRunBase;
  epochs: number;
  /** Arm ids; the first two are the claim's [A, B]. */
  arms: string[];
  /** The starting grid (ladder lrs), the same for every arm. */
  lrs: number[];
  /** Extensions stay within [lo, hi] (ladder lrs); lo = min(lrs) and hi = max(lrs) switch them off. */
  bounds: [number, number];
  seed: number;
  /** DyT's α₀ (all three slots) of the α₀ variant (amendment 2026-12-05); absent: not run. */
  alpha0Variant?: number;
}

const LMR = LM_RMSNORM_DYT_SCALES;
const ARMS = [...LM_LR_CLAIM_ARMS, ...LM_LR_NORM_FREE_ARMS];

export const LM_LR_STABILITY_SCALES: Record<Scale, LmLrStabilityScale> = {
  smoke: { base: LMR.smoke.base, epochs: LMR.smoke.epochs, arms: [...LM_LR_CLAIM_ARMS, "rezero"], lrs: [1e-2, 3e-1], bounds: [1e-2, 3e-1], seed: 101, alpha0Variant: 0.25 },
  quick: { base: LMR.quick.base, epochs: LMR.quick.epochs, arms: ARMS, lrs: [1e-3, 1e-2, 1e-1], bounds: [1e-3, 1e-1], seed: 101, alpha0Variant: 0.25 },
  full: { base: LMR.full.base, epochs: LMR.full.epochs, arms: ARMS, lrs: [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1], bounds: [1e-4, 1], seed: 101, alpha0Variant: 0.25 },
};

/** Check a scale before any run: ladder lrs, bounds around the grid, known arms, two claim arms first. */
export function assertLmLrScale(s: LmLrStabilityScale): void {
  for (const lr of [...s.lrs, ...s.bounds])
    if (ladderIndex(lr) < 0) throw new Error(`${LM_LR_STABILITY}: lr ${lr} is not on the ladder ${LR_LADDER.join(", ")}; pick lrs from it`);
  if (s.lrs.length === 0) throw new Error(`${LM_LR_STABILITY}: the grid is empty; give at least one lr`);
  const [lo, hi] = s.bounds;
  if (lo > Math.min(...s.lrs) || hi < Math.max(...s.lrs)) throw new Error(`${LM_LR_STABILITY}: bounds [${lo}, ${hi}] must contain the grid ${s.lrs.join(", ")}`);
  if (s.arms.length < 2) throw new Error(`${LM_LR_STABILITY}: give at least the two claim arms (A, B), got ${s.arms.join(", ") || "none"}`);
  if (new Set(s.arms).size !== s.arms.length) throw new Error(`${LM_LR_STABILITY}: an arm is listed twice in ${s.arms.join(", ")}`);
  s.arms.forEach((id) => resolveArm(id));
  if (s.alpha0Variant !== undefined && !(s.alpha0Variant > 0)) throw new Error(`${LM_LR_STABILITY}: alpha0Variant must be a positive α₀, got ${s.alpha0Variant}; leave it out to skip the variant`);
}

/** The α₀ variant's arm: the claim's DyT arm with α₀ `alpha0` in every slot (module header). */
export function alpha0VariantArm(s: Pick<LmLrStabilityScale, "arms">, alpha0: number): Arm {
  return dytAlpha0Arm(resolveArm(s.arms[0]!), alpha0);
}

/**
 * The run of `a` at `lr`: lm-rmsnorm-dyt's tuning run when that study has
 * the same run (arm, lr, seed, base and budget: the same resolved config), so
 * it is read from there and never trained twice; else a run of this study.
 */
export function sweepJob(s: LmLrStabilityScale, scale: Scale, a: Arm, lr: number): Job<LmResolvedRun> {
  const train = epochSchedule(s.epochs, s.base);
  const lm = LMR[scale];
  const shared =
    lm.arms.includes(a.id) && lm.lr.kind === "tuned" && lm.lr.tuning.seed === s.seed && lm.lr.tuning.lrs.includes(lr) && lm.epochs === s.epochs && stableStringify(lm.base) === stableStringify(s.base);
  if (shared) return tuneJobs({ experiment: LM_RMSNORM_DYT, scale, base: s.base }, [a], { lrs: [lr], seed: s.seed }, { axes: { epochs: s.epochs }, train })[0]!;
  return armJob({ experiment: LM_LR_STABILITY, scale, base: s.base }, a, s.seed, { run: `${a.id}-lr${lrId(lr)}-s${s.seed}`, role: "eval", lr, axes: { epochs: s.epochs }, train });
}

export interface LmLrRunSummary {
  arm: string;
  label: string;
  lr: number;
  seed: number;
  /** The experiment whose records hold the run (lm-rmsnorm-dyt for shared runs). */
  source: string;
  status: string;
  class: RunClass;
  /** Final test / validation bits per byte (NaN when the run has none). */
  testBpb: number;
  valBpb: number;
  /** The learned threshold of the test split: unigram bpb − rules.lmLearnedBelowUnigramBpb. */
  learnedBelow: number;
  /** Mean logged training loss (nats per byte) over the last 5 % of log lines. */
  finalLoss: number;
  spikes: number;
  maxSpikeRatio: number;
  maxGradNorm: number;
}

export function lmLrRunSummary(r: LmProtocolRecord, rules: ProtocolRules = RULES): LmLrRunSummary {
  const { finalLoss, spikes, maxSpikeRatio, maxGradNorm } = logStability(r.result.log, chanceLoss(r.config.model.vocabSize));
  const test = bitsScore(r, "test", rules);
  return {
    arm: r.arm,
    label: r.label,
    lr: r.config.train.lr,
    seed: r.seed,
    source: r.experiment,
    status: r.result.status,
    class: test.class,
    testBpb: test.bpb,
    valBpb: bitsScore(r, "val", rules).bpb,
    learnedBelow: r.result.baselines.test.unigramBpb - rules.lmLearnedBelowUnigramBpb,
    finalLoss,
    spikes,
    maxSpikeRatio,
    maxGradNorm,
  };
}

export interface LmLrGridPoint extends RankablePoint {
  diverged: number;
  didNotLearn: number;
  /** Mean test bpb over the seeds that learned; NaN when none did. */
  meanBpb: number;
}

export interface LmLrArmView {
  stable: LrRange | null;
  bestLr: number | null;
  bestBpb: number;
  nearOptimal: LrRange | null;
}

export interface LmLrArmSummary {
  arm: string;
  label: string;
  /** "claim" for the two compared arms, "norm-free" for the descriptive ones, "α₀ variant" for the amendment's DyT arm. */
  role: "claim" | "norm-free" | "α₀ variant";
  grid: LmLrGridPoint[];
  strict: LmLrArmView;
  lenient: LmLrArmView;
  spikes: number;
  runs: number;
  /** The first grid lr above the strict stable range, and by how much its test bpb missed the learned threshold (bpb; NaN when it has none). */
  breaksAt: { lr: number; class: RunClass; testBpb: number; missedBy: number } | null;
}

export interface LmLrStabilitySummary {
  experiment: string;
  scale: Scale;
  setup: string;
  runs: LmLrRunSummary[];
  byArm: LmLrArmSummary[];
  baselines: { uniformBpb: number; unigramBpb: number };
  rule: { stepDecades: number; nearOptimalBpb: number };
  verdict: Outcome;
  reason: string;
  statement: string;
  /** R-lr.α₀ (LM), the amendment of 2026-12-05; absent when the scale has no variant or none of its runs exist. */
  alpha0Variant?: { arm: string; alpha0: number; verdict: Outcome; reason: string; statement: string };
}

export function lmLrPoints(runs: readonly LmLrRunSummary[]): LmLrGridPoint[] {
  return lrClassCounts(runs, (r) => r.testBpb).map(({ mean, ...p }) => ({ ...p, meanBpb: mean }));
}

/** The rule's view of an LM grid: lower bpb is better, near-optimal within `tolerance` bpb of the best. */
export function lmArmView(grid: readonly LmLrGridPoint[], mode: "strict" | "lenient", tolerance: number): LmLrArmView {
  const v = rankedView(grid, mode, tolerance, (p) => -p.meanBpb);
  return { stable: v.stable, bestLr: v.bestLr, bestBpb: -v.best, nearOptimal: v.nearOptimal };
}

/**
 * The next ladder lr an arm's grid needs, or none: one step up while the
 * topmost run learned, one step down while the best run is the bottom one,
 * within the scale's bounds. Upward first (the rule needs the stable range
 * bracketed from above).
 */
export function gridExtension(grid: readonly LmLrGridPoint[], bounds: readonly [number, number], tolerance: number): number[] {
  if (grid.length === 0) return [];
  const out: number[] = [];
  const top = grid[grid.length - 1]!;
  const up = LR_LADDER[ladderIndex(top.lr) + 1];
  if (top.learned === top.runs && top.runs > 0 && up !== undefined && up <= bounds[1] * (1 + 1e-12)) out.push(up);
  const view = lmArmView(grid, "strict", tolerance);
  const down = LR_LADDER[ladderIndex(grid[0]!.lr) - 1];
  if (view.bestLr !== null && view.bestLr === grid[0]!.lr && down !== undefined && down >= bounds[0] * (1 - 1e-12)) out.push(down);
  return out;
}

const f3 = fixed(3);
const e1 = (x: number | null | undefined) => (x === null || x === undefined ? "none" : x.toExponential(1));

function armSummary(id: string, role: LmLrArmSummary["role"], runs: readonly LmLrRunSummary[], tolerance: number): LmLrArmSummary | null {
  const rs = runs.filter((r) => r.arm === id);
  if (!rs.length) return null;
  const grid = lmLrPoints(rs);
  const strict = lmArmView(grid, "strict", tolerance);
  const above = strict.stable ? grid.find((p) => p.lr > strict.stable!.hi) : undefined;
  const r = above ? rs.find((x) => x.lr === above.lr)! : undefined;
  return {
    arm: id,
    label: rs[0]!.label,
    role,
    grid,
    strict,
    lenient: lmArmView(grid, "lenient", tolerance),
    spikes: rs.reduce((a, x) => a + x.spikes, 0),
    runs: rs.length,
    breaksAt: r ? { lr: r.lr, class: r.class, testBpb: r.testBpb, missedBy: r.testBpb - r.learnedBelow } : null,
  };
}

function armFacts(b: LmLrArmSummary): string {
  const v = b.strict;
  const brk = b.breaksAt
    ? `; at ${e1(b.breaksAt.lr)} it ${b.breaksAt.class === "diverged" ? "diverged" : `did not learn (test ${f3(b.breaksAt.testBpb)} bpb, ${f3(b.breaksAt.missedBy)} above the learned threshold)`}`
    : "";
  return `${b.label}: learned at ${v.stable ? `${e1(v.stable.lo)}..${e1(v.stable.hi)}` : "no lr"}, best lr ${e1(v.bestLr)} (${Number.isFinite(v.bestBpb) ? f3(v.bestBpb) : "—"} bpb), near-optimal ${v.nearOptimal ? `${e1(v.nearOptimal.lo)}..${e1(v.nearOptimal.hi)} (${v.nearOptimal.decades.toFixed(2)} decades)` : "none"}${brk}, ${b.spikes} loss spikes in ${b.runs} runs`;
}

export function summarizeLmLrStability(records: readonly LmProtocolRecord[], s: LmLrStabilityScale, scale: Scale, rules: ProtocolRules = RULES): LmLrStabilitySummary {
  const variant = s.alpha0Variant !== undefined ? alpha0VariantArm(s, s.alpha0Variant) : undefined;
  // R-lr (LM) reads the sweep without the variant's runs, so its row (grid, step, setup) is what it was before the amendment.
  const base = summarizeSweep(records.filter((r) => r.arm !== variant?.id), s, scale, rules);
  const vRecords = records.filter((r) => r.arm === variant?.id);
  if (!variant || !vRecords.length) return base;
  const vRuns = vRecords.map((r) => lmLrRunSummary(r, rules));
  const vArm = armSummary(variant.id, "α₀ variant", vRuns, base.rule.nearOptimalBpb)!;
  const [, B] = s.arms as [string, string];
  const pair = [vArm, ...base.byArm.filter((b) => b.arm === B)];
  const { outcome, reason } = lrVerdict(pair, [variant.id, B], base.rule.stepDecades);
  const grid = vArm.grid.map((p) => e1(p.lr)).join(", ");
  const statement = `${outcome}: ${reason}. ${pair.map(armFacts).join("; ")}. ${vArm.label}: grid ${grid}, seed ${s.seed}; RMSNorm's runs are R-lr (LM)'s. Learned and near-optimal as in R-lr (LM).`;
  return {
    ...base,
    runs: [...base.runs, ...vRuns],
    byArm: [...base.byArm, vArm],
    alpha0Variant: { arm: variant.id, alpha0: s.alpha0Variant!, verdict: outcome, reason, statement },
  };
}

/** R-lr (LM)'s summary of the sweep's arms (the claim's two and the norm-free ones). */
function summarizeSweep(records: readonly LmProtocolRecord[], s: LmLrStabilityScale, scale: Scale, rules: ProtocolRules): LmLrStabilitySummary {
  const runs = records.map((r) => lmLrRunSummary(r, rules));
  const nearOptimalBpb = NEAR_OPTIMAL_MARGINS * rules.lmMatchMarginBpb;
  const [A, B] = s.arms as [string, string];
  const byArm = s.arms.flatMap((id) => armSummary(id, id === A || id === B ? "claim" : "norm-free", runs, nearOptimalBpb) ?? []);
  const lrs = [...new Set(runs.map((r) => r.lr))].sort((a, b) => a - b);
  // The grid's finest step: the conservative tolerance of the "wide" clause (half-decades alternate 3x and 3.33x).
  const stepDecades = lrs.length > 1 ? Math.min(...lrs.slice(1).map((x, i) => Math.log10(x / lrs[i]!))) : Math.log10(3);
  const { outcome, reason } = lrVerdict(byArm, [A, B], stepDecades);
  const baselines = lmTestBaselines(records);
  const disclosed = records.some((r) => r.experiment === LM_RMSNORM_DYT) ? `; ${records.filter((r) => r.experiment === LM_RMSNORM_DYT).length} runs are ${LM_RMSNORM_DYT}'s tuning runs (same config and seed)` : "";
  const setup = `${describeBase(s.base, s.epochs)}; lr grid ${lrs.map(e1).join(", ")} (extended by half-decades while an arm's top run learned or its best sat at the bottom, within ${e1(s.bounds[0])}..${e1(s.bounds[1])}); seed ${s.seed}${disclosed}`;
  const claim = byArm.filter((b) => b.role === "claim").map(armFacts).join("; ");
  const free = byArm.filter((b) => b.role === "norm-free").map(armFacts).join("; ");
  const statement =
    `${outcome}: ${reason}. ${claim}. Learned means test bpb ≤ unigram ${f3(baselines.unigramBpb)} − ${rules.lmLearnedBelowUnigramBpb}; near-optimal within ${f3(nearOptimalBpb)} bpb of the arm's best.` +
    (free ? ` Norm-free (descriptive): ${free}.` : "");
  return { experiment: LM_LR_STABILITY, scale, setup, runs, byArm, baselines, rule: { stepDecades, nearOptimalBpb }, verdict: outcome, reason, statement };
}

/**
 * Run (or load) every arm's grid, extending grids by the pre-registered rule
 * until none grows. Saves no summary, so another study (lm-norm-free) can
 * read some arms' grids as its tuning runs.
 */
export async function lmLrSweep(ctx: ExperimentContext, s: LmLrStabilityScale, rules: ProtocolRules = RULES, extraArms: readonly Arm[] = []): Promise<LmProtocolRecord[]> {
  assertLmLrScale(s);
  const arms = [...s.arms.map(resolveArm), ...extraArms];
  const grids = new Map(arms.map((a) => [a.id, [...new Set(s.lrs)].sort((x, y) => x - y)]));
  const tolerance = NEAR_OPTIMAL_MARGINS * rules.lmMatchMarginBpb;
  let records: LmProtocolRecord[] = [];
  // Arm-major: the claim's arms finish first, so an interrupted run already answers R-lr (LM).
  for (;;) {
    records = await runJobs(arms.flatMap((a) => grids.get(a.id)!.map((lr) => sweepJob(s, ctx.scale, a, lr))), ctx);
    let grew = false;
    for (const a of arms) {
      const ext = gridExtension(lmLrPoints(records.filter((r) => r.arm === a.id).map((r) => lmLrRunSummary(r, rules))), s.bounds, tolerance);
      if (!ext.length) continue;
      grids.set(a.id, [...grids.get(a.id)!, ...ext].sort((x, y) => x - y));
      grew = true;
    }
    if (!grew) break;
  }
  return records;
}

/** Run (or load) every arm's grid (lmLrSweep); then summarise. */
export async function runLmLrStability(ctx: ExperimentContext, override: Partial<LmLrStabilityScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: LmProtocolRecord[]; summary: LmLrStabilitySummary }> {
  const s: LmLrStabilityScale = { ...LM_LR_STABILITY_SCALES[ctx.scale], ...override };
  if (ctx.seeds?.length) s.seed = ctx.seeds[0]!;
  // The α₀ variant sweeps after the other arms (their order is unchanged), by the same rule.
  const records = await lmLrSweep(ctx, s, rules, s.alpha0Variant !== undefined ? [alpha0VariantArm(s, s.alpha0Variant)] : []);
  const summary = summarizeLmLrStability(records, s, ctx.scale, rules);
  saveSummary(LM_LR_STABILITY, ctx.scale, summary);
  return { records, summary };
}
