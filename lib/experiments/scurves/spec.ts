/**
 * Claim 3 (paper section 3, Figures 2-4): in trained models, LayerNorm's
 * input->output map looks tanh-like (S-shaped) in deeper layers and mostly
 * linear in early ones. LayerNorm ViTs are trained at LN's lr tuned on
 * validation (tuning seed); every LN layer's input/output is captured on a
 * fixed, seeded probe batch at init (a named prepare step), during training
 * and at the end (a named hook), and y ~ k tanh(s x) and a line are fitted to
 * each layer's pooled points (lib/analysis/scurves.ts).
 *
 * The rule (stated before the runs): with E_s = mean ΔR² of the deep blocks −
 * mean ΔR² of the early blocks at the end of training (seed s; ΔR² =
 * R²(tanh) − R²(linear) of the pre-affine output, early/deep = first/second
 * half of the blocks), the claim holds when both
 *   (a) E > 0 (refuted when the data exclude E ≥ minDeltaR2), and
 *   (b) the deep blocks' ΔR² > minDeltaR2 (refuted when the data show it below),
 * paired over seeds (one-sided t at the rules' level), combined with allOf
 * (protocol/combine.ts) into one row of the Holm family. Preconditions: the LN
 * model learned on every seed (classifyRun), at least 2 seeds captured at the
 * end, and at least 2 blocks.
 */
import * as tf from "@tensorflow/tfjs";
import { captureNorms } from "../../hooks/capture";
import { earlyVsDeep, fitCapture, meanOver, type LayerFit } from "../../analysis/scurves";
import { pairedTest } from "../../analysis/paired";
import type { Model, TrainHook } from "../../train/trainer";
import { saveSummary, type ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { VIT_MAIN, VIT_SMALL } from "../sizes";
import { finiteMeanStd, meanStd } from "../stats-lite";
import { resolveArm } from "../protocol/arms";
import { classifyRun } from "../protocol/classify";
import { allOf } from "../protocol/combine";
import { loggedStepsAt, probeImages, type ProbeConfig } from "../protocol/probe";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { runJobs, type Job, type ProtocolRecord } from "../protocol/runner";
import { budgetSchedule, registerHook, registerPrepare, runSplits, stepRef, trainSize, type VitResolvedRun, type RunBase, type StepParams, type VitRunResult } from "../protocol/task";
import { armJob, describePicks, picksOf, tuneArms } from "../protocol/jobs";
import type { LrPick, LrTuningConfig } from "../protocol/tuning";
import { claimOutcome, describeEffect, pairedEvidence, type Outcome, type PairedEvidence, type Precondition } from "../protocol/verdict";

export const SCURVES = "scurves";

export interface ScurvesScale {
  base: RunBase;
  /** The arm whose norms are captured (LayerNorm: the claim is about LN). */
  arm: string;
  /** Budget in epochs over the training images used. */
  epochs: number;
  tuning: LrTuningConfig;
  seeds: number[];
  probe: ProbeConfig;
  /** Capture points as fractions of the budget (0 = at init, before any update). */
  captureAt: number[];
  /** Tokens per layer kept for the scatter plots (first seed only, init and end). */
  plotTokens: number;
}

/** The claim-3 rule's threshold: a deep map counts as bent when tanh explains this much more variance than a line. */
export interface ScurvesRule {
  minDeltaR2: number;
}
export const SCURVES_RULE: ScurvesRule = { minDeltaR2: 0.01 };

const TRAIN = { batchSize: 64, weightDecay: 0.05, clipNorm: 1.0 };

export const SCURVES_SCALES: Record<Scale, ScurvesScale> = {
  smoke: {
    base: { model: { ...VIT_SMALL }, train: { ...TRAIN, batchSize: 32, evalLimit: 128 }, data: { trainLimit: 1000, testLimit: 300 } },
    arm: "layernorm",
    epochs: 0.25,
    tuning: { lrs: [1e-3, 4e-3], seed: 101 },
    seeds: [1],
    probe: { images: 16, seed: 7, maxRows: 256 },
    captureAt: [0, 0.5, 1],
    plotTokens: 8,
  },
  quick: {
    base: { model: { ...VIT_MAIN }, train: { ...TRAIN, evalLimit: 2000 }, data: { trainLimit: 20_000, testLimit: 2000 } },
    arm: "layernorm",
    epochs: 1,
    tuning: { lrs: [1e-3, 4e-3, 1.6e-2], seed: 101 },
    seeds: [1, 2],
    probe: { images: 64, seed: 7, maxRows: 256 },
    captureAt: [0, 0.5, 1],
    plotTokens: 16,
  },
  full: {
    base: { model: { ...VIT_MAIN }, train: { ...TRAIN, evalLimit: 0 }, data: { trainLimit: 20_000, testLimit: 0 } },
    arm: "layernorm",
    epochs: 1.5,
    tuning: { lrs: [1e-3, 4e-3, 1.6e-2, 6.4e-2], seed: 101 },
    seeds: [1, 2, 3],
    probe: { images: 64, seed: 7, maxRows: 256 },
    captureAt: [0, 1 / 6, 0.5, 1],
    plotTokens: 16,
  },
};

// ---------------------------------------------------------------------------------------------
// Named prepare step and hook (registered on load, so worker processes can run them)

export interface ScurvesCapture {
  /** Updates done when captured (0 = init). */
  step: number;
  fits: LayerFit[];
}

function probeOf(p: StepParams): ProbeConfig {
  return { images: Number(p.images), seed: Number(p.seed), maxRows: Number(p.maxRows) };
}

/** Capture and fit every norm of `model` on the probe batch (LN eps from the run's resolved norm options). */
export function captureFits(model: Model, probe: tf.Tensor, cfg: ProbeConfig, eps: number, plotTokens: number): LayerFit[] {
  const caps = captureNorms(model, probe, { maxRows: cfg.maxRows, seed: cfg.seed });
  return caps.map((c) => fitCapture(c, eps, plotTokens));
}

function withProbe<T>(r: VitResolvedRun, p: ProbeConfig, fn: (probe: tf.Tensor) => T): T {
  const probe = probeImages(runSplits(r.data).val, p.images, p.seed);
  try {
    return fn(probe);
  } finally {
    probe.dispose();
  }
}

function assertLayerNorm(r: VitResolvedRun): number {
  if (r.model.norm !== "layernorm") throw new Error(`scurves: the S-curve analysis is of LayerNorm; run arm "${r.arm}" has norm "${r.model.norm}" (use the "layernorm" arm)`);
  return r.normResolved.eps!;
}

registerPrepare("scurves-init", (model, _calibration, ctx) => {
  if (!ctx?.params) throw new Error(`scurves-init: needs probe parameters (build the run with scurvesRefs)`);
  const p = ctx.params;
  const eps = assertLayerNorm(ctx.run);
  return { scurves: withProbe(ctx.run, probeOf(p), (probe) => captureFits(model, probe, probeOf(p), eps, Number(p.plotTokens))) };
});

registerHook("scurves", (r, params) => {
  if (!params) throw new Error(`scurves hook: needs parameters (build the run with scurvesRefs)`);
  const eps = assertLayerNorm(r);
  const at = new Set(params.at as number[]);
  const last = r.train.steps - 1;
  // The hook at index s runs after the update of step s; the probe is rebuilt per capture (a few images, no tensors kept).
  return {
    name: "scurves",
    onLog(step: number, m: Model) {
      if (!at.has(step)) return undefined;
      return { scurves: withProbe(r, probeOf(params), (probe) => captureFits(m, probe, probeOf(params), eps, step === last ? Number(params.plotTokens) : 0)) };
    },
  } satisfies TrainHook;
});

/** The prepare step and hook references of one evaluation run (parameters are part of the cache key). */
export function scurvesRefs(s: ScurvesScale, steps: number, logEvery: number, withSamples: boolean): { prepare?: string; hooks: string[] } {
  if (s.captureAt.some((f) => !(f >= 0 && f <= 1))) throw new Error(`scurves: captureAt fractions must lie in [0, 1], got [${s.captureAt.join(", ")}]`);
  const probe = { images: s.probe.images, seed: s.probe.seed, maxRows: s.probe.maxRows, plotTokens: withSamples ? s.plotTokens : 0 };
  const later = s.captureAt.filter((f) => f > 0);
  return {
    ...(s.captureAt.includes(0) ? { prepare: stepRef("scurves-init", probe) } : {}),
    hooks: later.length ? [stepRef("scurves", { ...probe, at: loggedStepsAt(later, steps, logEvery) })] : [],
  };
}

/** A record's captures, init first (init from the prepare step, the others from the hook's log lines). */
export function scurvesCaptures(rec: Pick<ProtocolRecord, "result">): ScurvesCapture[] {
  const out: ScurvesCapture[] = [];
  const init = rec.result.prepared?.scurves as LayerFit[] | undefined;
  if (init) out.push({ step: 0, fits: init });
  for (const l of rec.result.log) if (l.scurves) out.push({ step: l.step + 1, fits: l.scurves as LayerFit[] });
  return out;
}

/** A record with its captures in view (result.captures), as the figures and notebooks read it. */
export type ScurvesRecord = ProtocolRecord & { result: VitRunResult & { captures: ScurvesCapture[] } };
export function withCaptures(rec: ProtocolRecord): ScurvesRecord {
  return { ...rec, result: { ...rec.result, captures: scurvesCaptures(rec) } };
}

// ---------------------------------------------------------------------------------------------
// Jobs

function schedule(s: ScurvesScale) {
  return budgetSchedule(s.epochs, s.base.data, s.base.train.batchSize ?? 64);
}

export function scurvesEvalJobs(s: ScurvesScale, scale: Scale, seeds: readonly number[], lr: number): Job[] {
  const a = resolveArm(s.arm);
  const sch = schedule(s);
  // Scatter samples only for the first seed: they are for the figures, and keep the other records small.
  return seeds.map((seed, i) =>
    armJob({ experiment: SCURVES, scale, base: { ...s.base, ...scurvesRefs(s, sch.steps, sch.logEvery, i === 0) } }, a, seed, { run: `${a.id}-s${seed}`, role: "eval", lr, axes: { epochs: s.epochs }, train: sch }),
  );
}

// ---------------------------------------------------------------------------------------------
// Summary and verdict

/** Per layer and capture step: mean and std over seeds of the fit statistics. */
export interface LayerSummary {
  layer: string;
  block: number | null;
  slot: string;
  step: number;
  n: number;
  deltaR2: { mean: number; std: number };
  r2Tanh: { mean: number; std: number };
  r2Linear: { mean: number; std: number };
  s: { mean: number; std: number };
  k: { mean: number; std: number };
  maxArg: { mean: number; std: number };
  postDeltaR2: { mean: number; std: number };
}

export interface EarlyDeep {
  seed: number;
  step: number;
  early: number;
  deep: number;
}

export interface ScurvesSummary {
  experiment: string;
  scale: Scale;
  setup: string;
  seeds: number[];
  depth: number;
  pick?: LrPick;
  captureSteps: number[];
  tokensPerLayer: number;
  layers: LayerSummary[];
  /** Per seed, at the last capture: mean pre-affine ΔR² of early and deep block norms. */
  earlyDeep: EarlyDeep[];
  /** Mean ΔR² of norm1 vs norm2 over blocks (and the final norm), per capture step (mean over seeds). */
  slots: { step: number; norm1: number; norm2: number; final: number }[];
  testAcc: { mean: number; std: number; n: number };
  classes: string[];
  evidence?: PairedEvidence;
  verdict: Outcome;
  reason: string;
  statement: string;
}

const ms = finiteMeanStd;

/** Summarise evaluation records (tuning records among them are used for the pick only). */
export function summarizeScurves(scale: Scale, records: readonly ProtocolRecord[], rules: ProtocolRules = RULES, rule: ScurvesRule = SCURVES_RULE): ScurvesSummary {
  const evals = records.filter((r) => r.role === "eval").slice().sort((a, b) => a.seed - b.seed);
  const tune = records.filter((r) => r.role === "tune");
  const pick = tune.length ? picksOf(tune, [evals[0]?.arm ?? tune[0]!.arm], rules)[0] : undefined;
  const depth = evals[0]?.config.model.depth ?? 0;
  const classes = evals.map((r) => classifyRun({ status: r.result.status, acc: r.result.test?.acc, numClasses: r.config.model.numClasses }, rules));
  const ok = evals.filter((r) => r.result.status === "completed");
  const caps = new Map(ok.map((r) => [r, scurvesCaptures(r)]));
  const steps = [...new Set([...caps.values()].flatMap((c) => c.map((x) => x.step)))].sort((a, b) => a - b);
  const at = (step: number) => [...caps.values()].map((c) => c.find((x) => x.step === step)).filter((c): c is ScurvesCapture => !!c);
  const layers: LayerSummary[] = [];
  for (const step of steps) {
    const cs = at(step);
    for (const layer of cs[0]?.fits.map((f) => f.layer) ?? []) {
      const fs = cs.map((c) => c.fits.find((f) => f.layer === layer)).filter((f): f is LayerFit => !!f);
      layers.push({
        layer,
        block: fs[0]!.block,
        slot: fs[0]!.slot,
        step,
        n: fs.length,
        deltaR2: ms(fs.map((f) => f.pre.deltaR2)),
        r2Tanh: ms(fs.map((f) => f.pre.r2Tanh)),
        r2Linear: ms(fs.map((f) => f.pre.r2Linear)),
        s: ms(fs.map((f) => f.pre.s)),
        k: ms(fs.map((f) => f.pre.k)),
        maxArg: ms(fs.map((f) => f.pre.maxArg)),
        postDeltaR2: ms(fs.map((f) => f.post.deltaR2)),
      });
    }
  }
  const last = steps.at(-1);
  const earlyDeep: EarlyDeep[] =
    depth >= 2 && last !== undefined && last > 0
      ? ok.flatMap((r) => {
          const c = caps.get(r)!.find((x) => x.step === last);
          return c ? [{ seed: r.seed, step: last, ...earlyVsDeep(c.fits, depth) }] : [];
        })
      : [];
  const slots = steps.map((step) => {
    const avg = (slot: string) => meanStd(at(step).map((c) => meanOver(c.fits, (f) => f.slot === slot, (f) => f.pre.deltaR2)).filter(Number.isFinite)).mean;
    return { step, norm1: avg("norm1"), norm2: avg("norm2"), final: avg("final") };
  });
  const testAcc = meanStd(ok.filter((r) => r.result.test).map((r) => 100 * r.result.test!.acc));
  const v = scurvesVerdict(earlyDeep, slots, classes, depth, rules, rule);
  const m = evals[0]?.config;
  const setup = m
    ? `LN ViT width ${m.model.dim}, depth ${m.model.depth}; first ${trainSize(m.data).toLocaleString("en")} training images, ${m.train.steps} steps (batch ${m.train.batchSize})${pick ? `; lr tuned on validation: ${describePicks([pick])}` : `; lr ${m.train.lr}`}`
    : "no runs";
  return {
    experiment: SCURVES,
    scale,
    setup,
    seeds: evals.map((r) => r.seed),
    depth,
    ...(pick ? { pick } : {}),
    captureSteps: steps,
    tokensPerLayer: ok[0] ? (caps.get(ok[0])![0]?.fits[0]?.rows ?? 0) : 0,
    layers,
    earlyDeep,
    slots,
    testAcc,
    classes,
    ...v,
  };
}

/** The claim-3 rule (module header) on per-seed early/deep ΔR² at the end of training. */
export function scurvesVerdict(
  earlyDeep: readonly EarlyDeep[],
  slots: readonly { step: number; norm1: number; norm2: number; final: number }[],
  classes: readonly string[],
  depth: number,
  rules: ProtocolRules = RULES,
  rule: ScurvesRule = SCURVES_RULE,
): { evidence?: PairedEvidence; verdict: Outcome; reason: string; statement: string } {
  const f = (v: number) => v.toFixed(4);
  const first = slots[0];
  const lastSlot = slots.at(-1);
  const slotText = first && lastSlot ? ` Mean ΔR² by slot, step ${first.step} → ${lastSlot.step}: norm1 ${f(first.norm1)} → ${f(lastSlot.norm1)}, norm2 ${f(first.norm2)} → ${f(lastSlot.norm2)}, final norm ${f(first.final)} → ${f(lastSlot.final)}.` : "";
  const bad = classes.filter((c) => c !== "learned").length;
  const n = earlyDeep.length;
  const pre: Precondition[] = [
    { ok: bad === 0, reason: `the LN model did not learn on ${bad} of ${classes.length} seeds (${classes.join(", ")})` },
    { ok: depth >= 2, reason: `depth ${depth}: no early and deep blocks to compare` },
    { ok: n >= 2, reason: `${n} seed(s) captured at the end of training: no noise estimate` },
  ];
  const deep = earlyDeep.map((e) => e.deep);
  const early = earlyDeep.map((e) => e.early);
  let evidence: PairedEvidence | undefined;
  let trendMean = NaN;
  let core = "";
  if (n >= 2 && earlyDeep.every((e) => Number.isFinite(e.early) && Number.isFinite(e.deep))) {
    const trend = pairedEvidence(deep, early, "beats", "ΔR²", rules, rule.minDeltaR2);
    const t = pairedTest(deep, deep.map(() => rule.minDeltaR2), rules.level);
    const { pFor, pAgainst } = pairedEvidence(deep, deep.map(() => rule.minDeltaR2), "beats", "ΔR²", rules, 0);
    const bent: PairedEvidence = { prediction: "beats", margin: 0, units: "ΔR² above the bend threshold", test: t, pFor, pAgainst };
    evidence = allOf([trend, bent]);
    trendMean = trend.test.mean;
    const deeper = earlyDeep.filter((e) => e.deep > e.early).length;
    core =
      `S-shapedness ΔR² (pre-affine) at the end of training: deep blocks ${f(meanStd(deep).mean)}, early blocks ${f(meanStd(early).mean)} (${n} seeds; deep > early in ${deeper}/${n}); ` +
      `deep − early ${describeEffect(trend)}; deep − ${rule.minDeltaR2} ${describeEffect(bent)}.`;
  }
  const { outcome, reason } = claimOutcome(pre, evidence, rules);
  const why =
    outcome === "supported"
      ? `deep blocks are more S-shaped than early ones and bent beyond ΔR² ${rule.minDeltaR2}`
      : outcome === "not supported"
        ? trendMean < 0
          ? "the trend is reversed: the early blocks' maps are more S-shaped than the deep blocks'"
          : `the deep maps are not more S-shaped than the early ones by ${rule.minDeltaR2}, or are barely bent`
        : reason;
  const full = outcome === "supported" || outcome === "not supported" ? `${why} (${reason})` : reason;
  return { ...(evidence ? { evidence } : {}), verdict: outcome, reason: full, statement: `${core}${core ? " " : ""}${outcome}: ${full}.${slotText}` };
}

/** Tune LN's lr, train (or load) every seed with the captures, and summarise. */
export async function runScurves(ctx: ExperimentContext, override: Partial<ScurvesScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: ScurvesRecord[]; summary: ScurvesSummary }> {
  const s: ScurvesScale = { ...SCURVES_SCALES[ctx.scale], ...override };
  const seeds = ctx.seeds ?? s.seeds;
  const { records: tuneRecs, picks } = await tuneArms({ experiment: SCURVES, scale: ctx.scale, base: s.base, train: schedule(s), tuning: s.tuning }, [s.arm], seeds, ctx, rules);
  const evals = await runJobs(scurvesEvalJobs(s, ctx.scale, seeds, picks[0]!.bestLr), ctx);
  const summary = summarizeScurves(ctx.scale, [...tuneRecs, ...evals], rules);
  saveSummary(SCURVES, ctx.scale, summary);
  return { records: evals.map(withCaptures), summary };
}
