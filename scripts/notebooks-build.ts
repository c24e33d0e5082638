/**
 * npm run notebooks:build [-- --check]
 *
 * Writes notebooks/<name>.ipynb from each notebooks/src/<name>.ts (percent format, see
 * lib/notebook/source.ts); an unchanged notebook is not rewritten. `--check` writes nothing and
 * exits 1 listing each notebook that differs from its source, has no source, or whose source
 * does not convert (bad cell marker, tslab quirk). Exit status 1 on any such problem, 2 on bad usage.
 */
import * as fs from "fs";
import * as path from "path";
import { checkNotebookPairs, describePairCheck } from "../lib/notebook/source";
import { writeFileAtomic } from "../lib/util/atomic";
import { repoRoot } from "../lib/util/paths";

const USAGE = `usage: npm run notebooks:build [-- --check]
  (no option)  write notebooks/*.ipynb from notebooks/src/*.ts
  --check      write nothing; exit 1 listing each notebook not in sync with its source`;

function main(argv: string[]): number {
  let check = false;
  for (const a of argv) {
    if (a === "--check") check = true;
    else if (a === "-h" || a === "--help") {
      console.log(USAGE);
      return 0;
    } else {
      console.error(`notebooks-build: unknown argument ${a}\n${USAGE}`);
      return 2;
    }
  }
  const dir = path.join(repoRoot(), "notebooks");
  // Paths in messages relative to the repository root, as the user edits them.
  process.chdir(repoRoot());
  const checks = checkNotebookPairs(dir);
  let bad = 0;
  let written = 0;
  for (const c of checks) {
    const fixable = c.status.kind === "differs" || c.status.kind === "missing-notebook";
    if (!check && fixable && c.built !== undefined) {
      writeFileAtomic(c.notebook, c.built);
      console.log(`wrote notebooks/${c.name}.ipynb`);
      written++;
      continue;
    }
    if (c.status.kind !== "ok") {
      console.error(describePairCheck(c));
      bad++;
    }
  }
  const sources = checks.filter((c) => c.source).length;
  if (check) console.log(bad === 0 ? `notebooks: all ${sources} in sync with notebooks/src` : `notebooks: ${bad} not in sync`);
  else console.log(`notebooks: ${sources} source(s), ${written} notebook(s) written${bad ? `, ${bad} problem(s)` : ""}`);
  if (!fs.existsSync(path.join(dir, "src"))) console.error("notebooks-build: no notebooks/src folder");
  return bad === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
