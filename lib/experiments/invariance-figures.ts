import { barFigure, curvesFigure, paletteColor } from "../plot/figures";
import type { Figure } from "../plot/types";
import type { Row } from "../tables";
import type { RunRecord } from "./runner";
import { TRANSFORM_LABEL, type InvarianceRow } from "./invariance-numeric";
import type { InvarianceConfig, InvarianceSummary, ScaledRunResult } from "./invariance";

type Rec = RunRecord<InvarianceConfig, ScaledRunResult>;
const LABEL: Record<string, string> = { layernorm: "LN", dyt: "DyT", rmsnorm: "RMSNorm" };

/** The numerical invariance table: one row per transform, rel per norm, with the theory's expectation. */
export function invarianceNumericTable(rows: InvarianceRow[]): Row[] {
  const transforms = [...new Set(rows.map((r) => r.transform))];
  return transforms.map((t) => {
    const out: Row = { transform: TRANSFORM_LABEL[t] };
    for (const r of rows.filter((x) => x.transform === t)) {
      out[`${LABEL[r.norm] ?? r.norm} rel`] = r.rel.toExponential(2);
      out[`${LABEL[r.norm] ?? r.norm}`] = `${r.expectedInvariant ? "invariant" : "changes"} ${r.pass ? "✓" : "✗ (theory says otherwise)"}`;
    }
    return out;
  });
}

/** Validation-accuracy curves, one colour per (norm, input scale), mean ± std over seeds. */
export function invarianceCurvesFigure(records: Rec[], scale: string): Figure {
  const norms = [...new Set(records.map((r) => r.config.norms[0]!))];
  const scales = [...new Set(records.map((r) => r.config.inputScales[0]!))].sort((a, b) => a - b);
  const dashes = ["dot", "solid", "dash", "longdash", "dashdot"] as const;
  return curvesFigure(
    records.map((r) => {
      const ni = norms.indexOf(r.config.norms[0]!);
      const si = scales.indexOf(r.config.inputScales[0]!);
      return {
        label: `${LABEL[r.config.norms[0]!] ?? r.config.norms[0]}, input x${r.config.inputScales[0]}`,
        points: r.result.evals.map((e) => ({ x: e.step, y: 100 * e.acc })),
        color: paletteColor(ni),
        dash: dashes[si % dashes.length],
      };
    }),
    { metric: "validation accuracy (%)", title: `Input images scaled by ${scales.join(", ")} (${scale}): validation accuracy`, band: "std" },
  );
}

/** Final test accuracy per input scale, one bar series per norm, error bars = std over seeds. */
export function invarianceBarFigure(summary: InvarianceSummary): Figure {
  const norms = [...new Set(summary.cells.map((c) => c.norm))];
  const scales = [...new Set(summary.cells.map((c) => c.inputScale))].sort((a, b) => a - b);
  return barFigure(
    {
      categories: scales.map((s) => `x${s}`),
      series: norms.map((n, i) => {
        const cs = scales.map((s) => summary.cells.find((c) => c.norm === n && c.inputScale === s));
        return { name: LABEL[n] ?? n, values: cs.map((c) => c?.testAcc.mean ?? NaN), errors: cs.map((c) => c?.testAcc.std ?? NaN), color: paletteColor(i) };
      }),
    },
    { title: "Test accuracy vs input scale (mean ± std over seeds)", xLabel: "input images multiplied by", yLabel: "test accuracy (%)" },
  );
}

/** One row per (norm, input scale). */
export function invarianceTrainTable(summary: InvarianceSummary): Row[] {
  return summary.cells.map((c) => ({
    norm: LABEL[c.norm] ?? c.norm,
    "input scale": c.inputScale,
    "test acc %": c.testAcc.mean,
    "std over seeds": c.testAcc.std,
    seeds: c.testAcc.n,
    "final train loss": c.finalLoss,
    diverged: c.diverged,
    "Δ vs x1 (pts)": c.vsUnit?.diff ?? "",
    "within noise": c.vsUnit ? (c.vsUnit.within ? "yes" : "no") : "",
  }));
}
