// Numbers in statements, tables and figure notes: one formatter for the whole lab, so a
// value prints the same wherever it is cited.

/** x with `digits` decimals, "—" when absent or not finite (a run without the metric). */
export const fixed =
  (digits: number) =>
  (x: number | undefined): string =>
    x !== undefined && Number.isFinite(x) ? x.toFixed(digits) : "—";

/** x with its sign ("+" or "−") and `digits` decimals, "—" when absent or not finite. */
export const signed = (digits: number) => {
  const f = fixed(digits);
  return (x: number | undefined): string => (x !== undefined && Number.isFinite(x) ? (x >= 0 ? "+" : "−") + f(Math.abs(x)) : "—");
};
