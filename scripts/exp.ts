/**
 * Run one experiment by name:
 *   npm run exp -- vit-fashion --scale quick --norm dyt --seed 1
 *   npm run exp -- --list
 */
import { EXPERIMENTS, assertScale, findExperiment } from "../lib/experiments";
import { initEngine, type EngineName } from "../lib/engine";
import { parseArgs } from "../lib/util/args";

async function main(): Promise<void> {
  const { flags, positional } = parseArgs(process.argv.slice(2), ["scale", "seed", "norm", "force", "engine", "list", "help", "workers", "allow-dirty", "cached-only", "dataset", "families", "sizing"]);
  if (flags.list || flags.help || positional.length === 0) {
    console.log("usage: npm run exp -- <experiment> [--scale smoke|quick|full] [--seed N[,N]] [--engine NAME] [--workers N] [--force] [--allow-dirty] [--cached-only] [experiment flags]\n");
    for (const e of EXPERIMENTS) console.log(`  ${e.name.padEnd(16)} ${e.description}\n  ${"".padEnd(16)} flags: ${e.flags}`);
    if (!flags.list && !flags.help) process.exitCode = 2;
    return;
  }
  const exp = findExperiment(positional[0]!);
  const scale = flags.scale ?? "quick";
  assertScale(scale);
  const seeds = flags.seed?.split(",").map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n)) throw new Error(`--seed must be integers separated by commas, got "${flags.seed}"`);
    return n;
  });
  await initEngine({ engine: flags.engine as EngineName | undefined });
  const t0 = Date.now();
  const workers = flags.workers !== undefined ? Number(flags.workers) : undefined;
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) throw new Error(`--workers must be a positive integer, got "${flags.workers}"`);
  const { summary } = await exp.run(
    { scale, seeds, force: flags.force === "true", allowDirty: flags["allow-dirty"] === "true", cachedOnly: flags["cached-only"] === "true", ...(workers ? { workers } : {}) },
    flags,
  );
  console.log(`\n${exp.name} (${scale}) finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (summary.verdict) console.log(`verdict: ${summary.verdict}\n${summary.statement ?? ""}`);
}

main().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
