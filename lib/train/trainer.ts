import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { BatchSampler, type BatchSamplerState } from "../data/sampler";
import type { ImageDataset } from "../data/dataset";
import { LeakGuard } from "../engine/leak";
import type { ForwardOptions } from "../models/transformer";
import type { Norm } from "../norms/types";
import type { Param } from "../ops/param";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic";
import { AdamW } from "./adamw";
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from "./checkpoint";
import { agcClipTensor } from "../analysis/reparam";
import { clipByGlobalNorm, globalNorm } from "./clip";
import { consoleProgress, type ProgressSink } from "./progress";
import { lrAt } from "./schedule";
import { classificationTask, evaluateClassifier, type TrainTask } from "./task";

/** What the trainer needs of a model. */
export interface Model {
  readonly params: Param[];
  forward(x: tf.Tensor, opts?: ForwardOptions): tf.Tensor;
  norms(): Norm[];
}

export interface TrainConfig {
  steps: number;
  batchSize: number;
  lr: number;
  warmupSteps: number;
  minLrRatio: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Clip the global gradient norm to this; 0 disables clipping. */
  clipNorm: number;
  /** Evaluate on the eval set every N steps (and at the end). */
  evalEvery: number;
  /** Evaluate on at most this many eval examples (0 = all). */
  evalLimit: number;
  evalBatchSize: number;
  /** Write a metrics line every N steps. */
  logEvery: number;
  /** Checkpoint every N steps (0 = only at the end). */
  checkpointEvery: number;
  /** Seed of the data order. */
  seed: number;
  /** A loss above divergenceFactor * ln(numClasses) (language models: ln(vocab)) counts as diverged. */
  divergenceFactor: number;
  /**
   * Adaptive Gradient Clipping factor lambda (NF nets, timm agc.py; 0.01 there);
   * 0 disables it. Applied per output unit before global-norm clipping; the
   * head ("head.*" parameters) is skipped, as in NFNets.
   */
  agc: number;
}

export const TRAIN_DEFAULTS: TrainConfig = {
  steps: 500,
  batchSize: 64,
  lr: 1e-3,
  warmupSteps: 50,
  minLrRatio: 0.01,
  weightDecay: 0.05,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  clipNorm: 1.0,
  evalEvery: 100,
  evalLimit: 2000,
  evalBatchSize: 250,
  logEvery: 10,
  checkpointEvery: 100,
  seed: 0,
  divergenceFactor: 3,
  agc: 0,
};

/** A per-step observer (lib/hooks). Values it returns are merged into the metrics line. */
export interface TrainHook {
  name: string;
  /** Called after each update on logged steps. */
  onLog?(step: number, model: Model): Record<string, unknown> | void;
}

export interface TrainOptions {
  /** Directory for metrics.jsonl, checkpoint/ and result.json; none = in memory only. */
  runDir?: string;
  /** Continue from runDir's checkpoint when one exists (default true). */
  resume?: boolean;
  hooks?: TrainHook[];
  progress?: ProgressSink | false;
  label?: string;
  /** Stop (as if interrupted) after this global step; for testing resume. */
  stopAfter?: number;
  /** Throw if the live tensor count grows across steps (default true). */
  leakCheck?: boolean;
}

export interface LogLine {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  [k: string]: unknown;
}

export interface EvalPoint {
  step: number;
  loss: number;
  acc: number;
  /** Language models: held-out bits per byte. */
  bpb?: number;
  /** The task's further held-out statistics (TaskEval.stats). */
  stats?: Record<string, number>;
}

export type RunStatus = "completed" | "diverged" | "interrupted";

export interface TrainResult {
  status: RunStatus;
  /** Step at which divergence was detected, and why. */
  diverged?: { step: number; reason: string };
  stepsDone: number;
  log: LogLine[];
  evals: EvalPoint[];
  final?: EvalPoint;
  wallTimeSec: number;
  msPerStep: number;
}

interface CkptState {
  sampler: BatchSamplerState;
  optStep: number;
  log: LogLine[];
  evals: EvalPoint[];
  wallTimeSec: number;
  config: TrainConfig;
}

/**
 * Mean loss and accuracy of `model` on the first `limit` examples of ds.
 * `forward` options reach every forward pass (e.g. fake-quantisation hooks).
 */
export function evaluate(model: Model, ds: ImageDataset, limit = 0, batchSize = 250, forward?: ForwardOptions): { loss: number; acc: number } {
  return evaluateClassifier(model, ds, limit, batchSize, forward);
}

/**
 * Train a model with AdamW + warmup/cosine, seeded and deterministic on one
 * engine. `data` is an image pair { train, eval } (classification) or any
 * TrainTask (e.g. nextTokenTask for a language model). Writes metrics.jsonl
 * and checkpoints to runDir, resumes from a checkpoint exactly (same batches,
 * same optimizer state), and ends cleanly on divergence (non-finite loss or
 * loss blow-up) with the step recorded.
 */
export async function train(model: Model, data: { train: ImageDataset; eval: ImageDataset } | TrainTask, config: Partial<TrainConfig> = {}, opts: TrainOptions = {}): Promise<TrainResult> {
  const cfg: TrainConfig = { ...TRAIN_DEFAULTS, ...config };
  validateTrainConfig(cfg);
  const task: TrainTask = "prepare" in data ? data : classificationTask(data.train, data.eval);
  const trainable = model.params.filter((p) => p.variable.trainable);
  const vars = trainable.map((p) => p.variable);
  const opt = new AdamW(trainable, { beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weightDecay });
  let sampler = new BatchSampler(task.trainSize, cfg.seed);
  let log: LogLine[] = [];
  let evals: EvalPoint[] = [];
  let start = 0;
  let priorWall = 0;
  const ckptDir = opts.runDir ? path.join(opts.runDir, "checkpoint") : undefined;
  const metricsFile = opts.runDir ? path.join(opts.runDir, "metrics.jsonl") : undefined;

  if (ckptDir && opts.resume !== false && hasCheckpoint(ckptDir)) {
    const ck = loadCheckpoint<CkptState>(ckptDir);
    for (const p of model.params) {
      const v = ck.values.get(p.name);
      if (!v) throw new Error(`checkpoint in ${ckptDir} has no tensor ${p.name}: it was written by a different model; delete it to start over`);
      // tidy: assign shares the new tensor's data, and the tensor itself would otherwise stay live.
      tf.tidy(() => p.variable.assign(tf.tensor(v.data, v.shape)));
    }
    trainable.forEach((p, i) =>
      tf.tidy(() => {
        opt.m[i]!.assign(tf.tensor(ck.values.get(`opt.m.${p.name}`)!.data, p.variable.shape));
        opt.v[i]!.assign(tf.tensor(ck.values.get(`opt.v.${p.name}`)!.data, p.variable.shape));
      }),
    );
    opt.step = ck.state.optStep;
    sampler = BatchSampler.fromState(ck.state.sampler);
    log = ck.state.log;
    evals = ck.state.evals;
    priorWall = ck.state.wallTimeSec;
    start = ck.step;
  } else if (metricsFile && fs.existsSync(metricsFile)) {
    fs.rmSync(metricsFile);
  }
  // Metrics written after the checkpoint belong to steps that will be redone.
  if (metricsFile) writeFileAtomic(metricsFile, log.map((l) => JSON.stringify(l) + "\n").join(""));

  const progress = opts.progress === false ? undefined : (opts.progress ?? consoleProgress());
  progress?.start(cfg.steps, opts.label ?? "train", start);
  const guard = opts.leakCheck === false ? undefined : new LeakGuard(2);
  const capOf = task.divergenceCap?.(cfg.divergenceFactor) ?? { cap: cfg.divergenceFactor * Math.log(task.numOutputs), why: `${cfg.divergenceFactor} x ln ${task.numOutputs} ${task.outputsName}` };
  const lossCap = capOf.cap;
  const t0 = Date.now();
  let status: RunStatus = "completed";
  let diverged: TrainResult["diverged"];
  let lastEvalAcc: number | undefined = evals.at(-1)?.acc;

  const checkpoint = (stepDone: number) => {
    if (!ckptDir) return;
    const tensors = [
      ...model.params.map((p) => ({ name: p.name, tensor: p.variable as tf.Tensor })),
      ...trainable.flatMap((p, i) => [
        { name: `opt.m.${p.name}`, tensor: opt.m[i]! as tf.Tensor },
        { name: `opt.v.${p.name}`, tensor: opt.v[i]! as tf.Tensor },
      ]),
    ];
    saveCheckpoint<CkptState>(ckptDir, stepDone, tensors, {
      sampler: sampler.state(),
      optStep: opt.step,
      log,
      evals,
      wallTimeSec: priorWall + (Date.now() - t0) / 1000,
      config: cfg,
    });
  };

  let step = start;
  for (; step < cfg.steps; step++) {
    if (opts.stopAfter !== undefined && step >= opts.stopAfter) {
      status = "interrupted";
      break;
    }
    task.prepare(sampler.next(cfg.batchSize), cfg.batchSize);
    const lr = lrAt(step, cfg);
    const ts = Date.now();
    const { lossV, normV } = tf.tidy(() => {
      const { x, y } = task.batch();
      // training: true lets sigma-Reparam advance its power iteration (eval forwards leave it alone).
      const { value, grads } = tf.variableGrads(() => (task.objective ? task.objective(model, x, y, { training: true }) : task.loss(y, model.forward(x, { training: true }))), vars);
      const gl = vars.map((v) => grads[v.name]!);
      const norm = globalNorm(gl);
      const normV = norm.dataSync()[0]!;
      const lossV = value.dataSync()[0]!;
      if (Number.isFinite(lossV) && Number.isFinite(normV) && lossV <= lossCap) {
        const ga = cfg.agc > 0 ? gl.map((g, i) => (trainable[i]!.name.startsWith("head.") ? g : agcClipTensor(vars[i]!, g, { lam: cfg.agc }))) : gl;
        const g = cfg.clipNorm > 0 ? clipByGlobalNorm(ga, cfg.agc > 0 ? globalNorm(ga).dataSync()[0]! : normV, cfg.clipNorm) : ga;
        opt.apply(g, lr);
        task.afterUpdate?.(model, step, cfg.steps);
      }
      return { lossV, normV };
    });
    const ms = Date.now() - ts;
    if (!Number.isFinite(lossV) || !Number.isFinite(normV) || lossV > lossCap) {
      status = "diverged";
      diverged = {
        step,
        reason: !Number.isFinite(lossV) ? `non-finite loss (${lossV})` : !Number.isFinite(normV) ? `non-finite gradient norm` : `loss ${lossV.toFixed(3)} > ${lossCap.toFixed(3)} (${capOf.why})`,
      };
      const line: LogLine = { step, loss: lossV, lr, gradNorm: normV, diverged: true };
      log.push(line);
      if (metricsFile) fs.appendFileSync(metricsFile, JSON.stringify(line) + "\n");
      break;
    }
    guard?.check();
    const isLast = step === cfg.steps - 1;
    if (step % cfg.logEvery === 0 || isLast) {
      const line: LogLine = { step, loss: lossV, lr, gradNorm: normV, ms };
      for (const h of opts.hooks ?? []) Object.assign(line, h.onLog?.(step, model) ?? {});
      log.push(line);
      if (metricsFile) fs.appendFileSync(metricsFile, JSON.stringify(line) + "\n");
    }
    if ((step + 1) % cfg.evalEvery === 0 || isLast) {
      const e = task.evaluate(model, cfg.evalLimit, cfg.evalBatchSize);
      evals.push({ step: step + 1, ...e });
      lastEvalAcc = e.acc;
      if (metricsFile) fs.appendFileSync(metricsFile, JSON.stringify({ step: step + 1, evalLoss: e.loss, evalAcc: e.acc, ...(e.bpb !== undefined ? { evalBpb: e.bpb } : {}), ...(e.stats ? { evalStats: e.stats } : {}) }) + "\n");
    }
    if ((cfg.checkpointEvery > 0 && (step + 1) % cfg.checkpointEvery === 0) || isLast) checkpoint(step + 1);
    progress?.update(step, { loss: lossV, lr, msPerStep: ms, evalAcc: lastEvalAcc });
  }
  const wall = priorWall + (Date.now() - t0) / 1000;
  const doneNow = Math.max(1, step - start);
  opt.dispose();
  const result: TrainResult = {
    status,
    diverged,
    stepsDone: status === "diverged" ? diverged!.step : step,
    log,
    evals,
    final: status === "completed" ? evals.at(-1) : undefined,
    wallTimeSec: wall,
    msPerStep: ((Date.now() - t0) / doneNow) | 0,
  };
  progress?.end(
    status === "diverged"
      ? `diverged at step ${diverged!.step}: ${diverged!.reason}`
      : status === "interrupted"
        ? `stopped at step ${step}`
        : `done in ${wall.toFixed(1)} s, eval acc ${(100 * (result.final?.acc ?? NaN)).toFixed(2)}%${result.final?.bpb !== undefined ? `, ${result.final.bpb.toFixed(3)} bits/byte` : ""}`,
  );
  if (opts.runDir) writeJsonAtomic(path.join(opts.runDir, "train-result.json"), result);
  return result;
}

export function validateTrainConfig(c: TrainConfig): void {
  const posInt = ["steps", "batchSize", "evalEvery", "logEvery", "evalBatchSize"] as const;
  for (const k of posInt) if (!Number.isInteger(c[k]) || c[k] <= 0) throw new Error(`train config: ${k} must be a positive integer, got ${c[k]}`);
  const nonNeg = ["warmupSteps", "weightDecay", "clipNorm", "evalLimit", "checkpointEvery", "minLrRatio", "agc"] as const;
  for (const k of nonNeg) if (!(c[k] >= 0)) throw new Error(`train config: ${k} must be >= 0, got ${c[k]}`);
  if (!(c.lr > 0) || !Number.isFinite(c.lr)) throw new Error(`train config: lr must be a positive number, got ${c.lr}`);
}
