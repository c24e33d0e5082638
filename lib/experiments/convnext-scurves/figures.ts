import { barFigure, baseLayout, paletteColor, scatterFigure } from "../../plot/figures";
import type { Figure, PlotTrace } from "../../plot/types";
import type { Row } from "../../tables";
import type { ImageProtocolRecord } from "../protocol/runner";
import type { NormReading } from "../protocol/image-probe";
import { CONVNEXT_SCURVES_ARMS, type ConvnextScurvesSummary, type LayerStat } from "./spec";

/**
 * One panel per LayerNorm of the LN ConvNeXt (forward order), pre-affine
 * output vs input of the sampled tokens at the end of training (`end`) or at
 * init, with the fitted k tanh(s x): the ConvNeXt counterpart of the paper's
 * Figures 2-4.
 */
export function lnMapsFigure(records: readonly ImageProtocolRecord[], seed?: number, at: "init" | "end" = "end"): Figure {
  const rec = records.find((r) => r.arm === CONVNEXT_SCURVES_ARMS.ln && r.role === "eval" && (seed === undefined || r.seed === seed) && r.result.readings);
  if (!rec) throw new Error(`lnMapsFigure: no LayerNorm run with readings${seed === undefined ? "" : ` for seed ${seed}`}`);
  return readingMapsFigure(rec.result.readings!, rec.run, rec.seed, at, "ConvNeXt");
}

/** The maps panel figure of one run's readings (`model` names it in the title); see lnMapsFigure. */
export function readingMapsFigure(readings: readonly NormReading[], run: string, seed: number, at: "init" | "end", model: string, only?: readonly string[]): Figure {
  const reading = at === "init" ? readings[0] : readings.find((x) => x.step > 0);
  if (!reading?.fits) throw new Error(`lnMapsFigure: run ${run} has no ${at} reading with fits (it did not complete?)`);
  const fits = reading.fits.filter((f) => f.sample && (!only || only.includes(f.layer)));
  if (!fits.length) throw new Error(`lnMapsFigure: run ${run} kept no plot samples (plotTokens 0)`);
  const cols = Math.min(4, fits.length);
  const rows = Math.ceil(fits.length / cols);
  const data: PlotTrace[] = [];
  const annotations: Record<string, unknown>[] = [];
  fits.forEach((f, k) => {
    const ax = k === 0 ? "" : String(k + 1);
    const s = f.sample!;
    const common = { type: "scatter", xaxis: `x${ax}`, yaxis: `y${ax}`, showlegend: k === 0 };
    data.push({ ...common, mode: "markers", name: "sampled tokens", legendgroup: "pts", x: s.x, y: s.yPre, marker: { color: paletteColor(0), size: 3, opacity: 0.5 } });
    const lo = Math.min(...s.x);
    const hi = Math.max(...s.x);
    const cx = Array.from({ length: 60 }, (_, i) => lo + ((hi - lo) * i) / 59);
    data.push({ ...common, mode: "lines", name: "fit k tanh(s x)", legendgroup: "fit", x: cx, y: cx.map((v) => f.pre.k * Math.tanh(f.pre.s * v)), line: { color: "#000000", width: 1.5 } });
    annotations.push({ xref: `x${ax} domain`, yref: `y${ax} domain`, x: 0.02, y: 0.98, showarrow: false, align: "left", font: { size: 10 }, text: `${f.layer}<br>ΔR²=${f.pre.deltaR2.toFixed(3)}` });
  });
  const layout = baseLayout({ title: `${model} LayerNorm maps (before the affine) at ${at === "init" ? "init" : `step ${reading.step}`}, seed ${seed}` });
  layout.grid = { rows, columns: cols, pattern: "independent" };
  layout.annotations = annotations;
  layout.height = 240 * rows;
  layout.width = 950;
  return { data, layout };
}

/** What the per-layer ΔR² figure and table read: layer statistics and the rule's early / deep groups. */
export interface LayerStatsView {
  layerStats: readonly LayerStat[];
  layers: { early: string[]; deep: string[] };
  /** Seeds behind the means. */
  seeds: number;
}

/** S-shapedness (pre-affine ΔR²) of each LN layer at init and at the end, mean ± std over seeds; early / deep as the rule groups them. */
export function lnDeltaFigure(s: ConvnextScurvesSummary): Figure {
  return layerDeltaFigure({ layerStats: s.ln.layerStats, layers: s.layers, seeds: s.ln.earlyDeep.length || s.seeds.length }, "ConvNeXt");
}

export function layerDeltaFigure(v: LayerStatsView, model: string): Figure {
  const names = [...new Set(v.layerStats.map((l) => l.layer))];
  const tag = (l: string) => (v.layers.early.includes(l) ? " (early)" : v.layers.deep.includes(l) ? " (deep)" : "");
  const series = (step0: boolean, name: string, i: number) => {
    const ls = names.map((n) => v.layerStats.find((l) => l.layer === n && (l.step === 0) === step0));
    return { name, values: ls.map((l) => l?.deltaR2.mean ?? NaN), errors: ls.map((l) => l?.deltaR2.std ?? NaN), color: paletteColor(i) };
  };
  const fig = barFigure(
    { categories: names.map((n) => n + tag(n)), series: [series(true, "init", 0), series(false, "end of training", 1)] },
    { title: `How tanh-like each ${model} LayerNorm is: R²(tanh) − R²(line), mean ± std over ${v.seeds} seed(s)`, yLabel: "ΔR² (pre-affine)", xLabel: "layer, forward order" },
  );
  // Long layer names: slant them and let the axis grow a margin, so neither they nor the axis title overlap.
  fig.layout.xaxis = { ...fig.layout.xaxis, tickangle: -30, automargin: true };
  return fig;
}

/** alpha vs 1/std of every DyT layer at the end, one colour per seed (log-log): the ConvNeXt counterpart of Figure 9. */
export function alphaInvStdFigure(s: ConvnextScurvesSummary): Figure {
  const seeds = [...new Set(s.dyt.points.map((p) => p.seed))];
  return scatterFigure(
    seeds.map((seed, i) => {
      const ps = s.dyt.points.filter((p) => p.seed === seed);
      return { name: `seed ${seed}`, x: ps.map((p) => p.invStd), y: ps.map((p) => p.alpha), text: ps.map((p) => p.layer), color: paletteColor(i), size: 9 };
    }),
    { title: `ConvNeXt DyT: α vs 1/std of each layer's input at the end of training (r = ${Number.isFinite(s.dyt.r.mean) ? s.dyt.r.mean.toFixed(2) : "—"})`, xLabel: "1 / std(input)", yLabel: "α", logX: true, logY: true },
  );
}

/** One row per LN layer: ΔR² at init and at the end, the fit's s and s·max|x| at the end. */
export function lnTable(s: ConvnextScurvesSummary): Row[] {
  return layerStatsTable({ layerStats: s.ln.layerStats, layers: s.layers, seeds: s.seeds.length });
}

export function layerStatsTable(v: LayerStatsView): Row[] {
  const names = [...new Set(v.layerStats.map((l) => l.layer))];
  return names.map((layer) => {
    const at0 = v.layerStats.find((l) => l.layer === layer && l.step === 0);
    const end = v.layerStats.find((l) => l.layer === layer && l.step > 0);
    return {
      layer,
      group: v.layers.early.includes(layer) ? "early" : v.layers.deep.includes(layer) ? "deep" : "—",
      "ΔR² init": at0?.deltaR2.mean ?? NaN,
      "ΔR² end": end?.deltaR2.mean ?? NaN,
      "ΔR² end std": end?.deltaR2.std ?? NaN,
      "s end": end?.s.mean ?? NaN,
      "s·max|x| end": end?.maxArg.mean ?? NaN,
      seeds: end?.n ?? 0,
    };
  });
}
