/**
 * Reviewer studies R-outliers and R-quant on the language model (issue 12,
 * item 4): does the LLaMA-style byte-level LM of lm-rmsnorm-dyt have fewer
 * LLM.int8() outlier features with DyT than with RMSNorm, and does it lose
 * no more bits per byte under post-training int8 / FP8 quantisation? The
 * ViT study (quantization/) asks the same of LN vs DyT ViTs; both measure
 * through quantization/measure.ts.
 *
 * Design, pre-registered by the lead on 2026-12-02, before any run of this
 * experiment (not to be changed after seeing data; a change would keep the
 * old outcome visible):
 *  - Arms "rmsnorm" and "dyt-lm" (the arms of lm-rmsnorm-dyt: DyT in the
 *    paper's LLaMA recipe, γ only, α₀ by width, a learnable scalar after the
 *    embedding), on lm-rmsnorm-dyt's model, text and budget at each scale
 *    (full: width 64, depth 2, 4 heads, context 128 bytes, 996 steps of batch
 *    32 x 128 = 0.2 epoch, AdamW wd 0.1, clip 1, 5 % warmup + cosine).
 *  - lr: not tuned here. Each arm runs at lm-rmsnorm-dyt's tuned pick at full
 *    (results/lm-rmsnorm-dyt/full/summary.json, picks: RMSNorm 1e-2, DyT
 *    1e-2; LM_QUANT_LRS), at every scale and at both widths (the width-128
 *    models are not re-tuned either).
 *  - Seeds 1, 2, 3 per arm at width 64; a second width, 128 (depth 2, 8
 *    heads: head dim 16 as lm-alpha0), seeds 1, 2 per arm, or 1 seed if
 *    two push full over its budget (they do: seed 1 only, see Cost below).
 *  - Measured at the end of training (hook "lm-quant", after the final
 *    update) on a fixed batch of test windows (the first captureWindows
 *    windows of the test split): the inputs of every block's q/k/v
 *    (attn.qkv), attention output projection (attn.proj) and SwiGLU gate/up
 *    projection (mlp.fc1, fused), not the down projection (mlp.fc2), as the
 *    LLM.int8() protocol: outlier features by the LLM.int8() definition
 *    (|x| >= 6 in >= 25 % of layers and >= 6 % of positions;
 *    lib/analysis/outliers.ts), the RMS-relative variant (>= 6 RMS), max|X|/RMS
 *    and kurtosis; and the test bits per byte (the run's testLimit windows)
 *    under each of QUANT_SCHEMES, weights + inputs of the block Linears
 *    fake-quantised, embedding, head and norms in fp32, reported as the
 *    increase over the run's fp32 test bpb (same weights, same windows).
 *  - The outlier measures also at trackPoints (5) evenly spaced steps of
 *    training (the last is the final step), descriptive.
 *  - Rules, in bits, mirroring the ViT ones, paired over units (width, seed)
 *    where both arms ran (5 at full: 3 at width 64, 2 at width 128), both
 *    arms learned on every unit (classify.ts bitsScore on the test bpb: the
 *    LM learned rule) and at least 2 units, else not testable:
 *    R-outliers (LM): precondition "LLM.int8() outlier features exist in at
 *      least one arm on some seed" (a count > 0 at any width), else not
 *      testable ("no outlier features at widths 64/128; largest tried: ...").
 *      Effect: DyT − RMSNorm outlier feature count, prediction "worse" (DyT
 *      has fewer; refuted when the data exclude one feature fewer), as the
 *      ViT rule.
 *    R-quant (LM): per scheme, effect = DyT's bpb increase under quantisation
 *      − RMSNorm's; prediction "DyT matches": at most rules.lmMatchMarginBpb
 *      (0.02 bpb) worse; the claim holds for every scheme (allOf).
 *
 * Cost (full <= 25 min wall on 2 workers of the idle 2-core machine): the
 * width-64 step at batch 32 x 128 costs ~0.25 s there (lm-rmsnorm-dyt:
 * 270-280 s per run with its evals). Width 128 was measured here on
 * 2026-12-02 with 6 training steps of batch 32 x 128 per model (native
 * engine, one BLAS thread, nice'd while the lead's 2-worker run held both
 * cores, so only process CPU time per step means anything): width 64
 * RMSNorm 0.98 s (its first step carries the warm-up), DyT 0.65 s; width
 * 128 RMSNorm 1.40 s, DyT 1.39 s: width 128 costs ~2.1x width 64 (DyT
 * 1.39 / 0.65; lm-alpha0 measured 1.96x at batch 16), so ~0.53 s per step
 * on the idle machine,
 * ~550 s per run. The measurement adds 5 captures of 16 windows and 5
 * quantised passes over the 1,024 test windows (estimated ~25 s at width
 * 64, ~50 s at width 128; not timed). 6 runs x ~305 s + 4 runs x ~600 s =
 * ~4,200 s of worker time, ~35 min on 2 workers: over the budget, so width
 * 128 runs ONE seed per arm at full, as the design allows ("if width 128
 * pushes full over budget, drop to 1 seed and say so"): 6 x 305 + 2 x 600 =
 * ~3,000 s, ~25 min on 2 workers (an estimate; full has not been run), and
 * the paired units are 4 (3 at width 64 + 1 at width 128). Quick:
 * lm-rmsnorm-dyt's quick model and budget (batch 16, 120 steps) at widths 64
 * (seeds 1, 2) and 128 (seed 1), 256 test windows: 6 runs, estimated ~2 min
 * on 2 workers (not timed: the machine was saturated). Smoke: the smoke LM
 * (depth 1) at widths 16 (seeds 1, 2) and 32 (seed 1), 16 steps on the first
 * 4 k tokens, seconds per run on an idle machine.
 */
import * as tf from "@tensorflow/tfjs";
import { meanStd } from "../stats-lite";
import { saveSummary, type ExperimentContext } from "../runner";
import type { Scale } from "../scale";
import { resolveArm } from "../protocol/arms";
import { bitsScore, type RunClass } from "../protocol/classify";
import { allOf } from "../protocol/combine";
import { armJob, describeBase, epochSchedule } from "../protocol/jobs";
import { registerLmHook, textSplits, type LmResolvedRun, type LmRunBase } from "../protocol/lm-task";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { runJobs, type Job, type LmProtocolRecord } from "../protocol/runner";
import { stepRef } from "../protocol/task";
import { claimOutcome, pairedEvidence, type Outcome, type PairedEvidence, type Precondition } from "../protocol/verdict";
import type { Llama } from "../../models/llama";
import { nextTokenTask } from "../../train/task";
import type { TrainHook } from "../../train/trainer";
import { LM_RMSNORM_DYT_SCALES } from "../lm-rmsnorm-dyt/spec";
import { measureOutliers, quantHooks, QUANT_SCHEMES, tensorAggregates, type BlockModel, type OutlierMeasures, type QuantScheme } from "../quantization/measure";
import type { QuantVerdict } from "../quantization/spec";
import { fixed, signed } from "../../util/format";

export const LM_QUANT = "lm-quant";

/**
 * Each arm's lr: lm-rmsnorm-dyt's tuned picks at full, taken as fixed
 * constants (source: results/lm-rmsnorm-dyt/full/summary.json, "picks":
 * dyt-lm bestLr 0.01, rmsnorm bestLr 0.01; a test checks they still agree).
 * Tuning is not repeated here.
 */
export const LM_QUANT_LRS: Readonly<Record<string, number>> = { rmsnorm: 1e-2, "dyt-lm": 1e-2 };

export interface LmQuantWidth {
  /** Run-id prefix, e.g. "w64". */
  name: string;
  model: { dim: number; heads: number };
  seeds: number[];
}

export interface LmQuantScale {
  /** lm-rmsnorm-dyt's base at this scale (model depth, text, batch, evals). */
  base: LmRunBase;
  /** [RMSNorm arm, DyT arm]. */
  arms: [string, string];
  /** Budget in epochs over the text train split's windows (lm-rmsnorm-dyt's). */
  epochs: number;
  /** The first is the primary width (lm-rmsnorm-dyt's model). */
  widths: LmQuantWidth[];
  /** Test windows in the activation-capture batch. */
  captureWindows: number;
  /** Steps of training at which the outliers are measured (evenly spaced, the last at the final step). */
  trackPoints: number;
}

const width = (dim: number, seeds: number[], headDim = 16): LmQuantWidth => ({ name: `w${dim}`, model: { dim, heads: dim / headDim }, seeds });
const LMR = LM_RMSNORM_DYT_SCALES;

export const LM_QUANT_SCALES: Record<Scale, LmQuantScale> = {
  smoke: {
    base: LMR.smoke.base,
    arms: ["rmsnorm", "dyt-lm"],
    epochs: LMR.smoke.epochs,
    widths: [width(16, [1, 2], 8), width(32, [1], 8)],
    captureWindows: 4,
    trackPoints: 3,
  },
  quick: {
    base: { ...LMR.quick.base, data: { ...LMR.quick.base.data, testLimit: 256 } },
    arms: ["rmsnorm", "dyt-lm"],
    epochs: LMR.quick.epochs,
    widths: [width(64, [1, 2]), width(128, [1])],
    captureWindows: 16,
    trackPoints: 5,
  },
  full: {
    base: LMR.full.base,
    arms: ["rmsnorm", "dyt-lm"],
    epochs: LMR.full.epochs,
    // Width 128 at one seed: two would put full at ~35 min on 2 workers (module header).
    widths: [width(64, [1, 2, 3]), width(128, [1])],
    captureWindows: 16,
    trackPoints: 5,
  },
};

// ---------------------------------------------------------------------------------------------
// The measuring hook

/** One measurement: outliers on the capture batch; at the final step also the test bpb per scheme. */
export interface LmQuantPoint extends OutlierMeasures {
  /** Updates done when measured (1-based, as the evals' steps). */
  step: number;
  /** Test bits per byte per scheme over the run's testLimit windows (final step only). */
  quantBpb?: Partial<Record<QuantScheme, number>>;
}

/**
 * The 0-based step indices the hook measures at: k·steps/points for k = 1..points,
 * each moved down to a logged step (the trainer calls hooks on those only), the
 * last at the final step.
 */
export function trackSteps(steps: number, logEvery: number, points: number): number[] {
  const out = new Set<number>();
  for (let k = 1; k <= points; k++) {
    if (k === points) out.add(steps - 1);
    else out.add(Math.max(0, Math.floor((Math.round((k * steps) / points) - 1) / logEvery) * logEvery));
  }
  return [...out].sort((a, b) => a - b);
}

/** The first `n` windows of a token stream as token ids [n, T]. */
export function captureBatch(tokens: ArrayLike<number>, seqLen: number, n: number): tf.Tensor2D {
  const avail = Math.floor((tokens.length - 1) / seqLen);
  const m = Math.min(n, avail);
  if (m < 1) throw new Error(`${LM_QUANT}: the test split has no window of ${seqLen} tokens`);
  const x = new Int32Array(m * seqLen);
  for (let i = 0; i < x.length; i++) x[i] = tokens[i]!;
  return tf.tensor2d(x, [m, seqLen], "int32");
}

/** Outliers of a trained LM on its capture batch (token ids [n, T]). */
export function measureLmOutliers(model: BlockModel, tokens: tf.Tensor): OutlierMeasures {
  return measureOutliers(model, tokens);
}

/** Test bits per byte of `model` under each scheme, over the run's test windows. */
export function quantBpbs(model: Llama, r: LmResolvedRun): Record<QuantScheme, number> {
  const d = textSplits(r.data);
  const task = nextTokenTask(d.train, d.test, { seqLen: r.data.seqLen });
  const out = {} as Record<QuantScheme, number>;
  for (const s of QUANT_SCHEMES) out[s] = task.evaluate(model, r.data.testLimit, r.train.evalBatchSize, quantHooks(s)).bpb!;
  return out;
}

registerLmHook(LM_QUANT, (r, params): TrainHook => {
  const captureWindows = Number(params?.captureWindows);
  const points = Number(params?.track);
  if (!(captureWindows > 0) || !(points > 0)) throw new Error(`${LM_QUANT} hook: needs captureWindows > 0 and track > 0 (build the run with lmQuantJobs)`);
  const at = new Set(trackSteps(r.train.steps, r.train.logEvery, points));
  const last = r.train.steps - 1;
  return {
    name: LM_QUANT,
    onLog(step, m) {
      if (!at.has(step)) return undefined;
      const model = m as Llama;
      const x = captureBatch(textSplits(r.data).test.tokens, r.data.seqLen, captureWindows);
      let point: LmQuantPoint;
      try {
        point = { step: step + 1, ...measureLmOutliers(model, x) };
      } finally {
        x.dispose();
      }
      if (step === last) point.quantBpb = quantBpbs(model, r);
      return { lmQuant: point };
    },
  };
});

/** The run's measurements, in step order (from its log lines). */
export function lmQuantPoints(rec: LmProtocolRecord): LmQuantPoint[] {
  return rec.result.log.flatMap((l) => {
    const p = (l as { lmQuant?: LmQuantPoint }).lmQuant;
    return p ? [p] : [];
  });
}

// ---------------------------------------------------------------------------------------------
// Jobs

export function lmQuantJob(s: LmQuantScale, scale: Scale, w: LmQuantWidth, armId: string, seed: number): Job<LmResolvedRun> {
  const a = resolveArm(armId);
  const lr = LM_QUANT_LRS[a.id];
  if (lr === undefined) throw new Error(`${LM_QUANT}: no lr for arm "${a.id}" (LM_QUANT_LRS has ${Object.keys(LM_QUANT_LRS).join(", ")})`);
  const base: LmRunBase = { ...s.base, hooks: [stepRef(LM_QUANT, { captureWindows: s.captureWindows, track: s.trackPoints })] };
  return armJob({ experiment: LM_QUANT, scale, base }, a, seed, {
    run: `${w.name}-${a.id}-s${seed}`,
    role: "eval",
    lr,
    model: w.model,
    train: epochSchedule(s.epochs, s.base),
    axes: { size: w.name, width: w.model.dim, epochs: s.epochs },
  });
}

/** Every run: the widest (costliest) width first, seed-major, both arms per seed. */
export function lmQuantJobs(s: LmQuantScale, scale: Scale, seeds?: readonly number[]): Job<LmResolvedRun>[] {
  const widths = s.widths.slice().sort((x, y) => y.model.dim - x.model.dim);
  return widths.flatMap((w) => (seeds ? w.seeds.filter((x) => seeds.includes(x)) : w.seeds).flatMap((seed) => s.arms.map((a) => lmQuantJob(s, scale, w, a, seed))));
}

// ---------------------------------------------------------------------------------------------
// Summary and verdicts

export interface LmQuantTrackPoint {
  step: number;
  outliersAbs: number;
  outliersRel: number;
  kurtosis: number;
  maxOverRms: number;
}

export interface LmQuantSeed {
  width: number;
  seed: number;
  class: RunClass;
  /** fp32 test bits per byte (the run's). */
  fp32Bpb: number;
  /** Test bpb increase under each scheme, quantised − fp32 (positive = lost). */
  increase: Partial<Record<QuantScheme, number>>;
  outliersAbs: number;
  outliersRel: number;
  /** Mean over tracked tensors of kurtosis. */
  kurtosis: number;
  /** Max over tracked tensors of max|X|/RMS. */
  maxOverRms: number;
  track: LmQuantTrackPoint[];
}

type Stat = { mean: number; std: number; n: number };

export interface LmQuantArm {
  arm: string;
  label: string;
  width: number;
  lr: number;
  params: number;
  perSeed: LmQuantSeed[];
  fp32Bpb: Stat;
  increase: Record<string, Stat>;
  outliersAbs: Stat;
  outliersRel: Stat;
  kurtosis: Stat;
  maxOverRms: Stat;
}

export interface LmQuantWidthSummary {
  width: number;
  /** [RMSNorm, DyT]. */
  arms: [LmQuantArm, LmQuantArm];
}

export interface LmQuantSummary {
  experiment: string;
  scale: Scale;
  setup: string;
  /** The models tried, narrowest first ("LLaMA-style LM width 64, depth 2 (N parameters)"). */
  models: string[];
  lrs: Record<string, number>;
  byWidth: LmQuantWidthSummary[];
  outliers: QuantVerdict;
  quantization: QuantVerdict;
  /** The quantisation verdict (the headline); the outlier verdict is in `outliers`. */
  verdict: Outcome;
  statement: string;
}

const nanIfMissing = (x: number | undefined) => x ?? NaN;

function seedOf(r: LmProtocolRecord, rules: ProtocolRules): LmQuantSeed {
  const pts = lmQuantPoints(r);
  const fin = pts.at(-1);
  const score = bitsScore(r, "test", rules);
  const fp32 = r.result.status === "completed" && r.result.test ? r.result.test.bpb : NaN;
  const increase: LmQuantSeed["increase"] = {};
  for (const s of QUANT_SCHEMES) if (fin?.quantBpb?.[s] !== undefined) increase[s] = fin.quantBpb[s]! - fp32;
  const agg = fin ? tensorAggregates(fin.tensors) : { kurtosis: NaN, maxOverRms: NaN };
  return {
    width: r.config.model.dim,
    seed: r.seed,
    class: score.class,
    fp32Bpb: fp32,
    increase,
    outliersAbs: nanIfMissing(fin?.quantBpb ? fin.outliersAbs.count : undefined),
    outliersRel: nanIfMissing(fin?.quantBpb ? fin.outliersRel.count : undefined),
    kurtosis: fin?.quantBpb ? agg.kurtosis : NaN,
    maxOverRms: fin?.quantBpb ? agg.maxOverRms : NaN,
    track: pts.map((p) => ({ step: p.step, outliersAbs: p.outliersAbs.count, outliersRel: p.outliersRel.count, ...tensorAggregates(p.tensors) })),
  };
}

export function lmQuantArm(records: readonly LmProtocolRecord[], armId: string, dim: number, rules: ProtocolRules = RULES): LmQuantArm {
  const a = resolveArm(armId);
  const rs = records.filter((r) => r.role === "eval" && r.arm === a.id && r.config.model.dim === dim).sort((x, y) => x.seed - y.seed);
  const perSeed = rs.map((r) => seedOf(r, rules));
  const ok = perSeed.filter((p) => Number.isFinite(p.outliersAbs));
  const increase: LmQuantArm["increase"] = {};
  for (const s of QUANT_SCHEMES) increase[s] = meanStd(ok.filter((p) => p.increase[s] !== undefined).map((p) => p.increase[s]!));
  return {
    arm: a.id,
    label: a.label,
    width: dim,
    lr: rs[0]?.config.train.lr ?? LM_QUANT_LRS[a.id] ?? NaN,
    params: rs[0]?.result.params ?? 0,
    perSeed,
    fp32Bpb: meanStd(perSeed.map((p) => p.fp32Bpb).filter(Number.isFinite)),
    increase,
    outliersAbs: meanStd(ok.map((p) => p.outliersAbs)),
    outliersRel: meanStd(ok.map((p) => p.outliersRel)),
    kurtosis: meanStd(ok.map((p) => p.kurtosis)),
    maxOverRms: meanStd(ok.map((p) => p.maxOverRms)),
  };
}

/** A paired unit: one width and seed on which both arms ran. */
interface Unit {
  width: number;
  seed: number;
  rms: LmQuantSeed;
  dyt: LmQuantSeed;
}

function units(byWidth: readonly LmQuantWidthSummary[]): { units: Unit[]; pre: Precondition[] } {
  const us: Unit[] = byWidth.flatMap((w) => {
    const [rms, dyt] = w.arms;
    return rms.perSeed.flatMap((p) => {
      const q = dyt.perSeed.find((x) => x.seed === p.seed);
      return q ? [{ width: w.width, seed: p.seed, rms: p, dyt: q }] : [];
    });
  });
  const arms = byWidth.length ? byWidth[0]!.arms.map((a) => a.label) : ["RMSNorm", "DyT"];
  const pre: Precondition[] = [0, 1].map((i) => {
    const all = byWidth.flatMap((w) => w.arms[i]!.perSeed);
    const bad = all.filter((p) => p.class !== "learned");
    return { ok: all.length > 0 && bad.length === 0, reason: `${arms[i]} did not learn on ${bad.length} of ${all.length} runs (${bad.map((p) => `width ${p.width} seed ${p.seed}: ${p.class}`).join(", ")})` };
  });
  pre.push({ ok: us.length >= 2, reason: `${us.length} paired (width, seed) unit(s): no noise estimate` });
  return { units: us, pre };
}

const f2 = fixed(2);
const f3 = fixed(3);
const s3 = signed(3);

/** DyT − RMSNorm in the evidence's units, for evidence built as (DyT, RMSNorm) (sign = 1) or as (−DyT, −RMSNorm) (sign = −1). */
function dytMinusRms(e: PairedEvidence, sign: 1 | -1): string {
  const t = e.test;
  const lo = sign === 1 ? t.ci[0] : -t.ci[1];
  const hi = sign === 1 ? t.ci[1] : -t.ci[0];
  return `${s3(sign * t.mean)} [${s3(lo)}, ${s3(hi)}] ${e.units} (n = ${t.n})`;
}

const perWidth = (byWidth: readonly LmQuantWidthSummary[], f: (a: LmQuantArm) => string) => byWidth.map((w) => `width ${w.width}: RMSNorm ${f(w.arms[0])}, DyT ${f(w.arms[1])}`).join("; ");

/** R-outliers (LM) (module header). `largest` names the largest model tried, for the not-testable reason. */
export function lmOutlierVerdict(byWidth: readonly LmQuantWidthSummary[], largest: string, rules: ProtocolRules = RULES): QuantVerdict {
  const { units: us, pre } = units(byWidth);
  const any = byWidth.some((w) => w.arms.some((a) => a.perSeed.some((p) => p.outliersAbs > 0)));
  const widths = byWidth.map((w) => w.width).join("/");
  pre.unshift({ ok: any, reason: `no outlier features at widths ${widths || "—"} (LLM.int8(): |x| ≥ 6 in ≥ 25 % of layers and ≥ 6 % of positions; 0 on every seed of both arms); largest tried: ${largest}` });
  const ready = pre.every((p) => p.ok);
  const evidence = ready ? pairedEvidence(us.map((u) => u.dyt.outliersAbs), us.map((u) => u.rms.outliersAbs), "worse", "outlier features", rules) : undefined;
  const { outcome, reason } = claimOutcome(pre, evidence, rules);
  const facts =
    `outlier features |x| ≥ 6 (mean over seeds), ${perWidth(byWidth, (a) => f2(a.outliersAbs.mean))}; ≥ 6 RMS, ${perWidth(byWidth, (a) => f2(a.outliersRel.mean))}; ` +
    `mean kurtosis of the q/k/v, Wo, gate/up inputs, ${perWidth(byWidth, (a) => f2(a.kurtosis.mean))}; max|X|/RMS, ${perWidth(byWidth, (a) => f2(a.maxOverRms.mean))}`;
  return { verdict: outcome, reason, statement: `${evidence ? `DyT − RMSNorm outlier features, paired over (width, seed): ${dytMinusRms(evidence, 1)}; ` : ""}${facts}. ${outcome}: ${reason}.`, ...(evidence ? { evidence } : {}) };
}

/** R-quant (LM) (module header): under every scheme DyT's test-bpb increase is at most lmMatchMarginBpb above RMSNorm's. */
export function lmQuantVerdict(byWidth: readonly LmQuantWidthSummary[], rules: ProtocolRules = RULES): QuantVerdict {
  const { units: us, pre } = units(byWidth);
  const finite = us.every((u) => QUANT_SCHEMES.every((q) => Number.isFinite(u.rms.increase[q] ?? NaN) && Number.isFinite(u.dyt.increase[q] ?? NaN)));
  if (!finite) pre.push({ ok: false, reason: "a run has no quantised test bpb (diverged, or saved without the lm-quant measurement)" });
  const ready = pre.every((p) => p.ok);
  // Lower is better: the evidence is on the negated increases, so "matches" reads RMSNorm's − DyT's > −margin.
  const parts = ready ? QUANT_SCHEMES.map((q) => ({ q, e: pairedEvidence(us.map((u) => -u.dyt.increase[q]!), us.map((u) => -u.rms.increase[q]!), "matches", "bpb", rules, rules.lmMatchMarginBpb) })) : [];
  const evidence = parts.length ? allOf(parts.map((p) => p.e)) : undefined;
  const { outcome, reason } = claimOutcome(pre, evidence, rules);
  // The fp32 bpbs frame the increases: a weaker model can lose less simply because it has less to lose.
  const facts = `fp32 test bpb, ${perWidth(byWidth, (a) => f3(a.fp32Bpb.mean))}; bpb increase (mean over seeds) ` + QUANT_SCHEMES.map((q) => `${q}: ${perWidth(byWidth, (a) => f3(a.increase[q]!.mean))}`).join(" | ");
  const effects = parts.map((p) => `${p.q} ${dytMinusRms(p.e, -1)}`).join("; ");
  return { verdict: outcome, reason, statement: `${effects ? `DyT's test-bpb increase − RMSNorm's, paired over (width, seed), per scheme: ${effects}. ` : ""}${facts}. ${outcome}: ${reason}.`, ...(evidence ? { evidence } : {}) };
}

function modelText(records: readonly LmProtocolRecord[], dim: number): string {
  const r = records.find((x) => x.role === "eval" && x.config.model.dim === dim);
  return r ? `LLaMA-style LM width ${dim}, depth ${r.config.model.depth} (${r.result.params.toLocaleString("en")} parameters with ${resolveArm(r.arm).label})` : `width ${dim} (no runs)`;
}

export function summarizeLmQuant(records: readonly LmProtocolRecord[], s: LmQuantScale, scale: Scale, rules: ProtocolRules = RULES): LmQuantSummary {
  const dims = [...new Set(records.filter((r) => r.role === "eval").map((r) => r.config.model.dim))].sort((a, b) => a - b);
  const byWidth: LmQuantWidthSummary[] = dims.map((d) => ({ width: d, arms: [lmQuantArm(records, s.arms[0], d, rules), lmQuantArm(records, s.arms[1], d, rules)] }));
  const models = dims.map((d) => modelText(records, d));
  const outliers = lmOutlierVerdict(byWidth, models.at(-1) ?? "none", rules);
  const quantization = lmQuantVerdict(byWidth, rules);
  const lrs = Object.fromEntries(s.arms.map((a) => [a, LM_QUANT_LRS[a]!]));
  const seeds = s.widths.map((w) => `width ${w.model.dim} (${w.model.heads} heads): seeds ${w.seeds.join(", ")}`).join("; ");
  const setup =
    `${describeBase(s.base, s.epochs)}; ${seeds}; lr fixed per arm at lm-rmsnorm-dyt's tuned picks at full (${s.arms.map((a) => `${resolveArm(a).label} ${LM_QUANT_LRS[a]}`).join(", ")}; not re-tuned here, nor at width 128); ` +
    `outliers on the first ${s.captureWindows} test windows at ${s.trackPoints} steps; quantised test bpb over ${s.base.data.testLimit} test windows (${QUANT_SCHEMES.join(", ")}; block Linears' weights + inputs, embedding, head and norms fp32)`;
  return {
    experiment: LM_QUANT,
    scale,
    setup,
    models,
    lrs,
    byWidth,
    outliers,
    quantization,
    verdict: quantization.verdict,
    statement: `Quantisation (${quantization.verdict}): ${quantization.statement} Outliers (${outliers.verdict}): ${outliers.statement}`,
  };
}

/** Run (or load) every run, then summarise. */
export async function runLmQuant(ctx: ExperimentContext, override: Partial<LmQuantScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: LmProtocolRecord[]; summary: LmQuantSummary }> {
  const s: LmQuantScale = { ...LM_QUANT_SCALES[ctx.scale], ...override };
  const records = await runJobs(lmQuantJobs(s, ctx.scale, ctx.seeds), ctx);
  const summary = summarizeLmQuant(records, s, ctx.scale, rules);
  saveSummary(LM_QUANT, ctx.scale, summary);
  return { records, summary };
}
