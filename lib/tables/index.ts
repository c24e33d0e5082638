/**
 * Result tables: rows of numbers and strings -> danfo DataFrame, a display in
 * a tslab notebook (HTML, with a plain-text fallback in the same output), a
 * printout on stdout elsewhere, and Markdown for the README and report.
 *
 * danfojs-node is loaded lazily (require takes ~0.7-1.1 s on the 2-core
 * machine), only by toDataFrame(); the formatting functions here do not need it.
 * Requiring it prints nothing. (tfjs's "Hi, looks like you are running
 * TensorFlow.js in Node.js" banner comes from the tfjs cpu backend on its first
 * tensor, not from danfo; the engine's prod mode silences it.)
 */
import * as path from "path";
import type { DataFrame } from "danfojs-node";

export type Cell = number | string;
export type Row = Record<string, Cell>;

export interface TableOptions {
  /** Shown above the table (Markdown: a bold line; HTML: the caption). */
  title?: string;
  /** Decimal places for non-integer numbers (default 3). */
  digits?: number;
}

type DanfoModule = typeof import("danfojs-node");
let danfo: DanfoModule | undefined;

/** The danfojs-node module, loaded on first use. */
export function danfoModule(): DanfoModule {
  if (!danfo) danfo = require("danfojs-node") as DanfoModule;
  return danfo;
}

function isDataFrame(x: unknown): x is DataFrame {
  return typeof x === "object" && x !== null && !Array.isArray(x) && Array.isArray((x as DataFrame).columns) && "values" in (x as object);
}

/** Column names in order of first appearance across the rows. */
export function tableColumns(rows: readonly Row[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

/**
 * A danfo DataFrame of the rows. Columns: the union of the rows' keys, in
 * order of first appearance. A column holding only numbers stays numeric
 * (missing cells NaN); any other column becomes strings (missing cells "").
 */
export function toDataFrame(rows: readonly Row[]): DataFrame {
  const d = danfoModule();
  const cols = tableColumns(rows);
  if (rows.length === 0 || cols.length === 0) return new d.DataFrame([], { columns: cols });
  const data: Record<string, Cell[]> = {};
  for (const c of cols) {
    const numeric = rows.every((r) => r[c] === undefined || typeof r[c] === "number");
    data[c] = rows.map((r) => {
      const v = r[c];
      if (numeric) return v === undefined ? NaN : v;
      return v === undefined ? "" : String(v);
    });
  }
  return new d.DataFrame(data);
}

/** Rows back out of a DataFrame (its index is dropped). */
export function fromDataFrame(df: DataFrame): Row[] {
  const cols = df.columns;
  const values = df.values as unknown[][];
  return values.map((vals) => {
    const r: Row = {};
    const arr = Array.isArray(vals) ? vals : [vals];
    cols.forEach((c, i) => {
      const v = arr[i];
      r[c] = typeof v === "number" || typeof v === "string" ? v : v === null || v === undefined ? NaN : String(v);
    });
    return r;
  });
}

function asRows(t: DataFrame | readonly Row[]): Row[] {
  return isDataFrame(t) ? fromDataFrame(t) : [...t];
}

/** One cell as text: integers as they are, other numbers with `digits` decimals (scientific when that would print 0). */
export function formatCell(v: Cell | undefined, digits = 3): string {
  if (v === undefined) return "";
  if (typeof v === "string") return v;
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  if (v !== 0 && Math.abs(v) < 0.5 * 10 ** -digits) return v.toExponential(Math.max(digits - 1, 1));
  if (Math.abs(v) >= 1e15) return v.toExponential(Math.max(digits - 1, 1));
  return v.toFixed(digits);
}

interface Formatted {
  cols: string[];
  cells: string[][];
  numeric: boolean[];
}

function format(t: DataFrame | readonly Row[], digits: number): Formatted {
  const rows = asRows(t);
  const cols = tableColumns(rows);
  const numeric = cols.map((c) => rows.some((r) => typeof r[c] === "number") && rows.every((r) => r[c] === undefined || typeof r[c] === "number"));
  const cells = rows.map((r) => cols.map((c) => formatCell(r[c], digits)));
  return { cols, cells, numeric };
}

function mdEscape(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** A GitHub-flavoured Markdown table (numbers right-aligned). */
export function tableToMarkdown(t: DataFrame | readonly Row[], digits = 3, title?: string): string {
  const f = format(t, digits);
  if (f.cols.length === 0) return title ? `**${mdEscape(title)}**\n\n(empty table)\n` : "(empty table)\n";
  const line = (cells: string[]): string => `| ${cells.map(mdEscape).join(" | ")} |`;
  const sep = `|${f.numeric.map((n) => (n ? " ---: " : " --- ")).join("|")}|`;
  const out = [line(f.cols), sep, ...f.cells.map(line)].join("\n") + "\n";
  return title ? `**${mdEscape(title)}**\n\n${out}` : out;
}

function htmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A self-contained HTML table (inline styles only: notebooks may be untrusted). */
export function tableToHtml(t: DataFrame | readonly Row[], opts: TableOptions = {}): string {
  const f = format(t, opts.digits ?? 3);
  const align = (i: number): string => (f.numeric[i] ? "right" : "left");
  const cellStyle = "padding:2px 8px;border-bottom:1px solid #ddd;";
  const parts = ['<table style="border-collapse:collapse;font-family:monospace;font-size:13px">'];
  if (opts.title) parts.push(`<caption style="text-align:left;font-weight:bold;padding:4px 0">${htmlEscape(opts.title)}</caption>`);
  parts.push("<thead><tr>" + f.cols.map((c, i) => `<th style="${cellStyle}text-align:${align(i)}">${htmlEscape(c)}</th>`).join("") + "</tr></thead>");
  parts.push("<tbody>");
  for (const row of f.cells) parts.push("<tr>" + row.map((c, i) => `<td style="${cellStyle}text-align:${align(i)}">${htmlEscape(c)}</td>`).join("") + "</tr>");
  parts.push("</tbody></table>");
  return parts.join("");
}

/** A plain-text table with aligned columns (numbers right-aligned). */
export function tableToText(t: DataFrame | readonly Row[], opts: TableOptions = {}): string {
  const f = format(t, opts.digits ?? 3);
  if (f.cols.length === 0) return (opts.title ? opts.title + "\n" : "") + "(empty table)\n";
  const width = f.cols.map((c, i) => Math.max(c.length, ...f.cells.map((r) => r[i]!.length)));
  const pad = (s: string, i: number): string => (f.numeric[i] ? s.padStart(width[i]!) : s.padEnd(width[i]!));
  const line = (cells: string[]): string => cells.map(pad).join("  ").trimEnd();
  const lines = [line(f.cols), width.map((w) => "-".repeat(w)).join("  "), ...f.cells.map(line)];
  if (opts.title) lines.unshift(opts.title);
  return lines.join("\n") + "\n";
}

type WriteDisplayData = (data: { data: Record<string, string>; metadata: Record<string, unknown>; transient: Record<string, unknown> }, update: boolean) => void;

/**
 * tslab's hook for rich output while a cell runs, or undefined outside a tslab
 * kernel. Found through the module cache (the kernel has loaded its own
 * tslab/dist/jupyter.js), so this never loads tslab itself and works whichever
 * tslab installation runs the kernel.
 */
export function tslabDisplayHook(): WriteDisplayData | undefined {
  const suffix = path.join("tslab", "dist", "jupyter.js");
  for (const [file, mod] of Object.entries(require.cache)) {
    if (!file.endsWith(suffix) || !mod) continue;
    const hook = (mod.exports as { lastWriteDisplayData?: unknown }).lastWriteDisplayData;
    if (typeof hook === "function") return hook as WriteDisplayData;
  }
  return undefined;
}

/** True while running inside a tslab (Jupyter) kernel. */
export function inTslab(): boolean {
  return tslabDisplayHook() !== undefined;
}

/**
 * Show a table: in a tslab notebook as HTML (with the text form as the
 * text/plain alternative in the same output), elsewhere printed on stdout.
 * Returns nothing (a returned value would be echoed again by tslab as the
 * cell's result); tableToText/tableToHtml give the strings.
 */
export function showTable(t: DataFrame | readonly Row[], opts: TableOptions = {}): void {
  const text = tableToText(t, opts);
  const hook = tslabDisplayHook();
  if (hook) {
    try {
      hook({ data: { "text/html": tableToHtml(t, opts), "text/plain": text }, metadata: {}, transient: {} }, false);
      return;
    } catch {
      /* fall back to stdout */
    }
  }
  process.stdout.write(text);
}
