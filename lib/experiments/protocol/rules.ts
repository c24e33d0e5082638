/**
 * The protocol's decision rules, written down before the protocol-2 runs
 * (2026-12-01) and used by every experiment. Tests move each threshold by
 * 1 % and check that no committed verdict flips (test/protocol.test.ts).
 */
export interface ProtocolRules {
  /** Family-wise error rate of the claims table (Holm). */
  alpha: number;
  /** Confidence level of every reported interval. */
  level: number;
  /**
   * A run "learned" when its final accuracy is at least this fraction of the
   * way from chance to 100 % (0.2: 28 % on 10 classes). Runs stuck at chance
   * (10 %) and runs that learn (>= 40 % after one epoch here) sit far from it.
   */
  learnedFraction: number;
  /**
   * A run has plateaued when its validation accuracy rose by less than this
   * many points between the eval at two thirds of its steps and its last eval.
   */
  plateauPoints: number;
  /** "A matches B" (non-inferiority) margin, accuracy points. */
  matchMarginPoints: number;
  /** "A beats B" counts as refuted when the data exclude an advantage this large (points). */
  beatMarginPoints: number;
  /** Seeds of a comparison; seeds are added up to maxSeeds while the outcome is inconclusive. */
  minSeeds: number;
  maxSeeds: number;
}

export const RULES: ProtocolRules = {
  alpha: 0.05,
  level: 0.95,
  learnedFraction: 0.2,
  plateauPoints: 1.0,
  matchMarginPoints: 1.0,
  beatMarginPoints: 1.0,
  minSeeds: 3,
  maxSeeds: 5,
};

/** The rules with every threshold scaled by `factor` (robustness checks). */
export function scaledRules(factor: number, base: ProtocolRules = RULES): ProtocolRules {
  return {
    ...base,
    learnedFraction: base.learnedFraction * factor,
    plateauPoints: base.plateauPoints * factor,
    matchMarginPoints: base.matchMarginPoints * factor,
    beatMarginPoints: base.beatMarginPoints * factor,
  };
}
