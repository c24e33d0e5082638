import { curvesFigure, heatmapFigure } from "../../plot/figures";
import type { Figure } from "../../plot/types";
import type { Row } from "../../tables";
import type { DepthCell, DepthStabilitySummary } from "./spec";

const armLabels = (s: DepthStabilitySummary) => s.arms.map((a) => s.cells.find((c) => c.arm === a)?.label ?? a);
const meanOf = (xs: number[]) => {
  const v = xs.filter(Number.isFinite);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
};

/** Test accuracy vs depth per arm (one line per seed, min..max band; runs without a result at chance). */
export function depthAccuracyFigure(s: DepthStabilitySummary): Figure {
  const runs = s.cells.flatMap((c) => c.runs.accs.map((y, i) => ({ label: c.label, seed: c.runs.seeds[i]!, x: c.depth, y: Number.isFinite(y) ? y : 10 })));
  const series = [...new Set(runs.map((r) => `${r.label}|${r.seed}`))].map((k) => {
    const rs = runs.filter((r) => `${r.label}|${r.seed}` === k).sort((a, b) => a.x - b.x);
    return { label: rs[0]!.label, points: rs.map((r) => ({ x: r.x, y: r.y })) };
  });
  return curvesFigure(series, { metric: "test accuracy % (no result = chance)", x: "depth (blocks)", band: "minmax", title: `Test accuracy vs depth (${s.scale})` });
}

function armDepthMap(s: DepthStabilitySummary, value: (c: DepthCell) => number, title: string, zLabel: string, colorscale: string): Figure {
  return heatmapFigure(
    { z: s.arms.map((a) => s.depths.map((d) => {
      const c = s.cells.find((x) => x.arm === a && x.depth === d);
      return c ? value(c) : NaN;
    })), x: s.depths.map((d) => `depth ${d}`), y: armLabels(s) },
    { title, zLabel, zmin: 0, zmax: 1, annotate: ".2f", colorscale, matrix: true },
  );
}

/** Fraction of seeds the trainer stopped on a blow-up, arm x depth. */
export function depthDivergenceFigure(s: DepthStabilitySummary): Figure {
  return armDepthMap(s, (c) => c.diverged / c.runs.seeds.length, `Fraction of seeds that diverged (${s.scale}; blank = not run)`, "diverged", "Reds");
}

/** Fraction of seeds that learned (the rest diverged or stayed near chance), arm x depth. */
export function depthLearnedFigure(s: DepthStabilitySummary): Figure {
  return armDepthMap(s, (c) => (c.runs.seeds.length - c.diverged - c.didNotLearn) / c.runs.seeds.length, `Fraction of seeds that learned (${s.scale}; blank = not run)`, "learned", "Greens");
}

/** Max |h| of the residual stream (max over blocks, mean over seeds) vs step, one figure per depth that has runs. */
export function depthActivationFigures(s: DepthStabilitySummary): { depth: number; figure: Figure }[] {
  return s.depths.filter((d) => s.cells.some((c) => c.depth === d)).map((depth) => ({
    depth,
    figure: curvesFigure(
      s.cells.filter((c) => c.depth === depth).map((c) => ({ label: c.label, points: c.actTrace.map((p) => ({ x: p.step, y: p.maxAct })) })),
      { metric: "max |h| over blocks (probe batch)", logY: true, title: `Residual-stream max activation, depth ${depth} (${s.scale})` },
    ),
  }));
}

/** Final mean attention entropy vs depth per arm (ln T = uniform attention). */
export function depthEntropyFigure(s: DepthStabilitySummary): Figure {
  const series = s.arms.map((a) => ({
    label: s.cells.find((c) => c.arm === a)?.label ?? a,
    points: s.cells.filter((c) => c.arm === a && Number.isFinite(c.finalEntropy)).sort((x, y) => x.depth - y.depth).map((c) => ({ x: c.depth, y: c.finalEntropy })),
  }));
  return curvesFigure(series, { metric: "mean attention entropy at the end (nats)", x: "depth (blocks)", title: `Attention entropy vs depth (${s.scale}; uniform over 17 tokens = ln 17 = 2.83)` });
}

export function depthStabilityTable(s: DepthStabilitySummary): Row[] {
  return s.cells.map((c) => ({
    arm: c.label,
    depth: c.depth,
    seeds: c.runs.seeds.join(","),
    "test acc % (mean)": meanOf(c.runs.accs),
    learned: c.runs.classes.filter((x) => x === "learned").length,
    diverged: c.diverged,
    "diverged at": c.divergences.map((d) => `s${d.seed}@${d.step ?? "?"}`).join(" ") || "-",
    "did not learn": c.didNotLearn,
    "loss spikes": c.spikes,
    "max grad norm": c.maxGradNorm,
    "max |h|": c.maxAct,
    "attn entropy (nats)": c.finalEntropy,
  }));
}
