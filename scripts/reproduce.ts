/**
 * The main job: run every experiment at a scale (default quick), execute every
 * notebook headlessly at that scale, and write the report (claims table +
 * figures) to results/report-<scale>.md (with --only, to
 * results/report-<scale>-partial.md: a subset is its own Holm family).
 *
 *   npm run reproduce                     # quick
 *   npm run reproduce -- --scale full     # hours; or loads the committed full results
 *   npm run reproduce -- --no-notebooks   # experiments + report only
 *   npm run reproduce -- --scale full --cached-only --no-notebooks   # report from saved results only
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EXPERIMENTS, RULES, assertScale } from "../lib/experiments";
import { claimsMarkdown, collectClaims, verdictCounts } from "../lib/experiments/report";
import { initEngine, type EngineName } from "../lib/engine";
import { runNotebooks, formatFailure } from "../lib/notebook/runner";
import { closeRenderer } from "../lib/plot/render";
import { tableToMarkdown } from "../lib/tables";
import { parseArgs } from "../lib/util/args";
import { writeFileAtomic } from "../lib/util/atomic";
import { resultsDir, repoRoot } from "../lib/util/paths";
import { provenance } from "../lib/util/provenance";

/** Independent runs go to one worker per core (small models gain ~1.9x from two single-threaded processes on 2 cores). */
function defaultWorkers(): number {
  return Math.max(1, Math.min(2, os.cpus().length));
}

const USAGE = `npm run reproduce -- [--scale smoke|quick|full] [--only EXP[,EXP]] [--cached-only] [--no-notebooks] [--workers N] [--engine NAME] [--allow-dirty]
  Runs every experiment at the scale (default quick; DYT_SCALE), executes every notebook at it, and writes
  results/report-<scale>.md (with --only: report-<scale>-partial.md, its own Holm family).
  --cached-only   build the report from saved results, training nothing (fails naming what is missing)
  --workers N     independent runs side by side (default: one per core, at most 2)
  --allow-dirty   allow full-scale runs from a tree with uncommitted changes (provenance records it)`;

async function main(): Promise<void> {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(USAGE);
    return;
  }
  const { flags } = parseArgs(process.argv.slice(2), ["scale", "engine", "no-notebooks", "only", "cached-only", "workers", "allow-dirty"]);
  const scale = flags.scale ?? process.env.DYT_SCALE ?? "quick";
  assertScale(scale);
  const engine = await initEngine({ engine: flags.engine as EngineName | undefined });
  const t0 = Date.now();
  const only = flags.only?.split(",");
  const table = await collectClaims(scale, { cachedOnly: flags["cached-only"] === "true", allowDirty: flags["allow-dirty"] === "true", workers: flags.workers ? Number(flags.workers) : defaultWorkers() }, only);
  let notebookLine = "notebooks: not run (--no-notebooks)";
  if (!flags["no-notebooks"]) {
    console.log(`\n== notebooks (${scale})`);
    const r = await runNotebooks({ scale });
    notebookLine = `notebooks: ${r.results.filter((x) => x.ok).length}/${r.results.length} executed without error (executed copies in notebooks/executed/)`;
    if (!r.ok) {
      for (const f of r.results.filter((x) => !x.ok)) console.error(formatFailure(f));
      process.exitCode = 1;
    }
  }
  const prov = provenance(new Date(t0));
  const figures = fs.existsSync(resultsDir())
    ? EXPERIMENTS.flatMap((e) => {
        const dir = path.join(resultsDir(), e.name, scale, "figures");
        return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".png")).map((f) => path.relative(resultsDir(), path.join(dir, f))) : [];
      })
    : [];
  const report = [
    `# dyt-lab report (${scale} scale)`,
    "",
    `Generated ${new Date().toISOString()} in ${((Date.now() - t0) / 1000).toFixed(0)} s on ${engine.name} (${engine.detail}); commit ${prov.gitCommit.slice(0, 10)}${prov.gitDirty ? " (dirty)" : ""}; ${prov.host.cpus} x ${prov.host.cpuModel}.`,
    "Every number below comes from runs whose records (config, seed, provenance) sit in `results/<experiment>/<scale>/`.",
    ...(only ? ["", `Partial report (\`--only ${only.join(",")}\`): the Holm correction covers these rows only; the full table is \`report-${scale}.md\`.`] : []),
    "",
    "## Claims",
    "",
    `Verdicts: ${verdictCounts(table)}. Paired rows are corrected together (Holm, family-wise alpha ${RULES.alpha}); a row whose verdict changed under the correction says so in its reason.`,
    "",
    claimsMarkdown(table),
    "",
    notebookLine,
    "",
    "## Figures",
    "",
    ...figures.map((f) => `![${f}](${f})`),
    "",
  ].join("\n");
  // A subset is another Holm family: it must not replace the full report.
  const file = path.join(resultsDir(), only ? `report-${scale}-partial.md` : `report-${scale}.md`);
  writeFileAtomic(file, report);
  console.log(`\nreport: ${path.relative(repoRoot(), file)}\n`);
  console.log(tableToMarkdown(table.map((c) => ({ "#": c.id, claim: c.claim, verdict: c.verdict }))));
  await closeRenderer();
}

main().catch(async (e: Error) => {
  console.error(`error: ${e.stack ?? e.message}`);
  await closeRenderer().catch(() => undefined);
  process.exit(1);
});
