/** Experiment sizes (design.md): smoke = seconds (tests), quick = default, full = committed reference runs. */
export const SCALES = ["smoke", "quick", "full"] as const;
export type Scale = (typeof SCALES)[number];

export function assertScale(s: string): asserts s is Scale {
  if (!(SCALES as readonly string[]).includes(s)) throw new Error(`unknown scale "${s}"; valid scales: ${SCALES.join(", ")}`);
}
