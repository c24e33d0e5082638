/**
 * DiT with DyT (paper Table: DiT-B/4, L/4, XL/2 FID 64.9 / 45.9 / 19.9 with
 * LayerNorm, 63.9 / 45.7 / 20.8 with DyT; issue 13), under the protocol, on
 * the runner's "image-diffusion" task: a class-conditional DiT trained to
 * denoise Fashion-MNIST, three arms each at its own lr (tuned on the
 * validation denoising loss with a tuning seed), >= 3 evaluation seeds:
 *  - LayerNorm with adaLN-Zero (DiT as published);
 *  - DyT without adaLN-Zero (the paper's DyT arm: tanh(alpha x) in every
 *    norm slot, adaLN's scale and shift kept, its zero init dropped);
 *  - DyT with adaLN-Zero (a reviewer asked whether the paper's arm changed
 *    two things at once).
 * Claims (pre-registered 2026-12-04, before any run; rules.ditMatchFdRatio):
 *  - DIT-1 "DyT (no adaLN-Zero) matches LayerNorm" and DIT-2 "DyT +
 *    adaLN-Zero matches LayerNorm", each on the Fréchet distance of 1,000
 *    DDIM samples to 1,000 real test images in a ViT classifier's features
 *    (a proxy for FID), compared as ln FD, paired over seeds: A's FD at most
 *    10 % above B's. Every run must have learned (its samples recognised as
 *    their class at >= 28 %, classify.ts ditScore); seeds are added, up to 5,
 *    while a claim is inconclusive.
 * The test denoising loss, the share of samples recognised and the FD floor
 * (real training vs real test images) are reported beside the verdicts.
 */
import { saveSummary, type ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { resolveArm } from "../protocol/arms";
import { ditPlateaued, ditScore } from "../protocol/classify";
import { armSeeds, pairOverSeeds, runClassCounts, type ArmSeeds } from "../protocol/compare";
import type { DitRunBase } from "../protocol/dit-task";
import { describeBase } from "../protocol/jobs";
import { edgeSentence, finiteMeanStd, lrPolicySentence, type PairVerdict } from "../protocol/pretrain-probe";
import { RULES, type ProtocolRules } from "../protocol/rules";
import type { DitProtocolRecord } from "../protocol/runner";
import { armStudy, runArmStudy, studyLrs, type ArmLr, type ArmStudy, type LrPolicy } from "../protocol/study";
import type { LrPick } from "../protocol/tuning";
import type { Outcome, PairedEvidence } from "../protocol/verdict";
import { fixed, signed } from "../../util/format";

export const DIT_LN_DYT = "dit-ln-dyt";

/** [LayerNorm, the paper's DyT arm, DyT with adaLN-Zero]: DIT-1 compares the second with the first, DIT-2 the third. */
export const DIT_ARMS = ["layernorm", "dyt-dit", "dyt-dit-zero"] as const;

export interface DitScale {
  base: DitRunBase;
  /** Budget of every run (tuning and evaluation), in epochs over the training images used. */
  epochs: number;
  seeds: number[];
  extraSeeds: number[];
  lr: LrPolicy;
}

const TRAIN = { batchSize: 64, weightDecay: 0, clipNorm: 1.0 };

/**
 * Cost (this lab's 2-core machine, native engine, 2026-12-04, measured while
 * another training run shared the CPU): the width-64, depth-4 DiT (4×4
 * patches, 49 tokens, 330 k parameters) takes ~125-200 ms per step at batch
 * 64, and DDIM sampling ~25 ms per image at 20 steps for the 100-image
 * batches (so ~60 s for 1,000 images at 50 steps). Full: all 55,000 training
 * images, 2 epochs (1,719 steps, ~4-6 min) + sampling ~1 min per run; 3 arms
 * x (3 tuning lrs + 3 seeds) = 18 runs, ~1.6 h of CPU, ~0.9 h on 2 workers,
 * plus ~15 min per extra seed round; the classifier is committed
 * (results/fd-classifier/full/). These are extrapolations from per-step
 * costs, not timed end to end. Quick (a pipeline check): 10,000 images, 1
 * epoch (157 steps), 200 samples at 20 DDIM steps, a 1-epoch classifier on
 * 10,000 images. Smoke: a width-16, depth-1 DiT with 7×7 patches on 128
 * images, 20 samples at 3 steps.
 */
export const DIT_SCALES: Record<Scale, DitScale> = {
  smoke: {
    base: {
      task: "image-diffusion",
      model: { dim: 16, depth: 1, heads: 2, patchSize: 7, freqDim: 16 },
      train: { ...TRAIN, batchSize: 32, evalLimit: 64, evalBatchSize: 64 },
      data: { trainLimit: 128, testLimit: 64 },
      sample: { n: 20, steps: 3, seed: 0xd17, keepPerClass: 1, classifier: { store: "smoke", model: { dim: 16, depth: 1, heads: 2 }, trainLimit: 256, epochs: 1, lr: 3e-3, batchSize: 64, seed: 0 } },
    },
    epochs: 1,
    seeds: [1, 2],
    extraSeeds: [],
    lr: { kind: "tuned", tuning: { lrs: [1e-3, 4e-3], seed: 101 } },
  },
  quick: {
    base: {
      task: "image-diffusion",
      model: {},
      train: { ...TRAIN, evalLimit: 500 },
      data: { trainLimit: 10_000, testLimit: 1000 },
      sample: { n: 200, steps: 20, seed: 0xd17, keepPerClass: 4, classifier: { store: "quick", model: {}, trainLimit: 10_000, epochs: 1, lr: 1e-3, batchSize: 64, seed: 0 } },
    },
    epochs: 1,
    seeds: [1, 2],
    extraSeeds: [],
    lr: { kind: "tuned", tuning: { lrs: [1e-3, 3e-3], seed: 101 } },
  },
  full: {
    base: {
      task: "image-diffusion",
      model: {},
      train: { ...TRAIN, evalLimit: 1000 },
      data: { trainLimit: 0, testLimit: 0 },
      sample: { n: 1000, steps: 50, seed: 0xd17, keepPerClass: 8, classifier: { store: "full", model: {}, trainLimit: 0, epochs: 2, lr: 1e-3, batchSize: 64, seed: 0 } },
    },
    // Set by the budget probe's pre-written rule (sizing.ts; results/dit-ln-dyt-sizing/full/): LayerNorm at
    // lr 3e-3 first passed the learned rule at the 2-epoch mark (38.4 % of samples recognised, FD 19.85),
    // so the budget is 2 epochs and the grid 1e-3..1e-2. It was 3 epochs on 3e-4..3e-3 until the first run
    // (results/dit-ln-dyt/full-3-epochs-first-run/) found LN at 3e-4 not learning.
    epochs: 2,
    seeds: [1, 2, 3],
    extraSeeds: [4, 5],
    lr: { kind: "tuned", tuning: { lrs: [1e-3, 3e-3, 1e-2], seed: 101 } },
  },
};

export function ditStudy(s: DitScale): ArmStudy<DitRunBase> {
  return armStudy(DIT_LN_DYT, s, DIT_ARMS.map((a) => resolveArm(a)));
}

/** One arm's evaluation runs, by seed (accs: the share of samples recognised as their class, %). */
export interface DitArmRuns extends ArmSeeds {
  lrNote: string;
  /** Fréchet distance per seed, its ln (the claim's metric), and the floor (real train vs real test) per seed. */
  fds: number[];
  logFds: number[];
  fdFloors: number[];
  /** Test denoising loss (ε-MSE) per seed. */
  losses: number[];
  /** Relative fall of the validation denoising loss over the last third, and whether it plateaued (rules.ditPlateauRelative). */
  lateGain: number[];
  plateaued: boolean[];
  /** Mean final DyT alpha over layers and seeds (DyT arms). */
  meanFinalAlpha?: number;
  /** The classifier's test accuracy (%) and weights checksum (the same for every run of a machine). */
  classifier?: { testAcc: number; checksum: string };
  msPerStep: number;
}

export function ditArmRuns(records: readonly DitProtocolRecord[], armId: string, lr: ArmLr | undefined, rules: ProtocolRules = RULES): DitArmRuns {
  const rs = records.filter((r) => r.role === "eval" && r.arm === armId && (!lr || r.config.train.lr === lr.lr)).sort((x, y) => x.seed - y.seed);
  const base = armSeeds(rs, rules);
  const sc = (r: DitProtocolRecord) => (r.result.status === "completed" ? r.result.samples : undefined);
  const fds = rs.map((r) => sc(r)?.fd ?? NaN);
  const late = rs.map((r) => ditPlateaued(r.result.evals, rules));
  const alphas = rs.flatMap((r) => Object.values(r.result.finalAlpha ?? {}));
  const clf = rs.map(sc).find((s) => s)?.classifier;
  return {
    ...base,
    accs: rs.map((r) => 100 * ditScore(r, "test", rules).sampleAcc),
    lrNote: lr?.note ?? "",
    fds,
    logFds: fds.map((f) => Math.log(f)),
    fdFloors: rs.map((r) => sc(r)?.fdFloor ?? NaN),
    losses: rs.map((r) => ditScore(r, "test", rules).loss),
    lateGain: late.map((p) => p.gainRelative),
    plateaued: late.map((p) => p.plateaued),
    ...(alphas.length ? { meanFinalAlpha: alphas.reduce((s, v) => s + v, 0) / alphas.length } : {}),
    ...(clf ? { classifier: { testAcc: 100 * clf.testAcc, checksum: clf.checksum } } : {}),
    msPerStep: rs.length ? rs.reduce((s, r) => s + r.result.msPerStep, 0) / rs.length : NaN,
  };
}

/** "A matches B" on ln FD (lower is better), paired over seeds: A's FD at most rules.ditMatchFdRatio times B's. */
export function compareDitFd(a: DitArmRuns, b: DitArmRuns, rules: ProtocolRules = RULES): PairVerdict {
  return pairOverSeeds(a, b, "matches", rules, { values: (r) => r.logFds, metric: "Fréchet distance", units: "ln FD", margin: Math.log(rules.ditMatchFdRatio), lowerIsBetter: true });
}

export interface DitClaim {
  id: "DIT-1" | "DIT-2";
  verdict: Outcome;
  reason: string;
  evidence?: PairedEvidence;
  statement: string;
}

export interface DitSummary {
  experiment: string;
  scale: Scale;
  setup: string;
  /** [LayerNorm, DyT (no adaLN-Zero), DyT + adaLN-Zero]. */
  arms: [DitArmRuns, DitArmRuns, DitArmRuns];
  picks: LrPick[];
  claims: [DitClaim, DitClaim];
  allPlateaued: boolean;
  /** "DIT-1: inconclusive; DIT-2: supported". */
  verdict: string;
  statement: string;
}

const f2 = fixed(2);
const f3 = fixed(3);
const f4 = fixed(4);
const f1 = fixed(1);

/** "DyT 12.34 ± 0.56" style over the finite values. */
function ms(values: readonly number[], f: (x: number) => string): string {
  const m = finiteMeanStd(values);
  return m.n ? `${f(m.mean)} ± ${f(m.std)}` : "—";
}

/** "DyT (no adaLN-Zero) − LayerNorm ln FD: +0.041 [−0.050, +0.132] (n = 3; detectable 0.120), an FD ratio of ×1.042 [×0.951, ×1.141]": the evidence (B − A on ln FD) turned back into A − B. */
export function describeFdGap(e: PairedEvidence, a: string, b: string): string {
  const t = e.test;
  const s3 = signed(3);
  const ratio = (x: number) => `×${f3(Math.exp(x))}`;
  return `${a} − ${b} ln FD: ${s3(-t.mean)} [${s3(-t.ci[1])}, ${s3(-t.ci[0])}] (n = ${t.n}; detectable ${f3(t.detectable)}), an FD ratio of ${ratio(-t.mean)} [${ratio(-t.ci[1])}, ${ratio(-t.ci[0])}]`;
}

function armText(r: DitArmRuns): string {
  const alpha = r.meanFinalAlpha !== undefined ? `, final α ${f2(r.meanFinalAlpha)}` : "";
  return `${r.label} (lr ${r.lr}): FD ${ms(r.fds, f2)} (per seed ${r.fds.map(f2).join("/")}), samples recognised ${ms(r.accs, f1)} %, test denoising loss ${ms(r.losses, f4)}${alpha}; ${runClassCounts(r)}`;
}

export function summarizeDit(records: readonly DitProtocolRecord[], s: DitScale, scale: Scale, rules: ProtocolRules = RULES): DitSummary {
  const { picks, lrs } = studyLrs(ditStudy(s), records, rules);
  const arms = DIT_ARMS.map((id) => ditArmRuns(records, id, lrs[id], rules)) as [DitArmRuns, DitArmRuns, DitArmRuns];
  const [ln, dyt, dytZero] = arms;
  const claim = (id: DitClaim["id"], a: DitArmRuns): DitClaim => {
    const c = compareDitFd(a, ln, rules);
    // The pair's own picks: each claim names the grid edges of the two arms it compares.
    const edge = edgeSentence(picks.filter((p) => p.arm === a.arm || p.arm === ln.arm), a, ln);
    const ev = c.evidence ? `${describeFdGap(c.evidence, a.label, ln.label)}; "matches" means ${a.label}'s FD is at most ${rules.ditMatchFdRatio}× ${ln.label}'s.` : `No paired evidence (${c.reason}).`;
    return { id, verdict: c.outcome, reason: c.reason, ...(c.evidence ? { evidence: c.evidence } : {}), statement: `${id} (${a.label} vs ${ln.label}): ${c.outcome}. ${ev}${edge}` };
  };
  const claims: [DitClaim, DitClaim] = [claim("DIT-1", dyt), claim("DIT-2", dytZero)];
  const allPlateaued = arms.every((a) => a.plateaued.length > 0 && a.plateaued.every(Boolean));
  const floor = finiteMeanStd(arms.flatMap((a) => a.fdFloors));
  const clf = arms.find((a) => a.classifier)?.classifier;
  const plateau = allPlateaued
    ? `Every evaluation run's validation denoising loss fell by < ${100 * rules.ditPlateauRelative} % over its last third (plateaued).`
    : `Not every run plateaued (relative fall of the validation denoising loss over the last third: ${arms.map((a) => `${a.label} ${a.lateGain.map((g) => `${f1(100 * g)} %`).join("/")}`).join("; ")}; rule < ${100 * rules.ditPlateauRelative} %): the verdicts hold at this budget.`;
  const setup = `${describeBase(s.base, s.epochs)}; ${lrPolicySentence(s.lr, "validation denoising loss")}; DyT arms: tanh(αx) in every norm slot (DiT's norms have no affine), adaLN's scale and shift kept`;
  const head = `Per arm, mean ± std over seeds: ${arms.map(armText).join("; ")}. FD floor (real training vs real test images, same n): ${f2(floor.mean)}${clf ? `; the classifier: ViT, test accuracy ${f2(clf.testAcc)} %, weights ${clf.checksum}` : ""}.`;
  const statement = `${head} ${claims.map((c) => c.statement).join(" ")} ${plateau}`;
  return {
    experiment: DIT_LN_DYT,
    scale,
    setup,
    arms,
    picks,
    claims,
    allPlateaued,
    verdict: claims.map((c) => `${c.id}: ${c.verdict}`).join("; "),
    statement,
  };
}

/** Run (or load) tuning, evaluation seeds and, while a claim is inconclusive, extra seeds for its arms and LayerNorm; then summarise and save. */
export async function runDitLnDyt(ctx: ExperimentContext, override: Partial<DitScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: DitProtocolRecord[]; summary: DitSummary }> {
  const s: DitScale = { ...DIT_SCALES[ctx.scale], ...override };
  const inconclusive = (records: DitProtocolRecord[], lrs: Record<string, ArmLr>): string[] => {
    const ln = ditArmRuns(records, "layernorm", lrs.layernorm, rules);
    const open = (["dyt-dit", "dyt-dit-zero"] as const).filter((id) => compareDitFd(ditArmRuns(records, id, lrs[id], rules), ln, rules).outcome === "inconclusive");
    return open.length ? ["layernorm", ...open] : [];
  };
  const { records } = await runArmStudy(ctx, ditStudy(s), inconclusive, rules);
  const summary = summarizeDit(records, s, ctx.scale, rules);
  saveSummary(DIT_LN_DYT, ctx.scale, summary);
  return { records, summary };
}
