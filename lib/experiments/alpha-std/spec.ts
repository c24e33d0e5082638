/**
 * Claim 4 (paper section 6.2, Figures 8-9): DyT's learned alpha tracks 1/std
 * of its layer's input, across layers and during training. DyT ViTs are
 * trained at DyT's lr tuned on validation (tuning seed); a named prepare step
 * reads every norm's alpha and input std on a fixed probe batch at init (and
 * 1/std of the same-seed LayerNorm ViT's norm inputs, to compare with
 * alpha0), a named hook reads them every `every` steps (baselines.md "a vs 1/std").
 *
 * The rule (stated before the runs). Which layers: the claim covers the DyT
 * layers of the transformer blocks (norm1 and norm2 of every block), the
 * layers the paper's Figures 8-9 show. The final norm before the head is
 * another kind of layer here (it sees the class token only, whose scale
 * differs from the patch tokens') and can decide r on its own, so r is
 * computed both on the block norms (primary set) and on all DyT layers
 * (with the final norm), at the last reading:
 *   per seed r_s = Pearson r(alpha_l, 1/std_l) across the set's layers; mean
 *   over seeds with a t interval at the rules' level on Fisher's z.
 *   A set supports when its CI lies above 0 and its mean r >= minR; it refutes
 *   when its CI lies below minR (the data exclude a correlation that strong);
 *   otherwise, or when the CI is wider than maxCiWidth, it is inconclusive.
 *   Verdict: supported / not supported when both sets agree; inconclusive when
 *   either is inconclusive or they disagree (the final norm flips it).
 * Not testable: DyT did not learn on some seed, fewer than rules.minSeeds
 * seeds, or fewer than 3 block DyT layers. The correlation is not a paired
 * accuracy comparison: the row stays outside the Holm family (no evidence).
 */
import type * as tf from "@tensorflow/tfjs";
import { ViT } from "../../models/vit";
import { normSlot } from "../../analysis/scurves";
import { pairedTest } from "../../analysis/paired";
import { logLogSlope, pearson } from "../../analysis/stats";
import type { Model, TrainHook } from "../../train/trainer";
import { saveSummary, type ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { VIT_MAIN, VIT_SMALL } from "../sizes";
import { meanStd } from "../stats-lite";
import { resolveArm } from "../protocol/arms";
import { classifyRun } from "../protocol/classify";
import { probeImages, type ProbeConfig } from "../protocol/probe";
import { readNorms } from "../protocol/image-probe";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { runJobs, type Job, type ProtocolRecord } from "../protocol/runner";
import { budgetSchedule, registerHook, registerPrepare, runSplits, stepRef, trainSize, type VitResolvedRun, type RunBase, type StepParams, type VitRunResult } from "../protocol/task";
import { armJob, describePicks, picksOf, tuneArms } from "../protocol/jobs";
import type { LrPick, LrTuningConfig } from "../protocol/tuning";
import type { Outcome } from "../protocol/verdict";

export const ALPHA_STD = "alpha-std";

export interface AlphaStdScale {
  base: RunBase;
  /** The DyT arm whose alphas are read. */
  arm: string;
  epochs: number;
  tuning: LrTuningConfig;
  seeds: number[];
  probe: ProbeConfig;
  /** About this many readings over the run (plus init and the end). */
  readings: number;
}

/** The claim-4 rule's thresholds (module header). */
export interface AlphaStdRule {
  /** Mean r at or above which alpha "tracks" 1/std. */
  minR: number;
  /** A CI of the mean r wider than this is inconclusive whatever its position. */
  maxCiWidth: number;
}
export const ALPHA_STD_RULE: AlphaStdRule = { minR: 0.5, maxCiWidth: 0.8 };

const TRAIN = { batchSize: 64, weightDecay: 0.05, clipNorm: 1.0 };

export const ALPHA_STD_SCALES: Record<Scale, AlphaStdScale> = {
  smoke: {
    base: { model: { ...VIT_SMALL }, train: { ...TRAIN, batchSize: 32, evalLimit: 128 }, data: { trainLimit: 1000, testLimit: 300 } },
    arm: "dyt",
    epochs: 0.25,
    tuning: { lrs: [1e-3, 4e-3], seed: 101 },
    seeds: [1, 2],
    probe: { images: 16, seed: 7, maxRows: 256 },
    readings: 4,
  },
  quick: {
    base: { model: { ...VIT_MAIN }, train: { ...TRAIN, evalLimit: 2000 }, data: { trainLimit: 20_000, testLimit: 2000 } },
    arm: "dyt",
    epochs: 1,
    tuning: { lrs: [1e-3, 4e-3, 1.6e-2], seed: 101 },
    seeds: [1, 2],
    probe: { images: 64, seed: 7, maxRows: 256 },
    readings: 10,
  },
  full: {
    base: { model: { ...VIT_MAIN }, train: { ...TRAIN, evalLimit: 0 }, data: { trainLimit: 20_000, testLimit: 0 } },
    arm: "dyt",
    epochs: 1.5,
    tuning: { lrs: [1e-3, 4e-3, 1.6e-2, 6.4e-2], seed: 101 },
    seeds: [1, 2, 3],
    probe: { images: 64, seed: 7, maxRows: 256 },
    readings: 12,
  },
};

// ---------------------------------------------------------------------------------------------
// Readings: a named prepare step (init) and a named hook (during training)

/** One reading of every norm layer: alpha (DyT only) and its input's spread on the probe batch. */
export interface AlphaStdPoint {
  /** Updates done when read (0 = init). */
  step: number;
  layers: string[];
  /** alpha per layer (NaN for layers without alpha, e.g. LayerNorm). */
  alpha: number[];
  /** Population std over ALL B*T*C elements of the layer's input (the primary measure). */
  std: number[];
  /** Mean over the sampled tokens of each token's std over channels (secondary). */
  tokenStd: number[];
}

/** Read alpha and input stds of every norm of `model` on the probe batch (one forward, no tensors kept). */
export function readAlphaStd(model: Model, probe: tf.Tensor, probeCfg: ProbeConfig, step: number): AlphaStdPoint {
  return readNorms(model, probe, { ...probeCfg, plotTokens: 0 }, step);
}

function probeOf(p: StepParams): ProbeConfig {
  return { images: Number(p.images), seed: Number(p.seed), maxRows: Number(p.maxRows) };
}

function readOnProbe(r: VitResolvedRun, p: ProbeConfig, m: Model, step: number): AlphaStdPoint {
  const probe = probeImages(runSplits(r.data).val, p.images, p.seed);
  try {
    return readAlphaStd(m, probe, p, step);
  } finally {
    probe.dispose();
  }
}

function assertDyt(r: VitResolvedRun): void {
  if (r.model.norm !== "dyt") throw new Error(`alpha-std: alpha is DyT's; run arm "${r.arm}" has norm "${r.model.norm}" (use a DyT arm)`);
}

registerPrepare("alpha-std-init", (model, _calibration, ctx) => {
  if (!ctx?.params) throw new Error(`alpha-std-init: needs probe parameters (build the run with alphaStdRefs)`);
  assertDyt(ctx.run);
  const p = probeOf(ctx.params);
  // The same-seed LayerNorm ViT at init: its norm inputs' 1/std is what alpha0 stands in for.
  const ln = new ViT({ ...ctx.run.model, norm: "layernorm", normOptions: {} });
  let lnInit: AlphaStdPoint;
  try {
    lnInit = readOnProbe(ctx.run, p, ln, 0);
  } finally {
    ln.dispose();
  }
  return { alphaStd: readOnProbe(ctx.run, p, model, 0), lnInit };
});

registerHook("alpha-std", (r, params) => {
  if (!params) throw new Error(`alpha-std hook: needs parameters (build the run with alphaStdRefs)`);
  assertDyt(r);
  const every = Number(params.every);
  const last = r.train.steps - 1;
  return {
    name: "alpha-std",
    // After the update of step s (s + 1 updates done); kept in the log line, so it survives a resume.
    onLog(step: number, m: Model) {
      if (step % every !== 0 && step !== last) return undefined;
      return { alphaStd: readOnProbe(r, probeOf(params), m, step + 1) };
    },
  } satisfies TrainHook;
});

/** The prepare step and hook of an evaluation run; `every` is a multiple of logEvery (hooks run on logged steps). */
export function alphaStdRefs(s: AlphaStdScale, steps: number, logEvery: number): { prepare: string; hooks: string[] } {
  if (!(Number.isInteger(s.readings) && s.readings > 0)) throw new Error(`alpha-std: readings must be a positive integer, got ${s.readings}`);
  const every = logEvery * Math.max(1, Math.round(steps / (s.readings * logEvery)));
  const probe = { images: s.probe.images, seed: s.probe.seed, maxRows: s.probe.maxRows };
  return { prepare: stepRef("alpha-std-init", probe), hooks: [stepRef("alpha-std", { ...probe, every })] };
}

/** A record's readings, init first, and the LN model's at init. */
export function alphaStdPoints(rec: Pick<ProtocolRecord, "result">): { points: AlphaStdPoint[]; lnInit?: AlphaStdPoint } {
  const prep = rec.result.prepared as { alphaStd?: AlphaStdPoint; lnInit?: AlphaStdPoint } | undefined;
  const points = [...(prep?.alphaStd ? [prep.alphaStd] : []), ...rec.result.log.filter((l) => l.alphaStd).map((l) => l.alphaStd as AlphaStdPoint)];
  return { points, ...(prep?.lnInit ? { lnInit: prep.lnInit } : {}) };
}

/** A record with its readings in view (result.points, result.lnInit), as the figures and notebooks read it. */
export type AlphaStdRecord = ProtocolRecord & { result: VitRunResult & { points: AlphaStdPoint[]; lnInit?: AlphaStdPoint } };
export function withPoints(rec: ProtocolRecord): AlphaStdRecord {
  return { ...rec, result: { ...rec.result, ...alphaStdPoints(rec) } };
}

function schedule(s: AlphaStdScale) {
  return budgetSchedule(s.epochs, s.base.data, s.base.train.batchSize ?? 64);
}

export function alphaStdEvalJobs(s: AlphaStdScale, scale: Scale, seeds: readonly number[], lr: number): Job[] {
  const a = resolveArm(s.arm);
  const sch = schedule(s);
  const base = { ...s.base, ...alphaStdRefs(s, sch.steps, sch.logEvery) };
  return seeds.map((seed) => armJob({ experiment: ALPHA_STD, scale, base }, a, seed, { run: `${a.id}-s${seed}`, role: "eval", lr, axes: { epochs: s.epochs }, train: sch }));
}

// ---------------------------------------------------------------------------------------------
// Analysis and verdict

/** Which layers a correlation is over: the block norms (the claim's set) or every DyT layer. */
export type LayerSet = "blocks" | "all";

/** Pearson r across layers of alpha vs 1/std for one reading; NaN when alpha does not vary or < 3 layers. */
export function acrossLayerR(p: AlphaStdPoint, which: "std" | "tokenStd" = "std", set: LayerSet = "all"): number {
  const keep = p.alpha.map((a, i) => (Number.isFinite(a) && (set === "all" || normSlot(p.layers[i]!).block !== null) ? i : -1)).filter((i) => i >= 0);
  if (keep.length < 3) return NaN;
  return pearson(keep.map((i) => 1 / p[which][i]!), keep.map((i) => p.alpha[i]!)).r;
}

/** The mean of per-seed r with a t interval on Fisher's z (r clipped to ±0.999999 so r = 1 stays finite). */
export interface RInterval {
  perSeed: number[];
  mean: number;
  ci: [number, number];
  n: number;
}
export function rInterval(rs: readonly number[], level: number): RInterval {
  const v = rs.filter(Number.isFinite);
  if (v.length < 2) return { perSeed: [...rs], mean: v.length ? v[0]! : NaN, ci: [NaN, NaN], n: v.length };
  const z = v.map((r) => Math.atanh(Math.max(-0.999999, Math.min(0.999999, r))));
  const t = pairedTest(z, z.map(() => 0), level);
  return { perSeed: [...rs], mean: Math.tanh(t.mean), ci: [Math.tanh(t.ci[0]), Math.tanh(t.ci[1])], n: t.n };
}

/** Why a layer set reads as it does (setReading's outcome and its interval). */
export function readingReason(reading: string, iv: RInterval, rule: AlphaStdRule = ALPHA_STD_RULE): string {
  if (reading === "supports") return `CI above 0 and mean r ≥ ${rule.minR}`;
  if (reading === "refutes") return `CI below ${rule.minR}`;
  return iv.ci[1] - iv.ci[0] > rule.maxCiWidth ? `CI wider than ${rule.maxCiWidth}` : `CI straddles 0 or ${rule.minR}`;
}

/** What one layer set says under the rule. */
export function setReading(iv: RInterval, rule: AlphaStdRule = ALPHA_STD_RULE): "supports" | "refutes" | "inconclusive" {
  const [lo, hi] = iv.ci;
  if (!(Number.isFinite(lo) && Number.isFinite(hi)) || hi - lo > rule.maxCiWidth) return "inconclusive";
  if (lo > 0 && iv.mean >= rule.minR) return "supports";
  if (hi < rule.minR) return "refutes";
  return "inconclusive";
}

export interface AlphaStdCheckpoint {
  step: number;
  seeds: number;
  /** Across-layer r per seed, block norms only (the claim's set) and all DyT layers. */
  blocks: RInterval;
  all: RInterval;
  /** Mean over seeds of the log-log slope of alpha vs 1/std over the block norms (1 = proportional). */
  logLogSlope: number;
  /** Block-norm r with the mean per-token std instead of the population std. */
  meanRTokenStd: number;
}

export interface AlphaStdSummary {
  experiment: string;
  scale: Scale;
  setup: string;
  seeds: number[];
  alpha0: number;
  pick?: LrPick;
  checkpoints: AlphaStdCheckpoint[];
  /** What the block-norm set and the all-layer set say at the last checkpoint. */
  readings: { blocks: string; all: string };
  /** Per layer, over seeds: Pearson r over time of alpha_l(t) vs 1/std_l(t) (the "during training" part). */
  temporal: { layer: string; r: { mean: number; std: number; n: number } }[];
  /** alpha0 vs 1/std of the LayerNorm ViT's norm inputs at init, per layer (mean over seeds). */
  lnInit: { layer: string; invStd: number; alpha0: number }[];
  testAcc: { mean: number; std: number; n: number };
  classes: string[];
  verdict: Outcome;
  reason: string;
  statement: string;
}

const finite = (v: number[]) => v.filter(Number.isFinite);
const blockIdx = (p: AlphaStdPoint) => p.layers.map((l, i) => (normSlot(l).block !== null ? i : -1)).filter((i) => i >= 0);

export function summarizeAlphaStd(scale: Scale, records: readonly ProtocolRecord[], rules: ProtocolRules = RULES, rule: AlphaStdRule = ALPHA_STD_RULE): AlphaStdSummary {
  const evals = records.filter((r) => r.role === "eval").slice().sort((a, b) => a.seed - b.seed);
  const tune = records.filter((r) => r.role === "tune");
  const pick = tune.length ? picksOf(tune, [evals[0]?.arm ?? tune[0]!.arm], rules)[0] : undefined;
  const classes = evals.map((r) => classifyRun({ status: r.result.status, acc: r.result.test?.acc, numClasses: r.config.model.numClasses }, rules));
  const ok = evals.filter((r) => r.result.status === "completed").map((r) => ({ rec: r, ...alphaStdPoints(r) }));
  const alpha0 = evals[0]?.config.normResolved.alpha0 ?? NaN;
  const steps = [...new Set(ok.flatMap((r) => r.points.map((p) => p.step)))].sort((a, b) => a - b);
  const checkpoints: AlphaStdCheckpoint[] = steps.map((step) => {
    const pts = ok.map((r) => r.points.find((p) => p.step === step)).filter((p): p is AlphaStdPoint => !!p);
    const slopes = pts.map((p) => {
      const b = blockIdx(p);
      return b.every((i) => p.alpha[i]! > 0) && b.length >= 2 ? logLogSlope(b.map((i) => 1 / p.std[i]!), b.map((i) => p.alpha[i]!)).slope : NaN;
    });
    return {
      step,
      seeds: pts.length,
      blocks: rInterval(pts.map((p) => acrossLayerR(p, "std", "blocks")), rules.level),
      all: rInterval(pts.map((p) => acrossLayerR(p, "std", "all")), rules.level),
      logLogSlope: meanStd(finite(slopes)).mean,
      meanRTokenStd: meanStd(finite(pts.map((p) => acrossLayerR(p, "tokenStd", "blocks")))).mean,
    };
  });
  const layers = ok[0]?.points[0]?.layers ?? [];
  const temporal = layers.map((layer, i) => {
    const rs = ok.map((r) => {
      const pts = r.points.slice(1); // after init: alpha is alpha0 in every layer at step 0
      return pts.length >= 3 ? pearson(pts.map((p) => 1 / p.std[i]!), pts.map((p) => p.alpha[i]!)).r : NaN;
    });
    const m = meanStd(finite(rs));
    return { layer, r: m.n ? m : { mean: NaN, std: NaN, n: 0 } };
  });
  const lnInit = layers.map((layer, i) => ({ layer, invStd: meanStd(finite(ok.map((r) => (r.lnInit ? 1 / r.lnInit.std[i]! : NaN)))).mean, alpha0 }));
  const testAcc = meanStd(ok.filter((r) => r.rec.result.test).map((r) => 100 * r.rec.result.test!.acc));
  const nBlocks = ok[0]?.points[0] ? blockIdx(ok[0].points[0]).filter((i) => Number.isFinite(ok[0]!.points[0]!.alpha[i]!)).length : 0;
  const v = alphaStdVerdict(checkpoints, classes, nBlocks, rules, rule);
  // How far alpha and 1/std spread across layers at the end: a narrow alpha range next to a wide
  // 1/std range means alpha has not (yet) followed the input scale, whatever r says.
  const finals = ok.map((r) => r.points.at(-1)!).filter((p) => p && p.step > 0);
  const perLayer = (f: (p: AlphaStdPoint, i: number) => number) => layers.map((_, i) => meanStd(finals.map((p) => f(p, i))).mean);
  const range = (x: number[]) => `${Math.min(...x).toFixed(2)}-${Math.max(...x).toFixed(2)}`;
  const tMean = meanStd(finite(temporal.map((t) => t.r.mean))).mean;
  const lnInv = finite(lnInit.map((l) => l.invStd));
  let statement = v.statement;
  if (finals.length && layers.length) statement += ` At the end, alpha spans ${range(perLayer((p, i) => p.alpha[i]!))} across layers while 1/std spans ${range(perLayer((p, i) => 1 / p.std[i]!))} (means over seeds).`;
  if (Number.isFinite(tMean)) statement += ` Over time, within a layer, r(alpha(t), 1/std(t)) averages ${tMean.toFixed(2)}.`;
  if (lnInv.length) statement += ` At init the LayerNorm ViT's norm inputs have 1/std ${range(lnInv)} across layers, vs alpha0 = ${alpha0}.`;
  const m = evals[0]?.config;
  const setup = m
    ? `DyT ViT width ${m.model.dim}, depth ${m.model.depth}; first ${trainSize(m.data).toLocaleString("en")} training images, ${m.train.steps} steps (batch ${m.train.batchSize})${pick ? `; lr tuned on validation: ${describePicks([pick])}` : `; lr ${m.train.lr}`}`
    : "no runs";
  return { experiment: ALPHA_STD, scale, setup, seeds: evals.map((r) => r.seed), alpha0, ...(pick ? { pick } : {}), checkpoints, readings: v.readings, temporal, lnInit, testAcc, classes, verdict: v.verdict, reason: v.reason, statement };
}

/** The claim-4 rule (module header) at the last checkpoint. */
export function alphaStdVerdict(
  checkpoints: readonly AlphaStdCheckpoint[],
  classes: readonly string[],
  blockLayers: number,
  rules: ProtocolRules = RULES,
  rule: AlphaStdRule = ALPHA_STD_RULE,
): { verdict: Outcome; reason: string; statement: string; readings: { blocks: string; all: string } } {
  const last = checkpoints.at(-1);
  const bad = classes.filter((c) => c !== "learned").length;
  const fail = (reason: string) => ({ verdict: "not testable" as const, reason, statement: `not testable: ${reason}.`, readings: { blocks: "—", all: "—" } });
  if (bad) return fail(`DyT did not learn on ${bad} of ${classes.length} seeds (${classes.join(", ")})`);
  if (blockLayers < 3) return fail(`${blockLayers} block DyT layers: a correlation across layers needs at least 3`);
  if (!last || last.step === 0 || last.blocks.n < rules.minSeeds) return fail(`${last?.blocks.n ?? 0} seed(s) with a reading after training; the rule needs ${rules.minSeeds}`);
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "—");
  const iv = (x: RInterval) => `r = ${f(x.mean)} [${f(x.ci[0])}, ${f(x.ci[1])}] (per seed ${x.perSeed.map(f).join(", ")})`;
  const b = setReading(last.blocks, rule);
  const a = setReading(last.all, rule);
  const verdict: Outcome = b === "supports" && a === "supports" ? "supported" : b === "refutes" && a === "refutes" ? "not supported" : "inconclusive";
  const rd = (x: string, r: RInterval) => readingReason(x, r, rule);
  const reason =
    verdict === "inconclusive" && ((b === "supports" && a === "refutes") || (b === "refutes" && a === "supports"))
      ? `the final norm flips it: block norms ${b} (${rd(b, last.blocks)}), all layers ${a} (${rd(a, last.all)})`
      : `block norms ${b} (${rd(b, last.blocks)}); with the final norm ${a} (${rd(a, last.all)})`;
  const statement =
    `At step ${last.step}, r(alpha, 1/std) across the block DyT layers: ${iv(last.blocks)}; across all DyT layers (with the final norm): ${iv(last.all)} (${last.seeds} seeds, ${Math.round(100 * rules.level)} % CI on Fisher's z). ` +
    `Block-norm log-log slope ${f(last.logLogSlope)}; with the per-token std r = ${f(last.meanRTokenStd)}. ${verdict}: ${reason}.`;
  return { verdict, reason, statement, readings: { blocks: b, all: a } };
}

export async function runAlphaStd(ctx: ExperimentContext, override: Partial<AlphaStdScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: AlphaStdRecord[]; summary: AlphaStdSummary }> {
  const s: AlphaStdScale = { ...ALPHA_STD_SCALES[ctx.scale], ...override };
  const seeds = ctx.seeds ?? s.seeds;
  const { records: tuneRecs, picks } = await tuneArms({ experiment: ALPHA_STD, scale: ctx.scale, base: s.base, train: schedule(s), tuning: s.tuning }, [s.arm], seeds, ctx, rules);
  const evals = await runJobs(alphaStdEvalJobs(s, ctx.scale, seeds, picks[0]!.bestLr), ctx);
  const summary = summarizeAlphaStd(ctx.scale, [...tuneRecs, ...evals], rules);
  saveSummary(ALPHA_STD, ctx.scale, summary);
  return { records: evals.map(withPoints), summary };
}
