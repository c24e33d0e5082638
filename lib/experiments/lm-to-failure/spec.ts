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
 *
 * The re-tuned depth rung, pre-registered 2026-12-04, AFTER the full ladders
 * were seen (the depth ladder broke at d4 with both norms at their depth-2
 * lrs) and after lm-alpha0's w64d4 grid (best α₀ 0.25/0.25 at lr 3e-3), but
 * before any run of this rung. It asks what the ladder left open: does DyT
 * at that depth need its own lr or α₀? The rows above are unchanged.
 *  - At depth `retune.depth` (full: 4), each norm is tuned again on
 *    validation bpb with the tuning seed (101), as lm-rmsnorm-dyt tunes:
 *    RMSNorm over the lrs `retune.lrs` (full: 3e-3, 1e-2, 3e-2); DyT over the
 *    same lrs x α₀ (one value for all three slots): the recipe's own α₀ for
 *    the width (1 at width 64) and each of `retune.alpha0s` (full: 0.25).
 *    DyT's pick is the (α₀, lr) of lowest validation bpb among the runs that
 *    learned (ties: the recipe's α₀, then the smaller lr).
 *  - Each norm's pick runs on the evaluation seeds; a pick that equals the
 *    ladder's own setting reads the ladder's runs instead of training again.
 *  - The same rung rule as above, against the same first rung (depth 2,
 *    each norm at its lm-rmsnorm-dyt lr). If RMSNorm learns on no tuning
 *    run the rung is not testable; if DyT learns on none while RMSNorm
 *    does, it breaks without evaluation runs.
 *  - R-to-failure, depth re-tuned (LM): supported when the rung holds, not
 *    supported when it breaks, else inconclusive / not testable. A pick at
 *    the grid's edge is named in the row.
 *
 * The width ladder, an amendment pre-registered 2026-12-05, written before
 * any run of it (after the steps and depth ladders and the re-tuned rung
 * above were run and seen). Every row and outcome above is unchanged: the
 * R-to-failure (LM) row keeps its rule over the steps and depth ladders only,
 * and the width ladder never enters it.
 *  - Rungs: widths `widths`, ascending, the first lm-rmsnorm-dyt's width
 *    (full: 64, 128, 256; quick: 64, 128; smoke: 16, 32, the smoke LM's
 *    width and twice it). The first rung is lm-rmsnorm-dyt's own evaluation
 *    runs, read, not re-run, as the other ladders share it.
 *  - Each rung is lm-rmsnorm-dyt's base at that width: depth and budget
 *    unchanged (full: depth 2, 996 steps of batch 32 x 128), each norm at
 *    its lm-rmsnorm-dyt lr (full: 1e-2 for both), as on the other ladders.
 *    Heads unchanged (full: 4; head dim 16, 32, 64): 4 divides every width
 *    and leaves an even head dim for RoPE, so the width does not force a
 *    change, and the rung changes the width alone. (lm-alpha0 and lm-quant
 *    keep head dim 16 instead; this ladder does not.) The SwiGLU width
 *    follows LLaMA's 8d/3 rule (176, 344, 688).
 *  - DyT's α₀ and the init std are what the recipe resolves for the width
 *    (resolveLmRun with the dyt-lm arm): α₀ attention/FFN/final
 *    paperLlamaAlpha0(width), which is 1/1/1 at 64, 128 and 256 (the
 *    paper's table starts at width 1024 and every narrower width takes its
 *    first row); init std widthMatchedInitStd(width) = 1.28/sqrt(width):
 *    0.160, 0.113, 0.0800; the embedding scalar starts at sqrt(width). The
 *    rung thus asks whether the recipe, unchanged but for what it ties to
 *    the width, keeps pace with RMSNorm as the LM widens.
 *  - The same rung rule (rungVerdict) against the same first rung, and the
 *    same climb: the ladder stops at its first break.
 *  - R-to-failure, width (LM): supported when every width rung holds; not
 *    supported when a rung breaks (the row names it); inconclusive
 *    otherwise; not testable when the first rung is (an arm did not learn
 *    there). A rung with no saved runs when only saved results are loaded
 *    (cachedOnly) is "not yet run", and the row is not testable until it is.
 *  - Cost (full), an extrapolation, not a measurement: a width-64 depth-2
 *    run of lm-rmsnorm-dyt's budget takes ~4-5 min on 2 workers (243-296 s
 *    measured). A width-128 step costs ~2-3x a width-64 step (lm-alpha0's
 *    width-128 runs took 2.1-3.0x its width-64 runs of the same steps), a
 *    width-256 step an extrapolated ~6-10x (never measured here). 12 new
 *    runs (2 rungs x 3 seeds x 2 arms): width 128 ~8-15 min a run, ~25-45
 *    min for its 6 runs on 2 workers; width 256 ~25-50 min a run, ~1.2-2.5
 *    h for its 6; ~1.5-3 h in all if width 128 holds, under an hour if it
 *    breaks (width 256 is then not trained).
 *    Measured afterwards (2026-12-05, the engine ~1.5-2x faster than the
 *    step costs above): 34.5 min for the 12 runs on 2 workers, 202-227 s
 *    per width-128 run and 459-479 s per width-256 run, two side by side.
 *
 * The width ladder re-tuned, an amendment pre-registered 2026-12-05, written
 * AFTER the width ladder's full runs were seen (both norms at their width-64
 * lr 1e-2; widening over width 64: w128 −0.071 [−0.215, +0.073], w256
 * +0.039 [−0.035, +0.113], so R-to-failure, width (LM) is inconclusive, and
 * both norms got worse from width 128 to 256 at that lr), but before any run
 * of this amendment. It asks what the ladder left open: with an lr tuned per
 * width, does DyT keep pace? Every existing row and outcome is unchanged.
 *  - For each width rung above the first (full: 128 and 256; quick: 128;
 *    smoke: the smoke widths above the first), each norm is tuned again on
 *    validation bpb with the tuning seed 101 over the lrs `widthRetune.lrs`
 *    (full: 3e-3, 1e-2, 3e-2; smoke/quick small grids), DyT at the recipe's
 *    own α₀ for the width (no α₀ candidates: cost). Each pick runs on the
 *    evaluation seeds (1, 2, 3); a pick equal to the ladder's own lr (1e-2)
 *    reads the width ladder's runs instead of training again.
 *  - The same rung rule (rungVerdict) against the same first rung (width
 *    64, lm-rmsnorm-dyt's evaluation runs). If RMSNorm learns on no tuning
 *    run, the rung is not testable; if DyT learns on none while RMSNorm
 *    does, it breaks without evaluation runs.
 *  - No climb-stop: both widths are re-tuned, whatever the lower one gives.
 *  - R-to-failure, width re-tuned (LM): supported when every re-tuned width
 *    rung holds; not supported when a rung breaks (the row names it);
 *    otherwise inconclusive, or not testable when every re-tuned rung is (or
 *    the first rung is: an arm did not learn there). A pick at the grid's
 *    edge is named in the row. A rung with missing runs when only saved
 *    results are loaded (cachedOnly) is "not yet run", and the row is not
 *    testable until it is, as on the width ladder.
 *  - Cost (full): measured width-128 runs 202-227 s and width-256 runs
 *    459-479 s, two side by side; tuning 12 runs (2 widths x 2 norms x 3
 *    lrs, ~35 min on 2 workers), evaluation up to 12 more (~35 min; fewer
 *    where a pick is 1e-2 and reads the ladder's runs).
 */
import { meanStd } from "../stats-lite";
import { saveSummary, type ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { dytAlpha0Arm, resolveArm, type Arm } from "../protocol/arms";
import { armJob, describeBase, epochSchedule, picksOf, tuneJobs } from "../protocol/jobs";
import { resolveLmRun, type LmResolvedRun, type LmRunBase } from "../protocol/lm-task";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { notYetRun, runJobs, type Job, type LmProtocolRecord } from "../protocol/runner";
import type { ArmLr } from "../protocol/study";
import { assertTuning, lrId, type LrPick } from "../protocol/tuning";
import type { Outcome, PairedEvidence } from "../protocol/verdict";
import { compareLmArms, derivedLmRuns, describeBpbGap, LM_RMSNORM_DYT_SCALES, lmArmRuns, lmRmsnormDytLrs, lmSharedEvalJob, lmTestBaselines, type LmArmRuns, type LmStudySummary } from "../lm-rmsnorm-dyt/spec";
import { fixed, signed } from "../../util/format";

export const LM_TO_FAILURE = "lm-to-failure";

export type Ladder = "steps" | "depth" | "width";
/** Every ladder, in the order they are climbed (width: the amendment of 2026-12-05). */
export const LADDERS: readonly Ladder[] = ["steps", "depth", "width"];
/** The ladders R-to-failure (LM) reads (pre-registered 2026-12-03); the width ladder has its own row. */
export const TO_FAILURE_LADDERS: readonly Ladder[] = ["steps", "depth"];

export interface LmToFailureScale {
  /** [DyT, norm]; both lm-rmsnorm-dyt arms. */
  arms: [string, string];
  seeds: number[];
  /** Budget multiples of lm-rmsnorm-dyt's budget, ascending; the first is 1 (its own runs). */
  steps: number[];
  /** Depths, ascending; the first is lm-rmsnorm-dyt's depth (its own runs). */
  depths: number[];
  /** Model widths, ascending; the first is lm-rmsnorm-dyt's width (its own runs). Amendment 2026-12-05. */
  widths: number[];
  /** The re-tuned depth rung (module header); absent: not run. */
  retune?: RetuneScale;
  /** The re-tuned width rungs (module header, amendment 2026-12-05): every width rung above the first; absent: not run. */
  widthRetune?: WidthRetuneScale;
}

export interface RetuneScale {
  /** A depth of the depth ladder above its first rung. */
  depth: number;
  lrs: number[];
  /** DyT α₀ values (all three slots) tried beside the recipe's own. */
  alpha0s: number[];
  /** The tuning seed; never an evaluation seed. */
  seed: number;
}

/** The width rungs' grid: lrs only (DyT keeps the recipe's α₀ for the width: no α₀ candidates, for cost). */
export interface WidthRetuneScale {
  lrs: number[];
  /** The tuning seed; never an evaluation seed. */
  seed: number;
}

/**
 * Cost (full; width 64, batch 32 x 128, two runs side by side, 2026-12
 * measurements of lm-rmsnorm-dyt): ~0.25-0.6 s per step and depth-2 model,
 * about proportional to depth. Budget x2: 1,992 steps, ~10-20 min a run; x4:
 * ~20-40 min; depth 4 ~2x and depth 8 ~4x a base run. 24 new runs in all,
 * about 3-6 h on 2 workers if no rung breaks.
 */
export const LM_TO_FAILURE_SCALES: Record<Scale, LmToFailureScale> = {
  smoke: { arms: ["dyt-lm", "rmsnorm"], seeds: [1, 2], steps: [1, 2], depths: [1, 2], widths: [16, 32], retune: { depth: 2, lrs: [3e-3, 1e-2], alpha0s: [0.25], seed: 101 }, widthRetune: { lrs: [3e-3, 1e-2], seed: 101 } },
  quick: { arms: ["dyt-lm", "rmsnorm"], seeds: [1, 2, 3], steps: [1, 2], depths: [2, 4], widths: [64, 128], retune: { depth: 4, lrs: [3e-3, 1e-2], alpha0s: [0.25], seed: 101 }, widthRetune: { lrs: [3e-3, 1e-2], seed: 101 } },
  // Re-tuned rung: 9 tuning runs + up to 6 evaluation runs at depth 4, ~5 min each side by side (the d4 rung's
  // runs took 290-305 s on 2 workers): ~40 min on 2 workers.
  // Width ladder (amendment 2026-12-05): 12 new runs, extrapolated ~1.5-3 h on 2 workers, measured 34.5 min (module header).
  // Width ladder re-tuned (amendment 2026-12-05): 12 tuning runs + up to 12 evaluation runs, ~35 + ~35 min on 2 workers.
  full: {
    arms: ["dyt-lm", "rmsnorm"],
    seeds: [1, 2, 3],
    steps: [1, 2, 4],
    depths: [2, 4, 8],
    widths: [64, 128, 256],
    retune: { depth: 4, lrs: [3e-3, 1e-2, 3e-2], alpha0s: [0.25], seed: 101 },
    widthRetune: { lrs: [3e-3, 1e-2, 3e-2], seed: 101 },
  },
};

/** One rung: its ladder, budget multiple, depth and width; rung 0 of every ladder is the shared first rung. */
export interface LadderRung {
  ladder: Ladder;
  index: number;
  budget: number;
  depth: number;
  /** The model width (lm-rmsnorm-dyt's but on the width ladder). */
  width: number;
  /** "x2", "d4", "w128"; "base" for the first rung. */
  id: string;
}

export function ladderRungs(s: LmToFailureScale, scale: Scale, ladder: Ladder): LadderRung[] {
  const lmModel = LM_RMSNORM_DYT_SCALES[scale].base.model;
  const base = lmModel.depth ?? 2;
  const width = lmModel.dim ?? 64;
  const heads = lmModel.heads ?? 4;
  if (s.steps[0] !== 1) throw new Error(`${LM_TO_FAILURE}: the steps ladder must start at 1 (lm-rmsnorm-dyt's budget), got [${s.steps.join(", ")}]`);
  if (s.depths[0] !== base) throw new Error(`${LM_TO_FAILURE}: the depth ladder must start at lm-rmsnorm-dyt's depth ${base}, got [${s.depths.join(", ")}]`);
  if (s.widths[0] !== width) throw new Error(`${LM_TO_FAILURE}: the width ladder must start at lm-rmsnorm-dyt's width ${width}, got [${s.widths.join(", ")}]`);
  for (const [name, v] of [["steps", s.steps], ["depths", s.depths], ["widths", s.widths]] as const)
    if (v.some((x, i) => !(x > 0) || (i > 0 && x <= v[i - 1]!))) throw new Error(`${LM_TO_FAILURE}: ${name} must be positive and ascending, got [${v.join(", ")}]`);
  // Heads stay lm-rmsnorm-dyt's (module header): a width they do not divide into an even head dim (RoPE) is refused here.
  const badWidth = s.widths.find((w) => !Number.isInteger(w) || w % heads !== 0 || (w / heads) % 2 !== 0);
  if (badWidth !== undefined) throw new Error(`${LM_TO_FAILURE}: width ${badWidth} does not split into ${heads} heads of an even head dim (RoPE); pick widths that are multiples of ${2 * heads}`);
  if (ladder === "steps") return s.steps.map((b, i) => ({ ladder, index: i, budget: b, depth: base, width, id: i === 0 ? "base" : `x${b}` }));
  if (ladder === "depth") return s.depths.map((d, i) => ({ ladder, index: i, budget: 1, depth: d, width, id: i === 0 ? "base" : `d${d}` }));
  return s.widths.map((w, i) => ({ ladder, index: i, budget: 1, depth: base, width: w, id: i === 0 ? "base" : `w${w}` }));
}

/** lm-rmsnorm-dyt's base at another depth. */
function depthBase(scale: Scale, depth: number): LmRunBase {
  const lm = LM_RMSNORM_DYT_SCALES[scale];
  return { ...lm.base, model: { ...lm.base.model, depth } };
}

/** lm-rmsnorm-dyt's base at another width: depth, heads and budget unchanged; init std and DyT's α₀ follow the width when resolved. */
function widthBase(scale: Scale, width: number): LmRunBase {
  const lm = LM_RMSNORM_DYT_SCALES[scale];
  return { ...lm.base, model: { ...lm.base.model, dim: width } };
}

/** The base a rung's runs use (lm-rmsnorm-dyt's at the rung's depth, or at its width on the width ladder). */
function rungBase(scale: Scale, r: LadderRung): LmRunBase {
  return r.ladder === "width" ? widthBase(scale, r.width) : depthBase(scale, r.depth);
}

/** What every run at rung `r` shares (above the first rung): its base, axes and schedule; the ladder's and the re-tuned runs alike. */
function rungSpec(scale: Scale, r: LadderRung): { base: LmRunBase; axes: Job["axes"]; train: ReturnType<typeof epochSchedule> } {
  const base = rungBase(scale, r);
  const epochs = LM_RMSNORM_DYT_SCALES[scale].epochs * r.budget;
  const axes = { ladder: r.ladder, budget: r.budget, depth: r.depth, ...(r.ladder === "width" ? { width: r.width } : {}), epochs };
  return { base, axes, train: epochSchedule(epochs, base) };
}

/** The evaluation run of `a` on `seed` at rung `r`: lm-rmsnorm-dyt's own at the first rung. */
export function rungJob(scale: Scale, r: LadderRung, a: Arm, seed: number, lr: number, lmrLrs: Readonly<Record<string, ArmLr>>): Job<LmResolvedRun> {
  if (r.index === 0) return lmSharedEvalJob(LM_TO_FAILURE, scale, a, seed, lr, lmrLrs);
  const { base, axes, train } = rungSpec(scale, r);
  return armJob({ experiment: LM_TO_FAILURE, scale, base }, a, seed, { run: `${a.id}-${r.id}-s${seed}`, role: "eval", lr, axes, train });
}

/** What the recipe resolves at each rung of the width ladder for arm `a` (module header): heads, FFN width, init std, DyT's α₀ per slot. */
export interface WidthRecipe {
  rung: string;
  width: number;
  heads: number;
  ffnHidden: number;
  initStd: number;
  /** attention / FFN / final; absent for a non-DyT arm. */
  alpha0?: [number, number, number];
}

export function widthRecipes(s: LmToFailureScale, scale: Scale, a: Arm): WidthRecipe[] {
  return ladderRungs(s, scale, "width").map((r) => {
    const m = resolveLmRun(rungBase(scale, r), a, 0).model;
    const alpha0 = m.norm === "dyt" && m.alpha0Attn !== undefined ? { alpha0: [m.alpha0Attn, m.alpha0Ffn ?? NaN, m.alpha0Final ?? NaN] as [number, number, number] } : {};
    return { rung: r.id, width: m.dim, heads: m.heads, ffnHidden: m.ffnHidden, initStd: m.initStd, ...alpha0 };
  });
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
  /** Rungs with no saved runs when only saved results were loaded (cachedOnly): not yet run (the width ladder only). */
  notRun?: string[];
}

export interface LmToFailureSummary extends LmStudySummary {
  /** Every ladder climbed: steps and depth (R-to-failure (LM) reads these), then width (its own row, `width`). */
  ladders: LadderResult[];
  /** The re-tuned depth rung (module header), when the scale has one. */
  retuned?: RetunedRung;
  /** The width ladder's row, R-to-failure, width (LM) (amendment 2026-12-05); absent in summaries saved before it. */
  width?: WidthLadderRow;
  /** The re-tuned width rungs' row, R-to-failure, width re-tuned (LM) (amendment 2026-12-05, after the width ladder); absent in summaries saved before it. */
  widthRetuned?: WidthRetunedRow;
}

/** R-to-failure, width (LM): the row's outcome, the recipe at each width, and its statement. */
export interface WidthLadderRow {
  widths: number[];
  /** What DyT's recipe resolved at each rung (heads, init std, α₀). */
  recipe: WidthRecipe[];
  /** Rungs not yet run (no saved runs, cachedOnly); empty once the ladder has been climbed. */
  notRun: string[];
  verdict: Outcome;
  reason: string;
  statement: string;
}

/** A re-tuned rung (the depth rung, or one width rung): each candidate's tuning, the picks, and the rung rule on the picks' evaluation runs. */
export interface RetunedRung {
  depth: number;
  /** The model width; present on the width rungs only (amendment 2026-12-05). */
  width?: number;
  lrs: number[];
  /** Each candidate's lr pick, RMSNorm first, then DyT at each α₀ (the recipe's own first), with its α₀. */
  picks: (LrPick & { alpha0?: number })[];
  /** DyT's chosen candidate; absent when none learned. */
  dyt?: { arm: string; alpha0: number; lr: number; valBpb: number };
  /** RMSNorm's pick; absent when none learned. */
  norm?: { arm: string; lr: number; valBpb: number };
  /** The chosen picks at an edge of the lr grid, as text. */
  atEdge: string[];
  /** The rung rule on the picks' evaluation runs; absent when a norm learned on no tuning run. */
  rung?: RungResult;
  verdict: Outcome;
  reason: string;
  statement: string;
}

/** R-to-failure, width re-tuned (LM) (amendment 2026-12-05): each re-tuned width rung, those not yet run, and the row. */
export interface WidthRetunedRow {
  /** The re-tuned widths: every width rung above the first. */
  widths: number[];
  lrs: number[];
  seed: number;
  /** The re-tuned rungs whose runs exist (or were trained), each with its width. */
  rungs: RetunedRung[];
  /** Rungs ("w128") with missing runs when only saved results were loaded (cachedOnly). */
  notRun: string[];
  /** The picks at an edge of the lr grid, "w256: DyT (α₀ 1) at lr 0.03". */
  atEdge: string[];
  verdict: Outcome;
  reason: string;
  statement: string;
}

/** A rung tuned again: the rung, its lr grid and tuning seed, and DyT's α₀ candidates beside the recipe's own (none on the width rungs). */
export interface RetuneAt {
  rung: LadderRung;
  lrs: number[];
  alpha0s: number[];
  seed: number;
}

/** DyT's candidates at the re-tuned rung: the recipe itself (its own α₀ for the width), then one arm per extra α₀ (all three slots). */
export function retuneDytArms(dyt: Arm, alpha0s: readonly number[]): Arm[] {
  return [dyt, ...alpha0s.map((a) => dytAlpha0Arm(dyt, a))];
}

/** The depth-ladder rung that is re-tuned (it must be on the ladder, above its first rung). */
export function retuneRung(s: LmToFailureScale, scale: Scale): LadderRung {
  const rt = s.retune;
  if (!rt) throw new Error(`${LM_TO_FAILURE}: the ${scale} scale has no re-tuned rung`);
  const r = ladderRungs(s, scale, "depth").find((x) => x.depth === rt.depth && x.index > 0);
  if (!r) throw new Error(`${LM_TO_FAILURE}: the re-tuned depth ${rt.depth} is not a rung of the depth ladder above its first (${s.depths.slice(1).join(", ")}); pick one of those`);
  return r;
}

/** The re-tuned depth rung with its grid (`retune`). */
export function depthRetuneAt(s: LmToFailureScale, scale: Scale): RetuneAt {
  const rung = retuneRung(s, scale); // throws without `retune`
  const { lrs, alpha0s, seed } = s.retune!;
  return { rung, lrs, alpha0s, seed };
}

/** The re-tuned width rungs (amendment 2026-12-05): every width rung above the first, over `widthRetune`'s lrs, DyT at the recipe's α₀ only. */
export function widthRetuneAts(s: LmToFailureScale, scale: Scale): RetuneAt[] {
  const wt = s.widthRetune;
  if (!wt) throw new Error(`${LM_TO_FAILURE}: the ${scale} scale has no re-tuned width rungs`);
  return ladderRungs(s, scale, "width")
    .slice(1)
    .map((rung) => ({ rung, lrs: wt.lrs, alpha0s: [], seed: wt.seed }));
}

/**
 * A re-tuned rung's tuning runs: RMSNorm and every DyT candidate over the
 * lrs on the tuning seed, run ids "tune-<arm>-<rung>-lr<lr>-s<seed>" (rung
 * "d4", "w128"); the re-tuned depth rung unless `at` names another.
 */
export function retuneTuneJobs(s: LmToFailureScale, scale: Scale, arms: readonly [Arm, Arm], at: RetuneAt = depthRetuneAt(s, scale)): Job<LmResolvedRun>[] {
  const { base, axes, train } = rungSpec(scale, at.rung);
  return tuneJobs({ experiment: LM_TO_FAILURE, scale, base }, [arms[1], ...retuneDytArms(arms[0], at.alpha0s)], { lrs: at.lrs, seed: at.seed }, { suffix: at.rung.id, axes, train });
}

/**
 * An evaluation run at a re-tuned rung `r` (the re-tuned depth rung unless
 * given): the ladder's own run when the pick is the ladder's setting (its
 * arm at its lr), else "<arm>-<rung>-lr<lr>-s<seed>".
 */
export function retunedEvalJob(s: LmToFailureScale, scale: Scale, a: Arm, seed: number, lr: number, ladderLrs: Readonly<Record<string, ArmLr>>, r: LadderRung = retuneRung(s, scale)): Job<LmResolvedRun> {
  if (s.arms.includes(a.id) && ladderLrs[a.id]?.lr === lr) return rungJob(scale, r, a, seed, lr, ladderLrs);
  const { base, axes, train } = rungSpec(scale, r);
  return armJob({ experiment: LM_TO_FAILURE, scale, base }, a, seed, { run: `${a.id}-${r.id}-lr${lrId(lr)}-s${seed}`, role: "eval", lr, axes, train });
}

const pickBpb = (p: LrPick) => p.grid.find((g) => g.lr === p.bestLr)?.valBpb ?? NaN;

/** DyT's candidate (module header): the lowest validation bpb among those that learned; ties keep the earlier (the recipe's α₀). */
export function chooseDytCandidate(picks: readonly LrPick[]): LrPick | undefined {
  return picks.filter((p) => !p.noneLearned).reduce<LrPick | undefined>((best, p) => (!best || pickBpb(p) < pickBpb(best) ? p : best), undefined);
}

/** The outcome of a re-tuned rung from its rung result (module header). */
export function retunedVerdict(r: RungResult): { verdict: Outcome; reason: string } {
  const map: Record<RungOutcome, Outcome> = { holds: "supported", breaks: "not supported", inconclusive: "inconclusive", "not testable": "not testable" };
  return { verdict: map[r.outcome], reason: r.reason };
}

/** Tune both norms again at rung `at`, run the picks on the evaluation seeds, judge the rung against the first rung. */
async function runRetunedRung(ctx: ExperimentContext, s: LmToFailureScale, at: RetuneAt, seeds: readonly number[], arms: readonly [Arm, Arm], ladderLrs: Readonly<Record<string, ArmLr>>, first: RungResult, rules: ProtocolRules): Promise<{ records: LmProtocolRecord[]; retuned: RetunedRung }> {
  const r = at.rung;
  assertTuning({ lrs: at.lrs, seed: at.seed }, seeds, `${LM_TO_FAILURE} re-tuned rung ${r.id}`);
  const isWidth = r.ladder === "width";
  const where = isWidth ? `width ${r.width}` : `depth ${r.depth}`;
  // The depth rung is a row of its own; a width rung is one of its row's rungs (widthRetunedRow).
  const label = isWidth ? `${r.id} re-tuned` : "R-to-failure, depth re-tuned (LM)";
  const tuneJ = retuneTuneJobs(s, ctx.scale, arms, at);
  const tuned = await runJobs(tuneJ, ctx);
  const dytArms = retuneDytArms(arms[0], at.alpha0s);
  // α₀ as the runs resolved it (the recipe's own depends on the width); one value for all slots here.
  const alpha0Of = (id: string) => tuneJ.find((j) => j.resolved.arm === id)?.resolved.model.alpha0Attn ?? NaN;
  const picks = picksOf(tuned, [arms[1], ...dytArms], rules).map((p) => (p.arm === arms[1].id ? p : { ...p, alpha0: alpha0Of(p.arm) }));
  const normPick = picks[0]!;
  const dytPick = chooseDytCandidate(picks.slice(1));
  const base = { depth: r.depth, ...(isWidth ? { width: r.width } : {}), lrs: at.lrs, picks };
  const grid = `lrs ${at.lrs.join(", ")}; DyT α₀ ${dytArms.map((a) => alpha0Of(a.id)).join(", ")}`;
  const done = (records: LmProtocolRecord[], x: Omit<RetunedRung, keyof typeof base | "statement">): { records: LmProtocolRecord[]; retuned: RetunedRung } => {
    const pickText = [
      x.norm ? `RMSNorm picks lr ${x.norm.lr} (validation ${f3(x.norm.valBpb)} bpb)` : "RMSNorm learned on no tuning run",
      x.dyt ? `DyT picks α₀ ${x.dyt.alpha0}, lr ${x.dyt.lr} (validation ${f3(x.dyt.valBpb)} bpb)` : "DyT learned on no tuning run",
    ].join(", ");
    const edge = x.atEdge.length ? ` At the lr grid's edge: ${x.atEdge.join(", ")}.` : "";
    const statement = `${where[0]!.toUpperCase()}${where.slice(1)} re-tuned (seed ${at.seed}; ${grid}): ${pickText}${x.rung ? `; ${rungText(x.rung)}` : ""}. ${label}: ${x.verdict} (${x.reason}).${edge}`;
    return { records, retuned: { ...base, ...x, statement } };
  };
  if (normPick.noneLearned) return done(tuned, { atEdge: [], verdict: "not testable", reason: `RMSNorm learned on no tuning run at ${where}: the norm broke first` });
  const norm = { arm: arms[1].id, lr: normPick.bestLr, valBpb: pickBpb(normPick) };
  const edgeOf = (p: LrPick, who: string) => (p.atEdge ? [`${who} at lr ${p.bestLr}`] : []);
  if (!dytPick) return done(tuned, { norm, atEdge: edgeOf(normPick, "RMSNorm"), verdict: "not supported", reason: `DyT learned on no tuning run${at.alpha0s.length ? " (any α₀)" : ""} at ${where} where RMSNorm did: the rung breaks` });
  const dytArm = dytArms.find((a) => a.id === dytPick.arm)!;
  const dyt = { arm: dytArm.id, alpha0: alpha0Of(dytArm.id), lr: dytPick.bestLr, valBpb: pickBpb(dytPick) };
  const lrs: Record<string, ArmLr> = {
    [dytArm.id]: { lr: dyt.lr, note: `tuned at ${where}${at.alpha0s.length ? " with α₀" : ""}` },
    [arms[1].id]: { lr: norm.lr, note: `tuned at ${where}` },
  };
  const evals = await runJobs(seeds.flatMap((seed) => [retunedEvalJob(s, ctx.scale, dytArm, seed, dyt.lr, ladderLrs, r), retunedEvalJob(s, ctx.scale, arms[1], seed, norm.lr, ladderLrs, r)]), ctx);
  const rung = rungResult({ ...r, id: `${r.id}-retuned` }, evals, [dytArm, arms[1]], lrs, first, rules);
  return done([...tuned, ...evals], { norm, dyt, atEdge: [...edgeOf(normPick, "RMSNorm"), ...edgeOf(dytPick, `DyT (α₀ ${dyt.alpha0})`)], rung, ...retunedVerdict(rung) });
}

/**
 * R-to-failure, width re-tuned (LM) (module header): not testable at the
 * first rung (an arm did not learn there); not supported when a re-tuned
 * rung breaks (named; a break stands whatever is not yet run); not testable
 * while rungs are not yet run; supported when every re-tuned rung holds; not
 * testable when every one is; inconclusive otherwise. `x` undefined: not run
 * at all (a summary saved before the amendment). `scale` only names the
 * command that runs it.
 */
export function widthRetunedVerdict(x: { first: RungResult; rungs: readonly { id: string; verdict: Outcome; reason: string }[]; notRun: readonly string[] } | undefined, scale: Scale): { outcome: Outcome; reason: string } {
  const run = `run \`npm run exp -- ${LM_TO_FAILURE} --scale ${scale}\``;
  if (!x) return { outcome: "not testable", reason: `the re-tuned width rungs have not been run (${run})` };
  if (x.first.outcome !== "holds") return { outcome: "not testable", reason: `the first rung: ${x.first.reason}` };
  const broke = x.rungs.filter((r) => r.verdict === "not supported");
  if (broke.length) return { outcome: "not supported", reason: broke.map((r) => `${r.id} re-tuned broke (${r.reason})`).join("; ") };
  if (x.notRun.length) return { outcome: "not testable", reason: `not yet run: no saved ${scale} runs for re-tuned width rung(s) ${x.notRun.join(", ")} (${run})` };
  if (!x.rungs.length) return { outcome: "not testable", reason: "no width rung above the first to re-tune" };
  if (x.rungs.every((r) => r.verdict === "supported")) return { outcome: "supported", reason: `every re-tuned width rung held (${x.rungs.map((r) => r.id).join(", ")})` };
  const open = x.rungs.filter((r) => r.verdict !== "supported").map((r) => `${r.id} re-tuned: ${r.verdict} (${r.reason})`).join("; ");
  return { outcome: x.rungs.every((r) => r.verdict === "not testable") ? "not testable" : "inconclusive", reason: open };
}

/** The row from the re-tuned width rungs run (`done`, in width order) and those not yet run. */
export function widthRetunedRow(first: RungResult, done: readonly { at: RetuneAt; retuned: RetunedRung }[], notRun: readonly string[], s: LmToFailureScale, scale: Scale): WidthRetunedRow {
  const wt = s.widthRetune!;
  const { outcome, reason } = widthRetunedVerdict({ first, rungs: done.map((d) => ({ id: d.at.rung.id, verdict: d.retuned.verdict, reason: d.retuned.reason })), notRun }, scale);
  const widths = ladderRungs(s, scale, "width").slice(1).map((r) => r.width);
  const atEdge = done.flatMap((d) => d.retuned.atEdge.map((e) => `${d.at.rung.id}: ${e}`));
  const parts = [...done.map((d) => d.retuned.statement), ...(notRun.length ? [`Not yet run: ${notRun.join(", ")}.`] : [])];
  const lead = `Width ladder re-tuned (amendment 2026-12-05, written after the width ladder's runs were seen; width${widths.length > 1 ? "s" : ""} ${widths.join(", ")}, each norm's lr tuned again on seed ${wt.seed} over ${wt.lrs.join(", ")}, DyT at the recipe's α₀, no climb-stop)`;
  const statement = `${lead}: ${parts.join(" ") || "no width rung above the first."} R-to-failure, width re-tuned (LM): ${outcome} (${reason}).`;
  return { widths, lrs: [...wt.lrs], seed: wt.seed, rungs: done.map((d) => d.retuned), notRun: [...notRun], atEdge, verdict: outcome, reason, statement };
}

/** One rung's result from its own records (runJobs returns them in job order); `base` is the first rung's result. */
export function rungResult(r: LadderRung, records: readonly LmProtocolRecord[], arms: readonly [Arm, Arm], lrs: Readonly<Record<string, ArmLr>>, base: RungResult | undefined, rules: ProtocolRules = RULES): RungResult {
  const [d, n] = arms.map((a) => lmArmRuns(records, a, lrs[a.id], rules)) as [LmArmRuns, LmArmRuns];
  return { rung: r, steps: records[0]?.config.train.steps ?? 0, arms: [d, n], ...rungVerdict(d, n, base ? { d: base.arms[0], n: base.arms[1] } : undefined, rules) };
}

/** R-to-failure (LM) from the steps and depth ladders (module header); any width ladder passed is left out: it has its own row (widthVerdict). */
export function toFailureVerdict(ladders: readonly LadderResult[]): { outcome: Outcome; reason: string } {
  return laddersVerdict(ladders.filter((l) => TO_FAILURE_LADDERS.includes(l.ladder)));
}

/**
 * R-to-failure, width (LM) (the amendment of 2026-12-05): the rule of
 * R-to-failure (LM) on the width ladder alone, with one addition: a ladder
 * with rungs not yet run (cachedOnly, no saved runs) and no break below them
 * is not testable, and says so. `scale` only names the command that runs it.
 */
export function widthVerdict(l: LadderResult | undefined, scale: Scale): { outcome: Outcome; reason: string } {
  const run = `run \`npm run exp -- ${LM_TO_FAILURE} --scale ${scale}\``;
  if (!l || l.ladder !== "width") return { outcome: "not testable", reason: `the width ladder has not been run (${run})` };
  const v = laddersVerdict([l]);
  if (v.outcome === "not supported" || l.rungs[0]?.outcome !== "holds") return v;
  if (l.notRun?.length) return { outcome: "not testable", reason: `not yet run: no saved ${scale} runs for width rung(s) ${l.notRun.join(", ")} (${run})` };
  return v;
}

/** The pre-registered rule on a set of ladders sharing a first rung: not testable at the first rung, not supported at a break, supported when all hold. */
function laddersVerdict(ladders: readonly LadderResult[]): { outcome: Outcome; reason: string } {
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
  const width = r.rung.ladder === "width" ? `, width ${r.rung.width}` : "";
  return `${r.rung.id} (${r.steps} steps, depth ${r.rung.depth}${width}): DyT ${m(r.arms[0])}, RMSNorm ${m(r.arms[1])} bpb, gap per seed ${r.gap.map(s3).join(" / ")}${w}: ${r.outcome}`;
}

const ladderText = (l: LadderResult) =>
  `${l.ladder[0]!.toUpperCase()}${l.ladder.slice(1)} ladder: ${l.rungs.map(rungText).join("; ")}${l.skipped.length ? `; not trained above the break: ${l.skipped.join(", ")}` : ""}${l.notRun?.length ? `; not yet run: ${l.notRun.join(", ")}` : ""}.`;

/** The width ladder's row from its ladder (absent: not run) and the recipe of DyT's arm per width. */
export function widthLadderRow(l: LadderResult | undefined, s: LmToFailureScale, scale: Scale, dyt: Arm): WidthLadderRow {
  const { outcome, reason } = widthVerdict(l, scale);
  const recipe = widthRecipes(s, scale, dyt);
  const notRun = l?.notRun ?? (l ? [] : ladderRungs(s, scale, "width").slice(1).map((r) => r.id));
  const heads = [...new Set(recipe.map((r) => r.heads))].join("/");
  const rec = recipe.map((r) => `width ${r.width}: ${r.alpha0 ? `α₀ ${r.alpha0.join("/")}, ` : ""}init std ${r.initStd.toPrecision(3)}`).join("; ");
  const lead = `Width ladder (amendment 2026-12-05; widths ${s.widths.join(", ")} at depth ${ladderRungs(s, scale, "width")[0]!.depth} and the base budget, ${heads} heads; ${dyt.label} as the recipe resolves it per width, ${rec})`;
  const body = l ? ladderText(l).replace(/^Width ladder: /, ": ") : `: not run.`;
  const statement = `${lead}${body} R-to-failure, width (LM): ${outcome} (${reason}).`;
  return { widths: [...s.widths], recipe, notRun, verdict: outcome, reason, statement };
}

export function summarizeLmToFailure(ladders: LadderResult[], records: readonly LmProtocolRecord[], lrs: Readonly<Record<string, ArmLr>>, s: LmToFailureScale, scale: Scale): LmToFailureSummary {
  // R-to-failure (LM), its setup and statement: the steps and depth ladders only, as pre-registered; the width ladder has its own row.
  const main = ladders.filter((l) => TO_FAILURE_LADDERS.includes(l.ladder));
  const { outcome, reason } = toFailureVerdict(main);
  const lm = LM_RMSNORM_DYT_SCALES[scale];
  const setup = `${describeBase(lm.base, lm.epochs)}; ladders: budget x${s.steps.join(", x")} and depth ${s.depths.join(", ")}; each norm at its lr tuned in lm-rmsnorm-dyt (${s.arms.map((id) => `${resolveArm(id).label} ${lrs[id]?.lr}`).join(", ")}), not re-tuned per rung`;
  const baselines = lmTestBaselines(records.filter((r) => r.role === "eval"));
  const statement = main.map(ladderText).join(" ") + ` R-to-failure (LM): ${outcome} (${reason}).`;
  const width = widthLadderRow(ladders.find((l) => l.ladder === "width"), s, scale, resolveArm(s.arms[0]));
  return { experiment: LM_TO_FAILURE, scale, setup, baselines, ladders, verdict: outcome, reason, statement, width };
}

/** Climb every ladder rung by rung (each stops at its first break), then summarise. */
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
  // Every ladder shares its first rung (lm-rmsnorm-dyt's setting): train or load it once.
  const start = await climb(ladderRungs(s, ctx.scale, LADDERS[0]!)[0]!);
  const first = start.result;
  const records: LmProtocolRecord[] = [...start.records];
  const ladders: LadderResult[] = [];
  for (const ladder of LADDERS) {
    const rungs = ladderRungs(s, ctx.scale, ladder);
    const done: RungResult[] = [{ ...first, rung: rungs[0]! }];
    let brokeAt = first.outcome === "breaks" ? rungs[0]!.id : undefined;
    let notRun: string[] = [];
    for (const r of rungs.slice(1)) {
      if (brokeAt) break;
      let got: { records: LmProtocolRecord[]; result: RungResult };
      try {
        got = await climb(r, first);
      } catch (e) {
        // Loading saved results only: the width ladder (amendment 2026-12-05) may not have been run yet. Its
        // rungs from here up are "not yet run" and its row says so (as vit-fashion's unrun extra seeds); a
        // missing run of the other ladders still fails, as before.
        if (!(ladder === "width" && notYetRun(e, ctx))) throw e;
        notRun = rungs.slice(done.length).map((x) => x.id);
        break;
      }
      records.push(...got.records);
      done.push(got.result);
      if (got.result.outcome === "breaks") brokeAt = r.id;
    }
    ladders.push({ ladder, rungs: done, ...(brokeAt ? { brokeAt } : {}), skipped: notRun.length ? [] : rungs.slice(done.length).map((r) => r.id), ...(notRun.length ? { notRun } : {}) });
  }
  let retuned: RetunedRung | undefined;
  if (s.retune) {
    const got = await runRetunedRung(ctx, s, depthRetuneAt(s, ctx.scale), seeds, arms, lrs, first, rules);
    records.push(...got.records);
    retuned = got.retuned;
  }
  let widthRetuned: WidthRetunedRow | undefined;
  if (s.widthRetune) {
    // No climb-stop (module header): every width rung above the first is re-tuned, whatever a lower one gave.
    const done: { at: RetuneAt; retuned: RetunedRung }[] = [];
    const notRun: string[] = [];
    for (const at of widthRetuneAts(s, ctx.scale)) {
      try {
        const got = await runRetunedRung(ctx, s, at, seeds, arms, lrs, first, rules);
        records.push(...got.records);
        done.push({ at, retuned: got.retuned });
      } catch (e) {
        // Loading saved results only before this amendment's runs exist: the rung is "not yet run", as on the width ladder.
        if (!notYetRun(e, ctx)) throw e;
        notRun.push(at.rung.id);
      }
    }
    widthRetuned = widthRetunedRow(first, done, notRun, s, ctx.scale);
  }
  const summary = { ...summarizeLmToFailure(ladders, records, lrs, s, ctx.scale), ...(retuned ? { retuned } : {}), ...(widthRetuned ? { widthRetuned } : {}) };
  saveSummary(LM_TO_FAILURE, ctx.scale, summary);
  return { records, summary };
}
