import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import { comparisonTable, variantBars, variantCurves, variantTable } from "../protocol/arm-figures";
import type { ProtocolRecord } from "../protocol/runner";
import type { SquashSummary } from "./spec";

/** Test accuracy by squasher (categories) and alpha treatment (series), mean ± std over seeds. */
export function squashBars(s: SquashSummary): Figure {
  return variantBars(s.arms, {
    category: (a) => String(a.axes.squash),
    series: (a) => `α ${a.axes.alpha}${a.axes.clip === "off" ? ", no clipping" : ""}`,
    title: `DyT squashing functions (${s.scale})`,
  });
}

/** Validation curves of the learned-alpha arms (with clipping). */
export function squashCurves(records: ProtocolRecord[], s: SquashSummary): Figure {
  return variantCurves(records, `Validation accuracy, α learned (${s.scale})`, (r) => r.axes.alpha === "learned" && r.axes.clip !== "off");
}

/** One row per arm. */
export function squashTable(s: SquashSummary): Row[] {
  return variantTable(s.arms);
}

/** One row per paired comparison behind the claims. */
export function squashComparisonTable(s: SquashSummary): Row[] {
  return comparisonTable(s.comparisons);
}
