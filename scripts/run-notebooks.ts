/**
 * npm run notebooks [-- --scale smoke|quick|full] [--cell-timeout S] [--out DIR] [--bail] [--light] [notebook.ipynb ...]
 *
 * Executes notebooks headlessly (default: notebooks/*.ipynb, sorted) in fresh tslab kernels,
 * never allowing errors; writes executed copies to notebooks/executed/ (or --out DIR), with
 * --light as PNG + text only (small enough to commit, e.g. --scale full --light --out notebooks/executed-full). Exit status 1 if any
 * notebook failed (the failing cell, its first line and the error are printed), 2 on bad usage.
 */
import * as path from "path";
import { DEFAULT_CELL_TIMEOUT_S, runNotebooks } from "../lib/notebook/runner";
import { NOTEBOOK_SCALES, NotebookScale, notebookScale, parseNotebookScale } from "../lib/notebook/scale";

const USAGE = `usage: npm run notebooks -- [--scale ${NOTEBOOK_SCALES.join("|")}] [--cell-timeout SECONDS] [--out DIR] [--bail] [--light] [notebook.ipynb ...]
  --scale          passed to the notebooks as DYT_SCALE (default: $DYT_SCALE or quick)
  --cell-timeout   per-cell timeout in seconds (default ${DEFAULT_CELL_TIMEOUT_S})
  --out DIR        where executed copies go (default notebooks/executed; --out-dir is the same)
  --bail           stop at the first failing notebook
  --light          light executed copies: figures as PNG + text only, no plotly.js (~4.8 MB) and no
                   interactive HTML; tables and printed text stay (--no-plotly is the same)`;

interface Cli {
  scale: NotebookScale;
  cellTimeoutS: number;
  outDir?: string;
  bail: boolean;
  light: boolean;
  notebooks: string[];
}

function parseArgs(argv: string[]): Cli {
  const cli: Cli = { scale: notebookScale(), cellTimeoutS: DEFAULT_CELL_TIMEOUT_S, bail: false, light: false, notebooks: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf("=");
    const flag = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    const value = (): string => {
      if (a.startsWith("--") && eq > 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--scale":
        cli.scale = parseNotebookScale(value(), "--scale");
        break;
      case "--cell-timeout": {
        const v = value();
        const n = Number(v);
        if (!(n > 0)) throw new Error(`--cell-timeout must be a positive number of seconds, got ${JSON.stringify(v)}`);
        cli.cellTimeoutS = n;
        break;
      }
      case "--out":
      case "--out-dir":
        cli.outDir = value();
        break;
      case "--bail":
        cli.bail = true;
        break;
      case "--light":
      case "--no-plotly":
        cli.light = true;
        break;
      case "-h":
      case "--help":
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        if (a.startsWith("-")) throw new Error(`unknown option ${a}`);
        cli.notebooks.push(a);
    }
  }
  return cli;
}

async function main(): Promise<number> {
  let cli: Cli;
  try {
    cli = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`run-notebooks: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  // npm runs scripts in the package root; resolve user paths against where npm was invoked.
  const base = process.env.INIT_CWD || process.cwd();
  const res = await runNotebooks({
    notebooks: cli.notebooks.map((p) => path.resolve(base, p)),
    scale: cli.scale,
    cellTimeoutS: cli.cellTimeoutS,
    bail: cli.bail,
    light: cli.light,
    ...(cli.outDir ? { outDir: path.resolve(base, cli.outDir) } : {}),
  });
  if (res.results.length === 0) console.log("[notebooks] no notebooks found");
  return res.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`run-notebooks: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 2;
  },
);
