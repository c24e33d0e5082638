/**
 * showFigure: put a figure in a tslab notebook as ONE output bundle holding
 *   text/html  - interactive Plotly (plotly.js inlined once per kernel) + PNG fallback <img>
 *   image/png  - the static rendering (for untrusted notebooks, nbconvert, GitHub, ...)
 *   text/plain - a one-line summary
 * and optionally save the figure JSON (+ PNG) next to the results.
 *
 * tslab's public `display` API sends one MIME type per call; the bundle is sent through the
 * kernel's own display-data writer (tslab/dist/jupyter.js `lastWriteDisplayData`, found in
 * require.cache, so no second copy of tslab is ever loaded). Outside a tslab kernel (plain
 * node, scripts) showFigure prints a one-line summary instead.
 */
import * as path from "path";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic";
import { figureSummary } from "./figures";
import { figureHtml } from "./html";
import { DEFAULT_HEIGHT, DEFAULT_WIDTH, tryRenderPng } from "./render";
import type { Figure } from "./types";

export interface ShowFigureOptions {
  /**
   * Save the figure here: `<savePath>.json` (the Plotly spec) and `<savePath>.png` (when a PNG
   * was rendered). A trailing ".json" or ".png" on savePath is dropped first.
   */
  savePath?: string;
  /** Size in CSS pixels of the PNG and of the interactive plot's box (default 800 x 500). */
  width?: number;
  height?: number;
  /** Render the PNG (default true). */
  png?: boolean;
}

type WriteDisplayData = (data: { data: Record<string, string>; metadata: Record<string, unknown>; transient: Record<string, unknown> }, update: boolean) => void;

/** The running tslab kernel's display-data writer, or null outside a tslab kernel. */
export function tslabDisplayWriter(): WriteDisplayData | null {
  for (const key of Object.keys(require.cache)) {
    if (!/[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(key)) continue;
    const w = (require.cache[key]?.exports as { lastWriteDisplayData?: unknown } | undefined)?.lastWriteDisplayData;
    if (typeof w === "function") return w as WriteDisplayData;
  }
  return null;
}

/** True inside a tslab kernel that has executed a cell. */
export function inTslab(): boolean {
  return tslabDisplayWriter() !== null;
}

let plotlyEmitted = false;

/** Make the next notebook figure inline plotly.js again (e.g. after clearing the output that had it). */
export function resetPlotlyInjection(): void {
  plotlyEmitted = false;
}

/**
 * Whether the first figure of a kernel inlines plotly.js (~4.8 MB): env DYT_PLOTLY = "inline"
 * (default) or "none" (small notebooks: PNG only, interactive only where plotly.js is already
 * loaded in the page).
 */
export function plotlyInlineMode(): "inline" | "none" {
  const v = (process.env.DYT_PLOTLY ?? "").trim();
  if (v === "" || v === "inline") return "inline";
  if (v === "none") return "none";
  throw new Error(`invalid DYT_PLOTLY ${JSON.stringify(v)}: expected one of inline, none`);
}

/** The base path (without extension) that showFigure saves to. */
export function figureSaveBase(savePath: string): string {
  return savePath.replace(/\.(json|png)$/i, "");
}

/**
 * Show a figure: in tslab, one output bundle (HTML + PNG + text); elsewhere a one-line summary.
 * Always await it (the PNG is rendered asynchronously). Resolves to nothing, so a cell ending
 * in `await showFigure(fig)` prints nothing extra.
 */
export async function showFigure(fig: Figure, opts: ShowFigureOptions = {}): Promise<void> {
  const width = opts.width ?? fig.layout.width ?? DEFAULT_WIDTH;
  const height = opts.height ?? fig.layout.height ?? DEFAULT_HEIGHT;
  const png = opts.png === false ? null : await tryRenderPng(fig, { width, height });
  const saved: string[] = [];
  if (opts.savePath) {
    const base = path.resolve(figureSaveBase(opts.savePath));
    writeJsonAtomic(base + ".json", fig);
    saved.push(base + ".json");
    if (png) {
      writeFileAtomic(base + ".png", png);
      saved.push(base + ".png");
    }
  }
  const summary = figureSummary(fig);
  const writer = tslabDisplayWriter();
  if (!writer) {
    const where = saved.length ? ` -> ${saved.map((s) => path.relative(process.cwd(), s) || s).join(", ")}` : "";
    console.log(`[figure] ${summary}${png ? ", png rendered" : ""}${where}`);
    return;
  }
  const pngBase64 = png ? png.toString("base64") : null;
  const inline = plotlyInlineMode() === "inline" && !plotlyEmitted;
  const html = figureHtml(fig, { pngBase64, includePlotly: inline, width, height });
  const data: Record<string, string> = { "text/html": html, "text/plain": `<Figure ${summary}>` };
  if (pngBase64) data["image/png"] = pngBase64;
  const metadata: Record<string, unknown> = pngBase64 ? { "image/png": { width, height } } : {};
  writer({ data, metadata, transient: {} }, false);
  if (inline) plotlyEmitted = true;
}
