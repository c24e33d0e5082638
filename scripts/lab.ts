/**
 * npm run lab [-- --port 8899] [--ip 127.0.0.1] [--scale smoke|quick|full]
 *
 * Starts Jupyter Notebook (Debian's, via /usr/bin/python3 -m notebook) on notebooks/ with the
 * project-local tslab kernel (JUPYTER_PATH=<repo>/jupyter, kernel "TypeScript (dyt-lab)"),
 * prints the URL (with a fresh token), and passes SIGINT/SIGTERM/SIGHUP on to the server.
 */
import { spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { notebookPython, notebookEnv } from "../lib/notebook/runner";
import { notebookScale, parseNotebookScale } from "../lib/notebook/scale";
import { repoRoot } from "../lib/util/paths";

const USAGE = "usage: npm run lab -- [--port 8899] [--ip 127.0.0.1] [--scale smoke|quick|full]";

function main(): void {
  let port = 8899;
  let ip = "127.0.0.1";
  let scale = notebookScale();
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) fail(`${flag} needs a value`);
      return v as string;
    };
    if (flag === "--port") {
      const v = value();
      port = Number(v);
      if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(`bad --port ${JSON.stringify(v)}`);
    } else if (flag === "--ip") ip = value();
    else if (flag === "--scale") scale = parseNotebookScale(value(), "--scale");
    else if (flag === "-h" || flag === "--help") {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown argument ${a}`);
  }

  const root = repoRoot();
  const nbDir = path.join(root, "notebooks");
  fs.mkdirSync(nbDir, { recursive: true });
  const python = notebookPython();
  const token = randomBytes(24).toString("hex");
  const args = [
    "-m", "notebook",
    "--no-browser",
    "--ip", ip,
    "--port", String(port),
    "--port-retries", "0",
    `--notebook-dir=${nbDir}`,
    `--NotebookApp.token=${token}`,
  ];
  if (typeof process.getuid === "function" && process.getuid() === 0) args.push("--allow-root");
  const env = notebookEnv(scale);
  const child = spawn(python, args, { env, stdio: ["inherit", "inherit", "inherit"] });
  const url = `http://${ip.includes(":") ? `[${ip}]` : ip}:${port}/tree?token=${token}`;
  console.log(`[lab] Jupyter Notebook on ${nbDir} (kernel "TypeScript (dyt-lab)", DYT_SCALE=${scale})`);
  console.log(`[lab] open ${url}`);

  const forward = (sig: NodeJS.Signals) => () => {
    // SIGTERM makes the notebook server shut down without its "are you sure" prompt.
    if (child.exitCode === null && child.signalCode === null) child.kill(sig === "SIGINT" ? "SIGTERM" : sig);
  };
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, forward(sig));
  child.on("error", (e) => {
    console.error(`[lab] cannot start ${python} -m notebook: ${e.message} (is Debian's jupyter-notebook installed? npm run setup)`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    process.exit(code ?? (signal ? 128 + (signal === "SIGTERM" ? 15 : signal === "SIGINT" ? 2 : 1) : 1));
  });
}

function fail(msg: string): never {
  console.error(`[lab] ${msg}\n${USAGE}`);
  process.exit(2);
}

main();
