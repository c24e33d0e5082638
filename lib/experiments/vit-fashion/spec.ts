/**
 * Claim 1 (paper Table 1) under the protocol: a ViT with LayerNorm vs with
 * DyT on Fashion-MNIST, each at its own lr (tuned on validation with a tuning
 * seed), over a budget ladder in epochs, paired over evaluation seeds. The
 * claim is judged at the largest budget at which every run learned and
 * plateaued; the ladder shows how the gap depends on the budget, and a
 * secondary row keeps the shared recipe (DyT at LayerNorm's tuned lr).
 */
import { VIT_SMALL } from "../sizes";
import type { Scale } from "../scale";
import * as fs from "fs";
import { MissingResultError, saveSummary, type ExperimentContext } from "../runner";
import { resolveArm } from "../protocol/arms";
import { plateaued } from "../protocol/classify";
import { armSeeds, pairOverSeeds, type ArmSeeds } from "../protocol/compare";
import { armJob } from "../protocol/jobs";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { recordFile, runJobs, type Job, type ProtocolRecord } from "../protocol/runner";
import { budgetSchedule, trainSize, type RunBase } from "../protocol/task";
import { assertTuning, lrId, pickLr, type LrPick, type LrTuningConfig } from "../protocol/tuning";
import { describeEffect, type Outcome, type PairedEvidence } from "../protocol/verdict";

export const VIT_FASHION = "vit-fashion";

export interface VitFashionScale {
  base: RunBase;
  /** [A, B]: the claim is "A matches B" (DyT vs LayerNorm). */
  arms: [string, string];
  /** The budget ladder, in epochs over the training images used. */
  epochs: number[];
  /** lr grid and tuning seed; rungs above `upToEpochs` reuse the pick of the largest tuned rung. */
  tuning: LrTuningConfig & { upToEpochs: number };
  /** Evaluation seeds; `extraSeeds` are added to a rung while its comparison is inconclusive. */
  seeds: number[];
  extraSeeds: number[];
  /** Secondary row: A at B's tuned lr (the shared recipe), at this rung. */
  sharedLrEpochs?: number;
}

const TRAIN = { batchSize: 64, weightDecay: 0.05, clipNorm: 1.0 };

/**
 * The ladder runs on the lab's small ViT (width 32, 2 blocks, 2 heads) and the
 * first 20,000 training images: 30 epochs of it cost ~5 min per run on 2 cores (100 epochs ~16 min),
 * which is what makes 30- and 100-epoch rungs with paired seeds affordable.
 */
export const VIT_FASHION_SCALES: Record<Scale, VitFashionScale> = {
  smoke: {
    base: { model: { ...VIT_SMALL }, train: { ...TRAIN, batchSize: 32, evalLimit: 256 }, data: { trainLimit: 1000, testLimit: 500 } },
    arms: ["dyt", "layernorm"],
    epochs: [0.5, 1],
    tuning: { lrs: [1e-3, 4e-3], seed: 101, upToEpochs: 0.5 },
    seeds: [1, 2],
    extraSeeds: [],
    sharedLrEpochs: 0.5,
  },
  quick: {
    base: { model: { ...VIT_SMALL }, train: { ...TRAIN, evalLimit: 2000 }, data: { trainLimit: 20_000, testLimit: 0 } },
    arms: ["dyt", "layernorm"],
    epochs: [1, 3],
    tuning: { lrs: [1e-3, 4e-3, 1.6e-2], seed: 101, upToEpochs: 3 },
    seeds: [1, 2, 3],
    extraSeeds: [],
    sharedLrEpochs: 1,
  },
  full: {
    base: { model: { ...VIT_SMALL }, train: { ...TRAIN, evalLimit: 0 }, data: { trainLimit: 20_000, testLimit: 0 } },
    arms: ["dyt", "layernorm"],
    epochs: [1, 3, 10, 30, 100],
    tuning: { lrs: [5e-4, 1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2, 3.2e-2, 6.4e-2], seed: 101, upToEpochs: 10 },
    seeds: [1, 2, 3],
    extraSeeds: [4, 5],
    sharedLrEpochs: 3,
  },
};

/** Schedule settings that scale with a budget: 5 % warmup, 10 evals, ~300 log lines. */
export function budgetTrain(epochs: number, s: VitFashionScale): ReturnType<typeof budgetSchedule> {
  return budgetSchedule(epochs, s.base.data, s.base.train.batchSize ?? 64);
}

function eId(epochs: number): string {
  return `e${String(epochs).replace(".", "p")}`;
}

function job(s: VitFashionScale, scale: Scale, armId: string, epochs: number, seed: number, lr: number, role: Job["role"], run: string): Job {
  return armJob({ experiment: VIT_FASHION, scale, base: s.base }, resolveArm(armId), seed, { run, role, lr, axes: { epochs }, train: budgetTrain(epochs, s) });
}

export interface ArmRung extends ArmSeeds {
  /** Validation-accuracy gain (points) over the last third of each run, and whether it plateaued. */
  lateGain: number[];
  plateaued: boolean[];
}

export interface Rung {
  epochs: number;
  steps: number;
  /** Whether this rung's lrs were tuned at this budget (else taken from the largest tuned rung). */
  tunedHere: boolean;
  arms: [ArmRung, ArmRung];
  evidence?: PairedEvidence;
  outcome: Outcome;
  reason: string;
  /** The 95 % CI of A - B contains 0. */
  withinNoise: boolean;
  allLearned: boolean;
  allPlateaued: boolean;
}

export interface VitFashionSummary {
  experiment: string;
  scale: Scale;
  setup: string;
  rungs: Rung[];
  picks: (LrPick & { epochs: number })[];
  /** The rung the claim is judged at (largest where all runs learned and plateaued), if any. */
  claimEpochs?: number;
  /** Smallest budget at which the gap is within noise; null when none was. */
  smallestWithinNoise: number | null;
  shared?: Rung;
  /** Rungs (epochs) whose inconclusive comparison called for extra seeds that were not run. */
  extraSeedsNotRun?: number[];
  verdict: Outcome;
  reason: string;
  statement: string;
}

/** Run (or load) the whole ladder: tuning, evaluation seeds, extra seeds where inconclusive. */
export async function runVitFashion(ctx: ExperimentContext, override: Partial<VitFashionScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: ProtocolRecord[]; summary: VitFashionSummary }> {
  const s: VitFashionScale = { ...VIT_FASHION_SCALES[ctx.scale], ...override };
  const seeds = ctx.seeds ?? s.seeds;
  assertTuning(s.tuning, [...seeds, ...s.extraSeeds], VIT_FASHION);
  const tuned = s.epochs.filter((e) => e <= s.tuning.upToEpochs);
  if (!tuned.length) throw new Error(`${VIT_FASHION}: tuning.upToEpochs ${s.tuning.upToEpochs} is below every rung [${s.epochs.join(", ")}]; tune at least the first rung`);
  const t = s.tuning.seed;
  const tuneJobs = tuned.flatMap((e) => s.arms.flatMap((a) => s.tuning.lrs.map((lr) => job(s, ctx.scale, a, e, t, lr, "tune", `tune-${a}-${eId(e)}-lr${lrId(lr)}-s${t}`))));
  const tuneRecs = await runJobs(tuneJobs, ctx);
  const picks = tuned.flatMap((e) =>
    s.arms.map((a) => ({ ...pickLr(a, tuneRecs.filter((r) => r.arm === a && r.axes.epochs === e), rules), epochs: e })),
  );
  const lrFor = (a: string, e: number) => {
    const from = Math.max(...tuned.filter((x) => x <= e));
    return picks.find((p) => p.arm === a && p.epochs === from)!.bestLr;
  };
  const evalJob = (a: string, e: number, seed: number) => job(s, ctx.scale, a, e, seed, lrFor(a, e), "eval", `${a}-${eId(e)}-s${seed}`);
  const [A, B] = s.arms;
  const sharedJob = (e: number, seed: number) => job(s, ctx.scale, A, e, seed, lrFor(B, e), "eval", `${A}-at-${B}-lr-${eId(e)}-s${seed}`);

  const records: ProtocolRecord[] = [...tuneRecs];
  const base = s.epochs.flatMap((e) => seeds.flatMap((seed) => s.arms.map((a) => evalJob(a, e, seed))));
  const shared = s.sharedLrEpochs !== undefined ? seeds.map((seed) => sharedJob(s.sharedLrEpochs!, seed)) : [];
  records.push(...(await runJobs([...base, ...shared], ctx)));
  // Seeds are added (up to the rules' maximum) to every rung whose comparison is still inconclusive.
  const extra = s.extraSeeds.slice(0, Math.max(0, rules.maxSeeds - seeds.length));
  let missingExtra: number[] = [];
  if (extra.length) {
    const more = s.epochs.filter((e) => rungOf(records, s, e, ctx.scale, rules, lrFor).outcome === "inconclusive").flatMap((e) => extra.flatMap((seed) => s.arms.map((a) => evalJob(a, e, seed))));
    if (more.length) {
      try {
        records.push(...(await runJobs(more, ctx)));
      } catch (e) {
        // Loading saved results only: a rung whose extra seeds were never run is judged on the seeds it has, and says so.
        if (!(ctx.cachedOnly && e instanceof MissingResultError)) throw e;
        const have = more.filter((j) => fs.existsSync(recordFile(j)));
        if (have.length) records.push(...(await runJobs(have, ctx)));
        missingExtra = [...new Set(more.filter((j) => !have.includes(j)).map((j) => j.axes.epochs as number))];
      }
    }
  }
  const summary = summarizeVitFashion(records, s, ctx.scale, rules);
  if (missingExtra.length) {
    summary.extraSeedsNotRun = missingExtra;
    summary.statement += ` Extra seeds were called for but not run at ${missingExtra.join(", ")} epochs (those rungs are judged on the seeds they have).`;
  }
  saveSummary(VIT_FASHION, ctx.scale, summary);
  return { records, summary };
}

function armRung(recs: ProtocolRecord[], armId: string, lr: number, rules: ProtocolRules): ArmRung {
  const rs = recs.slice().sort((x, y) => x.seed - y.seed);
  const seeds: ArmSeeds = rs.length ? armSeeds(rs, rules) : { arm: armId, label: resolveArm(armId).label, lr, seeds: [], accs: [], classes: [] };
  const late = rs.map((r) => plateaued(r.result.evals, rules));
  return { ...seeds, lr, lateGain: late.map((x) => x.gainPoints), plateaued: late.map((x) => x.plateaued) };
}

/** One rung's comparison of A with B (eval records only), paired over the seeds both have. */
function compareRung(a: ArmRung, b: ArmRung, epochs: number, steps: number, tunedHere: boolean, rules: ProtocolRules): Rung {
  const { outcome, reason, evidence } = pairOverSeeds(a, b, "matches", rules);
  const allLearned = [a, b].every((r) => r.classes.every((c) => c === "learned"));
  const allPlateaued = [a, b].every((r) => r.plateaued.every(Boolean));
  const withinNoise = evidence ? evidence.test.ci[0] <= 0 && evidence.test.ci[1] >= 0 : false;
  return { epochs, steps, tunedHere, arms: [a, b], ...(evidence ? { evidence } : {}), outcome, reason, withinNoise, allLearned, allPlateaued };
}

function rungOf(records: ProtocolRecord[], s: VitFashionScale, e: number, scale: Scale, rules: ProtocolRules, lrFor: (a: string, e: number) => number): Rung {
  const [A, B] = s.arms;
  const evals = records.filter((r) => r.role === "eval" && r.axes.epochs === e && !r.run.includes("-at-"));
  const a = armRung(evals.filter((r) => r.arm === A), A, lrFor(A, e), rules);
  const b = armRung(evals.filter((r) => r.arm === B), B, lrFor(B, e), rules);
  void scale;
  return compareRung(a, b, e, budgetTrain(e, s).steps, e <= s.tuning.upToEpochs, rules);
}

export function summarizeVitFashion(records: ProtocolRecord[], s: VitFashionScale, scale: Scale, rules: ProtocolRules = RULES): VitFashionSummary {
  const tuned = s.epochs.filter((e) => e <= s.tuning.upToEpochs);
  const picks = tuned.flatMap((e) => s.arms.map((a) => ({ ...pickLr(a, records.filter((r) => r.role === "tune" && r.arm === a && r.axes.epochs === e), rules), epochs: e })));
  const lrFor = (a: string, e: number) => picks.find((p) => p.arm === a && p.epochs === Math.max(...tuned.filter((x) => x <= e)))!.bestLr;
  const rungs = s.epochs.map((e) => rungOf(records, s, e, scale, rules, lrFor));
  const [A, B] = s.arms;
  let shared: Rung | undefined;
  if (s.sharedLrEpochs !== undefined) {
    const e = s.sharedLrEpochs;
    const sa = armRung(records.filter((r) => r.run.startsWith(`${A}-at-${B}-lr-`)), A, lrFor(B, e), rules);
    const sb = rungs.find((r) => r.epochs === e)!.arms[1];
    shared = compareRung(sa, sb, e, budgetTrain(e, s).steps, true, rules);
  }
  const usable = rungs.filter((r) => r.allLearned && r.allPlateaued && r.evidence);
  const claim = usable.at(-1);
  const within = rungs.find((r) => r.withinNoise);
  const m = s.base.model;
  const setup = `ViT width ${m.dim}, depth ${m.depth}, ${m.heads} heads, 7×7 patches; first ${trainSize(s.base.data).toLocaleString("en")} training images; AdamW, batch ${s.base.train.batchSize}, warmup 5 % + cosine; budgets ${s.epochs.join(", ")} epochs; lr tuned per arm on validation (seed ${s.tuning.seed}, grid ${s.tuning.lrs.join(", ")}; rungs above ${s.tuning.upToEpochs} epochs reuse the ${s.tuning.upToEpochs}-epoch pick)`;
  let verdict: Outcome;
  let reason: string;
  if (claim) {
    verdict = claim.outcome;
    reason = `at ${claim.epochs} epochs: ${claim.reason}`;
  } else {
    verdict = "not testable";
    const top = rungs.at(-1);
    reason = !top
      ? "no rungs were run"
      : !rungs.some((r) => r.allLearned)
        ? "no rung where both arms learned on every seed"
        : `no rung where every run plateaued (rule: validation accuracy rose < ${rules.plateauPoints} point over the last third of the run; at ${top.epochs} epochs the gains were ${top.arms.map((a) => `${a.label} ${a.lateGain.map((g) => g.toFixed(2)).join("/")}`).join(", ")})`;
  }
  const statement = ladderStatement(rungs, claim, within, shared);
  return { experiment: VIT_FASHION, scale, setup, rungs, picks, ...(claim ? { claimEpochs: claim.epochs } : {}), smallestWithinNoise: within ? within.epochs : null, ...(shared ? { shared } : {}), verdict, reason, statement };
}

function ladderStatement(rungs: Rung[], claim: Rung | undefined, within: Rung | undefined, shared: Rung | undefined): string {
  const parts = rungs.map((r) => `${r.epochs} ep: ${r.evidence ? describeEffect(r.evidence) : `not testable (${r.reason})`}`);
  const [la, lb] = rungs[0]?.arms.map((a) => a.label) ?? ["A", "B"];
  let out = `${la} − ${lb} test accuracy by budget, each at its tuned lr: ${parts.join("; ")}.`;
  const tested = rungs.filter((r) => r.evidence);
  out += within
    ? ` The smallest budget at which the gap is within noise (95 % CI contains 0) is ${within.epochs} epoch${within.epochs === 1 ? "" : "s"}, where the test could detect only effects of ${within.evidence!.test.detectable.toFixed(2)} points or more.`
    : tested.length
      ? ` At no tested budget (${tested.map((r) => r.epochs).join(", ")} epochs) is the gap within noise (the 95 % CI excludes 0).`
      : " No budget gives paired evidence (see each rung's reason).";
  if (claim) out += ` Judged at ${claim.epochs} epochs, the largest budget where every run learned and plateaued.`;
  if (shared?.evidence) out += ` At ${lb}'s lr (${shared.arms[0].lr}) instead of its own, ${la} − ${lb} at ${shared.epochs} epochs is ${describeEffect(shared.evidence)}.`;
  return out;
}
