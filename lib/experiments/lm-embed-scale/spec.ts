/**
 * Language-model ablation (issue 12): the learnable scalar after the
 * embedding. The paper's DyT-LLaMA multiplies the embedding output by a
 * learnable scalar initialised to sqrt(d) (paper.md, "The layer"); it says
 * the recipe needs it but reports no ablation. Here the LLaMA-style byte
 * LM of lm-rmsnorm-dyt (model, text, budget at each scale) runs as a 2 x 2:
 * {DyT (LLaMA recipe), RMSNorm} x {with the scalar, without it}.
 *
 * Pre-registered 2026-12-03, before any run of this study:
 *  - R-embed-scale (LM): "DyT-LLaMA needs its embedding scalar": DyT with the
 *    scalar beats DyT without it on final test bits per byte, paired over
 *    seeds (prediction "beats" on the negated bpb; refuted when the data
 *    exclude a gain of rules.lmMatchMarginBpb or more). Both arms must learn
 *    on every seed (protocol/classify.ts), else not testable.
 *  - Descriptive, no claim: RMSNorm with vs without the scalar (does the
 *    scalar matter without DyT?), the same paired gap reported beside.
 *  - lr: not tuned here. Every arm runs at 1e-2, lm-rmsnorm-dyt's tuned pick
 *    at full for both DyT and RMSNorm (grid 1e-3..1e-1;
 *    results/lm-rmsnorm-dyt/full/summary.json; a test checks they still
 *    agree). The ablated arms take their parent's lr, so the claim reads "at
 *    the recipe's lr": removing the scalar might move the best lr, which this
 *    budget cannot also tune.
 *  - Seeds 1-3; seeds 4 and 5 are added to the two DyT arms while R-embed-scale
 *    is inconclusive.
 *
 * Cost at full: planned from lm-rmsnorm-dyt's ~275 s per run (two side by
 * side) as ~28 min for 12 runs on 2 workers; measured 2026-12-03 on this
 * lab's 2-core machine: 428-486 s per run, 46 min for the 12 (no extra seeds
 * were called for).
 */
import { meanStd } from "../stats-lite";
import { saveSummary, type ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { arm, deriveArm, type Arm } from "../protocol/arms";
import { describeBase } from "../protocol/jobs";
import type { LmRunBase } from "../protocol/lm-task";
import { RULES, type ProtocolRules } from "../protocol/rules";
import type { LmProtocolRecord } from "../protocol/runner";
import { armStudy, runArmStudy, studyLrs, type ArmStudy, type StudyScale } from "../protocol/study";
import type { Outcome, PairedEvidence } from "../protocol/verdict";
import { compareLmArms, describeBpbGap, LM_RMSNORM_DYT_SCALES, lmArmRuns, lmTestBaselines, type LmArmRuns, type LmStudySummary } from "../lm-rmsnorm-dyt/spec";
import { fixed } from "../../util/format";

export const LM_EMBED_SCALE = "lm-embed-scale";

/** lm-rmsnorm-dyt's tuned pick at full, for both arms (the committed summary's picks). */
export const LM_EMBED_SCALE_LR = 1e-2;

/** The four arms: DyT with/without the scalar, RMSNorm without/with it. */
export const LM_EMBED_SCALE_ARMS: readonly Arm[] = [
  arm("dyt-lm"),
  deriveArm("dyt-lm", { id: "dyt-lm-no-scale", label: "DyT (LLaMA recipe), no embedding scalar", lm: { embedScale: false } }),
  arm("rmsnorm"),
  deriveArm("rmsnorm", { id: "rmsnorm-scale", label: "RMSNorm + embedding scalar", lm: { embedScale: true } }),
];

/** [with, without] per norm: the claim's pair and the descriptive one. */
export const DYT_PAIR = ["dyt-lm", "dyt-lm-no-scale"] as const;
export const RMSNORM_PAIR = ["rmsnorm-scale", "rmsnorm"] as const;

export type LmEmbedScaleScale = StudyScale<LmRunBase>;

const LMR = LM_RMSNORM_DYT_SCALES;
const shared = { kind: "shared" as const, lr: LM_EMBED_SCALE_LR, why: "lm-rmsnorm-dyt's tuned pick at full for DyT and RMSNorm; the ablated arms take their parent's lr" };

export const LM_EMBED_SCALE_SCALES: Record<Scale, LmEmbedScaleScale> = {
  smoke: { base: LMR.smoke.base, epochs: LMR.smoke.epochs, seeds: [1, 2], extraSeeds: [], lr: shared },
  quick: { base: LMR.quick.base, epochs: LMR.quick.epochs, seeds: [1, 2, 3], extraSeeds: [], lr: shared },
  full: { base: LMR.full.base, epochs: LMR.full.epochs, seeds: [1, 2, 3], extraSeeds: [4, 5], lr: shared },
};

export function lmEmbedScaleStudy(s: LmEmbedScaleScale): ArmStudy<LmRunBase> {
  return armStudy(LM_EMBED_SCALE, s, [...LM_EMBED_SCALE_ARMS], { axes: (a) => ({ norm: a.norm, embedScale: a.lm?.embedScale ? "learned" : "none" }) });
}

export interface LmEmbedScalePair {
  /** [with the scalar, without]. */
  arms: [LmArmRuns, LmArmRuns];
  outcome: Outcome;
  reason: string;
  evidence?: PairedEvidence;
}

export interface LmEmbedScaleSummary extends LmStudySummary {
  /** Every arm, in LM_EMBED_SCALE_ARMS order. */
  arms: LmArmRuns[];
  /** The claim: DyT with vs without the scalar. */
  dyt: LmEmbedScalePair;
  /** Descriptive: RMSNorm with vs without the scalar. */
  rmsnorm: LmEmbedScalePair;
}

const f3 = fixed(3);

/** "With beats without" on test bpb, refuted when the data exclude a gain >= rules.lmMatchMarginBpb. */
function pair(arms: readonly LmArmRuns[], ids: readonly [string, string], rules: ProtocolRules): LmEmbedScalePair {
  const [a, b] = ids.map((id) => arms.find((r) => r.arm === id)!) as [LmArmRuns, LmArmRuns];
  const { outcome, reason, evidence } = compareLmArms(a, b, rules, "beats");
  return { arms: [a, b], outcome, reason, ...(evidence ? { evidence } : {}) };
}

/** Every arm's evaluation runs, in LM_EMBED_SCALE_ARMS order. */
function armRuns(records: readonly LmProtocolRecord[], study: ArmStudy<LmRunBase>, lrs: ReturnType<typeof studyLrs>["lrs"], rules: ProtocolRules): LmArmRuns[] {
  return study.arms.map((a) => lmArmRuns(records, a, lrs[a.id], rules));
}

function pairText(p: LmEmbedScalePair): string {
  const [a, b] = p.arms;
  const m = (r: LmArmRuns) => {
    const v = meanStd(r.bpbs.filter(Number.isFinite));
    return `${r.label} ${f3(v.mean)} ± ${f3(v.std)} bpb (${r.classes.filter((c) => c === "learned").length}/${r.classes.length} learned)`;
  };
  return `${m(a)} vs ${m(b)}${p.evidence ? `; ${describeBpbGap(p.evidence, a.label, b.label)}` : ` (no paired evidence: ${p.reason})`}`;
}

export function summarizeLmEmbedScale(records: readonly LmProtocolRecord[], s: LmEmbedScaleScale, scale: Scale, rules: ProtocolRules = RULES): LmEmbedScaleSummary {
  const study = lmEmbedScaleStudy(s);
  const { lrs } = studyLrs(study, records, rules);
  const arms = armRuns(records, study, lrs, rules);
  const dyt = pair(arms, DYT_PAIR, rules);
  const rmsnorm = pair(arms, RMSNORM_PAIR, rules);
  const baselines = lmTestBaselines(records);
  const setup = `${describeBase(s.base, s.epochs)}; every arm at lr ${LM_EMBED_SCALE_LR} (${shared.why}); scalar init √d = ${f3(Math.sqrt(s.base.model.dim ?? NaN))}`;
  const statement =
    `Test bits per byte (mean ± std over seeds; unigram ${f3(baselines.unigramBpb)}). DyT: ${pairText(dyt)}. ` +
    `RMSNorm (descriptive): ${pairText(rmsnorm)}. "Needs the scalar" means DyT's bpb is lower with it; the claim is refuted when the data exclude a gain of ${rules.lmMatchMarginBpb} bpb or more.`;
  return { experiment: LM_EMBED_SCALE, scale, setup, arms, dyt, rmsnorm, baselines, verdict: dyt.outcome, reason: dyt.reason, ...(dyt.evidence ? { evidence: dyt.evidence } : {}), statement };
}

/** Run (or load) the 2 x 2 at the shared lr, adding seeds to the DyT pair while the claim is inconclusive; then summarise. */
export async function runLmEmbedScale(ctx: ExperimentContext, override: Partial<LmEmbedScaleScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: LmProtocolRecord[]; summary: LmEmbedScaleSummary }> {
  const s: LmEmbedScaleScale = { ...LM_EMBED_SCALE_SCALES[ctx.scale], ...override };
  const study = lmEmbedScaleStudy(s);
  const needsMore = (records: LmProtocolRecord[], lrs: ReturnType<typeof studyLrs>["lrs"]) => (pair(armRuns(records, study, lrs, rules), DYT_PAIR, rules).outcome === "inconclusive" ? [...DYT_PAIR] : []);
  const { records } = await runArmStudy(ctx, study, needsMore, rules);
  const summary = summarizeLmEmbedScale(records, s, ctx.scale, rules);
  saveSummary(LM_EMBED_SCALE, ctx.scale, summary);
  return { records, summary };
}
