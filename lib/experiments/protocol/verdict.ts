/**
 * Four outcomes for every claim: supported, not supported, inconclusive, or
 * not testable (with the reason). A claim compares arm A with arm B through
 * the paired per-seed effect E = A - B (e.g. DyT - LN test accuracy, points)
 * and states what it predicts about E:
 *   - "matches":  E > -margin  (A is not worse than B by more than the margin)
 *   - "beats":    E > 0        (refuted when the data exclude E >= margin)
 *   - "worse":    E < 0        (refuted when the data exclude E <= -margin)
 * Each claim yields two one-sided p-values, one for the prediction and one
 * against it; the claims table adjusts all of them together (Holm) and a
 * claim is supported / not supported when its adjusted p-value for / against
 * is below alpha, and inconclusive when neither is.
 */
import { holm, oneSidedP, pairedTest, type PairedTest } from "../../analysis/paired";
import { RULES, type ProtocolRules } from "./rules";

export type Outcome = "supported" | "not supported" | "inconclusive" | "not testable";
export const OUTCOMES: readonly Outcome[] = ["supported", "not supported", "inconclusive", "not testable"];

export type Prediction = "matches" | "beats" | "worse";

export interface Precondition {
  ok: boolean;
  /** Why the claim cannot be tested when !ok, e.g. "DyT did not learn on 2 of 3 seeds". */
  reason: string;
}

export interface PairedEvidence {
  prediction: Prediction;
  /** Margin in the effect's units (points). */
  margin: number;
  units: string;
  test: PairedTest;
  /** One-sided p-value for the prediction, and against it (unadjusted). */
  pFor: number;
  pAgainst: number;
}

export function marginFor(prediction: Prediction, rules: ProtocolRules = RULES): number {
  return prediction === "matches" ? rules.matchMarginPoints : rules.beatMarginPoints;
}

/**
 * The paired evidence for "A `prediction` B" from per-seed values (same seed
 * order). `margin` defaults to the rules' margin in accuracy points; effects in
 * other units pass their own (from their experiment's stated rule).
 */
export function pairedEvidence(a: readonly number[], b: readonly number[], prediction: Prediction, units = "points", rules: ProtocolRules = RULES, margin?: number): PairedEvidence {
  const test = pairedTest(a, b, rules.level);
  const m = margin ?? marginFor(prediction, rules);
  let pFor: number;
  let pAgainst: number;
  switch (prediction) {
    case "matches":
      pFor = oneSidedP(test, -m, "above");
      pAgainst = oneSidedP(test, -m, "below");
      break;
    case "beats":
      pFor = oneSidedP(test, 0, "above");
      pAgainst = oneSidedP(test, m, "below");
      break;
    case "worse":
      pFor = oneSidedP(test, 0, "below");
      pAgainst = oneSidedP(test, -m, "above");
      break;
  }
  return { prediction, margin: m, units, test, pFor, pAgainst };
}

/** The outcome given (adjusted) p-values; the prediction wins a tie of both being small. */
export function decide(pFor: number, pAgainst: number, alpha: number): Outcome {
  if (!Number.isFinite(pFor) || !Number.isFinite(pAgainst)) return "inconclusive";
  if (pFor < alpha) return "supported";
  if (pAgainst < alpha) return "not supported";
  return "inconclusive";
}

/** A claim's verdict before the table-wide correction: testability first, then the evidence at plain alpha. */
export function claimOutcome(preconditions: readonly Precondition[], evidence: PairedEvidence | undefined, rules: ProtocolRules = RULES): { outcome: Outcome; reason: string } {
  const failed = preconditions.filter((p) => !p.ok);
  if (failed.length) return { outcome: "not testable", reason: failed.map((p) => p.reason).join("; ") };
  if (!evidence) return { outcome: "not testable", reason: "no paired evidence" };
  if (evidence.test.n < 2) return { outcome: "not testable", reason: `${evidence.test.n} seed pair(s): no noise estimate` };
  const outcome = decide(evidence.pFor, evidence.pAgainst, rules.alpha);
  return { outcome, reason: reasonFor(outcome, evidence) };
}

export function reasonFor(outcome: Outcome, e: PairedEvidence): string {
  const what = e.prediction === "matches" ? `effect > −${fmt(e.margin)} ${e.units}` : e.prediction === "beats" ? `effect > 0` : `effect < 0`;
  const against = e.prediction === "matches" ? `effect < −${fmt(e.margin)}` : e.prediction === "beats" ? `effect < +${fmt(e.margin)}` : `effect > −${fmt(e.margin)}`;
  if (outcome === "supported") return `the data show ${what}`;
  if (outcome === "not supported") return `the data show ${against}`;
  return `the data show neither ${what} nor ${against} (detectable effect ${fmt(e.test.detectable)} ${e.units})`;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? (Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2)) : "—";
}

/** "−0.42 [−1.10, +0.26] points (n = 3)" */
export function describeEffect(e: PairedEvidence): string {
  const s = (x: number) => (x >= 0 ? "+" : "−") + fmt(Math.abs(x));
  const t = e.test;
  return `${s(t.mean)} [${s(t.ci[0])}, ${s(t.ci[1])}] ${e.units} (n = ${t.n})`;
}

/** A row of the claims table as an experiment computes it, before the table-wide correction. */
export interface ClaimVerdict {
  outcome: Outcome;
  reason: string;
  evidence?: PairedEvidence;
}

/**
 * Holm over every testable claim's two one-sided p-values; returns each
 * claim's outcome after the correction (not-testable rows pass through).
 */
export function adjustTable(rows: readonly ClaimVerdict[], rules: ProtocolRules = RULES): ClaimVerdict[] {
  const ps: number[] = [];
  rows.forEach((r) => {
    const live = r.outcome !== "not testable" && r.evidence;
    ps.push(live ? r.evidence!.pFor : NaN, live ? r.evidence!.pAgainst : NaN);
  });
  const adj = holm(ps);
  return rows.map((r, i) => {
    if (r.outcome === "not testable" || !r.evidence) return r;
    const outcome = decide(adj[2 * i]!, adj[2 * i + 1]!, rules.alpha);
    return { ...r, outcome, reason: reasonFor(outcome, r.evidence) + (outcome !== r.outcome ? ` (Holm-adjusted; ${r.outcome} before correction)` : "") };
  });
}
