import { barFigure, curvesFigure, heatmapFigure, heatmapNotes, scatterFigure } from "../../plot/figures";
import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import { comparisonTable, variantTable } from "../protocol/arm-figures";
import type { ProtocolRecord } from "../protocol/runner";
import type { Alpha0SizeResult, Alpha0Summary } from "./spec";

/** Grid heatmap (lr rows x alpha0 columns) for one width; cells whose run diverged or did not learn are marked. */
function heatmap(s: Alpha0Summary, b: Alpha0SizeResult, z: number[][], what: string): Figure {
  const fig = heatmapFigure({ z, x: s.alpha0s, y: s.lrs }, { title: `${b.size}: ${what}`, xLabel: "α₀", yLabel: "learning rate", zLabel: "%", annotate: ".1f", zmin: 10, zmax: 100 });
  // A run that diverged has no accuracy: write its class on the cell (it is otherwise blank).
  fig.layout.annotations = heatmapNotes(s.alpha0s, s.lrs, (i, j) => {
    const c = b.classes[i]![j]!;
    return c !== "learned" ? `✕ ${c}` : undefined;
  });
  return fig;
}

/** Per width: the grid's final and early validation accuracy heatmaps (tuning seed). */
export function alpha0Heatmaps(s: Alpha0Summary): { size: string; final: Figure; early: Figure }[] {
  return s.bySize.map((b) => ({
    size: b.size,
    final: heatmap(s, b, b.valAcc, `validation accuracy (%) after ${s.gridSteps} steps (grid, tuning seed)`),
    early: heatmap(s, b, b.earlyAcc, `validation accuracy (%) at step ${s.gridEarlyStep} (grid, tuning seed)`),
  }));
}

/** Validation curves of every alpha0 at one width's picked lr (evaluation seeds, mean ± std), x in epochs. */
export function alpha0Curves(records: ProtocolRecord[], s: Alpha0Summary, size: string): Figure {
  const b = s.bySize.find((x) => x.size === size);
  if (!b) throw new Error(`alpha0Curves: no results for size "${size}"; sizes: ${s.sizes.join(", ")}`);
  const rs = records.filter((r) => r.role === "eval" && r.axes.size === size);
  return curvesFigure(
    rs.map((r) => ({ label: `α₀ ${r.axes.alpha0}`, points: r.result.evals.map((e) => ({ x: (e.step * Number(r.axes.epochs)) / r.config.train.steps, y: 100 * e.acc })) })),
    { metric: "validation accuracy (%)", title: `${size}, lr ${b.bestLr}: validation accuracy by α₀ (evaluation seeds)`, band: "std", x: "epoch" },
  );
}

/** Test accuracy (evaluation seeds, mean) and early validation accuracy against alpha0 at each width's picked lr (log x). */
export function alpha0Lines(s: Alpha0Summary): Figure {
  const series = s.bySize.flatMap((b) => {
    const x = b.arms.map((a) => Number(a.axes.alpha0));
    const early = b.arms.map((a) => {
      const v = a.earlyAccs.filter(Number.isFinite);
      return v.length ? v.reduce((p, q) => p + q, 0) / v.length : NaN;
    });
    return [
      { name: `${b.size} test (lr ${b.bestLr})`, x, y: b.arms.map((a) => (a.testAcc.n ? a.testAcc.mean : NaN)), mode: "lines+markers" as const },
      { name: `${b.size} val @ step ${s.evalEarlyStep}`, x, y: early, mode: "lines+markers" as const },
    ];
  });
  return scatterFigure(series, { title: "Accuracy vs α₀ at each width's picked lr (evaluation seeds)", xLabel: "α₀ (log)", yLabel: "accuracy (%)", logX: true });
}

/** Test accuracy by alpha0 (mean ± std over evaluation seeds), one series per width. */
export function alpha0Bars(s: Alpha0Summary): Figure {
  return barFigure(
    {
      categories: s.alpha0s.map((a) => `α₀ ${a}`),
      series: s.bySize.map((b) => {
        const arm = (a: number) => b.arms.find((x) => x.axes.alpha0 === a);
        return { name: `${b.size} (lr ${b.bestLr})`, values: s.alpha0s.map((a) => (arm(a)?.testAcc.n ? arm(a)!.testAcc.mean : NaN)), errors: s.alpha0s.map((a) => arm(a)?.testAcc.std ?? NaN) };
      }),
    },
    { title: `Test accuracy by α₀, ${s.evalSteps} steps at each width's picked lr`, yLabel: "test accuracy (%), mean ± std over seeds" },
  );
}

/** One row per grid cell (tuning seed). */
export function alpha0Table(s: Alpha0Summary): Row[] {
  return s.bySize.flatMap((b) =>
    b.cells.map((c) => ({
      size: b.size,
      lr: String(c.lr),
      "α₀": c.alpha0,
      "val acc %": Number.isFinite(c.valAcc) ? c.valAcc : "—",
      [`val % @${s.gridEarlyStep}`]: Number.isFinite(c.earlyVal) ? c.earlyVal : "—",
      run: c.class,
      picked: c.lr === b.bestLr ? (c.alpha0 === b.reference ? "lr, reference α₀" : "lr") : "",
    })),
  );
}

/** One row per evaluation arm (every alpha0 at each width's picked lr). */
export function alpha0EvalTable(s: Alpha0Summary): Row[] {
  return s.bySize.flatMap((b) => variantTable(b.arms).map((r) => ({ size: b.size, ...r })));
}

/** One row per paired comparison behind claims 7 and 7-early. */
export function alpha0ComparisonTable(s: Alpha0Summary): Row[] {
  return comparisonTable(s.bySize.flatMap((b) => [...b.matches, ...(b.early ? [b.early] : [])]));
}
