import type { PairedEvidence } from "./protocol/verdict";

/** One row of the lab's claims table (design.md, "Claims"). */
export interface ClaimRow {
  /** The paper's claim number (paper.md) or a reviewer question id. */
  id: string;
  claim: string;
  /** What the paper reports, and where. */
  paper: string;
  /** What our runs measured at this scale: the effect with its 95 % CI and n, and the setup. */
  ours: string;
  /**
   * Protocol rows: supported / not supported / inconclusive / not testable.
   * Rows of experiments not yet on the protocol keep their own (legacy) rule and say so in `reason`.
   */
  verdict: string;
  /** Why this verdict (the rule's reading of the numbers, or the failed precondition). */
  reason?: string;
  /** Smallest effect the test could detect (80 % power), with units. */
  detectable?: string;
  /** The paired evidence behind a protocol row; the claims table corrects these together (Holm). */
  evidence?: PairedEvidence;
  notebook: string;
  scale: string;
}

/** What a row's verdict rests on: the outcome, its reason, and the paired evidence when there is one. */
export interface RowVerdict {
  outcome: string;
  reason?: string;
  evidence?: PairedEvidence;
}

/** A claims-table row from a verdict; the detectable effect is read off the evidence, in its units. */
export function claimRow(v: RowVerdict, row: Omit<ClaimRow, "verdict" | "reason" | "evidence" | "detectable">): ClaimRow {
  const e = v.evidence;
  const detectable = e ? `${e.units === "points" ? e.test.detectable.toFixed(2) : e.test.detectable.toPrecision(3)} ${e.units}` : undefined;
  return { ...row, verdict: v.outcome, ...(v.reason !== undefined ? { reason: v.reason } : {}), ...(e ? { evidence: e, detectable } : {}) };
}

/** The verdict fields of an experiment summary, as a RowVerdict. */
export function summaryVerdict(s: { verdict: string; reason?: string; evidence?: PairedEvidence }): RowVerdict {
  return { outcome: s.verdict, ...(s.reason !== undefined ? { reason: s.reason } : {}), ...(s.evidence ? { evidence: s.evidence } : {}) };
}
