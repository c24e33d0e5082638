import * as fs from "fs";
import * as path from "path";
import { initEngine } from "../engine";
import { readJson, writeJsonAtomic } from "../util/atomic";
import { resultsDir, runsDir } from "../util/paths";
import { codeVersion, provenance, type Provenance } from "../util/provenance";
import type { Scale } from "./scale";

/**
 * Bumped when a change invalidates every saved run; records of another epoch
 * are never reused. 2: the truncated-normal init cut at +-2 absolute, as timm
 * (2026-12-01); epoch-1 records (no field) used +-2 std.
 */
export const RECORD_EPOCH = 2;

/** One training run's saved result, with the provenance that produced it. */
export interface RunRecord<C = unknown, R = unknown> {
  experiment: string;
  scale: Scale;
  run: string;
  seed: number;
  config: C;
  result: R;
  provenance: Provenance;
  wallTimeSec: number;
}

export interface ExperimentContext {
  scale: Scale;
  /** Re-run even when a result with the same config exists. */
  force?: boolean;
  /** Print progress (default true). */
  verbose?: boolean;
  /** Only these seeds (default: the scale's seeds). */
  seeds?: number[];
  /** Load saved results only; a missing one throws MissingResultError instead of training. */
  cachedOnly?: boolean;
  /** Parallel worker processes for independent runs (default DYT_WORKERS or 1). */
  workers?: number;
  /** Allow a full-scale run from a dirty tree (the diff is saved beside each record). */
  allowDirty?: boolean;
}

/** A result that `cachedOnly` asked for has not been produced at this scale. */
export class MissingResultError extends Error {
  constructor(
    readonly experiment: string,
    readonly scale: Scale,
    readonly run: string,
  ) {
    super(`${experiment}: no saved ${scale} result for run ${run} (run \`npm run exp -- ${experiment} --scale ${scale}\`)`);
  }
}

export function resultPath(experiment: string, scale: Scale, file: string): string {
  return path.join(resultsDir(), experiment, scale, file);
}

export function runDirFor(experiment: string, scale: Scale, run: string): string {
  return path.join(runsDir(), experiment, scale, run);
}

/**
 * Runs `fn` unless a saved record with an identical config exists (then it is
 * loaded: results are cached by config). The record is written atomically
 * with provenance; an interrupted run resumes from its checkpoint in runs/.
 */
export async function cachedRun<C, R>(
  experiment: string,
  ctx: ExperimentContext,
  run: string,
  seed: number,
  config: C,
  fn: (runDir: string) => Promise<R>,
): Promise<RunRecord<C, R>> {
  const file = resultPath(experiment, ctx.scale, `${run}.json`);
  if (!ctx.force && fs.existsSync(file)) {
    const rec = readJson<RunRecord<C, R> & { epoch?: number }>(file);
    const current = rec.epoch === RECORD_EPOCH;
    if (current && JSON.stringify(rec.config) === JSON.stringify(config)) return rec;
    if (ctx.cachedOnly) throw new MissingResultError(experiment, ctx.scale, run);
    if (ctx.verbose !== false) console.log(`[${experiment}] ${run}: ${current ? "config changed" : `saved in record epoch ${rec.epoch ?? 1}`}, re-running`);
    // The old run's checkpoint belongs to the old config: resuming from it would be wrong.
    fs.rmSync(runDirFor(experiment, ctx.scale, run), { recursive: true, force: true });
  }
  if (ctx.cachedOnly) throw new MissingResultError(experiment, ctx.scale, run);
  if (ctx.scale === "full" && !ctx.allowDirty && codeVersion().gitDirty)
    throw new Error(`refusing a full-scale run from a dirty tree (uncommitted changes to tracked files): commit first, or pass --allow-dirty`);
  await initEngine();
  const started = new Date();
  const t0 = Date.now();
  const runDir = runDirFor(experiment, ctx.scale, run);
  if (ctx.force) fs.rmSync(runDir, { recursive: true, force: true });
  const result = await fn(runDir);
  const rec: RunRecord<C, R> & { epoch: number } = {
    epoch: RECORD_EPOCH,
    experiment,
    scale: ctx.scale,
    run,
    seed,
    config,
    result,
    provenance: provenance(started),
    wallTimeSec: (Date.now() - t0) / 1000,
  };
  writeJsonAtomic(file, rec);
  return rec;
}

/** Saved records of an experiment at a scale (empty when none were run). */
export function loadRecords<C = unknown, R = unknown>(experiment: string, scale: Scale): RunRecord<C, R>[] {
  const dir = path.join(resultsDir(), experiment, scale);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json") && !f.startsWith("summary"))
    .sort()
    .map((f) => readJson<RunRecord<C, R>>(path.join(dir, f)));
}

export function saveSummary(experiment: string, scale: Scale, summary: unknown, name = "summary.json"): string {
  const file = resultPath(experiment, scale, name);
  writeJsonAtomic(file, summary);
  return file;
}
