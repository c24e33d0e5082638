import * as fs from "fs";
import * as path from "path";

/** Repository root: the directory holding this package's package.json. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, "utf8")) as { name?: string }).name === "dyt-lab") return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error("cannot find the dyt-lab package root above " + __dirname);
    dir = up;
  }
}

/** Where runs write metrics and checkpoints (git-ignored); DYT_RUNS_DIR overrides. */
export function runsDir(): string {
  return process.env.DYT_RUNS_DIR ?? path.join(repoRoot(), "runs");
}

/** Committed reference results. */
export function resultsDir(): string {
  return process.env.DYT_RESULTS_DIR ?? path.join(repoRoot(), "results");
}

/** Built data sets (git-ignored); DYT_DATA_DIR overrides. */
export function dataDir(): string {
  return process.env.DYT_DATA_DIR ?? path.join(repoRoot(), "data");
}
