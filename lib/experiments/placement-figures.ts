import { heatmapFigure } from "../plot/figures";
import type { Figure } from "../plot/types";
import type { Row } from "../tables";
import type { PlacementSummary } from "./placement";

const LABEL: Record<string, string> = { layernorm: "LayerNorm", dyt: "DyT", rmsnorm: "RMSNorm" };

/** Heatmap of test accuracy: rows = norm x placement, columns = depth. */
export function placementFigure(s: PlacementSummary): Figure {
  const depths = [...new Set(s.cells.map((c) => c.depth))].sort((a, b) => a - b);
  const rows = [...new Set(s.cells.map((c) => `${c.norm}|${c.placement}`))];
  return heatmapFigure(
    {
      z: rows.map((r) => depths.map((d) => s.cells.find((c) => `${c.norm}|${c.placement}` === r && c.depth === d)?.scoredAcc.mean ?? NaN)),
      x: depths.map((d) => `depth ${d}`),
      y: rows.map((r) => {
        const [n, p] = r.split("|");
        return `${LABEL[n!] ?? n} ${p}`;
      }),
    },
    { title: `Test accuracy % by norm placement and depth (${s.scale}; diverged = chance)`, zLabel: "test acc %", annotate: ".1f", matrix: true },
  );
}

export function placementTable(s: PlacementSummary): Row[] {
  return s.cells.map((c) => ({
    norm: LABEL[c.norm] ?? c.norm,
    placement: c.placement,
    depth: c.depth,
    seeds: c.seeds.join(","),
    "test acc % (mean)": c.scoredAcc.mean,
    "std over seeds": c.scoredAcc.std,
    diverged: c.diverged,
  }));
}
