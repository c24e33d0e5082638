/**
 * Claim 3 on wav2vec 2.0 (issue 14; the paper's Figure 1 shows LN's
 * input-output maps in wav2vec 2.0 as well as in the ViT): are the
 * LayerNorms of a trained small wav2vec S-shaped, more so in deeper layers?
 * The model, data, budget and LN lr are wav2vec-ln-dyt's at the same scale
 * (its tuning records are read, not re-run); the runs are this experiment's
 * own because each reads every norm of the model on a fixed batch of
 * validation windows at init and at the end (`readings` in the config,
 * protocol/speech-task.ts), and they skip the language-ID probe.
 *
 * Rules (written on 2026-12-05, before any run of this experiment, with
 * wav2vec-ln-dyt's full study running and none of its records read):
 *  - Layers of the claim: the transformer's LayerNorms in forward order
 *    without the encoder's final norm, as the paper's patch counts them: the
 *    feature norm ("layer_norm"), then each block's two norms. Early = the
 *    first half, deep = the second half (a middle layer of an odd count
 *    belongs to neither); at width 64, depth 2: early = layer_norm and
 *    blocks.0.norm1, deep = blocks.1.norm1 and blocks.1.norm2. The conv encoder's
 *    LayerNorms and the final norm are read and reported, not tested.
 *  - Per seed E = mean pre-affine ΔR² (R²(tanh) − R²(line),
 *    lib/analysis/scurves.ts) of the deep layers − that of the early ones,
 *    at the end of training. The scurves rule, unchanged (scurvesVerdict):
 *    (a) E > 0, refuted when the data exclude E ≥ 0.01, and (b) the deep
 *    layers' ΔR² > 0.01, paired over seeds, combined with allOf into one row
 *    of the Holm family.
 *  - Not testable: the LN model did not learn on some seed (its test strict
 *    contrastive accuracy, wav2vec-ln-dyt's learned rule), fewer than 2 seeds
 *    read at the end, fewer than 2 layers.
 *  - Seeds: wav2vec-ln-dyt's evaluation seeds (full: 1, 2, 3); no extra seeds.
 *  - Reading batch (full): 64 validation windows spread evenly, 256 time
 *    steps sampled per layer (baselines.md's S-curve sample), seed 7.
 */
import { saveSummary, type ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { resolveArm } from "../protocol/arms";
import { speechScore } from "../protocol/classify";
import type { SpeechReadingConfig, SpeechRunBase } from "../protocol/speech-task";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { runJobs, type Job, type SpeechProtocolRecord } from "../protocol/runner";
import type { SpeechResolvedRun } from "../protocol/speech-task";
import { studyEvalJob, studyLrs, studyTuneJobs, type ArmLr, type ArmStudy } from "../protocol/study";
import type { LrPick } from "../protocol/tuning";
import { describeBase } from "../protocol/jobs";
import { meanStd } from "../stats-lite";
import { scurvesVerdict, SCURVES_RULE, type ScurvesRule } from "../scurves/spec";
import { lnReadingStats, type LnScurvesPart } from "../convnext-scurves/spec";
import { WAV2VEC_SCALES, wav2vecStudy } from "../wav2vec-ln-dyt/spec";

export const WAV2VEC_SCURVES = "wav2vec-scurves";
/** The LayerNorm arm of wav2vec-ln-dyt. */
export const WAV2VEC_SCURVES_ARM = "layernorm";

export const WAV2VEC_SCURVES_SCALES: Record<Scale, { readings: SpeechReadingConfig }> = {
  smoke: { readings: { windows: 4, seed: 7, maxRows: 64, plotTokens: 4 } },
  quick: { readings: { windows: 16, seed: 7, maxRows: 256, plotTokens: 8 } },
  full: { readings: { windows: 64, seed: 7, maxRows: 256, plotTokens: 16 } },
};

/** The transformer's norms in forward order (the final norm left out) and the rule's early / deep halves. */
export function w2vScurveLayers(names: readonly string[]): { claim: string[]; early: string[]; deep: string[] } {
  const claim = names.filter((n) => n === "layer_norm" || /^blocks\.\d+\./.test(n));
  const h = Math.floor(claim.length / 2);
  return { claim, early: claim.slice(0, h), deep: claim.slice(claim.length - h) };
}

export interface Wav2VecScurvesSummary extends LnScurvesPart {
  experiment: string;
  scale: Scale;
  setup: string;
  seeds: number[];
  picks: LrPick[];
  lr: ArmLr;
  /** Every norm read (conv encoder, transformer, final), forward order. */
  allLayers: string[];
  layers: { early: string[]; deep: string[] };
  testStrictAcc: { mean: number; std: number; n: number };
}

/** This experiment's study: wav2vec-ln-dyt's, LayerNorm only, with readings and without the language-ID probe, under this experiment's name. */
export function scurvesStudy(scale: Scale): { source: ArmStudy<SpeechRunBase>; mine: ArmStudy<SpeechRunBase> } {
  const source = wav2vecStudy(WAV2VEC_SCALES[scale]);
  const base: SpeechRunBase = { ...source.base, probe: { ...source.base.probe, enabled: false }, readings: WAV2VEC_SCURVES_SCALES[scale].readings };
  return { source, mine: { ...source, experiment: WAV2VEC_SCURVES, base, arms: [resolveArm(WAV2VEC_SCURVES_ARM)], extraSeeds: [] } };
}

export function wav2vecScurvesJobs(scale: Scale, seeds: readonly number[], lr: number): Job<SpeechResolvedRun>[] {
  const { mine } = scurvesStudy(scale);
  return seeds.map((seed) => studyEvalJob(mine, scale, mine.arms[0]!, seed, lr)) as Job<SpeechResolvedRun>[];
}

export function summarizeWav2VecScurves(scale: Scale, records: readonly SpeechProtocolRecord[], picks: LrPick[], lr: ArmLr, rules: ProtocolRules = RULES, rule: ScurvesRule = SCURVES_RULE): Wav2VecScurvesSummary {
  const rs = records.filter((r) => r.role === "eval").sort((a, b) => a.seed - b.seed);
  const classes = rs.map((r) => speechScore(r, "test", rules).class);
  const done = rs.filter((r) => r.result.status === "completed");
  const allLayers = done.flatMap((r) => r.result.readings?.[0]?.layers ?? []).filter((l, i, a) => a.indexOf(l) === i);
  const { early, deep } = w2vScurveLayers(allLayers);
  const layers = { early, deep };
  const { layerStats, earlyDeep } = lnReadingStats(done.map((r) => ({ seed: r.seed, readings: r.result.readings })), allLayers, layers);
  const v = scurvesVerdict(earlyDeep, [], classes, early.length + deep.length, rules, rule);
  const { mine } = scurvesStudy(scale);
  const setup = `${describeBase(mine.base, mine.epochs)}; LayerNorm at its lr tuned in wav2vec-ln-dyt (${lr.lr}, ${lr.note}); readings on ${WAV2VEC_SCURVES_SCALES[scale].readings.windows} validation windows`;
  const testStrictAcc = meanStd(done.filter((r) => r.result.test).map((r) => 100 * r.result.test!.strictAcc));
  return { experiment: WAV2VEC_SCURVES, scale, setup, seeds: rs.map((r) => r.seed), picks, lr, allLayers, layers, testStrictAcc, classes, layerStats, earlyDeep, ...v };
}

/** Read wav2vec-ln-dyt's LayerNorm lr pick, train (or load) the LN model with readings on its evaluation seeds, summarise. */
export async function runWav2VecScurves(ctx: ExperimentContext, rules: ProtocolRules = RULES): Promise<{ records: SpeechProtocolRecord[]; summary: Wav2VecScurvesSummary }> {
  const { source, mine } = scurvesStudy(ctx.scale);
  // wav2vec-ln-dyt's own LayerNorm tuning (its experiment and base), read rather than re-run.
  const lnTuning = { ...source, arms: mine.arms };
  const tune = await runJobs(studyTuneJobs(lnTuning, ctx.scale), ctx);
  const { picks, lrs } = studyLrs(lnTuning, tune, rules);
  const lr = lrs[WAV2VEC_SCURVES_ARM]!;
  const records = (await runJobs(wav2vecScurvesJobs(ctx.scale, ctx.seeds ?? source.seeds, lr.lr), ctx)) as SpeechProtocolRecord[];
  const summary = summarizeWav2VecScurves(ctx.scale, records, picks, lr, rules);
  saveSummary(WAV2VEC_SCURVES, ctx.scale, summary);
  return { records, summary };
}
