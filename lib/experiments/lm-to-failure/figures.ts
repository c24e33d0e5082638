import { baseLayout, paletteColor } from "../../plot/figures";
import type { Figure, PlotTrace } from "../../plot/types";
import type { Row } from "../../tables";
import { meanStd } from "../stats-lite";
import type { LmToFailureSummary } from "./spec";

/**
 * DyT − RMSNorm test bpb per rung, one panel per ladder: each seed's gap
 * (points) and the mean ± std (line). A rung breaks when its gap widens over
 * the first rung's (or DyT stops learning); the ladder stops there.
 */
export function gapLadderFigure(s: LmToFailureSummary): Figure {
  const data: PlotTrace[] = [];
  s.ladders.forEach((l, k) => {
    const ax = k === 0 ? "" : String(k + 1);
    const xs = l.rungs.map((r) => `${r.rung.id} (${l.ladder === "steps" ? `${r.steps} steps` : `depth ${r.rung.depth}`})`);
    const m = l.rungs.map((r) => meanStd(r.gap.filter(Number.isFinite)));
    data.push({ type: "scatter", mode: "lines+markers", name: `${l.ladder}: mean ± std`, x: xs, y: m.map((v) => v.mean), error_y: { type: "data", array: m.map((v) => v.std), visible: true }, line: { color: paletteColor(k), width: 2 }, xaxis: `x${ax}`, yaxis: `y${ax}` });
    data.push({
      type: "scatter",
      mode: "markers",
      name: `${l.ladder}: per seed`,
      x: l.rungs.flatMap((r, i) => r.gap.map(() => xs[i]!)),
      y: l.rungs.flatMap((r) => r.gap),
      text: l.rungs.flatMap((r) => r.seeds.map((sd) => `seed ${sd}: ${r.outcome}`)),
      marker: { color: paletteColor(k), size: 6, opacity: 0.5 },
      xaxis: `x${ax}`,
      yaxis: `y${ax}`,
    });
  });
  const layout = baseLayout({ title: `DyT − RMSNorm test bits per byte as the LM is pushed (R-to-failure: ${s.verdict})` });
  layout.grid = { rows: 1, columns: Math.max(1, s.ladders.length), pattern: "independent" };
  layout.width = 950;
  layout.height = 420;
  return { data, layout };
}

/** One row per rung: steps, depth, both arms' mean test bpb, the gap, its widening and the rung's outcome. */
export function rungTable(s: LmToFailureSummary): Row[] {
  return s.ladders.flatMap((l) =>
    l.rungs.map((r) => ({
      ladder: l.ladder,
      rung: r.rung.id,
      steps: r.steps,
      depth: r.rung.depth,
      "DyT bpb": meanStd(r.arms[0].bpbs.filter(Number.isFinite)).mean,
      "RMSNorm bpb": meanStd(r.arms[1].bpbs.filter(Number.isFinite)).mean,
      "gap (mean)": meanStd(r.gap.filter(Number.isFinite)).mean,
      "widening (mean)": meanStd(r.widening.filter(Number.isFinite)).mean,
      outcome: r.outcome,
    })),
  );
}
