import { curvesFigure, baseLayout, paletteColor } from "../../plot/figures";
import type { Figure, PlotTrace } from "../../plot/types";
import type { Row } from "../../tables";
import type { ProtocolRecord } from "../protocol/runner";
import type { VitFashionSummary } from "./spec";
import { fixed } from "../../util/format";

/** DyT − LN test accuracy (mean and 95 % CI) against the budget, with the match margin. */
export function ladderFigure(s: VitFashionSummary, margin: number): Figure {
  const pts = s.rungs.filter((r) => r.evidence);
  const [la, lb] = s.rungs[0]?.arms.map((a) => a.label) ?? ["A", "B"];
  const x = pts.map((r) => r.epochs);
  const traces: PlotTrace[] = [
    {
      type: "scatter",
      mode: "lines+markers",
      name: `${la} − ${lb} (95 % CI)`,
      x,
      y: pts.map((r) => r.evidence!.test.mean),
      error_y: { type: "data", visible: true, symmetric: false, array: pts.map((r) => r.evidence!.test.ci[1] - r.evidence!.test.mean), arrayminus: pts.map((r) => r.evidence!.test.mean - r.evidence!.test.ci[0]) },
      line: { color: paletteColor(0) },
    },
    { type: "scatter", mode: "lines", name: "no difference", x: [Math.min(...x), Math.max(...x)], y: [0, 0], line: { color: "#888", dash: "dot" } },
    { type: "scatter", mode: "lines", name: `match margin (−${margin} pt)`, x: [Math.min(...x), Math.max(...x)], y: [-margin, -margin], line: { color: "#c44", dash: "dash" } },
  ];
  return { data: traces, layout: baseLayout({ title: `Budget ladder (${s.scale}): ${la} − ${lb} test accuracy, each at its tuned lr`, xLabel: "budget (epochs, log scale)", yLabel: "accuracy difference (points)", logX: true }) };
}

/** Validation accuracy vs epoch of both arms at one rung (mean ± std over seeds, seeds shown). */
export function rungCurvesFigure(records: ProtocolRecord[], s: VitFashionSummary, epochs: number): Figure {
  const rung = s.rungs.find((r) => r.epochs === epochs);
  const runs = records.filter((r) => r.role === "eval" && r.axes.epochs === epochs && !r.run.includes("-at-"));
  const perEpoch = rung ? epochs / rung.steps : 1;
  return curvesFigure(
    runs.map((r) => ({ label: `${r.label} (lr ${r.config.train.lr})`, points: r.result.evals.map((e) => ({ x: e.step * perEpoch, y: 100 * e.acc })) })),
    { metric: "validation accuracy (%)", title: `Validation accuracy at the ${epochs}-epoch budget (${s.scale})`, band: "std", showSeeds: true, x: "epoch" },
  );
}

/** Tuning grids: final validation accuracy against lr, one line per arm and tuned rung. */
export function tuningFigure(s: VitFashionSummary): Figure {
  const data: PlotTrace[] = s.picks.map((p, i) => ({
    type: "scatter",
    mode: "lines+markers",
    name: `${p.arm}, ${p.epochs} ep (pick ${p.bestLr}${p.atEdge ? ", at grid edge" : ""})`,
    x: p.grid.map((g) => g.lr),
    y: p.grid.map((g) => g.valAcc),
    line: { color: paletteColor(i) },
  }));
  return { data, layout: baseLayout({ title: `lr tuning on validation (tuning seed; ${s.scale})`, xLabel: "learning rate (log scale)", yLabel: "final validation accuracy (%)", logX: true }) };
}

const f2 = fixed(2);

/** The ladder as a table: one row per budget. */
export function ladderTable(s: VitFashionSummary): Row[] {
  return s.rungs.map((r) => {
    const [a, b] = r.arms;
    const mean = (v: number[]) => v.filter(Number.isFinite).reduce((x, y) => x + y, 0) / Math.max(1, v.filter(Number.isFinite).length);
    const e = r.evidence;
    return {
      epochs: r.epochs,
      steps: r.steps,
      [`${a.label} lr`]: a.lr,
      [`${b.label} lr`]: b.lr,
      [`${a.label} acc %`]: f2(mean(a.accs)),
      [`${b.label} acc %`]: f2(mean(b.accs)),
      "diff (pts)": e ? f2(e.test.mean) : "—",
      "95 % CI": e ? `[${f2(e.test.ci[0])}, ${f2(e.test.ci[1])}]` : "—",
      n: e ? e.test.n : 0,
      "detectable (pts)": e ? f2(e.test.detectable) : "—",
      plateaued: r.allPlateaued ? "yes" : "no",
      outcome: r.outcome,
    };
  });
}
