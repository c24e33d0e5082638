import { baseLayout, paletteColor } from "../../plot/figures";
import type { Figure, PlotTrace } from "../../plot/types";
import type { Row } from "../../tables";
import { meanStd } from "../stats-lite";
import type { LmToFailureSummary, RungResult } from "./spec";

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
  // The re-tuned depth rung beside the depth ladder's own, in the depth panel.
  const k = s.ladders.findIndex((l) => l.ladder === "depth");
  const rt = s.retuned?.rung;
  if (rt && k >= 0) {
    const ax = k === 0 ? "" : String(k + 1);
    const x = `${rt.rung.id} (depth ${rt.rung.depth}, re-tuned)`;
    const m = meanStd(rt.gap.filter(Number.isFinite));
    data.push({ type: "scatter", mode: "markers", name: `depth ${rt.rung.depth} re-tuned: mean ± std`, x: [x], y: [m.mean], error_y: { type: "data", array: [m.std], visible: true }, marker: { color: paletteColor(2), size: 10, symbol: "diamond" }, xaxis: `x${ax}`, yaxis: `y${ax}` });
    data.push({ type: "scatter", mode: "markers", name: `depth ${rt.rung.depth} re-tuned: per seed`, x: rt.gap.map(() => x), y: rt.gap, text: rt.seeds.map((sd) => `seed ${sd}: ${rt.outcome}`), marker: { color: paletteColor(2), size: 6, opacity: 0.5 }, xaxis: `x${ax}`, yaxis: `y${ax}` });
  }
  const layout = baseLayout({ title: `DyT − RMSNorm test bits per byte as the LM is pushed (R-to-failure: ${s.verdict})` });
  layout.grid = { rows: 1, columns: Math.max(1, s.ladders.length), pattern: "independent" };
  layout.width = 950;
  layout.height = 420;
  return { data, layout };
}

/** One row per rung: steps, depth, both arms' mean test bpb, the gap, its widening and the rung's outcome; the re-tuned rung last. */
export function rungTable(s: LmToFailureSummary): Row[] {
  const mean = (v: readonly number[]) => meanStd(v.filter(Number.isFinite)).mean;
  const row = (ladder: string, r: RungResult): Row => ({
    ladder,
    rung: r.rung.id,
    steps: r.steps,
    depth: r.rung.depth,
    "DyT bpb": mean(r.arms[0].bpbs),
    "RMSNorm bpb": mean(r.arms[1].bpbs),
    "gap (mean)": mean(r.gap),
    "widening (mean)": mean(r.widening),
    outcome: r.outcome,
  });
  return [...s.ladders.flatMap((l) => l.rungs.map((r) => row(l.ladder, r))), ...(s.retuned?.rung ? [row("depth, re-tuned", s.retuned.rung)] : [])];
}

/** The re-tuned rung's tuning grid: one row per candidate and lr (validation bpb; empty where the run did not learn), the picks marked. */
export function retuneTable(s: LmToFailureSummary): Row[] {
  const rt = s.retuned;
  if (!rt) return [];
  return rt.picks.flatMap((p) =>
    p.grid.map((g) => ({
      arm: p.arm,
      "α₀": p.alpha0 ?? "",
      lr: g.lr,
      "val bpb": g.valBpb ?? "",
      class: g.class,
      picked: g.lr === p.bestLr && !p.noneLearned ? (p.arm === rt.dyt?.arm || p.arm === rt.norm?.arm ? "pick" : "best of its α₀") : "",
    })),
  );
}
