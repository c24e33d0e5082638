import { curvesFigure, heatmapFigure } from "../plot/figures";
import type { Figure } from "../plot/types";
import type { Row } from "../tables";
import type { LrStabilitySummary } from "./lr-stability";
import { NORM_FREE_VARIANTS } from "./norm-free";

const label = (id: string) => NORM_FREE_VARIANTS[id]?.label ?? id;

/** Final loss vs lr (log x; diverged runs capped at l0 = ln 10), divergence map, max grad norm vs lr. */
export function lrStabilityFigures(s: LrStabilitySummary): { loss: Figure; divergence: Figure; gradNorm: Figure } {
  const l0 = s.byVariant[0]?.sensitivity.l0 ?? Math.log(10);
  const series = (value: (r: LrStabilitySummary["runs"][number]) => number) =>
    [...new Set(s.runs.map((r) => `${r.variant}|${r.seed}`))].map((key) => {
      const [variant, seed] = key.split("|");
      const rs = s.runs.filter((r) => r.variant === variant && String(r.seed) === seed).sort((a, b) => a.lr - b.lr);
      return { label: label(variant!), points: rs.map((r) => ({ x: r.lr, y: value(r) })) };
    });
  const loss = curvesFigure(series((r) => (r.diverged || !Number.isFinite(r.finalLoss) ? l0 : Math.min(r.finalLoss, l0))), {
    metric: "final train loss (diverged = ln 10)",
    x: "peak learning rate",
    logX: true,
    band: "minmax",
    title: `Final loss vs learning rate (${s.scale})`,
  });
  const gradNorm = curvesFigure(series((r) => r.maxGradNorm), { metric: "max gradient norm (before clipping)", x: "peak learning rate", logX: true, logY: true, band: "minmax", title: `Largest gradient norm during training (${s.scale})` });
  const lrs = [...new Set(s.runs.map((r) => r.lr))].sort((a, b) => a - b);
  const divergence = heatmapFigure(
    {
      z: s.byVariant.map((b) => lrs.map((lr) => {
        const p = b.sensitivity.grid.find((g) => g.lr === lr);
        return p ? p.diverged / p.runs : NaN;
      })),
      x: lrs.map((lr) => lr.toExponential(1)),
      y: s.byVariant.map((b) => b.label),
    },
    { title: `Fraction of seeds that diverged (${s.scale})`, xLabel: "peak learning rate", zLabel: "diverged", zmin: 0, zmax: 1, annotate: ".2f", colorscale: "Reds" },
  );
  return { loss, divergence, gradNorm };
}

export function lrStabilityTable(s: LrStabilitySummary): Row[] {
  return s.byVariant.map((b) => ({
    method: b.label,
    "best lr": b.sensitivity.lrStar.toExponential(1),
    "best loss": b.sensitivity.lStar,
    "max stable lr": b.sensitivity.maxStableLr === null ? "none" : b.sensitivity.maxStableLr.toExponential(1),
    "widest ≤1.05 l* (decades)": b.sensitivity.widest.decades,
    sensitivity: b.sensitivity.sens,
    "loss spikes": b.spikes,
    runs: b.runs,
  }));
}
