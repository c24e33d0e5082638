/**
 * Reviewer question "R-invariance": LayerNorm's rescaling invariances are
 * gone in DyT (only DyT_a(c x) = DyT_(c a)(x) remains). Does that matter?
 * Part 1 measures the invariances numerically (numeric.ts). Part 2 trains LN
 * and DyT ViTs on Fashion-MNIST whose input images are multiplied by 0.1, 1
 * or 10 (DataConfig.inputScale: a data transform, part of each run's resolved
 * config; same seeds, same schedule) and compares each arm's final test
 * accuracy at every input scale with its own at scale 1, paired over seeds.
 *
 * lr: each arm trains at its own lr, tuned on validation at input scale 1
 * (tuning seed), and keeps it at every input scale: the question is whether
 * an arm's recipe survives a rescaled input, and re-tuning per scale would let
 * the lr absorb the very effect measured.
 *
 * The rule (stated before the runs). Preconditions: the numerical table
 * matches the theory; both arms learned on every seed at input scale 1; at
 * least 2 seeds. At the other scales a run that diverged or did not learn is
 * scored at chance accuracy (its failure is the effect being measured). With
 * E_arm(c) = acc(arm, c) − acc(arm, 1) per seed (points):
 *   LN insensitive: E_LN(c) > −margin ("matches") at every c (allOf);
 *   DyT sensitive:  E_DyT(c) < 0 ("worse") at some c (anyOf);
 * the claim is both (allOf), one row of the Holm family.
 */
import type { ExperimentContext } from "../runner";
import { cachedRun, saveSummary } from "../runner";
import type { Scale } from "../scale";
import { VIT_SMALL } from "../sizes";
import { meanStd } from "../stats-lite";
import { resolveArm } from "../protocol/arms";
import { classifyRun, type RunClass } from "../protocol/classify";
import { allOf, anyOf } from "../protocol/combine";
import { RULES, type ProtocolRules } from "../protocol/rules";
import { runJobs, type Job, type ProtocolRecord } from "../protocol/runner";
import { budgetSchedule, trainSize, type RunBase } from "../protocol/task";
import { armJob, describePicks, picksOf, tuneArms } from "../protocol/jobs";
import type { LrPick, LrTuningConfig } from "../protocol/tuning";
import { claimOutcome, describeEffect, pairedEvidence, type Outcome, type PairedEvidence, type Precondition } from "../protocol/verdict";
import { invarianceTable, type InvarianceOptions, type InvarianceRow } from "./numeric";
import type { LogLine } from "../../train/trainer";

export const INVARIANCE = "invariance";

export interface InvarianceScale {
  base: RunBase;
  /** [LN-like arm, DyT-like arm]: the claim is "A is insensitive to the input scale, B is not". */
  arms: [string, string];
  /** Multipliers applied to the (already standardised) input images; must include 1. */
  inputScales: number[];
  epochs: number;
  tuning: LrTuningConfig;
  seeds: number[];
  numeric: InvarianceOptions;
}

const TRAIN = { batchSize: 64, weightDecay: 0.05, clipNorm: 1.0 };
const NUMERIC: InvarianceOptions = { rows: 64, dim: 64, inDim: 64, seed: 0 };

export const INVARIANCE_SCALES: Record<Scale, InvarianceScale> = {
  smoke: {
    base: { model: { ...VIT_SMALL }, train: { ...TRAIN, batchSize: 32, evalLimit: 128 }, data: { trainLimit: 1000, testLimit: 300 } },
    arms: ["layernorm", "dyt"],
    inputScales: [0.1, 1, 10],
    epochs: 0.25,
    tuning: { lrs: [1e-3, 4e-3], seed: 101 },
    seeds: [1],
    numeric: NUMERIC,
  },
  quick: {
    base: { model: { ...VIT_SMALL }, train: { ...TRAIN, evalLimit: 1000 }, data: { trainLimit: 20_000, testLimit: 2000 } },
    arms: ["layernorm", "dyt"],
    inputScales: [0.1, 1, 10],
    epochs: 0.6,
    tuning: { lrs: [1e-3, 4e-3, 1.6e-2], seed: 101 },
    seeds: [1, 2],
    numeric: NUMERIC,
  },
  full: {
    base: { model: { ...VIT_SMALL }, train: { ...TRAIN, evalLimit: 2000 }, data: { trainLimit: 20_000, testLimit: 0 } },
    arms: ["layernorm", "dyt"],
    inputScales: [0.1, 1, 10],
    epochs: 1.6,
    tuning: { lrs: [1e-3, 4e-3, 1.6e-2, 6.4e-2], seed: 101 },
    seeds: [1, 2, 3],
    numeric: NUMERIC,
  },
};

function schedule(s: InvarianceScale) {
  return budgetSchedule(s.epochs, s.base.data, s.base.train.batchSize ?? 64);
}

function xId(c: number): string {
  return `x${c}`;
}

export function invarianceEvalJobs(s: InvarianceScale, scale: Scale, seeds: readonly number[], picks: readonly LrPick[]): Job[] {
  if (!s.inputScales.includes(1)) throw new Error(`invariance: inputScales [${s.inputScales.join(", ")}] must include 1 (every scale is compared with it)`);
  const sch = schedule(s);
  return seeds.flatMap((seed) =>
    s.inputScales.flatMap((c) =>
      s.arms.map((id) => {
        const a = resolveArm(id);
        const lr = picks.find((p) => p.arm === a.id)!.bestLr;
        const base: RunBase = { ...s.base, data: { ...s.base.data, ...(c !== 1 ? { inputScale: c } : {}) } };
        return armJob({ experiment: INVARIANCE, scale, base }, a, seed, { run: `${a.id}-${xId(c)}-s${seed}`, role: "eval", lr, axes: { inputScale: c }, train: sch });
      }),
    ),
  );
}

export interface ScaleCell {
  arm: string;
  label: string;
  inputScale: number;
  lr: number;
  seeds: number[];
  /** Test accuracy per seed (%), NaN where the run diverged. */
  accs: number[];
  classes: RunClass[];
  testAcc: { mean: number; std: number; n: number };
  /** Mean train loss over the last 10 % of logged steps, mean over seeds. */
  finalLoss: number;
  /** Versus the same arm at input scale 1, paired over seeds (failed runs scored at chance). */
  vsUnit?: PairedEvidence;
}

export interface InvarianceSummary {
  experiment: string;
  scale: Scale;
  setup: string;
  numeric: InvarianceRow[];
  numericPass: boolean;
  picks: LrPick[];
  cells: ScaleCell[];
  /** Per arm: max − min of the mean test accuracy over the input scales (points). */
  spread: { arm: string; label: string; points: number }[];
  evidence?: PairedEvidence;
  verdict: Outcome;
  reason: string;
  statement: string;
}

function finalLoss(log: readonly LogLine[]): number {
  const ok = log.filter((l) => Number.isFinite(l.loss));
  const tail = ok.slice(Math.floor(ok.length * 0.9));
  return tail.length ? tail.reduce((a, l) => a + l.loss, 0) / tail.length : NaN;
}

export function summarizeInvariance(scale: Scale, numeric: InvarianceRow[], records: readonly ProtocolRecord[], arms: readonly [string, string], rules: ProtocolRules = RULES): InvarianceSummary {
  const evals = records.filter((r) => r.role === "eval");
  const tune = records.filter((r) => r.role === "tune");
  const picks = tune.length ? picksOf(tune, arms, rules) : [];
  const scales = [...new Set(evals.map((r) => Number(r.axes.inputScale)))].sort((a, b) => a - b);
  const cells: ScaleCell[] = [];
  for (const id of arms) {
    const a = resolveArm(id);
    for (const c of scales) {
      const rs = evals.filter((r) => r.arm === a.id && Number(r.axes.inputScale) === c).sort((x, y) => x.seed - y.seed);
      const accs = rs.map((r) => (r.result.test ? 100 * r.result.test.acc : NaN));
      cells.push({
        arm: a.id,
        label: a.label,
        inputScale: c,
        lr: rs[0]?.config.train.lr ?? NaN,
        seeds: rs.map((r) => r.seed),
        accs,
        classes: rs.map((r) => classifyRun({ status: r.result.status, acc: r.result.test?.acc, numClasses: r.config.model.numClasses }, rules)),
        testAcc: meanStd(accs.filter(Number.isFinite)),
        finalLoss: meanStd(rs.map((r) => finalLoss(r.result.log)).filter(Number.isFinite)).mean,
      });
    }
  }
  const chance = 100 / (evals[0]?.config.model.numClasses ?? 10);
  // Off-scale runs that failed are scored at chance: the failure is the effect being measured.
  const scored = (cell: ScaleCell, seeds: number[]) => seeds.map((sd) => (cell.classes[cell.seeds.indexOf(sd)] === "learned" ? cell.accs[cell.seeds.indexOf(sd)]! : chance));
  for (const cell of cells) {
    const unit = cells.find((u) => u.arm === cell.arm && u.inputScale === 1);
    if (!unit || cell.inputScale === 1) continue;
    const common = cell.seeds.filter((sd) => unit.seeds.includes(sd) && unit.classes[unit.seeds.indexOf(sd)] === "learned");
    if (common.length >= 2) cell.vsUnit = pairedEvidence(scored(cell, common), common.map((sd) => unit.accs[unit.seeds.indexOf(sd)]!), cell.arm === arms[0] ? "matches" : "worse", "points", rules);
  }
  const spread = arms.map((id) => {
    const m = cells.filter((c) => c.arm === id && c.testAcc.n > 0).map((c) => c.testAcc.mean);
    return { arm: id, label: resolveArm(id).label, points: m.length ? Math.max(...m) - Math.min(...m) : NaN };
  });
  const numericPass = numeric.length > 0 && numeric.every((r) => r.pass);
  const v = invarianceVerdict(numeric, cells, arms, rules);
  const m = evals[0]?.config;
  const setup = m
    ? `ViT width ${m.model.dim}, depth ${m.model.depth}; first ${trainSize(m.data).toLocaleString("en")} training images, ${m.train.steps} steps (batch ${m.train.batchSize}); each arm at its lr tuned on validation at input scale 1 (${describePicks(picks)}), kept at every input scale`
    : "no runs";
  const acc = (id: string) =>
    cells
      .filter((c) => c.arm === id)
      .map((c) => `x${c.inputScale}: ${c.testAcc.n ? c.testAcc.mean.toFixed(1) : "-"} %${c.classes.some((k) => k !== "learned") ? ` (${c.classes.filter((k) => k !== "learned").length} failed)` : ""}`)
      .join(", ");
  const trainText = spread.map((sp) => `${sp.label}: ${acc(sp.arm)} (spread ${sp.points.toFixed(1)} pts)`).join("; ");
  const effects = cells.filter((c) => c.vsUnit).map((c) => `${c.label} x${c.inputScale} − x1 ${describeEffect(c.vsUnit!)}`).join("; ");
  const statement = `${numericText(numeric)} Test accuracy by input scale, ${trainText}.${effects ? ` Paired: ${effects}.` : ""} ${v.verdict}: ${v.reason}.`;
  return { experiment: INVARIANCE, scale, setup, numeric, numericPass, picks, cells, spread, ...v, statement };
}

function numericText(numeric: readonly InvarianceRow[]): string {
  const failed = numeric.filter((r) => !r.pass);
  return failed.length
    ? `Numerically, ${failed.length} of ${numeric.length} (norm, transform) pairs contradict the theory: ${failed.map((r) => `${r.norm}/${r.transform} rel=${r.rel.toExponential(1)}`).join("; ")}.`
    : `Numerically all ${numeric.length} (norm, transform) pairs match the theory (LN: rel < 1e-5 for W/b rescale, W re-centering, per-example rescale; RMSNorm loses re-centering; DyT none, except DyT_a(cx) = DyT_(ca)(x)).`;
}

/** The R-invariance rule (module header) on the cells' paired evidence. */
export function invarianceVerdict(numeric: readonly InvarianceRow[], cells: readonly ScaleCell[], arms: readonly [string, string], rules: ProtocolRules = RULES): { evidence?: PairedEvidence; verdict: Outcome; reason: string } {
  const [A, B] = arms;
  const unit = (id: string) => cells.find((c) => c.arm === id && c.inputScale === 1);
  const off = (id: string) => cells.filter((c) => c.arm === id && c.inputScale !== 1);
  const failed = numeric.filter((r) => !r.pass);
  const pre: Precondition[] = [
    { ok: numeric.length > 0 && failed.length === 0, reason: `the numerical invariances contradict the theory for ${failed.map((r) => `${r.norm}/${r.transform}`).join(", ") || "(no table)"}` },
    ...[A, B].map((id) => {
      const u = unit(id);
      const bad = u ? u.classes.filter((c) => c !== "learned").length : 0;
      return { ok: !!u && u.classes.length > 0 && bad === 0, reason: u ? `${u.label} did not learn at input scale 1 on ${bad} of ${u.classes.length} seeds` : `no ${id} runs at input scale 1` };
    }),
    ...[A, B].map((id) => ({ ok: off(id).length > 0 && off(id).every((c) => c.vsUnit && c.vsUnit.test.n >= 2), reason: `${resolveArm(id).label}: fewer than 2 paired seeds at some input scale (no noise estimate)` })),
  ];
  const ready = pre.every((p) => p.ok);
  const evidence = ready ? allOf([allOf(off(A).map((c) => c.vsUnit!)), anyOf(off(B).map((c) => c.vsUnit!))]) : undefined;
  const { outcome, reason } = claimOutcome(pre, evidence, rules);
  if (!evidence || outcome === "not testable") return { verdict: outcome, reason };
  const la = resolveArm(A).label;
  const lb = resolveArm(B).label;
  const aFlat = off(A).map((c) => `x${c.inputScale} ${c.vsUnit!.pFor < rules.alpha ? "within" : c.vsUnit!.pAgainst < rules.alpha ? "beyond" : "undecided vs"} the −${c.vsUnit!.margin} pt margin`).join(", ");
  const bMoved = off(B).map((c) => `x${c.inputScale} ${c.vsUnit!.pFor < rules.alpha ? "drops" : c.vsUnit!.pAgainst < rules.alpha ? "stays within the margin" : "undecided"}`).join(", ");
  return { evidence, verdict: outcome, reason: `${reason}; per scale (unadjusted): ${la} ${aFlat}; ${lb} ${bMoved}` };
}

export async function runInvariance(ctx: ExperimentContext, override: Partial<InvarianceScale> = {}, rules: ProtocolRules = RULES): Promise<{ records: ProtocolRecord[]; numeric: InvarianceRow[]; summary: InvarianceSummary }> {
  const s: InvarianceScale = { ...INVARIANCE_SCALES[ctx.scale], ...override };
  const seeds = ctx.seeds ?? s.seeds;
  // The numerical table is cheap and trains nothing; it is cached like a run so it carries provenance.
  const num = await cachedRun(INVARIANCE, ctx, "numeric", s.numeric.seed ?? 0, { numeric: s.numeric }, async () => invarianceTable(s.numeric));
  const { records: tuneRecs, picks } = await tuneArms({ experiment: INVARIANCE, scale: ctx.scale, base: s.base, train: schedule(s), tuning: s.tuning }, s.arms, seeds, ctx, rules);
  const evals = await runJobs(invarianceEvalJobs(s, ctx.scale, seeds, picks), ctx);
  const summary = summarizeInvariance(ctx.scale, num.result, [...tuneRecs, ...evals], s.arms, rules);
  saveSummary(INVARIANCE, ctx.scale, summary);
  return { records: evals, numeric: num.result, summary };
}
