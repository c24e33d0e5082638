import { barFigure, curvesFigure, paletteColor } from "../../plot/figures";
import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import { resolveArm } from "../protocol/arms";
import type { ProtocolRecord } from "../protocol/runner";
import { describeEffect } from "../protocol/verdict";
import { TRANSFORM_LABEL, type InvarianceRow } from "./numeric";
import type { InvarianceSummary } from "./spec";

const armLabel = (id: string) => resolveArm(id).label;

/** The numerical invariance table: one row per transform, rel per norm, with the theory's expectation. */
export function invarianceNumericTable(rows: InvarianceRow[]): Row[] {
  const transforms = [...new Set(rows.map((r) => r.transform))];
  return transforms.map((t) => {
    const out: Row = { transform: TRANSFORM_LABEL[t] };
    for (const r of rows.filter((x) => x.transform === t)) {
      out[`${armLabel(r.norm)} rel`] = r.rel.toExponential(2);
      out[armLabel(r.norm)] = `${r.expectedInvariant ? "invariant" : "changes"} ${r.pass ? "✓" : "✗ (theory says otherwise)"}`;
    }
    return out;
  });
}

/** Validation-accuracy curves, one colour per arm and one dash per input scale, mean ± std over seeds. */
export function invarianceCurvesFigure(records: ProtocolRecord[], scale: string): Figure {
  const evals = records.filter((r) => r.role === "eval");
  const arms = [...new Set(evals.map((r) => r.arm))];
  const scales = [...new Set(evals.map((r) => Number(r.axes.inputScale)))].sort((a, b) => a - b);
  const dashes = ["dot", "solid", "dash", "longdash", "dashdot"] as const;
  return curvesFigure(
    evals.map((r) => ({
      label: `${r.label}, input x${r.axes.inputScale}`,
      points: r.result.evals.map((e) => ({ x: e.step, y: 100 * e.acc })),
      color: paletteColor(arms.indexOf(r.arm)),
      dash: dashes[scales.indexOf(Number(r.axes.inputScale)) % dashes.length],
    })),
    { metric: "validation accuracy (%)", title: `Input images scaled by ${scales.join(", ")} (${scale}): validation accuracy, each arm at its tuned lr`, band: "std" },
  );
}

/** Final test accuracy per input scale, one bar series per arm, error bars = std over seeds. */
export function invarianceBarFigure(summary: InvarianceSummary): Figure {
  const arms = [...new Set(summary.cells.map((c) => c.arm))];
  const scales = [...new Set(summary.cells.map((c) => c.inputScale))].sort((a, b) => a - b);
  return barFigure(
    {
      categories: scales.map((s) => `x${s}`),
      series: arms.map((a, i) => {
        const cs = scales.map((s) => summary.cells.find((c) => c.arm === a && c.inputScale === s));
        return { name: armLabel(a), values: cs.map((c) => c?.testAcc.mean ?? NaN), errors: cs.map((c) => c?.testAcc.std ?? NaN), color: paletteColor(i) };
      }),
    },
    { title: "Test accuracy vs input scale (mean ± std over seeds)", xLabel: "input images multiplied by", yLabel: "test accuracy (%)" },
  );
}

/** One row per (arm, input scale), with the paired change against input scale 1. */
export function invarianceTrainTable(summary: InvarianceSummary): Row[] {
  return summary.cells.map((c) => ({
    arm: c.label,
    "input scale": c.inputScale,
    lr: c.lr,
    "test acc %": c.testAcc.mean,
    "std over seeds": c.testAcc.std,
    seeds: c.testAcc.n,
    "final train loss": c.finalLoss,
    "failed runs": c.classes.filter((k) => k !== "learned").length,
    "Δ vs x1 (pts, 95 % CI)": c.vsUnit ? describeEffect(c.vsUnit) : "",
  }));
}
