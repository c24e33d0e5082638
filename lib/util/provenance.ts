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
  /** When the process that produced the result started (its code is the commit read then). */
  processStartedAt?: string;
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: repoRoot(), encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 64 * 2 ** 20 }).trim();
  } catch {
    return "";
  }
}

export interface CodeVersion {
  gitCommit: string;
  gitDirty: boolean;
  processStartedAt: string;
}

/**
 * The code a process runs is the commit checked out when it started: read
 * once, when this module loads (a worker process is handed its parent's via
 * DYT_CODE_VERSION). A long run that outlives a later commit still names the
 * commit it loaded.
 */
const CODE_VERSION: CodeVersion = (() => {
  const inherited = process.env.DYT_CODE_VERSION;
  if (inherited) {
    try {
      return JSON.parse(inherited) as CodeVersion;
    } catch {
      /* fall through: read it ourselves */
    }
  }
  return {
    gitCommit: git(["rev-parse", "HEAD"]) || "unknown",
    gitDirty: git(["status", "--porcelain", "--untracked-files=no"]).length > 0,
    processStartedAt: new Date().toISOString(),
  };
})();
// The diff of a dirty tree, as it was at start (saved beside results that a dirty tree produced).
const START_DIFF: string = CODE_VERSION.gitDirty && !process.env.DYT_CODE_VERSION ? git(["diff", "HEAD"]) : "";

export function codeVersion(): CodeVersion {
  return CODE_VERSION;
}

/** `git diff HEAD` of the tracked files as the process found them at start ("" when clean). */
export function startDiff(): string {
  return START_DIFF;
}

/** What produced a result: code version, engine, machine. Saved next to every result. */
export function provenance(startedAt = new Date()): Provenance {
  const eng = engineInfo();
  const cpus = os.cpus();
  return {
    gitCommit: CODE_VERSION.gitCommit,
    gitDirty: CODE_VERSION.gitDirty,
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
    processStartedAt: CODE_VERSION.processStartedAt,
  };
}
