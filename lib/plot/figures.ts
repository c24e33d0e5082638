/**
 * Figure builders: plain Plotly JSON specs (no DOM, no plotly.js needed to build them).
 * Show them in a notebook with showFigure(), render them with renderPng(), or save the JSON.
 */
import type { Figure, PlotAxis, PlotLayout, PlotLine, PlotTrace } from "./types";

/** Plotly's default qualitative palette (D3 category10). */
export const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
] as const;

/** Color i of the qualitative palette (wraps around). */
export function paletteColor(i: number): string {
  return PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length]!;
}

const VIRIDIS: [number, number, number][] = [
  [68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
  [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37],
];

/** A color on the viridis scale, t in [0, 1] (dark purple -> yellow). For ordered things such as depth. */
export function sequentialColor(t: number): string {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(u));
  const f = u - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  const c = (k: number) => Math.round(a[k]! + (b[k]! - a[k]!) * f);
  return `rgb(${c(0)},${c(1)},${c(2)})`;
}

/** "#rrggbb" or "rgb(r,g,b)" with an alpha channel. */
export function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (hex) return `rgba(${parseInt(hex[1]!, 16)},${parseInt(hex[2]!, 16)},${parseInt(hex[3]!, 16)},${alpha})`;
  const rgb = /^rgba?\(([^,]+),([^,]+),([^,)]+)/.exec(color.replace(/\s+/g, ""));
  if (rgb) return `rgba(${rgb[1]},${rgb[2]},${rgb[3]},${alpha})`;
  return color;
}

/** A number for a data array: NaN/Infinity (diverged runs) become null, a gap in the plot. */
export function finiteOrNull(v: number | null | undefined): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function axis(title: string | undefined, log?: boolean): PlotAxis {
  const a: PlotAxis = { showgrid: true, gridcolor: "#e5e5e5", zeroline: false };
  if (title) a.title = { text: title };
  if (log) a.type = "log";
  return a;
}

/** Common layout: white background, light grid, titles. */
export function baseLayout(o: { title?: string; xLabel?: string; yLabel?: string; logX?: boolean; logY?: boolean }): PlotLayout {
  const layout: PlotLayout = {
    xaxis: axis(o.xLabel, o.logX),
    yaxis: axis(o.yLabel, o.logY),
    paper_bgcolor: "#ffffff",
    plot_bgcolor: "#ffffff",
    font: { family: "Liberation Sans, Arial, sans-serif", size: 13 },
    margin: { l: 70, r: 30, t: o.title ? 60 : 30, b: 60 },
    hovermode: "closest",
  };
  if (o.title) layout.title = { text: o.title, x: 0.5, xanchor: "center" };
  return layout;
}

function checkSameLength(what: string, a: ArrayLike<unknown>, b: ArrayLike<unknown>, an = "x", bn = "y"): void {
  if (a.length !== b.length) throw new Error(`${what}: ${an} has ${a.length} values but ${bn} has ${b.length}`);
}

// ---------------------------------------------------------------------------------------------
// Curves (training metrics over steps), optionally aggregated over seeds.

export interface CurvePoint {
  x: number;
  y: number;
}

/** One run's metric series. Runs that share a label are seeds of one configuration. */
export interface CurveRun {
  label: string;
  points: CurvePoint[];
  color?: string;
  dash?: PlotLine["dash"];
}

export type BandKind = "none" | "std" | "sem" | "minmax";

export interface CurvesOptions {
  /** The metric's name, e.g. "train loss": the y-axis title unless yLabel is given. */
  metric: string;
  /** x-axis title (default "step"). */
  x?: string;
  title?: string;
  yLabel?: string;
  logY?: boolean;
  logX?: boolean;
  /**
   * How runs sharing a label (seeds) are drawn: "none" (default) one line per run, same color
   * per label; "std" | "sem" | "minmax": the mean over seeds at each x with a shaded band
   * (mean +/- sample std, mean +/- standard error, or min..max).
   */
  band?: BandKind;
  /** With a band, also draw each seed as a thin faint line. */
  showSeeds?: boolean;
  /** Exponential moving average weight in [0, 1) applied to each run before aggregation (0 = off). */
  smooth?: number;
}

interface Group {
  label: string;
  color: string;
  dash?: PlotLine["dash"];
  runs: CurvePoint[][];
}

function emaSmooth(points: CurvePoint[], w: number): CurvePoint[] {
  if (!(w > 0)) return points;
  if (w >= 1) throw new Error(`curvesFigure: smooth must be in [0, 1), got ${w}`);
  const out: CurvePoint[] = [];
  let acc: number | undefined;
  for (const p of points) {
    if (!Number.isFinite(p.y)) {
      out.push(p);
      continue;
    }
    acc = acc === undefined ? p.y : w * acc + (1 - w) * p.y;
    out.push({ x: p.x, y: acc });
  }
  return out;
}

/** Mean and band over seeds at each x present in any run (non-finite values are skipped). */
export function aggregateSeeds(
  runs: CurvePoint[][],
  band: Exclude<BandKind, "none">,
): { x: number[]; mean: (number | null)[]; lower: (number | null)[]; upper: (number | null)[]; n: number[] } {
  const byX = new Map<number, number[]>();
  for (const run of runs) {
    for (const p of run) {
      let ys = byX.get(p.x);
      if (!ys) byX.set(p.x, (ys = []));
      if (Number.isFinite(p.y)) ys.push(p.y);
    }
  }
  const xs = [...byX.keys()].sort((a, b) => a - b);
  const mean: (number | null)[] = [];
  const lower: (number | null)[] = [];
  const upper: (number | null)[] = [];
  const n: number[] = [];
  for (const x of xs) {
    const ys = byX.get(x)!;
    n.push(ys.length);
    if (ys.length === 0) {
      mean.push(null);
      lower.push(null);
      upper.push(null);
      continue;
    }
    const m = ys.reduce((s, v) => s + v, 0) / ys.length;
    mean.push(m);
    if (band === "minmax") {
      lower.push(Math.min(...ys));
      upper.push(Math.max(...ys));
      continue;
    }
    const variance = ys.length > 1 ? ys.reduce((s, v) => s + (v - m) ** 2, 0) / (ys.length - 1) : 0;
    const sd = Math.sqrt(variance);
    const half = band === "sem" ? sd / Math.sqrt(ys.length) : sd;
    lower.push(m - half);
    upper.push(m + half);
  }
  return { x: xs, mean, lower, upper, n };
}

/**
 * Several runs' metric curves. Runs with the same label share a color (and, with `band`,
 * are aggregated into mean +/- band). Non-finite values (diverged runs) are gaps.
 */
export function curvesFigure(runs: CurveRun[], opts: CurvesOptions): Figure {
  const band: BandKind = opts.band ?? "none";
  const logY = opts.logY === true;
  const groups: Group[] = [];
  const byLabel = new Map<string, Group>();
  for (const run of runs) {
    let g = byLabel.get(run.label);
    if (!g) {
      g = { label: run.label, color: run.color ?? paletteColor(groups.length), runs: [] };
      if (run.dash) g.dash = run.dash;
      byLabel.set(run.label, g);
      groups.push(g);
    }
    const pts = [...run.points].sort((a, b) => a.x - b.x);
    g.runs.push(emaSmooth(pts, opts.smooth ?? 0));
  }
  const yOf = (v: number | null): number | null => {
    const f = finiteOrNull(v);
    return logY && f !== null && f <= 0 ? null : f;
  };
  const data: PlotTrace[] = [];
  for (const g of groups) {
    const line: PlotLine = { color: g.color, width: 2 };
    if (g.dash) line.dash = g.dash;
    if (band === "none" || g.runs.length === 1) {
      g.runs.forEach((pts, i) => {
        data.push({
          type: "scatter",
          mode: "lines",
          name: g.label,
          legendgroup: g.label,
          showlegend: i === 0,
          x: pts.map((p) => p.x),
          y: pts.map((p) => yOf(p.y)),
          line,
        });
      });
      continue;
    }
    const agg = aggregateSeeds(g.runs, band);
    let floor = Infinity;
    if (logY) for (const r of g.runs) for (const p of r) if (Number.isFinite(p.y) && p.y > 0) floor = Math.min(floor, p.y);
    const clamp = (v: number | null): number | null => (logY && v !== null && v <= 0 ? (Number.isFinite(floor) ? floor : null) : v);
    if (opts.showSeeds) {
      for (const pts of g.runs) {
        data.push({
          type: "scatter",
          mode: "lines",
          name: g.label + " (seed)",
          legendgroup: g.label,
          showlegend: false,
          hoverinfo: "skip",
          x: pts.map((p) => p.x),
          y: pts.map((p) => yOf(p.y)),
          line: { color: withAlpha(g.color, 0.35), width: 1 },
        });
      }
    }
    // Band: upper edge, then lower edge filled to it ('tonexty' fills to the previous trace).
    data.push({
      type: "scatter",
      mode: "lines",
      name: `${g.label} ${band}+`,
      legendgroup: g.label,
      showlegend: false,
      hoverinfo: "skip",
      x: agg.x,
      y: agg.upper.map((v) => clamp(yOf(v))),
      line: { color: g.color, width: 0 },
    });
    data.push({
      type: "scatter",
      mode: "lines",
      name: `${g.label} ${band}-`,
      legendgroup: g.label,
      showlegend: false,
      hoverinfo: "skip",
      x: agg.x,
      y: agg.lower.map((v) => clamp(yOf(v))),
      line: { color: g.color, width: 0 },
      fill: "tonexty",
      fillcolor: withAlpha(g.color, 0.2),
    });
    const bandName = band === "minmax" ? "min-max" : band === "sem" ? "± s.e.m." : "± std";
    data.push({
      type: "scatter",
      mode: "lines",
      name: `${g.label} (mean ${bandName}, n=${g.runs.length})`,
      legendgroup: g.label,
      showlegend: true,
      x: agg.x,
      y: agg.mean.map(yOf),
      line,
    });
  }
  const layout = baseLayout({
    title: opts.title,
    xLabel: opts.x ?? "step",
    yLabel: opts.yLabel ?? opts.metric,
    logY,
    logX: opts.logX,
  });
  return { data, layout };
}

// ---------------------------------------------------------------------------------------------
// DyT alpha traces (one line per layer, colored by depth).

export interface AlphaTrace {
  /** e.g. "block3.attn_norm" */
  layer: string;
  step: number[];
  alpha: number[];
}

export interface AlphaTraceOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  logY?: boolean;
}

/** How DyT's alpha evolves during training, one line per layer (viridis by order given: first = dark). */
export function alphaTraceFigure(traces: AlphaTrace[], opts: AlphaTraceOptions = {}): Figure {
  const n = traces.length;
  const data: PlotTrace[] = traces.map((t, i) => {
    checkSameLength(`alphaTraceFigure(${t.layer})`, t.step, t.alpha, "step", "alpha");
    return {
      type: "scatter",
      mode: "lines",
      name: t.layer,
      x: [...t.step],
      y: t.alpha.map(finiteOrNull),
      line: { color: sequentialColor(n > 1 ? i / (n - 1) : 0), width: 2 },
    };
  });
  const layout = baseLayout({
    title: opts.title ?? "DyT α during training",
    xLabel: opts.xLabel ?? "step",
    yLabel: opts.yLabel ?? "α",
    logY: opts.logY,
  });
  layout.legend = { title: { text: "layer" } };
  return { data, layout };
}

// ---------------------------------------------------------------------------------------------
// Bars (grouped or stacked), with optional error bars.

export interface BarSeries {
  name: string;
  values: number[];
  /** Symmetric error bar half-widths (e.g. a CI half-width), one per category. */
  errors?: number[];
  color?: string;
}

export interface BarOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  horizontal?: boolean;
  barmode?: "group" | "stack" | "overlay" | "relative";
  logY?: boolean;
}

/** Bars for categories x series, e.g. accuracy per norm kind for each model. */
export function barFigure(input: { categories: string[]; series: BarSeries[] }, opts: BarOptions = {}): Figure {
  const cats = input.categories;
  const data: PlotTrace[] = input.series.map((s, i) => {
    checkSameLength(`barFigure(${s.name})`, cats, s.values, "categories", "values");
    const vals = s.values.map(finiteOrNull);
    const t: PlotTrace = {
      type: "bar",
      name: s.name,
      x: opts.horizontal ? vals : [...cats],
      y: opts.horizontal ? [...cats] : vals,
      marker: { color: s.color ?? paletteColor(i) },
    };
    if (opts.horizontal) t.orientation = "h";
    if (s.errors) {
      checkSameLength(`barFigure(${s.name})`, cats, s.errors, "categories", "errors");
      const e = { type: "data" as const, array: s.errors.map(finiteOrNull), visible: true };
      if (opts.horizontal) t.error_x = e;
      else t.error_y = e;
    }
    return t;
  });
  const layout = baseLayout({
    title: opts.title,
    xLabel: opts.horizontal ? opts.yLabel : opts.xLabel,
    yLabel: opts.horizontal ? opts.xLabel : opts.yLabel,
    logX: opts.horizontal ? opts.logY : false,
    logY: opts.horizontal ? false : opts.logY,
  });
  layout.barmode = opts.barmode ?? "group";
  layout.showlegend = input.series.length > 1;
  return { data, layout };
}

// ---------------------------------------------------------------------------------------------
// Heatmaps (e.g. alpha0 x width grids, correlation matrices).

export interface HeatmapOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Colorbar title. */
  zLabel?: string;
  /** A Plotly colorscale name ("Viridis", "RdBu", ...) or stops. Default "Viridis". */
  colorscale?: string | [number, string][];
  zmin?: number;
  zmax?: number;
  /** Center of a diverging colorscale. */
  zmid?: number;
  /** Write each cell's value on it: true (3 significant digits) or a d3 format such as ".2f". */
  annotate?: boolean | string;
  /** Reverse the y axis so row 0 is at the top (matrix layout). */
  matrix?: boolean;
}

/** A heatmap of z[row][col]; x labels the columns, y the rows. Non-finite cells are blank. */
export function heatmapFigure(
  input: { z: number[][]; x?: (string | number)[]; y?: (string | number)[] },
  opts: HeatmapOptions = {},
): Figure {
  const rows = input.z.length;
  const cols = rows > 0 ? input.z[0]!.length : 0;
  input.z.forEach((row, i) => {
    if (row.length !== cols) throw new Error(`heatmapFigure: row ${i} has ${row.length} values, row 0 has ${cols}`);
  });
  if (input.x && input.x.length !== cols) throw new Error(`heatmapFigure: x has ${input.x.length} labels for ${cols} columns`);
  if (input.y && input.y.length !== rows) throw new Error(`heatmapFigure: y has ${input.y.length} labels for ${rows} rows`);
  const t: PlotTrace = {
    type: "heatmap",
    z: input.z.map((row) => row.map(finiteOrNull)),
    colorscale: opts.colorscale ?? "Viridis",
  };
  // Category labels keep numeric labels (e.g. alpha0 = 0.5, 1, 2) evenly spaced.
  if (input.x) t.x = input.x.map(String);
  if (input.y) t.y = input.y.map(String);
  if (opts.zmin !== undefined) t.zmin = opts.zmin;
  if (opts.zmax !== undefined) t.zmax = opts.zmax;
  if (opts.zmid !== undefined) t.zmid = opts.zmid;
  if (opts.zLabel) t.colorbar = { title: { text: opts.zLabel } };
  if (opts.annotate) {
    t.texttemplate = `%{z:${typeof opts.annotate === "string" ? opts.annotate : ".3g"}}`;
    t.hoverongaps = false;
  }
  const layout = baseLayout({ title: opts.title, xLabel: opts.xLabel, yLabel: opts.yLabel });
  if (input.x) layout.xaxis = { ...layout.xaxis, type: "category", showgrid: false };
  if (input.y) layout.yaxis = { ...layout.yaxis, type: "category", showgrid: false };
  if (opts.matrix) layout.yaxis = { ...layout.yaxis, autorange: "reversed" };
  return { data: [t], layout };
}

/**
 * Greyscale images in a grid, one row of images per entry of `rows` (each
 * image size x size values in [0, 1], row-major), drawn as one heatmap
 * without axes or colour bar, square pixels.
 */
export function imageMosaicFigure(rows: readonly (readonly Float32Array[])[], size: number, title: string): Figure {
  const z: number[][] = [];
  for (const row of rows) for (let y = 0; y < size; y++) z.push(row.flatMap((im) => Array.from(im.subarray(y * size, (y + 1) * size))));
  const fig = heatmapFigure({ z }, { title, colorscale: "Greys", zmin: 0, zmax: 1, matrix: true });
  (fig.data[0] as PlotTrace).showscale = false;
  fig.layout.xaxis = { ...fig.layout.xaxis, showticklabels: false, showgrid: false, ticks: "", scaleanchor: "y" };
  fig.layout.yaxis = { ...fig.layout.yaxis, showticklabels: false, showgrid: false, ticks: "" };
  return fig;
}

/**
 * Text notes on the cells of a heatmapFigure with x and y labels (Plotly
 * annotations), row i of `y` x column j of `x`, for the cells where
 * `text(i, j)` gives one: e.g. "✕ diverged" on a cell whose run has no value
 * (it is otherwise blank). Below the cell's value by default. Placed by the
 * category's serial number: Plotly reads a numeric label ("0.5", "4") given
 * as an annotation's x or y as a position on a category axis, not as the
 * category, and would put the note on another cell or off the plot.
 */
export function heatmapNotes(
  x: readonly (string | number)[],
  y: readonly (string | number)[],
  text: (i: number, j: number) => string | undefined,
  o: { color?: string; yshift?: number } = {},
): Record<string, unknown>[] {
  const notes: Record<string, unknown>[] = [];
  y.forEach((yv, i) =>
    x.forEach((xv, j) => {
      const t = text(i, j);
      if (t) notes.push({ x: j, y: i, text: t, hovertext: `${xv}, ${yv}`, showarrow: false, yshift: o.yshift ?? -14, font: { color: o.color ?? "#d62728", size: 11 } });
    }),
  );
  return notes;
}

// ---------------------------------------------------------------------------------------------
// Scatter (e.g. a norm layer's input vs output, with a tanh curve on top).

export interface ScatterSeries {
  name: string;
  x: number[];
  y: number[];
  text?: string[];
  color?: string;
  /** Default "markers". Use "lines" for a reference curve such as tanh(alpha x). */
  mode?: "markers" | "lines" | "lines+markers";
  size?: number;
  opacity?: number;
}

export interface ScatterOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  logX?: boolean;
  logY?: boolean;
  /** Draw the y = x line (dashed grey) across the data range. */
  diagonal?: boolean;
  /** Keep at most this many points per marker series (evenly strided, deterministic). */
  maxPoints?: number;
}

/** Every k-th index so that at most maxPoints remain (the first point is always kept). */
export function strideIndices(n: number, maxPoints: number): number[] {
  if (!(maxPoints > 0) || n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const step = n / maxPoints;
  const out: number[] = [];
  for (let k = 0; k < maxPoints; k++) out.push(Math.floor(k * step));
  return out;
}

/** Scatter plots of several series; non-finite points are dropped. */
export function scatterFigure(series: ScatterSeries[], opts: ScatterOptions = {}): Figure {
  let lo = Infinity;
  let hi = -Infinity;
  const data: PlotTrace[] = series.map((s, i) => {
    checkSameLength(`scatterFigure(${s.name})`, s.x, s.y);
    if (s.text) checkSameLength(`scatterFigure(${s.name})`, s.x, s.text, "x", "text");
    const mode = s.mode ?? "markers";
    let idx = strideIndices(s.x.length, mode === "markers" && opts.maxPoints ? opts.maxPoints : 0);
    idx = idx.filter((k) => Number.isFinite(s.x[k]) && Number.isFinite(s.y[k]));
    for (const k of idx) {
      lo = Math.min(lo, s.x[k]!, s.y[k]!);
      hi = Math.max(hi, s.x[k]!, s.y[k]!);
    }
    const color = s.color ?? paletteColor(i);
    const t: PlotTrace = {
      type: "scatter",
      mode,
      name: s.name,
      x: idx.map((k) => s.x[k]!),
      y: idx.map((k) => s.y[k]!),
    };
    if (mode !== "lines") t.marker = { color, size: s.size ?? 5, opacity: s.opacity ?? (idx.length > 2000 ? 0.4 : 0.8) };
    if (mode !== "markers") t.line = { color, width: 2 };
    if (s.text) t.text = idx.map((k) => s.text![k]!);
    return t;
  });
  const layout = baseLayout({ title: opts.title, xLabel: opts.xLabel, yLabel: opts.yLabel, logX: opts.logX, logY: opts.logY });
  if (opts.diagonal && Number.isFinite(lo) && Number.isFinite(hi)) {
    layout.shapes = [
      { type: "line", xref: "x", yref: "y", x0: lo, y0: lo, x1: hi, y1: hi, line: { color: "#999999", width: 1, dash: "dash" } },
    ];
  }
  layout.showlegend = series.length > 1;
  return { data, layout };
}

// ---------------------------------------------------------------------------------------------

/** A one-line description, e.g. `"Loss" (3 traces: scatter)`. */
export function figureSummary(fig: Figure): string {
  const title = fig.layout.title?.text;
  const types = [...new Set(fig.data.map((t) => t.type))].join(", ");
  const n = fig.data.length;
  return `${title ? JSON.stringify(title) : "untitled figure"} (${n} trace${n === 1 ? "" : "s"}${types ? ": " + types : ""})`;
}

