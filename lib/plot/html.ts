/**
 * Self-contained HTML for a Plotly figure in a notebook output.
 *
 * - A PNG fallback <img> (data URI) sits inside the figure's div. Jupyter strips scripts from
 *   untrusted outputs (every headlessly executed notebook is untrusted) but keeps the image,
 *   so the figure is visible anyway; when scripts run, the interactive plot replaces the image.
 * - plotly.js is inlined only when asked (showFigure does it for the first figure of a kernel):
 *   ~4.8 MB once instead of per figure. It is wrapped so that neither require.js (classic
 *   Notebook) nor a CommonJS `module` can capture it: it always sets window.Plotly.
 * - Figure scripts wait (up to ~10 s) for window.Plotly, since frontends may render outputs
 *   out of order. Without plotly.js and without a PNG, a short note is shown instead.
 */
import * as fs from "fs";
import { plotlyJsPath } from "./render";
import type { Figure } from "./types";

let plotlySource: string | null = null;

/** plotly.js wrapped in a <script> that sets window.Plotly even under require.js. */
export function plotlyScriptTag(): string {
  if (plotlySource === null) plotlySource = fs.readFileSync(plotlyJsPath(), "utf8").replace(/<\/script/gi, "<\\/script");
  return (
    '<script type="text/javascript">if (!window.Plotly) { (function (module, exports, define) {\n' +
    plotlySource +
    "\n}).call(window); }</script>"
  );
}

/** JSON that is safe inside a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export interface FigureHtmlOptions {
  /** Unique element id (default random). */
  id?: string;
  /** PNG fallback, base64 (no data: prefix). */
  pngBase64?: string | null;
  /** Inline plotly.js in this output. */
  includePlotly?: boolean;
  width?: number;
  height?: number;
}

let counter = 0;

/** The HTML of one figure (see the module comment). */
export function figureHtml(fig: Figure, opts: FigureHtmlOptions = {}): string {
  const id = opts.id ?? `dyt-fig-${process.pid.toString(36)}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
  const width = opts.width ?? fig.layout.width ?? 800;
  const height = opts.height ?? fig.layout.height ?? 500;
  const title = fig.layout.title?.text ?? "figure";
  const fallback = opts.pngBase64
    ? `<img src="data:image/png;base64,${opts.pngBase64}" alt="${escapeAttr(title)}" width="${width}" height="${height}" style="max-width:100%;height:auto">`
    : `<div style="color:#777;font:13px sans-serif;padding:8px">Interactive figure (${escapeAttr(title)}): trust the notebook to see it; no PNG fallback was rendered.</div>`;
  const layout = { ...fig.layout, width: undefined, height, autosize: true };
  const script =
    "(function () {\n" +
    `  var id = ${scriptJson(id)};\n` +
    `  var data = ${scriptJson(fig.data)};\n` +
    `  var layout = ${scriptJson(layout)};\n` +
    "  var tries = 0;\n" +
    "  function draw() {\n" +
    "    var el = document.getElementById(id);\n" +
    "    if (!el || !window.Plotly) return false;\n" +
    "    var div = document.createElement('div');\n" +
    "    div.style.width = '100%';\n" +
    "    var img = el.firstElementChild;\n" +
    "    el.appendChild(div);\n" +
    "    window.Plotly.newPlot(div, data, layout, {responsive: true, displaylogo: false}).then(function () {\n" +
    "      if (img && img !== div) img.remove();\n" +
    "    });\n" +
    "    return true;\n" +
    "  }\n" +
    "  if (!draw()) { var t = setInterval(function () { if (draw() || ++tries > 100) clearInterval(t); }, 100); }\n" +
    "})();";
  return (
    (opts.includePlotly ? plotlyScriptTag() + "\n" : "") +
    `<div id="${escapeAttr(id)}" class="dyt-figure" style="max-width:${width}px">${fallback}</div>\n` +
    `<script type="text/javascript">\n${script}\n</script>`
  );
}
