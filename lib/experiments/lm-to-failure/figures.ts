import { baseLayout, paletteColor } from "../../plot/figures";
import type { Figure, PlotTrace } from "../../plot/types";
import type { Cell, Row } from "../../tables";
import { meanStd } from "../stats-lite";
import type { Ladder, LadderResult, LmToFailureSummary, RetunedRung, RungResult } from "./spec";

/** The x label of a rung: what its ladder varies. */
function rungLabel(l: LadderResult, r: RungResult): string {
  const what = l.ladder === "steps" ? `${r.steps} steps` : l.ladder === "depth" ? `depth ${r.rung.depth}` : `width ${r.rung.width}`;
  return `${r.rung.id} (${what})`;
}

/**
 * DyT − RMSNorm test bpb per rung, one panel per ladder (steps, depth, and
 * the width ladder of the 2026-12-05 amendment): each seed's gap (points) and
 * the mean ± std (line). A rung breaks when its gap widens over the first
 * rung's (or DyT stops learning); the ladder stops there. Rungs not yet run
 * are named in the ladder's legend entry. The re-tuned rungs (depth 4; the
 * width rungs of the second 2026-12-05 amendment) are diamonds in their
 * ladder's panel.
 */
export function gapLadderFigure(s: LmToFailureSummary): Figure {
  const data: PlotTrace[] = [];
  s.ladders.forEach((l, k) => {
    const ax = k === 0 ? "" : String(k + 1);
    const xs = l.rungs.map((r) => rungLabel(l, r));
    const m = l.rungs.map((r) => meanStd(r.gap.filter(Number.isFinite)));
    const pending = l.notRun?.length ? ` (not yet run: ${l.notRun.join(", ")})` : "";
    data.push({ type: "scatter", mode: "lines+markers", name: `${l.ladder}: mean ± std${pending}`, x: xs, y: m.map((v) => v.mean), error_y: { type: "data", array: m.map((v) => v.std), visible: true }, line: { color: paletteColor(k), width: 2 }, xaxis: `x${ax}`, yaxis: `y${ax}` });
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
  // Each re-tuned rung beside its ladder's own, in that ladder's panel: the depth rung, then the width rungs
  // (amendment 2026-12-05), in a colour no ladder uses (the ladders take 0, 1, 2).
  const c = paletteColor(Math.max(3, s.ladders.length));
  const retunedPoints = (ladder: Ladder, rt: RungResult | undefined) => {
    const k = s.ladders.findIndex((l) => l.ladder === ladder);
    if (!rt || k < 0) return;
    const ax = k === 0 ? "" : String(k + 1);
    const what = ladder === "width" ? `width ${rt.rung.width}` : `depth ${rt.rung.depth}`;
    const x = `${rt.rung.id} (${what}, re-tuned)`;
    const m = meanStd(rt.gap.filter(Number.isFinite));
    data.push({ type: "scatter", mode: "markers", name: `${what} re-tuned: mean ± std`, x: [x], y: [m.mean], error_y: { type: "data", array: [m.std], visible: true }, marker: { color: c, size: 10, symbol: "diamond" }, xaxis: `x${ax}`, yaxis: `y${ax}` });
    data.push({ type: "scatter", mode: "markers", name: `${what} re-tuned: per seed`, x: rt.gap.map(() => x), y: rt.gap, text: rt.seeds.map((sd) => `seed ${sd}: ${rt.outcome}`), marker: { color: c, size: 6, opacity: 0.5 }, xaxis: `x${ax}`, yaxis: `y${ax}` });
  };
  retunedPoints("depth", s.retuned?.rung);
  for (const r of s.widthRetuned?.rungs ?? []) retunedPoints("width", r.rung);
  const widthRow = s.width ? `; width: ${s.width.verdict}` : "";
  const widthRetunedRow = s.widthRetuned ? `; width re-tuned: ${s.widthRetuned.verdict}` : "";
  const layout = baseLayout({ title: `DyT − RMSNorm test bits per byte as the LM is pushed (R-to-failure: ${s.verdict}${widthRow}${widthRetunedRow})` });
  layout.grid = { rows: 1, columns: Math.max(1, s.ladders.length), pattern: "independent" };
  layout.width = Math.max(950, 330 * s.ladders.length);
  layout.height = 420;
  return { data, layout };
}

/**
 * One row per rung: steps, depth, width, both arms' mean test bpb, the gap,
 * its widening and the rung's outcome; a rung not yet run (width ladder,
 * loaded from saved results only) as a row of its own; the re-tuned depth
 * rung, then the re-tuned width rungs (those not yet run as rows of their
 * own; one re-tuned without evaluation runs has no row: see its statement).
 */
export function rungTable(s: LmToFailureSummary): Row[] {
  const mean = (v: readonly number[]) => meanStd(v.filter(Number.isFinite)).mean;
  // Summaries saved before the width ladder have no rung widths: every rung then is at the first rung's width.
  const widthOf = (r: RungResult): Cell => r.rung.width ?? s.width?.widths[0] ?? "";
  // The width of a rung not yet run: the re-tuned width rungs share the width ladder's rung ids.
  const pending = (ladder: string, id: string): Row => ({ ladder, rung: id, steps: "", depth: "", width: s.width?.recipe.find((x) => x.rung === id)?.width ?? "", "DyT bpb": "", "RMSNorm bpb": "", "gap (mean)": "", "widening (mean)": "", outcome: "not yet run" });
  const row = (ladder: string, r: RungResult): Row => ({
    ladder,
    rung: r.rung.id,
    steps: r.steps,
    depth: r.rung.depth,
    width: widthOf(r),
    "DyT bpb": mean(r.arms[0].bpbs),
    "RMSNorm bpb": mean(r.arms[1].bpbs),
    "gap (mean)": mean(r.gap),
    "widening (mean)": mean(r.widening),
    outcome: r.outcome,
  });
  const wr = s.widthRetuned;
  const widthRetuned = wr ? [...wr.rungs.flatMap((x) => (x.rung ? [row("width, re-tuned", x.rung)] : [])), ...wr.notRun.map((id) => pending("width, re-tuned", id))] : [];
  return [...s.ladders.flatMap((l) => [...l.rungs.map((r) => row(l.ladder, r)), ...(l.notRun ?? []).map((id) => pending(l.ladder, id))]), ...(s.retuned?.rung ? [row("depth, re-tuned", s.retuned.rung)] : []), ...widthRetuned];
}

/** The width ladder's recipe per rung, as DyT's arm resolves it (heads, FFN width, init std, α₀ per slot): empty without the width ladder. */
export function widthRecipeTable(s: LmToFailureSummary): Row[] {
  const w = s.width;
  if (!w) return [];
  const status = (id: string) => (w.notRun.includes(id) ? "not yet run" : (s.ladders.find((l) => l.ladder === "width")?.rungs.find((r) => r.rung.id === id)?.outcome ?? "not trained (above the break)"));
  return w.recipe.map((r) => ({ rung: r.rung, width: r.width, heads: r.heads, "FFN width": r.ffnHidden, "init std": r.initStd, "α₀ attention": r.alpha0?.[0] ?? "", "α₀ FFN": r.alpha0?.[1] ?? "", "α₀ final": r.alpha0?.[2] ?? "", outcome: status(r.rung) }));
}

/** A re-tuned rung's tuning grid: one row per candidate and lr (validation bpb; empty where the run did not learn), the picks marked. */
function tuningRows(rt: RetunedRung): Row[] {
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

/** The re-tuned depth rung's tuning grid (tuningRows); empty without it. */
export function retuneTable(s: LmToFailureSummary): Row[] {
  return s.retuned ? tuningRows(s.retuned) : [];
}

/** The re-tuned width rungs' tuning grids (amendment 2026-12-05), a width column first; empty without them or before their runs. */
export function widthRetuneTable(s: LmToFailureSummary): Row[] {
  return (s.widthRetuned?.rungs ?? []).flatMap((rt) => tuningRows(rt).map((r) => ({ width: rt.width ?? "", ...r })));
}
