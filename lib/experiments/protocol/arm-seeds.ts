/**
 * Arms compared over seeds, the protocol's way: each evaluation run is
 * classified (diverged / did not learn / learned), an arm's per-seed test
 * accuracies are paired with another arm's on the seeds both ran, and a
 * comparison is testable only when both arms learned on every seed. Claims
 * that must hold in several cells (placements x depths, ...) combine the
 * cells' comparisons with `everyCell`.
 */
import { classifyRun, type RunClass } from "./classify";
import { RULES, type ProtocolRules } from "./rules";
import type { ProtocolRecord } from "./runner";
import { claimOutcome, decide, pairedEvidence, reasonFor, type ClaimVerdict, type Outcome, type PairedEvidence, type Precondition, type Prediction } from "./verdict";

/** The one classification of a saved run, from its status and final test accuracy. */
export function recordClass(r: ProtocolRecord, rules: ProtocolRules = RULES): RunClass {
  return classifyRun({ status: r.result.status, acc: r.result.test?.acc, numClasses: r.config.model.numClasses }, rules);
}

/** One arm's evaluation runs, by seed. */
export interface ArmSeeds {
  arm: string;
  label: string;
  /** The lr its runs used (the first run's, when they differ). */
  lr: number;
  seeds: number[];
  /** Test accuracy (%) per seed; NaN where the run has none (diverged). */
  accs: number[];
  classes: RunClass[];
}

/** The runs of one arm (any order) as per-seed values; throws on no runs, naming the arm. */
export function armSeeds(recs: readonly ProtocolRecord[], rules: ProtocolRules = RULES): ArmSeeds {
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

export function allLearned(a: ArmSeeds): boolean {
  return a.classes.length > 0 && a.classes.every((c) => c === "learned");
}

/** "DyT: of 3 seeds 1 diverged, 0 did not learn" */
export function classCounts(a: ArmSeeds): string {
  const n = (c: RunClass) => a.classes.filter((x) => x === c).length;
  return `${a.label}: of ${a.classes.length} seeds ${n("diverged")} diverged, ${n("did not learn")} did not learn`;
}

export function learnedPrecondition(a: ArmSeeds): Precondition {
  return { ok: allLearned(a), reason: classCounts(a) };
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
export function compareArms(a: ArmSeeds, b: ArmSeeds, prediction: Prediction, rules: ProtocolRules = RULES, extra: Precondition[] = []): ArmComparison {
  const seeds = a.seeds.filter((s) => b.seeds.includes(s));
  const pick = (x: ArmSeeds) => seeds.map((s) => x.accs[x.seeds.indexOf(s)]!);
  const pre: Precondition[] = [{ ok: seeds.length >= 2, reason: `${seeds.length} paired seed(s)` }, learnedPrecondition(a), learnedPrecondition(b), ...extra];
  const evidence = pre.every((p) => p.ok) ? pairedEvidence(pick(a), pick(b), prediction, "points", rules) : undefined;
  const { outcome, reason } = claimOutcome(pre, evidence, rules);
  return { a, b, prediction, seeds, outcome, reason, ...(evidence ? { evidence } : {}) };
}

/**
 * "A keeps up with B where B trains" (stability claims): not testable when B
 * did not learn on every seed; not supported when B did and A diverged or
 * stayed at chance on any seed (A failed where B trained); otherwise
 * "A matches B" on paired test accuracy.
 */
export function keepsUp(a: ArmSeeds, b: ArmSeeds, rules: ProtocolRules = RULES): ArmComparison {
  const seeds = a.seeds.filter((s) => b.seeds.includes(s));
  if (!allLearned(b)) return { a, b, prediction: "matches", seeds, outcome: "not testable", reason: `${classCounts(b)} (nothing to keep up with)` };
  if (!allLearned(a)) return { a, b, prediction: "matches", seeds, outcome: "not supported", reason: `${classCounts(a)}, where ${b.label} learned on all ${b.classes.length}` };
  return compareArms(a, b, "matches", rules);
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
