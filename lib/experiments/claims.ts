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
