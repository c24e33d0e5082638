import { barFigure, curvesFigure, heatmapFigure, scatterFigure } from "../plot/figures";
import type { Figure } from "../plot/types";
import type { Row } from "../tables";
import type { GridRecord } from "./grid";
import type { Alpha0SizeResult, Alpha0Summary } from "./alpha0";

/** Accuracy heatmap (lr rows x alpha0 columns) for one size; cells with diverged runs are marked. */
function heatmap(s: Alpha0Summary, b: Alpha0SizeResult, z: number[][], what: string): Figure {
  const fig = heatmapFigure(
    { z, x: s.alpha0s, y: s.lrs },
    { title: `${b.size}: ${what}`, xLabel: "α₀", yLabel: "learning rate", zLabel: "%", annotate: ".1f", zmin: 10, zmax: 100 },
  );
  // Diverged runs are results: write "✕ k/n" on the cell (an all-diverged cell is otherwise blank).
  const notes: Record<string, unknown>[] = [];
  s.lrs.forEach((lr, i) =>
    s.alpha0s.forEach((a, j) => {
      const d = b.diverged[i]![j]!;
      if (d > 0) notes.push({ x: String(a), y: String(lr), text: `✕ ${d}/${b.runs[i]![j]} diverged`, showarrow: false, yshift: -14, font: { color: "#d62728", size: 11 } });
    }),
  );
  fig.layout.annotations = notes;
  return fig;
}

/** Per size: final test accuracy and early validation accuracy heatmaps. */
export function alpha0Heatmaps(s: Alpha0Summary): { size: string; final: Figure; early: Figure }[] {
  return s.bySize.map((b) => ({
    size: b.size,
    final: heatmap(s, b, b.acc, "test accuracy (%) after training (mean over seeds)"),
    early: heatmap(s, b, b.early, `validation accuracy (%) at step ${s.earlyStep} (early)`),
  }));
}

/** Validation curves of every alpha0 at one size's best lr (mean ± std over seeds). */
export function alpha0Curves(records: GridRecord[], s: Alpha0Summary, size: string): Figure {
  const b = s.bySize.find((x) => x.size === size);
  if (!b) throw new Error(`alpha0Curves: no results for size "${size}"; sizes: ${s.sizes.join(", ")}`);
  const rs = records.filter((r) => r.config.tags.size === size && r.config.tags.lr === b.bestLr && r.config.tags.budget === undefined);
  return curvesFigure(
    rs.map((r) => ({ label: `α₀ ${r.config.tags.alpha0}`, points: r.result.evals.map((e) => ({ x: e.step, y: 100 * e.acc })) })),
    { metric: "validation accuracy (%)", title: `${size}, lr ${b.bestLr}: validation accuracy by α₀`, band: "std" },
  );
}

/** Final and early accuracy vs alpha0 at each size's best lr (log x). */
export function alpha0Lines(s: Alpha0Summary): Figure {
  const series = s.bySize.flatMap((b) => {
    const i = s.lrs.indexOf(b.bestLr);
    return [
      { name: `${b.size} final (lr ${b.bestLr})`, x: s.alpha0s, y: b.acc[i]!, mode: "lines+markers" as const },
      { name: `${b.size} step ${s.earlyStep}`, x: s.alpha0s, y: b.early[i]!, mode: "lines+markers" as const },
    ];
  });
  return scatterFigure(series, { title: "Accuracy vs α₀ at each size's best lr", xLabel: "α₀ (log)", yLabel: "accuracy (%)", logX: true });
}

/** One row per (size, lr, alpha0) cell. */
export function alpha0Table(s: Alpha0Summary): Row[] {
  return s.variants.map((v) => ({
    size: String(v.tags.size),
    lr: String(v.tags.lr),
    "α₀": Number(v.tags.alpha0),
    seeds: v.seeds.join(","),
    "test acc %": v.testAcc.n ? v.testAcc.mean : "—",
    std: v.testAcc.n > 1 ? v.testAcc.std : "—",
    [`val % @${v.earlyAcc.step}`]: v.earlyAcc.n ? v.earlyAcc.mean : "—",
    diverged: v.diverged ? `${v.diverged}/${v.seeds.length}` : 0,
    "final α": v.meanFinalAlpha ?? "—",
  }));
}

/** The long-budget runs: test accuracy per alpha0 (mean ± std over seeds) and validation curves; undefined when not run. */
export function alpha0LongFigures(records: GridRecord[], s: Alpha0Summary): { bars: Figure; curves: Figure } | undefined {
  const l = s.long;
  if (!l) return undefined;
  const bars = barFigure(
    {
      categories: l.variants.map((v) => `α₀ ${v.tags.alpha0}`),
      series: [{ name: "test accuracy", values: l.variants.map((v) => (v.testAcc.n ? v.testAcc.mean : NaN)), errors: l.variants.map((v) => v.testAcc.std) }],
    },
    { title: `${l.size}, lr ${l.lr}, ${l.steps} steps: test accuracy by α₀`, yLabel: "test accuracy (%), mean ± std over seeds" },
  );
  const rs = records.filter((r) => r.config.tags.budget === l.steps);
  const curves = curvesFigure(
    rs.map((r) => ({ label: `α₀ ${r.config.tags.alpha0}`, points: r.result.evals.map((e) => ({ x: e.step, y: 100 * e.acc })) })),
    { metric: "validation accuracy (%)", title: `${l.size}, lr ${l.lr}, ${l.steps} steps: validation accuracy by α₀`, band: "std" },
  );
  return { bars, curves };
}
