import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import { comparisonTable, variantBars, variantCurves, variantTable } from "../protocol/arm-figures";
import type { ProtocolRecord } from "../protocol/runner";
import type { GainBiasSummary } from "./spec";

/** Test accuracy by norm family (categories) and which of γ / β are learned (series). */
export function gainBiasBars(s: GainBiasSummary): Figure {
  return variantBars(s.arms, {
    category: (a) => String(a.axes.norm),
    series: (a) => `γ ${a.axes.gamma}, β ${a.axes.beta}`,
    title: `γ / β ablation and fixed tanh schemes (${s.scale})`,
  });
}

/** Validation curves of every arm. */
export function gainBiasCurves(records: ProtocolRecord[], s: GainBiasSummary): Figure {
  return variantCurves(records, `Validation accuracy (${s.scale})`);
}

/** One row per arm. */
export function gainBiasTable(s: GainBiasSummary): Row[] {
  return variantTable(s.arms);
}

/** One row per paired comparison behind the claims. */
export function gainBiasComparisonTable(s: GainBiasSummary): Row[] {
  return comparisonTable(s.comparisons);
}

/** The calibrated constants per layer of the first evaluation seed's calibrated runs. */
export function calibrationTable(records: ProtocolRecord[]): Row[] {
  const evals = records.filter((r) => r.role === "eval" && r.result.prepared);
  const seed = Math.min(...evals.map((r) => r.seed));
  return evals
    .filter((r) => r.seed === seed)
    .flatMap((r) =>
      Object.entries((r.result.prepared as { layers: Record<string, { inputMean: number; inputStd: number; alpha: number }> }).layers).map(([layer, c]) => ({
        arm: r.label,
        layer,
        "input mean": c.inputMean,
        "input std": c.inputStd,
        "fixed α": c.alpha,
      })),
    );
}
