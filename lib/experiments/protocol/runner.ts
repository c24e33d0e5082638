/**
 * The one runner: every training run of every experiment is a Job (an
 * experiment, a run id, a seed and a fully resolved config) executed here,
 * in this process or in worker processes. A finished run is saved atomically
 * as a record keyed on its resolved config; a saved record is reused only when
 * its resolved config is identical, never when a default has changed since.
 */
import { fork, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { initEngine } from "../../engine";
import { readJson, writeFileAtomic, writeJsonAtomic } from "../../util/atomic";
import { codeVersion, provenance, startDiff } from "../../util/provenance";
import { MissingResultError, RECORD_EPOCH, resultPath, runDirFor, type ExperimentContext, type RunRecord } from "../runner";
import type { Scale } from "../scale";
import type { LmResolvedRun } from "./lm-task";
import type { ImageResolvedRun } from "./image-task";
import type { DnaResolvedRun } from "./dna-task";
import type { SpeechResolvedRun } from "./speech-task";
import type { DitResolvedRun } from "./dit-task";
import type { MaeResolvedRun } from "./mae-task";
import type { DinoResolvedRun } from "./dino-task";
import { runTask, type ResolvedRun, type RunResultOf, type VitResolvedRun } from "./task";

/** A run of resolved config R (a ViT run by default; `resolved.task` tells which). */
export interface Job<R extends ResolvedRun = VitResolvedRun> {
  experiment: string;
  scale: Scale;
  /** File-safe run id, unique within the experiment and scale. */
  run: string;
  seed: number;
  /** "tune": an lr-tuning run (tuning seed, scored on validation); "eval": an evaluation run. */
  role: "tune" | "eval";
  /** Grid coordinates of the run (budget, lr, depth, ...), for summaries and figures. */
  axes: Record<string, number | string>;
  label: string;
  resolved: R;
}

/** A saved run of resolved config R (a ViT run by default). */
export interface ProtocolRecord<R extends ResolvedRun = VitResolvedRun> extends RunRecord<R, RunResultOf<R>> {
  epoch: number;
  role: Job["role"];
  arm: string;
  label: string;
  axes: Job["axes"];
}

/** A saved run of any task. */
export type AnyProtocolRecord = ProtocolRecord<VitResolvedRun> | ProtocolRecord<LmResolvedRun> | ProtocolRecord<ImageResolvedRun> | ProtocolRecord<DnaResolvedRun> | ProtocolRecord<SpeechResolvedRun> | ProtocolRecord<DitResolvedRun> | ProtocolRecord<MaeResolvedRun> | ProtocolRecord<DinoResolvedRun>;
export type LmProtocolRecord = ProtocolRecord<LmResolvedRun>;
export type ImageProtocolRecord = ProtocolRecord<ImageResolvedRun>;
export type DnaProtocolRecord = ProtocolRecord<DnaResolvedRun>;
export type SpeechProtocolRecord = ProtocolRecord<SpeechResolvedRun>;
export type DitProtocolRecord = ProtocolRecord<DitResolvedRun>;
export type MaeProtocolRecord = ProtocolRecord<MaeResolvedRun>;
export type DinoProtocolRecord = ProtocolRecord<DinoResolvedRun>;

export function isLmRecord(r: AnyProtocolRecord): r is LmProtocolRecord {
  return r.config.task === "lm-text";
}

export function isImageRecord(r: AnyProtocolRecord): r is ImageProtocolRecord {
  return r.config.task === "image-classify";
}

export function isDnaRecord(r: AnyProtocolRecord): r is DnaProtocolRecord {
  return r.config.task === "dna-lm";
}

export function isSpeechRecord(r: AnyProtocolRecord): r is SpeechProtocolRecord {
  return r.config.task === "speech-pretrain";
}

export function isDitRecord(r: AnyProtocolRecord): r is DitProtocolRecord {
  return r.config.task === "image-diffusion";
}

export function isMaeRecord(r: AnyProtocolRecord): r is MaeProtocolRecord {
  return r.config.task === "image-mae";
}

export function isDinoRecord(r: AnyProtocolRecord): r is DinoProtocolRecord {
  return r.config.task === "image-dino";
}

/** A saved result exists but was produced by a different resolved config (or an older record format). */
export class StaleResultError extends MissingResultError {
  constructor(
    experiment: string,
    scale: Scale,
    run: string,
    readonly why: string,
  ) {
    super(experiment, scale, run);
    this.message = `${experiment}: the saved ${scale} result for run ${run} is stale (${why}); re-run it with \`npm run exp -- ${experiment} --scale ${scale}\``;
  }
}

/**
 * Whether `e`, thrown by runJobs, means an amendment's runs are "not yet run": only saved results are
 * loaded (cachedOnly) and a record is missing. A stale record (its config changed) is never that: it is an
 * error, as everywhere.
 */
export function notYetRun(e: unknown, ctx: Pick<ExperimentContext, "cachedOnly">): boolean {
  return ctx.cachedOnly === true && e instanceof MissingResultError && !(e instanceof StaleResultError);
}

/** JSON with object keys sorted, so equal configs compare equal whatever the key order. */
export function stableStringify(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === "object" && !Array.isArray(val) ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : val,
  );
}

/** Why a saved record cannot stand for this job, or undefined when it can. */
export function staleReason<R extends ResolvedRun>(rec: Partial<ProtocolRecord<R>>, job: Job<R>): string | undefined {
  if (rec.epoch !== RECORD_EPOCH) return `record epoch ${rec.epoch ?? 1}, current ${RECORD_EPOCH}: saved before a change that invalidated every run`;
  if (!rec.config) return "no resolved config saved";
  const a = stableStringify(rec.config);
  const b = stableStringify(job.resolved);
  if (a === b) return undefined;
  return `resolved config differs: ${firstDifference(rec.config, job.resolved)}`;
}

function firstDifference(a: unknown, b: unknown, at = ""): string {
  if (stableStringify(a) === stableStringify(b)) return "";
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k);
      if (d) return d;
    }
  }
  return `${at || "(root)"}: saved ${JSON.stringify(a)}, now ${JSON.stringify(b)}`;
}

export function recordFile(job: Pick<Job, "experiment" | "scale" | "run">): string {
  return resultPath(job.experiment, job.scale, `${job.run}.json`);
}

/** The saved record of a job when it is current; undefined when missing; throws when stale and cachedOnly. */
export function loadCurrent<R extends ResolvedRun>(job: Job<R>, ctx: ExperimentContext): ProtocolRecord<R> | undefined {
  const file = recordFile(job);
  if (ctx.force || !fs.existsSync(file)) {
    if (ctx.cachedOnly) throw new MissingResultError(job.experiment, job.scale, job.run);
    return undefined;
  }
  const rec = readJson<ProtocolRecord<R>>(file);
  const why = staleReason(rec, job);
  if (!why) return rec;
  if (ctx.cachedOnly) throw new StaleResultError(job.experiment, job.scale, job.run, why);
  if (ctx.verbose !== false) console.log(`[${job.experiment}] ${job.run}: saved result is stale (${why}); re-running`);
  return undefined;
}

/** Refuse a full-scale run from a dirty tree unless allowed (then the diff is saved beside each record). */
export function assertCleanForScale(scale: Scale, ctx: ExperimentContext): void {
  if (scale !== "full" || ctx.allowDirty) return;
  if (codeVersion().gitDirty)
    throw new Error(`refusing a full-scale run from a dirty tree (uncommitted changes to tracked files): commit first, or pass --allow-dirty (the diff is then saved beside each record)`);
}

/** Run one job in this process and save its record. */
export async function executeJob<R extends ResolvedRun>(job: Job<R>, ctx: Pick<ExperimentContext, "force">): Promise<ProtocolRecord<R>> {
  await initEngine();
  const runDir = runDirFor(job.experiment, job.scale, job.run);
  // A checkpoint of a different config must not be resumed.
  const file = recordFile(job);
  const marker = path.join(runDir, "resolved.json");
  if (ctx.force || (fs.existsSync(marker) && stableStringify(readJson(marker)) !== stableStringify(job.resolved))) fs.rmSync(runDir, { recursive: true, force: true });
  fs.mkdirSync(runDir, { recursive: true });
  writeJsonAtomic(marker, job.resolved);
  const started = new Date();
  const t0 = Date.now();
  const result = await runTask(job.resolved, runDir, `${job.experiment}/${job.scale}/${job.run}`);
  const rec: ProtocolRecord<R> = {
    experiment: job.experiment,
    scale: job.scale,
    run: job.run,
    seed: job.seed,
    epoch: RECORD_EPOCH,
    role: job.role,
    arm: job.resolved.arm,
    label: job.label,
    axes: job.axes,
    config: job.resolved,
    result,
    provenance: provenance(started),
    wallTimeSec: (Date.now() - t0) / 1000,
  };
  writeJsonAtomic(file, rec);
  return rec;
}

function saveDiff(job: Job<ResolvedRun>): void {
  const diff = startDiff();
  if (diff) writeFileAtomic(recordFile(job).replace(/\.json$/, ".diff"), diff + "\n");
}

/** Worker count: ctx.workers, else DYT_WORKERS, else 1. */
function workerCount(ctx: ExperimentContext): number {
  const n = ctx.workers ?? Number(process.env.DYT_WORKERS ?? 1);
  if (!Number.isInteger(n) || n < 1) throw new Error(`workers must be a positive integer, got ${n}; set --workers N or DYT_WORKERS=N`);
  return Math.min(n, Math.max(1, os.cpus().length));
}

/**
 * Run every job that has no current record (in order; with workers > 1, in
 * parallel worker processes, one BLAS thread each) and return all records in
 * job order. Prints one line per finished run with an ETA.
 */
export async function runJobs<R extends ResolvedRun = VitResolvedRun>(jobs: Job<R>[], ctx: ExperimentContext): Promise<ProtocolRecord<R>[]> {
  const seen = new Set<string>();
  for (const j of jobs) {
    const k = `${j.experiment}/${j.scale}/${j.run}`;
    if (seen.has(k)) throw new Error(`runner: two jobs share the run id ${k}; run ids must be unique`);
    seen.add(k);
  }
  const out = new Map<string, ProtocolRecord<R>>();
  const todo: Job<R>[] = [];
  for (const j of jobs) {
    const rec = loadCurrent(j, ctx);
    if (rec) out.set(j.run, rec);
    else todo.push(j);
  }
  if (todo.length) {
    assertCleanForScale(todo[0]!.scale, ctx);
    const verbose = ctx.verbose !== false;
    const t0 = Date.now();
    let done = 0;
    const report = (j: Job<R>, rec: ProtocolRecord<R>) => {
      done++;
      saveDiff(j);
      out.set(j.run, rec);
      if (!verbose) return;
      const el = (Date.now() - t0) / 1000;
      const eta = (el / done) * (todo.length - done);
      const acc = resultLine(rec);
      console.log(`[${j.experiment}/${j.scale}] ${done}/${todo.length} ${j.run}: ${acc} (${rec.wallTimeSec.toFixed(0)} s)${done < todo.length ? `, ~${Math.ceil(eta / 60)} min left` : ""}`);
    };
    const workers = Math.min(workerCount(ctx), todo.length);
    if (workers <= 1) {
      for (const j of todo) report(j, await executeJob(j, ctx));
    } else {
      await runInWorkers(todo, workers, ctx, report);
    }
  }
  return jobs.map((j) => out.get(j.run)!);
}

/** "test 81.20 %" (classifiers), "test 2.412 bits/byte" (language models), "test 1.962 bits/base, probe 81.3 %" (DNA), or the status. */
function resultLine(rec: ProtocolRecord<ResolvedRun>): string {
  const t = rec.result.test;
  if (!t) return rec.result.status;
  if (rec.config.task === "speech-pretrain") {
    const r = rec.result as RunResultOf<SpeechResolvedRun>;
    return `test loss ${t.loss.toFixed(3)}, strict acc ${(100 * (r.test?.strictAcc ?? NaN)).toFixed(1)} %${r.probe ? `, language-ID probe ${(100 * r.probe.testAcc).toFixed(1)} %` : ""}`;
  }
  if (rec.config.task === "image-diffusion") {
    const sc = (rec.result as RunResultOf<DitResolvedRun>).samples;
    return `test denoising loss ${t.loss.toFixed(4)}${sc ? `, FD ${sc.fd.toFixed(2)} (floor ${sc.fdFloor.toFixed(2)}), samples recognised ${(100 * sc.sampleAcc).toFixed(1)} %` : ""}`;
  }
  if (rec.config.task === "image-mae") {
    const m = rec.result as RunResultOf<MaeResolvedRun>;
    return `fine-tuned test ${(100 * t.acc).toFixed(2)} % (lr ${m.finetune?.bestLr}), probe ${(100 * (m.probe?.testAcc ?? NaN)).toFixed(1)} %, reconstruction loss ${(m.pretrainTest?.loss ?? NaN).toFixed(4)}`;
  }
  if (rec.config.task === "image-dino") {
    const m = rec.result as RunResultOf<DinoResolvedRun>;
    return `teacher k-NN test ${(100 * t.acc).toFixed(2)} % (at init ${(100 * (m.knnInit?.test ?? NaN)).toFixed(2)} %), probe ${(100 * (m.probe?.testAcc ?? NaN)).toFixed(1)} %, teacher entropy ${(m.collapse?.teacherEntropy ?? NaN).toFixed(2)} / marginal ${(m.collapse?.marginalEntropy ?? NaN).toFixed(2)} nats`;
  }
  if (rec.config.task === "dna-lm") {
    const p = (rec.result as RunResultOf<DnaResolvedRun>).probe;
    return `test ${(t as { bpb: number }).bpb.toFixed(4)} bits/base${p ? `, ${p.task} probe ${(100 * p.testAcc).toFixed(1)} %` : ""}`;
  }
  return "bpb" in t && typeof t.bpb === "number" ? `test ${t.bpb.toFixed(3)} bits/byte` : `test ${(100 * t.acc).toFixed(2)} %`;
}

async function runInWorkers<R extends ResolvedRun>(todo: Job<R>[], n: number, ctx: ExperimentContext, report: (j: Job<R>, r: ProtocolRecord<R>) => void): Promise<void> {
  const script = path.join(__dirname, "..", "..", "..", "scripts", "worker.js");
  if (!fs.existsSync(script)) throw new Error(`runner: worker script ${script} is missing; run \`npm run build\``);
  const queue = [...todo];
  const env = { ...process.env, DYT_CODE_VERSION: JSON.stringify(codeVersion()), OPENBLAS_NUM_THREADS: "1", DYT_WORKERS: "1" };
  const one = (child: ChildProcess): Promise<void> =>
    new Promise((resolve, reject) => {
      const next = () => {
        const j = queue.shift();
        if (!j) {
          child.kill();
          resolve();
          return;
        }
        child.once("message", (m: { ok: boolean; error?: string }) => {
          if (!m.ok) {
            child.kill();
            reject(new Error(`worker failed on ${j.experiment}/${j.scale}/${j.run}: ${m.error}`));
            return;
          }
          report(j, readJson<ProtocolRecord<R>>(recordFile(j)));
          next();
        });
        child.send({ job: j, force: ctx.force === true });
      };
      child.once("exit", (code) => {
        if (queue.length || code) reject(new Error(`worker exited (code ${code}) with runs left; re-run the same command to resume`));
      });
      next();
    });
  const children = Array.from({ length: n }, () => fork(script, [], { env, stdio: "inherit" }));
  try {
    await Promise.all(children.map(one));
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
  }
}
