/**
 * Figures and tables of arm studies (squash, gain-bias, alpha0): accuracy
 * bars with the seed spread, validation curves, one table row per arm with
 * its lr, divergences and runs that did not learn, one row per comparison.
 */
import { barFigure, baseLayout, curvesFigure, paletteColor } from "../../plot/figures";
import type { Figure, PlotTrace } from "../../plot/types";
import type { LrPick } from "./tuning";
import type { Row } from "../../tables";
import type { ArmResult, Comparison } from "./compare";
import type { ProtocolRecord } from "./runner";
import { fixed } from "../../util/format";

/** Bars of mean test accuracy (error bar = std over seeds), categories x series picked from each arm. */
export function variantBars(arms: ArmResult[], opts: { category: (s: ArmResult) => string; series: (s: ArmResult) => string; title: string; yLabel?: string }): Figure {
  const cats = [...new Set(arms.map(opts.category))];
  const names = [...new Set(arms.map(opts.series))];
  const series = names.map((name) => {
    const cell = (c: string) => arms.find((s) => opts.series(s) === name && opts.category(s) === c);
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

/** Validation-accuracy curves (mean ± std over seeds) of the evaluation records that pass `keep`, x in epochs. */
export function variantCurves(records: ProtocolRecord[], title: string, keep: (r: ProtocolRecord) => boolean = () => true): Figure {
  const runs = records.filter((r) => r.role === "eval" && keep(r));
  return curvesFigure(
    runs.map((r) => {
      const perStep = Number(r.axes.epochs ?? 0) / r.config.train.steps;
      return { label: `${r.label} (lr ${r.config.train.lr})`, points: r.result.evals.map((e) => ({ x: perStep > 0 ? e.step * perStep : e.step, y: 100 * e.acc })) };
    }),
    { metric: "validation accuracy (%)", title, band: "std", x: runs.every((r) => Number(r.axes.epochs) > 0) ? "epoch" : "step" },
  );
}

/** The first cells of an arm's table row: the arm, its lr, how the lr was chosen, its seeds. */
export function armRowHead(a: { label: string; lr: number; lrNote: string; seeds: number[] }): Row {
  return { arm: a.label, lr: a.lr, "lr chosen": a.lrNote, seeds: a.seeds.join(",") };
}

/** The closing columns of a trained-arm row: whether every run plateaued, mean final alpha, parameters, ms per step. */
export function armRowTail(a: { plateaued: boolean[]; meanFinalAlpha?: number; params: number; msPerStep: number }): Row {
  return {
    plateaued: a.plateaued.length && a.plateaued.every(Boolean) ? "yes" : "no",
    "final α (mean)": a.meanFinalAlpha !== undefined && Number.isFinite(a.meanFinalAlpha) ? a.meanFinalAlpha.toFixed(2) : "—",
    params: a.params,
    "ms/step": Number.isFinite(a.msPerStep) ? Math.round(a.msPerStep) : "—",
  };
}

/** One row per arm: lr and how it was chosen, test accuracy, spread, early accuracy, divergences, final alpha. */
export function variantTable(arms: ArmResult[]): Row[] {
  return arms.map((s) => {
    const stuck = s.classes.filter((c) => c === "did not learn").length;
    const early = s.earlyAccs.filter(Number.isFinite);
    return {
      ...armRowHead(s),
      "test acc % (mean)": s.testAcc.n ? s.testAcc.mean : "—",
      "std over seeds": s.testAcc.n > 1 ? s.testAcc.std : "—",
      [`val acc % @ step ${s.earlyStep}`]: early.length ? early.reduce((a, b) => a + b, 0) / early.length : "—",
      diverged: s.diverged ? `${s.diverged}/${s.seeds.length} (step ${s.divergedSteps.join(", ")})` : 0,
      "did not learn": stuck ? `${stuck}/${s.seeds.length}` : 0,
      "final α (mean)": s.meanFinalAlpha !== undefined ? s.meanFinalAlpha : "—",
    };
  });
}

const f2 = fixed(2);

/** One row per comparison: effect with 95 % CI and n, detectable effect, outcome, reason, lr policy. */
export function comparisonTable(cs: Comparison[]): Row[] {
  return cs.map((c) => {
    const t = c.evidence?.test;
    return {
      comparison: `${c.a} ${c.prediction} ${c.b}`,
      metric: c.metric,
      "effect (pts)": t ? f2(t.mean) : "—",
      "95 % CI": t ? `[${f2(t.ci[0])}, ${f2(t.ci[1])}]` : "—",
      n: t ? t.n : 0,
      "detectable (pts)": t ? f2(t.detectable) : "—",
      outcome: c.outcome,
      reason: c.reason,
      lr: c.lrPolicy,
    };
  });
}

/**
 * lr tuning of a study scored by a loss (lower is better): the final
 * validation value against lr, one line per arm, runs that did not learn as
 * gaps; each line names its pick and whether it is at the grid's edge or
 * nothing learned. `arms` gives labels (absent: the arm ids).
 */
export function lossTuningFigure(s: { picks: readonly LrPick[]; scale: string; arms?: readonly { arm: string; label: string }[] }, o: { value: (g: LrPick["grid"][number]) => number | null | undefined; yLabel: string }): Figure {
  const data: PlotTrace[] = s.picks.map((p, i) => ({
    type: "scatter",
    mode: "lines+markers",
    name: `${s.arms ? (s.arms.find((a) => a.arm === p.arm)?.label ?? p.arm) : p.arm} (pick ${p.bestLr}${p.noneLearned ? ", none learned" : p.atEdge ? ", at grid edge" : ""})`,
    x: p.grid.map((g) => g.lr),
    y: p.grid.map((g) => o.value(g) ?? null),
    line: { color: paletteColor(i) },
  }));
  return { data, layout: baseLayout({ title: `lr tuning on validation (tuning seed; ${s.scale})`, xLabel: "learning rate (log scale)", yLabel: o.yLabel, logX: true }) };
}
