/**
 * Schedule sizing for wav2vec-ln-dyt, run on the tuning seed before the study
 * (the spec's "Schedule" paragraph asks for it): each arm at the full budget
 * and one lr from the middle of the tuning grid, with the lab's default
 * schedule (5 % warmup + cosine to 1 % of the peak) and with warmup + constant
 * lr (`minLrRatio: 1`). Its records go to results/wav2vec-ln-dyt-sizing/ (a
 * separate experiment: nothing of it enters the claims).
 *
 * DECISION RULE, written 2026-12-02 before any sizing run: the study keeps the
 * default cosine schedule unless some arm's sizing run learns (protocol
 * class on its last validation eval: strict contrastive accuracy) under
 * constant lr but not under cosine; then the study switches to warmup +
 * constant, for both arms. The budget is not changed by the sizing (no
 * compute for a longer one today): an arm that learns under neither schedule
 * is reported here, and the claims will say "not testable" if its evaluation
 * runs do not learn either.
 *
 * BUDGET PROBE (`--sizing budget`, added 2026-12-02 after the schedule sizing
 * above showed every arm at chance at the full budget, 764 steps): each arm
 * under warmup + constant lr 2e-3 for 2.5x that budget (0.5 epoch), on the
 * tuning seed, to see whether and when each leaves chance. Descriptive: it
 * sizes the budget of a later study and decides nothing by itself.
 *
 * CODEBOOK PROBE (`--sizing codebook`, added 2026-12-02 after the budget probe
 * above; descriptive, decides nothing by itself): each arm under warmup +
 * constant lr 2e-3 for the study's budget (0.2 epoch) on the tuning seed, with
 * G x V = 2 x 8 codewords instead of 2 x 32, everything else as the study.
 * Why this change: exploratory diagnostics (seed 7 draws, not saved; the
 * recorded probe is the evidence) at V = 32 found that within 100 steps the
 * projected targets of a window point almost the same way (mean pairwise
 * cosine 0.95) and the context stops varying over time, so every candidate
 * scores alike and the loss sits at ln(K + 1); at eval the argmax codes were
 * almost unique per masked step (135 of 168 distinct), i.e. targets no
 * context could predict. With V = 8 codes repeat across neighbouring steps
 * and the LN arm left chance there after ~400 steps.
 *
 * ALPHA0 PROBE (`--sizing alpha0`, added 2026-12-05 after amendment 2's
 * study had tuned DyT: all four of its tuning runs (alpha0 0.5, lr 5e-4 ..
 * 4e-3) stayed at chance with the codebook perplexity at 64.0 of 64, i.e. a
 * flat quantizer softmax whose Gumbel choices are noise; descriptive,
 * decides nothing and changes no claim): the quantizer reads the feature
 * norm's output, which DyT at alpha0 0.5 maps to about half the scale
 * LayerNorm gives (tanh(0.5 x) ~ 0.5 x), and the trained alpha there fell to
 * ~0.42. The probe asks whether a larger alpha0 (1 and 2, every transformer
 * norm slot) lets DyT leave chance: each at the study's amended full setting
 * (1 epoch, batch 16, cosine), lr 2e-3, the tuning seed.
 *
 * FEATURE-NORM PROBE (`--sizing featnorm`, added 2026-12-05 after the alpha0
 * probe's alpha0 1 run also stayed at chance; descriptive, decides nothing):
 * the DyT arm (alpha0 0.5) with LayerNorm kept in the feature norm only, so
 * the quantizer and the transformer's input see what the LayerNorm arm's
 * do, and DyT in every block norm and the final norm. Same setting as the
 * alpha0 probe. It asks whether the quantizer's input is where DyT fails.
 */
import { saveSummary, type ExperimentContext } from "../runner";
import { deriveArm, resolveArm, type ArmRef } from "../protocol/arms";
import { learnedThreshold, speechScore, type RunClass } from "../protocol/classify";
import { armJob, epochSchedule } from "../protocol/jobs";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { runJobs, type SpeechProtocolRecord } from "../protocol/runner";
import { lrId } from "../protocol/tuning";
import type { Wav2VecConfig } from "../../models/wav2vec";
import { WAV2VEC_SCALES, WAV2VEC_SCALES_V1, type Wav2VecScale } from "./spec";

export const WAV2VEC_SIZING = "wav2vec-ln-dyt-sizing";
/** The sizing lr: the middle of the full tuning grid (5e-4 .. 4e-3, 2x apart). */
export const SIZING_LR = 2e-3;
export const SIZING_SCHEDULES = { cosine: {}, constant: { minLrRatio: 1 } } as const;
export type SizingSchedule = keyof typeof SIZING_SCHEDULES;

export interface SizingRun {
  arm: string;
  schedule: SizingSchedule;
  status: string;
  /** Validation evals: step, loss (ties counted), strict accuracy (%). */
  evals: { step: number; loss: number; strictAcc: number }[];
  /** First eval step at or above the learned threshold (undefined: never). */
  firstLearnedStep?: number;
  finalClass: RunClass;
  msPerStep: number;
}

export interface SizingSummary {
  experiment: string;
  lr: number;
  seed: number;
  steps: number;
  learnedAcc: number;
  runs: SizingRun[];
  /** The schedule the decision rule picks, and why. */
  schedule: SizingSchedule;
  why: string;
}

/** One sizing job: arm `id` at SIZING_LR on the tuning seed, `epochs` of training under `schedule`. */
function sizingJob(s: Wav2VecScale, scale: ExperimentContext["scale"], id: ArmRef, schedule: SizingSchedule, epochs: number, run: (seed: number) => string, axes: Record<string, string | number>, model?: Partial<Wav2VecConfig>) {
  if (s.lr.kind !== "tuned") throw new Error(`${WAV2VEC_SIZING}: the scale has no tuning seed`);
  const seed = s.lr.tuning.seed;
  return armJob({ experiment: WAV2VEC_SIZING, scale, base: s.base }, resolveArm(id), seed, { run: run(seed), role: "tune", lr: SIZING_LR, axes, train: { ...epochSchedule(epochs, s.base), ...SIZING_SCHEDULES[schedule] }, ...(model ? { model } : {}) });
}

export function sizingJobs(s: Wav2VecScale, scale: ExperimentContext["scale"]) {
  return s.arms.flatMap((id) => (Object.keys(SIZING_SCHEDULES) as SizingSchedule[]).map((k) => sizingJob(s, scale, id, k, s.epochs, (seed) => `size-${id}-${k}-lr${lrId(SIZING_LR)}-s${seed}`, { schedule: k })));
}

/** Budget of the budget probe, epochs (2.5x the study's full budget). */
export const BUDGET_PROBE_EPOCHS = 0.5;

/** The budget probe's jobs: each arm, warmup + constant lr, BUDGET_PROBE_EPOCHS. */
export function budgetProbeJobs(s: Wav2VecScale, scale: ExperimentContext["scale"], epochs = BUDGET_PROBE_EPOCHS) {
  return s.arms.map((id) => sizingJob(s, scale, id, "constant", epochs, (seed) => `budget-${id}-constant-${epochs}ep-lr${lrId(SIZING_LR)}-s${seed}`, { schedule: "constant", epochs }));
}

/** Codewords per group in the codebook probe (the study's default is 32). */
export const CODEBOOK_PROBE_ENTRIES = 8;

/** The codebook probe's jobs: each arm, warmup + constant lr, the study's budget, CODEBOOK_PROBE_ENTRIES codewords per group. */
export function codebookProbeJobs(s: Wav2VecScale, scale: ExperimentContext["scale"]) {
  const v = CODEBOOK_PROBE_ENTRIES;
  return s.arms.map((id) => sizingJob(s, scale, id, "constant", s.epochs, (seed) => `codebook-${id}-v${v}-constant-lr${lrId(SIZING_LR)}-s${seed}`, { schedule: "constant", codebook: v }, { quantEntries: v }));
}

/** alpha0 values of the alpha0 probe (the study's DyT arm uses 0.5). */
export const ALPHA0_PROBE_VALUES = [1, 2] as const;

/** The alpha0 probe's jobs: DyT at each ALPHA0_PROBE_VALUES, the study's amended scale, cosine, SIZING_LR, the tuning seed. */
export function alpha0ProbeJobs(s: Wav2VecScale, scale: ExperimentContext["scale"]) {
  return ALPHA0_PROBE_VALUES.map((a0) => {
    const a = deriveArm("dyt", { id: `dyt-a${a0}`, label: `DyT α₀ ${a0}`, normOptions: { alpha0: a0 } });
    return sizingJob(s, scale, a, "cosine", s.epochs, (seed) => `alpha0-dyt-a${a0}-cosine-lr${lrId(SIZING_LR)}-s${seed}`, { schedule: "cosine", alpha0: a0 });
  });
}

/** Each probe run's final test strict accuracy (%), codebook perplexity and share of distractors equal to their target (NaN where it did not complete). */
function probeTestScores(records: readonly SpeechProtocolRecord[]): CodebookProbeSummary["test"] {
  return records.map((r) => {
    const t = r.result.status === "completed" ? r.result.test : undefined;
    return { arm: r.arm, strictAcc: 100 * (t?.strictAcc ?? NaN), perplexity: t?.perplexity ?? NaN, distractorsEqual: t?.distractorsEqual ?? NaN };
  });
}

/** The learned threshold of the strict accuracy (%) for the records' K distractors. */
function learnedAccOf(records: readonly SpeechProtocolRecord[], rules: ProtocolRules): number {
  return 100 * learnedThreshold((records[0]?.config.model.numNegatives ?? NaN) + 1, rules);
}

/** Each sizing run's curve and when it first reached the learned threshold. */
export function sizingRuns(records: readonly SpeechProtocolRecord[], rules: ProtocolRules = RULES): SizingRun[] {
  const thr = learnedAccOf(records, rules);
  return records.map((r): SizingRun => {
    const evals = r.result.evals.map((e) => ({ step: e.step, loss: e.loss, strictAcc: 100 * ((e as { strictAcc?: number }).strictAcc ?? NaN) }));
    const hit = evals.find((e) => e.strictAcc >= thr);
    return { arm: r.arm, schedule: r.axes.schedule as SizingSchedule, status: r.result.status, evals, ...(hit ? { firstLearnedStep: hit.step } : {}), finalClass: speechScore(r, "val", rules).class, msPerStep: r.result.msPerStep };
  });
}

/** The decision rule of the file comment, on the sizing records. */
export function summarizeSizing(records: readonly SpeechProtocolRecord[], s: Wav2VecScale, rules: ProtocolRules = RULES): SizingSummary {
  const first = records[0];
  const runs = sizingRuns(records, rules);
  const learned = (arm: string, k: SizingSchedule) => runs.some((r) => r.arm === arm && r.schedule === k && r.finalClass === "learned");
  const switchers = s.arms.filter((a) => learned(a, "constant") && !learned(a, "cosine"));
  const state = s.arms.map((a) => `${resolveArm(a).label}: cosine ${learned(a, "cosine") ? "learned" : "did not learn"}, constant ${learned(a, "constant") ? "learned" : "did not learn"}`).join("; ");
  const schedule: SizingSchedule = switchers.length ? "constant" : "cosine";
  const why = switchers.length
    ? `${switchers.map((a) => resolveArm(a).label).join(", ")} learned only under constant lr (${state}): the study uses warmup + constant`
    : `no arm learned only under constant lr (${state}): the study keeps the default cosine schedule`;
  return { experiment: WAV2VEC_SIZING, lr: SIZING_LR, seed: first?.seed ?? NaN, steps: first?.config.train.steps ?? NaN, learnedAcc: learnedAccOf(records, rules), runs, schedule, why };
}

export interface BudgetProbeSummary {
  experiment: string;
  lr: number;
  seed: number;
  epochs: number;
  steps: number;
  learnedAcc: number;
  runs: SizingRun[];
}

export async function runWav2VecBudgetProbe(ctx: ExperimentContext, rules: ProtocolRules = RULES): Promise<{ records: SpeechProtocolRecord[]; summary: BudgetProbeSummary }> {
  const s = WAV2VEC_SCALES_V1[ctx.scale];
  const records = (await runJobs(budgetProbeJobs(s, ctx.scale), ctx)) as unknown as SpeechProtocolRecord[];
  const summary: BudgetProbeSummary = { experiment: WAV2VEC_SIZING, lr: SIZING_LR, seed: records[0]?.seed ?? NaN, epochs: BUDGET_PROBE_EPOCHS, steps: records[0]?.config.train.steps ?? NaN, learnedAcc: learnedAccOf(records, rules), runs: sizingRuns(records, rules) };
  saveSummary(WAV2VEC_SIZING, ctx.scale, summary, "budget-summary.json");
  return { records, summary };
}

export interface CodebookProbeSummary extends BudgetProbeSummary {
  /** Codeword groups and codewords per group (G x V). */
  groups: number;
  entries: number;
  /** Final test strict accuracy (%), codebook perplexity (max G·V) and share of distractors equal to their target, per run. */
  test: { arm: string; strictAcc: number; perplexity: number; distractorsEqual: number }[];
}

export async function runWav2VecCodebookProbe(ctx: ExperimentContext, rules: ProtocolRules = RULES): Promise<{ records: SpeechProtocolRecord[]; summary: CodebookProbeSummary }> {
  const s = WAV2VEC_SCALES_V1[ctx.scale];
  const records = (await runJobs(codebookProbeJobs(s, ctx.scale), ctx)) as unknown as SpeechProtocolRecord[];
  const test = probeTestScores(records);
  const summary: CodebookProbeSummary = { experiment: WAV2VEC_SIZING, lr: SIZING_LR, seed: records[0]?.seed ?? NaN, epochs: s.epochs, steps: records[0]?.config.train.steps ?? NaN, learnedAcc: learnedAccOf(records, rules), runs: sizingRuns(records, rules), groups: records[0]?.config.model.quantGroups ?? NaN, entries: CODEBOOK_PROBE_ENTRIES, test };
  saveSummary(WAV2VEC_SIZING, ctx.scale, summary, "codebook-summary.json");
  return { records, summary };
}

export interface Alpha0ProbeSummary extends CodebookProbeSummary {
  /** alpha0 per run, and the trained alpha of the feature norm (layer_norm) at the end (NaN where it is a LayerNorm). */
  alpha0: number[];
  featureNormAlpha: number[];
}

/** The feature-norm probe's job: DyT (alpha0 0.5) with LayerNorm in the feature norm, the study's amended scale, cosine, SIZING_LR, the tuning seed. */
export function featureNormProbeJobs(s: Wav2VecScale, scale: ExperimentContext["scale"]) {
  return [sizingJob(s, scale, "dyt", "cosine", s.epochs, (seed) => `featnorm-dyt-lnfeat-cosine-lr${lrId(SIZING_LR)}-s${seed}`, { schedule: "cosine", featureNorm: "layernorm" }, { featureNorm: "layernorm" })];
}

export async function runWav2VecAlpha0Probe(ctx: ExperimentContext, rules: ProtocolRules = RULES): Promise<{ records: SpeechProtocolRecord[]; summary: Alpha0ProbeSummary }> {
  return runDytProbe(ctx, alpha0ProbeJobs(WAV2VEC_SCALES[ctx.scale], ctx.scale), "alpha0-summary.json", rules);
}

export async function runWav2VecFeatureNormProbe(ctx: ExperimentContext, rules: ProtocolRules = RULES): Promise<{ records: SpeechProtocolRecord[]; summary: Alpha0ProbeSummary }> {
  return runDytProbe(ctx, featureNormProbeJobs(WAV2VEC_SCALES[ctx.scale], ctx.scale), "featnorm-summary.json", rules);
}

/** Run (or load) a DyT probe's jobs and save its summary as `file`. */
async function runDytProbe(ctx: ExperimentContext, jobs: ReturnType<typeof alpha0ProbeJobs>, file: string, rules: ProtocolRules): Promise<{ records: SpeechProtocolRecord[]; summary: Alpha0ProbeSummary }> {
  const s = WAV2VEC_SCALES[ctx.scale];
  const records = (await runJobs(jobs, ctx)) as unknown as SpeechProtocolRecord[];
  const test = probeTestScores(records);
  const summary: Alpha0ProbeSummary = {
    experiment: WAV2VEC_SIZING,
    lr: SIZING_LR,
    seed: records[0]?.seed ?? NaN,
    epochs: s.epochs,
    steps: records[0]?.config.train.steps ?? NaN,
    learnedAcc: learnedAccOf(records, rules),
    runs: sizingRuns(records, rules),
    groups: records[0]?.config.model.quantGroups ?? NaN,
    entries: records[0]?.config.model.quantEntries ?? NaN,
    test,
    alpha0: records.map((r) => r.config.model.normOptions.alpha0 ?? NaN),
    featureNormAlpha: records.map((r) => r.result.finalAlpha?.layer_norm ?? NaN),
  };
  saveSummary(WAV2VEC_SIZING, ctx.scale, summary, file);
  return { records, summary };
}

export async function runWav2VecSizing(ctx: ExperimentContext, rules: ProtocolRules = RULES): Promise<{ records: SpeechProtocolRecord[]; summary: SizingSummary }> {
  const s = WAV2VEC_SCALES_V1[ctx.scale];
  const records = (await runJobs(sizingJobs(s, ctx.scale), ctx)) as unknown as SpeechProtocolRecord[];
  const summary = summarizeSizing(records, s, rules);
  saveSummary(WAV2VEC_SIZING, ctx.scale, summary);
  return { records, summary };
}
