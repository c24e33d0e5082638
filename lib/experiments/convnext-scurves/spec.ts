/**
 * Claims 3 and 4 on ConvNeXt (issue 13; a reviewer asked whether the S-curve
 * observation holds beyond the ViT; the paper's Figures 8-9 show alpha vs
 * 1/std on ConvNeXt-B). The models, data, budget and lrs are vision-families'
 * ConvNeXt study at the same scale: the LayerNorm and the DyT ConvNeXt, each
 * at its lr tuned there (its tuning records are read, not re-run), on that
 * study's evaluation seeds. Each run reads every norm on a fixed probe batch
 * of validation images at init and at the end (protocol/image-probe.ts), so
 * these runs are this experiment's own: the probe is part of their config.
 *
 * Rules (written on 2026-12-03, before any run of this experiment):
 *
 * Claim 3 (ConvNeXt), the LayerNorm model. The layers are ConvNeXt's LNs in
 * forward order without the final norm before the head (stem, block and
 * downsampling norms, channels-first ones read per pixel over channels);
 * early = the first half, deep = the second half (a middle layer of an odd
 * count belongs to neither). Per seed E = mean pre-affine ΔR² (R²(tanh) −
 * R²(line), lib/analysis/scurves.ts) of the deep layers − that of the early
 * ones, at the end of training. The scurves rule, unchanged: (a) E > 0,
 * refuted when the data exclude E ≥ 0.01, and (b) the deep layers' ΔR² >
 * 0.01, paired over seeds, combined with allOf into one row of the Holm
 * family. Not testable: the LN model did not learn on some seed, fewer than
 * 2 seeds read at the end, fewer than 2 layers.
 *
 * Claim 4 (ConvNeXt), the DyT model. Per seed r = Pearson r across every DyT
 * layer (the final norm included: ConvNeXt's block norms are only one per
 * stage) of alpha vs 1/std of the layer's input, at the end. The alpha-std
 * rule on that one set: supported when the t interval of the mean r (Fisher's
 * z, the rules' level) lies above 0 and the mean r ≥ 0.5; not supported when
 * it lies below 0.5; inconclusive otherwise or when wider than 0.8. Not
 * testable: DyT did not learn on some seed, fewer than rules.minSeeds seeds,
 * fewer than 3 DyT layers. Outside the Holm family (not a paired comparison).
 */
import { saveSummary, type ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { finiteMeanStd, meanStd } from "../stats-lite";
import { resolveArm } from "../protocol/arms";
import { classifyRun } from "../protocol/classify";
import { describeBase } from "../protocol/jobs";
import type { NormReading, ImageProbeConfig } from "../protocol/image-probe";
import type { ImageRunBase } from "../protocol/image-task";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { runJobs, type Job, type ImageProtocolRecord } from "../protocol/runner";
import { studyEvalJob, studyLrs, studyTuneJobs, type ArmLr } from "../protocol/study";
import type { ImageResolvedRun } from "../protocol/image-task";
import type { LrPick } from "../protocol/tuning";
import type { Outcome, PairedEvidence } from "../protocol/verdict";
import { acrossLayerR, ALPHA_STD_RULE, readingReason, rInterval, setReading, type AlphaStdRule, type RInterval } from "../alpha-std/spec";
import { scurvesVerdict, SCURVES_RULE, type EarlyDeep, type ScurvesRule } from "../scurves/spec";
import { familyStudy, visionScale, VISION_FAMILIES, type FamilySpec, type VisionDatasetScale } from "../vision-families/spec";
import { logLogSlope } from "../../analysis/stats";
import type { LayerFit } from "../../analysis/scurves";

export const CONVNEXT_SCURVES = "convnext-scurves";
/** The arms: the LayerNorm model (claim 3) and the DyT model (claim 4). */
export const CONVNEXT_SCURVES_ARMS = { ln: "layernorm", dyt: "dyt" } as const;

export interface ConvnextScurvesScale {
  probe: ImageProbeConfig;
}

export const CONVNEXT_SCURVES_SCALES: Record<Scale, ConvnextScurvesScale> = {
  smoke: { probe: { images: 8, seed: 7, maxRows: 64, plotTokens: 4 } },
  quick: { probe: { images: 32, seed: 7, maxRows: 256, plotTokens: 8 } },
  // baselines.md's S-curve sample: 256 tokens x all channels per layer; 64 probe images as scurves.
  full: { probe: { images: 64, seed: 7, maxRows: 256, plotTokens: 16 } },
};

/** vision-families' ConvNeXt family and data set scale (Fashion-MNIST) at `scale`. */
export function convnextFamily(scale: Scale): { d: VisionDatasetScale; f: FamilySpec } {
  const d = visionScale(scale, "fashion-mnist");
  const f = d.families.find((x) => x.family === "convnext");
  if (!f) throw new Error(`${CONVNEXT_SCURVES}: vision-families has no ConvNeXt family at ${scale}`);
  return { d, f };
}

/** This experiment's study: vision-families' ConvNeXt study with the probe in the base, under this experiment's name. */
function probeStudy(scale: Scale, s: ConvnextScurvesScale) {
  const { d, f } = convnextFamily(scale);
  const vf = familyStudy(d, f);
  return { vf, mine: { ...vf, experiment: CONVNEXT_SCURVES, base: { ...vf.base, probe: s.probe } as ImageRunBase, runSuffix: "convnext" } };
}

/** The evaluation jobs: each arm on each seed at its vision-families lr. */
export function convnextScurvesJobs(scale: Scale, s: ConvnextScurvesScale, seeds: readonly number[], lrs: Readonly<Record<string, ArmLr>>): Job<ImageResolvedRun>[] {
  const { mine } = probeStudy(scale, s);
  return seeds.flatMap((seed) => mine.arms.map((a) => studyEvalJob(mine, scale, a, seed, lrs[a.id]!.lr))) as Job<ImageResolvedRun>[];
}

// ---------------------------------------------------------------------------------------------
// Summary and verdicts

/** Early and deep layers (module header): forward order without the final norm, first and second half. */
export function earlyDeepLayers(layers: readonly string[]): { early: string[]; deep: string[] } {
  const inner = layers.filter((l) => l !== "norm");
  const h = Math.floor(inner.length / 2);
  return { early: inner.slice(0, h), deep: inner.slice(inner.length - h) };
}

export interface LayerStat {
  layer: string;
  /** 0 = init, else the end of training. */
  step: number;
  deltaR2: { mean: number; std: number };
  s: { mean: number; std: number };
  maxArg: { mean: number; std: number };
  n: number;
}

export interface AlphaPoint {
  seed: number;
  layer: string;
  alpha: number;
  invStd: number;
}

/** A LayerNorm model's S-curve reading under the scurves rule (shared with wav2vec-scurves). */
export interface LnScurvesPart {
  /** Each seed's run class (the rule needs every one learned). */
  classes: string[];
  /** Pre-affine fit statistics per layer, at init and at the end, over seeds. */
  layerStats: LayerStat[];
  earlyDeep: EarlyDeep[];
  evidence?: PairedEvidence;
  verdict: Outcome;
  reason: string;
  statement: string;
}

export interface ConvnextScurvesSummary {
  experiment: string;
  scale: Scale;
  setup: string;
  /** "claim 3: ...; claim 4: ..." (each row's own verdict is in `ln` and `dyt`), and both statements. */
  verdict: string;
  statement: string;
  seeds: number[];
  picks: LrPick[];
  lrs: Record<string, ArmLr>;
  layers: { early: string[]; deep: string[] };
  ln: LnScurvesPart & { testAcc: { mean: number; std: number; n: number } };
  dyt: {
    testAcc: { mean: number; std: number; n: number };
    classes: string[];
    /** alpha and 1/std per layer and seed at the end (the scatter of Figure 9). */
    points: AlphaPoint[];
    r: RInterval;
    /** Mean over seeds of the log-log slope of alpha vs 1/std (1 = proportional). */
    logLogSlope: number;
    reading: string;
    verdict: Outcome;
    reason: string;
    statement: string;
  };
}

const ms = finiteMeanStd;
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "—");

function evalsOf(records: readonly ImageProtocolRecord[], arm: string): ImageProtocolRecord[] {
  return records.filter((r) => r.role === "eval" && r.arm === arm).sort((a, b) => a.seed - b.seed);
}
function classesOf(rs: readonly ImageProtocolRecord[], rules: ProtocolRules): string[] {
  return rs.map((r) => classifyRun({ status: r.result.status, acc: r.result.test?.acc, numClasses: r.config.model.numClasses }, rules));
}
const endReading = (r: ImageProtocolRecord): NormReading | undefined => r.result.readings?.find((x) => x.step > 0);
const accOf = (rs: readonly ImageProtocolRecord[]) => meanStd(rs.filter((r) => r.result.test).map((r) => 100 * r.result.test!.acc));

/** A LayerNorm model's completed run's norm readings: [init, end]. */
export interface SeedReadings {
  seed: number;
  readings?: readonly NormReading[];
}

/**
 * Pre-affine fit statistics per layer (in `names` order) at init and at the
 * end, over the runs' readings, and each run's early and deep mean ΔR² at the
 * end: what the scurves rule reads (shared by the ConvNeXt and wav2vec
 * S-curve experiments).
 */
export function lnReadingStats(runs: readonly SeedReadings[], names: readonly string[], layers: { early: string[]; deep: string[] }): { layerStats: LayerStat[]; earlyDeep: EarlyDeep[] } {
  const endOf = (r: SeedReadings) => r.readings?.find((x) => x.step > 0);
  const layerStats: LayerStat[] = [];
  for (const step of ["init", "end"] as const) {
    const reads = runs.map((r) => (step === "init" ? r.readings?.[0] : endOf(r))).filter((x): x is NormReading => !!x?.fits);
    for (const layer of names) {
      const fs = reads.map((x) => x.fits!.find((f) => f.layer === layer)).filter((f): f is LayerFit => !!f);
      if (!fs.length) continue;
      layerStats.push({
        layer,
        step: step === "init" ? 0 : reads[0]!.step,
        deltaR2: ms(fs.map((f) => f.pre.deltaR2)),
        s: ms(fs.map((f) => f.pre.s)),
        maxArg: ms(fs.map((f) => f.pre.maxArg)),
        n: fs.length,
      });
    }
  }
  const mean = (x: NormReading, ls: string[]) => meanStd(x.fits!.filter((f) => ls.includes(f.layer)).map((f) => f.pre.deltaR2)).mean;
  const earlyDeep: EarlyDeep[] = runs.flatMap((r) => {
    const x = endOf(r);
    return x?.fits && layers.early.length ? [{ seed: r.seed, step: x.step, early: mean(x, layers.early), deep: mean(x, layers.deep) }] : [];
  });
  return { layerStats, earlyDeep };
}

/** The claim-3 part: LN layers' fits at init and end, early vs deep per seed, the scurves rule. */
export function summarizeLn(records: readonly ImageProtocolRecord[], rules: ProtocolRules = RULES, rule: ScurvesRule = SCURVES_RULE): ConvnextScurvesSummary["ln"] & { layers: { early: string[]; deep: string[] } } {
  const rs = evalsOf(records, CONVNEXT_SCURVES_ARMS.ln);
  const classes = classesOf(rs, rules);
  const done = rs.filter((r) => r.result.status === "completed");
  const names = done.flatMap((r) => r.result.readings?.[0]?.layers ?? []).filter((l, i, a) => a.indexOf(l) === i);
  const layers = earlyDeepLayers(names);
  const { layerStats, earlyDeep } = lnReadingStats(done.map((r) => ({ seed: r.seed, readings: r.result.readings })), names, layers);
  const v = scurvesVerdict(earlyDeep, [], classes, layers.early.length + layers.deep.length, rules, rule);
  return { testAcc: accOf(rs), classes, layerStats, earlyDeep, ...v, layers };
}

/** The claim-4 part: alpha vs 1/std across every DyT layer at the end, per seed; the alpha-std rule on that set. */
export function summarizeDyt(records: readonly ImageProtocolRecord[], rules: ProtocolRules = RULES, rule: AlphaStdRule = ALPHA_STD_RULE): ConvnextScurvesSummary["dyt"] {
  const rs = evalsOf(records, CONVNEXT_SCURVES_ARMS.dyt);
  const classes = classesOf(rs, rules);
  const reads = rs.filter((r) => r.result.status === "completed").flatMap((r) => {
    const x = endReading(r);
    return x ? [{ seed: r.seed, x }] : [];
  });
  const points = reads.flatMap(({ seed, x }) => x.layers.map((layer, i) => ({ seed, layer, alpha: x.alpha[i]!, invStd: 1 / x.std[i]! })).filter((p) => Number.isFinite(p.alpha)));
  const r = rInterval(reads.map(({ x }) => acrossLayerR(x, "std", "all")), rules.level);
  const slopes = reads.map(({ x }) => {
    const idx = x.alpha.map((a, i) => (a > 0 ? i : -1)).filter((i) => i >= 0);
    return idx.length >= 2 ? logLogSlope(idx.map((i) => 1 / x.std[i]!), idx.map((i) => x.alpha[i]!)).slope : NaN;
  });
  const slope = ms(slopes).mean;
  const nLayers = reads[0]?.x.alpha.filter(Number.isFinite).length ?? 0;
  const bad = classes.filter((c) => c !== "learned").length;
  const base = { testAcc: accOf(rs), classes, points, r, logLogSlope: slope };
  const fail = (reason: string) => ({ ...base, reading: "—", verdict: "not testable" as const, reason, statement: `not testable: ${reason}.` });
  if (bad) return fail(`DyT did not learn on ${bad} of ${classes.length} seeds (${classes.join(", ")})`);
  if (nLayers < 3) return fail(`${nLayers} DyT layers: a correlation across layers needs at least 3`);
  if (r.n < rules.minSeeds) return fail(`${r.n} seed(s) with a reading after training; the rule needs ${rules.minSeeds}`);
  const reading = setReading(r, rule);
  const verdict: Outcome = reading === "supports" ? "supported" : reading === "refutes" ? "not supported" : "inconclusive";
  const reason = readingReason(reading, r, rule);
  const statement =
    `At the end of training, r(alpha, 1/std) across the ${nLayers} DyT layers: r = ${f2(r.mean)} [${f2(r.ci[0])}, ${f2(r.ci[1])}] (per seed ${r.perSeed.map(f2).join(", ")}; ${r.n} seeds, ${Math.round(100 * rules.level)} % CI on Fisher's z); ` +
    `log-log slope ${f2(slope)}. ${verdict}: ${reason}.`;
  return { ...base, reading, verdict, reason, statement };
}

export function summarizeConvnextScurves(scale: Scale, records: readonly ImageProtocolRecord[], picks: LrPick[], lrs: Record<string, ArmLr>, rules: ProtocolRules = RULES): ConvnextScurvesSummary {
  const { d, f } = convnextFamily(scale);
  const { layers, ...ln } = summarizeLn(records, rules);
  const dyt = summarizeDyt(records, rules);
  const lrText = Object.entries(lrs).map(([a, x]) => `${resolveArm(a).label} ${x.lr}`).join(", ");
  const setup = `${describeBase(familyStudy(d, f).base, f.epochs)}; lrs from ${VISION_FAMILIES}' tuning (${lrText})`;
  const seeds = [...new Set(records.filter((r) => r.role === "eval").map((r) => r.seed))].sort((a, b) => a - b);
  return { experiment: CONVNEXT_SCURVES, scale, setup, verdict: `claim 3: ${ln.verdict}; claim 4: ${dyt.verdict}`, statement: `${ln.statement} ${dyt.statement}`, seeds, picks, lrs, layers, ln, dyt };
}

/** Read vision-families' ConvNeXt lr picks, train (or load) both arms with readings, summarise. */
export async function runConvnextScurves(ctx: ExperimentContext, override: Partial<ConvnextScurvesScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: ImageProtocolRecord[]; summary: ConvnextScurvesSummary }> {
  const s: ConvnextScurvesScale = { ...CONVNEXT_SCURVES_SCALES[ctx.scale], ...override };
  const { d } = convnextFamily(ctx.scale);
  const { vf } = probeStudy(ctx.scale, s);
  const tune = await runJobs(studyTuneJobs(vf, ctx.scale), ctx);
  const { picks, lrs } = studyLrs(vf, tune, rules);
  const seeds = ctx.seeds ?? d.seeds;
  const records = (await runJobs(convnextScurvesJobs(ctx.scale, s, seeds, lrs), ctx)) as ImageProtocolRecord[];
  const summary = summarizeConvnextScurves(ctx.scale, records, picks, lrs, rules);
  saveSummary(CONVNEXT_SCURVES, ctx.scale, summary);
  return { records, summary };
}
