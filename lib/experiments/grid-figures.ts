import { barFigure, curvesFigure } from "../plot/figures";
import type { Figure } from "../plot/types";
import type { Row } from "../tables";
import type { GridRecord, GridVariantSummary } from "./grid";

/**
 * Figures and tables shared by the grid experiments (alpha0, squash,
 * gain-bias): accuracy bars with seed spread, validation curves, and one
 * table row per variant with divergences.
 */

/** Bars of mean test accuracy (error bar = std over seeds), categories x series picked from tags. */
export function variantBars(
  summaries: GridVariantSummary[],
  opts: { category: (s: GridVariantSummary) => string; series: (s: GridVariantSummary) => string; title: string; yLabel?: string },
): Figure {
  const cats = [...new Set(summaries.map(opts.category))];
  const names = [...new Set(summaries.map(opts.series))];
  const series = names.map((name) => {
    const cell = (c: string) => summaries.find((s) => opts.series(s) === name && opts.category(s) === c);
    return {
      name,
      values: cats.map((c) => {
        const s = cell(c);
        return s && s.testAcc.n ? s.testAcc.mean : NaN;
      }),
      errors: cats.map((c) => cell(c)?.testAcc.std ?? NaN),
    };
  });
  return barFigure({ categories: cats, series }, { title: opts.title, yLabel: opts.yLabel ?? "test accuracy (%), mean ± std over seeds" });
}

/** Validation-accuracy curves (mean ± std over seeds) of the records whose variant passes `keep`. */
export function variantCurves(records: GridRecord[], title: string, keep: (r: GridRecord) => boolean = () => true): Figure {
  return curvesFigure(
    records.filter(keep).map((r) => ({ label: r.config.label, points: r.result.evals.map((e) => ({ x: e.step, y: 100 * e.acc })) })),
    { metric: "validation accuracy (%)", title, band: "std" },
  );
}

/** One row per variant: test accuracy, spread, early accuracy, divergences, final alpha. */
export function variantTable(summaries: GridVariantSummary[]): Row[] {
  return summaries.map((s) => {
    const row: Row = {
      variant: s.label,
      seeds: s.seeds.join(","),
      "test acc % (mean)": s.testAcc.n ? s.testAcc.mean : "—",
      "std over seeds": s.testAcc.n > 1 ? s.testAcc.std : "—",
      [`val acc % @ step ${s.earlyAcc.step}`]: s.earlyAcc.n ? s.earlyAcc.mean : "—",
      diverged: s.diverged ? `${s.diverged}/${s.seeds.length} (step ${s.divergedSteps.join(", ")})` : 0,
    };
    row["final α (mean)"] = s.meanFinalAlpha !== undefined ? s.meanFinalAlpha : "—";
    return row;
  });
}
