/**
 * Per-arm results over seeds and paired comparisons of two arms, the way
 * every claim of an ablation is decided: preconditions (both arms learned on
 * every seed, at least two paired seeds), then the paired evidence for the
 * claim's prediction, with the lr policy of both arms written into the
 * comparison. Claims made of several comparisons combine them with `allOf`
 * (every part must hold) or `anyOf` (some part must hold).
 */
import { allOf as allOfEvidence, anyOf as anyOfEvidence } from "./combine";
import type { ClaimRow } from "../claims";
import { meanStd } from "../stats-lite";
import { classifyRun, type RunClass } from "./classify";
import { RULES, type ProtocolRules } from "./rules";
import type { ProtocolRecord } from "./runner";
import { claimOutcome, decide, describeEffect, pairedEvidence, type ClaimVerdict, type Outcome, type PairedEvidence, type Precondition, type Prediction } from "./verdict";

/** One arm's evaluation runs, in seed order. */
export interface ArmResult {
  arm: string;
  label: string;
  axes: Record<string, string | number>;
  lr: number;
  /** How the lr was chosen (tuned / shared and why / another arm's tuned lr). */
  lrNote: string;
  seeds: number[];
  /** Test accuracy (%) per seed; NaN where the run diverged. */
  accs: number[];
  classes: RunClass[];
  /** Mean ± std (%) over the seeds whose run completed. */
  testAcc: { mean: number; std: number; n: number };
  diverged: number;
  divergedSteps: number[];
  /** Validation accuracy (%) per seed at the first eval at or after `earlyStep` (NaN where the run stopped before). */
  earlyAccs: number[];
  earlyStep: number;
  /** Mean final alpha over layers and seeds (learned-alpha DyT arms only). */
  meanFinalAlpha?: number;
  wallTimeSec: number;
}

/** Val accuracy (%) at the first eval at or after `step`; NaN when the run stopped before. */
export function accAtStep(r: ProtocolRecord, step: number): number {
  const e = r.result.evals.find((p) => p.step >= step);
  return e ? 100 * e.acc : NaN;
}

/**
 * The arm's results from its evaluation records (other records are ignored).
 * `earlyFrac`: the fraction of the steps at which early accuracy is read.
 */
export function armResult(records: readonly ProtocolRecord[], arm: string, lrNote = "", rules: ProtocolRules = RULES, earlyFrac = 0.2): ArmResult {
  const rs = records.filter((r) => r.role === "eval" && r.arm === arm).sort((a, b) => a.seed - b.seed);
  const first = rs[0];
  if (!first) throw new Error(`no evaluation runs of arm "${arm}"`);
  const done = rs.filter((r) => r.result.status === "completed" && r.result.test);
  const alphas = done.flatMap((r) => (r.result.finalAlpha ? Object.values(r.result.finalAlpha) : []));
  const learnAlpha = first.config.model.norm === "dyt" && first.config.normResolved.learnAlpha !== false;
  const earlyStep = Math.max(1, Math.round(earlyFrac * first.config.train.steps));
  const out: ArmResult = {
    arm,
    label: first.label,
    axes: first.axes,
    lr: first.config.train.lr,
    lrNote,
    seeds: rs.map((r) => r.seed),
    accs: rs.map((r) => (r.result.test && r.result.status === "completed" ? 100 * r.result.test.acc : NaN)),
    classes: rs.map((r) => classifyRun({ status: r.result.status, acc: r.result.test?.acc, numClasses: r.config.model.numClasses }, rules)),
    testAcc: meanStd(done.map((r) => 100 * r.result.test!.acc)),
    diverged: rs.filter((r) => r.result.status === "diverged").length,
    divergedSteps: rs.flatMap((r) => (r.result.diverged ? [r.result.diverged.step] : [])),
    earlyAccs: rs.map((r) => accAtStep(r, earlyStep)),
    earlyStep,
    wallTimeSec: rs.reduce((a, r) => a + r.wallTimeSec, 0),
  };
  if (learnAlpha && alphas.length) out.meanFinalAlpha = alphas.reduce((a, b) => a + b, 0) / alphas.length;
  if (new Set(rs.map((r) => r.config.train.lr)).size > 1) throw new Error(`arm "${arm}": evaluation runs at different lrs (${[...new Set(rs.map((r) => r.config.train.lr))].join(", ")}); one arm, one lr`);
  return out;
}

/** Every arm with evaluation records, in first-seen order. */
export function armResults(records: readonly ProtocolRecord[], lrNotes: Record<string, { note: string }> = {}, rules: ProtocolRules = RULES, earlyFrac = 0.2): ArmResult[] {
  const ids = [...new Set(records.filter((r) => r.role === "eval").map((r) => r.arm))];
  return ids.map((id) => armResult(records, id, lrNotes[id]?.note ?? "", rules, earlyFrac));
}

/** One comparison of arm A with arm B: "A <prediction> B" on paired per-seed values. */
export interface Comparison extends ClaimVerdict {
  /** Arm ids [A, B]. */
  arms: [string, string];
  /** Arm labels. */
  a: string;
  b: string;
  prediction: Prediction;
  /** The lr of both arms and how each was chosen: part of every row that uses the comparison. */
  lrPolicy: string;
  /** What was compared ("test accuracy", "validation accuracy at step 63"). */
  metric: string;
}

/** "tanh (α learned) at lr 0.002 (tuned ...), hardtanh ... at lr 0.004 (tuned ...)" or "both at the shared lr 0.002 (why)" */
export function lrPolicyText(a: Pick<ArmResult, "label" | "lr" | "lrNote">, b: Pick<ArmResult, "label" | "lr" | "lrNote">): string {
  if (a.lr === b.lr && a.lrNote === b.lrNote && a.lrNote.startsWith("shared")) return `both at lr ${a.lr} (${a.lrNote})`;
  return `${a.label} at lr ${a.lr} (${a.lrNote || "as configured"}), ${b.label} at lr ${b.lr} (${b.lrNote || "as configured"})`;
}

function learnedOn(r: ArmResult): Precondition {
  const div = r.classes.filter((c) => c === "diverged").length;
  const stuck = r.classes.filter((c) => c === "did not learn").length;
  return { ok: div + stuck === 0 && r.classes.length > 0, reason: `${r.label}: of ${r.classes.length} seeds ${div} diverged, ${stuck} did not learn` };
}

/**
 * "A `prediction` B", paired over the seeds both arms have. Preconditions:
 * both arms learned on every seed (classifyRun), at least two paired seeds.
 * `values` picks the per-seed metric (default: test accuracy, %).
 */
export function compareArms(
  a: ArmResult,
  b: ArmResult,
  prediction: Prediction,
  rules: ProtocolRules = RULES,
  values: { metric: string; of: (r: ArmResult) => number[] } = { metric: "test accuracy", of: (r) => r.accs },
): Comparison {
  const common = a.seeds.filter((x) => b.seeds.includes(x));
  const pick = (r: ArmResult) => {
    const v = values.of(r);
    return common.map((sd) => v[r.seeds.indexOf(sd)]!);
  };
  const pre: Precondition[] = [learnedOn(a), learnedOn(b), { ok: common.length >= 2, reason: `${common.length} paired seed(s)` }];
  const va = pick(a);
  const vb = pick(b);
  const finite = [...va, ...vb].every(Number.isFinite);
  if (!finite) pre.push({ ok: false, reason: `${values.metric} missing on some seed` });
  const evidence = pre.every((p) => p.ok) ? pairedEvidence(va, vb, prediction, "points", rules) : undefined;
  const { outcome, reason } = claimOutcome(pre, evidence, rules);
  return { arms: [a.arm, b.arm], a: a.label, b: b.label, prediction, lrPolicy: lrPolicyText(a, b), metric: values.metric, outcome, reason, ...(evidence ? { evidence } : {}) };
}

const PREDICTION_WORD: Record<Prediction, string> = { matches: "matches", beats: "beats", worse: "is worse than" };

/** "tanh − hardtanh test accuracy: +0.42 [−0.10, +0.94] points (n = 3); inconclusive (...); lr: ..." */
export function describeComparison(c: Comparison): string {
  const head = `${c.a} ${PREDICTION_WORD[c.prediction]} ${c.b}?`;
  const eff = c.evidence ? ` ${c.a} − ${c.b} ${c.metric}: ${describeEffect(c.evidence)};` : "";
  return `${head}${eff} ${c.outcome} (${c.reason}); lr: ${c.lrPolicy}`;
}

/** A claim made of several comparisons, with its combined verdict. */
export interface CombinedVerdict extends ClaimVerdict {
  parts: Comparison[];
  rule: string;
}

function untestable(parts: Comparison[], rule: string): CombinedVerdict | undefined {
  if (parts.length === 0) return { outcome: "not testable", reason: "no comparison was run at this scale", parts, rule };
  const bad = parts.filter((p) => p.outcome === "not testable");
  if (!bad.length) return undefined;
  return { outcome: "not testable", reason: bad.map((p) => `${p.a} vs ${p.b}: ${p.reason}`).join("; "), parts, rule };
}

function combined(parts: Comparison[], rule: string, pFor: number, pAgainst: number, weakest: Comparison, rules: ProtocolRules): CombinedVerdict {
  const evidence: PairedEvidence = { ...weakest.evidence!, pFor, pAgainst };
  const outcome: Outcome = decide(pFor, pAgainst, rules.alpha);
  const reason = `${rule}: p for ${pFor.toPrecision(2)}, p against ${pAgainst.toPrecision(2)}; weakest part: ${weakest.a} vs ${weakest.b}, ${describeEffect(weakest.evidence!)}`;
  return { outcome, reason, evidence, parts, rule };
}

/**
 * Every part must hold (intersection-union test): the claim's p-value for is
 * the largest part's, its p-value against is Bonferroni over the parts (any
 * refuted part refutes the claim). Any untestable part makes the claim untestable.
 */
export function allOf(parts: Comparison[], rules: ProtocolRules = RULES): CombinedVerdict {
  const rule = `all ${parts.length} part(s) must hold`;
  const u = untestable(parts, rule);
  if (u) return u;
  const weakest = parts.reduce((x, y) => (y.evidence!.pFor > x.evidence!.pFor ? y : x));
  const e = allOfEvidence(parts.map((p) => p.evidence!));
  return combined(parts, rule, e.pFor, e.pAgainst, weakest, rules);
}

/**
 * Some part must hold: p-value for is Bonferroni over the parts, p-value
 * against the largest part's (every part must be refuted).
 */
export function anyOf(parts: Comparison[], rules: ProtocolRules = RULES): CombinedVerdict {
  const rule = `at least one of ${parts.length} part(s) must hold`;
  const u = untestable(parts, rule);
  if (u) return u;
  const strongest = parts.reduce((x, y) => (y.evidence!.pFor < x.evidence!.pFor ? y : x));
  const e = anyOfEvidence(parts.map((p) => p.evidence!));
  return combined(parts, rule, e.pFor, e.pAgainst, strongest, rules);
}

/** "<what>: <outcome> (<reason>). <each part>" */
export function describeVerdict(what: string, v: CombinedVerdict): string {
  return `${what}: ${v.outcome} (${v.reason}). ${v.parts.map(describeComparison).join(" ")}`;
}

/** Mean ± std cell text, with the diverged / not-learned counts when any. */
export function accCell(s: ArmResult | undefined): string {
  if (!s) return "not run";
  const base = s.testAcc.n ? `${s.testAcc.mean.toFixed(2)} ± ${s.testAcc.std.toFixed(2)}` : "—";
  const div = s.diverged;
  const stuck = s.classes.filter((c) => c === "did not learn").length;
  const notes = [div ? `${div}/${s.seeds.length} diverged` : "", stuck ? `${stuck}/${s.seeds.length} did not learn` : ""].filter(Boolean);
  return notes.length ? `${base} (${notes.join(", ")})` : base;
}

/** A claims-table row from a verdict: outcome, reason, and the paired evidence when there is one. */
export function verdictRow(v: ClaimVerdict, row: Omit<ClaimRow, "verdict" | "reason" | "evidence" | "detectable">): ClaimRow {
  return { ...row, verdict: v.outcome, reason: v.reason, ...(v.evidence ? { evidence: v.evidence, detectable: `${v.evidence.test.detectable.toFixed(2)} ${v.evidence.units}` } : {}) };
}

/** A comparer over a set of arm results: [comparison] when both arms were run, [] when one was not. */
export function armComparer(arms: readonly ArmResult[], rules: ProtocolRules = RULES): (a: string, b: string, prediction: Prediction) => Comparison[] {
  const get = (id: string) => arms.find((x) => x.arm === id);
  return (a, b, prediction) => {
    const x = get(a);
    const y = get(b);
    return x && y ? [compareArms(x, y, prediction, rules)] : [];
  };
}

/** "A − B: +0.42 [−0.10, +0.94] points (n = 3) [lr: ...]; ..." for a row's `ours`. */
export function describeParts(parts: readonly Comparison[]): string {
  if (parts.length === 0) return "no comparison was run at this scale";
  return parts.map((p) => `${p.a} − ${p.b}: ${p.evidence ? describeEffect(p.evidence) : `not testable (${p.reason})`} [lr: ${p.lrPolicy}]`).join("; ");
}
