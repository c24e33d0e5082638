import { execFileSync } from "child_process";
import * as os from "os";
import { engineInfo } from "../engine";
import { repoRoot } from "./paths";

export interface Provenance {
  gitCommit: string;
  gitDirty: boolean;
  engine: string;
  backend: string;
  tfjs: string;
  node: string;
  host: { cpus: number; cpuModel: string; memGiB: number; platform: string };
  startedAt: string;
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: repoRoot(), encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

// The commit is read once per process, at the first call: a long process runs
// the code it loaded, even if HEAD moves while it trains.
let codeVersion: { gitCommit: string; gitDirty: boolean } | undefined;
function processCodeVersion(): { gitCommit: string; gitDirty: boolean } {
  codeVersion ??= {
    gitCommit: git(["rev-parse", "HEAD"]) || "unknown",
    gitDirty: git(["status", "--porcelain", "--untracked-files=no"]).length > 0,
  };
  return codeVersion;
}

/** What produced a result: code version, engine, machine. Saved next to every result. */
export function provenance(startedAt = new Date()): Provenance {
  const eng = engineInfo();
  const cpus = os.cpus();
  return {
    ...processCodeVersion(),
    engine: eng?.name ?? "uninitialised",
    backend: eng?.backend ?? "",
    tfjs: eng?.tfjsVersion ?? "",
    node: process.version,
    host: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? "unknown",
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      platform: `${os.platform()}-${os.arch()}`,
    },
    startedAt: startedAt.toISOString(),
  };
}
