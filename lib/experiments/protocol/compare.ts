/**
 * Per-arm results over seeds and paired comparisons of two arms, the way
 * every claim of an ablation is decided: preconditions (both arms learned on
 * every seed, at least two paired seeds), then the paired evidence for the
 * claim's prediction, with the lr policy of both arms written into the
 * comparison. Claims made of several comparisons combine them with `allOf`
 * (every part must hold) or `anyOf` (some part must hold). Stability claims
 * use the lighter per-seed view (`ArmSeeds`): `keepsUp` ("A trains wherever B
 * does"), `everyCell` (a claim over placements x depths ...) and `conjunction`.
 * Every pairing goes through `pairOverSeeds`, so one rule decides them all.
 */
import { allOf as allOfEvidence, anyOf as anyOfEvidence } from "./combine";
import { meanStd } from "../stats-lite";
import { bitsScore, classifyRun, dinoScore, ditScore, maeScore, speechScore, type RunClass } from "./classify";
import { RULES, type ProtocolRules } from "./rules";
import { isDinoRecord, isDitRecord, isMaeRecord, isDnaRecord, isLmRecord, isSpeechRecord, type AnyProtocolRecord, type ProtocolRecord } from "./runner";
import { claimOutcome, decide, describeEffect, pairedEvidence, reasonFor, type ClaimVerdict, type Outcome, type PairedEvidence, type Precondition, type Prediction } from "./verdict";

/** One arm's evaluation runs, in seed order, with what the ablation tables show. */
export interface ArmResult extends ArmSeeds {
  axes: Record<string, string | number>;
  /** How the lr was chosen (tuned / shared and why / another arm's tuned lr). */
  lrNote: string;
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

/**
 * The one classification of a saved run: from its status and final test
 * accuracy (classifiers), or its final test bits per byte against the test
 * split's unigram baseline (language models; DNA models in bits per base,
 * pretraining only: the downstream probe is judged by its own experiment),
 * or its final test contrastive accuracy with ties lost (wav2vec models).
 */
export function recordClass(r: AnyProtocolRecord, rules: ProtocolRules = RULES): RunClass {
  if (isLmRecord(r) || isDnaRecord(r)) return bitsScore(r, "test", rules).class;
  if (isSpeechRecord(r)) return speechScore(r, "test", rules).class;
  if (isDitRecord(r)) return ditScore(r, "test", rules).class;
  if (isMaeRecord(r)) return maeScore(r, "test", rules).class;
  if (isDinoRecord(r)) return dinoScore(r, "test", rules).class;
  return classifyRun({ status: r.result.status, acc: r.result.test?.acc, numClasses: r.config.model.numClasses }, rules);
}

/** One arm's evaluation runs, by seed: what every paired comparison needs. */
export interface ArmSeeds {
  arm: string;
  label: string;
  /** The lr its runs used (the first run's, when they differ). */
  lr: number;
  seeds: number[];
  /** Test accuracy (%) per seed (language models: next-byte accuracy); NaN where the run has none (diverged). */
  accs: number[];
  classes: RunClass[];
}

/** The runs of one arm (any order) as per-seed values; throws on no runs, naming the arm. */
export function armSeeds(recs: readonly AnyProtocolRecord[], rules: ProtocolRules = RULES): ArmSeeds {
  const rs = recs.slice().sort((x, y) => x.seed - y.seed);
  const first = rs[0];
  if (!first) throw new Error("armSeeds: no runs for this arm (check the arm id and the records' role)");
  return {
    arm: first.arm,
    label: first.label,
    lr: first.config.train.lr,
    seeds: rs.map((r) => r.seed),
    accs: rs.map((r) => (r.result.test ? 100 * r.result.test.acc : NaN)),
    classes: rs.map((r) => recordClass(r, rules)),
  };
}

export function allLearned(a: Pick<ArmSeeds, "classes">): boolean {
  return a.classes.length > 0 && a.classes.every((c) => c === "learned");
}

/** "DyT: of 3 seeds 1 diverged, 0 did not learn" */
export function runClassCounts(a: Pick<ArmSeeds, "label" | "classes">): string {
  const n = (c: RunClass) => a.classes.filter((x) => x === c).length;
  return `${a.label}: of ${a.classes.length} seeds ${n("diverged")} diverged, ${n("did not learn")} did not learn`;
}

export function learnedPrecondition(a: Pick<ArmSeeds, "label" | "classes">): Precondition {
  return { ok: allLearned(a), reason: runClassCounts(a) };
}

/**
 * The one paired test of two arms: "A `prediction` B" on per-seed `values`
 * (default test accuracy, points), over the seeds both ran. Preconditions:
 * both arms learned on every seed, >= 2 pairs, the metric present on every
 * paired seed, plus `extra`; a failed one makes it not testable, with the reason.
 * Metrics other than accuracy points give their `units` and `margin`; for a
 * metric where lower is better (bits per byte) `lowerIsBetter` tests the
 * negated values, so the effect is B − A and "A matches B" reads "A's value is
 * at most `margin` above B's".
 */
export function pairOverSeeds<T extends ArmSeeds>(
  a: T,
  b: T,
  prediction: Prediction,
  rules: ProtocolRules = RULES,
  o: { values?: (r: T) => number[]; metric?: string; extra?: Precondition[]; units?: string; margin?: number; lowerIsBetter?: boolean } = {},
): ClaimVerdict & { seeds: number[] } {
  const seeds = a.seeds.filter((s) => b.seeds.includes(s));
  const of = o.values ?? ((r: T) => r.accs);
  const pick = (r: T) => {
    const v = of(r);
    return seeds.map((s) => v[r.seeds.indexOf(s)]!);
  };
  const va = pick(a);
  const vb = pick(b);
  const pre: Precondition[] = [learnedPrecondition(a), learnedPrecondition(b), { ok: seeds.length >= 2, reason: `${seeds.length} paired seed(s)` }, ...(o.extra ?? [])];
  if (![...va, ...vb].every(Number.isFinite)) pre.push({ ok: false, reason: `${o.metric ?? "test accuracy"} missing on some seed` });
  const sign = o.lowerIsBetter ? -1 : 1;
  const evidence = pre.every((p) => p.ok) ? pairedEvidence(va.map((x) => sign * x), vb.map((x) => sign * x), prediction, o.units ?? "points", rules, o.margin) : undefined;
  const { outcome, reason } = claimOutcome(pre, evidence, rules);
  return { seeds, outcome, reason, ...(evidence ? { evidence } : {}) };
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
    classes: rs.map((r) => recordClass(r, rules)),
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

/**
 * "A `prediction` B", paired over the seeds both arms have (pairOverSeeds),
 * with both arms' lr policy written in. `values` picks the per-seed metric
 * (default: test accuracy, %).
 */
export function compareArms(
  a: ArmResult,
  b: ArmResult,
  prediction: Prediction,
  rules: ProtocolRules = RULES,
  values: { metric: string; of: (r: ArmResult) => number[] } = { metric: "test accuracy", of: (r) => r.accs },
): Comparison {
  const { outcome, reason, evidence } = pairOverSeeds(a, b, prediction, rules, { values: values.of, metric: values.metric });
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

export interface ArmComparison extends ClaimVerdict {
  a: ArmSeeds;
  b: ArmSeeds;
  prediction: Prediction;
  /** Seeds both arms ran, in order: the pairs of the test. */
  seeds: number[];
}

/**
 * "A `prediction` B" on test accuracy (points), paired over the seeds both
 * ran. Preconditions: >= 2 pairs and both arms learned on every seed (plus
 * `extra`); a failed one makes the comparison not testable with its reason.
 */
export function compareSeeds(a: ArmSeeds, b: ArmSeeds, prediction: Prediction, rules: ProtocolRules = RULES, extra: Precondition[] = []): ArmComparison {
  return { a, b, prediction, ...pairOverSeeds(a, b, prediction, rules, { extra }) };
}

/**
 * "A keeps up with B where B trains" (stability claims): not testable when B
 * did not learn on every seed; not supported when B did and A diverged or
 * stayed at chance on any seed (A failed where B trained); otherwise
 * "A matches B" on paired test accuracy.
 */
export function keepsUp(a: ArmSeeds, b: ArmSeeds, rules: ProtocolRules = RULES): ArmComparison {
  const seeds = a.seeds.filter((s) => b.seeds.includes(s));
  if (!allLearned(b)) return { a, b, prediction: "matches", seeds, outcome: "not testable", reason: `${runClassCounts(b)} (nothing to keep up with)` };
  if (!allLearned(a)) return { a, b, prediction: "matches", seeds, outcome: "not supported", reason: `${runClassCounts(a)}, where ${b.label} learned on all ${b.classes.length}` };
  return compareSeeds(a, b, "matches", rules);
}

export interface CellVerdict extends ClaimVerdict {
  /** The cell's name, e.g. "post d6". */
  cell: string;
}

/**
 * A claim that must hold in every cell. Cells that are not testable are
 * left out (and named); of the rest:
 *  - any cell not supported without paired evidence (an arm failed to learn) -> not supported;
 *  - otherwise an intersection-union test: "for" is the weakest cell's
 *    p-value (max), "against" the strongest cell's times the number of
 *    cells (Bonferroni); the returned evidence carries these two p-values
 *    and the weakest cell's test, so the claims table can adjust it (Holm).
 */
export function everyCell(cells: readonly CellVerdict[], rules: ProtocolRules = RULES): ClaimVerdict & { weakest?: string; excluded: string[] } {
  const excluded = cells.filter((c) => c.outcome === "not testable").map((c) => `${c.cell}: ${c.reason}`);
  const live = cells.filter((c) => c.outcome !== "not testable");
  const note = excluded.length ? `; not testable and left out: ${excluded.join("; ")}` : "";
  if (!live.length) return { outcome: "not testable", reason: cells.length ? `no testable cell (${excluded.join("; ")})` : "no cells were run", excluded };
  const failed = live.filter((c) => !c.evidence);
  if (failed.length) return { outcome: "not supported", reason: `${failed.map((c) => `${c.cell}: ${c.reason}`).join("; ")}${note}`, excluded };
  const weakest = live.reduce((x, y) => (y.evidence!.pFor > x.evidence!.pFor ? y : x));
  const strongest = live.reduce((x, y) => (y.evidence!.pAgainst < x.evidence!.pAgainst ? y : x));
  const pAgainst = Math.min(1, live.length * strongest.evidence!.pAgainst);
  const evidence: PairedEvidence = { ...weakest.evidence!, pFor: weakest.evidence!.pFor, pAgainst };
  const outcome: Outcome = decide(evidence.pFor, evidence.pAgainst, rules.alpha);
  const where =
    outcome === "supported"
      ? `in every one of ${live.length} cell(s) (weakest: ${weakest.cell})`
      : outcome === "not supported"
        ? `in ${strongest.cell} (Bonferroni over ${live.length} cells)`
        : `(weakest of ${live.length} cell(s): ${weakest.cell})`;
  const shown = outcome === "not supported" ? { ...strongest.evidence! } : evidence;
  return { outcome, reason: `${reasonFor(outcome, shown)} ${where}${note}`, evidence, weakest: weakest.cell, excluded };
}

/**
 * The outcome of a claim made of several parts that must all hold: not
 * supported when any part is not supported, supported when every part is,
 * else not testable when a part is not testable, else inconclusive.
 */
export function conjunction(parts: readonly { name: string; outcome: Outcome; reason: string }[]): { outcome: Outcome; reason: string } {
  const by = (o: Outcome) => parts.filter((p) => p.outcome === o);
  const say = (ps: typeof parts) => ps.map((p) => `${p.name}: ${p.reason}`).join("; ");
  if (!parts.length) return { outcome: "not testable", reason: "no parts" };
  if (by("not supported").length) return { outcome: "not supported", reason: say(by("not supported")) };
  if (by("supported").length === parts.length) return { outcome: "supported", reason: say(parts) };
  if (by("not testable").length) return { outcome: "not testable", reason: say(by("not testable")) };
  return { outcome: "inconclusive", reason: say(by("inconclusive")) };
}
