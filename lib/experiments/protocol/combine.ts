/**
 * Claims made of several paired comparisons ("DyT loses no more than LN under
 * every scheme", "LN is flat at every input scale and DyT is not"). The parts
 * are combined into one PairedEvidence so the claim stays one row of the Holm
 * family:
 *   - all of them (intersection-union): supported only when every part is, so
 *     p_for = max p_for (no correction needed); refuted when any part is
 *     refuted, Bonferroni over the k parts: p_against = min(1, k min p_against);
 *   - any of them: the mirror image.
 * The part reported as the combined test is the deciding one (the weakest
 * part for "all", the strongest for "any").
 */
import type { PairedEvidence } from "./verdict";

function check(parts: readonly PairedEvidence[], what: string): void {
  if (!parts.length) throw new Error(`${what}: no parts to combine`);
}

export function allOf(parts: readonly PairedEvidence[]): PairedEvidence {
  check(parts, "allOf");
  const weakest = parts.reduce((a, b) => (!(b.pFor <= a.pFor) ? b : a));
  const pAgainst = Math.min(1, parts.length * Math.min(...parts.map((p) => p.pAgainst)));
  return { ...weakest, pFor: Math.max(...parts.map((p) => p.pFor)), pAgainst };
}

export function anyOf(parts: readonly PairedEvidence[]): PairedEvidence {
  check(parts, "anyOf");
  const strongest = parts.reduce((a, b) => (b.pFor < a.pFor ? b : a));
  const pFor = Math.min(1, parts.length * Math.min(...parts.map((p) => p.pFor)));
  return { ...strongest, pFor, pAgainst: Math.max(...parts.map((p) => p.pAgainst)) };
}
