import { heatmapFigure } from "../../plot/figures";
import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import type { PlacementSummary } from "./spec";
import { fixed } from "../../util/format";

const finite = (xs: number[]) => xs.filter(Number.isFinite);
const meanOf = (xs: number[]) => (finite(xs).length ? finite(xs).reduce((a, b) => a + b, 0) / finite(xs).length : NaN);

/** Heatmap of mean test accuracy (runs that learned or not; diverged runs have none): rows = norm x placement, columns = depth. */
export function placementFigure(s: PlacementSummary): Figure {
  const depths = [...new Set(s.cells.map((c) => c.depth))].sort((a, b) => a - b);
  const arms = [...new Set(s.cells.map((c) => c.arm))];
  return heatmapFigure(
    {
      z: arms.map((a) => depths.map((d) => {
        const c = s.cells.find((x) => x.arm === a && x.depth === d);
        return c ? meanOf(c.runs.accs) : NaN;
      })),
      x: depths.map((d) => `depth ${d}`),
      y: arms.map((a) => s.cells.find((c) => c.arm === a)!.label),
    },
    { title: `Test accuracy % by norm placement and depth, each arm at its tuned lr (${s.scale}; blank = no result)`, zLabel: "test acc %", annotate: ".1f", matrix: true },
  );
}

/** One row per (arm, depth): lr, per-seed classes, mean test accuracy. */
export function placementTable(s: PlacementSummary): Row[] {
  return s.cells.map((c) => ({
    arm: c.label,
    placement: c.placement,
    depth: c.depth,
    lr: c.runs.lr,
    seeds: c.runs.seeds.join(","),
    learned: `${c.runs.classes.filter((x) => x === "learned").length}/${c.runs.classes.length}`,
    "test acc % (mean)": meanOf(c.runs.accs),
    "test acc % per seed": c.runs.accs.map((x) => (Number.isFinite(x) ? x.toFixed(2) : "—")).join(" "),
  }));
}

const f2 = fixed(2);

/** One row per (placement, depth) cell: DyT − LN with 95 % CI, detectable effect and the cell's outcome. */
export function placementComparisonTable(s: PlacementSummary): Row[] {
  return s.comparisons.map((c) => ({
    cell: c.cell,
    "diff (pts)": c.evidence ? f2(c.evidence.test.mean) : "—",
    "95 % CI": c.evidence ? `[${f2(c.evidence.test.ci[0])}, ${f2(c.evidence.test.ci[1])}]` : "—",
    n: c.seeds.length,
    "detectable (pts)": c.evidence ? f2(c.evidence.test.detectable) : "—",
    outcome: c.outcome,
    reason: c.reason,
  }));
}
