/** One row of the lab's claims table (design.md, "Claims"). */
export interface ClaimRow {
  /** The paper's claim number (paper.md) or a reviewer question id. */
  id: string;
  claim: string;
  /** What the paper reports, and where. */
  paper: string;
  /** What our runs measured at this scale. */
  ours: string;
  verdict: "supported" | "not supported" | "not testable at this scale" | string;
  notebook: string;
  scale: string;
}
