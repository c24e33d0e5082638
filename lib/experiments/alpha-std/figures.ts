import { alphaTraceFigure, baseLayout, curvesFigure, paletteColor, scatterFigure, sequentialColor } from "../../plot/figures";
import type { Figure, PlotTrace } from "../../plot/types";
import type { Row } from "../../tables";
import { acrossLayerR, type AlphaStdRecord, type AlphaStdSummary, type LayerSet } from "./spec";

type Rec = AlphaStdRecord;

/** alpha_l(t) and 1/std_l(t) per layer for one seed (two figures with the same layer colours). */
export function alphaStdTraceFigures(rec: Rec): { alpha: Figure; invStd: Figure } {
  const pts = rec.result.points;
  const layers = pts[0]?.layers ?? [];
  const traces = (f: (p: (typeof pts)[number], i: number) => number) =>
    layers.map((layer, i) => ({ layer, step: pts.map((p) => p.step), alpha: pts.map((p) => f(p, i)) }));
  return {
    alpha: alphaTraceFigure(traces((p, i) => p.alpha[i]!), { title: `DyT α per layer during training (seed ${rec.seed})` }),
    invStd: alphaTraceFigure(traces((p, i) => 1 / p.std[i]!), {
      title: `1/std of each DyT layer's input on the probe batch (seed ${rec.seed})`,
      yLabel: "1 / std(input)",
    }),
  };
}

/** alpha vs 1/std at the end (or at `step`), one colour per layer (depth order), one point per seed; log-log axes. */
export function alphaVsInvStdFigure(records: Rec[], step?: number): Figure {
  const ok = records.filter((r) => r.result.status === "completed");
  const layers = ok[0]?.result.points[0]?.layers ?? [];
  const n = layers.length;
  const fig = scatterFigure(
    layers.map((layer, i) => {
      const pts = ok.map((r) => (step === undefined ? r.result.points.at(-1) : r.result.points.find((p) => p.step === step))!).filter(Boolean);
      return {
        name: layer,
        x: pts.map((p) => 1 / p.std[i]!),
        y: pts.map((p) => p.alpha[i]!),
        text: ok.map((r) => `seed ${r.seed}`),
        color: sequentialColor(n > 1 ? i / (n - 1) : 0),
        size: 9,
      };
    }),
    { title: `α vs 1/std of the layer input at ${step === undefined ? "the end of training" : `step ${step}`} (one point per seed)`, xLabel: "1 / std(input)", yLabel: "α", logX: true, logY: true },
  );
  return fig;
}

/** Across-layer r(alpha, 1/std) over training, block norms (the claim's set) and all DyT layers: one line per seed plus the mean. */
export function alphaStdRFigure(records: Rec[]): Figure {
  const ok = records.filter((r) => r.result.status === "completed");
  const sets: [LayerSet, string][] = [
    ["blocks", "block norms"],
    ["all", "all DyT layers (with the final norm)"],
  ];
  return curvesFigure(
    sets.flatMap(([set, name], i) =>
      ok.map((r) => ({
        label: `r(α, 1/std), ${name}`,
        points: r.result.points.map((p) => ({ x: p.step, y: acrossLayerR(p, "std", set) })).filter((p) => Number.isFinite(p.y)),
        color: paletteColor(i),
      })),
    ),
    { metric: "Pearson r", title: `Does α track 1/std across layers? (mean ± std over ${ok.length} seeds)`, band: "std", showSeeds: true },
  );
}

/** alpha0 vs 1/std of the LayerNorm ViT's norm inputs at init, per layer. */
export function lnInitFigure(summary: AlphaStdSummary): Figure {
  const x = summary.lnInit.map((l) => l.layer);
  const data: PlotTrace[] = [
    { type: "bar", name: "1/std of LN-model norm input at init", x, y: summary.lnInit.map((l) => l.invStd), marker: { color: paletteColor(0) } },
    { type: "scatter", mode: "lines", name: `α0 = ${summary.alpha0}`, x, y: x.map(() => summary.alpha0), line: { color: "#d62728", dash: "dash", width: 2 } },
  ];
  const layout = baseLayout({ title: "α0 vs 1/std of the LayerNorm model's norm inputs at init", yLabel: "value", logY: true });
  return { data, layout };
}

/** One row per checkpoint: r over the block norms (the claim's set) and over all DyT layers, with CIs. */
export function alphaStdTable(summary: AlphaStdSummary): Row[] {
  return summary.checkpoints.map((c) => ({
    step: c.step,
    seeds: c.seeds,
    "r blocks": c.blocks.mean,
    "blocks CI lo": c.blocks.ci[0],
    "blocks CI hi": c.blocks.ci[1],
    "r all layers": c.all.mean,
    "all CI lo": c.all.ci[0],
    "all CI hi": c.all.ci[1],
    "log-log slope (blocks)": c.logLogSlope,
    "r blocks (per-token std)": c.meanRTokenStd,
  }));
}
