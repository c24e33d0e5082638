/**
 * FP8 training of the language model (issue 12, experiment 5): the
 * LLaMA-style byte LM of lm-rmsnorm-dyt (its model, text and budget at each
 * scale) trained with every block Linear in emulated FP8 (E4M3 forward, E5M2
 * backward, per-tensor current scaling; lib/ops/fp8-matmul.ts), for DyT in
 * the paper's LLaMA recipe and for RMSNorm. The embedding, head, norms and
 * attention products stay fp32, as in common FP8 recipes. Evaluation runs
 * the trained model the same way (its matmuls in FP8).
 *
 * Pre-registered 2026-12-03, before any FP8 run:
 *  - R-fp8-train (LM): "FP8 training costs DyT no more than RMSNorm": per
 *    seed, each norm's cost is its FP8 run's final test bpb minus its fp32
 *    run's; DyT's cost is at most rules.lmMatchMarginBpb above RMSNorm's,
 *    paired over seeds (prediction "matches" on the negated cost).
 *    Divergence is a result, not a gap: if on some seed an arm's FP8 run
 *    did not learn (protocol/classify.ts) where its fp32 run learned, the row
 *    reads "not supported" when only DyT's did so, "supported" when only
 *    RMSNorm's did, "not testable" when both did, and "not testable" when an
 *    fp32 run did not learn.
 *  - Descriptive: each norm's FP8 cost (paired gap), divergences, curves.
 *  - lr: every run at its norm's lr tuned in lm-rmsnorm-dyt (full: 1e-2 for
 *    both), not re-tuned for FP8: the question is what switching the matmuls
 *    to FP8 does to a tuned recipe.
 *  - Reuse: the fp32 runs on seeds 1-3 are lm-rmsnorm-dyt's evaluation runs.
 *    Seeds 4 and 5 are added to all four arms while the claim is inconclusive.
 */
import { meanStd } from "../stats-lite";
import { saveSummary, type ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { deriveArm, resolveArm, type Arm } from "../protocol/arms";
import { describeBase } from "../protocol/jobs";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { runJobs, type LmProtocolRecord } from "../protocol/runner";
import { extraSeedsFor, type ArmLr } from "../protocol/study";
import type { Outcome, PairedEvidence } from "../protocol/verdict";
import { compareLmArms, derivedLmRuns, describeBpbGap, LM_RMSNORM_DYT_SCALES, lmArmRuns, lmRmsnormDytLrs, lmSharedEvalJob, lmTestBaselines, type LmArmRuns, type LmStudySummary } from "../lm-rmsnorm-dyt/spec";
import { fixed, signed } from "../../util/format";

export const LM_FP8_TRAIN = "lm-fp8-train";

/** The FP8 arm of a norm arm: the same recipe with its block Linears in FP8. */
export function fp8Arm(id: string): Arm {
  const a = resolveArm(id);
  return deriveArm(id, { id: `${id}-fp8`, label: `${a.label}, FP8 matmuls`, lm: { ...a.lm, matmul: "fp8" } });
}

export interface LmFp8Scale {
  /** [DyT, norm]: the claim compares DyT's FP8 cost with the norm's. Both are lm-rmsnorm-dyt arms. */
  arms: [string, string];
  seeds: number[];
  extraSeeds: number[];
}

export const LM_FP8_SCALES: Record<Scale, LmFp8Scale> = {
  smoke: { arms: ["dyt-lm", "rmsnorm"], seeds: [1, 2], extraSeeds: [] },
  quick: { arms: ["dyt-lm", "rmsnorm"], seeds: [1, 2, 3], extraSeeds: [] },
  full: { arms: ["dyt-lm", "rmsnorm"], seeds: [1, 2, 3], extraSeeds: [4, 5] },
};

/** One norm's fp32 and FP8 runs, and its FP8 cost per seed. */
export interface Fp8Pair {
  arm: string;
  label: string;
  lr: number;
  fp32: LmArmRuns;
  fp8: LmArmRuns;
  /** Seeds with both runs, and FP8 − fp32 test bpb on each (NaN where either has none). */
  seeds: number[];
  cost: number[];
  /** Seeds where the FP8 run did not learn (diverged or stayed near unigram) while the fp32 run learned. */
  fp8Failed: number[];
  /** Seeds where the fp32 run did not learn. */
  fp32Failed: number[];
  /** Paired FP8 − fp32 gap (descriptive). */
  gap: { outcome: Outcome; reason: string; evidence?: PairedEvidence };
}

/** `evidence` is the paired test on the costs (DyT vs the norm), when the rule reached it. */
export interface LmFp8Summary extends LmStudySummary {
  /** [DyT, norm]. */
  pairs: [Fp8Pair, Fp8Pair];
}

const f3 = fixed(3);
const s3 = signed(3);

function fp8Pair(records: readonly LmProtocolRecord[], id: string, lr: ArmLr | undefined, rules: ProtocolRules): Fp8Pair {
  const fp32 = lmArmRuns(records, id, lr, rules);
  const fp8 = lmArmRuns(records, fp8Arm(id), lr, rules);
  const seeds = fp32.seeds.filter((s) => fp8.seeds.includes(s));
  const at = (r: LmArmRuns, s: number) => r.seeds.indexOf(s);
  const cost = seeds.map((s) => fp8.bpbs[at(fp8, s)]! - fp32.bpbs[at(fp32, s)]!);
  const learned = (r: LmArmRuns, s: number) => r.classes[at(r, s)] === "learned";
  const { outcome, reason, evidence } = compareLmArms(fp8, fp32, rules, "matches");
  return {
    arm: id,
    label: fp32.label,
    lr: fp32.lr,
    fp32,
    fp8,
    seeds,
    cost,
    fp8Failed: seeds.filter((s) => learned(fp32, s) && !learned(fp8, s)),
    fp32Failed: seeds.filter((s) => !learned(fp32, s)),
    gap: { outcome, reason, ...(evidence ? { evidence } : {}) },
  };
}

/** The pre-registered rule: failures first, then the paired test on the costs. */
export function fp8Verdict(d: Fp8Pair, n: Fp8Pair, rules: ProtocolRules = RULES): { outcome: Outcome; reason: string; evidence?: PairedEvidence } {
  const fp32Failed = [d, n].filter((p) => p.fp32Failed.length);
  if (fp32Failed.length) return { outcome: "not testable", reason: fp32Failed.map((p) => `${p.label}'s fp32 run did not learn on seed(s) ${p.fp32Failed.join(", ")}`).join("; ") };
  const fails = (p: Fp8Pair) => `${p.label}'s FP8 run did not learn on seed(s) ${p.fp8Failed.join(", ")} where its fp32 run learned`;
  if (d.fp8Failed.length && n.fp8Failed.length) return { outcome: "not testable", reason: `${fails(d)}; ${fails(n)}` };
  if (d.fp8Failed.length) return { outcome: "not supported", reason: `${fails(d)}; ${n.label}'s FP8 runs all learned` };
  if (n.fp8Failed.length) return { outcome: "supported", reason: `${fails(n)}; ${d.label}'s FP8 runs all learned` };
  // Costs as arm results: the paired test reads bpbs (lower is better) and classes (all learned here).
  const asRuns = (p: Fp8Pair): LmArmRuns => derivedLmRuns(p.fp8, `${p.label} FP8 cost`, p.seeds, p.cost);
  const { outcome, reason, evidence } = compareLmArms(asRuns(d), asRuns(n), rules, "matches");
  return { outcome, reason, ...(evidence ? { evidence } : {}) };
}

export function summarizeLmFp8(records: readonly LmProtocolRecord[], lrs: Readonly<Record<string, ArmLr>>, s: LmFp8Scale, scale: Scale, rules: ProtocolRules = RULES): LmFp8Summary {
  const evals = records.filter((r) => r.role === "eval");
  const [d, n] = s.arms.map((id) => fp8Pair(evals, id, lrs[id], rules)) as [Fp8Pair, Fp8Pair];
  const { outcome, reason, evidence } = fp8Verdict(d, n, rules);
  const baselines = lmTestBaselines(evals);
  const lm = LM_RMSNORM_DYT_SCALES[scale];
  const setup = `${describeBase(lm.base, lm.epochs)}; FP8: every block Linear (q/k/v, output, gate/up, down) in emulated FP8, E4M3 operands forward and E5M2 incoming gradient backward, each scaled per tensor by its current amax; embedding, head, norms and attention products fp32; evaluation in the same format; each norm at its lr tuned in lm-rmsnorm-dyt (${s.arms.map((id) => `${resolveArm(id).label} ${lrs[id]?.lr}`).join(", ")}), not re-tuned for FP8`;
  const pairText = (p: Fp8Pair) => {
    const m = (r: LmArmRuns) => {
      const v = meanStd(r.bpbs.filter(Number.isFinite));
      return `${f3(v.mean)} ± ${f3(v.std)} (${r.classes.filter((c) => c === "learned").length}/${r.classes.length} learned)`;
    };
    const cost = p.cost.filter(Number.isFinite);
    return `${p.label}: fp32 ${m(p.fp32)}, FP8 ${m(p.fp8)} bpb; FP8 cost per seed ${p.cost.map(s3).join(" / ")}${cost.length ? ` (mean ${s3(meanStd(cost).mean)})` : ""}`;
  };
  const costText = evidence ? `${describeBpbGap(evidence, `${d.label} FP8 cost`, `${n.label} FP8 cost`)}; ` : "";
  const statement =
    `Test bits per byte (mean ± std over seeds; unigram ${f3(baselines.unigramBpb)}). ${pairText(d)}. ${pairText(n)}. ${costText}` +
    `"Costs DyT no more" means DyT's FP8 cost is at most ${rules.lmMatchMarginBpb} bpb above ${n.label}'s.`;
  return { experiment: LM_FP8_TRAIN, scale, setup, pairs: [d, n], baselines, verdict: outcome, reason, ...(evidence ? { evidence } : {}), statement };
}

/** Run (or load) the FP8 runs and their fp32 counterparts on the seeds (extra seeds while inconclusive); summarise. */
export async function runLmFp8(ctx: ExperimentContext, override: Partial<LmFp8Scale> = {}, rules: ProtocolRules = RULES): Promise<{ records: LmProtocolRecord[]; summary: LmFp8Summary }> {
  const s: LmFp8Scale = { ...LM_FP8_SCALES[ctx.scale], ...override };
  if (s.arms.length !== 2 || s.arms[0] === s.arms[1]) throw new Error(`${LM_FP8_TRAIN}: give two different norm arms [DyT, norm], got ${s.arms.join(", ")}`);
  const seeds = ctx.seeds ?? s.seeds;
  if (seeds.length === 0) throw new Error(`${LM_FP8_TRAIN}: no seeds given; pass at least one (e.g. --seed 1)`);
  const norms = s.arms.map(resolveArm);
  const { lrs } = await lmRmsnormDytLrs(ctx, norms, rules);
  // Per seed each norm's fp32 run (lm-rmsnorm-dyt's where it has it), then its FP8 run; seed-major so a partial run pairs.
  const arms = norms.flatMap((a) => [a, fp8Arm(a.id)].map((x) => ({ arm: x, lr: lrs[a.id]!.lr })));
  const jobs = (ss: number[]) => ss.flatMap((seed) => arms.map(({ arm, lr }) => lmSharedEvalJob(LM_FP8_TRAIN, ctx.scale, arm, seed, lr, lrs)));
  const records = await runJobs(jobs(seeds), ctx);
  const extra = extraSeedsFor(ctx, s.extraSeeds, seeds, rules);
  if (extra.length && summarizeLmFp8(records, lrs, s, ctx.scale, rules).verdict === "inconclusive") records.push(...(await runJobs(jobs(extra), ctx)));
  const summary = summarizeLmFp8(records, lrs, s, ctx.scale, rules);
  saveSummary(LM_FP8_TRAIN, ctx.scale, summary);
  return { records, summary };
}
