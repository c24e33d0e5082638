/**
 * Plotly figures as plain JSON: what `Plotly.newPlot(div, fig.data, fig.layout)` takes.
 * Only the fields the builders use are typed; anything else Plotly accepts can be added
 * through the index signatures.
 */

/** A value in a data array; `null` is a gap (non-finite numbers become `null`). */
export type Datum = number | string | null;

export interface PlotLine {
  color?: string;
  width?: number;
  dash?: "solid" | "dot" | "dash" | "longdash" | "dashdot" | "longdashdot";
  shape?: "linear" | "spline" | "hv" | "vh" | "hvh" | "vhv";
  [key: string]: unknown;
}

export interface PlotMarker {
  color?: string | Datum[];
  size?: number | number[];
  opacity?: number;
  symbol?: string;
  colorscale?: string | [number, string][];
  showscale?: boolean;
  [key: string]: unknown;
}

export interface PlotTrace {
  type: "scatter" | "scattergl" | "bar" | "heatmap" | "histogram" | "box" | string;
  name?: string;
  x?: Datum[];
  y?: Datum[];
  z?: Datum[][];
  text?: string[] | string;
  mode?: "lines" | "markers" | "lines+markers" | "text" | "lines+text" | "markers+text" | "none";
  line?: PlotLine;
  marker?: PlotMarker;
  fill?: "none" | "tozeroy" | "tonexty" | "toself" | "tonext";
  fillcolor?: string;
  showlegend?: boolean;
  legendgroup?: string;
  hoverinfo?: string;
  hovertemplate?: string;
  orientation?: "v" | "h";
  error_y?: { type: "data"; array: Datum[]; visible: boolean; [key: string]: unknown };
  error_x?: { type: "data"; array: Datum[]; visible: boolean; [key: string]: unknown };
  colorscale?: string | [number, string][];
  zmin?: number;
  zmax?: number;
  zmid?: number;
  colorbar?: { title?: { text: string }; [key: string]: unknown };
  [key: string]: unknown;
}

export interface PlotAxis {
  title?: { text: string };
  type?: "linear" | "log" | "category" | "date";
  range?: [number, number];
  showgrid?: boolean;
  gridcolor?: string;
  zeroline?: boolean;
  autorange?: boolean | "reversed";
  [key: string]: unknown;
}

export interface PlotLayout {
  title?: { text: string; [key: string]: unknown };
  xaxis?: PlotAxis;
  yaxis?: PlotAxis;
  width?: number;
  height?: number;
  showlegend?: boolean;
  barmode?: "group" | "stack" | "overlay" | "relative";
  shapes?: Record<string, unknown>[];
  annotations?: Record<string, unknown>[];
  [key: string]: unknown;
}

/** A Plotly figure: JSON-serializable, saved next to results and rendered to PNG. */
export interface Figure {
  data: PlotTrace[];
  layout: PlotLayout;
}
