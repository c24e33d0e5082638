/**
 * Headless notebook execution: each notebook runs in a fresh tslab kernel through nbclient
 * (scripts/execute_notebook.py, Debian's /usr/bin/python3), with the project-local kernelspec
 * (JUPYTER_PATH=<repo>/jupyter), cwd = the notebook's directory, DYT_SCALE = the scale, an
 * explicit per-cell timeout, errors never allowed, and errors from un-awaited promises or
 * callbacks caught between cells. Executed copies go to notebooks/executed/<name>.ipynb (or outDir);
 * `light` copies carry PNG + text only (no plotly.js, no interactive figure HTML), e.g. to commit.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { repoRoot } from "../util/paths";
import { NotebookScale, notebookScale, parseNotebookScale } from "./scale";

export interface RunNotebooksOptions {
  /** Notebook paths; default: every notebooks/*.ipynb, sorted by name. */
  notebooks?: string[];
  /** Passed to the notebooks as env DYT_SCALE; default: DYT_SCALE or "quick". */
  scale?: NotebookScale;
  /** Per-cell timeout in seconds (default 1800). */
  cellTimeoutS?: number;
  /** Kernel start timeout in seconds (default 120). */
  startupTimeoutS?: number;
  /** Where executed copies go (default <repo>/notebooks/executed). */
  outDir?: string;
  /** Python with nbclient (default env DYT_PYTHON or /usr/bin/python3). */
  python?: string;
  /** Kernel name (default: the notebook's kernelspec, else "tslab"). */
  kernel?: string;
  /** Stop after the first failing notebook (default false: run all, report all). */
  bail?: boolean;
  /** Inline plotly.js in each executed notebook's first figure (default true; false sets
   *  DYT_PLOTLY=none: no plotly.js, but each figure still carries its interactive HTML). */
  inlinePlotly?: boolean;
  /** Light executed copies (default false): no plotly.js, and every figure output keeps only its
   *  PNG and text (the interactive HTML, which repeats the PNG and the figure spec, is dropped);
   *  tables and printed text stay. Implies inlinePlotly false. */
  light?: boolean;
  /** Extra environment for the kernels. */
  env?: Record<string, string>;
  /** Progress lines (default console.log; null for silence). */
  log?: ((line: string) => void) | null;
}

export interface NotebookFailure {
  /** "error" (a cell threw / did not compile), "unhandled" (un-awaited promise or callback),
   *  "timeout", "dead" (kernel died), "driver" (kernel could not start, bad notebook, ...). */
  kind: "error" | "unhandled" | "timeout" | "dead" | "driver";
  /** 0-based index among all cells (-1: before any cell). */
  cellIndex: number;
  /** 1-based position among all cells, markdown included. */
  cellNumber: number;
  /** 1-based position among code cells. */
  codeCellNumber: number;
  /** The cell's first non-blank source line. */
  firstLine: string;
  ename: string;
  evalue: string;
  traceback: string;
}

export interface NotebookRunResult {
  notebook: string;
  name: string;
  ok: boolean;
  seconds: number;
  /** The executed copy (written also on failure). */
  outPath: string;
  /** Size of the executed copy in bytes (0 if not written). */
  outBytes: number;
  failure?: NotebookFailure;
}

export interface RunNotebooksResult {
  ok: boolean;
  scale: NotebookScale;
  seconds: number;
  results: NotebookRunResult[];
}

export const DEFAULT_CELL_TIMEOUT_S = 1800;

/** The notebooks `npm run notebooks` runs by default: notebooks/*.ipynb, sorted. */
export function listNotebooks(dir = path.join(repoRoot(), "notebooks")): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ipynb") && !f.startsWith("."))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Python that has nbclient: env DYT_PYTHON, else Debian's /usr/bin/python3. */
export function notebookPython(): string {
  return process.env.DYT_PYTHON || "/usr/bin/python3";
}

/** The environment a notebook kernel gets. */
export function notebookEnv(scale: NotebookScale, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const jupyterDir = path.join(repoRoot(), "jupyter");
  const prev = process.env.JUPYTER_PATH;
  return {
    ...process.env,
    ...extra,
    JUPYTER_PATH: prev ? `${jupyterDir}${path.delimiter}${prev}` : jupyterDir,
    DYT_SCALE: scale,
  };
}

/** Readable traceback tail: tslab/node internals dropped, at most `maxLines` lines. */
export function tracebackTail(tb: string, maxLines = 12): string {
  const plain = tb.replace(/\u001b\[[0-9;]*m/g, "");
  const lines = plain
    .split("\n")
    .filter((l) => l.trim() !== "")
    .filter((l) => !/^\s+at .*(node:(vm|internal)|[\\/]tslab[\\/]dist[\\/]|sigintHandlersWrap)/.test(l));
  return lines.slice(-maxLines).join("\n");
}

/** A multi-line description of a failed notebook: which cell, its first line, the error. */
export function formatFailure(r: NotebookRunResult): string {
  const f = r.failure;
  if (!f) return `${r.name}: ok`;
  const where =
    f.cellIndex >= 0
      ? `cell ${f.cellNumber} (code cell ${f.codeCellNumber}): ${f.firstLine}`
      : "before the first cell";
  const what = f.kind === "unhandled" ? "un-awaited promise rejection / callback error" : f.kind;
  return [
    `FAILED ${r.notebook}`,
    `  at ${where}`,
    `  ${what}: ${f.ename}${f.evalue ? ": " + f.evalue : ""}`,
    ...tracebackTail(f.traceback)
      .split("\n")
      .map((l) => "    | " + l),
    `  executed copy: ${r.outPath}`,
  ].join("\n");
}

interface DriverResult {
  ok: boolean;
  seconds: number;
  failure: NotebookFailure | null;
}

function runDriver(
  python: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    const keep = (b: Buffer) => {
      stderr += b.toString("utf8");
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** Execute one notebook (see the module comment). Never throws for notebook errors. */
export async function runNotebook(
  notebook: string,
  opts: Omit<RunNotebooksOptions, "notebooks" | "bail"> & { scale: NotebookScale },
): Promise<NotebookRunResult> {
  const nbPath = path.resolve(notebook);
  const name = path.basename(nbPath);
  const outDir = path.resolve(opts.outDir ?? path.join(repoRoot(), "notebooks", "executed"));
  const outPath = path.join(outDir, name);
  if (!fs.existsSync(nbPath)) throw new Error(`notebook not found: ${notebook}`);
  if (path.dirname(nbPath) === outDir) throw new Error(`refusing to execute ${nbPath} in place (it is in the output folder)`);
  const python = opts.python ?? notebookPython();
  const cellTimeout = opts.cellTimeoutS ?? DEFAULT_CELL_TIMEOUT_S;
  if (!(cellTimeout > 0)) throw new Error(`cell timeout must be > 0 seconds, got ${cellTimeout}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dyt-nb-"));
  const resultFile = path.join(tmp, "result.json");
  const args = [
    path.join(repoRoot(), "scripts", "execute_notebook.py"),
    "--notebook", nbPath,
    "--out", outPath,
    "--result", resultFile,
    "--timeout", String(cellTimeout),
    "--startup-timeout", String(opts.startupTimeoutS ?? 120),
    "--scale", opts.scale,
  ];
  if (opts.kernel) args.push("--kernel", opts.kernel);
  if (opts.light) args.push("--light");
  const t0 = Date.now();
  try {
    const noPlotly = opts.inlinePlotly === false || opts.light === true;
    const env = notebookEnv(opts.scale, { ...(noPlotly ? { DYT_PLOTLY: "none" } : {}), ...opts.env });
    const { code, signal, stderr } = await runDriver(python, args, env);
    const seconds = (Date.now() - t0) / 1000;
    let res: DriverResult | null = null;
    try {
      res = JSON.parse(fs.readFileSync(resultFile, "utf8")) as DriverResult;
    } catch {
      res = null;
    }
    const outBytes = fs.existsSync(outPath) ? fs.statSync(outPath).size : 0;
    if (!res) {
      const why = signal ? `killed by ${signal}` : `exit code ${code}`;
      const failure: NotebookFailure = {
        kind: "driver",
        cellIndex: -1,
        cellNumber: 0,
        codeCellNumber: 0,
        firstLine: "",
        ename: "DriverError",
        evalue: `${python} scripts/execute_notebook.py failed (${why})`,
        traceback: stderr.trim() || "(no output)",
      };
      return { notebook: nbPath, name, ok: false, seconds, outPath, outBytes, failure };
    }
    const r: NotebookRunResult = { notebook: nbPath, name, ok: res.ok, seconds, outPath, outBytes };
    if (res.failure) r.failure = res.failure;
    return r;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Execute notebooks one after another, printing progress (name, seconds). Resolves with every
 * result; `ok` is false if any notebook failed. Throws only for bad options (missing notebook,
 * bad scale, duplicate names).
 */
export async function runNotebooks(opts: RunNotebooksOptions = {}): Promise<RunNotebooksResult> {
  const log = opts.log === undefined ? (l: string) => console.log(l) : opts.log;
  const scale = opts.scale !== undefined ? parseNotebookScale(opts.scale) : notebookScale();
  const notebooks = (opts.notebooks && opts.notebooks.length > 0 ? opts.notebooks : listNotebooks()).map((p) => path.resolve(p));
  const seen = new Map<string, string>();
  for (const nb of notebooks) {
    if (!fs.existsSync(nb)) throw new Error(`notebook not found: ${nb}`);
    const prev = seen.get(path.basename(nb));
    if (prev) throw new Error(`two notebooks named ${path.basename(nb)} (${prev}, ${nb}): executed copies would collide`);
    seen.set(path.basename(nb), nb);
  }
  const t0 = Date.now();
  const results: NotebookRunResult[] = [];
  log?.(`[notebooks] ${notebooks.length} notebook(s), scale ${scale}, cell timeout ${opts.cellTimeoutS ?? DEFAULT_CELL_TIMEOUT_S} s${opts.light ? ", light copies (PNG + text)" : ""}`);
  for (const nb of notebooks) {
    const name = path.basename(nb);
    log?.(`[notebooks] ${name} ...`);
    const r = await runNotebook(nb, { ...opts, scale });
    results.push(r);
    const size = r.outBytes ? `, ${(r.outBytes / 1024).toFixed(0)} KiB` : "";
    log?.(`[notebooks] ${name} ${r.ok ? "ok" : "FAILED"} in ${r.seconds.toFixed(1)} s${size}`);
    if (!r.ok) {
      log?.(formatFailure(r));
      if (opts.bail) break;
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  const failed = results.filter((r) => !r.ok);
  log?.(
    `[notebooks] ${results.length - failed.length}/${results.length} ok in ${seconds.toFixed(1)} s` +
      (failed.length ? `; failed: ${failed.map((r) => r.name).join(", ")}` : ""),
  );
  return { ok: failed.length === 0 && results.length === notebooks.length, scale, seconds, results };
}
