/**
 * Language-model experiment 1 (claim 2, LLM part): a LLaMA-style decoder
 * (pre-norm, RoPE, SwiGLU, no biases, untied head) with RMSNorm vs with DyT in
 * the paper's LLaMA recipe (gamma and no beta, alpha0 per slot for the width,
 * a learnable scalar after the embedding), next-byte prediction on the lab's
 * English text. Each arm runs at its own lr, tuned on validation bits per byte
 * with a tuning seed; the claim "DyT matches RMSNorm" is tested paired over
 * evaluation seeds on the final test bits per byte, with the margin in
 * rules.ts (lmMatchMarginBpb). Seeds are added (up to 5) while the comparison
 * is inconclusive. Runs are an arm study (protocol/study.ts) on an LM base.
 */
import { meanStd } from "../stats-lite";
import { saveSummary, type ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { resolveArm, type Arm, type ArmRef } from "../protocol/arms";
import { lmPlateaued } from "../protocol/classify";
import { armSeeds, pairOverSeeds, type ArmSeeds } from "../protocol/compare";
import { armJob, describeBase, epochSchedule, tuneJobs } from "../protocol/jobs";
import type { LmResolvedRun, LmRunBase } from "../protocol/lm-task";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { runJobs, type Job, type LmProtocolRecord } from "../protocol/runner";
import { armStudy, runArmStudy, studyEvalJob, studyLrs, type ArmLr, type ArmStudy, type StudyScale } from "../protocol/study";
import type { LrPick } from "../protocol/tuning";
import type { Outcome, PairedEvidence, Prediction } from "../protocol/verdict";
import { fixed, signed } from "../../util/format";

export const LM_RMSNORM_DYT = "lm-rmsnorm-dyt";

export interface LmRmsnormDytScale extends StudyScale<LmRunBase> {
  /** [A, B]: the claim is "A matches B" (DyT vs RMSNorm), on test bits per byte. */
  arms: [string, string];
}

const TRAIN = { weightDecay: 0.1, clipNorm: 1.0, evalBatchSize: 64 };
// Full grid: the first full tuning pass (1e-3, 3e-3, 1e-2) put DyT's pick at the top edge (val bpb
// 3.04, 2.80, 2.66), so the grid was widened to 1e-1 before any evaluation run; the tuning runs are reused.
const LRS = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1];

/**
 * Budgets are in epochs over the windows of the text train split (159,353
 * windows of 128 bytes at full and quick: 20.4 M tokens).
 *
 * Cost, measured 2026-12-02 on this lab's idle 2-core machine (native
 * engine, two runs side by side): width 64, depth 2, batch 32 x 128 tokens
 * ~0.25 s per step for either arm, batch 16 ~0.13 s. Full: 996 steps (0.2
 * epoch, 4.1 M tokens) x 0.25 s + evaluation = ~4.6 min per run (measured
 * 270-280 s); 20 runs (5 lrs x 2 arms tuning, 3 seeds x 2 arms, 2
 * extra seeds x 2 arms when the comparison is inconclusive) on 2 workers =
 * ~46 min (diverging runs stop early). At 1,600 steps and lr
 * 3e-3 (one seed, a budget probe) validation bpb was RMSNorm 2.56, DyT 2.66;
 * at 600 steps of batch 16, 2.96 and 3.01: the full budget sits where the
 * curves bend, affordable for 20 runs. Quick: 120 steps at batch 16, 12
 * runs, ~3 min on 2 workers. Smoke: a width-16 model on the first 4 k tokens
 * (one epoch: 16 steps), seconds.
 */
export const LM_RMSNORM_DYT_SCALES: Record<Scale, LmRmsnormDytScale> = {
  smoke: {
    base: {
      task: "lm-text",
      model: { dim: 16, depth: 1, heads: 2 },
      train: { ...TRAIN, batchSize: 8, evalLimit: 16, evalBatchSize: 16 },
      data: { seqLen: 32, trainTokens: 4097, testLimit: 16 },
    },
    arms: ["dyt-lm", "rmsnorm"],
    epochs: 1,
    seeds: [1, 2],
    extraSeeds: [],
    lr: { kind: "tuned", tuning: { lrs: [3e-3, 1e-2], seed: 101 } },
  },
  quick: {
    base: { task: "lm-text", model: { dim: 64, depth: 2, heads: 4 }, train: { ...TRAIN, batchSize: 16, evalLimit: 128 }, data: { seqLen: 128, testLimit: 512 } },
    arms: ["dyt-lm", "rmsnorm"],
    epochs: 0.012,
    seeds: [1, 2, 3],
    extraSeeds: [],
    lr: { kind: "tuned", tuning: { lrs: LRS, seed: 101 } },
  },
  full: {
    base: { task: "lm-text", model: { dim: 64, depth: 2, heads: 4 }, train: { ...TRAIN, batchSize: 32, evalLimit: 256 }, data: { seqLen: 128, testLimit: 1024 } },
    arms: ["dyt-lm", "rmsnorm"],
    epochs: 0.2,
    seeds: [1, 2, 3],
    extraSeeds: [4, 5],
    lr: { kind: "tuned", tuning: { lrs: LRS, seed: 101 } },
  },
};

/** The fields every LM study's summary shares: setup, test baselines, one verdict and its statement. */
export interface LmStudySummary {
  experiment: string;
  scale: Scale;
  setup: string;
  /** Context-free baselines of the scored test tokens (bits per byte). */
  baselines: { uniformBpb: number; unigramBpb: number };
  verdict: Outcome;
  reason: string;
  evidence?: PairedEvidence;
  statement: string;
}

/** One arm's evaluation runs, by seed. */
export interface LmArmRuns extends ArmSeeds {
  /** Final test bits per byte per seed (NaN where the run has none). */
  bpbs: number[];
  /** Validation-bpb fall over the last third of each run, and whether it plateaued (rules.lmPlateauBpb). */
  lateGain: number[];
  plateaued: boolean[];
  /** How its lr was chosen. */
  lrNote: string;
  /** Mean final DyT alpha over layers and seeds (DyT arms). */
  meanFinalAlpha?: number;
  params: number;
}

export interface LmRmsnormDytSummary {
  experiment: string;
  scale: Scale;
  setup: string;
  arms: [LmArmRuns, LmArmRuns];
  picks: LrPick[];
  /** Context-free baselines of the scored test tokens (bits per byte). */
  baselines: { uniformBpb: number; unigramBpb: number };
  /** Paired evidence on the negated bpb: the effect is B − A (RMSNorm − DyT; positive = DyT lower). */
  evidence?: PairedEvidence;
  allPlateaued: boolean;
  verdict: Outcome;
  reason: string;
  statement: string;
}

/** The study of one scale: the two arms, each at its tuned lr. */
export function lmStudy(s: LmRmsnormDytScale): ArmStudy<LmRunBase> {
  return armStudy(LM_RMSNORM_DYT, s, s.arms.map(resolveArm));
}

/** The comparison "A `prediction` B" (default "matches") on test bpb (lower is better), paired over seeds, margin rules.lmMatchMarginBpb. */
export function compareLmArms(a: LmArmRuns, b: LmArmRuns, rules: ProtocolRules = RULES, prediction: Prediction = "matches"): ReturnType<typeof pairOverSeeds> {
  return pairOverSeeds(a, b, prediction, rules, { values: (r) => r.bpbs, metric: "test bits per byte", units: "bpb", margin: rules.lmMatchMarginBpb, lowerIsBetter: true });
}

/** Context-free baselines of the scored test tokens (bits per byte), from any evaluation record; NaN when there is none. */
export function lmTestBaselines(records: readonly LmProtocolRecord[]): { uniformBpb: number; unigramBpb: number } {
  const t = records.find((r) => r.role === "eval")?.result.baselines.test;
  return t ? { uniformBpb: t.uniformBpb, unigramBpb: t.unigramBpb } : { uniformBpb: NaN, unigramBpb: NaN };
}

/** One arm's evaluation runs of an LM arm study, by seed (shared with lm-embed-scale). */
export function lmArmRuns(records: readonly LmProtocolRecord[], ref: ArmRef, lr: ArmLr | undefined, rules: ProtocolRules = RULES): LmArmRuns {
  const arm = resolveArm(ref);
  const rs = records.filter((r) => r.role === "eval" && r.arm === arm.id).sort((x, y) => x.seed - y.seed);
  const seeds: ArmSeeds = rs.length ? armSeeds(rs, rules) : { arm: arm.id, label: arm.label, lr: lr?.lr ?? NaN, seeds: [], accs: [], classes: [] };
  const late = rs.map((r) => lmPlateaued(r.result.evals, rules));
  const alphas = rs.flatMap((r) => (r.result.finalAlpha ? Object.values(r.result.finalAlpha) : []));
  return {
    ...seeds,
    bpbs: rs.map((r) => (r.result.status === "completed" && r.result.test ? r.result.test.bpb : NaN)),
    lateGain: late.map((x) => x.gainBpb),
    plateaued: late.map((x) => x.plateaued),
    lrNote: lr?.note ?? "",
    ...(alphas.length ? { meanFinalAlpha: alphas.reduce((x, y) => x + y, 0) / alphas.length } : {}),
    params: rs[0]?.result.params ?? 0,
  };
}

/**
 * A per-seed quantity derived from LM runs (an FP8 cost, a gap between two
 * arms) dressed as arm runs, so compareLmArms pairs it over `seeds` like test
 * bpb (lower is better). Every seed counts as learned: the caller has settled
 * failures before. `from` supplies the other fields (lr, notes).
 */
export function derivedLmRuns(from: LmArmRuns, label: string, seeds: readonly number[], values: readonly number[]): LmArmRuns {
  return { ...from, label, seeds: [...seeds], bpbs: [...values], classes: seeds.map(() => "learned"), accs: seeds.map(() => NaN) };
}

const f3 = fixed(3);
const s3 = signed(3);

/** "DyT − RMSNorm test bpb: −0.012 [−0.030, +0.006] (n = 3)": the evidence (B − A) turned back into A − B. */
export function describeBpbGap(e: PairedEvidence, a: string, b: string): string {
  const t = e.test;
  return `${a} − ${b} test bpb: ${s3(-t.mean)} [${s3(-t.ci[1])}, ${s3(-t.ci[0])}] (n = ${t.n}; detectable ${f3(t.detectable)} bpb)`;
}

export function summarizeLmRmsnormDyt(records: readonly LmProtocolRecord[], s: LmRmsnormDytScale, scale: Scale, rules: ProtocolRules = RULES): LmRmsnormDytSummary {
  const { picks, lrs } = studyLrs(lmStudy(s), records, rules);
  const [A, B] = s.arms;
  const a = lmArmRuns(records, A, lrs[A], rules);
  const b = lmArmRuns(records, B, lrs[B], rules);
  const { outcome, reason, evidence } = compareLmArms(a, b, rules);
  const allPlateaued = [a, b].every((r) => r.plateaued.length > 0 && r.plateaued.every(Boolean));
  const baselines = lmTestBaselines(records);
  const lrText = `lr tuned per arm on validation bpb (seed ${s.lr.kind === "tuned" ? s.lr.tuning.seed : "—"}, grid ${s.lr.kind === "tuned" ? s.lr.tuning.lrs.join(", ") : "shared"})`;
  const setup = `${describeBase(s.base, s.epochs)}; ${lrText}; DyT arm: γ only, α₀ attention/FFN/final ${anyDytAlpha(records)}, scalar after the embedding (init √d)`;
  const mean = (v: number[]) => meanStd(v.filter(Number.isFinite));
  const armText = (r: LmArmRuns) => {
    const m = mean(r.bpbs);
    return `${r.label} ${f3(m.mean)} ± ${f3(m.std)} bpb at lr ${r.lr}`;
  };
  const plateauText = allPlateaued
    ? `every run plateaued (validation bpb fell < ${rules.lmPlateauBpb} over its last third)`
    : `not every run plateaued (validation-bpb fall over the last third: ${[a, b].map((r) => `${r.label} ${r.lateGain.map(f3).join("/")}`).join(", ")}; rule < ${rules.lmPlateauBpb}): a verdict at this token budget, as the paper's are`;
  const statement =
    `Test bits per byte (mean ± std over seeds): ${armText(a)}, ${armText(b)}; unigram baseline ${f3(baselines.unigramBpb)}, uniform ${f3(baselines.uniformBpb)}. ` +
    (evidence ? `${describeBpbGap(evidence, a.label, b.label)}; "matches" means DyT's bpb is at most ${rules.lmMatchMarginBpb} above RMSNorm's. ` : `No paired evidence (${reason}). `) +
    `${plateauText[0]!.toUpperCase()}${plateauText.slice(1)}.`;
  return { experiment: LM_RMSNORM_DYT, scale, setup, arms: [a, b], picks, baselines, ...(evidence ? { evidence } : {}), allPlateaued, verdict: outcome, reason, statement };
}

function anyDytAlpha(records: readonly LmProtocolRecord[]): string {
  const m = records.find((r) => r.config.model.norm === "dyt")?.config.model;
  return m ? `${m.alpha0Attn}/${m.alpha0Ffn}/${m.alpha0Final}` : "—";
}

/**
 * This study's lr picks for `arms` (its arms) at one scale, from its tuning
 * runs (loaded, or run when missing): other LM studies run their arms at them.
 */
export async function lmRmsnormDytLrs(ctx: ExperimentContext, arms: readonly Arm[], rules: ProtocolRules = RULES): Promise<{ records: LmProtocolRecord[]; picks: LrPick[]; lrs: Record<string, ArmLr> }> {
  const lm = LM_RMSNORM_DYT_SCALES[ctx.scale];
  if (lm.lr.kind !== "tuned") throw new Error(`${LM_RMSNORM_DYT}: the ${ctx.scale} lr is not tuned, so there is no tuned lr to take`);
  const unknown = arms.filter((a) => !lm.arms.includes(a.id));
  if (unknown.length) throw new Error(`${LM_RMSNORM_DYT}: ${unknown.map((a) => a.id).join(", ")} not among its arms (${lm.arms.join(", ")}), so it has no tuned lr; pick one of them`);
  const records = await runJobs(tuneJobs({ experiment: LM_RMSNORM_DYT, scale: ctx.scale, base: lm.base }, [...arms], lm.lr.tuning, { axes: { epochs: lm.epochs }, train: epochSchedule(lm.epochs, lm.base) }), ctx);
  // The study restricted to `arms`: only their tuning runs were loaded.
  return { records, ...studyLrs({ ...lmStudy(lm), arms: [...arms] }, records, rules) };
}

/**
 * The evaluation run of `a` on `seed` at `lr` for `experiment`: this study's
 * own when it runs it (its arm, one of its evaluation seeds, its pick
 * `lmrLrs`), so another study reads it and never trains it twice; else a run
 * of `experiment` on this study's base and budget.
 */
export function lmSharedEvalJob(experiment: string, scale: Scale, a: Arm, seed: number, lr: number, lmrLrs: Readonly<Record<string, ArmLr>>): Job<LmResolvedRun> {
  const lm = LM_RMSNORM_DYT_SCALES[scale];
  if (lm.arms.includes(a.id) && lm.seeds.includes(seed) && lmrLrs[a.id]?.lr === lr) return studyEvalJob(lmStudy(lm), scale, a, seed, lr);
  return armJob({ experiment, scale, base: lm.base }, a, seed, { run: `${a.id}-s${seed}`, role: "eval", lr, axes: { epochs: lm.epochs }, train: epochSchedule(lm.epochs, lm.base) });
}

/** Run (or load) tuning, evaluation seeds and, while the comparison is inconclusive, extra seeds; then summarise. */
export async function runLmRmsnormDyt(ctx: ExperimentContext, override: Partial<LmRmsnormDytScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: LmProtocolRecord[]; summary: LmRmsnormDytSummary }> {
  const s: LmRmsnormDytScale = { ...LM_RMSNORM_DYT_SCALES[ctx.scale], ...override };
  const [A, B] = s.arms;
  const inconclusive = (records: LmProtocolRecord[], lrs: Record<string, ArmLr>) =>
    compareLmArms(lmArmRuns(records, A, lrs[A], rules), lmArmRuns(records, B, lrs[B], rules), rules).outcome === "inconclusive" ? [A, B] : [];
  const { records } = await runArmStudy(ctx, lmStudy(s), inconclusive, rules);
  const summary = summarizeLmRmsnormDyt(records, s, ctx.scale, rules);
  saveSummary(LM_RMSNORM_DYT, ctx.scale, summary);
  return { records, summary };
}
